/* model: the two encoders of VirNucPro (ESM-2 of any size, DNABERT-S-shaped BERTs) written once over the
 * backend ops, and the VirNucPro MLP classifier.
 *
 * An encoder takes packed batches of token ids (sequences laid end to end, cu_seqlens boundaries, no padding)
 * and returns one pooled FP32 feature row per sequence, exactly as VirNucPro computes it:
 *   ESM-2:     mean of the final-LayerNorm output over residues 1..min(1024, len) (not <cls>/<eos>), with the
 *              whole sequence in context (../spec/esm2.md §3, §5.1);
 *   DNABERT-S: mean of the last hidden state over all tokens, [CLS] and [SEP] included (dnabert_s.md §4, §6).
 * A sequence's result does not depend on what it was packed with (up to float rounding).
 *
 * Configuration comes from config.json when present, else from the tensor shapes. Weights are converted once
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

typedef struct {
    vnp_model_kind kind; /* weights.h: VNP_MODEL_ESM2 or VNP_MODEL_DNABERT_S */
    int layers;      /* L */
    int dim;         /* D, hidden size */
    int heads;       /* H */
    int head_dim;    /* D / H */
    int ffn;         /* ESM-2: fc1 width (4D); DNABERT-S: width of each half of the gated projection */
    int vocab;       /* rows of the word embedding */
    float ln_eps;    /* LayerNorm epsilon (ESM-2 1e-5, DNABERT-S 1e-12) */
    int token_dropout; /* ESM-2: scale embeddings by 0.88 / (1 - mask ratio) and zero <mask> rows */
    int mask_id;     /* ESM-2 <mask> (32), -1 when unused */
    int pool_skip_first, pool_skip_last, pool_max_rows; /* mean-pool window (max < 0: no cap) */
} vnp_encoder_config;

/* The kind of model a tensor table holds, from the names present; VNP_MODEL_UNKNOWN when none matches. */
vnp_model_kind vnp_model_detect(vnp_tensor_lookup find, const void *ctx);

/* Derives and validates an encoder config: the kind from the tensor names, sizes from config_json (may be NULL)
 * or the tensor shapes (heads: config.json, else heads_hint when > 0, else the rotary inv_freq length (ESM-2),
 * else the published sizes (ESM-2) or head dim 64 (DNABERT-S)), and checks that every tensor the forward pass needs is present, floating point and of
 * the expected shape. On failure logs each missing or mis-shaped tensor with its name and expected shape
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
/* Test hook: the next n batches are treated as if the backend's NaN/Inf flag had fired (backends without the
 * flag, like the CPU, included). */
void vnp_encoder_force_nonfinite(vnp_encoder *e, int n);
/* --precision fp8: 1 while ESM-2's layer GEMMs run in FP8 (a backend with be->fp8 quantized them at load); set_fp8
 * switches between FP8 and the FP16 weights kept beside them (the self-check, the fall-back to FP16). No-op on an
 * encoder without FP8 weights. */
int vnp_encoder_fp8(const vnp_encoder *e);
void vnp_encoder_set_fp8(vnp_encoder *e, int on);

/* Sizes the activations for batches of up to max_tokens rows and max_seqs sequences (one sequence may be up
 * to max_tokens long). May be called again to grow; never called implicitly by forward. */
int vnp_encoder_reserve(vnp_encoder *e, int max_tokens, int max_seqs) VNP_MUST_CHECK;
size_t vnp_encoder_activation_bytes(const vnp_encoder *e);

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
