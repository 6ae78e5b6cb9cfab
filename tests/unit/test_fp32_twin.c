/* The FP32 rerun of a batch whose FP16 activations held NaN/Inf, driven on the CPU through the test hook that
 * fakes the backend's flag: the twin is made once, its output is returned, the batch is counted; without a twin
 * source the batch fails and is counted. */
#include "vnp/backend.h"
#include "vnp/model.h"
#include "model/model_internal.h"
#include "vnp_test.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    vnp_backend *be;
    const vnp_encoder_config *cfg;
    int made;
} twin_ctx;

/* A random encoder of the same shape and seed on a second backend: the "same weights" of this test. */
static vnp_encoder *make_twin(void *ctx)
{
    twin_ctx *t = ctx;
    t->made++;
    return vnp_encoder_random(t->be, t->cfg, 99);
}

int main(void)
{
    vnp_encoder_config cfg = {.kind = VNP_MODEL_ESM2, .layers = 2, .dim = 64, .heads = 4, .ffn = 128, .vocab = 33,
                              .token_dropout = 1, .mask_id = 32};
    vnp_backend *be = vnp_backend_cpu_create(1), *be2 = vnp_backend_cpu_create(1);
    vnp_encoder *e = be ? vnp_encoder_random(be, &cfg, 99) : NULL;
    CHECK(e != NULL && be2 != NULL);
    if (!e || !be2 || vnp_encoder_reserve(e, 32, 4) != VNP_OK) {
        vnp_encoder_free(e);
        vnp_backend_free(be);
        vnp_backend_free(be2);
        VNP_TEST_END();
    }
    /* two sequences of 6 and 9 tokens: <cls> residues <eos> */
    int32_t ids[15] = {0, 5, 6, 7, 8, 2, 0, 9, 10, 11, 12, 13, 14, 15, 2};
    int32_t cu[3] = {0, 6, 15};
    float ref[2 * 64], got[2 * 64];
    CHECK(vnp_encoder_forward(e, ids, cu, 2, ref, NULL) == VNP_OK);
    CHECK_EQ_INT(vnp_encoder_nonfinite_batches(e), 0);

    /* no twin source: the flagged batch fails and is counted */
    vnp_encoder_force_nonfinite(e, 1);
    CHECK(vnp_encoder_forward(e, ids, cu, 2, got, NULL) == VNP_ERR_INTERNAL);
    CHECK_EQ_INT(vnp_encoder_nonfinite_batches(e), 1);
    CHECK_EQ_INT(vnp_encoder_fp32_reruns(e), 0);

    /* with a twin source: made once, two flagged batches redone there, an unflagged one stays on e */
    twin_ctx t = {be2, &cfg, 0};
    vnp_encoder_set_fp32_twin(e, make_twin, &t);
    vnp_encoder_force_nonfinite(e, 2);
    for (int k = 0; k < 3; k++) {
        memset(got, 0, sizeof got);
        CHECK(vnp_encoder_forward(e, ids, cu, 2, got, NULL) == VNP_OK);
        double d = 0;
        for (int i = 0; i < 2 * 64; i++) d = fmax(d, fabs((double)got[i] - ref[i]));
        CHECK(d <= 1e-6);
    }
    CHECK_EQ_INT(t.made, 1);
    CHECK_EQ_INT(vnp_encoder_nonfinite_batches(e), 3);
    CHECK_EQ_INT(vnp_encoder_fp32_reruns(e), 2);
    printf("fp32 twin: made %d time(s), %ld of %ld flagged batches redone\n", t.made, vnp_encoder_fp32_reruns(e),
           vnp_encoder_nonfinite_batches(e));
    vnp_encoder_free(e); /* frees the twin too, before its backend */
    vnp_backend_free(be);
    vnp_backend_free(be2);
    VNP_TEST_END();
}
