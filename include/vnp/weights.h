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

#endif
