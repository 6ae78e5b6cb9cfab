/* Varlen attention over packed sequences: a FlashAttention-2-style FP16 kernel on the tensor cores (mma.sync
 * m16n8k16, FP32 accumulation, online softmax in base 2, optional ALiBi) and a simple exact-FP32 kernel that also
 * serves head sizes the fast kernel does not take.
 *
 * Tiling of the fast kernel: a block owns 64 consecutive rows of the packed batch for one head, whatever sequences
 * they belong to, and walks the keys of the sequences those rows touch (cu[first row's seq] .. cu[last row's seq
 * + 1]) in tiles of 64. A key counts for a row only inside the row's own sequence, so short sequences share a block
 * instead of each wasting most of one, and no per-batch tile table is needed. Each of the 4 warps owns 16 rows;
 * warps whose rows miss a key tile skip its arithmetic. K/V tiles are double-buffered with cp.async.
 *
 * Batch invariance: a row's keys are always walked in tiles that start at its own sequence's first key, so that
 * the order in which its scores and values are summed (which keys share an mma, when the running maximum is
 * rescaled) is the one it has alone. A block of several short sequences (the host's tile plan puts only sequences
 * shorter than a block together) walks one tile per sequence, each cut at that sequence's end; for the rows of the
 * other sequences such a tile is masked, an exact no-op (their factor is 1 and their p are 0).
 *
 * The kernels' ROPE parameter (rotary applied to q and k as they are read) belonged to a measured variant; only
 * ROPE = false is instantiated, since the model rotates q and k with vnp_cuda_rope first. The parameter stays in the
 * kernels' text so that the code of the kernels the program runs is unchanged; the variants (rotary inside, several
 * heads per block) are measured in dev/cuda. */
#include "cuda_internal.cuh"

#include <math.h>

