/* The one owner of the layout of prediction_results.txt and prediction_results_highestscore.csv, in both output
 * styles: headers, row text, the journal's per-block consensus rows (consensus.c merges them). predict, merge and
 * the unit tests all write through these functions. */
#include "vnp/report.h"

#include <stdlib.h>
#include <string.h>

int vnp_output_style_parse(const char *s, vnp_output_style *out)
{
    if (s && strcmp(s, "broad") == 0) *out = VNP_OUTPUT_BROAD;
    else if (s && strcmp(s, "original") == 0) *out = VNP_OUTPUT_ORIGINAL;
    else return VNP_ERR_USAGE;
    return VNP_OK;
}

const char *vnp_output_style_name(vnp_output_style s) { return s == VNP_OUTPUT_ORIGINAL ? "original" : "broad"; }

int vnp_format_score(float x, vnp_output_style st, char *buf)
{
    /* broad writes probabilities[i, k].item() with an f-string: the float32 widened to a Python float */
    return st == VNP_OUTPUT_ORIGINAL ? vnp_format_f32(x, buf) : vnp_format_f64((double)x, buf);
}

const char *vnp_score_label(float score1, float score2) { return score2 > score1 ? "virus" : "others"; }

const char vnp_pred_header[] = "Sequence_ID\tPrediction\tscore1\tscore2\n";

int vnp_pred_row(FILE *fp, vnp_output_style st, const char *id, float score1, float score2)
{
    char a[VNP_F32_STR_MAX], b[VNP_F32_STR_MAX];
    vnp_format_score(score1, st, a);
    vnp_format_score(score2, st, b);
    return fprintf(fp, "%s\t%s\t%s\t%s\n", id, vnp_score_label(score1, score2), a, b) < 0 ? VNP_ERR_IO : VNP_OK;
}

const char *vnp_cons_header(vnp_output_style st)
{
    return st == VNP_OUTPUT_ORIGINAL ? "Modified_ID\tIs_Virus\n" : "Modified_ID\tIs_Virus\tmax_score_0\tmax_score_1\n";
}

int vnp_cons_row(FILE *fp, vnp_output_style st, const char *chunk_id, float m1, float m2)
{
    const char *v = m2 >= m1 ? "True" : "False";
    if (st == VNP_OUTPUT_ORIGINAL) return fprintf(fp, "%s\t%s\n", chunk_id, v) < 0 ? VNP_ERR_IO : VNP_OK;
    /* pandas read_csv then to_csv: each max prints as the float64 repr of the float32 score it came from */
    char a[VNP_F32_STR_MAX], b[VNP_F32_STR_MAX];
    vnp_format_f64((double)m1, a);
    vnp_format_f64((double)m2, b);
    return fprintf(fp, "%s\t%s\t%s\t%s\n", chunk_id, v, a, b) < 0 ? VNP_ERR_IO : VNP_OK;
}

int vnp_cons_part_row(FILE *fp, const char *chunk_id, float m1, float m2)
{
    uint32_t u1, u2;
    memcpy(&u1, &m1, 4);
    memcpy(&u2, &m2, 4);
    return fprintf(fp, "%s\t%08x\t%08x\n", chunk_id, (unsigned)u1, (unsigned)u2) < 0 ? VNP_ERR_IO : VNP_OK;
}

static int cmp_chunk_max(const void *a, const void *b)
{
    return strcmp(((const vnp_chunk_max *)a)->id, ((const vnp_chunk_max *)b)->id);
}

int vnp_cons_part_write(FILE *fp, vnp_output_style st, vnp_chunk_max *rows, size_t n)
{
    /* original: byte order, for consensus.c's k-way merge; broad: input order (first appearance) as they come */
    if (st == VNP_OUTPUT_ORIGINAL && n > 1) qsort(rows, n, sizeof *rows, cmp_chunk_max);
    int rc = VNP_OK;
    for (size_t i = 0; i < n && rc == VNP_OK; i++) rc = vnp_cons_part_row(fp, rows[i].id, rows[i].m1, rows[i].m2);
    return rc;
}
