/* What --precision fp8 does to ESM-2's features, emulated on the CPU: the model runs twice on the CPU engine, once
 * in FP32 and once with its four layer GEMMs (q|k|v, out_proj, fc1, fc2) fed E4M3-quantized operands, with the
 * arithmetic of the GPU path (vnp_fp8_quantize_row, the reference the CUDA kernels match byte for byte in
 * test_cuda_fp8): weights one scale per output channel, activations one scale per row, products summed in FP32 and
 * the two scales and the bias applied after. Everything else stays FP32, so the result is FP8 vs FP32 without the
 * FP16 residual stream and attention of the GPU path (their own error is what FP16 vs FP32 shows). Prints the
 * per-protein cosine of the pooled features (min, 1st percentile, mean) as one JSON line.
 *
 *   fp8_emulate MODEL PROTEINS.fa [THREADS]
 *
 * Built by CMake (target fp8_emulate) and run by bench/fp8_emulate.sh, which checks it against the fixture cosines
 * measured on an H200 and then measures the random 3B-shape model. */
#include "model/model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnp/io.h"
#include "vnp/tok.h"

enum { MAX_TOKENS = 4096, MAX_SEQS = 256 };

/* ---- the GEMM wrapper: E4M3 operands for the layer GEMMs, the backend's own GEMM for the rest ---- */

static const vnp_backend_ops *real_ops;
static const float **layer_w; /* the 4 L layer weights whose GEMMs take FP8 operands */
static size_t n_layer_w;
static float *xq;             /* the quantized-and-scaled activation rows: MAX_TOKENS rows of the widest GEMM input */
static uint8_t *q8;

/* x[c] -> E4M3(x[c] * 448 / amax) * amax / 448, row by row: the values the FP8 GEMM multiplies, scales applied. */
static void fake_quant_rows(float *y, const float *x, size_t rows, int d)
{
    for (size_t r = 0; r < rows; r++) {
        float s = vnp_fp8_quantize_row(x + r * (size_t)d, d, q8);
        for (int c = 0; c < d; c++) y[r * (size_t)d + c] = vnp_fp8_to_float(q8[c]) * s;
    }
}

static void fp8_gemm(vnp_backend *be, float *y, const float *x, const float *w, const float *b, int m, int n, int k,
                     int accumulate)
{
    size_t i = 0;
    while (i < n_layer_w && layer_w[i] != w) i++;
    if (i < n_layer_w) {
        fake_quant_rows(xq, x, (size_t)m, k);
        x = xq;
    }
    real_ops->gemm(be, y, x, w, b, m, n, k, accumulate);
}

/* Quantizes the layer weights in place and routes the layer GEMMs through fp8_gemm. */
static int emulate_fp8(vnp_encoder *e, vnp_backend_ops *ops)
{
    const vnp_encoder_config *c = &e->cfg;
    int width = c->ffn > c->dim ? c->ffn : c->dim;
    n_layer_w = 4 * (size_t)c->layers;
    layer_w = calloc(n_layer_w, sizeof *layer_w);
    xq = malloc((size_t)MAX_TOKENS * (size_t)width * sizeof *xq);
    q8 = malloc((size_t)width);
    if (!layer_w || !xq || !q8) return VNP_ERR_NOMEM;
    for (int l = 0; l < c->layers; l++) {
        const vnp_layer *y = &e->layer[l];
        float *w[4] = {y->qkv_w, y->o_w, y->fc1_w, y->fc2_w};
        int rows[4] = {3 * c->dim, c->dim, c->ffn, c->dim}, cols[4] = {c->dim, c->dim, c->dim, c->ffn};
        for (int g = 0; g < 4; g++) {
            layer_w[4 * l + g] = w[g];
            fake_quant_rows(w[g], w[g], (size_t)rows[g], cols[g]); /* one scale per output channel */
        }
    }
    real_ops = e->be->ops;
    *ops = *real_ops;
    ops->gemm = fp8_gemm;
    e->be->ops = ops;
    return VNP_OK;
}

/* ---- the proteins and the two passes ---- */

typedef struct {
    vnp_tokens tk; /* every protein's ids, one after another */
    int32_t *start; /* [n + 1] */
    size_t n;
} proteins;

