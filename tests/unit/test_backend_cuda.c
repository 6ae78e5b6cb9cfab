/* Unit tests for the CUDA kernels (backend/cuda) below the op table: what test_ops.c (every op through the op
 * table, against an FP64 reference, on CPU and CUDA) cannot reach. Against a double CPU reference on random inputs:
 * the fused residual LayerNorm, the GELU epilogue of the GEMM, the FP16 GELU passes in place and gated, rotary and
 * attention without the per-batch plan (the kernels' fallback) and with it, the GEMM plans retargeted across row
 * counts (tuned and not, as VIRNUCPRO_CUDA_INVARIANT=0 uses them), conversion and the non-finite flag; and
 * whole encoders through the CUDA op table against the CPU backend. Built wherever nvcc is (VNP_HAVE_CUDA); with no
 * CUDA device (CI) it prints a skip line and exits 0. */
#include "vnp_test.h"

#include <stdint.h>

#ifndef VNP_HAVE_CUDA

int main(void)
{
    (void)vnp_test_pass;
    (void)vnp_test_fail;
    printf("test_backend_cuda: built without CUDA: 0 passed, 0 failed, 1 skipped\n");
    return 0;
}

#else

#include "vnp/backend_cuda.h"
#include "vnp/model.h"

#include <math.h>
#include <stdlib.h>

/* ---- host helpers: RNG, IEEE binary16 conversion, device buffers in either element type ---- */

static uint64_t rng_state = 88172645463325252ull;
static double uni(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static float rnd(double amp) { return (float)((uni() * 2.0 - 1.0) * amp); }

/* float -> binary16, round to nearest even (normal, subnormal, overflow to inf). */
static uint16_t f2h(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7FFFFFu;
    int exp = (int)((x >> 23) & 0xFF);
    if (exp == 0xFF) return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0));
    int e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        int shift = 14 - e;
        uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* a carry into the exponent is still right */
    return (uint16_t)(sign | h);
}

