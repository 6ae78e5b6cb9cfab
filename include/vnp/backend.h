/* backend: the small table of tensor ops that the encoders are written over, and its CPU implementation.
 *
 * A backend is a struct of function pointers plus private state, so the CPU (OpenBLAS + threads) and the CUDA
 * backend (src/backend/cuda) plug into the same model code. Buffers handed to the compute ops live in backend memory
 * (be->ops->alloc); on the CPU that is ordinary host memory. Compute ops cannot fail: a GPU backend records
 * its errors and reports them from sync(). Tensors are row-major, with an explicit row stride (ld) where an op
 * reads a column slice of a wider buffer.
 *
 * Element types: activations, GEMM weights and biases, LayerNorm parameters and embedding tables (typed float *
 * below) are opaque backend buffers of be->elem_bytes-sized elements, the backend's choice: FP32 (4) on the CPU,
 * FP16 (2) by default on CUDA. Model code never reads them and steps through them with vnp_be_at(). ALiBi
 * slopes, rotary tables, per-row divisors, token ids, cu_seqlens and pooled outputs are FP32/int32 everywhere.
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

/* The output of an FP8 GEMM and how to read it: value[r,c] = zs[r] * ws[c] * 2^18 * z[r,c] + b[c] (b may be NULL);
 * zs are the scales of the GEMM's input rows, ws those of its weight rows (output channels). */
typedef struct vnp_q8out {
    const float *z;  /* [rows, n] backend elements */
    const float *zs; /* [rows] FP32, backend memory */
    const float *ws; /* [n] FP32, backend memory */
    const float *b;  /* [n] backend elements, or NULL */
} vnp_q8out;

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
    /* Makes the backend usable from the calling thread (a GPU backend makes its device current); a thread other
     * than the one that opened the backend calls it before its first op. */
    int (*bind)(vnp_backend *be);
    /* Bytes of device memory still free (0 for a host backend, whose memory is the process's). */
    size_t (*free_memory)(vnp_backend *be);

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

    /* ---- optional (NULL on an FP32 backend without a non-finite check) ----
     * upload_f32: n FP32 host values into n backend elements (converted); download_f32: the reverse. */
    int (*upload_f32)(vnp_backend *be, void *dst, const float *src, size_t n);
    int (*download_f32)(vnp_backend *be, float *dst, const void *src, size_t n);
    /* 1 when a checked activation held NaN/Inf since the last reset (synchronises); reset clears it. */
    int (*nonfinite)(vnp_backend *be, int reset);

    /* ---- FP8 (optional; NULL where the backend has no FP8 path) ----
     * A quantized matrix: E4M3 bytes [rows, d] plus one FP32 scale per row, as vnp_fp8_quantize_row makes them.
     * An FP8 GEMM writes z = 2^-18 x8 W8^T (backend elements); vnp_q8out says how to read its values.
     * quant_rows: y8/ys = quantize(x[r, :d]), row stride ldx elements (weights at load, attention output). */
    void (*quant_rows)(vnp_backend *be, void *y8, float *ys, const float *x, int rows, int d, int ldx);
    /* res non-NULL: x += values(res) first (the residual add of the GEMM before; x is updated). Then
     * y8/ys = quantize(layernorm(x) * w + b), statistics as layernorm's. */
    void (*layernorm_q8)(vnp_backend *be, void *y8, float *ys, float *x, const struct vnp_q8out *res,
                         const float *w, const float *b, int rows, int d, float eps);
    /* y8/ys = quantize(gelu(values(g))) over n columns. */
    void (*gelu_q8)(vnp_backend *be, void *y8, float *ys, const struct vnp_q8out *g, int rows, int n);
    /* y = values(g) (+ y when add); y may be g->z. */
    void (*dequant_q8)(vnp_backend *be, float *y, const struct vnp_q8out *g, int rows, int n, int add);
    /* z[m,n] = 2^-18 x8[m,k] W8[n,k]^T, FP32 accumulation; n, k % 16 == 0. */
    void (*gemm_q8)(vnp_backend *be, float *z, const void *x8, const void *w8, int m, int n, int k);
} vnp_backend_ops;

struct vnp_backend {
    const vnp_backend_ops *ops;
    void *impl;   /* private to the implementation */
    int nthreads; /* CPU threads the backend uses */
    int elem_bytes; /* bytes of one activation/weight element: 4 (FP32) or 2 (FP16); 0 reads as 4 */
    int fp8;        /* 1: --precision fp8, ESM-2's layer GEMMs in FP8 through the ops above (FP16 elements) */
    /* 1 when a sequence's results are the same bytes whatever else shares its batch (issue 14): what makes reuse
     * of repeated frames exact. The CPU backend checks its BLAS at creation (vnp_cpu_blas_invariant). */
    int batch_invariant;
};

