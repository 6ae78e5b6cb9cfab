/* sched: packing variable-length items into batches under a token budget (First-Fit-Decreasing), the layout a
 * packed encoder batch needs (cu_seqlens). Knows nothing about files or models. */
#ifndef VNP_SCHED_H
#define VNP_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "vnp/util.h"

/* Batches over a window of items: batch b holds items order[start[b] .. start[b+1]), longest first. */
typedef struct {
    size_t *order;    /* [n] item indices (0-based, into the window) */
    size_t *start;    /* [nbatches + 1] */
    size_t nbatches;
    size_t n;
    size_t cap_n, cap_b; /* allocated sizes, reused by the next call */
} vnp_packing;

/* First-Fit-Decreasing: items sorted by tokens (descending; ties by index), each put into the first batch
 * whose total stays <= budget and whose count stays <= max_seqs (0: unlimited); an item larger than the
 * budget gets a batch of its own. Deterministic. Reuses p's arrays (zero-initialise p before first use).
 * VNP_ERR_USAGE for budget 0 or a negative token count, VNP_ERR_NOMEM on allocation failure. */
int vnp_pack_ffd(const int32_t *tokens, size_t n, size_t budget, size_t max_seqs, vnp_packing *p) VNP_MUST_CHECK;
void vnp_packing_free(vnp_packing *p); /* accepts NULL; zeroes it */

/* cu[0] = 0, cu[i+1] = cu[i] + tokens[items[i]] for the items of one batch; returns cu[n]. */
int32_t vnp_cu_seqlens(const int32_t *tokens, const size_t *items, size_t n, int32_t *cu);

#endif
