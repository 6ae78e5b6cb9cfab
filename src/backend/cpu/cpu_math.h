/* Branch-free float exp and GELU for the CPU kernels: plain C that the compiler vectorises (libm's expf/erff
 * are scalar calls). Accuracy: exp within ~2 ulp; GELU within ~1e-7 relative (erfc of Numerical Recipes'
 * Chebyshev fit, fractional error < 1.2e-7), i.e. float rounding level. */
#ifndef VNP_CPU_MATH_H
#define VNP_CPU_MATH_H

#include <stdint.h>
#include <string.h>

/* exp(x); 0 for x below -87.3 (including -inf), x above 88.7 is clamped. */
static inline float vnp_expf(float x)
{
    float xc = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest integer */
    float r = xc - n * 0.693145752f;                          /* Cody-Waite: ln2 = hi + lo */
    r = r - n * 1.42860677e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.3f ? 0.0f : p * scale;
}

/* erfc(z) for z >= 0. */
static inline float vnp_erfc_pos(float z)
{
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    return t * vnp_expf(-z * z + p);
}

/* gelu(x) = x/2 (1 + erf(x/sqrt 2)), written with erfc so that large negative x keeps its relative accuracy. */
static inline float vnp_gelu(float x)
{
    float z = x * 0.707106781f;
    float az = z < 0.0f ? -z : z;
    float c = vnp_erfc_pos(az);
    return 0.5f * x * (x < 0.0f ? c : 2.0f - c);
}

#endif
