/* The memory-bound ops of the CUDA backend: fused residual + LayerNorm, bias + GELU, gated GELU, rotary tables
 * and rotation, mean pooling into FP32, the embedding gather, type conversion and the non-finite check. Each is one
 * template over the element type; the math is FP32 in registers. */
#include "cuda_internal.cuh"

/* ---------------------------------------------------------------- LayerNorm */

/* One warp per row, the row held in registers (d % 8 == 0, d <= 32 * 8 * MAXV): two passes over registers give
 * the mean and the centred variance without re-reading memory. */
template <typename T, int MAXV>
__global__ void __launch_bounds__(256) ln_warp_kernel(T *y, T *sum, const T *x, const T *r, const T *w, const T *b,
                                                      int rows, int d, float eps, int *flag)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (row >= rows) return;
    int nvec = d / 8;
    size_t off = (size_t)row * d;
    float v[MAXV][8];
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < MAXV; i++) {
        int c = (i * 32 + lane) * 8;
        if (i * 32 + lane < nvec) {
            vnp_ld8(x + off + c, v[i]);
            if (r) {
                float t[8];
                vnp_ld8(r + off + c, t);
#pragma unroll
                for (int j = 0; j < 8; j++) v[i][j] += t[j];
            }
#pragma unroll
            for (int j = 0; j < 8; j++) s += v[i][j];
        }
    }
#pragma unroll
    for (int o = 16; o; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    float mean = s / (float)d, q = 0.0f;
#pragma unroll
    for (int i = 0; i < MAXV; i++)
        if (i * 32 + lane < nvec)
#pragma unroll
            for (int j = 0; j < 8; j++) {
                float t = v[i][j] - mean;
                q += t * t;
            }
#pragma unroll
    for (int o = 16; o; o >>= 1) q += __shfl_xor_sync(0xffffffffu, q, o);
    float rstd = 1.0f / sqrtf(q / (float)d + eps);
    int bad = 0;
#pragma unroll
    for (int i = 0; i < MAXV; i++) {
        int c = (i * 32 + lane) * 8;
        if (i * 32 + lane < nvec) {
            if (sum) vnp_st8(sum + off + c, v[i]); /* after every read of this row's x and r by this lane */
            float ww[8], bb[8], o[8];
            vnp_ld8(w + c, ww);
            vnp_ld8(b + c, bb);
#pragma unroll
            for (int j = 0; j < 8; j++) {
                o[j] = (v[i][j] - mean) * rstd * ww[j] + bb[j];
                bad |= !isfinite(o[j]);
            }
            vnp_st8(y + off + c, o);
        }
    }
    if (__any_sync(0xffffffffu, bad) && lane == 0) atomicOr(flag, 1);
}

/* Any d: one block per row, three passes over global memory (sum, centred sum of squares, output). */
template <typename T>
__global__ void __launch_bounds__(256) ln_block_kernel(T *y, T *sum, const T *x, const T *r, const T *w, const T *b,
                                                       int rows, int d, float eps, int *flag)
{
    __shared__ float red[32];
    int row = blockIdx.x;
    size_t off = (size_t)row * d;
    float s = 0.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) s += vnp_ld(x + off + c) + (r ? vnp_ld(r + off + c) : 0.0f);
    auto block_sum = [&](float v) {
#pragma unroll
        for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        __syncthreads();
        if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = v;
        __syncthreads();
        float t = 0.0f;
        for (int i = 0; i < (int)(blockDim.x / 32); i++) t += red[i];
        return t;
    };
    float mean = block_sum(s) / (float)d, q = 0.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float t = vnp_ld(x + off + c) + (r ? vnp_ld(r + off + c) : 0.0f) - mean;
        q += t * t;
    }
    float rstd = 1.0f / sqrtf(block_sum(q) / (float)d + eps);
    int bad = 0;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float v = vnp_ld(x + off + c) + (r ? vnp_ld(r + off + c) : 0.0f);
        if (sum) vnp_st(sum + off + c, v); /* same thread read x[c], r[c] just now: in-place safe */
        float o = (v - mean) * rstd * vnp_ld(w + c) + vnp_ld(b + c);
        bad |= !isfinite(o);
        vnp_st(y + off + c, o);
    }
    if (bad) atomicOr(flag, 1);
}

