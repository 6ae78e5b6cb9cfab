/* Running an encoder over a window of tokenized sequences: FFD packing into the token budget, one forward
 * pass per batch, pooled rows put back in window order. Shared by `predict` (scorer.c), `embed` and `bench`. */
#include "vnp/pipeline.h"

#include <stdlib.h>
#include <string.h>

void vnp_window_free(vnp_window *w)
{
    if (!w) return;
    free(w->ids);
    free(w->start);
    free(w->len);
    free(w->batch_ids);
    free(w->cu);
    free(w->pooled);
    vnp_packing_free(&w->pack);
    memset(w, 0, sizeof *w);
}

int vnp_window_add(vnp_window *w, const int32_t *ids, int32_t n)
{
    if (w->n == w->cap_seqs) {
        size_t cap = w->cap_seqs ? w->cap_seqs * 2 : 1024;
        size_t *st = vnp_realloc_array(w->start, cap, sizeof *st);
        if (!st) return VNP_ERR_NOMEM;
        w->start = st;
        int32_t *ln = vnp_realloc_array(w->len, cap, sizeof *ln);
        if (!ln) return VNP_ERR_NOMEM;
        w->len = ln;
        w->cap_seqs = cap;
    }
    if (w->ntok + (size_t)n > w->cap_tok) {
        size_t cap = w->cap_tok ? w->cap_tok : 65536;
        while (cap < w->ntok + (size_t)n) cap *= 2;
        int32_t *p = vnp_realloc_array(w->ids, cap, sizeof *p);
        if (!p) return VNP_ERR_NOMEM;
        w->ids = p;
        w->cap_tok = cap;
    }
    memcpy(w->ids + w->ntok, ids, (size_t)n * sizeof(int32_t));
    w->start[w->n] = w->ntok;
    w->len[w->n] = n;
    w->ntok += (size_t)n;
    if (n > w->max_len) w->max_len = n;
    w->n++;
    return VNP_OK;
}

/* Sizes the batch buffers for batches of at most cap tokens and max_n segments of the encoder's width (buffers
 * only grow, never inside the batch loop). */
static int reserve_batches(vnp_encoder *e, vnp_window *w, size_t cap, size_t max_n)
{
    size_t D = (size_t)vnp_encoder_cfg(e)->dim;
    if (cap > w->cap_batch) {
        int32_t *p = vnp_realloc_array(w->batch_ids, cap, sizeof *p);
        if (!p) return VNP_ERR_NOMEM;
        w->batch_ids = p;
        w->cap_batch = cap;
    }
    if (max_n > w->cap_batch_seqs) {
        int32_t *c = vnp_realloc_array(w->cu, max_n + 1, sizeof *c);
        if (!c) return VNP_ERR_NOMEM;
        w->cu = c;
        w->cap_batch_seqs = max_n;
    }
    /* sized in floats, not rows: one window may serve encoders of different widths (predict's scorer runs
     * DNABERT-S, then ESM-2, through the same window) */
    if (max_n * D > w->cap_pooled) {
        float *pl = vnp_realloc_array(w->pooled, max_n * D, sizeof *pl);
        if (!pl) return VNP_ERR_NOMEM;
        w->pooled = pl;
        w->cap_pooled = max_n * D;
    }
    return vnp_encoder_reserve(e, (int)cap, (int)max_n);
}

