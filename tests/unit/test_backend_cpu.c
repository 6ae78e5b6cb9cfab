/* Every op of the CPU backend against a naive double-precision reference on random inputs of several shapes,
 * including packed batches of several sequences, ALiBi and long sequences. Prints the max abs difference. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/backend.h"
#include "vnp_test.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}
static float *rnd(size_t n, float amp)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = frand() * amp;
    return p;
}
static double maxdiff(const float *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates */
    }
    return m;
}
static void make_varlen(vnp_varlen *v, int32_t *cu, const int *lens, int n)
{
    cu[0] = 0;
    int mx = 0;
    for (int i = 0; i < n; i++) {
        cu[i + 1] = cu[i] + lens[i];
        if (lens[i] > mx) mx = lens[i];
    }
    v->nseq = n;
    v->max_len = mx;
    v->cu_host = cu;
    v->cu_dev = cu;
}

static void test_gemm(vnp_backend *be, int m, int n, int k, int bias, int acc)
{
    float *x = rnd((size_t)m * k, 1), *w = rnd((size_t)n * k, 0.5f), *b = rnd((size_t)n, 1), *y = rnd((size_t)m * n, 1);
    double *ref = malloc(sizeof(double) * (size_t)m * n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = acc ? y[(size_t)i * n + j] : 0.0;
            if (bias) s += b[j];
            for (int t = 0; t < k; t++) s += (double)x[(size_t)i * k + t] * w[(size_t)j * k + t];
            ref[(size_t)i * n + j] = s;
        }
    be->ops->gemm(be, y, x, w, bias ? b : NULL, m, n, k, acc);
    double d = maxdiff(y, ref, (size_t)m * n);
    printf("gemm m=%d n=%d k=%d bias=%d acc=%d: max abs diff %.3g\n", m, n, k, bias, acc, d);
    CHECK_MSG(d < 1e-5 * sqrt((double)k) * 4, "gemm diff %g", d);
    free(x), free(w), free(b), free(y), free(ref);
}

static void test_layernorm(vnp_backend *be, int rows, int d, float eps)
{
    float *x = rnd((size_t)rows * d, 3), *w = rnd((size_t)d, 1), *b = rnd((size_t)d, 1), *y = rnd((size_t)rows * d, 1);
    for (int i = 0; i < d; i++) x[i] = 0.25f; /* a constant row: variance 0, only eps guards it */
    double *ref = malloc(sizeof(double) * (size_t)rows * d);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        double mu = 0, var = 0;
        for (int i = 0; i < d; i++) mu += xr[i];
        mu /= d;
        for (int i = 0; i < d; i++) var += (xr[i] - mu) * (xr[i] - mu);
        var /= d;
        for (int i = 0; i < d; i++) ref[(size_t)r * d + i] = (xr[i] - mu) / sqrt(var + eps) * w[i] + b[i];
    }
    be->ops->layernorm(be, y, x, w, b, rows, d, eps);
    double dm = maxdiff(y, ref, (size_t)rows * d);
    be->ops->layernorm(be, x, x, w, b, rows, d, eps); /* in place */
    double di = maxdiff(x, ref, (size_t)rows * d);
    printf("layernorm rows=%d d=%d eps=%g: max abs diff %.3g (in place %.3g)\n", rows, d, eps, dm, di);
    CHECK(dm < 2e-5 && di < 2e-5);
    free(x), free(w), free(b), free(y), free(ref);
}

static double gelu_d(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

static void test_gelu(vnp_backend *be, int rows, int n)
{
    float *x = rnd((size_t)rows * n, 6), *b = rnd((size_t)n, 1), *g = rnd((size_t)rows * 2 * n, 5);
    float *u = malloc(sizeof(float) * (size_t)rows * n);
    double *ref = malloc(sizeof(double) * (size_t)rows * n);
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n; i++) ref[(size_t)r * n + i] = gelu_d((double)x[(size_t)r * n + i] + b[i]);
    be->ops->bias_gelu(be, x, b, rows, n);
    double d1 = maxdiff(x, ref, (size_t)rows * n);
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n; i++)
            ref[(size_t)r * n + i] = gelu_d(g[(size_t)r * 2 * n + i]) * g[(size_t)r * 2 * n + n + i];
    be->ops->gated_gelu(be, u, g, rows, n);
    double d2 = maxdiff(u, ref, (size_t)rows * n);
    printf("bias_gelu / gated_gelu rows=%d n=%d: max abs diff %.3g / %.3g\n", rows, n, d1, d2);
    CHECK(d1 < 5e-6 && d2 < 5e-5);
    CHECK_NEAR(vnp_gelu_ref(1.0f), gelu_d(1.0), 1e-7);
    free(x), free(b), free(g), free(u), free(ref);
}

