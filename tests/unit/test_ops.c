/* The op test: every op of the backend op table (vnp/backend.h), called through be->ops, on the CPU backend (one
 * thread, and three splitting the work) and, in a build with CUDA on a machine with a GPU, on the CUDA backend in
 * FP32 and in FP16. Shapes cover the models' (ESM-2 3B: D 2560, 40 heads of 64, rotary, FFN 10240; DNABERT-S: D 768,
 * 12 heads of 64, ALiBi, gated GELU 3072) with few rows, packed batches of several sequences of odd lengths, and
 * small odd sizes. Every output is compared with an FP64 reference computed here and with the first backend's output:
 * FP32 within a max absolute difference per op, FP16 within a relative (2-norm) error; nothing NaN or unwritten.
 * Inputs are FP16-representable, so every backend holds the same numbers.
 *
 * A new op or kernel gets its check here. What is not per-op stays with its backend: test_backend_cpu.c (ALiBi
 * slopes, the GELU reference) and test_backend_cuda.c (GEMM plans and tuning, kernel variants, the fused LayerNorm
 * and GELU epilogue, the attention block plan, whole encoders). Without a GPU the CUDA half says it was skipped. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/backend.h"
#include "vnp_test.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- the backends under test ---- */

typedef struct {
    const char *name;
    vnp_backend *be;
    int fp16;
} target;

static target tg[4];
static int ntg;
static int alloc_failed; /* set by dev_raw; a case skips its op rather than hand it NULL */

static void open_targets(void)
{
    static const char *cpu_names[2] = {"cpu", "cpu x3"};
    for (int i = 0; i < 2; i++) {
        vnp_backend *be = vnp_backend_cpu_create(i ? 3 : 1);
        CHECK_MSG(be != NULL, "%s backend", cpu_names[i]);
        if (be) tg[ntg++] = (target){cpu_names[i], be, 0};
    }
#ifdef VNP_HAVE_CUDA
    if (vnp_cuda_usable()) {
        static const char *cuda_names[2] = {"cuda fp32", "cuda fp16"};
        for (int fp16 = 0; fp16 < 2; fp16++) {
            vnp_backend *be = vnp_backend_cuda_create(0, fp16, NULL);
            CHECK_MSG(be != NULL, "%s backend", cuda_names[fp16]);
            if (be) tg[ntg++] = (target){cuda_names[fp16], be, fp16};
        }
    } else {
        printf("test_ops: no CUDA device: the CUDA half is skipped (CPU only)\n");
    }
#else
    printf("test_ops: built without CUDA: the CUDA half is skipped (CPU only)\n");
#endif
}

/* ---- inputs ---- */

static uint64_t rng = 88172645463325252ull;
static double uni(void) /* uniform in [0, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* x rounded to the nearest FP16 value (ties to even; FP16 subnormals flushed to 0). |x| stays far below 65504. */
static float q16(float x)
{
    if (fabsf(x) < 6.103515625e-05f) return 0.0f;
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t rem = u & 0x1FFFu;
    u &= ~0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (u & 0x2000u))) u += 0x2000u;
    memcpy(&x, &u, 4);
    return x;
}

static float *rnd(size_t n, double amp) /* n FP16-representable values uniform in [-amp, amp) */
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = q16((float)((uni() * 2.0 - 1.0) * amp));
    return p;
}

static double *dalloc(size_t n) { return malloc((n ? n : 1) * sizeof(double)); }

/* A packed batch of sequences of the given lengths. */
typedef struct {
    int n, T, max_len;
    int32_t cu[17];
} batch;

static batch mkbatch(const int *lens, int n)
{
    batch b = {n, 0, 0, {0}};
    for (int s = 0; s < n; s++) {
        b.cu[s + 1] = b.cu[s] + lens[s];
        if (lens[s] > b.max_len) b.max_len = lens[s];
    }
    b.T = b.cu[n];
    return b;
}

/* ---- backend buffers ---- */

static void *dev_raw(target *t, const void *h, size_t bytes)
{
    void *d = t->be->ops->alloc(t->be, bytes ? bytes : 1);
    CHECK_MSG(d != NULL, "%s: alloc of %zu bytes", t->name, bytes);
    if (!d) alloc_failed = 1;
    else if (h && bytes) CHECK(t->be->ops->upload(t->be, d, h, bytes) == VNP_OK);
    return d;
}

