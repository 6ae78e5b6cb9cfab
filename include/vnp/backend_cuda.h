/* backend_cuda: the CUDA kernels of the GPU engine behind a small C API (FP16 or FP32 activations, cuBLASLt GEMMs,
 * FlashAttention-2-style varlen attention, fused LayerNorm, GELU, rotary embedding, pooling into FP32). Only the
 * kernels the program runs are here; the variants they were chosen against are measured in dev/cuda.
 *
 * The implementation lives in the .cu files of src/backend/cuda (compiled by nvcc, C++ inside). This header is plain C with no
 * linkage block: the .cu files include it inside extern "C" { } so that every function here has C linkage, and a
 * C++ user does the same. It mirrors the op table of vnp/backend.h: every compute op takes the element type of its
 * activations (VNP_CUDA_F16 or VNP_CUDA_F32), is queued on the context's stream and cannot fail on the spot; the
 * first error (a bad argument, a failed launch) is recorded and returned by vnp_cuda_sync().
 *
 * Element types: activations, GEMM weights and biases, LayerNorm parameters and embedding tables all have the
 * op's element type; ALiBi slopes, rotary tables, inv_freq, per-row divisors and pooled outputs are always FP32.
 * FP16 buffers are passed as void * (IEEE binary16, what cuda_fp16.h's __half holds). All pointers below are
 * device pointers unless a name says _host. Matrices are row-major. */
#ifndef VNP_BACKEND_CUDA_H
#define VNP_BACKEND_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "vnp/util.h"

typedef struct vnp_cuda vnp_cuda; /* one device: a stream, a cuBLASLt handle + workspace, a non-finite flag */

typedef enum { VNP_CUDA_F32 = 0, VNP_CUDA_F16 = 1 } vnp_cuda_dtype;

/* A packed batch: nseq sequences laid end to end in rows = cu[nseq] rows; sequence s owns rows cu[s]..cu[s+1]-1.
 * cu_dev is [nseq+1] int32 in device memory; rows and max_len are known on the host. Two optional per-batch
 * helpers (NULL / 0 when absent): row_seq_dev, [rows] int32, the sequence of every row (vnp_cuda_row_seq builds it),
 * read instead of searching cu; and tiles_dev, ntiles pairs (first row, end row) of attention blocks from
 * vnp_cuda_attention_tiles (uploaded with the batch), which keep a block inside the sequences it needs. */
typedef struct {
    int nseq;
    int rows;
    int max_len;
    const int32_t *cu_dev;
    const int32_t *row_seq_dev;
    int ntiles;
    const int32_t *tiles_dev;
} vnp_cuda_varlen;

/* Rows of one attention block. */
#define VNP_CUDA_ATTN_ROWS 64
/* The most tiles vnp_cuda_attention_tiles can produce for a batch. */
#define VNP_CUDA_ATTN_TILES_MAX(rows, nseq) ((rows) / VNP_CUDA_ATTN_ROWS + (nseq) + 1)
/* Host-side plan of attention blocks: a sequence of VNP_CUDA_ATTN_ROWS rows or more gets blocks of its own, runs
 * of shorter sequences share a block while they fit. Writes pairs (first row, end row) to tiles (room for cap
 * pairs) and returns their number, or -1 when cap is too small. */
int vnp_cuda_attention_tiles(const int32_t *cu_host, int nseq, int32_t *tiles, int cap);

/* ---- context and memory ---- */

/* Number of usable CUDA devices; 0 when there is no driver or no device (never an error). */
int vnp_cuda_device_count(void);
/* A context on `device` with its own stream. NULL on failure, with the reason in err (errlen bytes). */
vnp_cuda *vnp_cuda_create(int device, char *err, size_t errlen);
void vnp_cuda_free(vnp_cuda *c); /* accepts NULL; waits for queued work first */
const char *vnp_cuda_device_name(const vnp_cuda *c);
/* The first error recorded since the last vnp_cuda_sync (empty string when none). */
const char *vnp_cuda_error(const vnp_cuda *c);
/* The context's cudaStream_t, for callers that capture graphs or order their own copies. */
void *vnp_cuda_stream(vnp_cuda *c);