template <typename T>
static void layernorm_t(vnp_cuda *c, T *y, T *sum, const T *x, const T *r, const T *w, const T *b, int rows, int d,
                        float eps)
{
    int vec = d % 8 == 0 && vnp_aligned16(y) && vnp_aligned16(x) && vnp_aligned16(w) && vnp_aligned16(b) &&
              (!r || vnp_aligned16(r)) && (!sum || vnp_aligned16(sum)) && (d * sizeof(T)) % 16 == 0;
    unsigned grid = (unsigned)((rows + 7) / 8);
    if (vec && d <= 32 * 8 * 4)
        ln_warp_kernel<T, 4><<<grid, 256, 0, c->stream>>>(y, sum, x, r, w, b, rows, d, eps, c->flag);
    else if (vec && d <= 32 * 8 * 10) /* ESM-2 3B's 2560 without the registers of the largest case */
        ln_warp_kernel<T, 10><<<grid, 256, 0, c->stream>>>(y, sum, x, r, w, b, rows, d, eps, c->flag);
    else if (vec && d <= 32 * 8 * 16)
        ln_warp_kernel<T, 16><<<grid, 256, 0, c->stream>>>(y, sum, x, r, w, b, rows, d, eps, c->flag);
    else
        ln_block_kernel<T><<<rows, 256, 0, c->stream>>>(y, sum, x, r, w, b, rows, d, eps, c->flag);
    vnp_cuda_check_launch(c, "layernorm");
}

void vnp_cuda_layernorm(vnp_cuda *c, vnp_cuda_dtype dt, void *y, void *sum, const void *x, const void *r,
                        const void *w, const void *b, int rows, int d, float eps)
{
    if (rows <= 0 || d <= 0) return;
    if (dt == VNP_CUDA_F16)
        layernorm_t(c, (__half *)y, (__half *)sum, (const __half *)x, (const __half *)r, (const __half *)w,
                    (const __half *)b, rows, d, eps);
    else
        layernorm_t(c, (float *)y, (float *)sum, (const float *)x, (const float *)r, (const float *)w,
                    (const float *)b, rows, d, eps);
}

/* ---------------------------------------------------------------- GELU */

/* GELU of the pass kernels, by MODE: 1 (EXACT) divides by sqrt(2) as the spec writes it (FP32 results bit-close
 * to PyTorch); 0 multiplies by 1/sqrt(2), cheaper and within FP16 rounding of the same value; 2 replaces erff
 * (two branches, which random data sends every warp down) by the branch-free erfc form of Abramowitz & Stegun
 * 7.1.26 (|error of erf| <= 1.5e-7, so |error| <= 0.75e-7 |x|, far below FP16 rounding), one reciprocal and one
 * exponential on the special-function unit: fewer instructions for a pass that runs at the SM clock. */
#define GELU_EXACT 1
template <int MODE> __device__ __forceinline__ float gelu_pass(float x)
{
    if (MODE == GELU_EXACT) return vnp_gelu_dev(x);
    if (MODE == 0) return (x * 0.5f) * (1.0f + erff(x * 0.70710678118654752f));
    return vnp_gelu_as(x);
}

/* Two 8-element vectors per thread and step: the erf is most of the cost, so independent work hides it. */
template <typename T, int MODE>
__global__ void bias_gelu_vec_kernel(T *x, const T *b, int rows, int n)
{
    size_t per_row = n / 8, nv = (size_t)rows * per_row, stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < nv; i += 2 * stride) {
        float v[2][8], bb[2][8];
#pragma unroll
        for (int u = 0; u < 2; u++) {
            size_t k = i + u * stride;
            if (k < nv) {
                vnp_ld8(x + k * 8, v[u]);
                if (b) vnp_ld8(b + (k % per_row) * 8, bb[u]);
            }
        }
#pragma unroll
        for (int u = 0; u < 2; u++) {
            size_t k = i + u * stride;
            if (k < nv) {
#pragma unroll
                for (int j = 0; j < 8; j++) v[u][j] = gelu_pass<MODE>(b ? v[u][j] + bb[u][j] : v[u][j]);
                vnp_st8(x + k * 8, v[u]);
            }
        }
    }
}

template <typename T>
__global__ void bias_gelu_kernel(T *x, const T *b, int rows, int n)
{
    size_t total = (size_t)rows * n;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float v = vnp_ld(x + i);
        if (b) v += vnp_ld(b + i % n);
        vnp_st(x + i, vnp_gelu_dev(v));
    }
}

