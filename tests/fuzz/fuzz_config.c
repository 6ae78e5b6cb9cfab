/* libFuzzer target: the YAML config loader (libyaml + key/value checks); every accepted file must give
 * "--name[=value]" options of known keys, and a rejected one a positioned message. */
#include "cli.h"
#include "vnp/config.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vnp_log_set_level(VNP_LOG_QUIET);
    if (vnp_config_set_table(&vnp_cli_predict_cmd)) return 0;
    vnp_config c;
    int rc = vnp_config_load_mem("fuzz.yaml", (const char *)data, size, &c);
    if (rc == VNP_OK) {
        for (size_t i = 0; i < c.n_opts; i++) {
            const char *o = c.opts[i];
            size_t n = strcspn(o + 2, "=");
            if (strncmp(o, "--", 2) != 0 || !vnp_config_key_find(o + 2, n)) abort();
        }
        for (size_t i = 0; i < c.n_inputs; i++)
            if (!c.inputs[i][0]) abort();
    } else if (strncmp(c.error, "fuzz.yaml", 9) != 0 || c.n_opts || c.n_inputs) {
        abort();
    }
    vnp_config_free(&c);
    return 0;
}