/* n elements of the backend's type (FP32 or FP16) holding h, or NaN where h is NULL (unwritten outputs then fail) */
static void *dev_elems(target *t, const float *h, size_t n)
{
    void *d = dev_raw(t, NULL, n * vnp_be_elem(t->be));
    float *nan = NULL;
    if (!h) {
        nan = malloc((n ? n : 1) * sizeof *nan);
        for (size_t i = 0; i < n; i++) nan[i] = NAN;
    }
    if (d && n) CHECK(vnp_be_upload_f32(t->be, d, h ? h : nan, n) == VNP_OK);
    free(nan);
    return d;
}

/* an FP32 buffer (tables, pooled rows) of n NaNs */
static void *dev_f32_nan(target *t, size_t n)
{
    float *nan = malloc((n ? n : 1) * sizeof *nan);
    for (size_t i = 0; i < n; i++) nan[i] = NAN;
    void *d = dev_raw(t, nan, n * sizeof(float));
    free(nan);
    return d;
}

/* Waits for the backend, then n values from d as FP32: elements of the backend's type (elem) or FP32 ones. */
static float *host(target *t, const void *d, size_t n, int elem)
{
    float *h = malloc((n ? n : 1) * sizeof *h);
    for (size_t i = 0; i < n; i++) h[i] = NAN;
    CHECK_MSG(t->be->ops->sync(t->be) == VNP_OK, "%s: sync", t->name);
    if (d && n)
        CHECK(elem ? vnp_be_download_f32(t->be, h, d, n) == VNP_OK
                   : t->be->ops->download(t->be, h, d, n * sizeof(float)) == VNP_OK);
    return h;
}

static void drop(target *t, void *d) { t->be->ops->release(t->be, d); }

static vnp_varlen dev_varlen(target *t, const batch *b, void **cu_dev)
{
    *cu_dev = dev_raw(t, b->cu, (size_t)(b->n + 1) * sizeof(int32_t));
    vnp_varlen v = {b->n, b->max_len, b->cu, *cu_dev};
    return v;
}

/* ---- judging ---- */

/* out (n values) against the FP64 reference and against base, the first backend's output (NULL on the first).
 * FP32: max abs difference <= tol32 and relative 2-norm error <= 1e-5 (2 x tol32 against base); FP16 (when elem:
 * the output is in the backend's element type): relative 2-norm error <= tol16 (2 x against base). Every value
 * must be finite. */
static void judge(const char *what, const target *t, int elem, const float *out, const double *ref, const float *base,
                  size_t n, double tol32, double tol16)
{
    double mx = 0, num = 0, den = 0, bmx = 0, bnum = 0, bden = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) {
            bad++;
            continue;
        }
        double d = out[i] - ref[i];
        if (fabs(d) > mx) mx = fabs(d);
        num += d * d;
        den += ref[i] * ref[i];
        if (base) {
            double e = (double)out[i] - base[i];
            if (fabs(e) > bmx) bmx = fabs(e);
            bnum += e * e;
            bden += (double)base[i] * base[i];
        }
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num), brel = bden > 0 ? sqrt(bnum / bden) : sqrt(bnum);
    int h = elem && t->fp16;
    printf("  %-9s %-52s max abs %.2e rel %.2e", t->name, what, mx, rel);
    if (base) printf(" | vs %s: max abs %.2e rel %.2e", tg[0].name, bmx, brel);
    printf("\n");
    if (h)
        CHECK_MSG(bad == 0 && rel <= tol16 && (!base || brel <= 2 * tol16),
                  "%s on %s: relative error %.3g (vs %s %.3g), tol %.0e, %zu non-finite", what, t->name, rel,
                  tg[0].name, brel, tol16, bad);
    else
        CHECK_MSG(bad == 0 && mx <= tol32 && rel <= 1e-5 && (!base || bmx <= 2 * tol32),
                  "%s on %s: max abs diff %.3g (vs %s %.3g), rel %.3g, tol %.0e, %zu non-finite", what, t->name, mx,
                  tg[0].name, bmx, rel, tol32, bad);
}

/* keeps the first backend's output as the base of the others */
static void keep_base(float **base, float *out, int i)
{
    if (i == 0) *base = out;
    else free(out);
}

static const double TOL16 = 5e-3, TOL16_ATTN = 1e-2;

/* ---- the ops ---- */

