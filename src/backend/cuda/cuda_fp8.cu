/* The FP8 (E4M3) path of the CUDA backend: per-row quantization of weights and activations (LayerNorm, GELU and
 * plain rows, each writing FP8 bytes and one FP32 scale per row), and the FP8 GEMM with FP32 accumulation through
 * cuBLASLt, its row x column scales applied by cuBLASLt's outer-vector scale mode where the library offers it, else
 * by our own epilogue pass (FP32 accumulator -> scales, bias, residual -> FP16). */
#include "cuda_internal.cuh"

#include <cuda_fp8.h>
#include <stdlib.h>
#include <string.h>

/* Rows are quantized as q = sat(x * (448 / amax)) rounded to nearest even, with scale amax / 448 (1 for a row of
 * zeros): the same arithmetic as the CPU reference vnp_fp8_quantize_row, so tests can compare bytes. */
#define FP8_MAX 448.0f
#define Q_THREADS 256

__device__ __forceinline__ unsigned char q8(float v)
{
    return (unsigned char)__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3);
}

/* max that keeps a NaN (fmaxf drops it), so a NaN row gets a NaN scale */
__device__ __forceinline__ float nan_max(float a, float b) { return (a != a || a > b) ? a : b; }

/* max over the block (every thread gets it); red has 32 floats. */
__device__ __forceinline__ float block_max(float v, float *red)
{
#pragma unroll
    for (int o = 16; o; o >>= 1) v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, o));
    __syncthreads();
    if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = v;
    __syncthreads();
    float t = red[0];
    for (int i = 1; i < (int)(blockDim.x / 32); i++) t = nan_max(t, red[i]);
    return t;
}

__device__ __forceinline__ float block_sum(float v, float *red)
{
#pragma unroll
    for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();
    if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = v;
    __syncthreads();
    float t = 0.0f;
    for (int i = 0; i < (int)(blockDim.x / 32); i++) t += red[i];
    return t;
}

/* Quantizes the d floats of row (in shared memory) to y8 and writes the row's scale; NaN in the row gives a NaN
 * scale, which the model's final LayerNorm check catches. */
__device__ __forceinline__ void quantize_smem_row(unsigned char *y8, float *ys, const float *row, int d, float *red)
{
    float m = 0.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float a = fabsf(row[c]);
        m = nan_max(a, m);
    }
    float amax = block_max(m, red);
    float inv = amax > 0.0f ? FP8_MAX / amax : 1.0f;
    for (int c = threadIdx.x * 4; c < d; c += blockDim.x * 4) {
        if ((d & 3) == 0) { /* rows start 4-byte aligned */
            uchar4 q = make_uchar4(q8(row[c] * inv), q8(row[c + 1] * inv), q8(row[c + 2] * inv), q8(row[c + 3] * inv));
            *reinterpret_cast<uchar4 *>(y8 + c) = q;
        } else {
            for (int j = c; j < d && j < c + 4; j++) y8[j] = q8(row[j] * inv);
        }
    }
    if (threadIdx.x == 0) *ys = amax > 0.0f ? amax / FP8_MAX : (amax == amax ? 1.0f : amax);
}

/* Loads d elements of a row into shared memory as floats (8 at a time where aligned). */
template <typename T> __device__ __forceinline__ void load_row(float *row, const T *x, int d, int vec)
{
    if (vec) {
        for (int c = threadIdx.x * 8; c < d; c += blockDim.x * 8) {
            float v[8];
            vnp_ld8(x + c, v);
#pragma unroll
            for (int j = 0; j < 8; j++) row[c + j] = v[j];
        }
    } else {
        for (int c = threadIdx.x; c < d; c += blockDim.x) row[c] = vnp_ld(x + c);
    }
}

