/* weights: model files as a flat, name-sorted table of tensors, whatever their layout on disk.
 *
 * Supported: safetensors (single file, or a folder with model.safetensors / sharded *.index.json), PyTorch zip
 * checkpoints (state dicts as pytorch_model.bin, fair-esm .pt with {'model','cfg'}, whole pickled nn.Module such
 * as VirNucPro's 300_model.pth). A folder is resolved to its weights file(s); config.json beside them is read.
 *
 * Names are normalised to one internal scheme, the Hugging Face names with the leading model prefix removed:
 *   strip a leading "esm." or "bert.", then a leading "encoder.sentence_encoder." or "encoder.";
 *   fair-esm names are mapped to the HF ones (spec/esm2.md §4b). Examples:
 *     esm.encoder.layer.3.attention.self.query.weight      -> layer.3.attention.self.query.weight
 *     encoder.sentence_encoder.layers.3.self_attn.q_proj.weight -> layer.3.attention.self.query.weight
 *     esm.embeddings.word_embeddings.weight / embed_tokens.weight -> embeddings.word_embeddings.weight
 *     esm.encoder.emb_layer_norm_after.weight                -> emb_layer_norm_after.weight
 *     encoder.layer.0.mlp.wo.weight (DNABERT-S)              -> layer.0.mlp.wo.weight
 *     hidden_layer.weight, bn1.running_var (VirNucPro MLP)   -> unchanged
 * Tensor data stays where the file put it (memory-mapped, zero copy) and is converted on request. */
#ifndef VNP_WEIGHTS_H
#define VNP_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "vnp/util.h"

typedef enum {
    VNP_DT_F32 = 0,
    VNP_DT_F16,
    VNP_DT_BF16,
    VNP_DT_F64,
    VNP_DT_I64,
    VNP_DT_I32,
    VNP_DT_I16,
    VNP_DT_I8,
    VNP_DT_U8,
    VNP_DT_BOOL,
    VNP_DT_COUNT
} vnp_dtype;

const char *vnp_dtype_name(vnp_dtype dt); /* "F32", "F16", "BF16", "F64", "I64", ... as in safetensors */
size_t vnp_dtype_size(vnp_dtype dt);

#define VNP_MAX_DIMS 8

typedef struct {
    const char *name;           /* normalised name, owned by the table */
    vnp_dtype dtype;            /* as stored in the file */
    int ndim;                   /* 0 for a scalar */
    int64_t shape[VNP_MAX_DIMS];
    int64_t numel;
    const void *data;           /* first element (storage offset applied); valid while the table is open */
    int64_t strides[VNP_MAX_DIMS]; /* in elements; row-major contiguous in safetensors and most .pt files */
    int contiguous;             /* 1 when strides are row-major contiguous */
} vnp_tensor;

typedef struct vnp_weights vnp_weights;

/* Opens a model file or folder. NULL after logging the file, byte offset and reason on failure. */
vnp_weights *vnp_weights_open(const char *path);
void vnp_weights_close(vnp_weights *w); /* accepts NULL */

size_t vnp_weights_count(const vnp_weights *w);
/* i-th tensor in name order (strcmp). */
const vnp_tensor *vnp_weights_at(const vnp_weights *w, size_t i);
/* NULL when absent (no message). */
const vnp_tensor *vnp_weights_find(const vnp_weights *w, const char *name);
/* The config.json text found beside the weights (NULL when none), and what the file was ("safetensors",
 * "pytorch-zip", ...). The path the table was opened from. */
const char *vnp_weights_config(const vnp_weights *w);
const char *vnp_weights_format(const vnp_weights *w);
const char *vnp_weights_path(const vnp_weights *w);

/* Copies t into dst as float32 (any float dtype, honouring strides); dst holds t->numel floats. */
int vnp_tensor_to_f32(const vnp_tensor *t, float *dst) VNP_MUST_CHECK;

/* ==== Additions (everything above is the fixed interface) ==== */

/* The dtype for a safetensors name ("F32", "BF16", ...); VNP_ERR_UNSUPPORTED for names we do not handle. */
int vnp_dtype_from_name(const char *name, vnp_dtype *out) VNP_MUST_CHECK;
int vnp_dtype_is_float(vnp_dtype dt); /* F32, F16, BF16, F64 */

/* Scalar conversions (IEEE binary16 / bfloat16 bit patterns; round to nearest even, inf/nan kept). */
float vnp_f16_to_f32(uint16_t h);
uint16_t vnp_f32_to_f16(float f);
float vnp_bf16_to_f32(uint16_t b);
uint16_t vnp_f32_to_bf16(float f);

/* Copies t into dst as IEEE half (honouring strides); dst holds t->numel values. */
int vnp_tensor_to_f16(const vnp_tensor *t, uint16_t *dst) VNP_MUST_CHECK;
/* Converts the elements [first, first+count) of t, in row-major logical order, into dst as dtype `to`.
 * `to` is F32, F16, BF16 or F64 (any source dtype), or t->dtype itself (a plain strided copy).
 * Reads through memcpy, so the source needs no alignment. */
int vnp_tensor_convert(const vnp_tensor *t, vnp_dtype to, int64_t first, int64_t count, void *dst) VNP_MUST_CHECK;
/* Fills t as a contiguous row-major tensor over caller-owned data (name and data are borrowed, not copied):
 * numel and strides computed with overflow checks. VNP_ERR_USAGE for ndim outside [0, VNP_MAX_DIMS] or a
 * negative/overflowing shape. */
