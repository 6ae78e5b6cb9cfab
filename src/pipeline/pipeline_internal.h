/* Internal to pipeline/: the run journal, blocks of work and the assembly of the final files. */
#ifndef VNP_PIPELINE_INTERNAL_H
#define VNP_PIPELINE_INTERNAL_H

#include <jansson.h>
#include <stdio.h>

#include "vnp/pipeline.h"
#include "vnp/seq.h"

/* What a block holds, as its done marker records it. */
typedef struct {
    uint64_t records, chunks, frames, bases;
} vnp_block_counts;

/* ---- journal (journal.c): OUTDIR/.virnucpro/{run.json, blocks/NNNNNNNN.<part>} ---- */
typedef struct {
    char *outdir;
    char *dir;        /* OUTDIR/.virnucpro */
    char *blocks;     /* OUTDIR/.virnucpro/blocks */
    int resumed;      /* an earlier run's journal is being continued */
    int complete;     /* that run had already finished */
    int opened;       /* vnp_journal_open succeeded: the journal is this run's */
    vnp_outdir_lock *lock; /* the lock vnp_journal_open took (NULL: the caller holds one) */
} vnp_journal;

/* ---- OUTDIR's guard (outdir.c): what our runs made there, removed without following a symbolic link ---- */
/* --force: the journal's blocks and run.json, the final files and their stale temporaries (the lock stays). */
int vnp_outdir_remove_results(const char *outdir) VNP_MUST_CHECK;
/* The journal's block files (a finished run's, or a scratch journal's). */
int vnp_outdir_remove_blocks(const char *outdir) VNP_MUST_CHECK;
/* Temporary files a killed run of ours left ("<final file>.tmp.<pid>", blocks' "*.tmp.<pid>", merge files). */
int vnp_outdir_remove_stale(const char *outdir) VNP_MUST_CHECK;
/* 1 when OUTDIR holds a final file (or something under one of their names). */
int vnp_outdir_has_final(const char *outdir);
/* 1 when OUTDIR's journal holds a committed block (a done marker). */
int vnp_outdir_has_committed_block(const char *outdir);

/* "a/b", malloc'ed; NULL when out of memory. */
char *vnp_path_join(const char *a, const char *b);

/* Prepares OUTDIR for a run with the given identity (JSON text): takes OUTDIR's lock unless the caller holds it
 * (lock not NULL), removes our stale temporary files, refuses a directory holding another run's results unless
 * force (which removes them) or resume (which continues them when the identity matches). */
int vnp_journal_open(vnp_journal *j, const char *outdir, const char *identity, int resume, int force,
                     vnp_outdir_lock *lock) VNP_MUST_CHECK;
void vnp_journal_close(vnp_journal *j);
/* Path of a block's part ("pred", "cons", "seq", ...) into buf. */
void vnp_journal_part(const vnp_journal *j, uint64_t block, const char *part, char *buf, size_t size);
/* The parts a block may have (block_write.c writes them; a done marker lists those that exist). */
extern const char *const vnp_journal_parts[];
extern const size_t vnp_journal_n_parts;
enum { VNP_JOURNAL_MAX_PARTS = 16 };
typedef struct {
    char name[17];
    uint64_t size;
    uint32_t crc; /* CRC-32 (zlib) */
} vnp_part_sum;
/* A done marker: the block's counts, its first record id, and its parts' sizes and checksums. */
typedef struct {
    vnp_block_counts counts;
    char first_id[1001];
    int n_parts;
    vnp_part_sum parts[VNP_JOURNAL_MAX_PARTS];
} vnp_block_marker;
/* Parses a done marker's bytes; VNP_ERR_FORMAT with *why (a static string) when they are not one. */
int vnp_journal_marker_parse(const char *text, size_t len, vnp_block_marker *m,
                             const char **why) VNP_MUST_CHECK;
/* Reads a block's done marker: 1 intact, 0 absent, VNP_ERR_FORMAT damaged (why: the path and what is wrong). */
int vnp_journal_read_marker(const vnp_journal *j, uint64_t block, vnp_block_marker *m, char *why, size_t whysize);
/* The same, and every part it lists must have the recorded size and CRC-32 (none is read through a link). */
int vnp_journal_block_check(const vnp_journal *j, uint64_t block, vnp_block_marker *m, char *why, size_t whysize);
/* A committed block checked whole before its parts are used: VNP_OK, or VNP_ERR_NOTFOUND / VNP_ERR_FORMAT logged
 * with the path and `advice` (what to do about it). */