static void case_gemm(const char *label, int m, int n, int k, int bias, int acc, double wamp)
{
    size_t mn = (size_t)m * n;
    float *x = rnd((size_t)m * k, 1), *w = rnd((size_t)n * k, wamp), *b = rnd((size_t)n, 1), *y0 = rnd(mn, 1);
    double *ref = dalloc(mn);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = acc ? y0[(size_t)i * n + j] : 0.0;
            if (bias) s += b[j];
            for (int t = 0; t < k; t++) s += (double)x[(size_t)i * k + t] * w[(size_t)j * k + t];
            ref[(size_t)i * n + j] = s;
        }
    char what[96];
    snprintf(what, sizeof what, "gemm %s m%d n%d k%d%s%s", label, m, n, k, bias ? " +bias" : "", acc ? " +acc" : "");
    float *base = NULL;
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        alloc_failed = 0;
        void *dx = dev_elems(t, x, (size_t)m * k), *dw = dev_elems(t, w, (size_t)n * k), *db = dev_elems(t, b, n);
        void *dy = dev_elems(t, acc ? y0 : NULL, mn);
        if (!alloc_failed) t->be->ops->gemm(t->be, dy, dx, dw, bias ? db : NULL, m, n, k, acc);
        float *out = host(t, dy, mn, 1);
        judge(what, t, 1, out, ref, base, mn, 8e-5 * sqrt((double)k) * wamp, TOL16);
        keep_base(&base, out, i);
        drop(t, dx), drop(t, dw), drop(t, db), drop(t, dy);
    }
    free(x), free(w), free(b), free(y0), free(ref), free(base);
}

static void case_layernorm(const char *label, int rows, int d, float eps)
{
    size_t n = (size_t)rows * d;
    float *x = rnd(n, 3), *w = rnd((size_t)d, 1), *b = rnd((size_t)d, 1);
    for (int i = 0; i < d; i++) x[i] = 0.25f; /* a constant row: variance 0, only eps guards it */
    double *ref = dalloc(n);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        double mu = 0, var = 0;
        for (int i = 0; i < d; i++) mu += xr[i];
        mu /= d;
        for (int i = 0; i < d; i++) var += (xr[i] - mu) * (xr[i] - mu);
        var /= d;
        for (int i = 0; i < d; i++) ref[(size_t)r * d + i] = (xr[i] - mu) / sqrt(var + eps) * w[i] + b[i];
    }
    char what[96], what_ip[112];
    snprintf(what, sizeof what, "layernorm %s rows%d d%d eps%g", label, rows, d, eps);
    snprintf(what_ip, sizeof what_ip, "%s in place", what);
    float *base = NULL, *base_ip = NULL;
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        alloc_failed = 0;
        void *dx = dev_elems(t, x, n), *dw = dev_elems(t, w, d), *db = dev_elems(t, b, d), *dy = dev_elems(t, NULL, n);
        if (!alloc_failed) t->be->ops->layernorm(t->be, dy, dx, dw, db, rows, d, eps);
        float *out = host(t, dy, n, 1);
        judge(what, t, 1, out, ref, base, n, 2e-5, TOL16);
        keep_base(&base, out, i);
        if (!alloc_failed) t->be->ops->layernorm(t->be, dx, dx, dw, db, rows, d, eps);
        out = host(t, dx, n, 1);
        judge(what_ip, t, 1, out, ref, base_ip, n, 2e-5, TOL16);
        keep_base(&base_ip, out, i);
        drop(t, dx), drop(t, dw), drop(t, db), drop(t, dy);
    }
    free(x), free(w), free(b), free(ref), free(base), free(base_ip);
}

static double gelu_d(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* bias_gelu on [rows, n] (with a bias or without), gated_gelu on [rows, 2n] -> [rows, n] */
static void case_gelu(const char *label, int rows, int n, int bias)
{
    size_t rn = (size_t)rows * n;
    float *x = rnd(rn, 6), *b = rnd((size_t)n, 1), *g = rnd(2 * rn, 5);
    double *ref = dalloc(rn), *gref = dalloc(rn);
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n; i++) {
            ref[(size_t)r * n + i] = gelu_d((double)x[(size_t)r * n + i] + (bias ? b[i] : 0.0));
            gref[(size_t)r * n + i] = gelu_d(g[(size_t)r * 2 * n + i]) * g[(size_t)r * 2 * n + n + i];
        }
    char what[96], gwhat[96];
    snprintf(what, sizeof what, "bias_gelu %s rows%d n%d%s", label, rows, n, bias ? " +bias" : "");
    snprintf(gwhat, sizeof gwhat, "gated_gelu %s rows%d f%d", label, rows, n);
    float *base = NULL, *gbase = NULL;
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        alloc_failed = 0;
        void *dx = dev_elems(t, x, rn), *db = dev_elems(t, b, n), *dg = dev_elems(t, g, 2 * rn);
        void *du = dev_elems(t, NULL, rn);
        if (!alloc_failed) {
            t->be->ops->bias_gelu(t->be, dx, bias ? db : NULL, rows, n);
            t->be->ops->gated_gelu(t->be, du, dg, rows, n);
        }
        float *out = host(t, dx, rn, 1);
        judge(what, t, 1, out, ref, base, rn, 5e-6, TOL16);
        keep_base(&base, out, i);
        out = host(t, du, rn, 1);
        judge(gwhat, t, 1, out, gref, gbase, rn, 5e-5, TOL16);
        keep_base(&gbase, out, i);
        drop(t, dx), drop(t, db), drop(t, dg), drop(t, du);
    }
    free(x), free(b), free(g), free(ref), free(gref), free(base), free(gbase);
}

