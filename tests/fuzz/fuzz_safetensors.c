/* libFuzzer target: the safetensors header parser, then every accepted tensor converted in full (which reads
 * every byte the header claims, under ASan), the model detection and the required-tensor check. */
#include "vnp/model.h"
#include "vnp/weights.h"
#include "weights/safetensors.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vnp_log_set_level(VNP_LOG_QUIET);
    vnp_weights *w = vnp_wt_new("fuzz.safetensors");
    if (!w) return 0;
    if (vnp_safetensors_parse_mem(w, data, size, "fuzz.safetensors") == VNP_OK &&
        vnp_wt_finish(w, "fuzz.safetensors") == VNP_OK) {
        for (size_t i = 0; i < vnp_weights_count(w); i++) {
            const vnp_tensor *t = vnp_weights_at(w, i);
            float *f = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *f);
            if (f && vnp_tensor_to_f32(t, f) != VNP_OK) abort(); /* an accepted tensor always converts */
            free(f);
        }
        vnp_model_info m;
        if (vnp_weights_model_info(w, &m) == VNP_OK && m.layers < 4096) (void)vnp_weights_check(w, &m, NULL, NULL);
    }
    vnp_weights_close(w);
    return 0;
}