static void test_rope(vnp_backend *be, const int *lens, int nseq, int heads, int hd, float scale)
{
    int32_t cu[16];
    vnp_varlen v;
    make_varlen(&v, cu, lens, nseq);
    int T = cu[nseq], half = hd / 2, ld = heads * hd + 5; /* a column slice of a wider buffer */
    float *x = rnd((size_t)T * ld, 2), *inv = malloc(sizeof(float) * half);
    for (int j = 0; j < half; j++) inv[j] = powf(10000.0f, -(float)(2 * j) / hd);
    double *ref = malloc(sizeof(double) * (size_t)T * ld);
    for (int s = 0; s < nseq; s++)
        for (int t = cu[s]; t < cu[s + 1]; t++)
            for (int c = 0; c < ld; c++) {
                double val = x[(size_t)t * ld + c];
                if (c < heads * hd) {
                    int j = c % hd, jj = j % half;
                    double th = (double)(float)((float)(t - cu[s]) * inv[jj]);
                    double a = (double)x[(size_t)t * ld + c - j + jj] * scale;
                    double b = (double)x[(size_t)t * ld + c - j + jj + half] * scale;
                    val = j < half ? a * cos(th) - b * sin(th) : b * cos(th) + a * sin(th);
                }
                ref[(size_t)t * ld + c] = val;
            }
    float *ct = malloc(sizeof(float) * (size_t)v.max_len * half), *st = malloc(sizeof(float) * (size_t)v.max_len * half);
    be->ops->rope_table(be, ct, st, inv, v.max_len, half);
    be->ops->rope(be, x, ld, heads, hd, scale, ct, st, &v);
    double d = maxdiff(x, ref, (size_t)T * ld);
    printf("rope nseq=%d heads=%d hd=%d: max abs diff %.3g\n", nseq, heads, hd, d);
    CHECK(d < 1e-5);
    free(x), free(inv), free(ref), free(ct), free(st);
}

static void test_attention(vnp_backend *be, const int *lens, int nseq, int heads, int hd, float scale, int alibi)
{
    int32_t cu[16];
    vnp_varlen v;
    make_varlen(&v, cu, lens, nseq);
    int T = cu[nseq], D = heads * hd, ld = 3 * D, ldo = D + 3;
    float *qkv = rnd((size_t)T * ld, 1.5f), *out = rnd((size_t)T * ldo, 1);
    float slopes[64];
    vnp_alibi_slopes(heads, slopes);
    double *ref = malloc(sizeof(double) * (size_t)T * ldo), *p = malloc(sizeof(double) * (size_t)v.max_len);
    for (size_t i = 0; i < (size_t)T * ldo; i++) ref[i] = out[i]; /* columns past D must stay untouched */
    for (int s = 0; s < nseq; s++)
        for (int h = 0; h < heads; h++)
            for (int i = cu[s]; i < cu[s + 1]; i++) {
                double mx = -INFINITY, sum = 0;
                for (int j = cu[s]; j < cu[s + 1]; j++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++)
                        dot += (double)qkv[(size_t)i * ld + h * hd + d] * qkv[(size_t)j * ld + D + h * hd + d];
                    p[j - cu[s]] = dot * scale + (alibi ? (double)slopes[h] * -fabs((double)(i - j)) : 0.0);
                    if (p[j - cu[s]] > mx) mx = p[j - cu[s]];
                }
                for (int j = 0; j < lens[s]; j++) sum += p[j] = exp(p[j] - mx);
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int j = 0; j < lens[s]; j++) o += p[j] * qkv[(size_t)(cu[s] + j) * ld + 2 * D + h * hd + d];
                    ref[(size_t)i * ldo + h * hd + d] = o / sum;
                }
            }
    be->ops->attention(be, out, ldo, qkv, qkv + D, qkv + 2 * D, ld, heads, hd, scale, alibi ? slopes : NULL, &v);
    double d = maxdiff(out, ref, (size_t)T * ldo);
    printf("attention nseq=%d T=%d max_len=%d heads=%d hd=%d alibi=%d: max abs diff %.3g\n", nseq, T, v.max_len,
           heads, hd, alibi, d);
    CHECK(d < 2e-5);
    free(qkv), free(out), free(ref), free(p);
}

