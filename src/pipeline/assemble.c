/* Assembles the final files from the committed blocks, in input order: prediction_results.txt,
 * prediction_results_highestscore.csv (report/consensus.c), sequence_summary.tsv,
 * and on request the intermediate FASTA files and embeddings.h5. Each final file is written under a temporary
 * name and renamed when complete. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnp/io.h"

static int copy_file(FILE *dst, const char *src)
{
    FILE *f = fopen(src, "rb");
    if (!f) {
        vnp_error("cannot read journal part '%s': %s", src, strerror(errno));
        return VNP_ERR_IO;
    }
    char buf[1 << 16];
    size_t n;
    int rc = VNP_OK;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, dst) != n) {
            rc = VNP_ERR_IO;
            break;
        }
    if (ferror(f)) rc = VNP_ERR_IO;
    fclose(f);
    return rc;
}

/* name = header + the part of every block, in block order. */
static int concat_parts(const vnp_journal *j, uint64_t n_blocks, const char *part, const char *name,
                        const char *header)
{
    char *path = vnp_path_join(j->outdir, name);
    vnp_outfile *o = path ? vnp_outfile_open(path) : NULL;
    free(path);
    if (!o) return VNP_ERR_IO;
    int rc = header && fputs(header, vnp_outfile_fp(o)) < 0 ? VNP_ERR_IO : VNP_OK;
    for (uint64_t b = 0; b < n_blocks && rc == VNP_OK; b++) {
        char p[4096];
        vnp_journal_part(j, b, part, p, sizeof p);
        rc = copy_file(vnp_outfile_fp(o), p);
    }
    if (rc) {
        vnp_error("writing '%s/%s' failed: %s", j->outdir, name, rc == VNP_ERR_IO ? strerror(errno) : vnp_status_str(rc));
        vnp_outfile_abort(o);
        return rc;
    }
    return vnp_outfile_commit(o);
}

/* embeddings.h5 from the blocks' "emb" (raw float32 rows) and "embids" (one id a line) parts, 1,024 rows at a
 * time. */
static int append_block_embeddings(vnp_h5_embeddings *h, const vnp_journal *j, uint64_t b, size_t d)
{
    char pe[4096], pi[4096];
    vnp_journal_part(j, b, "emb", pe, sizeof pe);
    vnp_journal_part(j, b, "embids", pi, sizeof pi);
    FILE *fe = fopen(pe, "rb"), *fi = fopen(pi, "rb");
    enum { BATCH = 1024 };
    float *rows = vnp_malloc_array(BATCH, d * sizeof(float));
    char *ids[BATCH] = {0};
    size_t caps[BATCH] = {0};
    int rc = fe && fi ? (rows ? VNP_OK : VNP_ERR_NOMEM) : VNP_ERR_IO;
    if (!fe || !fi) vnp_error("cannot read journal parts '%s' / '%s': %s", pe, pi, strerror(errno));
    while (rc == VNP_OK) {
        size_t n = 0;
        while (n < BATCH && getline(&ids[n], &caps[n], fi) > 0) {
            ids[n][strcspn(ids[n], "\n")] = '\0';
            n++;
        }
        if (n == 0) break;
        if (fread(rows, d * sizeof(float), n, fe) != n) {
            vnp_error("journal part '%s' is shorter than its ids; use --force to start over", pe);
            rc = VNP_ERR_FORMAT;
            break;
        }
        rc = vnp_h5_embeddings_append(h, (const char *const *)ids, rows, n);
    }
    for (size_t i = 0; i < BATCH; i++) free(ids[i]);
    free(rows);
    if (fe) fclose(fe);
    if (fi) fclose(fi);
    return rc;
}

static int write_embeddings(const vnp_journal *j, uint64_t n_blocks, const vnp_scorer *s)
{
    char *path = vnp_path_join(j->outdir, "embeddings.h5");
    vnp_h5_embeddings *h = path ? vnp_h5_embeddings_create(path, s->d_dna, s->d_prot) : NULL;
    free(path);
    if (!h) return VNP_ERR_IO;
    int rc = VNP_OK;
    for (uint64_t b = 0; b < n_blocks && rc == VNP_OK; b++)
        rc = append_block_embeddings(h, j, b, (size_t)s->d_dna + (size_t)s->d_prot);
    if (rc) {
        vnp_h5_embeddings_abort(h);
        return rc;
    }
    return vnp_h5_embeddings_commit(h);
}

/* prediction_results_highestscore.csv from the blocks' "cons" parts. */
static int write_consensus(const vnp_journal *j, uint64_t n_blocks, vnp_output_style st)
{
    size_t n = (size_t)n_blocks;
    char **parts = vnp_calloc_array(n ? n : 1, sizeof *parts);
    char *out = vnp_path_join(j->outdir, "prediction_results_highestscore.csv");
    int rc = parts && out ? VNP_OK : VNP_ERR_NOMEM;
    for (size_t b = 0; b < n && rc == VNP_OK; b++) {
        char buf[4096];
        vnp_journal_part(j, b, "cons", buf, sizeof buf);
        if (!(parts[b] = vnp_strdup(buf))) rc = VNP_ERR_NOMEM;
    }
    if (rc == VNP_OK) rc = vnp_consensus_write(out, parts, n, st, j->blocks);
    for (size_t b = 0; parts && b < n; b++) free(parts[b]);
    free(parts);
    free(out);
    return rc;
}

int vnp_assemble_outputs(const vnp_journal *j, uint64_t n_blocks, const vnp_predict_opts *o, const vnp_scorer *s)
{
    int rc = concat_parts(j, n_blocks, "pred", "prediction_results.txt", vnp_pred_header);
    if (!rc) rc = write_consensus(j, n_blocks, o->output_style);
    if (!rc) rc = concat_parts(j, n_blocks, "seq", "sequence_summary.tsv", vnp_summary_header);
    if (!rc && o->keep_intermediate) rc = concat_parts(j, n_blocks, "chunked", "chunked.fa", NULL);
    if (!rc && o->keep_intermediate) rc = concat_parts(j, n_blocks, "nuc", "identified_nucleotide.fa", NULL);
    if (!rc && o->keep_intermediate) rc = concat_parts(j, n_blocks, "prot", "identified_protein.faa", NULL);
    if (!rc && o->save_embeddings) rc = write_embeddings(j, n_blocks, s);
    return rc;
}
