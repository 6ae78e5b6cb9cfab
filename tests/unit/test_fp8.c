/* --precision fp8 without a GPU: the E4M3 reference (every code, rounding, saturation, subnormals), per-row
 * quantization and what it costs a dot product, the compute-capability rule, option parsing and backend choice,
 * and the self-check's bookkeeping and verdict. */
#include "vnp/backend.h"
#include "vnp_test.h"

static void test_codes(void)
{
    int roundtrip = 0, total = 0;
    for (int q = 0; q < 256; q++) {
        if ((q & 0x7F) == 0x7F) { /* NaN codes */
            CHECK(isnan(vnp_fp8_to_float((uint8_t)q)));
            continue;
        }
        float v = vnp_fp8_to_float((uint8_t)q);
        total++;
        roundtrip += vnp_fp8_from_float(v) == (uint8_t)q;
    }
    CHECK_EQ_INT(roundtrip, total);
    CHECK_NEAR(vnp_fp8_to_float(0x7E), 448.0, 0);
    CHECK_NEAR(vnp_fp8_to_float(0x08), 0.015625, 0);    /* smallest normal 2^-6 */
    CHECK_NEAR(vnp_fp8_to_float(0x01), 0.001953125, 0); /* smallest subnormal 2^-9 */
    CHECK_NEAR(vnp_fp8_to_float(0x38), 1.0, 0);
}

static void test_rounding(void)
{
    CHECK_EQ_INT(vnp_fp8_from_float(1.0625f), 0x38);  /* tie between 1 and 1.125: even (1) */
    CHECK_EQ_INT(vnp_fp8_from_float(1.1875f), 0x3A);  /* tie between 1.125 and 1.25: even (1.25) */
    CHECK_EQ_INT(vnp_fp8_from_float(1.06f), 0x38);
    CHECK_EQ_INT(vnp_fp8_from_float(1.07f), 0x39); /* past the tie */
    CHECK_EQ_INT(vnp_fp8_from_float(1.9375f), 0x40);  /* tie between 1.875 and 2: carries into the exponent */
    CHECK_EQ_INT(vnp_fp8_from_float(500.0f), 0x7E);   /* saturated, not NaN */
    CHECK_EQ_INT(vnp_fp8_from_float(460.0f), 0x7E);
    CHECK_EQ_INT(vnp_fp8_from_float(-1e9f), 0xFE);
    CHECK_EQ_INT(vnp_fp8_from_float(INFINITY), 0x7E);
    CHECK_EQ_INT(vnp_fp8_from_float(NAN) & 0x7F, 0x7F);
    CHECK_EQ_INT(vnp_fp8_from_float(ldexpf(1.0f, -10)), 0x00);     /* half the smallest subnormal: even (0) */
    CHECK_EQ_INT(vnp_fp8_from_float(3 * ldexpf(1.0f, -10)), 0x02); /* 1.5 steps: even (2) */
    CHECK_EQ_INT(vnp_fp8_from_float(-0.0f), 0x80);
    CHECK_EQ_INT(vnp_fp8_from_float(0.0157f), 0x08);
}

static uint64_t rng = 88172645463325252ull;
static float urand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 4503599627370496.0 - 1.0);
}

static void test_rows(void)
{
    enum { D = 512 };
    float x[D];
    uint8_t q[D];
    for (int c = 0; c < D; c++) x[c] = urand() * 3.0f;
    x[17] = -7.5f; /* amax */
    float s = vnp_fp8_quantize_row(x, D, q);
    CHECK_NEAR(s, 7.5 / 448.0, 1e-9);
    CHECK_EQ_INT(q[17], 0xFE);
    int within = 0;
    for (int c = 0; c < D; c++) {
        double back = (double)vnp_fp8_to_float(q[c]) * s, err = fabs(back - x[c]);
        /* 3 mantissa bits: half a step is 2^-4 of the value for normals; subnormals have a fixed step 2^-9 * s */
        within += err <= fabs(x[c]) * 0.0625 + s * ldexpf(1.0f, -10) + 1e-12;
    }
    CHECK_EQ_INT(within, D);
    float z[8] = {0}, n[3] = {1.0f, NAN, 2.0f};
    uint8_t qz[8], qn[3];
    CHECK_NEAR(vnp_fp8_quantize_row(z, 8, qz), 1.0, 0);
    CHECK_EQ_INT(qz[0] | qz[7], 0);
    CHECK(isnan(vnp_fp8_quantize_row(n, 3, qn)));
}

/* What the FP8 GEMM computes (row x channel scales, FP32 sums) against the FP32 product: a quantized dot product of
 * random rows keeps a cosine far above the self-check's 0.99 at K = 2560. */
static void test_gemm_math(void)
{
    enum { M = 8, N = 16, K = 2560 };
    static float a[M][K], w[N][K];
    static uint8_t qa[M][K], qw[N][K];
    float sa[M], sw[N];
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) a[i][k] = urand() * (k % 97 == 0 ? 8.0f : 1.0f); /* a few outliers */
    for (int j = 0; j < N; j++)
        for (int k = 0; k < K; k++) w[j][k] = urand() * 0.02f;
    for (int i = 0; i < M; i++) sa[i] = vnp_fp8_quantize_row(a[i], K, qa[i]);
    for (int j = 0; j < N; j++) sw[j] = vnp_fp8_quantize_row(w[j], K, qw[j]);
    double uv = 0, uu = 0, vv = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double ref = 0, acc = 0;
            for (int k = 0; k < K; k++) {
                ref += (double)a[i][k] * w[j][k];
                acc += (double)vnp_fp8_to_float(qa[i][k]) * vnp_fp8_to_float(qw[j][k]);
            }
            acc *= (double)sa[i] * sw[j];
            uv += ref * acc;
            uu += ref * ref;
            vv += acc * acc;
        }
    double cs = uv / sqrt(uu * vv);
    CHECK_MSG(cs > 0.998, "cosine %.6f", cs);
}

