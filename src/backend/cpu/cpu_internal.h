/* Private state and helpers shared by the files of the CPU backend. */
#ifndef VNP_CPU_INTERNAL_H
#define VNP_CPU_INTERNAL_H

#include "vnp/backend.h"

#include <stdatomic.h>

/* Hot row kernels get AVX-512 / AVX2 clones picked at run time, since the release build targets baseline x86-64. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define VNP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VNP_CLONES
#endif

/* Attention tiles: a task is (sequence, head, block of ATT_BQ query rows); keys stream in blocks of ATT_BK. */
#define VNP_ATT_BQ 32
#define VNP_ATT_BK 64
#define VNP_ATT_MAX_HD 256

typedef struct {
    vnp_pool *pool;
    int nthreads;
    float *scratch;        /* nthreads * scratch_floats, for attention tiles */
    size_t scratch_floats; /* per thread */
    atomic_size_t next;    /* dynamic task counter of the current parallel region */
} vnp_cpu;

/* Runs fn(ctx, lo, hi) over [0, n) split into about 4 chunks per thread (contiguous, in order). */
typedef void (*vnp_cpu_range_fn)(void *ctx, size_t lo, size_t hi);
void vnp_cpu_parallel(vnp_cpu *c, size_t n, size_t min_chunk, vnp_cpu_range_fn fn, void *ctx);

void vnp_cpu_layernorm(vnp_backend *be, float *y, const float *x, const float *w, const float *b, int rows, int d,
                       float eps);
void vnp_cpu_bias_gelu(vnp_backend *be, float *x, const float *b, int rows, int n);
void vnp_cpu_gated_gelu(vnp_backend *be, float *u, const float *g, int rows, int f);
void vnp_cpu_rope_table(vnp_backend *be, float *cos_t, float *sin_t, const float *inv_freq, int npos, int half);
void vnp_cpu_rope(vnp_backend *be, float *x, int ld, int heads, int hd, float scale, const float *cos_t,
                  const float *sin_t, const vnp_varlen *v);
void vnp_cpu_mean_pool(vnp_backend *be, float *out, const float *x, int d, int skip_first, int skip_last,
                       int max_rows, const vnp_varlen *v);
void vnp_cpu_embed(vnp_backend *be, float *x, const float *table, const int32_t *ids, int rows, int d,
                   const float *add_row, float mul, const float *row_div, int zero_id);
void vnp_cpu_attention(vnp_backend *be, float *out, int ld_out, const float *q, const float *k, const float *v,
                       int ld_in, int heads, int hd, float scale, const float *slopes, const vnp_varlen *vl);
void vnp_cpu_gemm(vnp_backend *be, float *y, const float *x, const float *w, const float *b, int m, int n, int k,
                  int accumulate);

#endif
