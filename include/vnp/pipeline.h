/* pipeline: `virnucpro predict` wired together. Input records stream in blocks; each block is chunked,
 * translated, scored and committed to a journal in OUTDIR/.virnucpro/ atomically, so a killed run resumes at the
 * first unfinished block; when every block is done the final files are assembled in input order.
 *
 * The encoders and the classifier come in through vnp_scorer, so that this module knows the order of the stages
 * and nothing about kernels or model files. */
#ifndef VNP_PIPELINE_H
#define VNP_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "vnp/backend.h"
#include "vnp/model.h"
#include "vnp/report.h"
#include "vnp/sched.h"
#include "vnp/util.h"

/* ---- running an encoder over a window of tokenized sequences (window.c) ---- */
/* Tokenized sequences laid end to end, plus the buffers of the batches packed from them. Zero-initialise. */
typedef struct {
    int32_t *ids;   /* all tokens of the window */
    size_t *start;  /* [n] offset of each sequence in ids */
    int32_t *len;   /* [n] tokens of each sequence */
    size_t n, ntok, cap_seqs, cap_tok;
    int32_t max_len;
    vnp_packing pack;
    int32_t *batch_ids, *cu; /* one packed batch */
    float *pooled;           /* [batch seqs, D] */
    size_t cap_batch, cap_batch_seqs, cap_pooled; /* cap_pooled in floats */
    size_t batches; /* batches run so far */
} vnp_window;

int vnp_window_add(vnp_window *w, const int32_t *ids, int32_t n) VNP_MUST_CHECK;
/* Packs the window (First-Fit-Decreasing, `budget` tokens per batch; longer sequences run alone), runs every batch
 * and writes the pooled row of sequence i to out + i*ld. Buffers only grow, never inside the batch loop. */
int vnp_window_run(vnp_encoder *e, vnp_window *w, size_t budget, float *out, size_t ld) VNP_MUST_CHECK;
/* The same rows from padded batches (VIRNUCPRO_DISABLE_PACKING, for comparison): consecutive sequences while
 * count x longest fits the budget, each padded to the longest with a separate segment whose row is dropped, so that
 * the work is that of a padded batch and the results are those of the packed one. */
int vnp_window_run_padded(vnp_encoder *e, vnp_window *w, size_t budget, float *out, size_t ld) VNP_MUST_CHECK;
void vnp_window_clear(vnp_window *w); /* forgets the sequences, keeps the buffers */
void vnp_window_free(vnp_window *w);

/* The three learned stages, split so that the CPU part (tokenizing) of one block overlaps the GPU part of another.
 * protein: 0 = DNABERT-S over the frames' DNA, 1 = ESM-2 over their proteins. Functions return 0 or a negative
 * vnp_status after logging. */
typedef struct {
    void *ctx;
    int d_dna;  /* width of a DNA feature row (768 for DNABERT-S) */
    int d_prot; /* width of a protein feature row (2560 for ESM-2 3B) */
    /* Appends the n sequences (not NUL-terminated), tokenized, to w. CPU only; safe from any thread, also while
     * another thread runs embed or classify. */
    int (*tokenize)(void *ctx, int protein, const char *const *seqs, const size_t *lens, size_t n, vnp_window *w);
    /* Runs the encoder over the window's sequences: pooled row i to out + i*ld. One thread at a time. */
    int (*embed)(void *ctx, int protein, vnp_window *w, float *out, size_t ld);
    /* features: n rows of d_dna + d_prot floats (DNA first); probs: n rows of (P(others), P(virus)). */
    int (*classify)(void *ctx, const float *features, size_t n, float *probs);
    /* Optional (NULL: none): batches whose FP16 activations held NaN/Inf and were redone in FP32 so far. */
    long (*fp32_reruns)(void *ctx);
    /* Optional (NULL: none): prepares the calling thread to run embed and classify (a GPU makes its device
     * current there). */
    int (*bind)(void *ctx);
    /* Optional (NULL: none): 1 and the --precision fp8 self-check so far in *out when ESM-2 was asked to run in
     * FP8, else 0. */
    int (*fp8_check)(void *ctx, vnp_fp8_check *out);
    int batch_invariant; /* its encoders give a sequence the same bytes in any batch (vnp_backend) */
} vnp_scorer;