/* y8[r,:], ys[r] = quantize(x[r, :d]) with row stride ldx; one block per row. */
template <typename T>
__global__ void __launch_bounds__(Q_THREADS) quant_rows_kernel(unsigned char *y8, float *ys, const T *x, int d,
                                                               size_t ldx, int vec)
{
    extern __shared__ float row[];
    __shared__ float red[32];
    size_t r = blockIdx.x;
    load_row(row, x + r * ldx, d, vec);
    __syncthreads();
    quantize_smem_row(y8 + r * (size_t)d, ys + r, row, d, red);
}

/* LayerNorm of each row (FP32 statistics, centred variance, as vnp_cuda_layernorm), quantized. */
template <typename T>
__global__ void __launch_bounds__(Q_THREADS) ln_q8_kernel(unsigned char *y8, float *ys, const T *x, const T *w,
                                                          const T *b, int d, float eps, int vec)
{
    extern __shared__ float row[];
    __shared__ float red[32];
    size_t r = blockIdx.x;
    load_row(row, x + r * (size_t)d, d, vec);
    __syncthreads();
    float s = 0.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) s += row[c];
    float mean = block_sum(s, red) / (float)d, q = 0.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float t = row[c] - mean;
        q += t * t;
    }
    float rstd = 1.0f / sqrtf(block_sum(q, red) / (float)d + eps);
    for (int c = threadIdx.x; c < d; c += blockDim.x)
        row[c] = (row[c] - mean) * rstd * vnp_ld(w + c) + vnp_ld(b + c);
    __syncthreads();
    quantize_smem_row(y8 + r * (size_t)d, ys + r, row, d, red);
}

/* GELU(x + b) of each row, quantized (the input of fc2). */
template <typename T>
__global__ void __launch_bounds__(Q_THREADS) gelu_q8_kernel(unsigned char *y8, float *ys, const T *x, const T *b,
                                                            int d, int vec)
{
    extern __shared__ float row[];
    __shared__ float red[32];
    size_t r = blockIdx.x;
    load_row(row, x + r * (size_t)d, d, vec);
    __syncthreads();
    for (int c = threadIdx.x; c < d; c += blockDim.x) row[c] = vnp_gelu_as(row[c] + (b ? vnp_ld(b + c) : 0.0f));
    __syncthreads();
    quantize_smem_row(y8 + r * (size_t)d, ys + r, row, d, red);
}

/* Dynamic shared memory for a row of d floats; raises the kernel's limit past 48 KB when needed. */
template <typename K> static int row_smem(vnp_cuda *c, K kernel, int d, size_t *bytes)
{
    *bytes = (size_t)d * sizeof(float);
    if (*bytes > 200 * 1024) {
        vnp_cuda_fail(c, "fp8: rows of %d elements do not fit in shared memory", d);
        return -1;
    }
    if (*bytes > 48 * 1024 && cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                   (int)*bytes) != cudaSuccess) {
        cudaGetLastError();
        vnp_cuda_fail(c, "fp8: cannot raise shared memory to %zu bytes", *bytes);
        return -1;
    }
    return 0;
}

static int vec_ok(int d, const void *p, size_t ld_elems, size_t elem)
{
    return d % 8 == 0 && vnp_aligned16(p) && (ld_elems * elem) % 16 == 0;
}

void vnp_cuda_fp8_quant_rows(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, const void *x, int rows, int d,
                             size_t ldx)
{
    if (rows <= 0 || d <= 0) return;
    size_t smem;
    if (dt == VNP_CUDA_F16) {
        if (row_smem(c, quant_rows_kernel<__half>, d, &smem)) return;
        quant_rows_kernel<__half><<<rows, Q_THREADS, smem, c->stream>>>((unsigned char *)y8, ys, (const __half *)x,
                                                                        d, ldx, vec_ok(d, x, ldx, 2));
    } else {
        if (row_smem(c, quant_rows_kernel<float>, d, &smem)) return;
        quant_rows_kernel<float><<<rows, Q_THREADS, smem, c->stream>>>((unsigned char *)y8, ys, (const float *)x, d,
                                                                       ldx, vec_ok(d, x, ldx, 4));
    }
    vnp_cuda_check_launch(c, "fp8 quantize rows");
}

