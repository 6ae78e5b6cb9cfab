/* Writes a scored block's parts into the journal: prediction rows, per-chunk maxima for the consensus file,
 * sequence_summary rows and, on request, the intermediate FASTA files and the features. Every part is written
 * under a temporary name and renamed when complete; the block's done marker follows them (journal.c). */
#include "pipeline_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnp/report.h"

typedef int (*part_writer)(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s);

static int write_part(const vnp_journal *j, uint64_t block, const char *part, part_writer fn, const vnp_block *b,
                      const vnp_predict_opts *o, const vnp_scorer *s)
{
    char path[4096];
    vnp_journal_part(j, block, part, path, sizeof path);
    vnp_outfile *out = vnp_outfile_open(path);
    if (!out) return VNP_ERR_IO;
    int rc = fn(vnp_outfile_fp(out), b, o, s);
    if (rc) {
        vnp_error("writing '%s' failed: %s", path, rc == VNP_ERR_IO ? strerror(errno) : vnp_status_str(rc));
        vnp_outfile_abort(out);
        return rc;
    }
    return vnp_outfile_commit(out);
}

static int put_pred(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s)
{
    (void)s;
    char id[4096];
    int rc = VNP_OK;
    for (size_t i = 0; i < b->n_items && rc == VNP_OK; i++) {
        vnp_block_item_id(b, i, id, sizeof id);
        rc = vnp_pred_row(fp, o->output_style, id, b->probs[2 * i], b->probs[2 * i + 1]);
    }
    return rc;
}

/* One row per chunk that has kept frames, its maxima (report.h's consensus part); the assembler merges the
 * blocks' rows and combines equal ids (duplicate record names). */
static int put_cons(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s)
{
    (void)s;
    vnp_chunk_max *rows = vnp_malloc_array(b->n_items ? b->n_items : 1, sizeof *rows);
    if (!rows) return VNP_ERR_NOMEM;
    size_t n = 0;
    int rc = VNP_OK;
    for (size_t i = 0; i < b->n_items && rc == VNP_OK; i++) {
        float p1 = b->probs[2 * i], p2 = b->probs[2 * i + 1];
        if (n && b->item_record[i] == b->item_record[i - 1] && b->item_chunk[i] == b->item_chunk[i - 1]) {
            if (p1 > rows[n - 1].m1) rows[n - 1].m1 = p1;
            if (p2 > rows[n - 1].m2) rows[n - 1].m2 = p2;
            continue;
        }
        const char *rid = b->ids.data + b->id_off[b->item_record[i]];
        size_t len = strlen(rid) + 32;
        rows[n].id = malloc(len);
        if (!rows[n].id) {
            rc = VNP_ERR_NOMEM;
            break;
        }
        snprintf(rows[n].id, len, "%s_chunk_%u", rid, b->item_chunk[i] + 1);
        rows[n].m1 = p1;
        rows[n].m2 = p2;
        n++;
    }
    if (rc == VNP_OK) rc = vnp_cons_part_write(fp, o->output_style, rows, n);
    for (size_t i = 0; i < n; i++) free(rows[i].id);
    free(rows);
    return rc;
}

static int put_seq(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s)
{
    (void)s;
    return vnp_summary_write_block(fp, b, o->min_confident);
}

static int put_chunked(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s)
{
    (void)o;
    (void)s;
    return b->chunked.len && fwrite(b->chunked.data, 1, b->chunked.len, fp) != b->chunked.len ? VNP_ERR_IO
                                                                                                 : VNP_OK;
}

static int put_frames(FILE *fp, const vnp_block *b, const vnp_buf *arena, const size_t *off, const size_t *len)
{
    char id[4096];
    for (size_t i = 0; i < b->n_items; i++) {
        vnp_block_item_id(b, i, id, sizeof id);
        if (fprintf(fp, ">%s\n%.*s\n", id, (int)len[i], arena->data + off[i]) < 0) return VNP_ERR_IO;
    }
    return VNP_OK;
}

static int put_nuc(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s)
{
    (void)o;
    (void)s;
    return put_frames(fp, b, &b->nuc, b->nuc_off, b->nuc_len);
}

static int put_prot(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s)
{
    (void)o;
    (void)s;
    return put_frames(fp, b, &b->prot, b->prot_off, b->prot_len);
}

/* Features as raw little-endian float32 rows [n_items, d_dna + d_prot], and their ids one per line. */
static int put_emb(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s)
{
    (void)o;
    size_t n = b->n_items * ((size_t)s->d_dna + (size_t)s->d_prot);
    return n && fwrite(b->features, sizeof(float), n, fp) != n ? VNP_ERR_IO : VNP_OK;
}

static int put_embids(FILE *fp, const vnp_block *b, const vnp_predict_opts *o, const vnp_scorer *s)
{
    (void)o;
    (void)s;
    char id[4096];
    for (size_t i = 0; i < b->n_items; i++) {
        vnp_block_item_id(b, i, id, sizeof id);
        if (fprintf(fp, "%s\n", id) < 0) return VNP_ERR_IO;
    }
    return VNP_OK;
}

int vnp_block_write(const vnp_block *b, const vnp_journal *j, uint64_t block, const vnp_predict_opts *o,
                    const vnp_scorer *s)
{
    int rc = write_part(j, block, "pred", put_pred, b, o, s);
    if (!rc) rc = write_part(j, block, "cons", put_cons, b, o, s);
    if (!rc) rc = write_part(j, block, "seq", put_seq, b, o, s);
    if (!rc && o->keep_intermediate) rc = write_part(j, block, "chunked", put_chunked, b, o, s);
    if (!rc && o->keep_intermediate) rc = write_part(j, block, "nuc", put_nuc, b, o, s);
    if (!rc && o->keep_intermediate) rc = write_part(j, block, "prot", put_prot, b, o, s);
    if (!rc && o->save_embeddings) rc = write_part(j, block, "emb", put_emb, b, o, s);
    if (!rc && o->save_embeddings) rc = write_part(j, block, "embids", put_embids, b, o, s);
    return rc;
}