void *vnp_cuda_alloc(vnp_cuda *c, size_t bytes); /* 256-byte aligned; NULL with the reason recorded */
void vnp_cuda_release(vnp_cuda *c, void *p);     /* accepts NULL */
/* Copies ordered on the stream; download returns once the bytes are on the host. */
int vnp_cuda_upload(vnp_cuda *c, void *dst, const void *src_host, size_t bytes) VNP_MUST_CHECK;
int vnp_cuda_download(vnp_cuda *c, void *dst_host, const void *src, size_t bytes) VNP_MUST_CHECK;
/* Waits for queued work; VNP_OK, or VNP_ERR_INTERNAL once an error is recorded (vnp_cuda_error says which; it
 * stays recorded: most CUDA errors leave the context unusable). */
int vnp_cuda_sync(vnp_cuda *c) VNP_MUST_CHECK;
/* Makes c's device current on the calling thread. */
int vnp_cuda_bind(vnp_cuda *c) VNP_MUST_CHECK;
/* Free bytes of c's device memory (0 when the driver does not say). */
size_t vnp_cuda_free_bytes(vnp_cuda *c);
/* 1 when some checked tensor held NaN/Inf since the last reset (synchronises), else 0; reset clears the flag. */
int vnp_cuda_nonfinite(vnp_cuda *c, int reset);

/* ---- compute ---- */

/* Epilogues (cuBLASLt's own GELU is the tanh form, not the models': EPI_BIAS_GELU runs the exact one as a pass). */
enum { VNP_CUDA_EPI_NONE = 0, VNP_CUDA_EPI_BIAS = 1, VNP_CUDA_EPI_BIAS_GELU = 2 };
/* y[m,n] = x[m,k] W[n,k]^T (+ b[n]) (+ y when accumulate), then the exact-erf GELU for EPI_BIAS_GELU (not with
 * accumulate). FP32 accumulation (CUBLAS_COMPUTE_32F, no TF32) in both element types. b may be NULL. */
void vnp_cuda_gemm(vnp_cuda *c, vnp_cuda_dtype dt, void *y, const void *x, const void *w, const void *b, int m,
                   int n, int k, int accumulate, int epilogue);
/* When on, a GEMM shape's first call times cuBLASLt's candidate algorithms (up to 8, on a scratch output) and keeps
 * the fastest instead of the heuristic's first choice; that call synchronises. Off by default, and ignored by the
 * invariant plans (mode 2): a choice by timing could differ between runs. */
void vnp_cuda_set_gemm_tuning(vnp_cuda *c, int on);
/* How GEMM plans are keyed by the row count m: 0 = one plan per exact m (each new batch size picks its algorithm
 * again, and may get another kernel); 1 = one plan per power-of-two bucket of m (m >= 1024; exact below), its
 * algorithm chosen (or tuned) at the first m seen and reused for every m of the bucket after
 * cublasLtMatmulAlgoCheck accepts it; 2 (default) = batch invariance: one plan per (n, k) whatever m, its algorithm
 * the heuristic's first without split-K for VNP_CUDA_PLAN_M rows, so that a row's result never depends on how many
 * rows share its batch, nor on the first batch of the run. */
void vnp_cuda_set_gemm_plans(vnp_cuda *c, int mode);
/* Row counts for which the invariant algorithm was refused and a plan of their own was made (0 when batch
 * invariance held for every GEMM so far). */
long vnp_cuda_variant_plans(const vnp_cuda *c);
/* 1 with the batch-invariant kernels (the default: invariant GEMM plans, which also pick attention's key walk). */
int vnp_cuda_batch_invariant(const vnp_cuda *c);
/* y = LN(x + r) * w + b over d columns (statistics in FP32, biased variance); r may be NULL; when sum is
 * non-NULL the pre-norm x + r is stored there (it may equal x or r). y may equal x. Rows of y that are not finite
 * raise the non-finite flag. */