static float h2f(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FFu, x;
    if (e == 0) {
        float v = (float)m * (1.0f / 16777216.0f); /* subnormal: m * 2^-24 */
        return sign ? -v : v;
    }
    if (e == 31) x = sign | 0x7F800000u | (m << 13);
    else x = sign | ((e - 15 + 127) << 23) | (m << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static size_t esz(vnp_cuda_dtype dt) { return dt == VNP_CUDA_F16 ? 2 : 4; }

/* n random values as the element type holds them */
static float *rand_vec(size_t n, double amp, vnp_cuda_dtype dt)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = dt == VNP_CUDA_F16 ? h2f(f2h(rnd(amp))) : rnd(amp);
    return v;
}

static void *up(vnp_cuda *c, vnp_cuda_dtype dt, const float *h, size_t n)
{
    void *d = vnp_cuda_alloc(c, n * esz(dt));
    if (dt == VNP_CUDA_F16) {
        uint16_t *t = malloc(n * 2);
        for (size_t i = 0; i < n; i++) t[i] = f2h(h[i]);
        CHECK(vnp_cuda_upload(c, d, t, n * 2) == VNP_OK);
        free(t);
    } else {
        CHECK(vnp_cuda_upload(c, d, h, n * 4) == VNP_OK);
    }
    return d;
}

static float *down(vnp_cuda *c, vnp_cuda_dtype dt, const void *d, size_t n)
{
    float *h = malloc(n * sizeof *h);
    if (dt == VNP_CUDA_F16) {
        uint16_t *t = malloc(n * 2);
        CHECK(vnp_cuda_download(c, t, d, n * 2) == VNP_OK);
        for (size_t i = 0; i < n; i++) h[i] = h2f(t[i]);
        free(t);
    } else {
        CHECK(vnp_cuda_download(c, h, d, n * 4) == VNP_OK);
    }
    return h;
}

/* ||out - ref|| / ||ref|| within tol, and nothing NaN (outputs start as NaN: unwritten elements fail). */
static void expect_close(const char *what, vnp_cuda_dtype dt, const float *out, const double *ref, size_t n, double tol)
{
    double num = 0, den = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) {
            bad++;
            continue;
        }
        num += (out[i] - ref[i]) * (out[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    CHECK_MSG(bad == 0 && rel <= tol, "%s (%s): relative error %.3g (tol %.0g), %zu non-finite", what,
              dt == VNP_CUDA_F16 ? "fp16" : "fp32", rel, tol, bad);
}

static void *nan_buf(vnp_cuda *c, size_t bytes)
{
    void *d = vnp_cuda_alloc(c, bytes);
    unsigned char *t = malloc(bytes);
    memset(t, 0xFF, bytes); /* NaN in both element types */
    CHECK(vnp_cuda_upload(c, d, t, bytes) == VNP_OK);
    free(t);
    return d;
}

static double gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double tol_of(vnp_cuda_dtype dt) { return dt == VNP_CUDA_F16 ? 5e-3 : 1e-5; }

/* ---- the ops ---- */

static void test_gemm(vnp_cuda *c, vnp_cuda_dtype dt, int m, int n, int k, int epi, int acc)
{
    float *x = rand_vec((size_t)m * k, 1.0, dt), *w = rand_vec((size_t)n * k, 1.0 / sqrt(k), dt);
    float *b = rand_vec(n, 0.5, dt), *y0 = rand_vec((size_t)m * n, 1.0, dt);
    void *dx = up(c, dt, x, (size_t)m * k), *dw = up(c, dt, w, (size_t)n * k), *db = up(c, dt, b, n);
    void *dy = acc ? up(c, dt, y0, (size_t)m * n) : nan_buf(c, (size_t)m * n * esz(dt));
    vnp_cuda_gemm(c, dt, dy, dx, dw, epi ? db : NULL, m, n, k, acc, epi);
    CHECK(vnp_cuda_sync(c) == VNP_OK);
    double *ref = malloc((size_t)m * n * sizeof *ref);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = epi ? b[j] : 0.0;
            for (int t = 0; t < k; t++) s += (double)x[(size_t)i * k + t] * w[(size_t)j * k + t];
            if (acc) s += y0[(size_t)i * n + j];
            ref[(size_t)i * n + j] = epi == VNP_CUDA_EPI_BIAS_GELU ? gelu(s) : s;
        }
    float *out = down(c, dt, dy, (size_t)m * n);
    expect_close("gemm", dt, out, ref, (size_t)m * n, tol_of(dt));
    free(x); free(w); free(b); free(y0); free(ref); free(out);
    vnp_cuda_release(c, dx); vnp_cuda_release(c, dw); vnp_cuda_release(c, db); vnp_cuda_release(c, dy);
}

static void test_layernorm(vnp_cuda *c, vnp_cuda_dtype dt, int rows, int d)
{
    size_t n = (size_t)rows * d;
    float *x = rand_vec(n, 3.0, dt), *r = rand_vec(n, 1.0, dt), *w = rand_vec(d, 1.0, dt), *b = rand_vec(d, 0.5, dt);
    void *dx = up(c, dt, x, n), *dr = up(c, dt, r, n), *dw = up(c, dt, w, d), *db = up(c, dt, b, d);
    void *dy = nan_buf(c, n * esz(dt));
    vnp_cuda_layernorm(c, dt, dy, dx, dx, dr, dw, db, rows, d, 1e-5f); /* sum written over x */
    CHECK(vnp_cuda_sync(c) == VNP_OK);
    double *ref = malloc(n * sizeof *ref), *sref = malloc(n * sizeof *sref);
    for (int i = 0; i < rows; i++) {
        double s = 0, q = 0;
        for (int j = 0; j < d; j++) s += (sref[(size_t)i * d + j] = (double)x[(size_t)i * d + j] + r[(size_t)i * d + j]);
        double mean = s / d;
        for (int j = 0; j < d; j++) q += (sref[(size_t)i * d + j] - mean) * (sref[(size_t)i * d + j] - mean);
        double rstd = 1.0 / sqrt(q / d + 1e-5);
        for (int j = 0; j < d; j++) ref[(size_t)i * d + j] = (sref[(size_t)i * d + j] - mean) * rstd * w[j] + b[j];
    }
    float *out = down(c, dt, dy, n), *sum = down(c, dt, dx, n);
    expect_close("layernorm", dt, out, ref, n, tol_of(dt));
    expect_close("layernorm residual sum", dt, sum, sref, n, tol_of(dt));
    free(x); free(r); free(w); free(b); free(ref); free(sref); free(out); free(sum);
    vnp_cuda_release(c, dx); vnp_cuda_release(c, dr); vnp_cuda_release(c, dw); vnp_cuda_release(c, db);
    vnp_cuda_release(c, dy);
}

static void test_gelus(vnp_cuda *c, vnp_cuda_dtype dt, int rows, int f)
{
    size_t n = (size_t)rows * f;
    float *g = rand_vec(2 * n, 2.0, dt), *b = rand_vec(f, 0.5, dt);
    void *dg = up(c, dt, g, 2 * n), *db = up(c, dt, b, f), *du = nan_buf(c, n * esz(dt));
    vnp_cuda_gated_gelu(c, dt, du, dg, rows, f);
    vnp_cuda_bias_gelu(c, dt, dg, db, 2 * rows, f); /* in place over g viewed as [2 rows, f] */
    CHECK(vnp_cuda_sync(c) == VNP_OK);
    double *ref = malloc(2 * n * sizeof *ref);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < f; j++) ref[(size_t)i * f + j] = gelu(g[(size_t)i * 2 * f + j]) * g[(size_t)i * 2 * f + f + j];
    float *out = down(c, dt, du, n);
    expect_close("gated_gelu", dt, out, ref, n, tol_of(dt));
    free(out);
    for (size_t i = 0; i < 2 * n; i++) ref[i] = gelu((double)g[i] + b[i % f]);
    out = down(c, dt, dg, 2 * n);
    expect_close("bias_gelu", dt, out, ref, 2 * n, tol_of(dt));
    free(g); free(b); free(ref); free(out);
    vnp_cuda_release(c, dg); vnp_cuda_release(c, db); vnp_cuda_release(c, du);
}

