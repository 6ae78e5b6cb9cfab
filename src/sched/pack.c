/* First-Fit-Decreasing packing of items into token-budgeted batches. */
#include "vnp/sched.h"

#include <stdlib.h>
#include <string.h>

void vnp_packing_free(vnp_packing *p)
{
    if (!p) return;
    free(p->order);
    free(p->start);
    memset(p, 0, sizeof *p);
}

typedef struct {
    int32_t tok;
    size_t idx;
} item;

static int by_tokens_desc(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->tok != y->tok) return x->tok > y->tok ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int vnp_pack_ffd(const int32_t *tokens, size_t n, size_t budget, size_t max_seqs, vnp_packing *p)
{
    if (budget == 0) return VNP_ERR_USAGE;
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0) return VNP_ERR_USAGE;
    int rc = VNP_ERR_NOMEM;
    item *it = vnp_malloc_array(n ? n : 1, sizeof *it);
    size_t *bin_of = vnp_malloc_array(n ? n : 1, sizeof(size_t));
    size_t *fill = vnp_malloc_array(n ? n : 1, sizeof(size_t)), *count = vnp_calloc_array(n + 1, sizeof(size_t));
    if (!it || !bin_of || !fill || !count) goto done;
    if (p->cap_n < n) {
        size_t *o = vnp_realloc_array(p->order, n, sizeof(size_t));
        if (!o) goto done;
        p->order = o;
        p->cap_n = n;
    }
    if (p->cap_b < n + 1) {
        size_t *s = vnp_realloc_array(p->start, n + 1, sizeof(size_t));
        if (!s) goto done;
        p->start = s;
        p->cap_b = n + 1;
    }
    for (size_t i = 0; i < n; i++) it[i] = (item){tokens[i], i};
    qsort(it, n, sizeof *it, by_tokens_desc);
    size_t nb = 0, first_open = 0; /* bins before first_open are exactly full (or at max_seqs): never used again */
    for (size_t k = 0; k < n; k++) {
        size_t t = (size_t)it[k].tok, b;
        for (b = first_open; b < nb; b++)
            if (fill[b] + t <= budget && (!max_seqs || count[b] < max_seqs)) break;
        if (b == nb) {
            fill[nb] = 0;
            count[nb] = 0;
            nb++;
        }
        fill[b] += t;
        count[b]++;
        bin_of[k] = b;
        while (first_open < nb && (fill[first_open] >= budget || (max_seqs && count[first_open] >= max_seqs)))
            first_open++;
    }
    /* lay the bins out in order; inside a bin items keep their (descending) placement order */
    p->start[0] = 0;
    for (size_t b = 0; b < nb; b++) p->start[b + 1] = p->start[b] + count[b];
    for (size_t b = 0; b < nb; b++) fill[b] = p->start[b];
    for (size_t k = 0; k < n; k++) p->order[fill[bin_of[k]]++] = it[k].idx;
    p->nbatches = nb;
    p->n = n;
    rc = VNP_OK;
done:
    free(it);
    free(bin_of);
    free(fill);
    free(count);
    return rc;
}

int32_t vnp_cu_seqlens(const int32_t *tokens, const size_t *items, size_t n, int32_t *cu)
{
    cu[0] = 0;
    for (size_t i = 0; i < n; i++) cu[i + 1] = cu[i] + tokens[items[i]];
    return cu[n];
}
