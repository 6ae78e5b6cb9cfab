/* A block of input records: their chunks and kept frames, the encoders and classifier run over them, and the
 * block's parts written into the journal. Memory is reused from block to block. */
#include "pipeline_internal.h"

#include <stdlib.h>
#include <string.h>

#include "vnp/report.h"

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return VNP_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = vnp_realloc_array(*p, c, elem);
    if (!q) return VNP_ERR_NOMEM;
    *p = q;
    return VNP_OK;
}

/* The per-record and per-item arrays grow together; their capacities are tracked once for each group. */
static int reserve_records(vnp_block *b, size_t need)
{
    if (need <= b->cap_records) return VNP_OK;
    size_t cap = b->cap_records, c2 = cap, c3 = cap;
    if (grow((void **)&b->id_off, &cap, need, sizeof *b->id_off) ||
        grow((void **)&b->seq_len, &c2, need, sizeof *b->seq_len) ||
        grow((void **)&b->n_chunks, &c3, need, sizeof *b->n_chunks))
        return VNP_ERR_NOMEM;
    b->cap_records = cap;
    return VNP_OK;
}

static int reserve_items(vnp_block *b, size_t need)
{
    if (need <= b->cap_items) return VNP_OK;
    size_t c[8];
    for (int i = 0; i < 8; i++) c[i] = b->cap_items;
    if (grow((void **)&b->item_record, &c[0], need, sizeof *b->item_record) ||
        grow((void **)&b->item_chunk, &c[1], need, sizeof *b->item_chunk) ||
        grow((void **)&b->item_frame, &c[2], need, sizeof *b->item_frame) ||
        grow((void **)&b->nuc_off, &c[3], need, sizeof *b->nuc_off) ||
        grow((void **)&b->nuc_len, &c[4], need, sizeof *b->nuc_len) ||
        grow((void **)&b->prot_off, &c[5], need, sizeof *b->prot_off) ||
        grow((void **)&b->prot_len, &c[6], need, sizeof *b->prot_len))
        return VNP_ERR_NOMEM;
    b->cap_items = c[0];
    return VNP_OK;
}

void vnp_block_reset(vnp_block *b, uint64_t first_record)
{
    b->first_record = first_record;
    b->n_records = b->n_items = 0;
    b->ids.len = b->nuc.len = b->prot.len = b->chunked.len = 0;
    b->bases = b->chunks = b->nonacgt = 0;
}

void vnp_block_free(vnp_block *b)
{
    vnp_buf_free(&b->ids);
    vnp_buf_free(&b->nuc);
    vnp_buf_free(&b->prot);
    vnp_buf_free(&b->chunked);
    free(b->id_off);
    free(b->seq_len);
    free(b->n_chunks);
    free(b->item_record);
    free(b->item_chunk);
    free(b->item_frame);
    free(b->nuc_off);
    free(b->nuc_len);
    free(b->prot_off);
    free(b->prot_len);
    vnp_free_aligned(b->features);
    free(b->probs);
    vnp_window_free(&b->w_dna);
    vnp_window_free(&b->w_prot);
    vnp_window_free(&b->w_fresh);
    memset(b, 0, sizeof *b);
}

/* Appends ">id_chunk_<c>\n" and the chunk wrapped at 60 columns (Biopython SeqIO.write) to b->chunked. */
static int append_chunk_fasta(vnp_block *b, const char *id, size_t id_len, size_t c, const char *s, size_t n)
{
    char num[40];
    int k = snprintf(num, sizeof num, "_chunk_%zu\n", c + 1);
    if (vnp_buf_putc(&b->chunked, '>') || vnp_buf_append(&b->chunked, id, id_len) ||
        vnp_buf_append(&b->chunked, num, (size_t)k))
        return VNP_ERR_NOMEM;
    for (size_t i = 0; i < n; i += 60) {
        size_t w = n - i < 60 ? n - i : 60;
        if (vnp_buf_append(&b->chunked, s + i, w) || vnp_buf_putc(&b->chunked, '\n')) return VNP_ERR_NOMEM;
    }
    return VNP_OK;
}

int vnp_block_add_unscored(vnp_block *b, const char *id, size_t id_len, size_t len, int chunk_len)
{
    if (b->n_records >= UINT32_MAX - 1 || reserve_records(b, b->n_records + 1)) return VNP_ERR_NOMEM;
    size_t r = b->n_records;
    b->id_off[r] = b->ids.len;
    if (vnp_buf_append(&b->ids, id, id_len) || vnp_buf_putc(&b->ids, '\0')) return VNP_ERR_NOMEM;
    size_t nc = vnp_chunk_count(len, (size_t)chunk_len);
    b->seq_len[r] = len;
    b->n_chunks[r] = nc;
    b->n_records++;
    b->bases += len;
    b->chunks += nc;
    return VNP_OK;
}