/* q (scaled) and k rotated in place, then attention over them without and with the batch's tile plan (row -> sequence
 * map, attention blocks). Both against one double reference. */
static void test_rope_attention(vnp_cuda *c, vnp_cuda_dtype dt, const int *lens, int nseq, int heads, int hd,
                                int alibi)
{
    int32_t cu[64];
    cu[0] = 0;
    int maxlen = 0;
    for (int s = 0; s < nseq; s++) {
        cu[s + 1] = cu[s] + lens[s];
        if (lens[s] > maxlen) maxlen = lens[s];
    }
    int T = cu[nseq], D = heads * hd, ld = 3 * D, half = hd / 2;
    size_t n = (size_t)T * ld;
    float *qkv = rand_vec(n, 1.0, dt), inv[128], slopes[64];
    for (int j = 0; j < half; j++) inv[j] = h2f(f2h(1.0f / powf(10000.0f, (float)(2 * j) / (float)hd)));
    for (int h = 0; h < heads; h++) slopes[h] = powf(2.0f, -8.0f * (float)(h + 1) / (float)heads);
    int32_t *dcu = vnp_cuda_alloc(c, sizeof cu), *drs = vnp_cuda_alloc(c, (size_t)T * 4);
    CHECK(vnp_cuda_upload(c, dcu, cu, (size_t)(nseq + 1) * 4) == VNP_OK);
    float *dinv = up(c, VNP_CUDA_F32, inv, half), *dsl = up(c, VNP_CUDA_F32, slopes, heads);
    float *dcos = vnp_cuda_alloc(c, (size_t)maxlen * half * 4), *dsin = vnp_cuda_alloc(c, (size_t)maxlen * half * 4);
    void *dqkv = up(c, dt, qkv, n);
    void *dout = nan_buf(c, (size_t)T * D * esz(dt)), *dout2 = nan_buf(c, (size_t)T * D * esz(dt));
    vnp_cuda_varlen vl = {.nseq = nseq, .rows = T, .max_len = maxlen, .cu_dev = dcu};
    vnp_cuda_rope_table(c, dcos, dsin, dinv, maxlen, half);
    vnp_cuda_row_seq(c, drs, &vl);
    float qs = 1.0f / sqrtf((float)hd), sc = alibi ? qs : 1.0f, qmul = alibi ? 1.0f : qs;
    size_t e = esz(dt);
    vnp_cuda_rope(c, dt, dqkv, ld, heads, hd, qmul, dcos, dsin, &vl);
    vnp_cuda_rope(c, dt, (char *)dqkv + (size_t)D * e, ld, heads, hd, 1.0f, dcos, dsin, &vl);
    vnp_cuda_attention(c, dt, dout, D, dqkv, (char *)dqkv + (size_t)D * e, (char *)dqkv + (size_t)2 * D * e, ld, heads,
                       hd, sc, alibi ? dsl : NULL, &vl);
    vl.row_seq_dev = drs;
    int32_t tiles[2 * VNP_CUDA_ATTN_TILES_MAX(2000, 64)];
    vl.ntiles = vnp_cuda_attention_tiles(cu, nseq, tiles, VNP_CUDA_ATTN_TILES_MAX(2000, 64));
    CHECK(vl.ntiles > 0);
    int32_t *dtiles = vnp_cuda_alloc(c, sizeof tiles);
    CHECK(vnp_cuda_upload(c, dtiles, tiles, (size_t)vl.ntiles * 8) == VNP_OK);
    vl.tiles_dev = dtiles;
    vnp_cuda_attention(c, dt, dout2, D, dqkv, (char *)dqkv + (size_t)D * e, (char *)dqkv + (size_t)2 * D * e, ld, heads,
                       hd, sc, alibi ? dsl : NULL, &vl);
    CHECK(vnp_cuda_sync(c) == VNP_OK);
    /* reference: rotate (double), then softmax attention per row and head over its own sequence */
    double *rq = malloc(n * sizeof *rq), *ref = malloc((size_t)T * D * sizeof *ref), *p = malloc((size_t)T * sizeof *p);
    for (size_t i = 0; i < n; i++) rq[i] = qkv[i];
    for (int s = 0; s < nseq; s++)
        for (int t = cu[s]; t < cu[s + 1]; t++)
            for (int part = 0; part < 2; part++)
                for (int h = 0; h < heads; h++)
                    for (int j = 0; j < half; j++) {
                        float th = (float)(t - cu[s]) * inv[j];
                        double cc = (float)cos((double)th), ss = (float)sin((double)th), m = part ? 1.0 : qmul;
                        size_t o = (size_t)t * ld + (size_t)part * D + (size_t)h * hd + j;
                        double a = qkv[o] * m, b = qkv[o + half] * m;
                        rq[o] = a * cc - b * ss;
                        rq[o + half] = b * cc + a * ss;
                    }
    float *rotq = down(c, dt, dqkv, n);
    double *rref = malloc(n * sizeof *rref);
    for (size_t i = 0; i < n; i++) rref[i] = rq[i];
    expect_close("rope", dt, rotq, rref, n, tol_of(dt));
    for (int s = 0; s < nseq; s++)
        for (int i = cu[s]; i < cu[s + 1]; i++)
            for (int h = 0; h < heads; h++) {
                double mx = -INFINITY, l = 0;
                for (int j = cu[s]; j < cu[s + 1]; j++) {
                    double d = 0;
                    for (int k = 0; k < hd; k++) d += rq[(size_t)i * ld + h * hd + k] * rq[(size_t)j * ld + D + h * hd + k];
                    d *= sc;
                    if (alibi) d += (double)slopes[h] * -(double)abs(i - j);
                    p[j] = d;
                    if (d > mx) mx = d;
                }
                for (int j = cu[s]; j < cu[s + 1]; j++) l += (p[j] = exp(p[j] - mx));
                for (int k = 0; k < hd; k++) {
                    double o = 0;
                    for (int j = cu[s]; j < cu[s + 1]; j++) o += p[j] * qkv[(size_t)j * ld + 2 * D + h * hd + k];
                    ref[(size_t)i * D + h * hd + k] = o / l;
                }
            }
    float *out = down(c, dt, dout, (size_t)T * D), *out2 = down(c, dt, dout2, (size_t)T * D);
    double atol = dt == VNP_CUDA_F16 ? 1e-2 : 1e-5;
    expect_close(alibi ? "attention (ALiBi)" : "attention", dt, out, ref, (size_t)T * D, atol);
    expect_close(alibi ? "attention with tiles (ALiBi)" : "attention with tiles", dt, out2, ref, (size_t)T * D, atol);
    free(qkv); free(rq); free(ref); free(p); free(rotq); free(rref); free(out); free(out2);
    vnp_cuda_release(c, dcu); vnp_cuda_release(c, drs); vnp_cuda_release(c, dinv); vnp_cuda_release(c, dsl);
    vnp_cuda_release(c, dcos); vnp_cuda_release(c, dsin); vnp_cuda_release(c, dqkv);
    vnp_cuda_release(c, dout); vnp_cuda_release(c, dout2); vnp_cuda_release(c, dtiles);
}