/* ESM-2's two ways to the same attention: q scaled and rotated, k rotated, scores unscaled; or q and k rotated in
 * one pass over 2H heads and the (power-of-two) scale applied to the scores. Equal to the bit. */
static void test_rope_merged(vnp_backend *be, const int *lens, int nseq, int heads, int hd, float scale)
{
    int32_t cu[16];
    vnp_varlen v;
    make_varlen(&v, cu, lens, nseq);
    int T = cu[nseq], D = heads * hd, ld = 3 * D, half = hd / 2;
    float *a = rnd((size_t)T * ld, 1.5f), *b = malloc(sizeof(float) * (size_t)T * ld);
    float *oa = rnd((size_t)T * D, 1), *ob = rnd((size_t)T * D, 1), *inv = malloc(sizeof(float) * half);
    memcpy(b, a, sizeof(float) * (size_t)T * ld);
    for (int j = 0; j < half; j++) inv[j] = powf(10000.0f, -(float)(2 * j) / hd);
    float *ct = malloc(sizeof(float) * (size_t)v.max_len * half), *st = malloc(sizeof(float) * (size_t)v.max_len * half);
    be->ops->rope_table(be, ct, st, inv, v.max_len, half);
    be->ops->rope(be, a, ld, heads, hd, scale, ct, st, &v);
    be->ops->rope(be, a + D, ld, heads, hd, 1.0f, ct, st, &v);
    be->ops->attention(be, oa, D, a, a + D, a + 2 * D, ld, heads, hd, 1.0f, NULL, &v);
    be->ops->rope(be, b, ld, 2 * heads, hd, 1.0f, ct, st, &v);
    be->ops->attention(be, ob, D, b, b + D, b + 2 * D, ld, heads, hd, scale, NULL, &v);
    size_t diff = 0;
    for (size_t i = 0; i < (size_t)T * D; i++) diff += memcmp(&oa[i], &ob[i], sizeof(float)) != 0;
    printf("rope q,k merged, scale %g: %zu of %zu outputs differ\n", scale, diff, (size_t)T * D);
    CHECK(diff == 0);
    free(a), free(b), free(oa), free(ob), free(inv), free(ct), free(st);
}

static void test_pool_embed(vnp_backend *be)
{
    int lens[4] = {1, 2, 7, 40}, d = 300;
    int32_t cu[5];
    vnp_varlen v;
    make_varlen(&v, cu, lens, 4);
    int T = cu[4];
    float *x = rnd((size_t)T * d, 2), *out = malloc(sizeof(float) * 4 * (size_t)d);
    double *ref = malloc(sizeof(double) * 4 * (size_t)d);
    int cfg[3][3] = {{0, 0, -1}, {1, 1, 1024}, {1, 1, 3}};
    for (int c = 0; c < 3; c++) {
        for (int s = 0; s < 4; s++) {
            int n = lens[s] - cfg[c][0] - cfg[c][1];
            if (cfg[c][2] >= 0 && n > cfg[c][2]) n = cfg[c][2];
            for (int j = 0; j < d; j++) {
                double acc = 0;
                for (int r = 0; r < n; r++) acc += x[(size_t)(cu[s] + cfg[c][0] + r) * d + j];
                ref[(size_t)s * d + j] = n > 0 ? acc / n : 0.0;
            }
        }
        be->ops->mean_pool(be, out, x, d, cfg[c][0], cfg[c][1], cfg[c][2], &v);
        double dm = maxdiff(out, ref, 4 * (size_t)d);
        printf("mean_pool skip %d/%d max %d: max abs diff %.3g\n", cfg[c][0], cfg[c][1], cfg[c][2], dm);
        CHECK(dm < 1e-6);
    }
    /* embed: table [10, d], with an added row, a multiplier, per-row divisors and a zeroed id */
    float *table = rnd(10 * (size_t)d, 1), *add = rnd((size_t)d, 1), div[6] = {1, 1, 0.5f, 0.75f, 1, 2};
    int32_t ids[6] = {0, 9, 3, 7, 3, 5};
    float *e = malloc(sizeof(float) * 6 * (size_t)d);
    be->ops->embed(be, e, table, ids, 6, d, add, 0.88f, div, 7);
    int ok = 1;
    for (int t = 0; t < 6; t++)
        for (int j = 0; j < d; j++) {
            float want = ids[t] == 7 ? 0.0f : ((table[(size_t)ids[t] * d + j] + add[j]) * 0.88f) / div[t];
            if (e[(size_t)t * d + j] != want) ok = 0;
        }
    CHECK(ok);
    be->ops->embed(be, e, table, ids, 6, d, NULL, 1.0f, NULL, -1);
    ok = 1;
    for (int t = 0; t < 6; t++)
        for (int j = 0; j < d; j++)
            if (e[(size_t)t * d + j] != table[(size_t)ids[t] * d + j]) ok = 0;
    CHECK(ok);
    free(x), free(out), free(ref), free(table), free(add), free(e);
}

