/* What the CPU backend's module provides besides the op table: the ALiBi slopes every backend is given, the GELU
 * reference, and creation and release. The ops themselves (on one thread and on three) are checked in test_ops.c,
 * the one place every op of every backend is compared with an FP64 reference. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/backend.h"
#include "vnp_test.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

static void test_gelu_ref(void)
{
    const float xs[5] = {-3.0f, -0.5f, 0.0f, 1.0f, 4.0f};
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(vnp_gelu_ref(xs[i]), 0.5 * xs[i] * (1.0 + erf(xs[i] / sqrt(2.0))), 1e-7 * (1.0 + fabs(xs[i])));
}

int main(void)
{
    for (int threads = 1; threads <= 3; threads += 2) {
        vnp_backend *be = vnp_backend_cpu_create(threads);
        CHECK(be != NULL);
        if (be) CHECK_EQ_INT(be->nthreads, threads);
        CHECK(be && vnp_be_elem(be) == 4 && be->ops->host_visible);
        vnp_backend_free(be);
    }
    test_slopes();
    test_gelu_ref();
    vnp_backend_free(NULL);
    VNP_TEST_END();
}
