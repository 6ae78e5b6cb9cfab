/* model: the model descriptions, the two encoders of VirNucPro (ESM-2 of any size, DNABERT-S-shaped BERTs) written
 * once over the backend ops, and the VirNucPro MLP classifier.
 *
 * An encoder takes packed batches of token ids (sequences laid end to end, cu_seqlens boundaries, no padding)
 * and returns one pooled FP32 feature row per sequence, exactly as VirNucPro computes it:
 *   ESM-2:     mean of the final-LayerNorm output over residues 1..min(1024, len) (not <cls>/<eos>), with the
 *              whole sequence in context (../spec/esm2.md §3, §5.1);
 *   DNABERT-S: mean of the last hidden state over all tokens, [CLS] and [SEP] included (dnabert_s.md §4, §6).
 * A sequence's result does not depend on what it was packed with (up to float rounding).
 *
 * Which model a file holds, its sizes and the tensors it needs come from one description per model (see below):
 * sizes from the tensor shapes, config.json checked against them. Weights are converted once
 * into a single backend allocation of the backend's element type (FP32 on the CPU, FP16 by default on CUDA); activations are sized once by vnp_encoder_reserve and the
 * forward pass allocates nothing. */
#ifndef VNP_MODEL_H
#define VNP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "vnp/backend.h"
#include "vnp/util.h"
#include "vnp/weights.h"

/* A way to look tensors up by their normalised name (weights.h); NULL when absent. vnp_weights_find fits. */
typedef const vnp_tensor *(*vnp_tensor_lookup)(const void *ctx, const char *name);

/* ---- which model a table holds: the model descriptions ----
 * Each model the program knows is described once (src/model/<name>.c; src/model/registry.c lists them): how it is
 * recognised from the normalised tensor names, its released sizes, the config.json keys it reads, its tensors.
 * `models inspect|check`, `validate`, the loaders and embed/predict all read that description, so they reach one
 * verdict on a file. Sizes come from the tensor shapes; config.json, when present, must agree with them: a key of
 * the wrong JSON type, out of its range, or contradicting the tensors is an error naming the key, the value and what
 * the tensors say. Heads come from config.json, else a fair-esm cfg (cfg.model.encoder_attention_heads), else the
 * rotary inv_freq length (ESM-2); failing those, a released size or head dim 64 is taken with a warning. */
typedef enum { VNP_MODEL_UNKNOWN = 0, VNP_MODEL_ESM2, VNP_MODEL_DNABERT_S, VNP_MODEL_MLP } vnp_model_kind;
/* What a model is for in VirNucPro: embedding DNA chunks, embedding protein frames, classifying features. */
typedef enum { VNP_ROLE_NONE = 0, VNP_ROLE_DNA, VNP_ROLE_PROTEIN, VNP_ROLE_CLASSIFIER } vnp_model_role;
/* How an encoder's input is tokenized: the ESM-2 alphabet, or the BPE tokenizer.json beside the weights. */
typedef enum { VNP_TOK_NONE = 0, VNP_TOK_ESM, VNP_TOK_BPE } vnp_tokenizer_kind;
typedef struct vnp_model_desc vnp_model_desc; /* private to model/ (model_internal.h) */

typedef struct {
    vnp_model_kind kind;      /* VNP_MODEL_UNKNOWN for a model registered at run time */
    const vnp_model_desc *desc;
    const char *title;        /* "ESM-2", "DNABERT-S", "VirNucPro MLP"; static */
    vnp_model_role role;
    vnp_tokenizer_kind tokenizer;
    int layers;               /* transformer layers (0 for the MLP) */
    int dim;                  /* hidden size D; for the MLP its hidden width (512 in VirNucPro) */
    int heads;                /* attention heads (0 for the MLP) */
    int ffn;                  /* feed-forward width: ESM-2 fc1 rows (4*D); DNABERT-S intermediate_size
                                 (mlp.gated_layers.weight holds 2*ffn rows) */
    int vocab;                /* embedding rows (0 for the MLP) */
    int types;                /* token type rows (DNABERT-S); 0 otherwise */
    int in_features;          /* MLP input width (3328 in VirNucPro); 0 otherwise */
    int classes;              /* MLP outputs; 0 otherwise */
    float ln_eps;             /* LayerNorm epsilon (config.json, else the model's default) */
    int token_dropout;        /* ESM-2 token dropout */
    int mask_id;              /* <mask> id for token dropout, -1 when unused */
    const char *name;         /* released model with these sizes ("esm2_t36_3B_UR50D"), else NULL; static */
    const char *heads_source; /* where heads came from: "config.json", "cfg", "inv_freq", "known sizes",
                                 "head_dim 64", or NULL; static */
} vnp_model_info;

