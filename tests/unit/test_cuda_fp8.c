/* The FP8 path of the CUDA backend on a GPU with FP8 tensor cores: quantized rows byte-identical to the CPU reference
 * (vnp_fp8_quantize_row), the fused LayerNorm (with the residual add) and GELU quantizers and the dequantize pass
 * against a double reference, the FP8 GEMM against the exact product of its FP8 operands, and a random ESM-2 through --precision fp8 against the CPU. Without CUDA, a GPU, or FP8 on the GPU it
 * prints a skip line and exits 0. */
#include "vnp_test.h"

#include <stdint.h>

#ifndef VNP_HAVE_CUDA
int main(void)
{
    (void)vnp_test_pass;
    (void)vnp_test_fail;
    printf("test_cuda_fp8: built without CUDA: 0 passed, 0 failed, 1 skipped\n");
    return 0;
}
#else

#include "vnp/backend.h"
#include "vnp/backend_cuda.h"
#include "vnp/model.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float rnd(double amp)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)(((double)(rng >> 11) / 4503599627370496.0 - 1.0) * amp);
}

/* n floats onto the device as FP16 (converted there); *rounded gets the FP16 values back as floats */
static void *up16(vnp_cuda *c, const float *h, size_t n, float **rounded)
{
    float *d32 = vnp_cuda_alloc(c, n * 4);
    void *d16 = vnp_cuda_alloc(c, n * 2);
    CHECK(vnp_cuda_upload(c, d32, h, n * 4) == VNP_OK);
    vnp_cuda_convert(c, d16, VNP_CUDA_F16, d32, VNP_CUDA_F32, n);
    if (rounded) {
        *rounded = malloc(n * 4);
        vnp_cuda_convert(c, d32, VNP_CUDA_F32, d16, VNP_CUDA_F16, n);
        CHECK(vnp_cuda_download(c, *rounded, d32, n * 4) == VNP_OK);
    }
    CHECK(vnp_cuda_sync(c) == VNP_OK);
    vnp_cuda_release(c, d32);
    return d16;
}

static float *down16(vnp_cuda *c, const void *d16, size_t n)
{
    float *d32 = vnp_cuda_alloc(c, n * 4), *h = malloc(n * 4);
    vnp_cuda_convert(c, d32, VNP_CUDA_F32, d16, VNP_CUDA_F16, n);
    CHECK(vnp_cuda_download(c, h, d32, n * 4) == VNP_OK);
    vnp_cuda_release(c, d32);
    return h;
}

static float *rand_vec(size_t n, double amp)
{
    float *v = malloc(n * 4);
    for (size_t i = 0; i < n; i++) v[i] = rnd(amp);
    return v;
}

/* quant_rows on FP16 input: the same bytes and scales as the CPU reference */
static void test_quant_rows(vnp_cuda *c, int rows, int d)
{
    size_t n = (size_t)rows * d;
    float *x = rand_vec(n, 4.0), *xr = NULL;
    for (int r = 0; r < rows; r++) x[(size_t)r * d + (r * 7) % d] = 30.0f + (float)r; /* an outlier per row */
    if (rows > 2)
        for (int j = 0; j < d; j++) x[(size_t)2 * d + j] = 0.0f; /* a zero row */
    void *dx = up16(c, x, n, &xr);
    uint8_t *q8 = vnp_cuda_alloc(c, n), *got = malloc(n), *want = malloc(n);
    float *s = vnp_cuda_alloc(c, (size_t)rows * 4), *gs = malloc((size_t)rows * 4);
    vnp_cuda_fp8_quant_rows(c, VNP_CUDA_F16, q8, s, dx, rows, d, (size_t)d);
    CHECK_MSG(vnp_cuda_sync(c) == VNP_OK, "%s", vnp_cuda_error(c));
    CHECK(vnp_cuda_download(c, got, q8, n) == VNP_OK && vnp_cuda_download(c, gs, s, (size_t)rows * 4) == VNP_OK);
    size_t diff = 0, sdiff = 0;
    for (int r = 0; r < rows; r++) {
        float ws = vnp_fp8_quantize_row(xr + (size_t)r * d, d, want + (size_t)r * d);
        sdiff += ws != gs[r];
    }
    for (size_t i = 0; i < n; i++) diff += got[i] != want[i];
    CHECK_MSG(diff == 0 && sdiff == 0, "quant_rows %dx%d: %zu bytes and %zu scales differ from the CPU", rows, d, diff,
              sdiff);
    free(x); free(xr); free(got); free(want); free(gs);
    vnp_cuda_release(c, dx); vnp_cuda_release(c, q8); vnp_cuda_release(c, s);
}

