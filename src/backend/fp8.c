/* The FP8 reference of the backend layer: E4M3 encoding and decoding, per-row quantization with the arithmetic the
 * GPU kernels use (so tests compare bytes), and the bookkeeping and verdict of the --precision fp8 self-check. */
#include "vnp/backend.h"

#include <math.h>
#include <string.h>

uint8_t vnp_fp8_from_float(float x)
{
    uint8_t sign = signbit(x) ? 0x80 : 0;
    if (isnan(x)) return (uint8_t)(sign | 0x7F);
    double a = fabs((double)x);
    if (a >= 448.0) return (uint8_t)(sign | 0x7E); /* saturate (the kernels convert with __NV_SATFINITE) */
    if (a < 0.015625) {                            /* below 2^-6: subnormal steps of 2^-9 */
        double q = nearbyint(a * 512.0);           /* 8 rounds up into the smallest normal, code 0x08 */
        return (uint8_t)(sign | (uint8_t)q);
    }
    int e2;
    double f = frexp(a, &e2); /* a = f * 2^e2, f in [0.5, 1) */
    int e = e2 - 1;           /* a = m * 2^e, m in [1, 2) */
    double mq = nearbyint((f * 2.0 - 1.0) * 8.0);
    if (mq == 8.0) {
        mq = 0.0;
        e++;
    }
    int code = ((e + 7) << 3) | (int)mq;
    if (code > 0x7E) code = 0x7E; /* 464 .. 480 rounded past 448: saturate */
    return (uint8_t)(sign | code);
}

float vnp_fp8_to_float(uint8_t q)
{
    int e = (q >> 3) & 15, m = q & 7;
    float s = (q & 0x80) ? -1.0f : 1.0f;
    if (e == 15 && m == 7) return NAN;
    if (e == 0) return s * ldexpf((float)m, -9);
    return s * ldexpf(1.0f + (float)m / 8.0f, e - 7);
}

float vnp_fp8_quantize_row(const float *x, int d, uint8_t *q)
{
    float amax = 0.0f;
    for (int c = 0; c < d; c++) {
        float a = fabsf(x[c]);
        if (isnan(a) || a > amax) amax = a;
        if (isnan(amax)) break;
    }
    float inv = amax > 0.0f ? 448.0f / amax : 1.0f;
    for (int c = 0; c < d; c++) q[c] = vnp_fp8_from_float(x[c] * inv);
    if (isnan(amax)) return amax;
    return amax > 0.0f ? amax / 448.0f : 1.0f;
}

int vnp_fp8_cc_ok(int major, int minor) { return major > 8 || (major == 8 && minor >= 9); }

void vnp_fp8_check_init(vnp_fp8_check *k)
{
    memset(k, 0, sizeof *k);
    k->min_cos = 1.0;
}

void vnp_fp8_check_add(vnp_fp8_check *dst, const vnp_fp8_check *src)
{
    if (src->frames && (dst->frames == 0 || src->min_cos < dst->min_cos)) dst->min_cos = src->min_cos;
    dst->frames += src->frames;
    dst->sum_cos += src->sum_cos;
    dst->labeled += src->labeled;
    dst->flips += src->flips;
    dst->confident_flips += src->confident_flips;
    dst->failed |= src->failed;
}

void vnp_fp8_check_features(vnp_fp8_check *k, const float *a, size_t lda, const float *b, size_t ldb, size_t n,
                            int d)
{
    for (size_t i = 0; i < n; i++) {
        const float *u = a + i * lda, *v = b + i * ldb;
        double uv = 0.0, uu = 0.0, vv = 0.0;
        for (int c = 0; c < d; c++) {
            uv += (double)u[c] * v[c];
            uu += (double)u[c] * u[c];
            vv += (double)v[c] * v[c];
        }
        /* two zero rows agree; one zero row, or a NaN, does not */
        double cs = uu == 0.0 && vv == 0.0 ? 1.0 : uv / (sqrt(uu) * sqrt(vv));
        if (!(cs == cs)) cs = -1.0;
        if (cs < k->min_cos) k->min_cos = cs;
        k->sum_cos += cs;
        k->frames++;
    }
}

void vnp_fp8_check_labels(vnp_fp8_check *k, const float *p16, const float *p8, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float s16 = p16[2 * i + 1], s8 = p8[2 * i + 1];
        k->labeled++;
        if ((s16 > 0.5f) != (s8 > 0.5f)) {
            k->flips++;
            if (fabs((double)s16 - 0.5) > VNP_FP8_LABEL_MARGIN) k->confident_flips++;
        }
    }
}

int vnp_fp8_check_verdict(vnp_fp8_check *k)
{
    if ((k->frames > 0 && k->min_cos < VNP_FP8_MIN_COSINE) || k->confident_flips > 0) k->failed = 1;
    return k->failed;
}