/* inv_freq of a rotary embedding over hd columns (ESM-2's base 10000) */
static float *inv_freq(int hd)
{
    float *inv = malloc(sizeof(float) * (size_t)(hd / 2));
    for (int j = 0; j < hd / 2; j++) inv[j] = powf(10000.0f, -(float)(2 * j) / (float)hd);
    return inv;
}

/* rope_table, then rope on `heads` heads of hd columns of rows of ld >= heads*hd columns (the rest untouched) */
static void case_rope(const char *label, const int *lens, int nseq, int heads, int hd, int ld, float scale)
{
    batch bt = mkbatch(lens, nseq);
    int T = bt.T, half = hd / 2;
    size_t n = (size_t)T * ld, nt = (size_t)bt.max_len * half;
    float *x = rnd(n, 2), *inv = inv_freq(hd);
    double *tref = dalloc(2 * nt), *ref = dalloc(n);
    for (int p = 0; p < bt.max_len; p++)
        for (int j = 0; j < half; j++) {
            double th = (double)((float)p * inv[j]); /* the op's angle: an fp32 product */
            tref[(size_t)p * half + j] = (float)cos(th);
            tref[nt + (size_t)p * half + j] = (float)sin(th);
        }
    for (int s = 0; s < nseq; s++)
        for (int t = bt.cu[s]; t < bt.cu[s + 1]; t++)
            for (int c = 0; c < ld; c++) {
                double val = x[(size_t)t * ld + c];
                if (c < heads * hd) {
                    int j = c % hd, jj = j % half;
                    size_t tab = (size_t)(t - bt.cu[s]) * half + jj;
                    double co = tref[tab], si = tref[nt + tab];
                    double a = (double)x[(size_t)t * ld + c - j + jj] * scale;
                    double b = (double)x[(size_t)t * ld + c - j + jj + half] * scale;
                    val = j < half ? a * co - b * si : b * co + a * si;
                }
                ref[(size_t)t * ld + c] = val;
            }
    char what[112], twhat[96];
    snprintf(twhat, sizeof twhat, "rope_table %s npos%d half%d", label, bt.max_len, half);
    snprintf(what, sizeof what, "rope %s T%d nseq%d heads%d hd%d ld%d scale%g", label, T, nseq, heads, hd, ld, scale);
    float *base = NULL, *tbase = NULL;
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        alloc_failed = 0;
        void *cu_dev, *dx = dev_elems(t, x, n), *dt = dev_f32_nan(t, 2 * nt);
        vnp_varlen v = dev_varlen(t, &bt, &cu_dev);
        float *ct = dt, *st = (float *)dt + nt;
        if (!alloc_failed) {
            t->be->ops->rope_table(t->be, ct, st, inv, bt.max_len, half);
            t->be->ops->rope(t->be, dx, ld, heads, hd, scale, ct, st, &v);
        }
        float *out = host(t, dt, 2 * nt, 0);
        judge(twhat, t, 0, out, tref, tbase, 2 * nt, 1.2e-7, 0);
        keep_base(&tbase, out, i);
        out = host(t, dx, n, 1);
        judge(what, t, 1, out, ref, base, n, 1e-5, TOL16);
        keep_base(&base, out, i);
        drop(t, dx), drop(t, dt), drop(t, cu_dev);
    }
    free(x), free(inv), free(tref), free(ref), free(base), free(tbase);
}

/* attention over q | k | v of a [T, 3D] buffer into out [T, D + 4] (the 4 extra columns must stay untouched; an
 * even row stride, as the FP16 tensor-core kernel requires of its output, or it would test only the simple kernel) */