int vnp_journal_block_verify(const vnp_journal *j, uint64_t block, vnp_block_counts *out,
                             const char *advice) VNP_MUST_CHECK;
/* 1 when the block was committed and is intact (m filled), 0 when not committed or damaged (a warning says so; its
 * marker is removed so that the block is computed again), VNP_ERR_IO when that removal fails. */
int vnp_journal_block_reusable(const vnp_journal *j, uint64_t block, vnp_block_marker *m);
/* 1 when the block was committed and is intact; its record count and first id must then match (else
 * VNP_ERR_FORMAT: the input changed since); *out (may be NULL) gets the block's counts. 0 when not committed, or
 * when it is damaged (a warning says so; its marker is removed so that the block is computed again). */
int vnp_journal_block_done(const vnp_journal *j, uint64_t block, uint64_t n_records, const char *first_id,
                           vnp_block_counts *out);
/* The counts of a committed block from its marker; VNP_ERR_NOTFOUND / VNP_ERR_FORMAT (logged) when it was never
 * committed or its marker is damaged. */
int vnp_journal_block_counts(const vnp_journal *j, uint64_t block, vnp_block_counts *out) VNP_MUST_CHECK;
/* Commits a block: writes its done marker, with its parts' sizes and checksums, atomically, after all its parts. */
int vnp_journal_commit_block(const vnp_journal *j, uint64_t block, const vnp_block_counts *c,
                             const char *first_id) VNP_MUST_CHECK;
/* Marks the run complete and removes the block parts. */
int vnp_journal_finish(vnp_journal *j) VNP_MUST_CHECK;
/* Removes the journal's run.json and blocks (a scratch journal whose blocks went elsewhere, or a run that failed
 * before committing anything); the lock's release then removes .virnucpro/ when it is empty. */
int vnp_journal_discard(vnp_journal *j) VNP_MUST_CHECK;
/* Writes a JSON document to dir/name atomically. */
int vnp_write_json_file(const char *dir, const char *name, json_t *root) VNP_MUST_CHECK;
/* Marks a shard's run complete with its manifest (JSON object text) and keeps the block parts for merging. */
int vnp_journal_finish_shard(vnp_journal *j, const char *manifest) VNP_MUST_CHECK;

/* ---- reuse of repeated frames (reuse.c) ---- */
typedef struct vnp_reuse vnp_reuse;
/* A cache of at most limit_bytes (entries: features, key and bookkeeping) for encoders of the given widths. */
vnp_reuse *vnp_reuse_create(size_t limit_bytes, int d_dna, int d_prot);
void vnp_reuse_free(vnp_reuse *r); /* accepts NULL */
/* enc: 0 = DNABERT-S, 1 = ESM-2. 1 and the features in out when the sequence s[0..len) is cached, else 0. */
int vnp_reuse_get(vnp_reuse *r, int enc, const char *s, size_t len, float *out);
/* Keeps a sequence's features, dropping the least recently used entries to make room. */
void vnp_reuse_put(vnp_reuse *r, int enc, const char *s, size_t len, const float *feat);
void vnp_reuse_count(vnp_reuse *r, int enc, uint64_t frames, uint64_t computed);
void vnp_reuse_snapshot(vnp_reuse *r, vnp_reuse_stats *out);
/* Embeds the n sequences base + off[i] (len[i] bytes, tokenized in `all`) into out + i*ld through the cache: hits
 * are copied, each distinct miss runs once (tokens gathered into `fresh`) and is kept. */
int vnp_reuse_embed(vnp_reuse *r, const vnp_scorer *s, int enc, const char *base, const size_t *off,
                    const size_t *len, size_t n, const vnp_window *all, vnp_window *fresh, float *out,
                    size_t ld) VNP_MUST_CHECK;
/* run_summary.json's "reuse" object (also logged at info level, -v): whether it was on, per encoder the frames,
 * those run and the encoder seconds saved (its seconds per frame run times the frames reused). */
json_t *vnp_reuse_summary(const vnp_predict_stats *st);

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
    vnp_window w_dna, w_prot; /* the items' tokens, for each encoder */
    vnp_window w_fresh;      /* with reuse: the distinct sequences not in the cache, run through an encoder */
    size_t cap_features;     /* floats allocated in features */
    uint64_t bases, chunks;
    uint64_t nonacgt;
} vnp_block;