namespace {

constexpr int BR = VNP_CUDA_ATTN_ROWS; /* query rows per block */
constexpr int BC = 64;  /* keys per tile */
constexpr float LOG2E = 1.4426950408889634f;

struct attn_args {
    __half *out;
    int ld_out;
    const __half *q, *k, *v;
    int ld_in, heads, hd;
    float scale_log2;     /* scale * log2(e) */
    const float *slopes;  /* natural-log units; multiplied by log2(e) in the kernel */
    const int32_t *cu, *row_seq; /* row_seq may be NULL: then a binary search of cu */
    const int32_t *tiles;        /* (first row, end row) per block, or NULL: block b owns rows 64b .. 64b+63 */
    int nseq, rows, vec, ntiles;
    int invariant;               /* key tiles from each sequence's start (batch invariance); 0: from the block's */
    const float *cos_t, *sin_t;  /* rotary tables [npos, hd/2] (ROPE kernels) */
    float q_scale;               /* q is multiplied by this before its rotation (ROPE kernels) */
};

__device__ __forceinline__ int seq_of(const attn_args &a, int row)
{
    return a.row_seq ? __ldg(a.row_seq + row) : vnp_seq_of_row(a.cu, a.nseq, row);
}

/* The key tiles of a block (see the top of the file): one per sequence when the block holds several (all shorter
 * than BC, by the tile plan), else tiles of BC from the sequence's start. Tile t covers keys [base, base + BC), of
 * which those at limit and beyond are masked and not loaded. */
struct kv_walk {
    int s0, ntiles, lo, hi;
    bool per_seq;
};
__device__ __forceinline__ kv_walk kv_walk_of(const attn_args &a, int q0, int qend)
{
    kv_walk w;
    const int s0 = seq_of(a, q0), s1 = seq_of(a, qend - 1);
    w.s0 = s0;
    w.lo = __ldg(a.cu + s0);
    w.hi = __ldg(a.cu + s1 + 1);
    w.per_seq = a.invariant && a.tiles && s1 > s0;
    w.ntiles = w.per_seq ? s1 - s0 + 1 : (w.hi - w.lo + BC - 1) / BC;
    return w;
}
__device__ __forceinline__ void kv_tile(const attn_args &a, const kv_walk &w, int t, int &base, int &limit)
{
    if (w.per_seq) {
        base = __ldg(a.cu + w.s0 + t);
        limit = __ldg(a.cu + w.s0 + t + 1);
    } else {
        base = w.lo + t * BC;
        limit = w.hi;
    }
}

/* Rotates the 64 rows of a shared tile in place (rotate_half pairs j, j + hd/2), row r at position pos[r], after
 * multiplying by mul. Rows past the data hold zeros and stay zero. Eight pairs per step where hd/2 % 8 == 0 (16-byte
 * shared accesses, float4 table reads), one pair per step otherwise. */
template <int HD>
__device__ __forceinline__ void rope_tile(__half *s, const int *pos, int hd, float mul, const float *cos_t,
                                          const float *sin_t)
{
    constexpr int LDS = HD + 8;
    const int half = hd >> 1;
    if (half % 8 == 0) {
        const int groups = half >> 3;
        for (int i = threadIdx.x; i < BR * groups; i += blockDim.x) {
            int r = i / groups, j = (i - r * groups) * 8;
            const float4 *ct = reinterpret_cast<const float4 *>(cos_t + (size_t)pos[r] * half + j);
            const float4 *st = reinterpret_cast<const float4 *>(sin_t + (size_t)pos[r] * half + j);
            float4 c0 = __ldg(ct), c1 = __ldg(ct + 1), s0 = __ldg(st), s1 = __ldg(st + 1);
            float cc[8] = {c0.x, c0.y, c0.z, c0.w, c1.x, c1.y, c1.z, c1.w};
            float ss[8] = {s0.x, s0.y, s0.z, s0.w, s1.x, s1.y, s1.z, s1.w};
            __half *p = s + r * LDS + j;
            uint4 ua = *reinterpret_cast<uint4 *>(p), ub = *reinterpret_cast<uint4 *>(p + half);
            __half2 *ha = reinterpret_cast<__half2 *>(&ua), *hb = reinterpret_cast<__half2 *>(&ub);
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float2 a = __half22float2(ha[e]), b = __half22float2(hb[e]);
                float a0 = a.x * mul, a1 = a.y * mul, b0 = b.x * mul, b1 = b.y * mul;
                ha[e] = __floats2half2_rn(a0 * cc[2 * e] - b0 * ss[2 * e], a1 * cc[2 * e + 1] - b1 * ss[2 * e + 1]);
                hb[e] = __floats2half2_rn(b0 * cc[2 * e] + a0 * ss[2 * e], b1 * cc[2 * e + 1] + a1 * ss[2 * e + 1]);
            }
            *reinterpret_cast<uint4 *>(p) = ua;
            *reinterpret_cast<uint4 *>(p + half) = ub;
        }
        return;
    }
    for (int i = threadIdx.x; i < BR * half; i += blockDim.x) {
        int r = i / half, j = i - r * half;
        size_t t = (size_t)pos[r] * half + j;
        float c = __ldg(cos_t + t), sn = __ldg(sin_t + t);
        __half *p = s + r * LDS + j;
        float x0 = __half2float(p[0]) * mul, x1 = __half2float(p[half]) * mul;
        p[0] = __float2half_rn(x0 * c - x1 * sn);
        p[half] = __float2half_rn(x1 * c + x0 * sn);
    }
}

/* Positions within their sequences of rows row0 .. row0+63 (0 past limit), by threads 0..63. */
__device__ __forceinline__ void tile_positions(int *pos, const attn_args &a, int row0, int limit)
{
    if (threadIdx.x < BR) {
        int row = row0 + threadIdx.x, p = 0;
        if (row < limit) p = row - __ldg(a.cu + seq_of(a, row));
        pos[threadIdx.x] = p;
    }
}