static void case_attention(const char *label, const int *lens, int nseq, int heads, int hd, float scale, int alibi,
                           double amp)
{
    batch bt = mkbatch(lens, nseq);
    int T = bt.T, D = heads * hd, ld = 3 * D, ldo = D + 4;
    float *qkv = rnd((size_t)T * ld, amp), *init = rnd((size_t)T * ldo, 1), slopes[128];
    for (int t = 0; t < T; t++)
        for (int c = 0; c < D; c++) init[(size_t)t * ldo + c] = NAN; /* every one of these must be written */
    vnp_alibi_slopes(heads, slopes);
    double *ref = dalloc((size_t)T * ldo), *p = dalloc((size_t)bt.max_len);
    for (size_t i = 0; i < (size_t)T * ldo; i++) ref[i] = init[i];
    for (int s = 0; s < nseq; s++)
        for (int h = 0; h < heads; h++)
            for (int i = bt.cu[s]; i < bt.cu[s + 1]; i++) {
                double mx = -INFINITY, sum = 0;
                for (int j = bt.cu[s]; j < bt.cu[s + 1]; j++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++)
                        dot += (double)qkv[(size_t)i * ld + h * hd + d] * qkv[(size_t)j * ld + D + h * hd + d];
                    p[j - bt.cu[s]] = dot * scale + (alibi ? (double)slopes[h] * -fabs((double)(i - j)) : 0.0);
                    if (p[j - bt.cu[s]] > mx) mx = p[j - bt.cu[s]];
                }
                for (int j = 0; j < lens[s]; j++) sum += p[j] = exp(p[j] - mx);
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int j = 0; j < lens[s]; j++) o += p[j] * qkv[(size_t)(bt.cu[s] + j) * ld + 2 * D + h * hd + d];
                    ref[(size_t)i * ldo + h * hd + d] = o / sum;
                }
            }
    char what[112];
    snprintf(what, sizeof what, "attention %s T%d nseq%d max_len%d heads%d hd%d%s", label, T, nseq, bt.max_len, heads,
             hd, alibi ? " alibi" : "");
    float *base = NULL;
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        alloc_failed = 0;
        void *cu_dev, *dqkv = dev_elems(t, qkv, (size_t)T * ld), *dout = dev_elems(t, init, (size_t)T * ldo);
        void *dsl = dev_raw(t, slopes, sizeof(float) * (size_t)heads);
        vnp_varlen v = dev_varlen(t, &bt, &cu_dev);
        if (!alloc_failed)
            t->be->ops->attention(t->be, dout, ldo, dqkv, vnp_be_at(t->be, dqkv, (size_t)D),
                                  vnp_be_at(t->be, dqkv, 2 * (size_t)D), ld, heads, hd, scale, alibi ? dsl : NULL, &v);
        float *out = host(t, dout, (size_t)T * ldo, 1);
        judge(what, t, 1, out, ref, base, (size_t)T * ldo, 2e-5, TOL16_ATTN);
        keep_base(&base, out, i);
        drop(t, dqkv), drop(t, dout), drop(t, dsl), drop(t, cu_dev);
    }
    free(qkv), free(init), free(ref), free(p), free(base);
}

/* ESM-2's two ways to the same attention (src/model/esm2.c): q scaled and rotated, k rotated, scores unscaled; or q
 * and k rotated in one pass over 2H heads and the (power-of-two) scale applied to the scores. In FP32 equal to the
 * bit. In FP16 only within FP16 tolerance: a scaled q component that falls among FP16's subnormals (|q| < 2^-14 /
 * scale before scaling) keeps fewer bits than the unscaled one, so an output can differ in its last bits. */