/* ||deq(q8) - ref|| / ||ref|| over the rows, with the scales as given */
static double deq_error(const uint8_t *q, const float *s, const double *ref, int rows, int d)
{
    double num = 0, den = 0;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < d; j++) {
            double v = (double)vnp_fp8_to_float(q[(size_t)r * d + j]) * s[r], e = ref[(size_t)r * d + j];
            num += (v - e) * (v - e);
            den += e * e;
        }
    return sqrt(num / (den + 1e-300));
}

/* a GEMM output of rows x n: z values in FP16 and scales, with the values they stand for in val */
typedef struct {
    void *dz, *db;
    float *dzs, *dws, *z, *zs, *ws, *b;
    double *val;
} gout;

static gout make_gout(vnp_cuda *c, int rows, int n)
{
    gout g;
    float *z = rand_vec((size_t)rows * n, 300.0), *b = rand_vec(n, 0.5);
    g.zs = malloc((size_t)rows * 4);
    g.ws = malloc((size_t)n * 4);
    for (int r = 0; r < rows; r++) g.zs[r] = (1.0f + rnd(0.5)) / 448.0f;
    for (int j = 0; j < n; j++) g.ws[j] = (0.02f + rnd(0.01)) / 448.0f;
    g.dz = up16(c, z, (size_t)rows * n, &g.z);
    g.db = up16(c, b, n, &g.b);
    g.dzs = vnp_cuda_alloc(c, (size_t)rows * 4);
    g.dws = vnp_cuda_alloc(c, (size_t)n * 4);
    CHECK(vnp_cuda_upload(c, g.dzs, g.zs, (size_t)rows * 4) == VNP_OK);
    CHECK(vnp_cuda_upload(c, g.dws, g.ws, (size_t)n * 4) == VNP_OK);
    g.val = malloc((size_t)rows * n * sizeof *g.val);
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < n; j++)
            g.val[(size_t)r * n + j] = (double)g.zs[r] * g.ws[j] * 262144.0 * g.z[(size_t)r * n + j] + g.b[j];
    free(z);
    free(b);
    return g;
}

static void free_gout(vnp_cuda *c, gout *g)
{
    vnp_cuda_release(c, g->dz); vnp_cuda_release(c, g->db); vnp_cuda_release(c, g->dzs); vnp_cuda_release(c, g->dws);
    free(g->z); free(g->zs); free(g->ws); free(g->b); free(g->val);
}

/* the fused quantizers: LayerNorm after the residual add of a GEMM output (x updated too), GELU of a GEMM output;
 * dequantized results within FP8 rounding of the double reference */
