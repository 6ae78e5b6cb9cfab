/* An AVX-512 SGEMM for y[m, n] (+)= x[m, k] W[n, k]^T, used where the CPU has AVX-512F: BLIS-style blocking
 * (column blocks of VNP_GEMM_NC, k blocks of VNP_GEMM_KC, row panels of 12) with both operands packed into
 * per-thread buffers and a 12x32 register-blocked micro-kernel. Each output element sums its k products in
 * order, whatever m is, so a row's result does not depend on the rows packed with it. */
#include "cpu_internal.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define MR 12
#define NR 32

int vnp_cpu_has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

/* Ap[p*MR + r] = x[r][p] for r < mr (rows past mr repeat the last one; their results are not stored). */
__attribute__((target("avx512f"))) static void pack_a(float *ap, const float *x, size_t ldx, int mr, int kc)
{
    for (int r = 0; r < MR; r++) {
        const float *xr = x + (size_t)(r < mr ? r : mr - 1) * ldx;
        for (int p = 0; p < kc; p++) ap[p * MR + r] = xr[p];
    }
}

/* Bp[j][p][c] = W[j*NR + c][p] for the columns of the block (zero past nc). */
__attribute__((target("avx512f"))) static void pack_b(float *bp, const float *w, size_t ldw, int nc, int kc)
{
    for (int j0 = 0; j0 < nc; j0 += NR) {
        float *dst = bp + (size_t)j0 * kc;
        for (int c = 0; c < NR; c++) {
            if (j0 + c < nc) {
                const float *wr = w + (size_t)(j0 + c) * ldw;
                for (int p = 0; p < kc; p++) dst[p * NR + c] = wr[p];
            } else {
                for (int p = 0; p < kc; p++) dst[p * NR + c] = 0.0f;
            }
        }
    }
}

#define ROW_FMA(r)                                                                                                \
    do {                                                                                                          \
        __m512 a = _mm512_set1_ps(ap[r]);                                                                         \
        c##r##0 = _mm512_fmadd_ps(a, b0, c##r##0);                                                                \
        c##r##1 = _mm512_fmadd_ps(a, b1, c##r##1);                                                                \
    } while (0)
#define ROW_STORE(r)                                                                                              \
    do {                                                                                                          \
        if (r < mr) {                                                                                             \
            float *cr = c + (size_t)(r)*ldc;                                                                      \
            if (add) {                                                                                            \
                c##r##0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), c##r##0);                                  \
                c##r##1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), c##r##1);                             \
            }                                                                                                     \
            _mm512_mask_storeu_ps(cr, m0, c##r##0);                                                               \
            _mm512_mask_storeu_ps(cr + 16, m1, c##r##1);                                                          \
        }                                                                                                         \
    } while (0)

/* c[0..mr)[0..nr) (+)= Ap (kc x 12) * Bp (kc x 32). */
__attribute__((target("avx512f"))) static void kernel_12x32(int kc, const float *ap, const float *bp, float *c,
                                                            size_t ldc, int mr, int nr, int add)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    __m512 c80 = c00, c81 = c00, c90 = c00, c91 = c00;
    __m512 c100 = c00, c101 = c00, c110 = c00, c111 = c00;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (int p = 0; p < kc; p++, ap += MR, bp += NR) {
        _mm_prefetch((const char *)(bp + 8 * NR), _MM_HINT_T0); /* the W panel, 8 steps ahead */
        __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
        ROW_FMA(0);
        ROW_FMA(1);
        ROW_FMA(2);
        ROW_FMA(3);
        ROW_FMA(4);
        ROW_FMA(5);
        ROW_FMA(6);
        ROW_FMA(7);
        ROW_FMA(8);
        ROW_FMA(9);
        ROW_FMA(10);
        ROW_FMA(11);
    }
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1u);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1u);
    ROW_STORE(0);
    ROW_STORE(1);
    ROW_STORE(2);
    ROW_STORE(3);
    ROW_STORE(4);
    ROW_STORE(5);
    ROW_STORE(6);
    ROW_STORE(7);
    ROW_STORE(8);
    ROW_STORE(9);
    ROW_STORE(10);
    ROW_STORE(11);
}

void vnp_cpu_sgemm512(float *y, size_t ldy, const float *x, const float *w, int m, int n, int k, int accumulate,
                      float *buf)
{
    float *bp = buf;                                     /* [NC/NR][KC][NR] packed W block (L2) */
    float *ap = buf + (size_t)VNP_GEMM_KC * VNP_GEMM_NC; /* [MC/MR][KC][MR] packed x block (L2) */
    for (int jc = 0; jc < n; jc += VNP_GEMM_NC) {
        int nc = n - jc < VNP_GEMM_NC ? n - jc : VNP_GEMM_NC;
        for (int pc = 0; pc < k; pc += VNP_GEMM_KC) {
            int kc = k - pc < VNP_GEMM_KC ? k - pc : VNP_GEMM_KC;
            int add = accumulate || pc > 0;
            pack_b(bp, w + (size_t)jc * k + pc, (size_t)k, nc, kc);
            for (int ic = 0; ic < m; ic += VNP_GEMM_MC) {
                int mc = m - ic < VNP_GEMM_MC ? m - ic : VNP_GEMM_MC;
                for (int ir = 0; ir < mc; ir += MR)
                    pack_a(ap + (size_t)ir * kc, x + (size_t)(ic + ir) * k + pc, (size_t)k, mc - ir < MR ? mc - ir : MR,
                           kc);
                /* a W micro-panel (KC x 32) stays in L1 while the x panels stream past it */
                for (int jr = 0; jr < nc; jr += NR)
                    for (int ir = 0; ir < mc; ir += MR)
                        kernel_12x32(kc, ap + (size_t)ir * kc, bp + (size_t)jr * kc,
                                     y + (size_t)(ic + ir) * ldy + jc + jr, ldy, mc - ir < MR ? mc - ir : MR,
                                     nc - jr < NR ? nc - jr : NR, add);
            }
        }
    }
}
#else
int vnp_cpu_has_avx512(void) { return 0; }
void vnp_cpu_sgemm512(float *y, size_t ldy, const float *x, const float *w, int m, int n, int k, int accumulate,
                      float *buf)
{
    (void)y, (void)ldy, (void)x, (void)w, (void)m, (void)n, (void)k, (void)accumulate, (void)buf;
}
#endif