const char *vnp_model_kind_name(vnp_model_kind k); /* "esm2", "dnabert_s", "mlp", "unknown" */
const char *vnp_model_desc_name(const vnp_model_desc *d); /* the same for any description; "unknown" for NULL */
/* The title of the first registered model of a role ("ESM-2" for the protein encoder), for messages. */
const char *vnp_model_role_title(vnp_model_role role);
/* The titles of every registered model, comma-separated, for messages ("ESM-2, DNABERT-S, VirNucPro MLP"). */
const char *vnp_model_titles(void);
/* The kind of model a tensor table holds, from the names present; VNP_MODEL_UNKNOWN when none matches. */
vnp_model_kind vnp_model_detect(vnp_tensor_lookup find, const void *ctx);

/* Reads a model from any lookup: which description matches, its sizes from the tensors, config_json (may be NULL)
 * checked against them, heads (heads_hint > 0: a fair-esm cfg). VNP_ERR_NOTFOUND, without a message, when no
 * description matches; VNP_ERR_FORMAT / VNP_ERR_UNSUPPORTED after one message per problem (prefixed by where).
 * The tensors themselves are checked by vnp_model_check_tensors. */
int vnp_model_read(vnp_tensor_lookup find, const void *ctx, const char *config_json, int heads_hint,
                   const char *where, vnp_model_info *out) VNP_MUST_CHECK;
/* The same for an open table (its config.json, fair-esm cfg and path). */
int vnp_weights_model_info(const vnp_weights *w, vnp_model_info *out) VNP_MUST_CHECK;

typedef struct {
    char name[96];    /* normalised name */
    int ndim;
    int64_t shape[2];
    int optional;     /* checked only when present (e.g. the rotary inv_freq) */
} vnp_tensor_spec;

/* The tensors model m needs, from its description: a malloc'ed array of *n entries that the caller frees; NULL
 * after a message on failure. */
vnp_tensor_spec *vnp_model_required(const vnp_model_info *m, size_t *n);
/* Compares a table with vnp_model_required(m): report(ctx, want, got) is called for each tensor that is missing
 * (got NULL), has another shape, or is not a float dtype. Returns the number of problems, or a negative status. */
typedef void (*vnp_check_fn)(void *ctx, const vnp_tensor_spec *want, const vnp_tensor *got);
int vnp_model_check_tensors(vnp_tensor_lookup find, const void *ctx, const vnp_model_info *m, vnp_check_fn report,
                            void *rctx) VNP_MUST_CHECK;
int vnp_weights_check(const vnp_weights *w, const vnp_model_info *m, vnp_check_fn report, void *ctx) VNP_MUST_CHECK;

/* Adds a model description at run time (after the built-in ones; tests register toy models this way). VNP_OK,
 * VNP_ERR_NOMEM when the registry is full. */
int vnp_model_register(const vnp_model_desc *d) VNP_MUST_CHECK;