static void test_fused(vnp_cuda *c, int rows, int d)
{
    size_t n = (size_t)rows * d;
    float *x = rand_vec(n, 3.0), *w = rand_vec(d, 1.0), *b = rand_vec(d, 0.5), *xr, *wr, *br;
    void *dx = up16(c, x, n, &xr), *dw = up16(c, w, d, &wr), *db = up16(c, b, d, &br);
    gout g = make_gout(c, rows, d);
    uint8_t *q8 = vnp_cuda_alloc(c, n), *got = malloc(n);
    float *s = vnp_cuda_alloc(c, (size_t)rows * 4), *gs = malloc((size_t)rows * 4);
    double *ref = malloc(n * sizeof *ref), *sum = malloc(n * sizeof *sum);
    for (size_t i = 0; i < n; i++) sum[i] = (double)xr[i] + g.val[i];
    for (int pass = 0; pass < 3; pass++) { /* LayerNorm of x, of x + GEMM output, GELU of the GEMM output */
        for (int r = 0; r < rows; r++) {
            const double *xi = sum + (size_t)r * d;
            double mean = 0, var = 0;
            for (int j = 0; j < d; j++) mean += pass ? xi[j] : xr[(size_t)r * d + j];
            mean /= d;
            for (int j = 0; j < d; j++) {
                double t = (pass ? xi[j] : xr[(size_t)r * d + j]) - mean;
                var += t * t;
            }
            var /= d;
            for (int j = 0; j < d; j++) {
                double v = pass ? xi[j] : xr[(size_t)r * d + j], gv = g.val[(size_t)r * d + j];
                ref[(size_t)r * d + j] = pass < 2 ? (v - mean) / sqrt(var + 1e-5) * wr[j] + br[j]
                                                  : 0.5 * gv * (1.0 + erf(gv / sqrt(2.0)));
            }
        }
        vnp_cuda_q8out o = {g.dz, g.dzs, g.dws, g.db};
        if (pass < 2)
            vnp_cuda_fp8_layernorm(c, VNP_CUDA_F16, q8, s, dx, pass ? &o : NULL, dw, db, rows, d, 1e-5f);
        else
            vnp_cuda_fp8_gelu(c, VNP_CUDA_F16, q8, s, &o, rows, d);
        CHECK_MSG(vnp_cuda_sync(c) == VNP_OK, "%s", vnp_cuda_error(c));
        CHECK(vnp_cuda_download(c, got, q8, n) == VNP_OK && vnp_cuda_download(c, gs, s, (size_t)rows * 4) == VNP_OK);
        double e = deq_error(got, gs, ref, rows, d);
        CHECK_MSG(e < 0.04, "%s %dx%d: relative error %.4f after FP8",
                  pass == 0 ? "layernorm_q8" : pass == 1 ? "residual + layernorm_q8" : "gelu_q8", rows, d, e);
        if (pass == 1) { /* the residual stream now holds x + values(g), rounded to FP16 */
            float *xn = down16(c, dx, n);
            double num = 0, den = 0;
            for (size_t i = 0; i < n; i++) num += (xn[i] - sum[i]) * (xn[i] - sum[i]), den += sum[i] * sum[i];
            CHECK_MSG(sqrt(num / den) < 1e-3, "residual add %dx%d: relative error %.3g", rows, d, sqrt(num / den));
            free(xn);
        }
    }
    free(x); free(w); free(b); free(xr); free(wr); free(br); free(got); free(gs); free(ref); free(sum);
    free_gout(c, &g);
    vnp_cuda_release(c, dx); vnp_cuda_release(c, dw); vnp_cuda_release(c, db);
    vnp_cuda_release(c, q8); vnp_cuda_release(c, s);
}