void vnp_cuda_fp8_layernorm(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, const void *x, const void *w,
                            const void *b, int rows, int d, float eps)
{
    if (rows <= 0 || d <= 0) return;
    size_t smem;
    if (dt == VNP_CUDA_F16) {
        if (row_smem(c, ln_q8_kernel<__half>, d, &smem)) return;
        ln_q8_kernel<__half><<<rows, Q_THREADS, smem, c->stream>>>((unsigned char *)y8, ys, (const __half *)x,
                                                                   (const __half *)w, (const __half *)b, d, eps,
                                                                   vec_ok(d, x, (size_t)d, 2));
    } else {
        if (row_smem(c, ln_q8_kernel<float>, d, &smem)) return;
        ln_q8_kernel<float><<<rows, Q_THREADS, smem, c->stream>>>((unsigned char *)y8, ys, (const float *)x,
                                                                  (const float *)w, (const float *)b, d, eps,
                                                                  vec_ok(d, x, (size_t)d, 4));
    }
    vnp_cuda_check_launch(c, "fp8 layernorm");
}

void vnp_cuda_fp8_bias_gelu(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, const void *x, const void *b,
                            int rows, int n)
{
    if (rows <= 0 || n <= 0) return;
    size_t smem;
    if (dt == VNP_CUDA_F16) {
        if (row_smem(c, gelu_q8_kernel<__half>, n, &smem)) return;
        gelu_q8_kernel<__half><<<rows, Q_THREADS, smem, c->stream>>>((unsigned char *)y8, ys, (const __half *)x,
                                                                     (const __half *)b, n, vec_ok(n, x, (size_t)n, 2));
    } else {
        if (row_smem(c, gelu_q8_kernel<float>, n, &smem)) return;
        gelu_q8_kernel<float><<<rows, Q_THREADS, smem, c->stream>>>((unsigned char *)y8, ys, (const float *)x,
                                                                    (const float *)b, n, vec_ok(n, x, (size_t)n, 4));
    }
    vnp_cuda_check_launch(c, "fp8 bias + gelu");
}

/* ---------------------------------------------------------------- GEMM */

#define FP8_PLANS 32

/* One cuBLASLt FP8 matmul: outer = 1 when cuBLASLt applies the row and column scales itself (outer-vector scale
 * mode) and the bias/residual epilogue, writing FP16; 0 when it writes the FP32 accumulator to scratch and
 * scale_epilogue_kernel finishes. */
typedef struct {
    int m, n, k, acc, bias, outer, dt;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
} fp8_plan;

struct vnp_cuda_fp8 {
    int nplans;
    fp8_plan plans[FP8_PLANS];
    float *scratch; /* FP32 accumulator of the fallback path */
    size_t scratch_n;
    int outer_refused; /* test hook (vnp_cuda_fp8_set_outer): every plan takes the fallback */
    int told;          /* the path taken was logged */
    int last_outer;
};

static void plan_free(fp8_plan *p)
{
    if (p->lc) cublasLtMatrixLayoutDestroy(p->lc);
    if (p->lb) cublasLtMatrixLayoutDestroy(p->lb);
    if (p->la) cublasLtMatrixLayoutDestroy(p->la);
    if (p->op) cublasLtMatmulDescDestroy(p->op);
    memset(p, 0, sizeof *p);
}

void vnp_cuda_fp8_free(vnp_cuda *c)
{
    if (!c || !c->fp8) return;
    for (int i = 0; i < c->fp8->nplans; i++) plan_free(&c->fp8->plans[i]);
    cudaFree(c->fp8->scratch);
    free(c->fp8);
    c->fp8 = NULL;
}

/* Descriptors and the heuristic's first algorithm; 0 when cuBLASLt has one. Quiet on refusal: the caller tries
 * the fallback. */
