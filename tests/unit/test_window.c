/* The encoder window (pipeline/window.c) serving encoders of different widths one after the other, as predict's
 * scorer does (DNABERT-S 768, then ESM-2 2560): the wider encoder's rows must be whole and equal to those of a
 * fresh window. A narrow-then-wide order once overflowed the pooled buffer. Padded batches
 * (VIRNUCPRO_DISABLE_PACKING) give the packed rows. */
#include "vnp/pipeline.h"
#include "vnp_test.h"

#include <math.h>

static vnp_encoder *make(vnp_backend *be, vnp_model_kind kind, int dim, int heads, uint64_t seed)
{
    vnp_encoder_config cfg = {.kind = kind, .layers = 1, .dim = dim, .heads = heads, .ffn = 2 * dim,
                              .vocab = kind == VNP_MODEL_ESM2 ? 33 : 64, .token_dropout = kind == VNP_MODEL_ESM2,
                              .mask_id = kind == VNP_MODEL_ESM2 ? 32 : -1};
    return vnp_encoder_random(be, &cfg, seed);
}

static void fill(vnp_window *w, int n, int vocab)
{
    vnp_window_clear(w);
    for (int s = 0; s < n; s++) {
        int32_t ids[40];
        int len = 5 + (s * 7) % 30;
        ids[0] = 0;
        for (int i = 1; i < len - 1; i++) ids[i] = 4 + (s * 13 + i * 5) % (vocab - 8);
        ids[len - 1] = 2;
        CHECK(vnp_window_add(w, ids, len) == 0);
    }
}

int main(void)
{
    vnp_backend *be = vnp_backend_cpu_create(2);
    vnp_encoder *narrow = make(be, VNP_MODEL_DNABERT_S, 32, 2, 1);
    vnp_encoder *wide = make(be, VNP_MODEL_ESM2, 256, 4, 2);
    CHECK(be && narrow && wide);
    enum { N = 40 };
    float *a = calloc((size_t)N * 256, sizeof(float)), *b = calloc((size_t)N * 256, sizeof(float));
    vnp_window shared = {0}, fresh = {0};
    fill(&shared, N, 64);
    CHECK(vnp_window_run(narrow, &shared, 4096, a, 32) == 0);
    fill(&shared, N, 33);
    CHECK(vnp_window_run(wide, &shared, 4096, a, 256) == 0);
    fill(&fresh, N, 33);
    CHECK(vnp_window_run(wide, &fresh, 4096, b, 256) == 0);
    CHECK_MSG(memcmp(a, b, (size_t)N * 256 * sizeof(float)) == 0, "wide rows after a narrow run equal a fresh window's");
    /* padded batches, with budgets that put 1, a few and all sequences in a batch: the packed rows */
    for (size_t budget = 40; budget <= 4096; budget *= 4) {
        memset(b, 0, (size_t)N * 256 * sizeof(float));
        CHECK(vnp_window_run_padded(wide, &fresh, budget, b, 256) == 0);
        float worst = 0;
        for (size_t i = 0; i < (size_t)N * 256; i++) worst = fmaxf(worst, fabsf(a[i] - b[i]));
        CHECK_MSG(worst <= 1e-5f, "padded batches of %zu tokens: rows within %g of the packed ones", budget,
                  (double)worst);
    }
    vnp_window_free(&shared);
    vnp_window_free(&fresh);
    free(a);
    free(b);
    vnp_encoder_free(narrow);
    vnp_encoder_free(wide);
    vnp_backend_free(be);
    VNP_TEST_END();
}
