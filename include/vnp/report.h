/* report: VirNucPro's result files and the number printing they need.
 *
 * prediction_results.txt           Sequence_ID, Prediction (virus|others), score1 = P(others), score2 = P(virus)
 * prediction_results_highestscore.csv  (tab-separated) Modified_ID = Sequence_ID minus its last two characters,
 *                                   Is_Virus = max(score2) >= max(score1) over the chunk, rows in byte order
 * Scores print as numpy prints a float32 (spec/virnucpro.md §4). */
#ifndef VNP_REPORT_H
#define VNP_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "vnp/util.h"

/* Writes x as `str(numpy.float32(x))`: the shortest decimal that reads back as the same float32, positional for
 * 1e-4 <= |x| < 1e6 (numpy's float32 cut-off) ("0.5", "1.0", "0.12100612"), scientific otherwise with at least two exponent digits
 * ("1e-04", "3.0517578e-05"). buf must hold VNP_F32_STR_MAX bytes. Returns the length written. */
#define VNP_F32_STR_MAX 32
int vnp_format_f32(float x, char *buf);

/* One scored frame, as the classifier leaves it. */
typedef struct {
    const char *id; /* frame id, e.g. "G5012.3_chunk_3F1" */
    float score1;   /* P(others) */
    float score2;   /* P(virus) */
} vnp_frame_score;

/* "virus" when score2 > score1 (argmax; ties go to class 0 = "others", as torch.max). */
const char *vnp_score_label(const vnp_frame_score *s);

/* Writes the header line and one row per frame in the order given. */
int vnp_write_prediction_results(FILE *fp, const vnp_frame_score *rows, size_t n) VNP_MUST_CHECK;

/* Writes the per-chunk consensus: groups rows by id minus its last two characters, sorts the groups in byte order,
 * prints True when the chunk's max score2 >= its max score1. Does not reorder rows (it sorts an index). */
int vnp_write_highestscore(FILE *fp, const vnp_frame_score *rows, size_t n) VNP_MUST_CHECK;

#endif
