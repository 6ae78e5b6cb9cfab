/* The FP8 path of the CUDA backend: per-row quantization of weights and activations into E4M3 bytes and one FP32
 * scale per row (plain rows, LayerNorm with the residual add of the previous GEMM folded in, GELU of the previous
 * GEMM), the FP8 GEMM through cuBLASLt writing z = 2^-18 x8 W8^T in FP16, and the pass that turns such a z into
 * values (row scale x column scale x 2^18 x z + bias, + y). Scales are applied by the kernels that read the GEMM's
 * output, not by cuBLASLt: CUDA 13.0's cuBLASLt offered no algorithm with per-row/per-column ("outer vector") scales
 * on an H200 (issue 14 device run 1), and the FP32-accumulator-plus-epilogue pass that replaced it cost more than the
 * FP8 GEMMs saved. */
#include "cuda_internal.cuh"

#include <cuda_fp8.h>
#include <stdlib.h>
#include <string.h>

/* Rows are quantized as q = sat(x * (448 / amax)) rounded to nearest even, with scale amax / 448 (1 for a row of
 * zeros): the same arithmetic as the CPU reference vnp_fp8_quantize_row, so tests can compare bytes. */
#define FP8_MAX 448.0f
/* The GEMM writes 2^-18 of its FP32 sum (an exact power-of-two scaling): |sum| <= k * 448^2, so |z| <= 0.77 k, inside
 * FP16's range for every k up to 65536, and with FP16's relative precision for all but negligible values. */
#define Z_SHIFT 3.814697265625e-06f /* 2^-18 */
#define Z_UNSHIFT 262144.0f         /* 2^18 */

__device__ __forceinline__ unsigned char q8(float v)
{
    return (unsigned char)__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3);
}

/* max that keeps a NaN (fmaxf drops it), so a NaN row gets a NaN scale that the final LayerNorm check catches */
__device__ __forceinline__ float nan_max(float a, float b) { return (a != a || a > b) ? a : b; }

/* Reductions over the TPR threads of one row: a warp (TPR 32, no barrier) or the whole block (TPR = blockDim.x). */
template <int TPR, bool MAX> __device__ __forceinline__ float row_reduce(float v, float *red)
{
#pragma unroll
    for (int o = 16; o; o >>= 1) {
        float t = __shfl_xor_sync(0xffffffffu, v, o);
        v = MAX ? nan_max(v, t) : v + t;
    }
    if (TPR == 32) return v;
    __syncthreads(); /* red may still be read by the previous reduction */
    if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = v;
    __syncthreads();
    float t = red[0];
    for (int i = 1; i < TPR / 32; i++) t = MAX ? nan_max(t, red[i]) : t + red[i];
    return t;
}

/* v rounded to the element type (the residual stream as it is stored) */
template <typename T> __device__ __forceinline__ float round_to(float v);
template <> __device__ __forceinline__ float round_to<float>(float v) { return v; }
template <> __device__ __forceinline__ float round_to<__half>(float v) { return __half2float(__float2half_rn(v)); }

/* v[8] += the values of GEMM output g at row r, columns c..c+7: zs[r] * ws[c] * 2^18 * z + b */
template <typename T>
__device__ __forceinline__ void add_gemm8(float v[8], const vnp_cuda_q8out &g, size_t r, int n, int c)
{
    float z[8], b[8];
    vnp_ld8((const T *)g.z + r * (size_t)n + c, z);
    if (g.b) vnp_ld8((const T *)g.b + c, b);
    float4 w0 = reinterpret_cast<const float4 *>(g.ws + c)[0], w1 = reinterpret_cast<const float4 *>(g.ws + c)[1];
    float w[8] = {w0.x, w0.y, w0.z, w0.w, w1.x, w1.y, w1.z, w1.w}, s = g.zs[r] * Z_UNSHIFT;
#pragma unroll
    for (int j = 0; j < 8; j++) v[j] += s * w[j] * z[j] + (g.b ? b[j] : 0.0f);
}

/* One row per TPR threads (a warp, 8 rows per block; or the block), the row in registers (d % 8 == 0, d <= TPR * 8
 * * MAXV). MODE 0: quantize x; 1: LayerNorm of x (+ the residual GEMM output res, x updated) then quantize; 2:
 * GELU of the GEMM output res, then quantize. */