void vnp_cuda_layernorm(vnp_cuda *c, vnp_cuda_dtype dt, void *y, void *sum, const void *x, const void *r,
                        const void *w, const void *b, int rows, int d, float eps);
/* x[r,c] = gelu(x[r,c] + b[c]); b may be NULL. FP32: exact erf; FP16: the branch-free erfc approximation of
 * Abramowitz & Stegun 7.1.26 (|error| <= 0.75e-7 |x|, -5 to -10% on the pass against erff). */
void vnp_cuda_bias_gelu(vnp_cuda *c, vnp_cuda_dtype dt, void *x, const void *b, int rows, int n);
/* u[r,c] = gelu(g[r,c]) * g[r,f+c]: g is [rows, 2f], u is [rows, f]. */
void vnp_cuda_gated_gelu(vnp_cuda *c, vnp_cuda_dtype dt, void *u, const void *g, int rows, int f);
/* FP32 tables [npos, half]: theta = (float)p * inv_freq[j] (fp32 product), cos/sin in double rounded to float. */
void vnp_cuda_rope_table(vnp_cuda *c, float *cos_t, float *sin_t, const float *inv_freq, int npos, int half);
/* In place on `heads` heads of hd columns from x (row stride ld): out = rotate_half rotation of (x * scale) by
 * the angle of the row's position in its own sequence (restarting at 0 at every cu[s]). */
void vnp_cuda_rope(vnp_cuda *c, vnp_cuda_dtype dt, void *x, int ld, int heads, int hd, float scale,
                   const float *cos_t, const float *sin_t, const vnp_cuda_varlen *vl);
/* Per head h: out_i = softmax_j(scale * q_i.k_j + bias_h(i,j)) v_j over the keys j of row i's own sequence, with
 * bias_h(i,j) = slopes[h] * -|i-j| when slopes (FP32, [heads]) is non-NULL. q, k, v point at head 0 of
 * [rows, heads*hd] slices with row stride ld_in; out has row stride ld_out. FP16: tensor cores, FP32 accumulation
 * and online softmax (tuned for hd 64 and 128; hd <= 128 and even on that path, other sizes through the simple
 * kernel). FP32: a simple exact-FP32 kernel (hd <= 256). Memory does not grow with the sequence length. */
void vnp_cuda_attention(vnp_cuda *c, vnp_cuda_dtype dt, void *out, int ld_out, const void *q, const void *k,
                        const void *v, int ld_in, int heads, int hd, float scale, const float *slopes,
                        const vnp_cuda_varlen *vl);
/* row_seq[t] = the sequence owning row t, for vl->rows rows ([rows] int32 on the device). */
void vnp_cuda_row_seq(vnp_cuda *c, int32_t *row_seq, const vnp_cuda_varlen *vl);
/* out[s,:] (FP32, [nseq, d]) = mean of x rows cu[s]+skip_first .. over min(max_rows, len-skip_first-skip_last)
 * rows (max_rows < 0: no cap); zeros when no row is in range. */
void vnp_cuda_mean_pool(vnp_cuda *c, vnp_cuda_dtype dt, float *out, const void *x, int d, int skip_first,
                        int skip_last, int max_rows, const vnp_cuda_varlen *vl);
/* x[t,:] = ((table[ids[t],:] + add_row) * mul) / row_div[t]; add_row, row_div may be NULL; rows whose id equals
 * zero_id (if >= 0) are zero. ids are int32 on the device and must be valid. */
void vnp_cuda_embed(vnp_cuda *c, vnp_cuda_dtype dt, void *x, const void *table, const int32_t *ids, int rows,
                    int d, const void *add_row, float mul, const float *row_div, int zero_id);