/* Element size of be's activations and weights. */
static inline size_t vnp_be_elem(const vnp_backend *be) { return be->elem_bytes ? (size_t)be->elem_bytes : 4; }
/* The address n elements past p in a backend buffer of be's element type. */
static inline float *vnp_be_at(const vnp_backend *be, const void *p, size_t n)
{
    return (float *)(void *)((char *)(uintptr_t)p + n * vnp_be_elem(be));
}
/* n FP32 host values into backend elements, converted where the backend holds another type. */
int vnp_be_upload_f32(vnp_backend *be, void *dst, const float *src, size_t n) VNP_MUST_CHECK;
/* n backend elements into FP32 host values. */
int vnp_be_download_f32(vnp_backend *be, float *dst, const void *src, size_t n) VNP_MUST_CHECK;

/* Where the encoders run, as the command line names it. */
typedef enum { VNP_DEVICE_AUTO = 0, VNP_DEVICE_CPU, VNP_DEVICE_CUDA } vnp_device;
/* Parses "auto", "cpu" or "cuda" (also "cuda:N"); VNP_ERR_USAGE otherwise. *gpu gets N (0 by default). */
int vnp_device_parse(const char *s, vnp_device *dev, int *gpu) VNP_MUST_CHECK;
/* 1 when this build has the CUDA backend and a usable GPU is present. */
int vnp_cuda_usable(void);
/* VNP_OK when dev can run here (the CPU always; CUDA when vnp_cuda_usable); otherwise VNP_ERR_UNSUPPORTED after one
 * message saying why and to use --device cpu. vnp_backend_open checks with it, and predict before loading models. */
int vnp_device_check(vnp_device dev) VNP_MUST_CHECK;
/* How many GPUs this process sees (CUDA_VISIBLE_DEVICES applies); 0 without CUDA in the build. */
int vnp_cuda_count(void);
/* 1 when FP32 is forced on a GPU: precision "fp32", or VIRNUCPRO_DISABLE_FP16 set true (vnp/env.h). */
int vnp_precision_fp32(const char *precision);
/* The --precision values, the one list that the command line (cli/options.h) and vnp_backend_open check:
 * auto (= fp16 on CUDA), fp16, fp32, fp8. */
#define VNP_PRECISION_CHOICES "auto|fp16|fp32|fp8"
/* 1 when precision is one of VNP_PRECISION_CHOICES. */
int vnp_precision_ok(const char *precision);
/* Opens the backend for a device: cpu, cuda (VNP_ERR_UNSUPPORTED with a message when no GPU is usable) or auto
 * (cuda when usable, else cpu). precision: NULL/"auto"/"fp16" (FP16 on CUDA) or "fp32" (FP32 everywhere; on
 * CUDA, also through VIRNUCPRO_DISABLE_FP16, with one warning that it is a slower diagnostic mode) or "fp8" (CUDA
 * with FP8 tensor cores only: VNP_ERR_UNSUPPORTED naming the GPU and its compute capability otherwise). */
int vnp_backend_open(vnp_device dev, int gpu, int threads, const char *precision, vnp_backend **out) VNP_MUST_CHECK;
/* vnp_backend_open for a --device text: "auto" (or NULL), "cpu", "cuda" or "cuda:N" - the one place that turns
 * the text into a device, for embed, bench and predict's scorer. A text vnp_device_parse refuses gives VNP_ERR_USAGE
 * after the message predict gives for it (the option tables refuse such a text before it gets here). */
int vnp_backend_open_for(const char *device, int threads, const char *precision, vnp_backend **out) VNP_MUST_CHECK;
/* "cpu" or "cuda" and the precision ("fp32"/"fp16"/"fp8") of an open backend. */
const char *vnp_backend_device_name(const vnp_backend *be);
const char *vnp_backend_precision(const vnp_backend *be);

/* The CPU backend: FP32, OpenBLAS SGEMM where built with it (VNP_HAVE_OPENBLAS), a thread pool for the rest.
 * nthreads <= 0 means every online CPU. NULL after logging on failure. */
