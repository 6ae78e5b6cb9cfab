/* libFuzzer target: the pickle VM on raw bytes, then the naming walk with every storage key bound to a 256-byte
 * buffer (a key "missing" is absent), and every accepted tensor converted in full under ASan. */
#include "vnp/weights.h"
#include "weights/pickle.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t storage[256];

static int fake_storage(void *ctx, const char *key, size_t key_len, const uint8_t **bytes, uint64_t *nbytes)
{
    (void)ctx;
    if (key_len == 7 && memcmp(key, "missing", 7) == 0) return VNP_ERR_NOTFOUND;
    /* A global: ASan surrounds it with redzones, so a read past its 256 bytes is caught. */
    *bytes = storage;
    *nbytes = sizeof storage;
    return VNP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vnp_log_set_level(VNP_LOG_QUIET);
    vnp_pickle pk;
    if (vnp_pickle_parse_mem(data, size, "fuzz.pkl", &pk) != VNP_OK) return 0;
    vnp_weights *w = vnp_wt_new("fuzz.pkl");
    if (w && vnp_pickle_collect(&pk, w, fake_storage, NULL, "fuzz.pkl") == VNP_OK &&
        vnp_wt_finish(w, "fuzz.pkl") == VNP_OK) {
        for (size_t i = 0; i < vnp_weights_count(w); i++) {
            const vnp_tensor *t = vnp_weights_at(w, i);
            const uint8_t *p = t->data;
            if (t->numel > 0 && (p < storage || p >= storage + sizeof storage)) abort();
            float *f = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *f);
            if (f && vnp_tensor_to_f32(t, f) != VNP_OK) abort();
            free(f);
        }
    }
    vnp_weights_close(w);
    vnp_pickle_free(&pk);
    return 0;
}