static void case_rope_merged(const char *label, const int *lens, int nseq, int heads, int hd, float scale)
{
    batch bt = mkbatch(lens, nseq);
    int T = bt.T, D = heads * hd, ld = 3 * D, half = hd / 2;
    float *qkv = rnd((size_t)T * ld, 1.5f), *inv = inv_freq(hd);
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        vnp_backend *be = t->be;
        alloc_failed = 0;
        void *cu_dev, *a = dev_elems(t, qkv, (size_t)T * ld), *b = dev_elems(t, qkv, (size_t)T * ld);
        void *oa = dev_elems(t, NULL, (size_t)T * D), *ob = dev_elems(t, NULL, (size_t)T * D);
        float *tab = dev_f32_nan(t, 2 * (size_t)bt.max_len * half), *ct = tab, *st = tab + (size_t)bt.max_len * half;
        vnp_varlen v = dev_varlen(t, &bt, &cu_dev);
        if (!alloc_failed) {
            be->ops->rope_table(be, ct, st, inv, bt.max_len, half);
            be->ops->rope(be, a, ld, heads, hd, scale, ct, st, &v);
            be->ops->rope(be, vnp_be_at(be, a, (size_t)D), ld, heads, hd, 1.0f, ct, st, &v);
            be->ops->attention(be, oa, D, a, vnp_be_at(be, a, (size_t)D), vnp_be_at(be, a, 2 * (size_t)D), ld, heads,
                               hd, 1.0f, NULL, &v);
            be->ops->rope(be, b, ld, 2 * heads, hd, 1.0f, ct, st, &v);
            be->ops->attention(be, ob, D, b, vnp_be_at(be, b, (size_t)D), vnp_be_at(be, b, 2 * (size_t)D), ld, heads,
                               hd, scale, NULL, &v);
        }
        size_t n = (size_t)T * D, eb = vnp_be_elem(be), diff = 0;
        unsigned char *ha = malloc(n * eb), *hb = malloc(n * eb);
        CHECK(be->ops->sync(be) == VNP_OK);
        CHECK(be->ops->download(be, ha, oa, n * eb) == VNP_OK && be->ops->download(be, hb, ob, n * eb) == VNP_OK);
        for (size_t j = 0; j < n; j++) diff += memcmp(ha + j * eb, hb + j * eb, eb) != 0;
        printf("  %-9s rope q,k merged %s heads%d hd%d scale%g: %zu of %zu outputs differ\n", t->name, label, heads,
               hd, scale, diff, n);
        if (t->fp16) {
            float *fa = host(t, oa, n, 1), *fb = host(t, ob, n, 1);
            double *ref = dalloc(n);
            for (size_t j = 0; j < n; j++) ref[j] = fa[j];
            char what[96];
            snprintf(what, sizeof what, "rope q,k merged %s vs separate", label);
            judge(what, t, 1, fb, ref, NULL, n, 0, TOL16_ATTN);
            free(fa), free(fb), free(ref);
        } else {
            CHECK_MSG(diff == 0, "rope merged %s on %s: %zu outputs differ", label, t->name, diff);
        }
        free(ha), free(hb);
        drop(t, a), drop(t, b), drop(t, oa), drop(t, ob), drop(t, tab), drop(t, cu_dev);
    }
    free(qkv), free(inv);
}

static void case_mean_pool(const char *label, const int *lens, int nseq, int d, int skip_first, int skip_last,
                           int max_rows)
{
    batch bt = mkbatch(lens, nseq);
    size_t n = (size_t)nseq * d;
    float *x = rnd((size_t)bt.T * d, 2);
    double *ref = dalloc(n);
    for (int s = 0; s < nseq; s++) {
        int m = lens[s] - skip_first - skip_last;
        if (max_rows >= 0 && m > max_rows) m = max_rows;
        for (int j = 0; j < d; j++) {
            double acc = 0;
            for (int r = 0; r < m; r++) acc += x[(size_t)(bt.cu[s] + skip_first + r) * d + j];
            ref[(size_t)s * d + j] = m > 0 ? acc / m : 0.0;
        }
    }
    char what[96];
    snprintf(what, sizeof what, "mean_pool %s nseq%d d%d skip %d/%d max %d", label, nseq, d, skip_first, skip_last,
             max_rows);
    float *base = NULL;
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        alloc_failed = 0;
        void *cu_dev, *dx = dev_elems(t, x, (size_t)bt.T * d), *dout = dev_f32_nan(t, n);
        vnp_varlen v = dev_varlen(t, &bt, &cu_dev);
        if (!alloc_failed) t->be->ops->mean_pool(t->be, dout, dx, d, skip_first, skip_last, max_rows, &v);
        float *out = host(t, dout, n, 0); /* FP32 on every backend, from inputs every backend holds exactly */
        judge(what, t, 0, out, ref, base, n, 1e-6, 0);
        keep_base(&base, out, i);
        drop(t, dx), drop(t, dout), drop(t, cu_dev);
    }
    free(x), free(ref), free(base);
}