template <typename T, int TPR, int MAXV, int MODE>
__global__ void __launch_bounds__(256) rows_q8_kernel(unsigned char *y8, float *ys, T *x, size_t ldx,
                                                      vnp_cuda_q8out res, const T *w, const T *b, int rows, int d,
                                                      float eps)
{
    __shared__ float red[32];
    int row = blockIdx.x * (blockDim.x / TPR) + threadIdx.x / TPR, lane = threadIdx.x % TPR;
    if (row >= rows) return; /* TPR 32 only: a block-wide row always exists */
    int nvec = d / 8;
    size_t r = (size_t)row;
    float v[MAXV][8];
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < MAXV; i++) {
        int c = (i * TPR + lane) * 8;
        if (i * TPR + lane < nvec) {
            if (MODE == 2) {
#pragma unroll
                for (int j = 0; j < 8; j++) v[i][j] = 0.0f;
                add_gemm8<T>(v[i], res, r, d, c);
#pragma unroll
                for (int j = 0; j < 8; j++) v[i][j] = vnp_gelu_as(v[i][j]);
            } else {
                vnp_ld8(x + r * ldx + c, v[i]);
                if (MODE == 1 && res.z) {
                    add_gemm8<T>(v[i], res, r, d, c);
#pragma unroll
                    for (int j = 0; j < 8; j++) v[i][j] = round_to<T>(v[i][j]); /* the stream as stored */
                    vnp_st8(x + r * ldx + c, v[i]);
                }
            }
#pragma unroll
            for (int j = 0; j < 8; j++) s += v[i][j];
        }
    }
    if (MODE == 1) {
        float mean = row_reduce<TPR, false>(s, red) / (float)d, q = 0.0f;
#pragma unroll
        for (int i = 0; i < MAXV; i++)
            if (i * TPR + lane < nvec)
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    float t = v[i][j] - mean;
                    q += t * t;
                }
        float rstd = 1.0f / sqrtf(row_reduce<TPR, false>(q, red) / (float)d + eps);
#pragma unroll
        for (int i = 0; i < MAXV; i++) {
            int c = (i * TPR + lane) * 8;
            if (i * TPR + lane < nvec) {
                float ww[8], bb[8];
                vnp_ld8(w + c, ww);
                vnp_ld8(b + c, bb);
#pragma unroll
                for (int j = 0; j < 8; j++) v[i][j] = (v[i][j] - mean) * rstd * ww[j] + bb[j];
            }
        }
    }
    float m = 0.0f;
#pragma unroll
    for (int i = 0; i < MAXV; i++)
        if (i * TPR + lane < nvec)
#pragma unroll
            for (int j = 0; j < 8; j++) m = nan_max(fabsf(v[i][j]), m);
    float amax = row_reduce<TPR, true>(m, red);
    float inv = amax > 0.0f ? FP8_MAX / amax : 1.0f;
#pragma unroll
    for (int i = 0; i < MAXV; i++) {
        int c = (i * TPR + lane) * 8;
        if (i * TPR + lane < nvec) {
            uint2 q;
            q.x = (uint32_t)q8(v[i][0] * inv) | (uint32_t)q8(v[i][1] * inv) << 8 | (uint32_t)q8(v[i][2] * inv) << 16 |
                  (uint32_t)q8(v[i][3] * inv) << 24;
            q.y = (uint32_t)q8(v[i][4] * inv) | (uint32_t)q8(v[i][5] * inv) << 8 | (uint32_t)q8(v[i][6] * inv) << 16 |
                  (uint32_t)q8(v[i][7] * inv) << 24;
            *reinterpret_cast<uint2 *>(y8 + r * (size_t)d + c) = q;
        }
    }
    if (lane == 0) ys[row] = amax > 0.0f ? amax / FP8_MAX : (amax == amax ? 1.0f : amax);
}

