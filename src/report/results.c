/* Writers of prediction_results.txt and prediction_results_highestscore.csv, byte-for-byte as the original. */
#include "vnp/report.h"

#include <stdlib.h>
#include <string.h>

const char *vnp_score_label(const vnp_frame_score *s) { return s->score2 > s->score1 ? "virus" : "others"; }

int vnp_write_prediction_results(FILE *fp, const vnp_frame_score *rows, size_t n)
{
    char a[VNP_F32_STR_MAX], b[VNP_F32_STR_MAX];
    if (fputs("Sequence_ID\tPrediction\tscore1\tscore2\n", fp) < 0) return VNP_ERR_IO;
    for (size_t i = 0; i < n; i++) {
        vnp_format_f32(rows[i].score1, a);
        vnp_format_f32(rows[i].score2, b);
        if (fprintf(fp, "%s\t%s\t%s\t%s\n", rows[i].id, vnp_score_label(&rows[i]), a, b) < 0) return VNP_ERR_IO;
    }
    return VNP_OK;
}

/* The chunk id is the frame id minus its frame suffix (two characters: F1..F3, R1..R3), as id[:-2]. */
static size_t chunk_len(const char *id)
{
    size_t n = strlen(id);
    return n >= 2 ? n - 2 : 0;
}

static int cmp_chunk(const void *pa, const void *pb, void *ctx)
{
    const vnp_frame_score *rows = ctx;
    const char *a = rows[*(const size_t *)pa].id, *b = rows[*(const size_t *)pb].id;
    size_t la = chunk_len(a), lb = chunk_len(b);
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c;
    if (la != lb) return la < lb ? -1 : 1;
    /* stable for equal chunks: by position */
    size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
    return ia < ib ? -1 : ia > ib;
}

/* qsort has no context argument in C11; a small merge sort keeps this reentrant. */
static void sort_index(size_t *idx, size_t *tmp, size_t n, const vnp_frame_score *rows)
{
    if (n < 2) return;
    size_t h = n / 2;
    sort_index(idx, tmp, h, rows);
    sort_index(idx + h, tmp, n - h, rows);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_chunk(&idx[j], &idx[i], (void *)rows) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

int vnp_write_highestscore(FILE *fp, const vnp_frame_score *rows, size_t n)
{
    if (fputs("Modified_ID\tIs_Virus\n", fp) < 0) return VNP_ERR_IO;
    if (n == 0) return VNP_OK;
    size_t *idx = vnp_malloc_array(n, sizeof *idx);
    size_t *tmp = vnp_malloc_array(n, sizeof *tmp);
    if (!idx || !tmp) {
        free(idx);
        free(tmp);
        return VNP_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    sort_index(idx, tmp, n, rows);
    int rc = VNP_OK;
    for (size_t g = 0; g < n && rc == VNP_OK;) {
        const char *id = rows[idx[g]].id;
        size_t len = chunk_len(id);
        float m1 = rows[idx[g]].score1, m2 = rows[idx[g]].score2;
        size_t e = g + 1;
        while (e < n && chunk_len(rows[idx[e]].id) == len && memcmp(rows[idx[e]].id, id, len) == 0) {
            if (rows[idx[e]].score1 > m1) m1 = rows[idx[e]].score1;
            if (rows[idx[e]].score2 > m2) m2 = rows[idx[e]].score2;
            e++;
        }
        if (fprintf(fp, "%.*s\t%s\n", (int)len, id, m2 >= m1 ? "True" : "False") < 0) rc = VNP_ERR_IO;
        g = e;
    }
    free(idx);
    free(tmp);
    return rc;
}