static void test_choice(void)
{
    CHECK(vnp_fp8_cc_ok(8, 9));
    CHECK(vnp_fp8_cc_ok(9, 0));
    CHECK(vnp_fp8_cc_ok(10, 0));
    CHECK(vnp_fp8_cc_ok(12, 0));
    CHECK(!vnp_fp8_cc_ok(8, 6));
    CHECK(!vnp_fp8_cc_ok(8, 0));
    CHECK(!vnp_fp8_cc_ok(7, 5));
    CHECK(vnp_precision_ok("fp8"));
    CHECK(vnp_precision_ok("fp16"));
    CHECK(vnp_precision_ok("fp32"));
    CHECK(!vnp_precision_ok("FP8"));
    CHECK(!vnp_precision_ok("bf16"));
    CHECK(!vnp_precision_ok(""));
    vnp_backend *be = NULL;
    CHECK_EQ_INT(vnp_backend_open(VNP_DEVICE_CPU, 0, 1, "fp8", &be), VNP_ERR_UNSUPPORTED);
    CHECK(be == NULL);
    if (!vnp_cuda_usable()) { /* auto falls to the CPU, which has no FP8: refused, not silently FP32 */
        CHECK_EQ_INT(vnp_backend_open(VNP_DEVICE_AUTO, 0, 1, "fp8", &be), VNP_ERR_UNSUPPORTED);
        CHECK_EQ_INT(vnp_backend_open(VNP_DEVICE_CUDA, 0, 1, "fp8", &be), VNP_ERR_UNSUPPORTED);
    }
    CHECK_EQ_INT(vnp_backend_open(VNP_DEVICE_CPU, 0, 1, "fp9", &be), VNP_ERR_USAGE);
    CHECK_EQ_INT(vnp_backend_open(VNP_DEVICE_CPU, 0, 1, "fp16", &be), VNP_OK);
    if (be) CHECK_EQ_STR(vnp_backend_precision(be), "fp32"); /* the CPU ignores fp16 */
    vnp_backend_free(be);
}

static void test_check(void)
{
    enum { D = 4 };
    float a[3 * D] = {1, 2, 3, 4, 0, 0, 0, 0, -1, 0.5f, 2, 1};
    float b[3 * D] = {1, 2, 3, 4, 0, 0, 0, 0, -1, 0.5f, 2, 1};
    vnp_fp8_check k;
    vnp_fp8_check_init(&k);
    vnp_fp8_check_features(&k, a, D, b, D, 3, D);
    CHECK_EQ_INT(k.frames, 3);
    CHECK_NEAR(k.min_cos, 1.0, 1e-12);
    CHECK_NEAR(k.sum_cos, 3.0, 1e-12);
    CHECK(!vnp_fp8_check_verdict(&k));
    /* a label flip near 0.5 is tolerated, one far from it is not */
    float p16[4] = {0.48f, 0.52f, 0.9f, 0.1f}, p8[4] = {0.51f, 0.49f, 0.9f, 0.1f};
    vnp_fp8_check_labels(&k, p16, p8, 2);
    CHECK_EQ_INT(k.labeled, 2);
    CHECK_EQ_INT(k.flips, 1);
    CHECK_EQ_INT(k.confident_flips, 0);
    CHECK(!vnp_fp8_check_verdict(&k));
    float q16[2] = {0.4f, 0.6f}, q8[2] = {0.6f, 0.4f}; /* FP16 score 0.6: 0.1 from 0.5 */
    vnp_fp8_check_labels(&k, q16, q8, 1);
    CHECK_EQ_INT(k.confident_flips, 1);
    CHECK(vnp_fp8_check_verdict(&k));
    CHECK(k.failed);
    /* a low cosine fails; a NaN row fails; a strided row layout is read as given */
    vnp_fp8_check_init(&k);
    float u[2 * D] = {1, 0, 0, 0, 9, 9, 9, 9}, v[D] = {0.985f, 0.1726f, 0, 0};
    vnp_fp8_check_features(&k, u, 2 * D, v, D, 1, D); /* cos = 0.985 */
    CHECK_NEAR(k.min_cos, 0.985 / sqrt(0.985 * 0.985 + 0.1726 * 0.1726), 1e-6);
    CHECK(vnp_fp8_check_verdict(&k));
    vnp_fp8_check_init(&k);
    float w0[D] = {1, 0, 0, 0}, w1[D] = {0.995f, 0.0998f, 0, 0};
    vnp_fp8_check_features(&k, w0, D, w1, D, 1, D); /* cos ~ 0.995: passes */
    CHECK(!vnp_fp8_check_verdict(&k));
    float nn[D] = {NAN, 0, 0, 0};
    vnp_fp8_check_features(&k, w0, D, nn, D, 1, D);
    CHECK(vnp_fp8_check_verdict(&k));
    CHECK_EQ_INT(VNP_FP8_CHECK_FRAMES, 1024);
}

int main(void)
{
    test_codes();
    test_rounding();
    test_rows();
    test_gemm_math();
    test_choice();
    test_check();
    VNP_TEST_END();
}
