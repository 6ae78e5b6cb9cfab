/* A bounded-by-construction FIFO of pointers for handing work between threads: push, blocking pop, close. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/util.h"

#include <pthread.h>
#include <stdlib.h>

struct vnp_queue {
    pthread_mutex_t mu;
    pthread_cond_t ready;
    void **items;   /* ring of cap slots */
    size_t cap, head, n;
    int closed;
};

vnp_queue *vnp_queue_create(size_t cap)
{
    vnp_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->items = vnp_malloc_array(cap ? cap : 1, sizeof *q->items);
    if (!q->items) {
        free(q);
        return NULL;
    }
    q->cap = cap ? cap : 1;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->ready, NULL);
    return q;
}

void vnp_queue_free(vnp_queue *q)
{
    if (!q) return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->ready);
    free(q->items);
    free(q);
}

int vnp_queue_push(vnp_queue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    int rc = VNP_ERR_INTERNAL; /* more items than the queue was made for: a bug of the caller */
    if (q->n < q->cap) {
        q->items[(q->head + q->n++) % q->cap] = item;
        pthread_cond_signal(&q->ready);
        rc = VNP_OK;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void *vnp_queue_pop(vnp_queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == 0 && !q->closed) pthread_cond_wait(&q->ready, &q->mu);
    void *item = NULL;
    if (q->n) {
        item = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
    }
    pthread_mutex_unlock(&q->mu);
    return item;
}

void vnp_queue_close(vnp_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->ready);
    pthread_mutex_unlock(&q->mu);
}