static void test_slopes(void)
{
    float s[16];
    vnp_alibi_slopes(12, s);
    const uint32_t want[12] = {0x3f000000, 0x3e800000, 0x3e000000, 0x3d800000, 0x3d000000, 0x3c800000,
                               0x3c000000, 0x3b800000, 0x3f3504f3, 0x3eb504f3, 0x3e3504f3, 0x3db504f3};
    int ok = 1;
    for (int h = 0; h < 12; h++) {
        uint32_t bits;
        memcpy(&bits, &s[h], 4);
        if (bits != want[h]) {
            ok = 0;
            fprintf(stderr, "slope %d: %08x, want %08x\n", h, bits, want[h]);
        }
    }
    CHECK(ok);
    vnp_alibi_slopes(8, s);
    CHECK(s[0] == 0.5f && s[7] == 0.00390625f);
    vnp_alibi_slopes(16, s);
    CHECK_NEAR(s[0], 0.70710678, 1e-7);
}

int main(void)
{
    /* one thread, and three threads splitting the GEMM columns */
    for (int run = 0; run < 2; run++) {
        int threads = run == 1 ? 3 : 1;
        vnp_backend *be = vnp_backend_cpu_create(threads);
        CHECK(be != NULL);
        if (!be) break;
        printf("-- %d thread(s)\n", be->nthreads);
        test_gemm(be, 1, 1, 1, 0, 0);
        test_gemm(be, 37, 19, 23, 1, 0);
        test_gemm(be, 130, 96, 64, 1, 1);
        test_gemm(be, 65, 200, 128, 0, 1);
        test_gemm(be, 50, 300, 800, 1, 1); /* a deep k and several column slices */
        test_gemm(be, 13, 530, 390, 1, 0);
        test_layernorm(be, 5, 7, 1e-5f);
        test_layernorm(be, 33, 768, 1e-12f);
        test_gelu(be, 9, 300);
        int l1[3] = {1, 6, 77}, l2[5] = {130, 5, 33, 1, 70}, l3[1] = {700}, l4[2] = {66, 64};
        test_rope(be, l1, 3, 2, 8, 1.0f);
        test_rope(be, l2, 5, 3, 24, 1.0f / sqrtf(24.0f));
        test_attention(be, l1, 3, 2, 16, 0.25f, 0);
        test_attention(be, l2, 5, 3, 24, 1.0f, 0);
        test_attention(be, l2, 5, 12, 16, 0.125f, 1);
        test_attention(be, l4, 2, 2, 64, 0.125f, 1);
        test_attention(be, l3, 1, 2, 16, 0.25f, 1); /* long: many key blocks, bias far off the diagonal */
        test_rope_merged(be, l2, 5, 3, 16, 0.25f);
        test_rope_merged(be, l4, 2, 2, 64, 0.125f);
        test_pool_embed(be);
        vnp_backend_free(be);
    }
    test_slopes();
    vnp_backend_free(NULL);
    VNP_TEST_END();
}