template <typename T>
static void bias_gelu_t(vnp_cuda *c, int mode, T *x, const T *b, int rows, int n)
{
    size_t total = (size_t)rows * n;
    unsigned grid = vnp_cuda_blocks(total / 16, 256, 132 * 16);
    if (n % 8 == 0 && vnp_aligned16(x) && (!b || vnp_aligned16(b))) {
        if (mode == GELU_EXACT)
            bias_gelu_vec_kernel<T, GELU_EXACT><<<grid, 256, 0, c->stream>>>(x, b, rows, n);
        else
            bias_gelu_vec_kernel<T, 2><<<grid, 256, 0, c->stream>>>(x, b, rows, n);
    } else {
        bias_gelu_kernel<T><<<vnp_cuda_blocks(total, 256, 65535), 256, 0, c->stream>>>(x, b, rows, n);
    }
    vnp_cuda_check_launch(c, "bias_gelu");
}

/* FP16: the branch-free A&S pass (2), measured -5 to -10% against erff (docs/gpu-notes.md); FP32: the exact one. */
void vnp_cuda_bias_gelu(vnp_cuda *c, vnp_cuda_dtype dt, void *x, const void *b, int rows, int n)
{
    if (rows <= 0 || n <= 0) return;
    if (dt == VNP_CUDA_F16)
        bias_gelu_t(c, 2, (__half *)x, (const __half *)b, rows, n);
    else
        bias_gelu_t(c, GELU_EXACT, (float *)x, (const float *)b, rows, n);
}

template <typename T>
__global__ void gated_gelu_vec_kernel(T *u, const T *g, int rows, int f)
{
    size_t per_row = f / 8, nv = (size_t)rows * per_row;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < nv; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / per_row;
        int c = (int)(i % per_row) * 8;
        const T *gr = g + r * 2 * (size_t)f;
        float a[8], v[8];
        vnp_ld8(gr + c, a);
        vnp_ld8(gr + f + c, v);
#pragma unroll
        for (int j = 0; j < 8; j++) a[j] = gelu_pass<sizeof(T) == 4 ? GELU_EXACT : 0>(a[j]) * v[j];
        vnp_st8(u + r * (size_t)f + c, a);
    }
}

template <typename T>
__global__ void gated_gelu_kernel(T *u, const T *g, int rows, int f)
{
    size_t total = (size_t)rows * f;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / f, c = i % f;
        const T *gr = g + r * 2 * (size_t)f;
        vnp_st(u + i, vnp_gelu_dev(vnp_ld(gr + c)) * vnp_ld(gr + f + c));
    }
}

template <typename T>
static void gated_gelu_t(vnp_cuda *c, T *u, const T *g, int rows, int f)
{
    size_t total = (size_t)rows * f;
    if (f % 8 == 0 && vnp_aligned16(u) && vnp_aligned16(g))
        gated_gelu_vec_kernel<T><<<vnp_cuda_blocks(total / 8, 256, 65535), 256, 0, c->stream>>>(u, g, rows, f);
    else
        gated_gelu_kernel<T><<<vnp_cuda_blocks(total, 256, 65535), 256, 0, c->stream>>>(u, g, rows, f);
    vnp_cuda_check_launch(c, "gated_gelu");
}

void vnp_cuda_gated_gelu(vnp_cuda *c, vnp_cuda_dtype dt, void *u, const void *g, int rows, int f)
{
    if (rows <= 0 || f <= 0) return;
    if (dt == VNP_CUDA_F16)
        gated_gelu_t(c, (__half *)u, (const __half *)g, rows, f);
    else
        gated_gelu_t(c, (float *)u, (const float *)g, rows, f);
}

/* ---------------------------------------------------------------- rotary embedding */

__global__ void rope_table_kernel(float *cos_t, float *sin_t, const float *inv_freq, int npos, int half)
{
    size_t total = (size_t)npos * half;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        int p = (int)(i / half), j = (int)(i % half);
        float theta = __fmul_rn((float)p, inv_freq[j]); /* the fp32 product, never fused */
        cos_t[i] = (float)cos((double)theta);
        sin_t[i] = (float)sin((double)theta);
    }
}

void vnp_cuda_rope_table(vnp_cuda *c, float *cos_t, float *sin_t, const float *inv_freq, int npos, int half)
{
    if (npos <= 0 || half <= 0) return;
    rope_table_kernel<<<vnp_cuda_blocks((size_t)npos * half, 256, 4096), 256, 0, c->stream>>>(cos_t, sin_t, inv_freq,
                                                                                              npos, half);
    vnp_cuda_check_launch(c, "rope_table");
}