__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool pred)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int n = pred ? 16 : 0; /* 0: nothing is read and the 16 bytes are zero-filled */
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(n));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x4(unsigned r[4], const __half *p)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned r[4], const __half *p)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
}
/* c += a (16x16, row) * b (16x8, col), FP16 in, FP32 accumulate. */
__device__ __forceinline__ void mma16816(float c[4], const unsigned a[4], unsigned b0, unsigned b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ unsigned pack_half2(float lo, float hi)
{
    __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<unsigned *>(&h);
}

/* Block-wide load of rows row0..row0+63 (those below limit) of a [*, ld] FP16 matrix, columns 0..hd-1, into a
 * [64][HD+8] shared tile; everything else is zero so that padded rows and columns add nothing. */
template <int HD>
__device__ __forceinline__ void load_tile(__half *s, const __half *g, int ld, int row0, int limit, int hd, int vec)
{
    constexpr int LDS = HD + 8, CH = HD / 8;
    for (int i = threadIdx.x; i < BR * CH; i += blockDim.x) {
        int r = i / CH, col = (i % CH) * 8, grow = row0 + r;
        __half *dst = s + r * LDS + col;
        bool ok = grow < limit && col < hd;
        if (vec) {
            cp_async16(dst, ok ? g + (size_t)grow * ld + col : g, ok);
        } else {
#pragma unroll
            for (int e = 0; e < 8; e++)
                dst[e] = (grow < limit && col + e < hd) ? g[(size_t)grow * ld + col + e] : __float2half(0.0f);
        }
    }
}

template <int HD, bool ALIBI, bool ROPE>
__global__ void __launch_bounds__(128, HD <= 64 ? 4 : 2) attn_tc_kernel(attn_args a)
{
    constexpr int LDS = HD + 8, KS = HD / 16, NT = HD / 8;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    __half *sQ = reinterpret_cast<__half *>(smem_raw);
    __half *sK = sQ + BR * LDS; /* two buffers */
    __half *sV = sK + 2 * BC * LDS;
    __shared__ int sPosQ[ROPE ? BR : 1], sPosK[ROPE ? 2 : 1][ROPE ? BC : 1];

    const int h = blockIdx.y;
    const int q0 = a.tiles ? __ldg(a.tiles + 2 * blockIdx.x) : blockIdx.x * BR;
    const int qend = a.tiles ? __ldg(a.tiles + 2 * blockIdx.x + 1) : min(q0 + BR, a.rows); /* rows q0..qend-1 */
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, tq = lane & 3;
    const __half *qg = a.q + (size_t)h * a.hd, *kg = a.k + (size_t)h * a.hd, *vg = a.v + (size_t)h * a.hd;

    /* keys this block may need: the sequences of its first and last rows and all between */
    const kv_walk kw = kv_walk_of(a, q0, qend);
    int kb0, kl0;
    kv_tile(a, kw, 0, kb0, kl0);

    /* the key range [lo, hi) of this thread's two rows; empty for rows past the batch */
    int r0 = q0 + warp * 16 + g, r1 = r0 + 8, lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0;
    if (r0 < qend) {
        int s = seq_of(a, r0);
        lo0 = __ldg(a.cu + s);
        hi0 = __ldg(a.cu + s + 1);
    }
    if (r1 < qend) {
        int s = seq_of(a, r1);
        lo1 = __ldg(a.cu + s);
        hi1 = __ldg(a.cu + s + 1);
    }
    /* the warp's union (to skip tiles) and intersection (to skip masking) of its rows' ranges */
    int wlo = INT_MAX, whi = INT_MIN, wmaxlo = INT_MIN, wminhi = INT_MAX;
    if (r0 < qend) { wlo = lo0; whi = hi0; wmaxlo = lo0; wminhi = hi0; }
    if (r1 < qend) { wlo = min(wlo, lo1); whi = max(whi, hi1); wmaxlo = max(wmaxlo, lo1); wminhi = min(wminhi, hi1); }
#pragma unroll
    for (int o = 16; o; o >>= 1) {
        wlo = min(wlo, __shfl_xor_sync(0xffffffffu, wlo, o));
        whi = max(whi, __shfl_xor_sync(0xffffffffu, whi, o));
        wmaxlo = max(wmaxlo, __shfl_xor_sync(0xffffffffu, wmaxlo, o));
        wminhi = min(wminhi, __shfl_xor_sync(0xffffffffu, wminhi, o));
    }
    /* a warp with a row past the batch always masks (its empty range makes wminhi <= wmaxlo fail below) */
    bool warp_partial = (q0 + warp * 16 + 15) >= qend;

    const int ntiles = kw.ntiles;
    load_tile<HD>(sQ, qg, a.ld_in, q0, qend, a.hd, a.vec);
    load_tile<HD>(sK, kg, a.ld_in, kb0, kl0, a.hd, a.vec);
    load_tile<HD>(sV, vg, a.ld_in, kb0, kl0, a.hd, a.vec);
    cp_async_commit();
    if (ROPE) {
        tile_positions(sPosQ, a, q0, qend);
        tile_positions(sPosK[0], a, kb0, kl0);
    }
    cp_async_wait<0>();
    __syncthreads();
    if (ROPE) {
        rope_tile<HD>(sQ, sPosQ, a.hd, a.q_scale, a.cos_t, a.sin_t);
        __syncthreads();
    }

    unsigned qf[KS][4];
#pragma unroll
    for (int kk = 0; kk < KS; kk++) ldmatrix_x4(qf[kk], sQ + (warp * 16 + (lane & 15)) * LDS + kk * 16 + (lane >> 4) * 8);

    float o[NT][4];
#pragma unroll
    for (int n = 0; n < NT; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f;
    const float slope = ALIBI ? __ldg(a.slopes + h) * LOG2E : 0.0f;

    for (int t = 0; t < ntiles; t++) {
        int kbase, klim;
        kv_tile(a, kw, t, kbase, klim);
        if (t + 1 < ntiles) {
            int nb, nl;
            kv_tile(a, kw, t + 1, nb, nl);
            load_tile<HD>(sK + ((t + 1) & 1) * BC * LDS, kg, a.ld_in, nb, nl, a.hd, a.vec);
            load_tile<HD>(sV + ((t + 1) & 1) * BC * LDS, vg, a.ld_in, nb, nl, a.hd, a.vec);
            cp_async_commit();
            if (ROPE) tile_positions(sPosK[(t + 1) & 1], a, nb, nl);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        __half *cK = sK + (t & 1) * BC * LDS, *cV = sV + (t & 1) * BC * LDS;
        if (ROPE) {
            rope_tile<HD>(cK, sPosK[t & 1], a.hd, 1.0f, a.cos_t, a.sin_t);
            __syncthreads();
        }
        if (wlo < min(kbase + BC, klim) && whi > kbase) { /* warp-uniform */
            float sc[BC / 8][4];
#pragma unroll
            for (int j = 0; j < BC / 8; j++) sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
#pragma unroll
            for (int kk = 0; kk < KS; kk++)
#pragma unroll
                for (int np = 0; np < BC / 16; np++) {
                    if (kbase + np * 16 >= min(whi, klim) || kbase + np * 16 + 16 <= wlo) continue; /* no row of the warp */
                    unsigned b[4];
                    ldmatrix_x4(b, cK + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * LDS + kk * 16 + ((lane >> 3) & 1) * 8);
                    mma16816(sc[2 * np], qf[kk], b[0], b[1]);
                    mma16816(sc[2 * np + 1], qf[kk], b[2], b[3]);
                }
            const bool inside = !warp_partial && kbase >= wmaxlo && kbase + BC <= min(wminhi, klim);
            float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
            for (int j = 0; j < BC / 8; j++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int key = kbase + j * 8 + 2 * tq + (e & 1);
                    int row = e < 2 ? r0 : r1;
                    float s = sc[j][e] * a.scale_log2;
                    if (ALIBI) s += slope * (float)(-abs(row - key));
                    bool ok = inside || (key < klim && (e < 2 ? (key >= lo0 && key < hi0) : (key >= lo1 && key < hi1)));
                    s = ok ? s : -INFINITY;
                    sc[j][e] = s;
                    if (e < 2) mx0 = fmaxf(mx0, s);
                    else mx1 = fmaxf(mx1, s);
                }
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
            const float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);
            const float base0 = mn0 == -INFINITY ? 0.0f : mn0, base1 = mn1 == -INFINITY ? 0.0f : mn1;
            const float al0 = exp2f(m0 - base0), al1 = exp2f(m1 - base1);
            m0 = mn0;
            m1 = mn1;
            float ps0 = 0.0f, ps1 = 0.0f;
#pragma unroll
            for (int j = 0; j < BC / 8; j++) {
                sc[j][0] = exp2f(sc[j][0] - base0);
                sc[j][1] = exp2f(sc[j][1] - base0);
                sc[j][2] = exp2f(sc[j][2] - base1);
                sc[j][3] = exp2f(sc[j][3] - base1);
                ps0 += sc[j][0] + sc[j][1];
                ps1 += sc[j][2] + sc[j][3];
            }
            l0 = l0 * al0 + ps0;
            l1 = l1 * al1 + ps1;
#pragma unroll
            for (int n = 0; n < NT; n++) {
                o[n][0] *= al0;
                o[n][1] *= al0;
                o[n][2] *= al1;
                o[n][3] *= al1;
            }
#pragma unroll
            for (int kk = 0; kk < BC / 16; kk++) {
                if (kbase + kk * 16 >= min(whi, klim) || kbase + kk * 16 + 16 <= wlo) continue; /* all p are 0 */
                unsigned pa[4] = {pack_half2(sc[2 * kk][0], sc[2 * kk][1]), pack_half2(sc[2 * kk][2], sc[2 * kk][3]),
                                  pack_half2(sc[2 * kk + 1][0], sc[2 * kk + 1][1]),
                                  pack_half2(sc[2 * kk + 1][2], sc[2 * kk + 1][3])};
#pragma unroll
                for (int np = 0; np < HD / 16; np++) {
                    unsigned b[4];
                    ldmatrix_x4_trans(b, cV + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LDS + np * 16 + (lane >> 4) * 8);
                    mma16816(o[2 * np], pa, b[0], b[1]);
                    mma16816(o[2 * np + 1], pa, b[2], b[3]);
                }
            }
        }
        __syncthreads(); /* this buffer is refilled two tiles on */
    }

    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const float inv0 = l0 > 0.0f ? 1.0f / l0 : 0.0f, inv1 = l1 > 0.0f ? 1.0f / l1 : 0.0f;
    __half *out0 = a.out + (size_t)r0 * a.ld_out + (size_t)h * a.hd;
    __half *out1 = a.out + (size_t)r1 * a.ld_out + (size_t)h * a.hd;
#pragma unroll
    for (int n = 0; n < NT; n++) {
        int col = n * 8 + 2 * tq;
        if (col < a.hd) {
            if (r0 < qend) *reinterpret_cast<__half2 *>(out0 + col) = __floats2half2_rn(o[n][0] * inv0, o[n][1] * inv0);
            if (r1 < qend) *reinterpret_cast<__half2 *>(out1 + col) = __floats2half2_rn(o[n][2] * inv1, o[n][3] * inv1);
        }
    }
}

template <int HD, bool ALIBI, bool ROPE>
static void launch_tc(vnp_cuda *c, const attn_args &a)
{
    size_t smem = (size_t)(BR + 4 * BC) * (HD + 8) * sizeof(__half);
    if (smem > 46 * 1024) /* per device and cheap: set on every launch rather than track devices */
        cudaFuncSetAttribute(attn_tc_kernel<HD, ALIBI, ROPE>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    dim3 grid(a.tiles ? a.ntiles : (a.rows + BR - 1) / BR, a.heads);
    attn_tc_kernel<HD, ALIBI, ROPE><<<grid, 128, smem, c->stream>>>(a);
}

/* Only ROPE = false is built: rotary is applied by vnp_cuda_rope before attention (see the top of the file). */
template <int HD>
static void launch_tc_hd(vnp_cuda *c, const attn_args &a, bool alibi)
{
    alibi ? launch_tc<HD, true, false>(c, a) : launch_tc<HD, false, false>(c, a);
}

/* The simple kernel: one warp per (query row, head), keys in chunks of 32 (one per lane), online softmax in
 * natural units, each lane accumulating hd/32 output columns. Exact FP32 math for either element type. With ROPE,
 * q is scaled and rotated into shared memory and each key rotated as its dot product is taken. */
template <typename T, bool ALIBI, bool ROPE>
__global__ void __launch_bounds__(128) attn_simple_kernel(T *out, int ld_out, const T *q, const T *k, const T *v,
                                                          int ld_in, int hd, float scale, const float *slopes,
                                                          const int32_t *cu, const int32_t *row_seq, int nseq,
                                                          int rows, float q_scale, const float *cos_t,
                                                          const float *sin_t)
{
    extern __shared__ float sq[]; /* [4][hd] */
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int i = blockIdx.x * 4 + warp, h = blockIdx.y;
    if (i >= rows) return; /* whole warp */
    const int s = row_seq ? row_seq[i] : vnp_seq_of_row(cu, nseq, i), lo = cu[s], hi = cu[s + 1], half = hd / 2;
    float *qs = sq + warp * hd;
    const T *qr = q + (size_t)i * ld_in + (size_t)h * hd;
    if (ROPE) {
        const float *ct = cos_t + (size_t)(i - lo) * half, *st = sin_t + (size_t)(i - lo) * half;
        for (int d = lane; d < half; d += 32) {
            float x0 = vnp_ld(qr + d) * q_scale, x1 = vnp_ld(qr + d + half) * q_scale;
            qs[d] = x0 * ct[d] - x1 * st[d];
            qs[d + half] = x1 * ct[d] + x0 * st[d];
        }
    } else {
        for (int d = lane; d < hd; d += 32) qs[d] = vnp_ld(qr + d);
    }
    __syncwarp();
    const float slope = ALIBI ? slopes[h] : 0.0f;
    float m = -INFINITY, l = 0.0f, acc[8];
#pragma unroll
    for (int r = 0; r < 8; r++) acc[r] = 0.0f;
    for (int j0 = lo; j0 < hi; j0 += 32) {
        int j = j0 + lane;
        float sc = -INFINITY;
        if (j < hi) {
            const T *kr = k + (size_t)j * ld_in + (size_t)h * hd;
            float dot = 0.0f;
            if (ROPE) {
                const float *ct = cos_t + (size_t)(j - lo) * half, *st = sin_t + (size_t)(j - lo) * half;
                for (int d = 0; d < half; d++) {
                    float k0 = vnp_ld(kr + d), k1 = vnp_ld(kr + d + half);
                    dot += qs[d] * (k0 * ct[d] - k1 * st[d]) + qs[d + half] * (k1 * ct[d] + k0 * st[d]);
                }
            } else {
                for (int d = 0; d < hd; d++) dot += qs[d] * vnp_ld(kr + d);
            }
            sc = dot * scale;
            if (ALIBI) sc += slope * (float)(-abs(i - j));
        }
        float mx = sc;
#pragma unroll
        for (int o = 16; o; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        const float mn = fmaxf(m, mx); /* finite: lane 0's key is in range */
        const float al = expf(m - mn);
        float p = j < hi ? expf(sc - mn) : 0.0f, ps = p;
#pragma unroll
        for (int o = 16; o; o >>= 1) ps += __shfl_xor_sync(0xffffffffu, ps, o);
        l = l * al + ps;
#pragma unroll
        for (int r = 0; r < 8; r++) acc[r] *= al;
        const int nk = min(32, hi - j0);
        for (int jj = 0; jj < nk; jj++) {
            const float pj = __shfl_sync(0xffffffffu, p, jj);
            const T *vr = v + (size_t)(j0 + jj) * ld_in + (size_t)h * hd;
#pragma unroll
            for (int r = 0; r < 8; r++)
                if (lane + 32 * r < hd) acc[r] += pj * vnp_ld(vr + lane + 32 * r);
        }
        m = mn;
    }
    T *orow = out + (size_t)i * ld_out + (size_t)h * hd;
#pragma unroll
    for (int r = 0; r < 8; r++)
        if (lane + 32 * r < hd) vnp_st(orow + lane + 32 * r, acc[r] / l);
}

template <typename T, bool ALIBI, bool ROPE>
static void launch_simple(vnp_cuda *c, T *out, int ld_out, const T *q, const T *k, const T *v, int ld_in, int heads,
                          int hd, float q_scale, float scale, const float *cos_t, const float *sin_t,
                          const float *slopes, const vnp_cuda_varlen *vl)
{
    dim3 grid((vl->rows + 3) / 4, heads);
    size_t smem = 4 * (size_t)hd * sizeof(float);
    attn_simple_kernel<T, ALIBI, ROPE><<<grid, 128, smem, c->stream>>>(out, ld_out, q, k, v, ld_in, hd, scale, slopes,
                                                                       vl->cu_dev, vl->row_seq_dev, vl->nseq,
                                                                       vl->rows, q_scale, cos_t, sin_t);
}

template <typename T>
static void launch_simple_t(vnp_cuda *c, void *out, int ld_out, const void *q, const void *k, const void *v,
                            int ld_in, int heads, int hd, float scale, const float *slopes, const vnp_cuda_varlen *vl)
{
#define VNP_SIMPLE(A)                                                                                                 \
    launch_simple<T, A, false>(c, (T *)out, ld_out, (const T *)q, (const T *)k, (const T *)v, ld_in, heads, hd, 1.0f, \
                               scale, nullptr, nullptr, slopes, vl)
    slopes ? VNP_SIMPLE(true) : VNP_SIMPLE(false);
#undef VNP_SIMPLE
}

__global__ void row_seq_kernel(int32_t *row_seq, const int32_t *cu, int nseq, int rows)
{
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < rows; t += gridDim.x * blockDim.x)
        row_seq[t] = vnp_seq_of_row(cu, nseq, t);
}

} // namespace

int vnp_cuda_attention_tiles(const int32_t *cu, int nseq, int32_t *tiles, int cap)
{
    int n = 0, s = 0;
    while (s < nseq) {
        int32_t start = cu[s], len = cu[s + 1] - start;
        if (len >= BR) { /* a long sequence: blocks of its own */
            for (int32_t r = start; r < start + len; r += BR) {
                if (n == cap) return -1;
                tiles[2 * n] = r;
                tiles[2 * n + 1] = r + BR < start + len ? r + BR : start + len;
                n++;
            }
            s++;
            continue;
        }
        int e = s + 1; /* short ones: as many as fit in one block */
        while (e < nseq && cu[e + 1] - start <= BR) e++;
        if (cu[e] > start) {
            if (n == cap) return -1;
            tiles[2 * n] = start;
            tiles[2 * n + 1] = cu[e];
            n++;
        }
        s = e;
    }
    return n;
}

void vnp_cuda_row_seq(vnp_cuda *c, int32_t *row_seq, const vnp_cuda_varlen *vl)
{
    if (vl->rows <= 0 || vl->nseq <= 0) return;
    row_seq_kernel<<<vnp_cuda_blocks(vl->rows, 256, 4096), 256, 0, c->stream>>>(row_seq, vl->cu_dev, vl->nseq, vl->rows);
    vnp_cuda_check_launch(c, "row_seq");
}

void vnp_cuda_attention(vnp_cuda *c, vnp_cuda_dtype dt, void *out, int ld_out, const void *q, const void *k,
                        const void *v, int ld_in, int heads, int hd, float scale, const float *slopes,
                        const vnp_cuda_varlen *vl)
{
    if (vl->rows <= 0 || vl->nseq <= 0 || heads <= 0) return;
    if (hd <= 0) {
        vnp_cuda_fail(c, "attention: head size %d", hd);
        return;
    }
    int tc = dt == VNP_CUDA_F16 && hd % 2 == 0 && hd <= 128 && ld_out % 2 == 0 && (uintptr_t)out % 4 == 0;
    if (tc) {
        attn_args a;
        a.out = (__half *)out;
        a.ld_out = ld_out;
        a.q = (const __half *)q;
        a.k = (const __half *)k;
        a.v = (const __half *)v;
        a.ld_in = ld_in;
        a.heads = heads;
        a.hd = hd;
        a.scale_log2 = scale * LOG2E;
        a.slopes = slopes;
        a.cu = vl->cu_dev;
        a.row_seq = vl->row_seq_dev;
        a.tiles = vl->ntiles > 0 ? vl->tiles_dev : nullptr;
        a.ntiles = vl->ntiles;
        a.invariant = c->plan_mode == VNP_CUDA_PLANS_INVARIANT;
        a.nseq = vl->nseq;
        a.rows = vl->rows;
        a.vec = hd % 8 == 0 && ld_in % 8 == 0 && vnp_aligned16(q) && vnp_aligned16(k) && vnp_aligned16(v);
        a.cos_t = nullptr;
        a.sin_t = nullptr;
        a.q_scale = 1.0f;
        bool alibi = slopes != nullptr;
        if (hd <= 32)
            launch_tc_hd<32>(c, a, alibi);
        else if (hd <= 64)
            launch_tc_hd<64>(c, a, alibi);
        else if (hd <= 96)
            launch_tc_hd<96>(c, a, alibi);
        else
            launch_tc_hd<128>(c, a, alibi);
    } else {
        if (hd > 256) {
            vnp_cuda_fail(c, "attention: head size %d is over the simple kernel's 256", hd);
            return;
        }
        if (dt == VNP_CUDA_F16)
            launch_simple_t<__half>(c, out, ld_out, q, k, v, ld_in, heads, hd, scale, slopes, vl);
        else
            launch_simple_t<float>(c, out, ld_out, q, k, v, ld_in, heads, hd, scale, slopes, vl);
    }
    vnp_cuda_check_launch(c, "attention");
}
