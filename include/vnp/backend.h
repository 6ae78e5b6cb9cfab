/* backend: the small table of tensor ops that the encoders are written over, and its CPU implementation.
 *
 * A backend is a struct of function pointers plus private state, so the CPU (OpenBLAS + threads) and a later
 * CUDA implementation plug into the same model code. Buffers handed to the compute ops live in backend memory
 * (be->ops->alloc); on the CPU that is ordinary host memory. Compute ops cannot fail: a GPU backend records
 * its errors and reports them from sync(). All tensors are FP32, row-major, with an explicit row stride (ld)
 * where an op reads a column slice of a wider buffer.
 *
 * Packed variable-length batches: a batch of S sequences is T = cu[S] rows laid end to end; sequence s owns
 * rows cu[s] .. cu[s+1]-1. Attention never crosses a boundary and positions restart at 0 in every sequence. */
#ifndef VNP_BACKEND_H
#define VNP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "vnp/util.h"

typedef struct vnp_backend vnp_backend;

/* The layout of one packed batch. cu_host is read on the host (planning, loops); cu_dev is the same array in
 * backend memory (identical pointer on the CPU). */
typedef struct {
    int nseq;
    int max_len;            /* longest sequence, in rows */
    const int32_t *cu_host; /* [nseq+1] prefix sums, cu[0] = 0 */
    const int32_t *cu_dev;  /* [nseq+1] */
} vnp_varlen;

typedef struct vnp_backend_ops {
    const char *name;
    int host_visible; /* 1 when alloc'd memory is ordinary host memory (the model may write it directly) */
    void (*destroy)(vnp_backend *be); /* frees impl and be */

    /* ---- memory ---- */
    void *(*alloc)(vnp_backend *be, size_t bytes); /* 64-byte aligned; NULL after logging */
    void (*release)(vnp_backend *be, void *p);     /* accepts NULL */
    int (*upload)(vnp_backend *be, void *dst, const void *src, size_t bytes);   /* host -> backend */
    int (*download)(vnp_backend *be, void *dst, const void *src, size_t bytes); /* backend -> host */
    int (*sync)(vnp_backend *be); /* waits for queued work; returns the first error since the last sync */

    /* ---- compute ----
     * gemm: y[m,n] = x[m,k] W[n,k]^T (+ b[n] when b) (+ y when accumulate): PyTorch Linear layout. */
    void (*gemm)(vnp_backend *be, float *y, const float *x, const float *w, const float *b, int m, int n, int k,
                 int accumulate);
    /* y[r,:] = (x[r,:] - mean) / sqrt(biased var + eps) * w + b over d columns; y may equal x. */
    void (*layernorm)(vnp_backend *be, float *y, const float *x, const float *w, const float *b, int rows, int d,
                      float eps);
    /* x[r,c] = gelu(x[r,c] + b[c]) with the exact erf GELU; b may be NULL. */
    void (*bias_gelu)(vnp_backend *be, float *x, const float *b, int rows, int n);
    /* u[r,c] = gelu(g[r,c]) * g[r,f+c] for c < f: g is [rows, 2f] (gate | value), u is [rows, f]. */
    void (*gated_gelu)(vnp_backend *be, float *u, const float *g, int rows, int f);
    /* cos/sin tables [npos, half] for rotary embeddings: theta = (float)p * inv_freq[j] (fp32 product), then
     * cos and sin in double rounded to float. */
    void (*rope_table)(vnp_backend *be, float *cos_t, float *sin_t, const float *inv_freq, int npos, int half);
    /* Rotary embedding in place on `heads` heads of hd columns starting at x (row stride ld), non-interleaved
     * (rotate_half), after scaling by `scale`: out = (x*scale) rotated by the angle of the row's position in
     * its sequence. Tables come from rope_table with npos >= v->max_len and half = hd/2. */
    void (*rope)(vnp_backend *be, float *x, int ld, int heads, int hd, float scale, const float *cos_t,
                 const float *sin_t, const vnp_varlen *v);
    /* Attention over packed sequences, per head h: softmax_j(scale * q_i.k_j + bias_h(i,j)) v_j, softmax in fp32.
     * q, k, v point at head 0 of each [T, heads*hd] slice with row stride ld_in; out [T, heads*hd] has row
     * stride ld_out. bias_h(i,j) = slopes[h] * (float)(-|i-j|) (ALiBi) when slopes is non-NULL, else 0.
     * Memory does not grow with the sequence length. */
    void (*attention)(vnp_backend *be, float *out, int ld_out, const float *q, const float *k, const float *v,
                      int ld_in, int heads, int hd, float scale, const float *slopes, const vnp_varlen *vl);
    /* out[s, :] = mean of x rows cu[s]+skip_first .. over min(max_rows, len - skip_first - skip_last) rows
     * (max_rows < 0: no cap); a sequence with no row in range gives zeros. out is [nseq, d], FP32. */
    void (*mean_pool)(vnp_backend *be, float *out, const float *x, int d, int skip_first, int skip_last,
                      int max_rows, const vnp_varlen *v);
    /* x[t,:] = ((table[ids[t],:] + add_row) * mul) / row_div[t]; add_row and row_div may be NULL (skipped), and
     * rows whose id equals zero_id (if >= 0) are set to 0. Ids must be valid (checked by the caller). */
    void (*embed)(vnp_backend *be, float *x, const float *table, const int32_t *ids, int rows, int d,
                  const float *add_row, float mul, const float *row_div, int zero_id);
} vnp_backend_ops;

struct vnp_backend {
    const vnp_backend_ops *ops;
    void *impl;   /* private to the implementation */
    int nthreads; /* CPU threads the backend uses */
};

/* The CPU backend: FP32, OpenBLAS SGEMM where built with it (VNP_HAVE_OPENBLAS), a thread pool for the rest.
 * nthreads <= 0 means every online CPU. NULL after logging on failure. */
vnp_backend *vnp_backend_cpu_create(int nthreads);
/* Releases a backend created by any vnp_backend_*_create; accepts NULL. */
void vnp_backend_free(vnp_backend *be);

/* ALiBi slopes of the MosaicBERT/DNABERT-S code for `heads` heads, rounded to float (power-of-two head counts:
 * 2^(-8(h+1)/n); otherwise the closest power of two c below n, then every other slope of the 2c list). */
void vnp_alibi_slopes(int heads, float *slopes);

/* The exact-erf GELU of one value, as every backend must compute it (within rounding). */
float vnp_gelu_ref(float x);

#endif
