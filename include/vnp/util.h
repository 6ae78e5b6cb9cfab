/* util: status codes, logging, timing, checked allocation, atomic output files, a thread pool.
 * Nothing biological lives here. Every fallible call in the project returns an int: 0 on success or a
 * negative vnp_status; constructors return NULL after logging why. Only cli/ turns a status into an exit. */
#ifndef VNP_UTIL_H
#define VNP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__) || defined(__clang__)
#define VNP_MUST_CHECK __attribute__((warn_unused_result))
#define VNP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VNP_MUST_CHECK
#define VNP_PRINTF(a, b)
#endif

#define VNP_VERSION "0.1.0"
/* A macro's value as a string literal: a default kept as a number macro is also an option table's `.def` text. */
#define VNP_STR_(x) #x
#define VNP_XSTR(x) VNP_STR_(x)

typedef enum {
    VNP_OK = 0,
    VNP_ERR_IO = -1,          /* reading/writing failed (disk full, truncated stream): exit 1 */
    VNP_ERR_FORMAT = -2,      /* input bytes are not what was expected: exit 2 */
    VNP_ERR_NOMEM = -3,       /* allocation failed: exit 1 */
    VNP_ERR_USAGE = -4,       /* bad option or argument: exit 2 */
    VNP_ERR_NOTFOUND = -5,    /* missing file, tensor or key: exit 2 */
    VNP_ERR_UNSUPPORTED = -6, /* a valid but unsupported variant: exit 2 */
    VNP_ERR_INTERRUPTED = -7, /* SIGINT/SIGTERM: exit 130/143 decided by cli */
    VNP_ERR_INTERNAL = -8,    /* a broken invariant: exit 1 */
    VNP_ERR_TRUNCATED = -9    /* a compressed/binary stream ended early: exit 1 */
} vnp_status;

/* Short English text for a status; never NULL. */
const char *vnp_status_str(int status);
/* The process exit code for a status: 0 ok, 2 bad usage or bad input, 1 any other failure. */
int vnp_status_exit_code(int status);

/* ---- logging (stderr only; stdout carries data) ---- */
typedef enum { VNP_LOG_QUIET = 0, VNP_LOG_ERROR, VNP_LOG_WARN, VNP_LOG_INFO, VNP_LOG_DEBUG } vnp_log_level;
void vnp_log_set_level(vnp_log_level level);
vnp_log_level vnp_log_get_level(void);
void vnp_log(vnp_log_level level, const char *func, const char *fmt, ...) VNP_PRINTF(3, 4);
#define vnp_error(...) vnp_log(VNP_LOG_ERROR, __func__, __VA_ARGS__)
#define vnp_warn(...) vnp_log(VNP_LOG_WARN, __func__, __VA_ARGS__)
#define vnp_info(...) vnp_log(VNP_LOG_INFO, __func__, __VA_ARGS__)
#define vnp_debug(...) vnp_log(VNP_LOG_DEBUG, __func__, __VA_ARGS__)

/* ---- time and memory ---- */
double vnp_time_now(void);          /* monotonic seconds */
double vnp_cpu_time(void);          /* process CPU seconds */
size_t vnp_peak_rss_bytes(void);    /* peak resident set size of this process, 0 if unknown */

/* ---- checked allocation: NULL on overflow or failure, never aborts ---- */
void *vnp_malloc_array(size_t n, size_t size) VNP_MUST_CHECK;
void *vnp_calloc_array(size_t n, size_t size) VNP_MUST_CHECK;
void *vnp_realloc_array(void *p, size_t n, size_t size) VNP_MUST_CHECK;
/* 64-byte aligned, released with vnp_free_aligned (accepts NULL). */
void *vnp_malloc_aligned(size_t bytes) VNP_MUST_CHECK;
void vnp_free_aligned(void *p);
/* a*b into *out; returns 0, or -1 when it overflows size_t. */
int vnp_mul_overflow(size_t a, size_t b, size_t *out) VNP_MUST_CHECK;
char *vnp_strdup(const char *s) VNP_MUST_CHECK;
/* 1 when word is one of the '|'-separated words of list ("a|b|c"; NULL: none), else 0 (words.c). */
int vnp_word_in_list(const char *list, const char *word);

/* ---- growable byte/char buffer ---- */
typedef struct {
    char *data; /* NUL-terminated while len < cap */
    size_t len;
    size_t cap;
} vnp_buf;
int vnp_buf_reserve(vnp_buf *b, size_t extra) VNP_MUST_CHECK; /* room for len+extra+1 bytes */
int vnp_buf_append(vnp_buf *b, const void *p, size_t n) VNP_MUST_CHECK;
int vnp_buf_putc(vnp_buf *b, char c) VNP_MUST_CHECK;
void vnp_buf_free(vnp_buf *b);

/* ---- atomic output files ----
 * Writes go to "<path>.tmp.<pid>"; vnp_outfile_commit flushes, fsyncs, closes (all checked) and renames onto
 * path; vnp_outfile_abort removes the temporary. A file that looks finished is always complete. */
typedef struct vnp_outfile vnp_outfile;
vnp_outfile *vnp_outfile_open(const char *path);
FILE *vnp_outfile_fp(vnp_outfile *o);
int vnp_outfile_commit(vnp_outfile *o) VNP_MUST_CHECK; /* frees o in every case */
void vnp_outfile_abort(vnp_outfile *o);                 /* accepts NULL */

/* ---- thread pool: run fn(ctx, i) for i in [0, n) on up to nthreads threads (the caller included) ---- */
typedef void (*vnp_parallel_fn)(void *ctx, size_t i);
typedef struct vnp_pool vnp_pool;
vnp_pool *vnp_pool_create(int nthreads); /* nthreads <= 0: the number of online CPUs */
void vnp_pool_free(vnp_pool *p);         /* accepts NULL */
int vnp_pool_threads(const vnp_pool *p);
/* Blocks until every i is done. Work is handed out in contiguous blocks in order of i. */
void vnp_pool_run(vnp_pool *p, size_t n, vnp_parallel_fn fn, void *ctx);
int vnp_cpu_count(void);

/* ---- a FIFO of pointers between threads; it holds at most cap items (the caller's work items are counted, so a
 * push never waits); pop blocks until an item arrives or the queue is closed and empty (then NULL) ---- */
typedef struct vnp_queue vnp_queue;
vnp_queue *vnp_queue_create(size_t cap); /* NULL when out of memory */
void vnp_queue_free(vnp_queue *q);       /* accepts NULL */
int vnp_queue_push(vnp_queue *q, void *item) VNP_MUST_CHECK; /* VNP_ERR_INTERNAL when full */
void *vnp_queue_pop(vnp_queue *q);
void vnp_queue_close(vnp_queue *q);

/* Reads a whole file into out (NUL-terminated, out->len bytes), refusing files larger than max_bytes with
 * VNP_ERR_FORMAT; VNP_ERR_IO / VNP_ERR_NOMEM otherwise. Logs the path and reason on failure; out is left empty. */
int vnp_read_file(const char *path, size_t max_bytes, vnp_buf *out) VNP_MUST_CHECK;
/* Writes n bytes to path as an atomic output file (vnp_outfile); logs the path and reason on failure. */
int vnp_write_file(const char *path, const void *data, size_t n) VNP_MUST_CHECK;

/* ---- checksums ---- */
/* SHA-256 of a file's bytes as 64 lowercase hex digits plus NUL in hex; VNP_ERR_NOTFOUND or VNP_ERR_IO after
 * logging. */
int vnp_sha256_file(const char *path, char hex[65]) VNP_MUST_CHECK;

#endif