void vnp_block_reset(vnp_block *b, uint64_t first_record);
void vnp_block_free(vnp_block *b);
/* Adds one record: chunks and translates it, appending its kept frames. */
int vnp_block_add(vnp_block *b, vnp_translator *tr, const char *id, size_t id_len, const char *seq, size_t len,
                  int chunk_len, int keep_chunks) VNP_MUST_CHECK;
/* Adds one record of a block that another shard or rank scores: only what decides where blocks end (records,
 * bases) and the ids. */
int vnp_block_add_unscored(vnp_block *b, const char *id, size_t id_len, size_t len, int chunk_len) VNP_MUST_CHECK;
/* The three steps of scoring a block, each on the thread that owns it (flow.c): tokenizing the items for both
 * encoders (any CPU thread), running the encoders into b->features (the scorer's thread; the seconds of each are
 * added to *t_dna and *t_prot), and the classifier into b->probs. */
int vnp_block_tokenize(vnp_block *b, const vnp_scorer *s) VNP_MUST_CHECK;
int vnp_block_embed(vnp_block *b, const vnp_scorer *s, vnp_reuse *reuse, double *t_dna,
                    double *t_prot) VNP_MUST_CHECK;
int vnp_block_classify(vnp_block *b, const vnp_scorer *s) VNP_MUST_CHECK;
/* Writes the block's parts into the journal (each atomically). */
int vnp_block_write(const vnp_block *b, const vnp_journal *j, uint64_t block, const vnp_predict_opts *o,
                    const vnp_scorer *s) VNP_MUST_CHECK;
static inline vnp_block_counts vnp_block_counts_of(const vnp_block *b)
{
    return (vnp_block_counts){b->n_records, b->chunks, b->n_items, b->bases};
}

/* Adds a block's counts to st. */
static inline void vnp_stats_add_block(vnp_predict_stats *st, const vnp_block_counts *c)
{
    st->records += c->records;
    st->chunks += c->chunks;
    st->frames += c->frames;
    st->bases += c->bases;
}

/* ---- statistics added up across workers and processes (stats.c) ---- */
/* Adds src's counts, committed blocks, FP32 reruns, reuse counts, FP8 self-check and stage seconds to dst (the block
 * count, workers, ranks and total, which are not sums, are left alone). */
void vnp_stats_add(vnp_predict_stats *dst, const vnp_predict_stats *src);
/* The stage seconds of run_summary.json: {"prepare", "tokenize", "dnabert_s", "esm2", "classify", "write",
 * "total"}. */
json_t *vnp_stats_seconds_json(const vnp_predict_stats *st);
/* What leaves a process for another to add up (an MPI rank's "done", a shard's manifest): stage seconds, FP32
 * reruns, reuse counts and the FP8 self-check (stats.c says the layout). */
json_t *vnp_stats_json(const vnp_predict_stats *st);
/* Adds what vnp_stats_json made (seconds, total included) to dst; VNP_ERR_FORMAT when it is not that. *has_reuse
 * (may be NULL): 0 when it carries no reuse counts (a manifest of an earlier version). */
int vnp_stats_add_json(vnp_predict_stats *dst, const json_t *o, int *has_reuse) VNP_MUST_CHECK;
/* Sets run_summary.json's "fp8_self_check" (under --precision fp8) and, when with_reuse, "reuse". */
void vnp_stats_summary_members(json_t *root, const vnp_predict_stats *st, int with_reuse);

/* The frame id "<record id>_chunk_<c+1><F|R><n>" of item i into buf (size >= id length + 32). */
int vnp_block_item_id(const vnp_block *b, size_t i, char *buf, size_t size);

/* ---- the signal flag (signals.c): vnp_pipeline_install_signals sets it on SIGINT/SIGTERM, vnp_pipeline_signal
 * reads it (vnp/pipeline.h); predict.c and flow.c both poll it ---- */
/* Clears the flag at the start of a run: a signal counts from there. */
void vnp_pipeline_signal_reset(void);

/* ---- the stages on their threads (flow.c) ---- */
typedef struct {
    vnp_block b;
    uint64_t no;             /* block number */
    int resumed;             /* committed by an earlier run: only counted, with these counts */
    vnp_block_counts counts;
    int drop;                /* given up before it was scored (error or signal): not committed */
    double t_tokenize, t_dna, t_prot;
} vnp_job;

/* Called by the writer after a block was committed to the flow's journal (MPI: send it to rank 0). */
typedef int (*vnp_flow_sink)(void *ctx, uint64_t block, const vnp_block_counts *c, const char *first_id);