int vnp_tensor_init(vnp_tensor *t, const char *name, vnp_dtype dt, int ndim, const int64_t *shape,
                    const void *data) VNP_MUST_CHECK;

/* Metadata as string pairs, sorted by key: safetensors "__metadata__" (all shards; "format" included), and for
 * fair-esm .pt files the scalar attributes of cfg['model'] as "cfg.model.<attr>" (e.g. cfg.model.encoder_layers). */
size_t vnp_weights_meta_count(const vnp_weights *w);
void vnp_weights_meta_at(const vnp_weights *w, size_t i, const char **key, const char **value);
const char *vnp_weights_meta(const vnp_weights *w, const char *key); /* NULL when absent */

/* Tells the kernel that the mapped file pages behind t are not needed now (call it after converting t into
 * your own buffer): they leave the resident set and are read again from the file if t->data is used later.
 * This keeps loading at one copy of the weights in memory. Safe on any tensor of w; a no-op where unsupported. */
void vnp_weights_release(const vnp_weights *w, const vnp_tensor *t);

/* ---- which model a table holds ----
 * From the normalised names: ESM-2 has layer.N.attention.self.query.weight, DNABERT-S has
 * layer.N.attention.self.Wqkv.weight, the VirNucPro MLP has hidden_layer.weight and output_layer.weight.
 * Sizes come from the tensor shapes (layers = highest layer.N + 1, dim from the word embeddings); ESM-2 heads from
 * config.json (when its model_type and hidden_size agree with the tensors), else cfg.model.encoder_attention_heads
 * of a fair-esm file, else the released sizes (6/320, 12/480, 30/640, 33/1280 -> 20; 36/2560, 48/5120 -> 40),
 * else D / (2 * len(inv_freq)). DNABERT-S heads from config.json, else D / 64. */
typedef enum { VNP_MODEL_UNKNOWN = 0, VNP_MODEL_ESM2, VNP_MODEL_DNABERT_S, VNP_MODEL_MLP } vnp_model_kind;

typedef struct {
    vnp_model_kind kind;
    int layers;               /* transformer layers (0 for the MLP) */
    int dim;                  /* hidden size D; for the MLP its hidden width (512 in VirNucPro) */
    int heads;                /* attention heads (0 for the MLP) */
    int ffn;                  /* feed-forward width: ESM-2 fc1 rows (4*D); DNABERT-S intermediate_size
                                 (mlp.gated_layers.weight holds 2*ffn rows) */
    int vocab;                /* embedding rows (0 for the MLP) */
    int in_features;          /* MLP input width (3328 in VirNucPro); 0 otherwise */
    int classes;              /* MLP outputs; 0 otherwise */
    const char *name;         /* released model with these sizes ("esm2_t36_3B_UR50D"), else NULL; static */
    const char *heads_source; /* where heads came from: "config.json", "cfg", "known sizes", "inv_freq",
                                 "head_dim 64", or NULL; static */
} vnp_model_info;

const char *vnp_model_kind_name(vnp_model_kind k); /* "esm2", "dnabert_s", "mlp", "unknown" */
/* Fills *out. VNP_ERR_NOTFOUND, without a message, when the names match no known model (out->kind is then
 * VNP_MODEL_UNKNOWN); VNP_ERR_FORMAT, after a message, when the sizes cannot be told from the tensors. */
int vnp_weights_model_info(const vnp_weights *w, vnp_model_info *out) VNP_MUST_CHECK;

typedef struct {
    char name[96];    /* normalised name */
    int ndim;
    int64_t shape[2];
    int optional;     /* checked only when present (e.g. the rotary inv_freq) */
} vnp_tensor_spec;

/* The tensors model m needs (spec/esm2.md §3, spec/dnabert_s.md §3, the MLP of VirNucPro): a malloc'ed array of
 * *n entries that the caller frees; NULL after a message on failure. */
vnp_tensor_spec *vnp_model_required(const vnp_model_info *m, size_t *n);
/* Compares w with vnp_model_required(m): report(ctx, want, got) is called for each tensor that is missing
 * (got NULL), has another shape, or is not a float dtype. Returns the number of problems, or a negative status. */
typedef void (*vnp_check_fn)(void *ctx, const vnp_tensor_spec *want, const vnp_tensor *got);
int vnp_weights_check(const vnp_weights *w, const vnp_model_info *m, vnp_check_fn report, void *ctx) VNP_MUST_CHECK;

/* ---- writing safetensors ----
 * Writes tensors[0..n) to path atomically (temporary file, then rename): the header JSON has sorted keys, is
 * padded with spaces so that the data starts at a multiple of 8, and carries "__metadata__" {"format": "pt"} plus
 * the given pairs (a "format" pair overrides "pt"). Data follows in header order, contiguous and row-major.
 * float_dtype F32, F16 or BF16 converts every float tensor to it; VNP_DT_COUNT keeps each tensor's dtype.
 * Names must be unique and non-empty. */
typedef struct {
    const char *key;
    const char *value;
} vnp_meta_pair;

int vnp_safetensors_write(const char *path, const vnp_tensor *tensors, size_t n, vnp_dtype float_dtype,
                          const vnp_meta_pair *meta, size_t nmeta) VNP_MUST_CHECK;
/* Writes the whole table w (normalised names, its metadata plus "source_format") with vnp_safetensors_write,
 * releasing each tensor's mapped pages once written, so that converting a file holds at most one tensor of it in
 * memory. */
int vnp_weights_save(const vnp_weights *w, const char *path, vnp_dtype float_dtype) VNP_MUST_CHECK;

#endif