/* the dequantize pass, with the residual add into another buffer, then in place without it */
static void test_dequant(vnp_cuda *c, int rows, int n)
{
    gout g = make_gout(c, rows, n);
    size_t cnt = (size_t)rows * n;
    float *y0 = rand_vec(cnt, 2.0), *y0r;
    /* add = 1 first: the in-place pass (add = 0) overwrites z, which the other pass still reads */
    for (int add = 1; add >= 0; add--) {
        void *dy = add ? up16(c, y0, cnt, &y0r) : g.dz;
        vnp_cuda_q8out o = {g.dz, g.dzs, g.dws, g.db};
        vnp_cuda_fp8_dequant(c, VNP_CUDA_F16, dy, &o, rows, n, add);
        CHECK_MSG(vnp_cuda_sync(c) == VNP_OK, "%s", vnp_cuda_error(c));
        float *got = down16(c, dy, cnt);
        double num = 0, den = 0;
        for (size_t i = 0; i < cnt; i++) {
            double want = g.val[i] + (add ? y0r[i] : 0.0);
            num += (got[i] - want) * (got[i] - want);
            den += want * want;
        }
        CHECK_MSG(sqrt(num / den) < 1e-3, "dequant %dx%d add %d: relative error %.3g", rows, n, add, sqrt(num / den));
        free(got);
        if (add) {
            free(y0r);
            vnp_cuda_release(c, dy);
        }
    }
    free(y0);
    free_gout(c, &g);
}

/* z = 2^-18 x8 W8^T in FP16 against the double product of the FP8 operands */
static void test_gemm(vnp_cuda *c, int m, int n, int k)
{
    float *x = rand_vec((size_t)m * k, 2.0), *w = rand_vec((size_t)n * k, 1.0 / sqrt(k));
    uint8_t *qx = malloc((size_t)m * k), *qw = malloc((size_t)n * k);
    for (int i = 0; i < m; i++) (void)vnp_fp8_quantize_row(x + (size_t)i * k, k, qx + (size_t)i * k);
    for (int j = 0; j < n; j++) (void)vnp_fp8_quantize_row(w + (size_t)j * k, k, qw + (size_t)j * k);
    void *dqx = vnp_cuda_alloc(c, (size_t)m * k), *dqw = vnp_cuda_alloc(c, (size_t)n * k);
    CHECK(vnp_cuda_upload(c, dqx, qx, (size_t)m * k) == VNP_OK && vnp_cuda_upload(c, dqw, qw, (size_t)n * k) == VNP_OK);
    void *dz = vnp_cuda_alloc(c, (size_t)m * n * 2);
    vnp_cuda_fp8_gemm(c, VNP_CUDA_F16, dz, dqx, dqw, m, n, k);
    CHECK_MSG(vnp_cuda_sync(c) == VNP_OK, "%s", vnp_cuda_error(c));
    float *got = down16(c, dz, (size_t)m * n);
    double num = 0, den = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int t = 0; t < k; t++)
                s += (double)vnp_fp8_to_float(qx[(size_t)i * k + t]) * vnp_fp8_to_float(qw[(size_t)j * k + t]);
            s *= 1.0 / 262144.0;
            double g = got[(size_t)i * n + j];
            num += (g - s) * (g - s);
            den += s * s;
        }
    double rel = sqrt(num / den);
    CHECK_MSG(rel < 1e-3 && rel == rel, "fp8 gemm %dx%dx%d: relative error %.3g", m, n, k, rel);
    free(x); free(w); free(qx); free(qw); free(got);
    vnp_cuda_release(c, dqx); vnp_cuda_release(c, dqw); vnp_cuda_release(c, dz);
}