vnp_backend *vnp_backend_cpu_create(int nthreads);
/* Releases a backend created by any vnp_backend_*_create; accepts NULL. */
void vnp_backend_free(vnp_backend *be);
/* The CUDA backend's settings; vnp_backend_open fills them from the environment (vnp/env.h). */
typedef struct {
    int profile;   /* per-op GPU times on stderr at exit (VIRNUCPRO_CUDA_PROFILE) */
    int invariant; /* batch-invariant kernels (default 1); 0: those before issue 14 (VIRNUCPRO_CUDA_INVARIANT) */
} vnp_cuda_settings;
#define VNP_CUDA_SETTINGS_DEFAULT {0, 1}
/* The CUDA backend on `device`: FP16 elements (fp16 != 0) or FP32 (TF32 off); settings NULL means
 * VNP_CUDA_SETTINGS_DEFAULT. NULL after logging when this build has no CUDA or the device cannot be used. */
vnp_backend *vnp_backend_cuda_create(int device, int fp16, const vnp_cuda_settings *settings);
/* The CUDA backend in FP16 with the FP8 ops on (be->fp8 = 1); NULL after an error naming the GPU and its compute
 * capability when it has no FP8 tensor cores. */
vnp_backend *vnp_backend_cuda_create_fp8(int device, const vnp_cuda_settings *settings);

/* ALiBi slopes of the MosaicBERT/DNABERT-S code for `heads` heads, rounded to float (power-of-two head counts:
 * 2^(-8(h+1)/n); otherwise the closest power of two c below n, then every other slope of the 2c list). */
void vnp_alibi_slopes(int heads, float *slopes);

/* The exact-erf GELU of one value, as every backend must compute it (within rounding). */
float vnp_gelu_ref(float x);

/* ---- FP8 E4M3 reference and the FP8 self-check (fp8.c) ---- */
/* x as E4M3 (1 sign, 4 exponent bits of bias 7, 3 mantissa bits, no infinity): rounded to nearest even, magnitudes
 * past 448 saturated to 448, NaN to 0x7F. */
uint8_t vnp_fp8_from_float(float x);
float vnp_fp8_to_float(uint8_t q);
/* q[c] = E4M3(x[c] * (448 / amax)) for the d values of a row; returns the row's scale amax / 448 (1 for a row of
 * zeros, NaN when the row holds one), so that x[c] ~ to_float(q[c]) * scale. The GPU kernels do the same floats. */
float vnp_fp8_quantize_row(const float *x, int d, uint8_t *q);
/* 1 when the GPU's compute capability has FP8 tensor cores (8.9 and newer: Ada, Hopper, Blackwell). */
int vnp_fp8_cc_ok(int major, int minor);

/* The self-check of --precision fp8: the first VNP_FP8_CHECK_FRAMES frames of a run go through ESM-2 in FP8 and in
 * FP16; FP8 stays on only while every checked frame's features have cosine >= VNP_FP8_MIN_COSINE and no label flips
 * where the FP16 virus score is more than VNP_FP8_LABEL_MARGIN from 0.5. */
#define VNP_FP8_CHECK_FRAMES 1024
#define VNP_FP8_MIN_COSINE 0.99
#define VNP_FP8_LABEL_MARGIN 0.05
typedef struct {
    long frames;          /* frames compared */
    double min_cos, sum_cos;
    long labeled;         /* frames whose labels were compared */
    long flips;           /* labels that differ */
    long confident_flips; /* ... where |FP16 score - 0.5| > VNP_FP8_LABEL_MARGIN */
    int failed;           /* 1 once a check failed: the run continues in FP16 */
} vnp_fp8_check;
void vnp_fp8_check_init(vnp_fp8_check *k);
/* Adds another check's frames and labels to dst (another GPU's, MPI rank's or shard's): sums, the smaller minimum
 * cosine, failed when either failed. dst may be all zeros or from vnp_fp8_check_init. */
void vnp_fp8_check_add(vnp_fp8_check *dst, const vnp_fp8_check *src);
/* Adds n frames: the cosine of row i of a (stride lda) and row i of b (stride ldb), d values each. */
void vnp_fp8_check_features(vnp_fp8_check *k, const float *a, size_t lda, const float *b, size_t ldb, size_t n,
                            int d);
/* Adds n frames' labels from the classifier's [n, 2] probabilities in FP16 (p16) and FP8 (p8); the score is the
 * virus probability (column 1). */
void vnp_fp8_check_labels(vnp_fp8_check *k, const float *p16, const float *p8, size_t n);
/* 1 when what was added so far fails the check (and marks it failed). */
int vnp_fp8_check_verdict(vnp_fp8_check *k);

#endif