int vnp_block_add(vnp_block *b, vnp_translator *tr, const char *id, size_t id_len, const char *seq, size_t len,
                  int chunk_len, int keep_chunks)
{
    int rc = vnp_block_add_unscored(b, id, id_len, len, chunk_len);
    if (rc) return rc;
    size_t r = b->n_records - 1, nc = b->n_chunks[r];
    b->nonacgt += vnp_seq_count_non_acgt(seq, len);
    for (size_t c = 0; c < nc; c++) {
        vnp_chunk ch = vnp_chunk_get(len, (size_t)chunk_len, c);
        if (keep_chunks && append_chunk_fasta(b, id, id_len, c, seq + ch.offset, ch.length)) return VNP_ERR_NOMEM;
        vnp_work_item items[VNP_NFRAMES];
        int kept = 0;
        if ((rc = vnp_translate_chunk(tr, seq + ch.offset, ch.length, r, c, items, &kept))) return rc;
        if (reserve_items(b, b->n_items + (size_t)kept)) return VNP_ERR_NOMEM;
        for (int f = 0; f < kept; f++) {
            size_t i = b->n_items++;
            b->item_record[i] = (uint32_t)r;
            b->item_chunk[i] = (uint32_t)c;
            b->item_frame[i] = (uint8_t)items[f].frame;
            b->nuc_off[i] = b->nuc.len;
            b->nuc_len[i] = items[f].nuc_len;
            b->prot_off[i] = b->prot.len;
            b->prot_len[i] = items[f].prot_len;
            if (vnp_buf_append(&b->nuc, items[f].nuc, items[f].nuc_len) ||
                vnp_buf_append(&b->prot, items[f].prot, items[f].prot_len))
                return VNP_ERR_NOMEM;
        }
    }
    return VNP_OK;
}

int vnp_block_item_id(const vnp_block *b, size_t i, char *buf, size_t size)
{
    return snprintf(buf, size, "%s_chunk_%u%s", b->ids.data + b->id_off[b->item_record[i]], b->item_chunk[i] + 1,
                    vnp_frame_label(b->item_frame[i]));
}

/* The n_items slices of one arena, as the scorer takes them. */
static int tokenize_arena(const vnp_block *b, const vnp_scorer *s, int protein, vnp_window *w)
{
    size_t n = b->n_items;
    const vnp_buf *arena = protein ? &b->prot : &b->nuc;
    const size_t *off = protein ? b->prot_off : b->nuc_off, *len = protein ? b->prot_len : b->nuc_len;
    const char **seqs = vnp_malloc_array(n, sizeof *seqs);
    int rc = seqs ? VNP_OK : VNP_ERR_NOMEM;
    for (size_t i = 0; i < n && rc == VNP_OK; i++) seqs[i] = arena->data + off[i];
    if (rc == VNP_OK) rc = s->tokenize(s->ctx, protein, seqs, len, n, w);
    free(seqs);
    return rc;
}

int vnp_block_tokenize(vnp_block *b, const vnp_scorer *s)
{
    vnp_window_clear(&b->w_dna);
    vnp_window_clear(&b->w_prot);
    if (b->n_items == 0) return VNP_OK;
    int rc = tokenize_arena(b, s, 0, &b->w_dna);
    return rc ? rc : tokenize_arena(b, s, 1, &b->w_prot);
}

int vnp_block_embed(vnp_block *b, const vnp_scorer *s, vnp_reuse *reuse, double *t_dna, double *t_prot)
{
    size_t n = b->n_items;
    if (n == 0) return VNP_OK;
    size_t d = (size_t)s->d_dna + (size_t)s->d_prot, need;
    if (vnp_mul_overflow(n, d, &need)) return VNP_ERR_NOMEM;
    if (need > b->cap_features) {
        vnp_free_aligned(b->features);
        free(b->probs);
        b->features = vnp_malloc_aligned(need * sizeof(float));
        b->probs = vnp_malloc_array(n, 2 * sizeof(float));
        b->cap_features = b->features && b->probs ? need : 0;
        if (!b->cap_features) return VNP_ERR_NOMEM;
    }
    double t0 = vnp_time_now();
    int rc = reuse ? vnp_reuse_embed(reuse, s, 0, b->nuc.data, b->nuc_off, b->nuc_len, n, &b->w_dna, &b->w_fresh,
                                     b->features, d)
                   : s->embed(s->ctx, 0, &b->w_dna, b->features, d);
    double t1 = vnp_time_now();
    if (rc == VNP_OK)
        rc = reuse ? vnp_reuse_embed(reuse, s, 1, b->prot.data, b->prot_off, b->prot_len, n, &b->w_prot,
                                     &b->w_fresh, b->features + s->d_dna, d)
                   : s->embed(s->ctx, 1, &b->w_prot, b->features + s->d_dna, d);
    *t_dna += t1 - t0;
    *t_prot += vnp_time_now() - t1;
    return rc;
}

int vnp_block_classify(vnp_block *b, const vnp_scorer *s)
{
    return b->n_items ? s->classify(s->ctx, b->features, b->n_items, b->probs) : VNP_OK;
}
