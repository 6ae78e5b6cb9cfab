/* sequence_summary.tsv: one row per input record, derived from its frames' scores.
 *
 *  chunk virus score = the highest P(virus) among the chunk's kept frames;
 *  a chunk is viral when VirNucPro's consensus says so (its max score2 >= its max score1);
 *  call       = no_orf when no frame was kept, virus when most chunks with kept frames are viral
 *               (more than half), not_virus otherwise;
 *  confidence = confident_viral when the call is virus and the mean chunk virus score >= T,
 *               confident_nonviral when the call is not_virus and that mean <= 1 - T, ambiguous otherwise,
 *               no_orf without frames (T = --min-confident-score, 0.8 by default). */
#include "pipeline_internal.h"

#include "vnp/report.h"

const char vnp_summary_header[] = "sequence_id\tlength\tchunks\tchunks_scored\tframes\tviral_chunks\t"
                                  "max_virus_score\tmean_chunk_virus_score\tcall\tconfidence\n";

typedef struct {
    size_t frames, chunks_scored, viral_chunks;
    float max_virus;
    double sum_chunk_virus;
} record_tally;

/* Tallies the items [i, end) of one record, chunk by chunk. */
static void tally_record(const vnp_block *b, size_t i, size_t end, record_tally *t)
{
    *t = (record_tally){0};
    while (i < end) {
        uint32_t c = b->item_chunk[i];
        float m1 = b->probs[2 * i], m2 = b->probs[2 * i + 1];
        size_t k = i + 1;
        for (; k < end && b->item_chunk[k] == c; k++) {
            if (b->probs[2 * k] > m1) m1 = b->probs[2 * k];
            if (b->probs[2 * k + 1] > m2) m2 = b->probs[2 * k + 1];
        }
        t->frames += k - i;
        t->chunks_scored++;
        t->viral_chunks += m2 >= m1;
        t->sum_chunk_virus += m2;
        if (t->chunks_scored == 1 || m2 > t->max_virus) t->max_virus = m2;
        i = k;
    }
}

int vnp_summary_write_block(FILE *fp, const vnp_block *b, double min_confident)
{
    size_t i = 0;
    for (size_t r = 0; r < b->n_records; r++) {
        size_t end = i;
        while (end < b->n_items && b->item_record[end] == r) end++;
        record_tally t;
        tally_record(b, i, end, &t);
        i = end;
        const char *call = "no_orf", *conf = "no_orf";
        char maxs[VNP_F32_STR_MAX] = "NA", means[VNP_F32_STR_MAX] = "NA";
        if (t.frames) {
            float mean = (float)(t.sum_chunk_virus / (double)t.chunks_scored);
            int viral = 2 * t.viral_chunks > t.chunks_scored;
            call = viral ? "virus" : "not_virus";
            conf = viral && mean >= min_confident          ? "confident_viral"
                   : !viral && mean <= 1.0 - min_confident ? "confident_nonviral"
                                                           : "ambiguous";
            vnp_format_f32(t.max_virus, maxs);
            vnp_format_f32(mean, means);
        }
        if (fprintf(fp, "%s\t%zu\t%zu\t%zu\t%zu\t%zu\t%s\t%s\t%s\t%s\n", b->ids.data + b->id_off[r], b->seq_len[r],
                    b->n_chunks[r], t.chunks_scored, t.frames, t.viral_chunks, maxs, means, call, conf) < 0)
            return VNP_ERR_IO;
    }
    return VNP_OK;
}
