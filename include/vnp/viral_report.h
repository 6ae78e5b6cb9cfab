/* viral_report: what a finished run's outputs show - viral regions along sequences (viral_regions.tsv) and the
 * self-contained report.html - rebuilt from the files in OUTDIR (prediction_results.txt, sequence_summary.tsv,
 * run_summary.json), so that predict, merge and `virnucpro report` share one path.
 *
 * Regions are a heuristic over VirNucPro's chunk calls, not a separate model:
 *   chunk score  = the highest P(virus) among the chunk's kept frames (the score the consensus file uses); a chunk
 *                  without a kept frame is a gap and has no score;
 *   smoothed     = the mean chunk score over a window of `window` chunks centred on the chunk (cut at the ends of
 *                  the sequence), gaps left out; a window holding only gaps gives no smoothed score;
 *   region       = a maximal run of chunks whose smoothed score is >= min_score, trimmed to start and end on scored
 *                  chunks, kept when it spans >= min_chunks chunks; a gap inside a run stays in the region while its
 *                  smoothed score (from its neighbours) is high enough, a run of gaps as long as the window ends it;
 *   sequences with fewer than min_seq_chunks chunks get no regions (sequence_summary.tsv describes them).
 * Coordinates come from the chunking rules (spec §1, vnp_chunk_get): 1-based, inclusive, in bases of the input
 * sequence, the short last chunk included. */
#ifndef VNP_VIRAL_REPORT_H
#define VNP_VIRAL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vnp/util.h"

/* The defaults, one owner: options, config keys (as text, through VNP_XSTR) and the README name these. */
#define VNP_REGION_DEFAULT_MIN_SCORE 0.5
#define VNP_REGION_DEFAULT_WINDOW 3
#define VNP_REGION_DEFAULT_MIN_CHUNKS 3
#define VNP_REGION_DEFAULT_MIN_SEQ_CHUNKS 3
#define VNP_REPORT_MAX_TRACKS 20   /* score tracks drawn in report.html, the most viral first */
#define VNP_REPORT_MAX_ROWS 500    /* rows of the sequences table (the total is shown beside it) */

typedef struct {
    double min_score;   /* smoothed chunk score at or above which a chunk is inside a region, in (0, 1] */
    int window;         /* chunks in the smoothing window: odd, >= 1 (1: no smoothing) */
    int min_chunks;     /* shortest region, in chunks, >= 1 */
    int min_seq_chunks; /* sequences with fewer chunks get no regions, >= 1 */
} vnp_region_opts;

void vnp_region_opts_init(vnp_region_opts *o); /* the defaults above */
/* NULL when o is valid, else a sentence naming the bad field (for a usage error). */
const char *vnp_region_opts_check(const vnp_region_opts *o);

/* One chunk of a sequence, as the caller read it from the frames. */
typedef struct {
    float score;       /* the chunk score (max P(virus) over its kept frames); ignored when frames == 0 */
    float score_other; /* max P(others) over its kept frames: the chunk is viral when score >= score_other */
    int frames;        /* kept frames; 0 = a gap */
} vnp_chunk_score;

typedef struct {
    size_t first, last;    /* 0-based chunk indices, inclusive */
    uint64_t start, end;   /* 1-based, inclusive, in bases of the sequence */
    size_t chunks;         /* last - first + 1 (gaps included) */
    size_t viral_chunks;   /* chunks of the region the consensus calls viral */
    double mean_score;     /* mean chunk score over the region's scored chunks */
    float max_score;       /* highest chunk score of the region */
    double fraction;       /* (end - start + 1) / sequence length */
    int whole;             /* 1 when the region spans the whole sequence */
} vnp_region;

/* Calls the regions of one sequence of seq_len bases cut into n chunks of chunk_len (n must be
 * vnp_chunk_count(seq_len, chunk_len)). Regions go to out[0..*n_out) in sequence order; out must hold (n + 1) / 2
 * entries (regions are separated by at least one chunk). smooth (n floats, may be NULL) receives the smoothed
 * scores, NAN where there is none. Sequences shorter than o->min_seq_chunks get *n_out = 0. Returns 0, or
 * VNP_ERR_USAGE for a chunk count that does not match the length or invalid options. */
int vnp_regions_call(const vnp_chunk_score *chunks, size_t n, uint64_t seq_len, int chunk_len,
                     const vnp_region_opts *o, vnp_region *out, size_t *n_out, float *smooth) VNP_MUST_CHECK;

/* viral_regions.tsv: the header line, and one row per region of sequence id. */
extern const char vnp_regions_header[];
int vnp_regions_write_row(FILE *fp, const char *id, const vnp_region *r) VNP_MUST_CHECK;

/* ---- the report of a finished run ---- */
typedef struct {
    vnp_region_opts regions;
    int html;   /* 1: also write report.html */
    int tracks; /* score tracks to draw, <= VNP_REPORT_MAX_TRACKS */
} vnp_report_opts;

void vnp_report_opts_init(vnp_report_opts *o);

/* Reads OUTDIR's prediction_results.txt (either number style), sequence_summary.tsv and run_summary.json (and the
 * run identity in OUTDIR/.virnucpro/run.json when present) in one streaming pass, and writes
 * OUTDIR/viral_regions.tsv and, with o->html, OUTDIR/report.html, each under a temporary name then renamed.
 * Memory is bounded by the longest sequence and the report's fixed sizes, not by the number of records.
 * Returns 0; VNP_ERR_NOTFOUND / VNP_ERR_FORMAT (logged with the file, line and what was expected) for a folder
 * that does not hold a finished run; VNP_ERR_IO or VNP_ERR_NOMEM. */
int vnp_report_build(const char *outdir, const vnp_report_opts *o) VNP_MUST_CHECK;

#endif