typedef struct {
    vnp_model_kind kind; /* VNP_MODEL_ESM2, VNP_MODEL_DNABERT_S, or UNKNOWN for a model registered at run time */
    const vnp_model_desc *desc; /* NULL: the built-in description of kind (vnp_encoder_config_finish sets it) */
    int layers;      /* L */
    int dim;         /* D, hidden size */
    int heads;       /* H */
    int head_dim;    /* D / H */
    int ffn;         /* ESM-2: fc1 width (4D); DNABERT-S: width of each half of the gated projection */
    int vocab;       /* rows of the word embedding */
    int types;       /* rows of the token type embedding in the file (DNABERT-S; 0 = 1); only row 0 is used */
    float ln_eps;    /* LayerNorm epsilon (ESM-2 1e-5, DNABERT-S 1e-12) */
    int token_dropout; /* ESM-2: scale embeddings by 0.88 / (1 - mask ratio) and zero <mask> rows */
    int mask_id;     /* ESM-2 <mask> (32), -1 when unused */
    int pool_skip_first, pool_skip_last, pool_max_rows; /* mean-pool window (max < 0: no cap) */
} vnp_encoder_config;

/* An encoder config from a lookup: vnp_model_read (an encoder's description required), then every tensor the
 * forward pass needs checked present, floating point and of the expected shape. On failure logs each problem
 * (`where` names the model in messages) and returns VNP_ERR_FORMAT (or VNP_ERR_UNSUPPORTED). */
int vnp_encoder_config_derive(vnp_tensor_lookup find, const void *ctx, const char *config_json, int heads_hint,
                              const char *where, vnp_encoder_config *cfg) VNP_MUST_CHECK;

/* The config of a published shape with its defaults (for benchmarks and tests): "esm2_8m", "esm2_35m",
 * "esm2_150m", "esm2_650m", "esm2_3b", "esm2_15b", "dnabert_s". Returns VNP_ERR_NOTFOUND for other names. */
int vnp_encoder_config_named(const char *name, vnp_encoder_config *cfg) VNP_MUST_CHECK;
/* Fills the derived fields (head_dim, pooling window, defaults by kind) of a config given kind, layers, dim,
 * heads, ffn and vocab; VNP_ERR_USAGE when they are inconsistent (e.g. dim not a multiple of heads). */
int vnp_encoder_config_finish(vnp_encoder_config *cfg) VNP_MUST_CHECK;

typedef struct vnp_encoder vnp_encoder;

/* Loads an encoder from a weights table (kind detected; a fair-esm cfg head count is honoured). NULL after
 * logging on failure. */
vnp_encoder *vnp_encoder_load(vnp_backend *be, const vnp_weights *w);
/* Opens path and requires a model of role `want` (VNP_ROLE_NONE: any encoder); NULL after one message naming
 * `label` ("DNABERT-S model", "classifier") otherwise. Fills *info. */
vnp_weights *vnp_model_open(const char *path, vnp_model_role want, const char *label, vnp_model_info *info);
/* The one way embed, embed-frames and predict load a model: opens path, requires a model of role `want` (a
 * message naming `label` otherwise), loads its encoder on be. Fills *info; *w_out gets the open table when w_out
 * is non-NULL (kept for an FP32 twin; the caller closes it), else it is closed. NULL after one message. */
vnp_encoder *vnp_encoder_open(vnp_backend *be, const char *path, vnp_model_role want, const char *label,
                              vnp_model_info *info, vnp_weights **w_out);
/* The same from any lookup (e.g. a hand-made table); `where` names the model in messages. */
vnp_encoder *vnp_encoder_load_lookup(vnp_backend *be, vnp_tensor_lookup find, const void *ctx,
                                     const char *config_json, int heads_hint, const char *where);
/* An encoder of the given shape with small random weights (uniform, deterministic in seed) that keep every
 * activation finite: for benchmarks and tests. */
vnp_encoder *vnp_encoder_random(vnp_backend *be, const vnp_encoder_config *cfg, uint64_t seed);
void vnp_encoder_free(vnp_encoder *e); /* accepts NULL */

const vnp_encoder_config *vnp_encoder_cfg(const vnp_encoder *e);
/* Bytes of weights held (in the backend's element type). */
size_t vnp_encoder_weight_bytes(const vnp_encoder *e);
/* Batches whose FP16 activations held NaN/Inf (each redone in FP32 when a twin source is set, else each made
 * vnp_encoder_forward fail with a message). */
