/* sequence_summary.tsv: one row per input record, derived from its chunks' maxima (pipeline/summary.c walks a
 * block and hands each record's chunks here).
 *
 *  chunk virus score = the highest P(virus) among the chunk's kept frames;
 *  a chunk is viral when VirNucPro's consensus says so (its max score2 >= its max score1);
 *  call       = no_orf when no frame was kept, virus when most chunks with kept frames are viral
 *               (more than half), not_virus otherwise;
 *  confidence = confident_viral when the call is virus and the mean chunk virus score >= T,
 *               confident_nonviral when the call is not_virus and that mean <= 1 - T, ambiguous otherwise,
 *               no_orf without frames (T = --min-confident-score, 0.8 by default).
 * Scores print as numpy prints a float32, in both output styles (the file is this tool's own). */
#include "vnp/report.h"

const char vnp_summary_header[] = "sequence_id\tlength\tchunks\tchunks_scored\tframes\tviral_chunks\t"
                                  "max_virus_score\tmean_chunk_virus_score\tcall\tconfidence\n";

void vnp_tally_chunk(vnp_record_tally *t, size_t frames, float m1, float m2)
{
    t->frames += frames;
    t->chunks_scored++;
    t->viral_chunks += m2 >= m1;
    t->sum_chunk_virus += m2;
    if (t->chunks_scored == 1 || m2 > t->max_virus) t->max_virus = m2;
}

int vnp_summary_row(FILE *fp, const char *id, size_t length, size_t chunks, const vnp_record_tally *t,
                    double min_confident)
{
    const char *call = "no_orf", *conf = "no_orf";
    char maxs[VNP_F32_STR_MAX] = "NA", means[VNP_F32_STR_MAX] = "NA";
    if (t->frames) {
        float mean = (float)(t->sum_chunk_virus / (double)t->chunks_scored);
        int viral = 2 * t->viral_chunks > t->chunks_scored;
        call = viral ? "virus" : "not_virus";
        conf = viral && mean >= min_confident          ? "confident_viral"
               : !viral && mean <= 1.0 - min_confident ? "confident_nonviral"
                                                       : "ambiguous";
        vnp_format_f32(t->max_virus, maxs);
        vnp_format_f32(mean, means);
    }
    return fprintf(fp, "%s\t%zu\t%zu\t%zu\t%zu\t%zu\t%s\t%s\t%s\t%s\n", id, length, chunks, t->chunks_scored,
                   t->frames, t->viral_chunks, maxs, means, call, conf) < 0
               ? VNP_ERR_IO
               : VNP_OK;
}