/* One block per row; each thread rotates G consecutive pairs (j, j+half) of one head. */
template <typename T, int G>
__global__ void __launch_bounds__(128) rope_kernel(T *x, int ld, int heads, int hd, float scale, const float *cos_t,
                                                   const float *sin_t, const int32_t *cu, const int32_t *row_seq,
                                                   int nseq)
{
    int t = blockIdx.x, half = hd / 2, groups = half / G;
    int s = row_seq ? row_seq[t] : vnp_seq_of_row(cu, nseq, t);
    size_t pos = (size_t)(t - cu[s]);
    const float *ct = cos_t + pos * half, *st = sin_t + pos * half;
    T *row = x + (size_t)t * ld;
    for (int i = threadIdx.x; i < heads * groups; i += blockDim.x) {
        int h = i / groups, j0 = (i % groups) * G;
        T *p = row + (size_t)h * hd + j0;
        float a[G], b[G];
        if (G == 8) {
            vnp_ld8(p, a);
            vnp_ld8(p + half, b);
        } else {
#pragma unroll
            for (int j = 0; j < G; j++) {
                a[j] = vnp_ld(p + j);
                b[j] = vnp_ld(p + half + j);
            }
        }
#pragma unroll
        for (int j = 0; j < G; j++) {
            float xa = a[j] * scale, xb = b[j] * scale, cc = ct[j0 + j], ss = st[j0 + j];
            a[j] = xa * cc - xb * ss;
            b[j] = xb * cc + xa * ss;
        }
        if (G == 8) {
            vnp_st8(p, a);
            vnp_st8(p + half, b);
        } else {
#pragma unroll
            for (int j = 0; j < G; j++) {
                vnp_st(p + j, a[j]);
                vnp_st(p + half + j, b[j]);
            }
        }
    }
}

template <typename T>
static void rope_t(vnp_cuda *c, T *x, int ld, int heads, int hd, float scale, const float *cos_t, const float *sin_t,
                   const vnp_cuda_varlen *vl)
{
    int half = hd / 2;
    int vec = half % 8 == 0 && vnp_aligned16(x) && ((size_t)ld * sizeof(T)) % 16 == 0 && (hd * sizeof(T)) % 16 == 0 &&
              (half * sizeof(T)) % 16 == 0;
    if (vec)
        rope_kernel<T, 8><<<vl->rows, 128, 0, c->stream>>>(x, ld, heads, hd, scale, cos_t, sin_t, vl->cu_dev,
                                                           vl->row_seq_dev, vl->nseq);
    else
        rope_kernel<T, 1><<<vl->rows, 128, 0, c->stream>>>(x, ld, heads, hd, scale, cos_t, sin_t, vl->cu_dev,
                                                           vl->row_seq_dev, vl->nseq);
    vnp_cuda_check_launch(c, "rope");
}

void vnp_cuda_rope(vnp_cuda *c, vnp_cuda_dtype dt, void *x, int ld, int heads, int hd, float scale,
                   const float *cos_t, const float *sin_t, const vnp_cuda_varlen *vl)
{
    if (vl->rows <= 0 || vl->nseq <= 0 || heads <= 0) return;
    if (hd % 2) {
        vnp_cuda_fail(c, "rope: odd head size %d", hd);
        return;
    }
    if (dt == VNP_CUDA_F16)
        rope_t(c, (__half *)x, ld, heads, hd, scale, cos_t, sin_t, vl);
    else
        rope_t(c, (float *)x, ld, heads, hd, scale, cos_t, sin_t, vl);
}

/* ---------------------------------------------------------------- pooling, embedding, conversion */

/* grid (nseq, column blocks): each thread sums one column over the sequence's rows in range. */
template <typename T>
__global__ void mean_pool_kernel(float *out, const T *x, int d, int skip_first, int skip_last, int max_rows,
                                 const int32_t *cu)
{
    int s = blockIdx.x, col = blockIdx.y * blockDim.x + threadIdx.x;
    if (col >= d) return;
    int start = cu[s], len = cu[s + 1] - start;
    int n = len - skip_first - skip_last;
    if (max_rows >= 0 && n > max_rows) n = max_rows;
    float acc = 0.0f;
    const T *p = x + (size_t)(start + skip_first) * d + col;
    for (int r = 0; r < n; r++) acc += vnp_ld(p + (size_t)r * d);
    out[(size_t)s * d + col] = n > 0 ? acc / (float)n : 0.0f;
}

