/* Shared by the CUDA backend's files: the context struct, error recording, and the element-type helpers that let
 * one kernel template serve FP16 and FP32 activations. */
#ifndef VNP_CUDA_INTERNAL_CUH
#define VNP_CUDA_INTERNAL_CUH

#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdio.h>

extern "C" {
#include "vnp/backend_cuda.h"
}

#define VNP_CUDA_PLANS 64
/* plan_mode of batch invariance: one algorithm per (n, k), chosen by the heuristic for VNP_CUDA_PLAN_M rows */
#define VNP_CUDA_PLANS_INVARIANT 2
#define VNP_CUDA_PLAN_M 16384

/* One cached cuBLASLt matmul: descriptors and the algorithm the heuristic chose for this shape and alignment. mkey
 * is the m the plan is found by (m itself, or its bucket); m is the row count its layouts describe now. */
typedef struct {
    int used;
    int dt, mkey, m, n, k, epi, acc, align;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
} vnp_cuda_plan;

struct vnp_cuda {
    int device;
    char name[256];
    cudaStream_t stream;
    cublasLtHandle_t lt;
    void *workspace; /* cuBLASLt workspace */
    size_t workspace_bytes;
    int *flag;      /* device int: non-zero once a checked tensor was not finite */
    char err[512];  /* first error since the last sync */
    int tune;       /* time the heuristic's candidates when a GEMM plan is made */
    int plan_mode;  /* 0: a plan per exact m; 1: per power-of-two bucket of m; 2 (default): one per (n, k) whatever
                     * m, batch invariance (vnp_cuda_set_gemm_plans) */
    long variant_plans; /* row counts the invariant algorithm refused (vnp_cuda_variant_plans) */
    struct vnp_cuda_prof *prof; /* per-op timing, NULL unless enabled */
    struct vnp_cuda_fp8 *fp8;   /* FP8 GEMM plans and scratch (cuda_fp8.cu), NULL until first used */
    int nplans;
    vnp_cuda_plan plans[VNP_CUDA_PLANS];
};

/* Records the first error (later ones are dropped: the first is the cause). */
void vnp_cuda_fail(vnp_cuda *c, const char *fmt, ...);
/* Records a failed launch; returns 1 when the last launch failed. */
int vnp_cuda_check_launch(vnp_cuda *c, const char *what);

static inline unsigned vnp_cuda_blocks(size_t n, unsigned threads, unsigned cap)
{
    size_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    return b > cap ? cap : (unsigned)b;
}

/* ---- element types: load/store one value or eight consecutive values as floats ---- */

template <typename T> __device__ __forceinline__ float vnp_ld(const T *p);
template <> __device__ __forceinline__ float vnp_ld<float>(const float *p) { return *p; }
template <> __device__ __forceinline__ float vnp_ld<__half>(const __half *p) { return __half2float(*p); }

template <typename T> __device__ __forceinline__ void vnp_st(T *p, float v);
template <> __device__ __forceinline__ void vnp_st<float>(float *p, float v) { *p = v; }
template <> __device__ __forceinline__ void vnp_st<__half>(__half *p, float v) { *p = __float2half_rn(v); }

/* Eight consecutive elements (16 bytes of FP16, 32 of FP32); p must be 16-byte aligned. */
template <typename T> __device__ __forceinline__ void vnp_ld8(const T *p, float v[8]);
template <> __device__ __forceinline__ void vnp_ld8<float>(const float *p, float v[8])
{
    float4 a = reinterpret_cast<const float4 *>(p)[0], b = reinterpret_cast<const float4 *>(p)[1];
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
    v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
}
template <> __device__ __forceinline__ void vnp_ld8<__half>(const __half *p, float v[8])
{
    uint4 u = *reinterpret_cast<const uint4 *>(p);
    const __half2 *h = reinterpret_cast<const __half2 *>(&u);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float2 f = __half22float2(h[i]);
        v[2 * i] = f.x;
        v[2 * i + 1] = f.y;
    }
}

template <typename T> __device__ __forceinline__ void vnp_st8(T *p, const float v[8]);
template <> __device__ __forceinline__ void vnp_st8<float>(float *p, const float v[8])
{
    reinterpret_cast<float4 *>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
    reinterpret_cast<float4 *>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}
template <> __device__ __forceinline__ void vnp_st8<__half>(__half *p, const float v[8])
{
    uint4 u;
    __half2 *h = reinterpret_cast<__half2 *>(&u);
#pragma unroll
    for (int i = 0; i < 4; i++) h[i] = __floats2half2_rn(v[2 * i], v[2 * i + 1]);
    *reinterpret_cast<uint4 *>(p) = u;
}

/* 1 when p is aligned for vnp_ld8/vnp_st8 (16-byte accesses in both types). */
static inline int vnp_aligned16(const void *p) { return ((uintptr_t)p % 16) == 0; }

/* The exact-erf GELU of the spec: (x * 0.5) * (1 + erf(x / sqrt(2))). */
__device__ __forceinline__ float vnp_gelu_dev(float x) { return (x * 0.5f) * (1.0f + erff(x / 1.41421356f)); }

/* GELU through the branch-free erfc form of Abramowitz & Stegun 7.1.26 (|error| <= 0.75e-7 |x|): the FP16 pass's
 * default and the FP8 GELU + quantize pass's (cuda_ops.cu says why). */
__device__ __forceinline__ float vnp_gelu_as(float x)
{
    const float z = fabsf(x) * 0.70710678118654752f;
    const float t = __fdividef(1.0f, fmaf(0.3275911f, z, 1.0f));
    const float p = t * fmaf(t, fmaf(t, fmaf(t, fmaf(t, 1.061405429f, -1.453152027f), 1.421413741f), -0.284496736f),
                             0.254829592f);
    const float half_erfc = 0.5f * p * __expf(-z * z); /* erfc(|x|/sqrt 2) / 2 */
    return x * (x >= 0.0f ? 1.0f - half_erfc : half_erfc);
}

/* The sequence owning packed row t: the last s with cu[s] <= t (cu has nseq+1 entries). */
__device__ __forceinline__ int vnp_seq_of_row(const int32_t *cu, int nseq, int t)
{
    int lo = 0, hi = nseq - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (__ldg(cu + mid) <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

#endif