typedef struct vnp_flow vnp_flow;
/* Starts the tokenizer, runner (one per scorer) and writer threads. Blocks are committed to j. */
int vnp_flow_start(vnp_flow **f, const vnp_predict_opts *o, const vnp_scorer *sc, int n_sc, const vnp_journal *j,
                   vnp_flow_sink sink, void *sink_ctx) VNP_MUST_CHECK;
/* A free job to fill (waits while every job is in flight). */
vnp_job *vnp_flow_job(vnp_flow *f);
/* Hands a filled job on: to be scored, or, when job->resumed, only counted. */
void vnp_flow_submit(vnp_flow *f, vnp_job *job);
/* Returns a job that was taken but not filled. */
void vnp_flow_release(vnp_flow *f, vnp_job *job);
/* 1 once an error (or vnp_flow_cancel) stopped the flow: jobs not yet scored are dropped. */
int vnp_flow_cancelled(vnp_flow *f);
void vnp_flow_cancel(vnp_flow *f);
/* The counts so far. */
void vnp_flow_snapshot(vnp_flow *f, vnp_predict_stats *st);
/* Lets the jobs in flight finish, stops the threads, adds the counts and times to st (may be NULL), frees f.
 * Returns the first error of any stage. */
int vnp_flow_finish(vnp_flow *f, vnp_predict_stats *st);

/* ---- MPI: ranks other than 0 send their committed blocks to rank 0 (ship.c) ---- */
typedef struct vnp_ship vnp_ship;
/* Rank r != 0: sends the block's parts (from the scratch journal j) and its counts to rank 0, then removes them. */
int vnp_ship_send(void *j, uint64_t block, const vnp_block_counts *c, const char *first_id) VNP_MUST_CHECK;
#ifdef VNP_TEST_HOOKS
/* Test builds only (virnucpro_faults, tests/faults/faults.c): called by vnp_ship_send after each block sent. */
void vnp_test_hook_block_sent(void);
#endif
/* Rank r != 0: tells rank 0 this rank is done (rc: its outcome) with its stage times. */
int vnp_ship_done(int rc, const vnp_predict_stats *st) VNP_MUST_CHECK;
/* Rank 0: a thread that receives the other ranks' blocks into j until every rank said it is done. */
int vnp_ship_receiver_start(vnp_ship **out, const vnp_journal *j) VNP_MUST_CHECK;
/* The counts of the blocks received so far. */
void vnp_ship_snapshot(vnp_ship *s, vnp_predict_stats *st);
/* Waits for every rank; returns the first failure (a rank's, or of receiving). Adds the blocks' counts and the
 * other ranks' stage times to st. */
int vnp_ship_receiver_finish(vnp_ship *s, vnp_predict_stats *st) VNP_MUST_CHECK;

/* ---- shards (shard.c) ---- */
/* The manifest a finished shard records in its run.json: which shard of how many, the block count, what the merge
 * needs to assemble (feature widths, options) and the shard's counts and times. JSON text, malloc'ed. */
char *vnp_shard_manifest(const vnp_predict_opts *o, const vnp_scorer *s, const vnp_predict_stats *st);

/* ---- the progress line (progress.c) ---- */
typedef struct {
    uint64_t records, frames, bases; /* in blocks committed (resumed ones included) */
    uint64_t bases_resumed;          /* of those bases, the ones an earlier run committed */
    uint64_t bases_expected;         /* bases of the blocks read so far that this process commits */
    uint64_t bytes_read, bytes_total; /* the input position; bytes_total 0: unknown (standard input) */
    int reading_done;                /* every input was read: bases_expected is the total */
    double elapsed;                  /* seconds */
} vnp_progress;
/* The line (without "\r" or newline) into buf; returns what snprintf returns. final: the last line, no ETA. */
int vnp_progress_format(char *buf, size_t size, const vnp_progress *p, int final);

/* Checks a shard's run.json as `merge` reads it (the fuzz target's entry): VNP_ERR_FORMAT with *why (a static
 * string) when it is not the journal of a finished shard with a sound manifest. */
int vnp_shard_run_check(const json_t *run, const char **why) VNP_MUST_CHECK;

/* ---- the final files (assemble.c) ---- */
int vnp_assemble_outputs(const vnp_journal *j, uint64_t n_blocks, const vnp_predict_opts *o,
                         const vnp_scorer *s) VNP_MUST_CHECK;

/* ---- sequence_summary.tsv rows (summary.c; the layout is report/summary.c's) ---- */
/* Writes one row per record of the block. */
int vnp_summary_write_block(FILE *fp, const vnp_block *b, double min_confident) VNP_MUST_CHECK;

#endif
