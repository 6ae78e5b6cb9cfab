/* Batch invariance (issue 14): a sequence's pooled features are the same bytes whatever else shares its batch.
 * Random sequences are embedded alone, then inside random packed batches (random members, random order, so each is
 * first, last and in between), and every row is compared byte for byte with its lone run. Encoders of both kinds
 * (ESM-2: rotary, DNABERT-S: ALiBi) with hidden sizes past OpenBLAS's k blocking, sequences both shorter and longer
 * than one GPU attention block. On the CPU with 1, 2 and 3 threads (the rows must also agree across thread counts);
 * on a CUDA device, when one is present, in FP16 and FP32 (the GPU's rows are not compared with the CPU's). The CPU
 * checks are skipped, saying so, where the backend's probe finds the BLAS kernel itself not invariant. */
#include "vnp/backend.h"
#include "vnp/model.h"
#include "vnp_test.h"

#include <stdint.h>
#include <string.h>

#ifdef VNP_HAVE_CUDA
#include "vnp/backend_cuda.h"
#endif

enum { NSEQ = 40, MIXES = 12, MAXLEN = 160 };

typedef struct {
    int32_t ids[NSEQ][MAXLEN];
    int len[NSEQ];
} seqset;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Lengths from 3 to MAXLEN, about a third of them under 64 tokens (several share one GPU attention block). */
static void make_seqs(seqset *q, int vocab, uint64_t seed)
{
    for (int s = 0; s < NSEQ; s++) {
        int len = s % 3 == 0 ? 3 + (int)(rng_next(&seed) % 60) : 3 + (int)(rng_next(&seed) % (MAXLEN - 3));
        q->len[s] = len;
        q->ids[s][0] = 0;
        for (int i = 1; i < len - 1; i++) q->ids[s][i] = 4 + (int32_t)(rng_next(&seed) % (uint64_t)(vocab - 8));
        q->ids[s][len - 1] = 2;
    }
}

/* Runs the sequences order[0..n) as one packed batch; their rows into rows[order[i]]. */
static int run_batch(vnp_encoder *e, const seqset *q, const int *order, int n, float *rows)
{
    int D = vnp_encoder_cfg(e)->dim;
    int32_t ids[NSEQ * MAXLEN], cu[NSEQ + 1];
    float pooled[NSEQ * 512];
    cu[0] = 0;
    for (int i = 0; i < n; i++) {
        memcpy(ids + cu[i], q->ids[order[i]], (size_t)q->len[order[i]] * sizeof(int32_t));
        cu[i + 1] = cu[i] + q->len[order[i]];
    }
    int rc = vnp_encoder_forward(e, ids, cu, n, pooled, NULL);
    for (int i = 0; i < n && rc == 0; i++) memcpy(rows + (size_t)order[i] * D, pooled + (size_t)i * D, D * sizeof(float));
    return rc;
}