static void test_convert_flag(vnp_cuda *c)
{
    enum { N = 1000 };
    float v[N];
    double ref[N];
    for (int i = 0; i < N; i++) {
        v[i] = rnd(1000.0);
        ref[i] = h2f(f2h(v[i]));
    }
    float *d32 = up(c, VNP_CUDA_F32, v, N), *back = nan_buf(c, N * 4);
    void *d16 = nan_buf(c, N * 2);
    vnp_cuda_convert(c, d16, VNP_CUDA_F16, d32, VNP_CUDA_F32, N);
    vnp_cuda_convert(c, back, VNP_CUDA_F32, d16, VNP_CUDA_F16, N);
    float *out = down(c, VNP_CUDA_F32, back, N);
    expect_close("convert (device rounding = host rounding)", VNP_CUDA_F32, out, ref, N, 0.0);
    CHECK_EQ_INT(vnp_cuda_nonfinite(c, 1), 0);
    vnp_cuda_check_finite(c, VNP_CUDA_F16, d16, N);
    CHECK_EQ_INT(vnp_cuda_nonfinite(c, 1), 0);
    float inf = INFINITY;
    CHECK(vnp_cuda_upload(c, d32 + 500, &inf, 4) == VNP_OK);
    vnp_cuda_check_finite(c, VNP_CUDA_F32, d32, N);
    CHECK_EQ_INT(vnp_cuda_nonfinite(c, 1), 1);
    CHECK_EQ_INT(vnp_cuda_nonfinite(c, 0), 0);
    CHECK(vnp_cuda_sync(c) == VNP_OK);
    free(out);
    vnp_cuda_release(c, d32); vnp_cuda_release(c, back); vnp_cuda_release(c, d16);
}

