/* The element-wise and row-wise ops of the CPU backend: LayerNorm, GELU variants, rotary embedding, mean
 * pooling and the embedding gather, each split over rows on the thread pool. */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <math.h>
#include <string.h>

/* Compiled at O3 with AVX-512 / AVX2 clones of the row kernels picked at run time (see cpu_attn.c). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

/* ---- LayerNorm: statistics in double, the affine part in float ---- */

typedef struct {
    float *y;
    const float *x, *w, *b;
    int d;
    float eps;
} ln_ctx;

VNP_CLONES
static void ln_rows(void *p, size_t lo, size_t hi)
{
    ln_ctx *c = p;
    int d = c->d;
    for (size_t r = lo; r < hi; r++) {
        const float *x = c->x + r * (size_t)d;
        float *y = c->y + r * (size_t)d;
        double s = 0.0;
        for (int i = 0; i < d; i++) s += x[i];
        double mean = s / d, v = 0.0;
        for (int i = 0; i < d; i++) {
            double t = x[i] - mean;
            v += t * t;
        }
        float rstd = (float)(1.0 / sqrt(v / d + (double)c->eps));
        float mu = (float)mean;
        for (int i = 0; i < d; i++) y[i] = (x[i] - mu) * rstd * c->w[i] + c->b[i];
    }
}

void vnp_cpu_layernorm(vnp_backend *be, float *y, const float *x, const float *w, const float *b, int rows, int d,
                       float eps)
{
    ln_ctx c = {y, x, w, b, d, eps};
    vnp_cpu_parallel(be->impl, (size_t)rows, 8, ln_rows, &c);
}

/* ---- GELU ---- */


typedef struct {
    float *y;
    const float *x, *b;
    int n;
} gelu_ctx;

VNP_CLONES
static void bias_gelu_rows(void *p, size_t lo, size_t hi)
{
    gelu_ctx *c = p;
    for (size_t r = lo; r < hi; r++) {
        float *x = c->y + r * (size_t)c->n;
        if (c->b)
            for (int i = 0; i < c->n; i++) x[i] = vnp_gelu(x[i] + c->b[i]);
        else
            for (int i = 0; i < c->n; i++) x[i] = vnp_gelu(x[i]);
    }
}

void vnp_cpu_bias_gelu(vnp_backend *be, float *x, const float *b, int rows, int n)
{
    gelu_ctx c = {x, NULL, b, n};
    vnp_cpu_parallel(be->impl, (size_t)rows, 4, bias_gelu_rows, &c);
}

VNP_CLONES
static void gated_rows(void *p, size_t lo, size_t hi)
{
    gelu_ctx *c = p;
    int f = c->n;
    for (size_t r = lo; r < hi; r++) {
        const float *g = c->x + r * 2 * (size_t)f;
        float *u = c->y + r * (size_t)f;
        for (int i = 0; i < f; i++) u[i] = vnp_gelu(g[i]) * g[f + i];
    }
}

void vnp_cpu_gated_gelu(vnp_backend *be, float *u, const float *g, int rows, int f)
{
    gelu_ctx c = {u, g, NULL, f};
    vnp_cpu_parallel(be->impl, (size_t)rows, 4, gated_rows, &c);
}

/* ---- rotary embedding ---- */

void vnp_cpu_rope_table(vnp_backend *be, float *cos_t, float *sin_t, const float *inv_freq, int npos, int half)
{
    (void)be;
    for (int p = 0; p < npos; p++)
        for (int j = 0; j < half; j++) {
            float theta = (float)p * inv_freq[j];
            cos_t[(size_t)p * half + j] = (float)cos((double)theta);
            sin_t[(size_t)p * half + j] = (float)sin((double)theta);
        }
}

typedef struct {
    float *x;
    int ld, heads, hd;
    float scale;
    const float *cos_t, *sin_t;
    const vnp_varlen *v;
} rope_ctx;

