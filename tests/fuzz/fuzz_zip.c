/* libFuzzer target: a whole PyTorch zip checkpoint from memory (zip directory, zip64, local headers, the pickle
 * and the storage binding), then every accepted tensor converted in full under ASan. */
#include "vnp/weights.h"
#include "weights/torch.h"
#include "weights/zip.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vnp_log_set_level(VNP_LOG_QUIET);
    /* The directory alone: every entry's data range must lie in the buffer. */
    vnp_zip z;
    if (vnp_zip_parse_mem(data, size, "fuzz.zip", &z) == VNP_OK) {
        for (size_t i = 0; i < z.n; i++)
            if (z.e[i].data_offset > size || z.e[i].csize > size - z.e[i].data_offset) abort();
        vnp_zip_free(&z);
    }
    vnp_weights *w = vnp_wt_new("fuzz.pt");
    if (!w) return 0;
    if (vnp_torch_parse_mem(w, data, size, "fuzz.pt") == VNP_OK && vnp_wt_finish(w, "fuzz.pt") == VNP_OK) {
        for (size_t i = 0; i < vnp_weights_count(w); i++) {
            const vnp_tensor *t = vnp_weights_at(w, i);
            float *f = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *f);
            if (f && vnp_tensor_to_f32(t, f) != VNP_OK) abort();
            free(f);
        }
    }
    vnp_weights_close(w);
    return 0;
}
