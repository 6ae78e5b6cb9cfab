#define _POSIX_C_SOURCE 200809L
/* Unit tests for util/: status mapping, buffers, checked allocation, atomic files, the thread pool, the queue. */
#include "vnp/util.h"
#include "vnp_test.h"

#include <pthread.h>
#include <unistd.h>

static void square(void *ctx, size_t i) { ((long *)ctx)[i] = (long)(i * i); }

/* A consumer thread: sums what it pops until the queue is closed and empty. */
static void *drain(void *p)
{
    vnp_queue *q = p;
    long sum = 0;
    for (long *v; (v = vnp_queue_pop(q));) sum += *v;
    long *out = malloc(sizeof *out);
    *out = sum;
    return out;
}

static void test_queue(void)
{
    enum { N = 1000 };
    static long vals[N];
    vnp_queue *q = vnp_queue_create(N);
    CHECK(q != NULL);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) CHECK(pthread_create(&t[i], NULL, drain, q) == 0);
    long want = 0;
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        want += i;
        CHECK(vnp_queue_push(q, &vals[i]) == 0);
    }
    vnp_queue_close(q);
    long got = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        got += *(long *)r;
        free(r);
    }
    CHECK_MSG(got == want, "three consumers popped every item once (%ld of %ld)", got, want);
    CHECK(vnp_queue_pop(q) == NULL); /* closed and empty: no wait */
    vnp_queue_free(q);
    vnp_queue *small = vnp_queue_create(2);
    CHECK(vnp_queue_push(small, &vals[0]) == 0 && vnp_queue_push(small, &vals[1]) == 0);
    CHECK_EQ_INT(vnp_queue_push(small, &vals[2]), VNP_ERR_INTERNAL); /* more than it was made for */
    CHECK(vnp_queue_pop(small) == &vals[0] && vnp_queue_pop(small) == &vals[1]); /* first in, first out */
    vnp_queue_free(small);
}

int main(void)
{
    test_queue();
    CHECK_EQ_INT(vnp_status_exit_code(VNP_OK), 0);
    CHECK_EQ_INT(vnp_status_exit_code(VNP_ERR_FORMAT), 2);
    CHECK_EQ_INT(vnp_status_exit_code(VNP_ERR_IO), 1);
    CHECK_EQ_INT(vnp_status_exit_code(VNP_ERR_TRUNCATED), 1);
    CHECK(strcmp(vnp_status_str(12345), "unknown error") == 0);

    /* a word of an a|b|c list: whole words only */
    CHECK(vnp_word_in_list("auto|fp16|fp32", "auto") && vnp_word_in_list("auto|fp16|fp32", "fp32"));
    CHECK(!vnp_word_in_list("auto|fp16|fp32", "fp") && !vnp_word_in_list("auto|fp16|fp32", "fp32x"));
    CHECK(!vnp_word_in_list("auto|fp16|fp32", "") && !vnp_word_in_list("auto|fp16|fp32", "FP16"));
    CHECK(vnp_word_in_list("one", "one") && !vnp_word_in_list(NULL, "one") && !vnp_word_in_list("", "x"));

    size_t out;
    CHECK(vnp_mul_overflow(SIZE_MAX / 2, 3, &out) == -1);
    CHECK(vnp_mul_overflow(1000, 1000, &out) == 0 && out == 1000000);
    CHECK(vnp_malloc_array(SIZE_MAX / 4, 8) == NULL);

    vnp_buf b = {0};
    for (int i = 0; i < 1000; i++) CHECK(vnp_buf_putc(&b, 'a' + i % 26) == 0);
    CHECK(b.len == 1000 && b.data[1000] == '\0' && b.data[27] == 'b');
    vnp_buf_free(&b);

    char path[] = "/tmp/vnp_test_util_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    vnp_outfile *o = vnp_outfile_open(path);
    CHECK(o != NULL);
    fputs("hello\n", vnp_outfile_fp(o));
    CHECK(access(path, F_OK) != 0); /* not visible before commit */
    CHECK(vnp_outfile_commit(o) == 0);
    CHECK(access(path, F_OK) == 0);
    o = vnp_outfile_open(path);
    fputs("partial", vnp_outfile_fp(o));
    vnp_outfile_abort(o);
    FILE *f = fopen(path, "r");
    char line[16] = {0};
    CHECK(f && fgets(line, sizeof line, f) && strcmp(line, "hello\n") == 0);
    if (f) fclose(f);
    unlink(path);

    vnp_pool *p = vnp_pool_create(3);
    CHECK(p != NULL && vnp_pool_threads(p) == 3);
    long sq[1001];
    for (int rep = 0; rep < 50; rep++) {
        memset(sq, 0, sizeof sq);
        vnp_pool_run(p, 1001, square, sq);
        int ok = 1;
        for (long i = 0; i < 1001; i++) ok &= sq[i] == i * i;
        CHECK(ok);
    }
    vnp_pool_free(p);
    vnp_pool_free(NULL);
    VNP_TEST_END();
}
