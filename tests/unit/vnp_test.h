/* A minimal test harness: CHECK records failures without stopping; each test file ends with VNP_TEST_END,
 * which prints "N passed, N failed" and returns the exit code. */
#ifndef VNP_TEST_H
#define VNP_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vnp_test_pass, vnp_test_fail;

#define CHECK(cond)                                                                                    \
    do {                                                                                               \
        if (cond) {                                                                                    \
            vnp_test_pass++;                                                                           \
        } else {                                                                                       \
            vnp_test_fail++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                   \
        }                                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                           \
    do {                                                                                               \
        if (cond) {                                                                                    \
            vnp_test_pass++;                                                                           \
        } else {                                                                                       \
            vnp_test_fail++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                   \
            fprintf(stderr, __VA_ARGS__);                                                              \
            fputc('\n', stderr);                                                                       \
        }                                                                                              \
    } while (0)

#define CHECK_EQ_INT(a, b) CHECK_MSG((long long)(a) == (long long)(b), "%lld != %lld", (long long)(a), (long long)(b))
#define CHECK_EQ_STR(a, b) CHECK_MSG(strcmp((a), (b)) == 0, "'%s' != '%s'", (a), (b))
#define CHECK_NEAR(a, b, tol) CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%.9g vs %.9g (tol %g)", (double)(a), (double)(b), (double)(tol))

/* The directory holding the test data (tests/data), from VNP_TEST_DATA or the working directory. */
static inline const char *vnp_test_data(void)
{
    const char *d = getenv("VNP_TEST_DATA");
    return d && *d ? d : "tests/data";
}

#define VNP_TEST_END()                                                                                 \
    do {                                                                                               \
        printf("%d passed, %d failed\n", vnp_test_pass, vnp_test_fail);                                \
        return vnp_test_fail ? 1 : 0;                                                                  \
    } while (0)

#endif