/* The attention block plan is host code: it runs without a device. */
static void test_tiles(void)
{
    const int32_t cu[] = {0, 10, 30, 30, 200, 201, 240, 264, 265};
    int32_t t[2 * VNP_CUDA_ATTN_TILES_MAX(265, 8)];
    int n = vnp_cuda_attention_tiles(cu, 8, t, VNP_CUDA_ATTN_TILES_MAX(265, 8));
    /* [0,30) two short ones; [30,200) a long one in 64-row blocks; [200,264) three short ones fill 64; [264,265) */
    const int32_t want[] = {0, 30, 30, 94, 94, 158, 158, 200, 200, 264, 264, 265};
    CHECK_EQ_INT(n, 6);
    CHECK(n == 6 && memcmp(t, want, sizeof want) == 0);
    CHECK_EQ_INT(vnp_cuda_attention_tiles(cu, 8, t, 3), -1);
}

/* A random encoder of a named shape (layers cut to `layers`) on the CPU and through the CUDA op table (FP32 and
 * FP16), on a packed batch of mixed lengths: pooled rows within 1e-4 (FP32) and cosine >= 0.999 (FP16). */
static void test_encoder(const char *shape, int layers)
{
    vnp_encoder_config cfg;
    CHECK(vnp_encoder_config_named(shape, &cfg) == VNP_OK);
    cfg.layers = layers;
    const int nseq = 6, lens[6] = {3, 40, 170, 7, 66, 129};
    int32_t cu[7] = {0};
    for (int s = 0; s < nseq; s++) cu[s + 1] = cu[s] + lens[s];
    int T = cu[nseq], D = cfg.dim;
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    float *ref = malloc((size_t)nseq * D * sizeof(float)), *got = malloc((size_t)nseq * D * sizeof(float));
    for (int t = 0; t < T; t++) ids[t] = 4 + (int32_t)(uni() * 20);
    vnp_backend *cpu = vnp_backend_cpu_create(2);
    vnp_encoder *ec = cpu ? vnp_encoder_random(cpu, &cfg, 7) : NULL;
    CHECK(ec && vnp_encoder_reserve(ec, T, nseq) == VNP_OK && vnp_encoder_forward(ec, ids, cu, nseq, ref, NULL) == 0);
    for (int fp16 = 0; fp16 <= 1; fp16++) {
        vnp_backend *gb = vnp_backend_cuda_create(0, fp16, NULL);
        vnp_encoder *eg = gb ? vnp_encoder_random(gb, &cfg, 7) : NULL;
        CHECK_MSG(eg != NULL, "%s: CUDA encoder", shape);
        if (!eg || vnp_encoder_reserve(eg, T, nseq) || vnp_encoder_forward(eg, ids, cu, nseq, got, NULL)) {
            CHECK_MSG(0, "%s fp16=%d: forward failed", shape, fp16);
        } else {
            double worst_abs = 0, worst_cos = 1;
            for (int s = 0; s < nseq; s++) {
                double dot = 0, na = 0, nb = 0;
                for (int j = 0; j < D; j++) {
                    double a = ref[(size_t)s * D + j], b = got[(size_t)s * D + j];
                    dot += a * b, na += a * a, nb += b * b;
                    if (fabs(a - b) > worst_abs) worst_abs = fabs(a - b);
                }
                double cs = dot / (sqrt(na * nb) + 1e-30);
                if (cs < worst_cos) worst_cos = cs;
            }
            printf("test_backend_cuda: encoder %s x%d layers %s: max abs diff %.3g, min cosine %.6f\n", shape, layers,
                   fp16 ? "fp16" : "fp32", worst_abs, worst_cos);
            if (fp16)
                CHECK_MSG(worst_cos >= 0.999, "%s fp16: cosine %.6f", shape, worst_cos);
            else
                CHECK_MSG(worst_abs <= 1e-4, "%s fp32: max abs diff %.3g", shape, worst_abs);
        }
        vnp_encoder_free(eg);
        vnp_backend_free(gb);
    }
    vnp_encoder_free(ec);
    vnp_backend_free(cpu);
    free(ids);
    free(ref);
    free(got);
}