/* Every sequence alone into ref, then MIXES random batches compared with it; returns the rows that differed. */
static int check_encoder(vnp_encoder *e, const seqset *q, float *ref, uint64_t seed, const char *what)
{
    int D = vnp_encoder_cfg(e)->dim, bad = 0;
    CHECK(D <= 512 && vnp_encoder_reserve(e, NSEQ * MAXLEN, NSEQ) == 0);
    float *got = calloc((size_t)NSEQ * D, sizeof(float));
    for (int s = 0; s < NSEQ; s++) CHECK(run_batch(e, q, &s, 1, ref) == 0);
    for (int mix = 0; mix < MIXES; mix++) {
        int order[NSEQ];
        for (int i = 0; i < NSEQ; i++) order[i] = i;
        for (int i = NSEQ - 1; i > 0; i--) { /* shuffle, then a random prefix of 2..NSEQ members */
            int j = (int)(rng_next(&seed) % (uint64_t)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int n = mix == 0 ? NSEQ : 2 + (int)(rng_next(&seed) % (NSEQ - 1));
        CHECK(run_batch(e, q, order, n, got) == 0);
        for (int i = 0; i < n; i++) {
            int s = order[i];
            if (memcmp(got + (size_t)s * D, ref + (size_t)s * D, D * sizeof(float)) != 0) {
                if (bad < 5)
                    fprintf(stderr, "%s: sequence %d (%d tokens), member %d of a batch of %d: row differs from its "
                            "lone run\n", what, s, q->len[s], i, n);
                bad++;
            }
        }
    }
    CHECK_MSG(bad == 0, "%s: %d rows differ from the lone runs", what, bad);
    free(got);
    return bad;
}

static vnp_encoder *make(vnp_backend *be, vnp_model_kind kind, uint64_t seed)
{
    /* k = 320 and 1280 pass OpenBLAS's k blocking on common kernels; head size 64 takes the GPU tensor-core
     * attention */
    vnp_encoder_config cfg = {.kind = kind, .layers = 2, .dim = 320, .heads = 5, .ffn = 1280,
                              .vocab = kind == VNP_MODEL_ESM2 ? 33 : 64, .token_dropout = kind == VNP_MODEL_ESM2,
                              .mask_id = kind == VNP_MODEL_ESM2 ? 32 : -1};
    return vnp_encoder_random(be, &cfg, seed);
}

/* Both kinds on one backend; ref_out (may be NULL) gets the lone rows of each kind, [2][NSEQ*320]. */
static void check_backend(vnp_backend *be, const char *name, float *ref_out)
{
    static const vnp_model_kind kinds[2] = {VNP_MODEL_ESM2, VNP_MODEL_DNABERT_S};
    for (int k = 0; k < 2; k++) {
        seqset *q = calloc(1, sizeof *q);
        make_seqs(q, kinds[k] == VNP_MODEL_ESM2 ? 33 : 64, 0x9e3779b97f4a7c15ull + (uint64_t)k);
        vnp_encoder *e = make(be, kinds[k], 7 + (uint64_t)k);
        CHECK(e != NULL);
        if (e) {
            char what[96];
            snprintf(what, sizeof what, "%s %s", name, kinds[k] == VNP_MODEL_ESM2 ? "ESM-2" : "DNABERT-S");
            float *ref = ref_out ? ref_out + (size_t)k * NSEQ * 320 : calloc((size_t)NSEQ * 320, sizeof(float));
            int bad = check_encoder(e, q, ref, 12345 + (uint64_t)k, what);
            printf("%s: %d random batches, %s\n", what, MIXES, bad ? "ROWS DIFFER" : "every row identical to its lone run");
            if (!ref_out) free(ref);
        }
        vnp_encoder_free(e);
        free(q);
    }
}

int main(void)
{
    size_t per = (size_t)2 * NSEQ * 320;
    float *rows[3];
    int cpu_inv = 1;
    for (int t = 0; t < 3; t++) {
        rows[t] = calloc(per, sizeof(float));
        vnp_backend *be = vnp_backend_cpu_create(t + 1);
        CHECK(be != NULL);
        if (!be) continue;
        if (!be->batch_invariant) { /* the BLAS's own kernel places rows otherwise (src/backend/cpu/cpu.c) */
            cpu_inv = 0;
            vnp_backend_free(be);
            break;
        }
        char name[32];
        snprintf(name, sizeof name, "cpu, %d thread%s", t + 1, t ? "s" : "");
        check_backend(be, name, rows[t]);
        vnp_backend_free(be);
    }
    if (cpu_inv) { /* the same rows whatever the thread count (our pool splits a GEMM's output columns, never k) */
        CHECK_MSG(memcmp(rows[0], rows[1], per * sizeof(float)) == 0, "cpu: 1 and 2 threads give the same rows");
        CHECK_MSG(memcmp(rows[0], rows[2], per * sizeof(float)) == 0, "cpu: 1 and 3 threads give the same rows");
    } else {
        printf("test_batch_invariance: SKIP the CPU checks: this machine's OpenBLAS kernel gives a row other bytes "
               "at other places of a GEMM (e.g. its Haswell/Zen kernel), so the CPU engine reports itself not batch "
               "invariant and predict keeps reuse off on it\n");
    }
    for (int t = 0; t < 3; t++) free(rows[t]);
#ifdef VNP_HAVE_CUDA
    if (vnp_cuda_device_count() > 0) {
        for (int fp16 = 1; fp16 >= 0; fp16--) {
            vnp_backend *be = vnp_backend_cuda_create(0, fp16, NULL);
            CHECK(be != NULL);
            if (!be) continue;
            check_backend(be, fp16 ? "cuda fp16" : "cuda fp32", NULL);
            vnp_backend_free(be);
        }
    } else {
        printf("test_batch_invariance: no CUDA device: the GPU checks are skipped\n");
    }
#endif
    VNP_TEST_END();
}