/* ---- one run per OUTDIR (outdir.c) ---- */
/* An exclusive lock on OUTDIR (flock on OUTDIR/.virnucpro/lock), held until released or the process dies. */
typedef struct vnp_outdir_lock vnp_outdir_lock;
/* Creates OUTDIR (and .virnucpro/) as needed and locks it. VNP_ERR_USAGE, logged, when another process holds it
 * ("'OUTDIR' is in use by process N (started T)"), or when .virnucpro is a symbolic link, not a folder or not this
 * user's; VNP_ERR_IO when OUTDIR cannot be made or written. */
int vnp_outdir_lock_take(const char *outdir, vnp_outdir_lock **out) VNP_MUST_CHECK;
/* Releases it (NULL: nothing). A run that left no journal (run.json) leaves OUTDIR as it found it: the lock file,
 * an empty .virnucpro/ and an OUTDIR it created and left empty are removed. */
void vnp_outdir_lock_release(vnp_outdir_lock *l);

typedef struct {
    const char *const *inputs; /* sequence files ("-" = standard input), read in order as one stream */
    int n_inputs;
    const char *outdir;
    int chunk_len;             /* 300 or 500 */
    int resume;                /* continue the run journaled in outdir */
    int force;                 /* replace another run's results in outdir */
    int save_embeddings;       /* embeddings.h5 */
    int keep_intermediate;     /* chunked.fa, identified_nucleotide.fa, identified_protein.faa */
    int progress;              /* 1: a progress bar on stderr */
    double min_confident;      /* confidence tier threshold for sequence_summary.tsv (0.8) */
    vnp_output_style output_style; /* layout of the two result files (default broad); part of the run's identity */
    size_t block_records;      /* a block closes at this many records ... */
    size_t block_bases;        /* ... or this many bases, whichever comes first */
    const char *identity;      /* JSON text naming the models and settings; a resumed run must match it */
    const char *run_info;      /* JSON object text merged into run_summary.json (versions, models, device) */
    const char *reference;     /* CRAM reference, or NULL */
    /* A share of the run: blocks b with b % n_shards == shard (0-based) are scored, the others only counted; the
     * journal then keeps its blocks for `virnucpro merge` (vnp_merge_run) instead of assembling the outputs.
     * n_shards <= 1: the whole run. */
    int shard, n_shards;
    /* 1: the run is shared among the MPI ranks of vnp/dist.h (rank r scores blocks b % size == r and sends them to
     * rank 0, which alone writes OUTDIR). */
    int distributed;
    /* Reuse of repeated frames: each distinct DNA slice and protein runs through its encoder once, its features
     * kept in a cache of at most this many bytes (least recently used dropped first); 0: off. The default
     * (vnp_predict_opts_init) is vnp_reuse_default_bytes(). */
    size_t reuse_bytes;
    /* OUTDIR's lock, when the caller took it before loading the models (NULL: the run takes it; under MPI, rank 0
     * alone). */
    vnp_outdir_lock *lock;
} vnp_predict_opts;

/* What reuse of repeated frames did; index 0 = DNABERT-S, 1 = ESM-2. */
typedef struct {
    uint64_t frames[2];   /* frames embedded */
    uint64_t computed[2]; /* of them, run through the encoder (the others got cached features) */
    uint64_t evicted;     /* entries dropped to stay within the limit */
    size_t limit_bytes, peak_bytes; /* limit 0: reuse was off */
    int not_invariant;    /* asked for, but off: an engine is not batch invariant, so reuse would not be exact */
} vnp_reuse_stats;

static inline void vnp_reuse_stats_add(vnp_reuse_stats *dst, const vnp_reuse_stats *src)
{
    for (int e = 0; e < 2; e++) {
        dst->frames[e] += src->frames[e];
        dst->computed[e] += src->computed[e];
    }
    dst->evicted += src->evicted;
    if (src->limit_bytes > dst->limit_bytes) dst->limit_bytes = src->limit_bytes;
    if (src->peak_bytes > dst->peak_bytes) dst->peak_bytes = src->peak_bytes;
    dst->not_invariant |= src->not_invariant;
}

/* min(2 GiB, an eighth of the host's memory). */
size_t vnp_reuse_default_bytes(void);