/* Any d (one block per row, the row in shared memory, element by element): the same three modes. */
template <typename T, int MODE>
__global__ void __launch_bounds__(256) rows_q8_any_kernel(unsigned char *y8, float *ys, T *x, size_t ldx,
                                                          vnp_cuda_q8out res, const T *w, const T *b, int d, float eps)
{
    extern __shared__ float row[];
    __shared__ float red[32];
    size_t r = blockIdx.x;
    const T *z = (const T *)res.z;
    float zs = res.z ? res.zs[r] * Z_UNSHIFT : 0.0f;
    float s = 0.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float v = MODE == 2 ? 0.0f : vnp_ld(x + r * ldx + c);
        if (res.z) {
            v += zs * res.ws[c] * vnp_ld(z + r * (size_t)d + c) + (res.b ? vnp_ld((const T *)res.b + c) : 0.0f);
            if (MODE == 1) {
                v = round_to<T>(v);
                vnp_st(x + r * ldx + c, v);
            }
        }
        if (MODE == 2) v = vnp_gelu_as(v);
        row[c] = v;
        s += v;
    }
    if (MODE == 1) {
        float mean = row_reduce<256, false>(s, red) / (float)d, q = 0.0f;
        for (int c = threadIdx.x; c < d; c += blockDim.x) q += (row[c] - mean) * (row[c] - mean);
        float rstd = 1.0f / sqrtf(row_reduce<256, false>(q, red) / (float)d + eps);
        for (int c = threadIdx.x; c < d; c += blockDim.x)
            row[c] = (row[c] - mean) * rstd * vnp_ld(w + c) + vnp_ld(b + c);
    }
    float m = 0.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) m = nan_max(fabsf(row[c]), m);
    float amax = row_reduce<256, true>(m, red); /* its barriers also order the row[] writes above */
    float inv = amax > 0.0f ? FP8_MAX / amax : 1.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) y8[r * (size_t)d + c] = q8(row[c] * inv);
    if (threadIdx.x == 0) ys[r] = amax > 0.0f ? amax / FP8_MAX : (amax == amax ? 1.0f : amax);
}

template <typename T, int MODE>
static void rows_q8(vnp_cuda *c, unsigned char *y8, float *ys, T *x, size_t ldx, const vnp_cuda_q8out *res,
                    const T *w, const T *b, int rows, int d, float eps, const char *what)
{
    if (rows <= 0 || d <= 0) return;
    vnp_cuda_q8out g = res ? *res : vnp_cuda_q8out{NULL, NULL, NULL, NULL};
    int nvec = d / 8;
    int vec = d % 8 == 0 && (!x || (vnp_aligned16(x) && (ldx * sizeof(T)) % 16 == 0)) &&
              (!g.z || (vnp_aligned16(g.z) && vnp_aligned16(g.ws) && (!g.b || vnp_aligned16(g.b)))) &&
              (!w || (vnp_aligned16(w) && vnp_aligned16(b)));
    unsigned warps = (unsigned)((rows + 7) / 8);
    if (vec && nvec <= 32 * 4)
        rows_q8_kernel<T, 32, 4, MODE><<<warps, 256, 0, c->stream>>>(y8, ys, x, ldx, g, w, b, rows, d, eps);
    else if (vec && nvec <= 32 * 10) /* ESM-2 3B's 2560 */
        rows_q8_kernel<T, 32, 10, MODE><<<warps, 256, 0, c->stream>>>(y8, ys, x, ldx, g, w, b, rows, d, eps);
    else if (vec && nvec <= 256 * 5) /* ESM-2 3B's FFN 10240 */
        rows_q8_kernel<T, 256, 5, MODE><<<rows, 256, 0, c->stream>>>(y8, ys, x, ldx, g, w, b, rows, d, eps);
    else if (vec && nvec <= 256 * 8)
        rows_q8_kernel<T, 256, 8, MODE><<<rows, 256, 0, c->stream>>>(y8, ys, x, ldx, g, w, b, rows, d, eps);
    else {
        size_t smem = (size_t)d * sizeof(float);
        if (smem > 200 * 1024) {
            vnp_cuda_fail(c, "%s: rows of %d elements do not fit in shared memory", what, d);
            return;
        }
        if (smem > 48 * 1024 &&
            cudaFuncSetAttribute(rows_q8_any_kernel<T, MODE>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 (int)smem) != cudaSuccess) {
            cudaGetLastError();
            vnp_cuda_fail(c, "%s: cannot raise shared memory to %zu bytes", what, smem);
            return;
        }
        rows_q8_any_kernel<T, MODE><<<rows, 256, smem, c->stream>>>(y8, ys, x, ldx, g, w, b, d, eps);
    }
    vnp_cuda_check_launch(c, what);
}