long vnp_encoder_nonfinite_batches(const vnp_encoder *e);
/* Of those, the batches redone on the FP32 twin (their output is the twin's). */
long vnp_encoder_fp32_reruns(const vnp_encoder *e);

/* Makes an FP32 copy of the same model (its own FP32 backend, same weights), or NULL after logging. Called at
 * most once, on the first batch whose FP16 activations hold NaN/Inf; the encoder owns (frees) what it returns,
 * the caller owns the backend behind it. */
typedef vnp_encoder *(*vnp_encoder_twin_fn)(void *ctx);
/* Lets vnp_encoder_forward redo a NaN/Inf batch in FP32 (ARCHITECTURE.md, Precision) instead of failing. */
void vnp_encoder_set_fp32_twin(vnp_encoder *e, vnp_encoder_twin_fn make, void *ctx);
/* --precision fp8: 1 while ESM-2's layer GEMMs run in FP8 (a backend with be->fp8 quantized them at load); set_fp8
 * switches between FP8 and the FP16 weights kept beside them (the self-check, the fall-back to FP16). No-op on an
 * encoder without FP8 weights. */
int vnp_encoder_fp8(const vnp_encoder *e);
void vnp_encoder_set_fp8(vnp_encoder *e, int on);

/* Sizes the activations for batches of up to max_tokens rows and max_seqs sequences (one sequence may be up
 * to max_tokens long). May be called again to grow; never called implicitly by forward. */
int vnp_encoder_reserve(vnp_encoder *e, int max_tokens, int max_seqs) VNP_MUST_CHECK;
size_t vnp_encoder_activation_bytes(const vnp_encoder *e);
/* The token budget "auto" (--tokens-per-batch auto) for the n encoders loaded on be: 16384 on the CPU; on a GPU,
 * what half of the memory left after loading them holds in activations of all n, within [2048, 65536] (larger
 * batches gain nothing). predict, embed-frames (the scorer), embed and bench all take it from here. */
size_t vnp_encoders_auto_budget(vnp_backend *be, vnp_encoder *const *encs, int n);

/* Runs one packed batch. ids [cu[nseq]] host token ids, cu [nseq+1] host prefix sums (cu[0] = 0, every
 * sequence at least 1 token). Writes pooled [nseq, D] (host, FP32) and, when states is non-NULL, the final
 * per-token states [cu[nseq], D] (host; ESM-2 after the final LayerNorm). Ids outside the vocabulary or a batch
 * larger than reserved give VNP_ERR_USAGE without running. */
int vnp_encoder_forward(vnp_encoder *e, const int32_t *ids, const int32_t *cu, int nseq, float *pooled,
                        float *states) VNP_MUST_CHECK;

/* ---- the VirNucPro MLP: Linear, BatchNorm1d (eval, running stats), ReLU, Linear, softmax ---- */

typedef struct vnp_mlp vnp_mlp;

/* Loads hidden_layer.{weight,bias}, bn1.{weight,bias,running_mean,running_var}, output_layer.{weight,bias}
 * (BatchNorm eps 1e-5). NULL after logging each missing or mis-shaped tensor on failure. */
vnp_mlp *vnp_mlp_load(const vnp_weights *w);
vnp_mlp *vnp_mlp_load_lookup(vnp_tensor_lookup find, const void *ctx, const char *where);
void vnp_mlp_free(vnp_mlp *m); /* accepts NULL */
int vnp_mlp_in_dim(const vnp_mlp *m);
int vnp_mlp_classes(const vnp_mlp *m);
/* probs[r, c] = softmax over classes of the MLP on x[r, :] for r < rows (x [rows, in], probs [rows, classes]). */
int vnp_mlp_forward(const vnp_mlp *m, const float *x, size_t rows, float *probs) VNP_MUST_CHECK;
/* The predicted class of one probability row: the first maximum (ties go to class 0, as torch.max). */
int vnp_mlp_argmax(const float *probs, int classes);

#endif