/* A random ESM-2 (8M shape) through --precision fp8 against the CPU in FP32; switched back to FP16 it is FP16. */
static void test_encoder(void)
{
    vnp_encoder_config cfg;
    CHECK(vnp_encoder_config_named("esm2_8m", &cfg) == VNP_OK);
    const int nseq = 5, lens[5] = {3, 40, 170, 66, 129};
    int32_t cu[6] = {0};
    for (int s = 0; s < nseq; s++) cu[s + 1] = cu[s] + lens[s];
    int T = cu[nseq], D = cfg.dim;
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    float *ref = malloc((size_t)nseq * D * 4), *got = malloc((size_t)nseq * D * 4);
    for (int t = 0; t < T; t++) ids[t] = 4 + (int32_t)((rnd(1.0) + 1.0) * 10);
    vnp_backend *cpu = vnp_backend_cpu_create(2), *gb = NULL;
    vnp_encoder *ec = cpu ? vnp_encoder_random(cpu, &cfg, 7) : NULL;
    CHECK(ec && vnp_encoder_reserve(ec, T, nseq) == VNP_OK && vnp_encoder_forward(ec, ids, cu, nseq, ref, NULL) == 0);
    CHECK(vnp_backend_open(VNP_DEVICE_CUDA, 0, 1, "fp8", &gb) == VNP_OK);
    vnp_encoder *eg = gb ? vnp_encoder_random(gb, &cfg, 7) : NULL;
    CHECK(eg && vnp_encoder_fp8(eg));
    CHECK(gb && strcmp(vnp_backend_precision(gb), "fp8") == 0);
    for (int fp8 = 1; eg && fp8 >= 0; fp8--) {
        vnp_encoder_set_fp8(eg, fp8);
        if (vnp_encoder_reserve(eg, T, nseq) || vnp_encoder_forward(eg, ids, cu, nseq, got, NULL)) {
            CHECK_MSG(0, "fp8=%d: forward failed", fp8);
            continue;
        }
        double worst = 1;
        for (int s = 0; s < nseq; s++) {
            double dot = 0, na = 0, nb = 0;
            for (int j = 0; j < D; j++) {
                double a = ref[(size_t)s * D + j], b = got[(size_t)s * D + j];
                dot += a * b, na += a * a, nb += b * b;
            }
            double cs = dot / (sqrt(na * nb) + 1e-30);
            if (cs < worst) worst = cs;
        }
        printf("test_cuda_fp8: esm2_8m x%d layers %s vs CPU fp32: min cosine %.6f\n", cfg.layers, fp8 ? "fp8" : "fp16",
               worst);
        CHECK_MSG(worst >= (fp8 ? 0.99 : 0.999), "%s: cosine %.6f", fp8 ? "fp8" : "fp16", worst);
    }
    vnp_encoder_free(eg);
    vnp_backend_free(gb);
    vnp_encoder_free(ec);
    vnp_backend_free(cpu);
    free(ids); free(ref); free(got);
}

int main(void)
{
    if (vnp_cuda_device_count() == 0) {
        printf("test_cuda_fp8: no CUDA device: skipped (0 passed, 0 failed, 1 skipped)\n");
        return 0;
    }
    char err[256];
    vnp_cuda *c = vnp_cuda_create(0, err, sizeof err);
    CHECK_MSG(c != NULL, "vnp_cuda_create: %s", err);
    if (!c) VNP_TEST_END();
    int major, minor;
    if (!vnp_cuda_fp8_capable(c, &major, &minor)) {
        vnp_backend *be = NULL;
        CHECK_EQ_INT(vnp_backend_open(VNP_DEVICE_CUDA, 0, 1, "fp8", &be), VNP_ERR_UNSUPPORTED);
        printf("test_cuda_fp8: %s (compute capability %d.%d) has no FP8: refused as it should be; kernels skipped\n",
               vnp_cuda_device_name(c), major, minor);
        vnp_cuda_free(c);
        VNP_TEST_END();
    }
    printf("test_cuda_fp8: %s, compute capability %d.%d\n", vnp_cuda_device_name(c), major, minor);
    test_quant_rows(c, 7, 2560);
    test_quant_rows(c, 3, 100);
    test_quant_rows(c, 5, 44);
    test_fused(c, 9, 2560);
    test_fused(c, 4, 10240);
    test_fused(c, 3, 100);
    test_fused(c, 5, 512);
    test_dequant(c, 7, 7680);
    test_dequant(c, 3, 100);
    test_gemm(c, 37, 128, 64);
    test_gemm(c, 200, 256, 512);
    test_gemm(c, 1, 48, 32);
    CHECK_MSG(vnp_cuda_sync(c) == VNP_OK, "%s", vnp_cuda_error(c));
    vnp_cuda_free(c);
    test_encoder();
    VNP_TEST_END();
}
#endif