void vnp_cuda_fp8_quant_rows(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, const void *x, int rows, int d,
                             size_t ldx)
{
    if (dt == VNP_CUDA_F16)
        rows_q8<__half, 0>(c, (unsigned char *)y8, ys, (__half *)x, ldx, NULL, NULL, NULL, rows, d, 0.0f,
                           "fp8 quantize rows");
    else
        rows_q8<float, 0>(c, (unsigned char *)y8, ys, (float *)x, ldx, NULL, NULL, NULL, rows, d, 0.0f,
                          "fp8 quantize rows");
}

void vnp_cuda_fp8_layernorm(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, void *x, const vnp_cuda_q8out *res,
                            const void *w, const void *b, int rows, int d, float eps)
{
    if (dt == VNP_CUDA_F16)
        rows_q8<__half, 1>(c, (unsigned char *)y8, ys, (__half *)x, (size_t)d, res, (const __half *)w,
                           (const __half *)b, rows, d, eps, "fp8 layernorm");
    else
        rows_q8<float, 1>(c, (unsigned char *)y8, ys, (float *)x, (size_t)d, res, (const float *)w, (const float *)b,
                          rows, d, eps, "fp8 layernorm");
}

void vnp_cuda_fp8_gelu(vnp_cuda *c, vnp_cuda_dtype dt, void *y8, float *ys, const vnp_cuda_q8out *g, int rows, int n)
{
    if (!g || !g->z) {
        vnp_cuda_fail(c, "fp8 gelu: no GEMM output");
        return;
    }
    if (dt == VNP_CUDA_F16)
        rows_q8<__half, 2>(c, (unsigned char *)y8, ys, NULL, 0, g, NULL, NULL, rows, n, 0.0f, "fp8 gelu");
    else
        rows_q8<float, 2>(c, (unsigned char *)y8, ys, NULL, 0, g, NULL, NULL, rows, n, 0.0f, "fp8 gelu");
}

/* y = zs[r] * ws[c] * 2^18 * z (+ b[c]) (+ y); y may be z. */
template <typename T>
__global__ void dequant_kernel(T *y, vnp_cuda_q8out g, int rows, int n, int add, int vec)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    const T *z = (const T *)g.z, *b = (const T *)g.b;
    if (vec) {
        size_t per = (size_t)n / 8, nv = (size_t)rows * per;
        for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < nv; i += stride) {
            size_t r = i / per;
            int c = (int)(i % per) * 8;
            float v[8];
            if (add)
                vnp_ld8(y + r * (size_t)n + c, v);
            else
#pragma unroll
                for (int j = 0; j < 8; j++) v[j] = 0.0f;
            add_gemm8<T>(v, g, r, n, c);
            vnp_st8(y + r * (size_t)n + c, v);
        }
    } else {
        for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)rows * n; i += stride) {
            size_t r = i / (size_t)n;
            int c = (int)(i % (size_t)n);
            float v = g.zs[r] * Z_UNSHIFT * g.ws[c] * vnp_ld(z + i) + (b ? vnp_ld(b + c) : 0.0f);
            vnp_st(y + i, v + (add ? vnp_ld(y + i) : 0.0f));
        }
    }
}

void vnp_cuda_fp8_dequant(vnp_cuda *c, vnp_cuda_dtype dt, void *y, const vnp_cuda_q8out *g, int rows, int n, int add)
{
    if (rows <= 0 || n <= 0) return;
    int vec = n % 8 == 0 && vnp_aligned16(y) && vnp_aligned16(g->z) && vnp_aligned16(g->ws) &&
              (!g->b || vnp_aligned16(g->b));
    size_t work = (size_t)rows * n / (vec ? 8 : 1);
    unsigned grid = vnp_cuda_blocks(work, 256, 132 * 16);
    if (dt == VNP_CUDA_F16)
        dequant_kernel<__half><<<grid, 256, 0, c->stream>>>((__half *)y, *g, rows, n, add, vec);
    else
        dequant_kernel<float><<<grid, 256, 0, c->stream>>>((float *)y, *g, rows, n, add, vec);
    vnp_cuda_check_launch(c, "fp8 dequantize");
}