static int plan_try(vnp_cuda *c, fp8_plan *p)
{
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cudaDataType_t out_t = p->outer ? (p->dt == VNP_CUDA_F16 ? CUDA_R_16F : CUDA_R_32F) : CUDA_R_32F;
    cublasLtEpilogue_t epi = p->outer && p->bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    cublasStatus_t s = cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    if (s == CUBLAS_STATUS_SUCCESS && p->outer) {
        int32_t mode = CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
        s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &mode, sizeof mode);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &mode, sizeof mode);
        if (s == CUBLAS_STATUS_SUCCESS && p->bias) {
            cudaDataType_t bt = out_t;
            s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt);
        }
    }
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->la, CUDA_R_8F_E4M3, p->k, p->n, p->k);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->lb, CUDA_R_8F_E4M3, p->k, p->m, p->k);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->lc, out_t, p->n, p->m, p->n);
    if (s != CUBLAS_STATUS_SUCCESS) return -1;
    cublasLtMatmulPreference_t pref;
    if (cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS) return -1;
    uint64_t ws = c->workspace_bytes;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t r;
    int found = 0;
    s = cublasLtMatmulAlgoGetHeuristic(c->lt, p->op, p->la, p->lb, p->lc, p->lc, pref, 1, &r, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (s != CUBLAS_STATUS_SUCCESS || found < 1) return -1;
    p->algo = r.algo;
    return 0;
}

static fp8_plan *plan_get(vnp_cuda *c, vnp_cuda_dtype dt, int m, int n, int k, int acc, int bias)
{
    if (!c->fp8 && !(c->fp8 = (struct vnp_cuda_fp8 *)calloc(1, sizeof *c->fp8))) {
        vnp_cuda_fail(c, "fp8: out of host memory");
        return NULL;
    }
    struct vnp_cuda_fp8 *f = c->fp8;
    for (int i = 0; i < f->nplans; i++) {
        fp8_plan *p = &f->plans[i];
        if (p->m == m && p->n == n && p->k == k && p->acc == acc && p->bias == bias && p->dt == (int)dt) return p;
    }
    if (f->nplans == FP8_PLANS) { /* a new batch shape: drop the oldest */
        plan_free(&f->plans[0]);
        memmove(&f->plans[0], &f->plans[1], (FP8_PLANS - 1) * sizeof f->plans[0]);
        memset(&f->plans[FP8_PLANS - 1], 0, sizeof f->plans[0]);
        f->nplans--;
    }
    fp8_plan *p = &f->plans[f->nplans];
    for (int outer = f->outer_refused ? 0 : 1; outer >= 0; outer--) {
        memset(p, 0, sizeof *p);
        p->m = m; p->n = n; p->k = k; p->acc = acc; p->bias = bias; p->outer = outer; p->dt = (int)dt;
        if (plan_try(c, p) == 0) {
            f->nplans++;
            if (!f->told) {
                f->told = 1;
                vnp_info("FP8 GEMMs on %s: %s", c->name,
                        outer ? "cuBLASLt applies the per-token and per-channel scales (outer-vector mode)"
                              : "FP32 accumulator, scales applied by our epilogue (cuBLASLt has no outer-vector "
                                "algorithm for this shape)");
            }
            return p;
        }
        plan_free(p);
    }
    vnp_cuda_fail(c, "cuBLASLt has no FP8 (E4M3) algorithm for %dx%dx%d on %s", m, n, k, c->name);
    return NULL;
}

/* y = acc * xs[r] * ws[col] (+ b[col]) (+ y): the fallback's epilogue, FP32 accumulator in. */
template <typename T>
__global__ void scale_epilogue_kernel(T *y, const float *acc, const float *xs, const float *ws, const T *b, int m,
                                      int n, int add)
{
    size_t total = (size_t)m * n, stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        int r = (int)(i / (size_t)n), col = (int)(i % (size_t)n);
        float v = acc[i] * xs[r] * ws[col];
        if (b) v += vnp_ld(b + col);
        if (add) v += vnp_ld(y + i);
        vnp_st(y + i, v);
    }
}