void vnp_cuda_mean_pool(vnp_cuda *c, vnp_cuda_dtype dt, float *out, const void *x, int d, int skip_first,
                        int skip_last, int max_rows, const vnp_cuda_varlen *vl)
{
    if (vl->nseq <= 0 || d <= 0) return;
    dim3 grid(vl->nseq, (d + 127) / 128);
    if (dt == VNP_CUDA_F16)
        mean_pool_kernel<__half><<<grid, 128, 0, c->stream>>>(out, (const __half *)x, d, skip_first, skip_last,
                                                              max_rows, vl->cu_dev);
    else
        mean_pool_kernel<float><<<grid, 128, 0, c->stream>>>(out, (const float *)x, d, skip_first, skip_last,
                                                             max_rows, vl->cu_dev);
    vnp_cuda_check_launch(c, "mean_pool");
}

template <typename T>
__global__ void embed_kernel(T *x, const T *table, const int32_t *ids, int d, const T *add_row, float mul,
                             const float *row_div, int zero_id)
{
    int t = blockIdx.x, id = ids[t];
    T *xr = x + (size_t)t * d;
    const T *e = table + (size_t)id * d;
    float div = row_div ? row_div[t] : 1.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        if (zero_id >= 0 && id == zero_id) {
            vnp_st(xr + j, 0.0f);
            continue;
        }
        float v = vnp_ld(e + j);
        if (add_row) v += vnp_ld(add_row + j);
        v = v * mul;
        vnp_st(xr + j, row_div ? v / div : v);
    }
}

void vnp_cuda_embed(vnp_cuda *c, vnp_cuda_dtype dt, void *x, const void *table, const int32_t *ids, int rows, int d,
                    const void *add_row, float mul, const float *row_div, int zero_id)
{
    if (rows <= 0 || d <= 0) return;
    if (dt == VNP_CUDA_F16)
        embed_kernel<__half><<<rows, 128, 0, c->stream>>>((__half *)x, (const __half *)table, ids, d,
                                                          (const __half *)add_row, mul, row_div, zero_id);
    else
        embed_kernel<float><<<rows, 128, 0, c->stream>>>((float *)x, (const float *)table, ids, d,
                                                         (const float *)add_row, mul, row_div, zero_id);
    vnp_cuda_check_launch(c, "embed");
}

template <typename D, typename S>
__global__ void convert_kernel(D *dst, const S *src, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        vnp_st(dst + i, vnp_ld(src + i));
}

void vnp_cuda_convert(vnp_cuda *c, void *dst, vnp_cuda_dtype dst_dt, const void *src, vnp_cuda_dtype src_dt, size_t n)
{
    if (!n) return;
    unsigned grid = vnp_cuda_blocks(n, 256, 65535);
    if (dst_dt == src_dt) {
        cudaError_t e = cudaMemcpyAsync(dst, src, n * (dst_dt == VNP_CUDA_F16 ? 2 : 4), cudaMemcpyDeviceToDevice,
                                        c->stream);
        if (e != cudaSuccess) vnp_cuda_fail(c, "convert (copy): %s", cudaGetErrorString(e));
        return;
    }
    if (dst_dt == VNP_CUDA_F16)
        convert_kernel<__half, float><<<grid, 256, 0, c->stream>>>((__half *)dst, (const float *)src, n);
    else
        convert_kernel<float, __half><<<grid, 256, 0, c->stream>>>((float *)dst, (const __half *)src, n);
    vnp_cuda_check_launch(c, "convert");
}

template <typename T>
__global__ void check_finite_kernel(const T *x, size_t n, int *flag)
{
    int bad = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        bad |= !isfinite(vnp_ld(x + i));
    if (__any_sync(0xffffffffu, bad) && (threadIdx.x & 31) == 0) atomicOr(flag, 1);
}

void vnp_cuda_check_finite(vnp_cuda *c, vnp_cuda_dtype dt, const void *x, size_t n)
{
    if (!n) return;
    unsigned grid = vnp_cuda_blocks(n, 256, 4096);
    if (dt == VNP_CUDA_F16)
        check_finite_kernel<__half><<<grid, 256, 0, c->stream>>>((const __half *)x, n, c->flag);
    else
        check_finite_kernel<float><<<grid, 256, 0, c->stream>>>((const float *)x, n, c->flag);
    vnp_cuda_check_launch(c, "check_finite");
}