/* dst = src converted element-wise (either direction, or a plain copy when the types agree). */
void vnp_cuda_convert(vnp_cuda *c, void *dst, vnp_cuda_dtype dst_dt, const void *src, vnp_cuda_dtype src_dt,
                      size_t n);
/* Raises the non-finite flag when any of the n elements is NaN or Inf. */
void vnp_cuda_check_finite(vnp_cuda *c, vnp_cuda_dtype dt, const void *x, size_t n);

/* ---- FP8 (E4M3) path (cuda_fp8.cu): GPUs of compute capability 8.9 and newer ----
 * A quantized matrix is FP8 bytes [rows, d] plus one FP32 scale per row: row r holds x[r,:] * (448 / amax_r)
 * rounded to nearest even and saturated, scale amax_r / 448 (1 for a zero row), as vnp_fp8_quantize_row does on the
 * CPU. An FP8 GEMM writes z = 2^-18 x8 W8^T in the element type; its values are zs[r] * ws[c] * 2^18 * z[r,c] + b[c]
 * with zs the scales of x8's rows, ws those of W8's rows (output channels), b an optional bias (element type). */
typedef struct {
    const void *z;   /* [rows, n] GEMM output, element type */
    const float *zs; /* [rows] */
    const float *ws; /* [n] */
    const void *b;   /* [n] or NULL */
} vnp_cuda_q8out;
/* 1 when the device has FP8 tensor cores; *major, *minor get its compute capability (either may be NULL). */
int vnp_cuda_fp8_capable(vnp_cuda *c, int *major, int *minor);
/* y8/ys = quantize(x[r, :d]) for rows rows of row stride ldx (elements): weights at load, attention output. */
void vnp_cuda_fp8_quant_rows(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, const void *x, int rows, int d,
                             size_t ldx);
/* With res non-NULL first x += values(res) (x, [rows, d], is updated: the residual add of the GEMM before); then
 * y8/ys = quantize(LN(x) * w + b), statistics as vnp_cuda_layernorm's. */
void vnp_cuda_fp8_layernorm(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, void *x, const vnp_cuda_q8out *res,
                            const void *w, const void *b, int rows, int d, float eps);
/* y8/ys = quantize(gelu(values(g))) over n columns, GELU of the FP16 pass (Abramowitz & Stegun form). */
void vnp_cuda_fp8_gelu(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, const vnp_cuda_q8out *g, int rows, int n);
/* y = values(g) (+ y when add); y may be g->z. */
void vnp_cuda_fp8_dequant(vnp_cuda *c, vnp_cuda_dtype dt, void *y, const vnp_cuda_q8out *g, int rows, int n, int add);
/* z[m,n] = 2^-18 x8[m,k] W8[n,k]^T in the element type, FP32 accumulation (cuBLASLt); n and k multiples of 16. */
void vnp_cuda_fp8_gemm(vnp_cuda *c, vnp_cuda_dtype dt, void *z, const void *x8, const void *w8, int m, int n, int k);
void vnp_cuda_fp8_free(vnp_cuda *c); /* the GEMM plans; called by vnp_cuda_free */

/* ---- per-op timing (diagnostics) ----
 * vnp_cuda_prof_enable: from now on, begin/end record an event pair around each op on the stream (0, or -1 with
 * the reason recorded); drain (also called by vnp_cuda_sync) adds the finished pairs to per-name totals; report
 * prints the totals, each name's share and rate (TF/s where flops were given) to stderr; free releases it (also
 * done by vnp_cuda_free). All are no-ops on a context without profiling. */
int vnp_cuda_prof_enable(vnp_cuda *c);
void vnp_cuda_prof_begin(vnp_cuda *c);
void vnp_cuda_prof_end(vnp_cuda *c, const char *name, double flops);
void vnp_cuda_prof_drain(vnp_cuda *c);
void vnp_cuda_prof_report(vnp_cuda *c);
void vnp_cuda_prof_free(vnp_cuda *c);

#endif