/* embed of `rows` ids from a [vocab, d] table; every fifth row (from the third) carries zero_id when it is >= 0 */
static void case_embed(const char *label, int rows, int d, int vocab, int add, float mul, int div, int zero_id)
{
    size_t n = (size_t)rows * d;
    float *table = rnd((size_t)vocab * d, 1), *add_row = rnd((size_t)d, 1), *rdiv = malloc(sizeof(float) * rows);
    int32_t *ids = malloc(sizeof(int32_t) * rows);
    for (int t = 0; t < rows; t++) {
        ids[t] = (int32_t)(uni() * vocab) % vocab;
        if (zero_id >= 0 && t % 5 == 2) ids[t] = zero_id;
        rdiv[t] = (float)(0.5 + uni());
    }
    /* The op is FP32 arithmetic in a fixed order: the reference is that expression, which FP32 backends match
     * exactly (an FP64 one would only blur the check). */
    double *ref = dalloc(n);
    for (int t = 0; t < rows; t++)
        for (int j = 0; j < d; j++) {
            float v = table[(size_t)ids[t] * d + j];
            if (add) v += add_row[j];
            v *= mul;
            if (div) v /= rdiv[t];
            ref[(size_t)t * d + j] = ids[t] == zero_id ? 0.0 : v;
        }
    char what[96];
    snprintf(what, sizeof what, "embed %s rows%d d%d vocab%d%s mul%g%s", label, rows, d, vocab, add ? " +row" : "", mul,
             div ? " /row" : "");
    float *base = NULL;
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        alloc_failed = 0;
        void *dtab = dev_elems(t, table, (size_t)vocab * d), *dadd = dev_elems(t, add_row, d);
        void *dids = dev_raw(t, ids, sizeof(int32_t) * rows), *ddiv = dev_raw(t, rdiv, sizeof(float) * rows);
        void *dx = dev_elems(t, NULL, n);
        if (!alloc_failed)
            t->be->ops->embed(t->be, dx, dtab, dids, rows, d, add ? dadd : NULL, mul, div ? ddiv : NULL, zero_id);
        float *out = host(t, dx, n, 1);
        judge(what, t, 1, out, ref, base, n, 0, TOL16);
        keep_base(&base, out, i);
        drop(t, dtab), drop(t, dadd), drop(t, dids), drop(t, ddiv), drop(t, dx);
    }
    free(table), free(add_row), free(rdiv), free(ids), free(ref), free(base);
}

/* upload_f32 / download_f32: FP32 comes back as it went; FP16 as the nearest FP16 value. And the non-finite flag
 * where a backend has one: a LayerNorm over a row holding NaN raises it, a reset clears it. */
static void case_convert_nonfinite(void)
{
    enum { N = 1000, D = 64 };
    float v[N];
    for (int i = 0; i < N; i++) {
        v[i] = (float)((uni() * 2.0 - 1.0) * 1000.0);
        if (fabsf(v[i]) < 1e-3f) v[i] = 1.0f; /* clear of FP16's subnormals, which q16 flushes */
    }
    for (int i = 0; i < ntg; i++) {
        target *t = &tg[i];
        alloc_failed = 0;
        void *d = dev_elems(t, v, N);
        float *out = host(t, d, N, 1);
        int same = 1;
        for (int j = 0; j < N; j++) same &= out[j] == (t->fp16 ? q16(v[j]) : v[j]);
        printf("  %-9s upload_f32/download_f32 of %d values: %s\n", t->name, N, same ? "as expected" : "DIFFERENT");
        CHECK_MSG(same, "%s: upload_f32/download_f32 round trip", t->name);
        free(out);
        drop(t, d);
        if (!t->be->ops->nonfinite) {
            printf("  %-9s non-finite flag: none on this backend\n", t->name);
            continue;
        }
        float *x = rnd(4 * D, 1), *w = rnd(D, 1), *b = rnd(D, 1);
        x[2 * D + 7] = NAN;
        void *dx = dev_elems(t, x, 4 * D), *dw = dev_elems(t, w, D), *db = dev_elems(t, b, D);
        CHECK_EQ_INT(t->be->ops->nonfinite(t->be, 1), 0);
        if (!alloc_failed) t->be->ops->layernorm(t->be, dx, dx, dw, db, 4, D, 1e-5f);
        CHECK_MSG(t->be->ops->nonfinite(t->be, 1) == 1, "%s: a NaN row did not raise the non-finite flag", t->name);
        CHECK_EQ_INT(t->be->ops->nonfinite(t->be, 0), 0);
        CHECK(t->be->ops->sync(t->be) == VNP_OK);
        free(x), free(w), free(b);
        drop(t, dx), drop(t, dw), drop(t, db);
    }
}

