/* libFuzzer target: a shard's run.json as `virnucpro merge` reads it (JSON, then the manifest's members, types and
 * ranges); an accepted one must hold what the merge goes on to use. */
#include "pipeline/pipeline_internal.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *run = json_loadb((const char *)data, size, 0, &err);
    if (!run) return 0;
    const char *why = NULL;
    int rc = vnp_shard_run_check(run, &why);
    if (rc == VNP_OK) {
        const json_t *m = json_object_get(run, "shard");
        json_int_t idx = json_integer_value(json_object_get(m, "index"));
        json_int_t count = json_integer_value(json_object_get(m, "count"));
        json_int_t d = json_integer_value(json_object_get(m, "d_dna"));
        if (idx < 1 || idx > count || d < 1 || !json_is_object(json_object_get(run, "identity"))) abort();
    } else if (rc != VNP_ERR_FORMAT || !why) {
        abort();
    }
    json_decref(run);
    return 0;
}