int vnp_window_run(vnp_encoder *e, vnp_window *w, size_t budget, float *out, size_t ld)
{
    if (w->n == 0) return VNP_OK;
    size_t D = (size_t)vnp_encoder_cfg(e)->dim;
    size_t cap = budget > (size_t)w->max_len ? budget : (size_t)w->max_len;
    int rc = vnp_pack_ffd(w->len, w->n, budget, 0, &w->pack);
    if (rc) return rc;
    size_t max_n = 0;
    for (size_t b = 0; b < w->pack.nbatches; b++)
        if (w->pack.start[b + 1] - w->pack.start[b] > max_n) max_n = w->pack.start[b + 1] - w->pack.start[b];
    if ((rc = reserve_batches(e, w, cap, max_n))) return rc;
    for (size_t b = 0; b < w->pack.nbatches; b++) {
        const size_t *items = w->pack.order + w->pack.start[b];
        size_t n = w->pack.start[b + 1] - w->pack.start[b];
        vnp_cu_seqlens(w->len, items, n, w->cu);
        for (size_t i = 0; i < n; i++)
            memcpy(w->batch_ids + w->cu[i], w->ids + w->start[items[i]], (size_t)w->len[items[i]] * sizeof(int32_t));
        if ((rc = vnp_encoder_forward(e, w->batch_ids, w->cu, (int)n, w->pooled, NULL))) return rc;
        for (size_t i = 0; i < n; i++) memcpy(out + items[i] * ld, w->pooled + i * D, D * sizeof(float));
        w->batches++;
    }
    return VNP_OK;
}

/* Padding of a sequence of len tokens in a batch whose longest has max: a segment of its own (so the sequence's
 * result is the packed one), at least 3 tokens so that pooling never divides by zero. */
static int32_t pad_of(int32_t len, int32_t max) { return len == max ? 0 : max - len < 3 ? 3 : max - len; }

/* The end of the padded batch that starts at sequence lo: consecutive sequences while count x (longest + 3, the
 * most a padding segment adds) fits the budget, as a padded loader forms them; at least one. *max gets the longest. */
static size_t padded_batch_end(const vnp_window *w, size_t lo, size_t budget, int32_t *max)
{
    int32_t m = w->len[lo];
    size_t hi = lo + 1;
    for (; hi < w->n; hi++) {
        int32_t m2 = w->len[hi] > m ? w->len[hi] : m;
        if ((hi - lo + 1) * ((size_t)m2 + 3) > budget) break;
        m = m2;
    }
    *max = m;
    return hi;
}

int vnp_window_run_padded(vnp_encoder *e, vnp_window *w, size_t budget, float *out, size_t ld)
{
    if (w->n == 0) return VNP_OK;
    size_t D = (size_t)vnp_encoder_cfg(e)->dim;
    size_t cap = 0, max_n = 0;
    int32_t m;
    for (size_t lo = 0, hi; lo < w->n; lo = hi) { /* sized once, before any batch runs */
        hi = padded_batch_end(w, lo, budget, &m);
        if ((hi - lo) * ((size_t)m + 3) > cap) cap = (hi - lo) * ((size_t)m + 3);
        if (2 * (hi - lo) > max_n) max_n = 2 * (hi - lo);
    }
    int rc = reserve_batches(e, w, cap, max_n);
    for (size_t lo = 0, hi; lo < w->n && rc == VNP_OK; lo = hi) {
        hi = padded_batch_end(w, lo, budget, &m);
        int nseg = 0;
        int32_t at = 0;
        w->cu[0] = 0;
        for (size_t i = lo; i < hi; i++) {
            memcpy(w->batch_ids + at, w->ids + w->start[i], (size_t)w->len[i] * sizeof(int32_t));
            at += w->len[i];
            w->cu[++nseg] = at;
            int32_t pad = pad_of(w->len[i], m);
            if (pad) { /* the padding repeats the sequence's first token: any valid id will do */
                for (int32_t t = 0; t < pad; t++) w->batch_ids[at + t] = w->ids[w->start[i]];
                at += pad;
                w->cu[++nseg] = at;
            }
        }
        if ((rc = vnp_encoder_forward(e, w->batch_ids, w->cu, nseg, w->pooled, NULL))) break;
        for (size_t i = lo, seg = 0; i < hi; i++) {
            memcpy(out + i * ld, w->pooled + seg * D, D * sizeof(float));
            seg += pad_of(w->len[i], m) ? 2 : 1;
        }
        w->batches++;
    }
    return rc;
}

void vnp_window_clear(vnp_window *w)
{
    w->n = 0;
    w->ntok = 0;
    w->max_len = 0;
}