int vnp_cuda_fp8_last_outer(const vnp_cuda *c) { return c->fp8 ? c->fp8->last_outer : -1; }

void vnp_cuda_fp8_set_outer(vnp_cuda *c, int on)
{
    vnp_cuda_fp8_free(c); /* plans are remade with the new choice */
    if (!on && (c->fp8 = (struct vnp_cuda_fp8 *)calloc(1, sizeof *c->fp8))) c->fp8->outer_refused = 1;
}

void vnp_cuda_fp8_gemm(vnp_cuda *c, vnp_cuda_dtype dt, void *y, const void *x8, const float *xs, const void *w8,
                       const float *ws, const void *b, int m, int n, int k, int accumulate)
{
    if (m <= 0 || n <= 0 || k <= 0) return;
    if (k % 16 || n % 16) {
        vnp_cuda_fail(c, "fp8 gemm: n (%d) and k (%d) must be multiples of 16", n, k);
        return;
    }
    fp8_plan *p = plan_get(c, dt, m, n, k, accumulate, b != NULL);
    if (!p) return;
    struct vnp_cuda_fp8 *f = c->fp8;
    f->last_outer = p->outer;
    float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    cublasStatus_t s;
    if (p->outer) {
        s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &ws, sizeof ws);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &xs, sizeof xs);
        if (s == CUBLAS_STATUS_SUCCESS && b)
            s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b, sizeof b);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmul(c->lt, p->op, &alpha, w8, p->la, x8, p->lb, &beta, y, p->lc, y, p->lc, &p->algo,
                               c->workspace, c->workspace_bytes, c->stream);
    } else {
        size_t need = (size_t)m * (size_t)n;
        if (need > f->scratch_n) {
            cudaFree(f->scratch);
            f->scratch = NULL;
            f->scratch_n = 0;
            if (cudaMalloc(&f->scratch, need * sizeof(float)) != cudaSuccess) {
                cudaGetLastError();
                vnp_cuda_fail(c, "fp8 gemm: cannot allocate %.1f MB of accumulator", (double)need * 4 / 1e6);
                return;
            }
            f->scratch_n = need;
        }
        float zero = 0.0f;
        s = cublasLtMatmul(c->lt, p->op, &alpha, w8, p->la, x8, p->lb, &zero, f->scratch, p->lc, f->scratch, p->lc,
                           &p->algo, c->workspace, c->workspace_bytes, c->stream);
        if (s == CUBLAS_STATUS_SUCCESS) {
            unsigned grid = vnp_cuda_blocks(need, 256, 132 * 16);
            if (dt == VNP_CUDA_F16)
                scale_epilogue_kernel<__half><<<grid, 256, 0, c->stream>>>((__half *)y, f->scratch, xs, ws,
                                                                           (const __half *)b, m, n, accumulate);
            else
                scale_epilogue_kernel<float><<<grid, 256, 0, c->stream>>>((float *)y, f->scratch, xs, ws,
                                                                          (const float *)b, m, n, accumulate);
            vnp_cuda_check_launch(c, "fp8 scale epilogue");
        }
    }
    if (s != CUBLAS_STATUS_SUCCESS) vnp_cuda_fail(c, "cublasLtMatmul fp8 %dx%dx%d: status %d", m, n, k, (int)s);
}

int vnp_cuda_fp8_capable(vnp_cuda *c, int *major, int *minor)
{
    int ma = 0, mi = 0;
    if (cudaDeviceGetAttribute(&ma, cudaDevAttrComputeCapabilityMajor, c->device) != cudaSuccess ||
        cudaDeviceGetAttribute(&mi, cudaDevAttrComputeCapabilityMinor, c->device) != cudaSuccess) {
        cudaGetLastError();
        ma = mi = 0;
    }
    if (major) *major = ma;
    if (minor) *minor = mi;
    return ma > 8 || (ma == 8 && mi >= 9);
}
