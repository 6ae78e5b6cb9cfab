/* A persistent pthread pool that runs one parallel-for at a time; the calling thread takes part. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct vnp_pool {
    int nthreads; /* workers + the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    unsigned long generation; /* bumped for every run; workers wait for a new one */
    int active;               /* workers still inside the current run */
    int quit;
    size_t n;
    vnp_parallel_fn fn;
    void *ctx;
};

int vnp_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Worker t of T owns the contiguous range [n*t/T, n*(t+1)/T). */
static void run_share(vnp_pool *p, int t)
{
    size_t lo = p->n * (size_t)t / (size_t)p->nthreads;
    size_t hi = p->n * (size_t)(t + 1) / (size_t)p->nthreads;
    for (size_t i = lo; i < hi; i++) p->fn(p->ctx, i);
}

typedef struct {
    vnp_pool *p;
    int t;
} worker_arg;

static void *worker_main(void *arg)
{
    worker_arg *w = arg;
    vnp_pool *p = w->p;
    int t = w->t;
    free(w);
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->start, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_share(p, t);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

vnp_pool *vnp_pool_create(int nthreads)
{
    vnp_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->nthreads = nthreads > 0 ? nthreads : vnp_cpu_count();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)p->nthreads, sizeof *p->threads);
    if (!p->threads) goto fail;
    for (int t = 1; t < p->nthreads; t++) {
        worker_arg *w = malloc(sizeof *w);
        if (!w) goto fail_threads;
        w->p = p;
        w->t = t;
        if (pthread_create(&p->threads[t], NULL, worker_main, w) != 0) {
            free(w);
            p->nthreads = t; /* shrink to what started */
            break;
        }
    }
    return p;
fail_threads:
    p->nthreads = 1;
fail:
    vnp_pool_free(p);
    return NULL;
}

void vnp_pool_free(vnp_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; t < p->nthreads; t++)
        if (p->threads) pthread_join(p->threads[t], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int vnp_pool_threads(const vnp_pool *p) { return p ? p->nthreads : 1; }

void vnp_pool_run(vnp_pool *p, size_t n, vnp_parallel_fn fn, void *ctx)
{
    if (!p || p->nthreads == 1 || n < 2) {
        for (size_t i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->n = n;
    p->fn = fn;
    p->ctx = ctx;
    p->active = p->nthreads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