typedef struct {
    uint64_t records, chunks, frames, bases;
    uint64_t blocks, blocks_resumed;
    uint64_t blocks_done; /* blocks in OUTDIR's journal when the run stopped (committed now or resumed) */
    double t_prepare, t_tokenize, t_dna, t_prot, t_classify, t_write, t_total; /* seconds; stage times are summed
                                                                               over the workers that ran them */
    int workers;     /* scorers (GPUs) of this process */
    int ranks;       /* MPI processes that took part (1 without MPI) */
    long fp32_reruns; /* FP16 batches redone in FP32, every rank's */
    int fp8;          /* --precision fp8: fp8_check holds the self-checks of this process's scorers, merged */
    vnp_fp8_check fp8_check;
    vnp_reuse_stats reuse; /* this process's (each MPI rank and shard keeps a cache of its own) */
} vnp_predict_stats;

/* Defaults for everything but inputs, outdir, chunk_len and the JSON texts. */
void vnp_predict_opts_init(vnp_predict_opts *o);

/* Runs the whole prediction. Returns 0; VNP_ERR_INTERRUPTED after SIGINT/SIGTERM (the current block was
 * committed first; `--resume` continues); or another negative status after logging. */
/* The scorers are used at once, one thread each, pulling blocks from one queue (a slower one takes fewer); every
 * one must load the same models. */
int vnp_predict_run(const vnp_predict_opts *o, const vnp_scorer *scorers, int n_scorers,
                    vnp_predict_stats *st) VNP_MUST_CHECK;

/* Joins the journals of `virnucpro predict --shard i/N` runs (one per shard, all finished, of the same inputs,
 * models and settings) into OUTDIR: the final files, identical to those of one run over everything. */
int vnp_merge_run(const char *outdir, const char *const *shard_dirs, int n, int force) VNP_MUST_CHECK;

/* ---- the scorer built from model files (scorer.c) ---- */
typedef struct {
    const char *esm;          /* ESM-2 file or folder */
    const char *dnabert;      /* DNABERT-S folder or file (tokenizer.json beside it) */
    const char *classifier;   /* VirNucPro MLP (.pth, .safetensors); NULL: features only, classify gives 0.5 */
    const char *device;       /* "auto" (NULL), "cpu", "cuda" or "cuda:N" (vnp_backend_open_for) */
    int threads;              /* <= 0: every CPU */
    int tokens_per_batch;     /* packing budget per encoder batch; <= 0: 16384 on the CPU; on a GPU, what half
                               * the memory left after loading the models holds, within [2048, 65536] (scorer.c) */
    const char *precision;    /* NULL/"fp16" or "fp32" (vnp_backend_open) */
    int dna_tokens_per_batch; /* > 0: DNABERT-S's own budget (broad's --dnabert-batch-size); else as above */
    int esm_tokens_per_batch; /* > 0: ESM-2's own budget (broad's --esm-batch-size); else as above */
} vnp_scorer_opts;

/* Loads the three models and checks that they fit together (the classifier's input width = DNABERT-S width +
 * ESM-2 width). Fills *s; release it with vnp_scorer_close. Logs and returns a negative status on failure. */
int vnp_scorer_open(const vnp_scorer_opts *o, vnp_scorer *s) VNP_MUST_CHECK;
/* One scorer per GPU in gpus[0..n) (opts.device is ignored), loaded at the same time; with gpus NULL and n 1, the
 * same as vnp_scorer_open. On failure every one is closed. */
int vnp_scorers_open(const vnp_scorer_opts *o, const int *gpus, int n, vnp_scorer *out) VNP_MUST_CHECK;
void vnp_scorer_close(vnp_scorer *s);
/* "cpu"/"cuda" and "fp32"/"fp16": where and how the scorer's encoders run. */
const char *vnp_scorer_device(const vnp_scorer *s);
const char *vnp_scorer_precision(const vnp_scorer *s);
/* JSON object text describing the loaded models (path, format, kind, sizes); malloc'ed, NULL on failure. */
char *vnp_scorer_describe(const vnp_scorer *s);

/* Installs the SIGINT/SIGTERM handlers the run polls between blocks; returns the signal that arrived (0 none). */
void vnp_pipeline_install_signals(void);
int vnp_pipeline_signal(void);

#endif