/* ---------------------------------------------------------------- GEMM */

#define FP8_PLANS 32

typedef struct {
    int m, n, k, dt;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
} fp8_plan;

struct vnp_cuda_fp8 {
    int nplans;
    fp8_plan plans[FP8_PLANS];
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
    free(c->fp8);
    c->fp8 = NULL;
}

/* Descriptors and the heuristic's first algorithm: A = W8 (k x n, used transposed), B = x8 (k x m), both E4M3 and
 * K-major (the "TN" layout FP8 needs), D = z in the element type; 0 on success. */
static int plan_build(vnp_cuda *c, fp8_plan *p)
{
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cudaDataType_t out_t = p->dt == VNP_CUDA_F16 ? CUDA_R_16F : CUDA_R_32F;
    cublasStatus_t s = cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->la, CUDA_R_8F_E4M3, p->k, p->n, p->k);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->lb, CUDA_R_8F_E4M3, p->k, p->m, p->k);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->lc, out_t, p->n, p->m, p->n);
    if (s != CUBLAS_STATUS_SUCCESS) {
        vnp_cuda_fail(c, "cuBLASLt FP8 descriptors for %dx%dx%d: status %d", p->m, p->n, p->k, (int)s);
        return -1;
    }
    cublasLtMatmulPreference_t pref;
    if (cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS) return -1;
    uint64_t ws = c->workspace_bytes;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t r;
    int found = 0;
    s = cublasLtMatmulAlgoGetHeuristic(c->lt, p->op, p->la, p->lb, p->lc, p->lc, pref, 1, &r, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (s != CUBLAS_STATUS_SUCCESS || found < 1) {
        vnp_cuda_fail(c, "cuBLASLt has no FP8 (E4M3) algorithm for %dx%dx%d on %s: status %d", p->m, p->n, p->k,
                      c->name, (int)s);
        return -1;
    }
    p->algo = r.algo;
    return 0;
}

static fp8_plan *plan_get(vnp_cuda *c, vnp_cuda_dtype dt, int m, int n, int k)
{
    if (!c->fp8 && !(c->fp8 = (struct vnp_cuda_fp8 *)calloc(1, sizeof *c->fp8))) {
        vnp_cuda_fail(c, "fp8: out of host memory");
        return NULL;
    }
    struct vnp_cuda_fp8 *f = c->fp8;
    for (int i = 0; i < f->nplans; i++) {
        fp8_plan *p = &f->plans[i];
        if (p->m == m && p->n == n && p->k == k && p->dt == (int)dt) return p;
    }
    if (f->nplans == FP8_PLANS) { /* a new batch shape: drop the oldest */
        plan_free(&f->plans[0]);
        memmove(&f->plans[0], &f->plans[1], (FP8_PLANS - 1) * sizeof f->plans[0]);
        memset(&f->plans[FP8_PLANS - 1], 0, sizeof f->plans[0]);
        f->nplans--;
    }
    fp8_plan *p = &f->plans[f->nplans];
    memset(p, 0, sizeof *p);
    p->m = m; p->n = n; p->k = k; p->dt = (int)dt;
    if (plan_build(c, p)) {
        plan_free(p);
        return NULL;
    }
    f->nplans++;
    return p;
}

void vnp_cuda_fp8_gemm(vnp_cuda *c, vnp_cuda_dtype dt, void *z, const void *x8, const void *w8, int m, int n, int k)
{
    if (m <= 0 || n <= 0 || k <= 0) return;
    if (k % 16 || n % 16) {
        vnp_cuda_fail(c, "fp8 gemm: n (%d) and k (%d) must be multiples of 16", n, k);
        return;
    }
    fp8_plan *p = plan_get(c, dt, m, n, k);
    if (!p) return;
    float alpha = Z_SHIFT, beta = 0.0f;
    cublasStatus_t s = cublasLtMatmul(c->lt, p->op, &alpha, w8, p->la, x8, p->lb, &beta, z, p->lc, z, p->lc, &p->algo,
                                      c->workspace, c->workspace_bytes, c->stream);
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
