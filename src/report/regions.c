/* Viral regions along a sequence: the smoothing and run finding of vnp/viral_report.h over one sequence's chunk
 * scores (a pure function), and the rows of viral_regions.tsv. */
#include "vnp/viral_report.h"

#include <math.h>
#include <stdlib.h>

#include "vnp/report.h"
#include "vnp/seq.h"

const char vnp_regions_header[] =
    "sequence_id\tstart\tend\tchunks\tviral_chunks\tmean_score\tmax_score\tfraction_of_sequence\tkind\n";

void vnp_region_opts_init(vnp_region_opts *o)
{
    o->min_score = VNP_REGION_DEFAULT_MIN_SCORE;
    o->window = VNP_REGION_DEFAULT_WINDOW;
    o->min_chunks = VNP_REGION_DEFAULT_MIN_CHUNKS;
    o->min_seq_chunks = VNP_REGION_DEFAULT_MIN_SEQ_CHUNKS;
}

const char *vnp_region_opts_check(const vnp_region_opts *o)
{
    if (!(o->min_score > 0.0 && o->min_score <= 1.0)) return "the region score threshold must be in (0, 1]";
    if (o->window < 1 || o->window % 2 == 0 || o->window > 1001)
        return "the smoothing window must be an odd number of chunks in [1, 1001]";
    if (o->min_chunks < 1) return "the shortest region must be at least 1 chunk";
    if (o->min_seq_chunks < 1) return "the minimum sequence length must be at least 1 chunk";
    return NULL;
}

/* The smoothed score of every chunk: a running sum over the window, scored chunks only. */
static void smooth_scores(const vnp_chunk_score *c, size_t n, int window, float *out)
{
    size_t h = (size_t)window / 2;
    double sum = 0;
    size_t cnt = 0, lo = 0, hi = 0; /* the window [lo, hi) */
    for (size_t i = 0; i < n; i++) {
        size_t want_hi = i + h + 1 < n ? i + h + 1 : n, want_lo = i > h ? i - h : 0;
        for (; hi < want_hi; hi++)
            if (c[hi].frames > 0) sum += c[hi].score, cnt++;
        for (; lo < want_lo; lo++)
            if (c[lo].frames > 0) sum -= c[lo].score, cnt--;
        /* recompute exactly when the window holds one value, so that rounding never drifts across a long track */
        out[i] = cnt ? (float)(sum / (double)cnt) : NAN;
        if (cnt == 0) sum = 0;
    }
}

static void finish_region(const vnp_chunk_score *c, size_t first, size_t last, uint64_t seq_len, int chunk_len,
                          size_t n, vnp_region *r)
{
    *r = (vnp_region){0};
    r->first = first;
    r->last = last;
    vnp_chunk a = vnp_chunk_get((size_t)seq_len, (size_t)chunk_len, first);
    vnp_chunk b = vnp_chunk_get((size_t)seq_len, (size_t)chunk_len, last);
    r->start = (uint64_t)a.offset + 1;
    r->end = (uint64_t)(b.offset + b.length);
    r->chunks = last - first + 1;
    double sum = 0;
    size_t scored = 0;
    for (size_t i = first; i <= last; i++) {
        if (c[i].frames <= 0) continue;
        if (scored == 0 || c[i].score > r->max_score) r->max_score = c[i].score;
        sum += c[i].score;
        scored++;
        r->viral_chunks += c[i].score >= c[i].score_other;
    }
    r->mean_score = scored ? sum / (double)scored : 0.0;
    r->fraction = seq_len ? (double)(r->end - r->start + 1) / (double)seq_len : 0.0;
    r->whole = first == 0 && last == n - 1;
}

int vnp_regions_call(const vnp_chunk_score *chunks, size_t n, uint64_t seq_len, int chunk_len,
                     const vnp_region_opts *o, vnp_region *out, size_t *n_out, float *smooth)
{
    *n_out = 0;
    if (vnp_region_opts_check(o) || chunk_len <= 0 || n != vnp_chunk_count((size_t)seq_len, (size_t)chunk_len))
        return VNP_ERR_USAGE;
    float *sm = smooth;
    float local[64];
    if (!sm) sm = n <= 64 ? local : vnp_malloc_array(n, sizeof *sm);
    if (!sm) return VNP_ERR_NOMEM;
    smooth_scores(chunks, n, o->window, sm);
    if (n >= (size_t)o->min_seq_chunks) {
        for (size_t i = 0; i < n;) {
            if (!(sm[i] >= (float)o->min_score)) { /* NAN (no score) is not high */
                i++;
                continue;
            }
            size_t e = i;
            while (e + 1 < n && sm[e + 1] >= (float)o->min_score) e++;
            size_t next = e + 1;
            while (i <= e && chunks[i].frames <= 0) i++; /* a region starts and ends where there is evidence */
            while (e > i && chunks[e].frames <= 0) e--;
            if (i <= e && chunks[i].frames > 0 && e - i + 1 >= (size_t)o->min_chunks)
                finish_region(chunks, i, e, seq_len, chunk_len, n, &out[(*n_out)++]);
            i = next;
        }
    }
    if (sm != smooth && sm != local) free(sm);
    return VNP_OK;
}

int vnp_regions_write_row(FILE *fp, const char *id, const vnp_region *r)
{
    char mean[VNP_F32_STR_MAX], max[VNP_F32_STR_MAX];
    vnp_format_f32((float)r->mean_score, mean);
    vnp_format_f32(r->max_score, max);
    return fprintf(fp, "%s\t%llu\t%llu\t%zu\t%zu\t%s\t%s\t%.4f\t%s\n", id, (unsigned long long)r->start,
                   (unsigned long long)r->end, r->chunks, r->viral_chunks, mean, max, r->fraction,
                   r->whole ? "whole" : "region") < 0
               ? VNP_ERR_IO
               : VNP_OK;
}
