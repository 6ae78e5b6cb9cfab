/* Internal to report/: what the streaming pass over a run's outputs keeps for report.html (build.c fills it,
 * html.c draws it). Everything here has a fixed bound except the chunk arrays of the tracks, which are those of the
 * VNP_REPORT_MAX_TRACKS sequences drawn. */
#ifndef VNP_REPORT_INTERNAL_H
#define VNP_REPORT_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "vnp/seq.h"
#include "vnp/viral_report.h"

enum {
    VNP_REP_BINS = 50,     /* histogram bins over [0, 1] */
    VNP_REP_ID_MAX = 120,  /* bytes of a sequence id kept for the report (longer ones end in "...") */
    VNP_REP_TIERS = 12     /* distinct (call, confidence) pairs counted */
};

/* One sequence as the report shows it. */
typedef struct {
    char id[VNP_REP_ID_MAX + 4];
    uint64_t order;             /* 0-based position in the input */
    uint64_t length;
    size_t chunks, scored, frames, viral_chunks, n_regions;
    float best;                 /* highest chunk score; NAN without frames */
    double mean;                /* mean chunk score over scored chunks; NAN without frames */
    double best_region;         /* highest mean_score of its regions, 0 without */
    char call[24], confidence[24];
} vnp_rep_seq;

/* A sequence whose score track is drawn. */
typedef struct {
    vnp_rep_seq s;
    vnp_chunk_score *chunks;    /* [s.chunks] */
    float *frames;              /* [s.chunks * VNP_NFRAMES] P(virus) of each frame, NAN where the frame was not kept */
    vnp_region *regions;        /* [s.n_regions] */
} vnp_rep_track;

typedef struct {
    char call[24], confidence[24];
    uint64_t n;
} vnp_rep_tier;

typedef struct {
    const vnp_report_opts *opts;
    const char *outdir;
    json_t *summary;            /* run_summary.json (an empty object when absent) */
    json_t *identity;           /* .virnucpro/run.json's "identity", or NULL */
    int chunk_len;
    double min_confident;       /* the confidence threshold of the run; NAN when unknown */
    uint64_t records, chunks, frames, scored_records;
    uint64_t hist_frame[VNP_REP_BINS], hist_best[VNP_REP_BINS];
    uint64_t n_regions, n_whole, seqs_with_regions;
    vnp_rep_tier tiers[VNP_REP_TIERS];
    size_t n_tiers;
    vnp_rep_seq *top;           /* min-heap of the VNP_REPORT_MAX_ROWS most viral sequences */
    size_t n_top;
    vnp_rep_track *tracks;      /* min-heap of the opts->tracks most viral long sequences */
    size_t n_tracks;
} vnp_rep;

/* 1 when sequence a ranks above b in the sequences table / among the tracks. */
int vnp_rep_seq_above(const vnp_rep_seq *a, const vnp_rep_seq *b);
int vnp_rep_track_above(const vnp_rep_seq *a, const vnp_rep_seq *b);

/* Writes report.html from the pass's results (html.c). */
int vnp_rep_write_html(FILE *fp, const vnp_rep *r) VNP_MUST_CHECK;

#endif
