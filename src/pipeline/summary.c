/* sequence_summary.tsv rows of a block: walks each record's kept frames chunk by chunk and hands the chunks'
 * maxima to report/summary.c, which owns the file's columns and rules. */
#include "pipeline_internal.h"

#include "vnp/report.h"

/* Tallies the items [i, end) of one record, chunk by chunk. */
static void tally_record(const vnp_block *b, size_t i, size_t end, vnp_record_tally *t)
{
    *t = (vnp_record_tally){0};
    while (i < end) {
        uint32_t c = b->item_chunk[i];
        float m1 = b->probs[2 * i], m2 = b->probs[2 * i + 1];
        size_t k = i + 1;
        for (; k < end && b->item_chunk[k] == c; k++) {
            if (b->probs[2 * k] > m1) m1 = b->probs[2 * k];
            if (b->probs[2 * k + 1] > m2) m2 = b->probs[2 * k + 1];
        }
        vnp_tally_chunk(t, k - i, m1, m2);
        i = k;
    }
}

int vnp_summary_write_block(FILE *fp, const vnp_block *b, double min_confident)
{
    size_t i = 0;
    for (size_t r = 0; r < b->n_records; r++) {
        size_t end = i;
        while (end < b->n_items && b->item_record[end] == r) end++;
        vnp_record_tally t;
        tally_record(b, i, end, &t);
        i = end;
        int rc = vnp_summary_row(fp, b->ids.data + b->id_off[r], b->seq_len[r], b->n_chunks[r], &t, min_confident);
        if (rc) return rc;
    }
    return VNP_OK;
}
