/* The caller-owned token id buffer shared by both tokenizers, and its scratch area. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

int vnp_tokens_reserve(vnp_tokens *t, size_t extra)
{
    if (extra > SIZE_MAX - t->n) return VNP_ERR_NOMEM;
    size_t need = t->n + extra;
    if (need <= t->cap) return VNP_OK;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    int32_t *ids = vnp_realloc_array(t->ids, cap, sizeof *ids);
    if (!ids) return VNP_ERR_NOMEM;
    t->ids = ids;
    t->cap = cap;
    return VNP_OK;
}

void *vnp_tok_scratch(vnp_tokens *t, size_t bytes)
{
    if (bytes <= t->scratch_bytes) return t->scratch;
    size_t cap = t->scratch_bytes ? t->scratch_bytes : 4096;
    while (cap < bytes) cap = cap > SIZE_MAX / 2 ? bytes : cap * 2;
    /* free + malloc rather than realloc: the old contents are never needed */
    free(t->scratch);
    t->scratch = malloc(cap);
    t->scratch_bytes = t->scratch ? cap : 0;
    return t->scratch;
}

void vnp_tokens_free(vnp_tokens *t)
{
    if (!t) return;
    free(t->ids);
    free(t->scratch);
    memset(t, 0, sizeof *t);
}
