/* Internal to pipeline/: the run journal, blocks of work and the assembly of the final files. */
#ifndef VNP_PIPELINE_INTERNAL_H
#define VNP_PIPELINE_INTERNAL_H

#include <stdio.h>

#include "vnp/pipeline.h"
#include "vnp/seq.h"

/* ---- journal (journal.c): OUTDIR/.virnucpro/{run.json, blocks/NNNNNNNN.<part>} ---- */
typedef struct {
    char *outdir;
    char *dir;        /* OUTDIR/.virnucpro */
    char *blocks;     /* OUTDIR/.virnucpro/blocks */
    int resumed;      /* an earlier run's journal is being continued */
    int complete;     /* that run had already finished */
} vnp_journal;

/* "a/b", malloc'ed; NULL when out of memory. */
char *vnp_path_join(const char *a, const char *b);

/* Prepares OUTDIR for a run with the given identity (JSON text): refuses a directory holding another run's
 * results unless force (which removes them) or resume (which continues them when the identity matches). */
int vnp_journal_open(vnp_journal *j, const char *outdir, const char *identity, int resume, int force) VNP_MUST_CHECK;
void vnp_journal_close(vnp_journal *j);
/* Path of a block's part ("pred", "cons", "seq", ...) into buf. */
void vnp_journal_part(const vnp_journal *j, uint64_t block, const char *part, char *buf, size_t size);
/* 1 when the block was committed; its record count must then equal n_records (else VNP_ERR_FORMAT: the input
 * changed since). */
int vnp_journal_block_done(const vnp_journal *j, uint64_t block, uint64_t n_records, const char *first_id);
/* Commits a block: writes its done marker atomically, after all its parts. */
int vnp_journal_commit_block(const vnp_journal *j, uint64_t block, uint64_t n_records, const char *first_id) VNP_MUST_CHECK;
/* Marks the run complete and removes the block parts. */
int vnp_journal_finish(vnp_journal *j) VNP_MUST_CHECK;

/* ---- a block of records (block.c) ---- */
typedef struct {
    uint64_t first_record;   /* global index of the first record */
    size_t n_records;
    vnp_buf ids;             /* record ids, NUL-separated */
    size_t *id_off;          /* [n_records] offsets into ids */
    size_t *seq_len;         /* [n_records] */
    size_t *n_chunks;        /* [n_records] */
    size_t cap_records;

    /* kept frames ("items") of the block, in output order */
    size_t n_items, cap_items;
    uint32_t *item_record;   /* [n_items] record index within the block */
    uint32_t *item_chunk;    /* [n_items] 0-based chunk index within the record */
    uint8_t *item_frame;     /* [n_items] 1..6 */
    size_t *nuc_off, *nuc_len, *prot_off, *prot_len; /* [n_items] into the arenas */
    vnp_buf nuc, prot;       /* the slices, end to end */

    vnp_buf chunked;         /* chunked.fa text of the block (only with keep_intermediate) */
    float *features;         /* [n_items, d_dna + d_prot] */
    float *probs;            /* [n_items, 2] */
    size_t cap_features;     /* floats allocated in features */
    uint64_t bases, chunks;
    uint64_t nonacgt;
} vnp_block;

void vnp_block_reset(vnp_block *b, uint64_t first_record);
void vnp_block_free(vnp_block *b);
/* Adds one record: chunks and translates it, appending its kept frames. */
int vnp_block_add(vnp_block *b, vnp_translator *tr, const char *id, size_t id_len, const char *seq, size_t len,
                  int chunk_len, int keep_chunks) VNP_MUST_CHECK;
/* Runs the encoders and the classifier over the block's items. Stage times are added to st. */
int vnp_block_score(vnp_block *b, const vnp_scorer *s, vnp_predict_stats *st) VNP_MUST_CHECK;
/* Writes the block's parts into the journal (each atomically). */
int vnp_block_write(const vnp_block *b, const vnp_journal *j, uint64_t block, const vnp_predict_opts *o,
                    const vnp_scorer *s) VNP_MUST_CHECK;
/* The frame id "<record id>_chunk_<c+1><F|R><n>" of item i into buf (size >= id length + 32). */
int vnp_block_item_id(const vnp_block *b, size_t i, char *buf, size_t size);

/* ---- the final files (assemble.c) ---- */
int vnp_assemble_outputs(const vnp_journal *j, uint64_t n_blocks, const vnp_predict_opts *o,
                         const vnp_scorer *s) VNP_MUST_CHECK;

/* prediction_results_highestscore.csv from the blocks' sorted "cons" parts (consensus.c). */
int vnp_consensus_write(const vnp_journal *j, uint64_t n_blocks) VNP_MUST_CHECK;

/* ---- sequence_summary.tsv rows (summary.c) ---- */
extern const char vnp_summary_header[];
/* Writes one row per record of the block. */
int vnp_summary_write_block(FILE *fp, const vnp_block *b, double min_confident) VNP_MUST_CHECK;

#endif