int main(void)
{
    open_targets();
    if (!ntg) VNP_TEST_END();
    printf("test_ops: %d backend(s):", ntg);
    for (int i = 0; i < ntg; i++) printf(" %s%s", tg[i].name, i + 1 < ntg ? "," : "\n");
    const double esm_w = 1.0 / sqrt(2560.0), dna_w = 1.0 / sqrt(768.0);
    /* packed batches: small odd ones, one long sequence (many key blocks, ALiBi far off the diagonal), the GPU
     * kernels' block boundaries (64/65 rows, short runs sharing a block), and a model-sized mix */
    const int odd3[3] = {1, 6, 77}, mix5[5] = {130, 5, 33, 1, 70}, long1[1] = {700}, pair[2] = {66, 64};
    const int blocks8[8] = {1, 17, 64, 65, 130, 333, 3, 2}, model7[7] = {1, 3, 17, 64, 65, 77, 130};
    const int pool4[4] = {1, 2, 7, 40};

    printf("-- gemm\n");
    case_gemm("small", 1, 1, 1, 0, 0, 0.5);
    case_gemm("odd", 37, 19, 23, 1, 0, 0.5);
    case_gemm("odd", 13, 530, 390, 1, 0, 0.5);
    case_gemm("acc", 65, 200, 128, 0, 1, 0.5);
    case_gemm("deep k", 50, 300, 800, 1, 1, 0.5);
    case_gemm("dnabert-s qkv", 23, 2304, 768, 1, 0, dna_w);
    case_gemm("dnabert-s out", 23, 768, 768, 1, 1, dna_w);
    case_gemm("dnabert-s ffn up", 23, 6144, 768, 1, 0, dna_w);
    case_gemm("dnabert-s ffn down", 23, 768, 3072, 1, 1, 1.0 / sqrt(3072.0));
    case_gemm("esm-2 qkv", 5, 7680, 2560, 1, 0, esm_w); /* the output projection's n and k are these ones' */
    case_gemm("esm-2 ffn up", 5, 10240, 2560, 1, 0, esm_w);
    case_gemm("esm-2 ffn down", 5, 2560, 10240, 1, 1, 1.0 / sqrt(10240.0));

    printf("-- layernorm\n");
    case_layernorm("small", 5, 7, 1e-5f);
    case_layernorm("odd", 3, 100, 1e-5f);
    case_layernorm("dnabert-s", 33, 768, 1e-12f);
    case_layernorm("esm-2", 9, 2560, 1e-5f);

    printf("-- gelu\n");
    case_gelu("small", 3, 13, 1);
    case_gelu("odd", 9, 300, 0);
    case_gelu("dnabert-s", 23, 3072, 1);
    case_gelu("esm-2", 9, 10240, 1);

    printf("-- rope_table, rope\n");
    case_rope("small", odd3, 3, 2, 8, 16 + 5, 1.0f);
    case_rope("odd", mix5, 5, 3, 24, 72 + 5, 1.0f / sqrtf(24.0f));
    case_rope("esm-2 q", model7, 7, 40, 64, 3 * 2560, 0.125f);
    case_rope("esm-2 q,k", model7, 7, 80, 64, 3 * 2560, 1.0f);

    printf("-- attention\n");
    case_attention("small", odd3, 3, 2, 16, 0.25f, 0, 1.5);
    case_attention("odd", mix5, 5, 3, 24, 1.0f, 0, 1.5);
    case_attention("odd", mix5, 5, 12, 16, 0.125f, 1, 1.5);
    case_attention("pair", pair, 2, 2, 64, 0.125f, 1, 1.5);
    case_attention("long", long1, 1, 2, 16, 0.25f, 1, 1.5);
    case_attention("blocks", blocks8, 8, 2, 64, 0.125f, 0, 1.0);
    case_attention("blocks", blocks8, 8, 2, 64, 0.125f, 1, 1.0);
    case_attention("hd128", blocks8 + 1, 3, 1, 128, 0.0883883476f, 0, 1.0);
    case_attention("hd80", blocks8 + 1, 3, 2, 80, 0.1118034f, 1, 1.0);
    case_attention("dnabert-s", model7, 7, 12, 64, 0.125f, 1, 1.5);
    case_attention("esm-2", model7, 6, 40, 64, 0.125f, 0, 1.5);

    printf("-- rope + attention, ESM-2's merged rotation\n");
    case_rope_merged("odd", mix5, 5, 3, 16, 0.25f);
    case_rope_merged("pair", pair, 2, 2, 64, 0.125f);
    case_rope_merged("esm-2", model7, 7, 40, 64, 0.125f);

    printf("-- mean_pool\n");
    case_mean_pool("all rows", pool4, 4, 300, 0, 0, -1);
    case_mean_pool("skip ends", pool4, 4, 300, 1, 1, 1024);
    case_mean_pool("capped", pool4, 4, 300, 1, 1, 3);
    case_mean_pool("blocks", blocks8, 8, 96, 1, 1, 100);
    case_mean_pool("dnabert-s", model7, 7, 768, 0, 0, -1);
    case_mean_pool("esm-2", model7, 7, 2560, 1, 1, -1);

    printf("-- embed\n");
    case_embed("small", 6, 300, 10, 1, 0.88f, 1, 7);
    case_embed("plain", 6, 300, 10, 0, 1.0f, 0, -1);
    case_embed("dnabert-s", 357, 768, 512, 1, 1.0f, 0, -1);
    case_embed("esm-2", 357, 2560, 33, 0, 0.88f, 1, 32);

    printf("-- upload_f32 / download_f32, non-finite flag\n");
    case_convert_nonfinite();

    for (int i = 0; i < ntg; i++) vnp_backend_free(tg[i].be);
    VNP_TEST_END();
}
