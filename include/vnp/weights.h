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

/* Which model a table holds, its sizes and the tensors it needs: model.h (the model descriptions). */

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
