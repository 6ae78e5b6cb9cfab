/* report: the result files' layout (one writer for each file) and the number printing they need.
 *
 * prediction_results.txt           Sequence_ID, Prediction (virus|others), score1 = P(others), score2 = P(virus)
 * prediction_results_highestscore.csv  (tab-separated) Modified_ID = Sequence_ID minus its last two characters,
 *                                   Is_Virus = max(score2) >= max(score1) over the chunk
 * Two output styles (spec/virnucpro.md §4):
 *   broad     virnucpro-broad v2.0: scores as Python's repr of the float32 widened to float64; the consensus file
 *             adds max_score_0 and max_score_1 and lists chunks in first-appearance order.
 *   original  VirNucPro: scores as numpy prints a float32; consensus rows in byte order, two columns. */
#ifndef VNP_REPORT_H
#define VNP_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vnp/util.h"

typedef enum { VNP_OUTPUT_BROAD = 0, VNP_OUTPUT_ORIGINAL = 1 } vnp_output_style;

/* "broad" or "original"; VNP_ERR_USAGE otherwise. */
int vnp_output_style_parse(const char *s, vnp_output_style *out) VNP_MUST_CHECK;
const char *vnp_output_style_name(vnp_output_style s);

/* Writes x as `str(numpy.float32(x))`: the shortest decimal that reads back as the same float32, positional for
 * 1e-4 <= |x| < 1e6 (numpy's float32 cut-off) ("0.5", "1.0", "0.12100612"), scientific otherwise with at least two exponent digits
 * ("1e-04", "3.0517578e-05"). buf must hold VNP_F32_STR_MAX bytes. Returns the length written. */
#define VNP_F32_STR_MAX 32
int vnp_format_f32(float x, char *buf);
/* Writes x as Python's `repr(x)`: the shortest decimal that reads back as the same float64, positional for
 * 1e-4 <= |x| < 1e16 ("0.44779178500175476", "1.0"), else scientific ("1e-05", "1e+16"). buf: VNP_F32_STR_MAX. */
int vnp_format_f64(double x, char *buf);
/* A score as the style prints it (vnp_format_f32, or vnp_format_f64 of the widened float32). */
int vnp_format_score(float x, vnp_output_style st, char *buf);

/* "virus" when score2 > score1 (argmax; ties go to class 0 = "others", as torch.max). */
const char *vnp_score_label(float score1, float score2);

/* prediction_results.txt: its header line (the same in both styles) and one frame's row. */
extern const char vnp_pred_header[];
int vnp_pred_row(FILE *fp, vnp_output_style st, const char *id, float score1, float score2) VNP_MUST_CHECK;

/* prediction_results_highestscore.csv: its header line and one chunk's row (max score1, max score2). */
const char *vnp_cons_header(vnp_output_style st);
int vnp_cons_row(FILE *fp, vnp_output_style st, const char *chunk_id, float m1, float m2) VNP_MUST_CHECK;

/* The per-block consensus part the run journal keeps: one row per chunk, "<chunk id>\t<m1 bits>\t<m2 bits>"
 * (hex float32 bits, exact). vnp_cons_part_write sorts rows by id for the original style (it reorders rows) and
 * keeps them in input order for broad. */
typedef struct {
    char *id;
    float m1, m2; /* max score1, max score2 over the chunk's kept frames */
} vnp_chunk_max;
int vnp_cons_part_row(FILE *fp, const char *chunk_id, float m1, float m2) VNP_MUST_CHECK;
int vnp_cons_part_write(FILE *fp, vnp_output_style st, vnp_chunk_max *rows, size_t n) VNP_MUST_CHECK;
/* Writes out (atomically) from the parts of every block, in block order, combining repeated chunk ids. scratch: a
 * folder for the intermediate files of merges of more than 128 parts (removed after). */
int vnp_consensus_write(const char *out, char *const *parts, size_t n, vnp_output_style st,
                        const char *scratch) VNP_MUST_CHECK;

/* run_summary.json (report/run_summary.c): its file name, and the members every summary has, set on root (a JSON
 * object holding the run's information); seconds (an object of stage seconds) is taken over, also on failure. */
extern const char vnp_run_summary_name[];
typedef struct {
    int chunk_length;
    uint64_t records, chunks, frames, bases, blocks, blocks_resumed;
    long fp32_reruns;
    json_t *seconds;
} vnp_run_totals;
int vnp_run_summary_fill(json_t *root, const vnp_run_totals *t) VNP_MUST_CHECK;

/* sequence_summary.tsv (report/summary.c): its header and one record's row, from the tally of its chunks. The
 * columns and the call/confidence rules are described there. */
extern const char vnp_summary_header[];
typedef struct {
    size_t frames, chunks_scored, viral_chunks;
    float max_virus;        /* the highest chunk virus score */
    double sum_chunk_virus; /* for the mean */
} vnp_record_tally;
/* Adds one chunk with kept frames: its frame count and its max score1 (m1) and max score2 (m2). */
void vnp_tally_chunk(vnp_record_tally *t, size_t frames, float m1, float m2);
int vnp_summary_row(FILE *fp, const char *id, size_t length, size_t chunks, const vnp_record_tally *t,
                    double min_confident) VNP_MUST_CHECK;

#endif
