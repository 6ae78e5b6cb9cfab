/* Validation metrics of a binary classifier: confusion counts, accuracy, precision, recall, F1, exact AUROC. */
#include "vnp/train.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    float s;
    uint8_t y;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

double vnp_auroc(const float *scores, const uint8_t *labels, size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) pos += labels[i] != 0;
    size_t neg = n - pos;
    if (pos == 0 || neg == 0) return NAN;
    scored *v = vnp_malloc_array(n, sizeof *v);
    if (!v) return NAN;
    for (size_t i = 0; i < n; i++) v[i] = (scored){scores[i], labels[i] != 0};
    qsort(v, n, sizeof *v, cmp_scored);
    /* Mann-Whitney: sum of the positives' ranks (1-based, ties share the mean rank of their run). */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) j++;
        double mean_rank = ((double)(i + 1) + (double)j) / 2.0;
        for (size_t k = i; k < j; k++)
            if (v[k].y) rank_sum += mean_rank;
        i = j;
    }
    free(v);
    double p = (double)pos, q = (double)neg;
    return (rank_sum - p * (p + 1) / 2.0) / (p * q);
}

void vnp_binary_metrics_compute(const float *scores, const uint8_t *labels, size_t n, vnp_binary_metrics *m)
{
    size_t tp = 0, fp = 0, tn = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        int pred = scores[i] > 0.5f, y = labels[i] != 0;
        tp += pred && y;
        fp += pred && !y;
        tn += !pred && !y;
        fn += !pred && y;
    }
    m->tp = tp;
    m->fp = fp;
    m->tn = tn;
    m->fn = fn;
    m->accuracy = n ? (double)(tp + tn) / (double)n : NAN;
    m->precision = tp + fp ? (double)tp / (double)(tp + fp) : 0.0;
    m->recall = tp + fn ? (double)tp / (double)(tp + fn) : 0.0;
    m->f1 = m->precision + m->recall > 0 ? 2 * m->precision * m->recall / (m->precision + m->recall) : 0.0;
    m->auroc = vnp_auroc(scores, labels, n);
}