/* The sequence that owns row t: the last s with cu[s] <= t. */
static int seq_of_row(const vnp_varlen *v, int32_t t)
{
    int lo = 0, hi = v->nseq - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (v->cu_host[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

VNP_CLONES
static void rope_rows(void *p, size_t lo, size_t hi)
{
    rope_ctx *c = p;
    int half = c->hd / 2, s = seq_of_row(c->v, (int32_t)lo);
    for (size_t t = lo; t < hi; t++) {
        while ((int32_t)t >= c->v->cu_host[s + 1]) s++;
        size_t pos = t - (size_t)c->v->cu_host[s];
        const float *ct = c->cos_t + pos * half, *st = c->sin_t + pos * half;
        for (int h = 0; h < c->heads; h++) {
            float *x = c->x + t * (size_t)c->ld + (size_t)h * c->hd;
            for (int j = 0; j < half; j++) {
                float a = x[j] * c->scale, b = x[j + half] * c->scale;
                x[j] = a * ct[j] - b * st[j];
                x[j + half] = b * ct[j] + a * st[j];
            }
        }
    }
}

void vnp_cpu_rope(vnp_backend *be, float *x, int ld, int heads, int hd, float scale, const float *cos_t,
                  const float *sin_t, const vnp_varlen *v)
{
    if (v->nseq <= 0) return;
    rope_ctx c = {x, ld, heads, hd, scale, cos_t, sin_t, v};
    vnp_cpu_parallel(be->impl, (size_t)v->cu_host[v->nseq], 16, rope_rows, &c);
}

/* ---- masked mean pooling, accumulated in double ---- */

typedef struct {
    float *out;
    const float *x;
    int d, skip_first, skip_last, max_rows;
    const vnp_varlen *v;
} pool_ctx;

VNP_CLONES
static void pool_seqs(void *p, size_t lo, size_t hi)
{
    pool_ctx *c = p;
    double acc[256];
    for (size_t s = lo; s < hi; s++) {
        int32_t start = c->v->cu_host[s], len = c->v->cu_host[s + 1] - start;
        int n = len - c->skip_first - c->skip_last;
        if (c->max_rows >= 0 && n > c->max_rows) n = c->max_rows;
        float *o = c->out + s * (size_t)c->d;
        if (n <= 0) {
            memset(o, 0, (size_t)c->d * sizeof(float));
            continue;
        }
        const float *x0 = c->x + (size_t)(start + c->skip_first) * (size_t)c->d;
        for (int j0 = 0; j0 < c->d; j0 += 256) {
            int w = c->d - j0 < 256 ? c->d - j0 : 256;
            for (int j = 0; j < w; j++) acc[j] = 0.0;
            for (int r = 0; r < n; r++) {
                const float *xr = x0 + (size_t)r * c->d + j0;
                for (int j = 0; j < w; j++) acc[j] += xr[j];
            }
            for (int j = 0; j < w; j++) o[j0 + j] = (float)(acc[j] / n);
        }
    }
}

void vnp_cpu_mean_pool(vnp_backend *be, float *out, const float *x, int d, int skip_first, int skip_last,
                       int max_rows, const vnp_varlen *v)
{
    pool_ctx c = {out, x, d, skip_first, skip_last, max_rows, v};
    vnp_cpu_parallel(be->impl, (size_t)v->nseq, 1, pool_seqs, &c);
}

/* ---- embedding gather ---- */

typedef struct {
    float *x;
    const float *table;
    const int32_t *ids;
    int d;
    const float *add_row;
    float mul;
    const float *row_div;
    int zero_id;
} embed_ctx;

VNP_CLONES
static void embed_rows(void *p, size_t lo, size_t hi)
{
    embed_ctx *c = p;
    for (size_t t = lo; t < hi; t++) {
        float *x = c->x + t * (size_t)c->d;
        if (c->zero_id >= 0 && c->ids[t] == c->zero_id) {
            memset(x, 0, (size_t)c->d * sizeof(float));
            continue;
        }
        const float *e = c->table + (size_t)c->ids[t] * (size_t)c->d;
        for (int j = 0; j < c->d; j++) {
            float v = c->add_row ? e[j] + c->add_row[j] : e[j];
            v = v * c->mul;
            x[j] = c->row_div ? v / c->row_div[t] : v;
        }
    }
}

void vnp_cpu_embed(vnp_backend *be, float *x, const float *table, const int32_t *ids, int rows, int d,
                   const float *add_row, float mul, const float *row_div, int zero_id)
{
    embed_ctx c = {x, table, ids, d, add_row, mul, row_div, zero_id};
    vnp_cpu_parallel(be->impl, (size_t)rows, 16, embed_rows, &c);
}