int main(void)
{
    test_tiles();
    int n = vnp_cuda_device_count();
    if (n == 0) {
        printf("test_backend_cuda: no CUDA device: the kernel checks are skipped (%d passed, %d failed, 1 skipped)\n",
               vnp_test_pass, vnp_test_fail);
        return vnp_test_fail ? 1 : 0;
    }
    char err[256];
    vnp_cuda *c = vnp_cuda_create(0, err, sizeof err);
    CHECK_MSG(c != NULL, "vnp_cuda_create: %s", err);
    if (!c) VNP_TEST_END();
    printf("test_backend_cuda: %s\n", vnp_cuda_device_name(c));
    const vnp_cuda_dtype dts[2] = {VNP_CUDA_F16, VNP_CUDA_F32};
    const int lens[] = {1, 17, 64, 65, 130, 1100, 3, 2};
    for (int i = 0; i < 2; i++) {
        vnp_cuda_dtype dt = dts[i];
        /* plain GEMMs, LayerNorm without a residual, GELU and FP32 GELU, pooling and embedding: test_ops.c */
        test_gemm(c, dt, 20, 96, 64, VNP_CUDA_EPI_BIAS_GELU, 0);
        test_layernorm(c, dt, 9, 768);
        test_layernorm(c, dt, 3, 100);
        if (dt == VNP_CUDA_F16) { /* the FP16 GELU passes on odd widths; the op table's shapes are in test_ops.c */
            test_gelus(c, dt, 5, 3072);
            test_gelus(c, dt, 3, 13);
        }
        test_rope_attention(c, dt, lens, 8, 2, 64, 0);
        test_rope_attention(c, dt, lens, 8, 2, 64, 1);
        test_rope_attention(c, dt, lens + 1, 3, 1, 128, 0);
        test_rope_attention(c, dt, lens + 1, 3, 2, 80, 1);
    }
    /* one GEMM plan serves every row count of its bucket (here 2048, then 4096 with tuning): retargeted plans must
     * give the same results as fresh ones */
    for (int tune = 0; tune < 2; tune++) {
        vnp_cuda_set_gemm_tuning(c, tune);
        for (int m = tune ? 3000 : 1500; m > 1024; m -= tune ? 900 : 400) {
            test_gemm(c, VNP_CUDA_F16, m, 96, 64, VNP_CUDA_EPI_BIAS, 1);
            test_gemm(c, VNP_CUDA_F32, m, 40, 24, VNP_CUDA_EPI_NONE, 0);
        }
    }
    vnp_cuda_set_gemm_tuning(c, 0);
    test_convert_flag(c);
    CHECK_MSG(vnp_cuda_sync(c) == VNP_OK, "%s", vnp_cuda_error(c));
    vnp_cuda_free(c);
    test_encoder("esm2_8m", 6);
    test_encoder("dnabert_s", 2);
    VNP_TEST_END();
}

#endif
