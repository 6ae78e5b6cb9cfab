/* Checked allocation, the growable buffer, timers and peak-RSS reporting. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int vnp_mul_overflow(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

void *vnp_malloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (vnp_mul_overflow(n, size, &bytes)) return NULL;
    return malloc(bytes ? bytes : 1);
}

void *vnp_calloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (vnp_mul_overflow(n, size, &bytes)) return NULL;
    return calloc(bytes ? n : 1, bytes ? size : 1);
}

void *vnp_realloc_array(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (vnp_mul_overflow(n, size, &bytes)) return NULL;
    return realloc(p, bytes ? bytes : 1);
}

void *vnp_malloc_aligned(size_t bytes)
{
    void *p = NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes) return NULL;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0) return NULL;
    return p;
}

void vnp_free_aligned(void *p) { free(p); }

char *vnp_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int vnp_buf_reserve(vnp_buf *b, size_t extra)
{
    if (b->len + extra + 1 < b->len) return VNP_ERR_NOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return VNP_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) { cap = need; break; }
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) return VNP_ERR_NOMEM;
    b->data = d;
    b->cap = cap;
    return VNP_OK;
}

int vnp_buf_append(vnp_buf *b, const void *p, size_t n)
{
    int rc = vnp_buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return VNP_OK;
}

int vnp_buf_putc(vnp_buf *b, char c) { return vnp_buf_append(b, &c, 1); }

void vnp_buf_free(vnp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

double vnp_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double vnp_cpu_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

size_t vnp_peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}