static int read_proteins(const char *path, proteins *p)
{
    vnp_seqreader *rd = NULL;
    int rc = vnp_seqreader_open(&rd, path, NULL);
    if (rc) return rc;
    vnp_seqrecord rec;
    size_t cap = 0;
    while ((rc = vnp_seqreader_next(rd, &rec)) == 1) {
        if (p->n + 2 > cap) {
            cap = cap ? 2 * cap : 1024;
            int32_t *s = realloc(p->start, cap * sizeof *s);
            if (!s) {
                rc = VNP_ERR_NOMEM;
                break;
            }
            p->start = s;
        }
        p->start[p->n] = (int32_t)p->tk.n;
        if ((rc = vnp_esm_encode(rec.seq, rec.seq_len, &p->tk, NULL))) break;
        if (p->tk.n - (size_t)p->start[p->n] > MAX_TOKENS) {
            fprintf(stderr, "%s: record %zu is longer than %d tokens\n", path, p->n + 1, MAX_TOKENS);
            rc = VNP_ERR_USAGE;
            break;
        }
        p->n++;
    }
    if (rc == 0 && p->n > 0) p->start[p->n] = (int32_t)p->tk.n;
    if (rc == 0 && p->n == 0) {
        fprintf(stderr, "%s: no proteins\n", path);
        rc = VNP_ERR_USAGE;
    }
    vnp_seqreader_close(rd);
    return rc < 0 ? rc : VNP_OK;
}

/* Pooled features of every protein into out [n, D], in packed batches of up to MAX_TOKENS tokens. */
static int embed_all(vnp_encoder *e, const proteins *p, float *out)
{
    int32_t cu[MAX_SEQS + 1];
    size_t D = (size_t)e->cfg.dim;
    for (size_t i = 0; i < p->n;) {
        size_t j = i;
        cu[0] = 0;
        while (j < p->n && j - i < MAX_SEQS && p->start[j + 1] - p->start[i] <= MAX_TOKENS) {
            cu[j - i + 1] = p->start[j + 1] - p->start[i];
            j++;
        }
        int rc = vnp_encoder_forward(e, p->tk.ids + p->start[i], cu, (int)(j - i), out + i * D, NULL);
        if (rc) return rc;
        i = j;
    }
    return VNP_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *model, const float *a, const float *b, size_t n, size_t d, double secs[2])
{
    double *cs = malloc(n * sizeof *cs), sum = 0.0;
    if (!cs) return;
    for (size_t i = 0; i < n; i++) {
        vnp_fp8_check k;
        vnp_fp8_check_init(&k);
        vnp_fp8_check_features(&k, a + i * d, d, b + i * d, d, 1, (int)d);
        cs[i] = k.min_cos;
        sum += cs[i];
    }
    qsort(cs, n, sizeof *cs, cmp_double);
    size_t p1 = n >= 100 ? n / 100 - 1 : 0;
    printf("{\"model\": \"%s\", \"proteins\": %zu, \"dim\": %zu, \"cosine_min\": %.6f, \"cosine_p1\": %.6f, "
           "\"cosine_mean\": %.6f, \"seconds_fp32\": %.1f, \"seconds_fp8_emulated\": %.1f}\n",
           model, n, d, cs[0], cs[p1], sum / (double)n, secs[0], secs[1]);
    free(cs);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: fp8_emulate MODEL PROTEINS.fa [THREADS]\n");
        return 2;
    }
    int threads = argc == 4 ? atoi(argv[3]) : 0;
    vnp_backend *be = NULL;
    vnp_encoder *e = NULL;
    proteins p = {0};
    float *f32 = NULL, *f8 = NULL;
    vnp_backend_ops ops;
    double secs[2];
    vnp_model_info info;
    int rc = vnp_backend_open(VNP_DEVICE_CPU, 0, threads, "fp32", &be);
    if (rc == VNP_OK && !(e = vnp_encoder_open(be, argv[1], VNP_ROLE_PROTEIN, "ESM-2 model", &info, NULL)))
        rc = VNP_ERR_FORMAT;
    if (rc == VNP_OK) rc = read_proteins(argv[2], &p);
    if (rc == VNP_OK) rc = vnp_encoder_reserve(e, MAX_TOKENS, MAX_SEQS);
    size_t D = e ? (size_t)e->cfg.dim : 0;
    if (rc == VNP_OK && (!(f32 = malloc(p.n * D * sizeof *f32)) || !(f8 = malloc(p.n * D * sizeof *f8))))
        rc = VNP_ERR_NOMEM;
    double t0 = vnp_time_now();
    if (rc == VNP_OK) rc = embed_all(e, &p, f32);
    secs[0] = vnp_time_now() - t0;
    if (rc == VNP_OK) rc = emulate_fp8(e, &ops);
    t0 = vnp_time_now();
    if (rc == VNP_OK) rc = embed_all(e, &p, f8);
    secs[1] = vnp_time_now() - t0;
    if (rc == VNP_OK) report(argv[1], f32, f8, p.n, D, secs);
    if (e && real_ops) e->be->ops = real_ops;
    vnp_encoder_free(e);
    vnp_backend_free(be);
    vnp_tokens_free(&p.tk);
    free(p.start);
    free(f32);
    free(f8);
    free(layer_w);
    free(xq);
    free(q8);
    if (rc) fprintf(stderr, "fp8_emulate: %s\n", vnp_status_str(rc));
    return rc ? 1 : 0;
}
