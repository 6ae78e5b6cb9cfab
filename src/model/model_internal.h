/* Private to model/: the list of tensors a model needs (name, expected shape, place in the weight arena), the
 * encoder struct shared by the ESM-2 and DNABERT-S forward passes, and their entry points. */
#ifndef VNP_MODEL_INTERNAL_H
#define VNP_MODEL_INTERNAL_H

#include "vnp/model.h"

/* One tensor the model needs: its normalised name, expected shape and where its FP32 copy goes. */
typedef struct {
    char name[112];
    int ndim;
    int64_t shape[2];
    size_t offset; /* in floats, into the arena */
    int rows_from; /* copy only rows [rows_from, rows_from + shape[0]) of a larger tensor (token type row) */
    int64_t file_rows; /* rows the file tensor must have at least (0: exactly shape[0]) */
} vnp_wspec;

typedef struct {
    vnp_wspec *v;
    size_t n, cap;
    size_t total; /* floats */
} vnp_wlist;

/* Appends a tensor of shape [d0] (d1 = 0) or [d0, d1]; returns its offset in the arena, or (size_t)-1 on
 * allocation failure. */
size_t vnp_wlist_add(vnp_wlist *l, int64_t d0, int64_t d1, const char *fmt, ...) VNP_PRINTF(4, 5);
void vnp_wlist_free(vnp_wlist *l);
/* Checks every entry against the table; logs each missing, non-float or mis-shaped tensor. VNP_OK or
 * VNP_ERR_FORMAT. */
int vnp_wlist_check(const vnp_wlist *l, vnp_tensor_lookup find, const void *ctx, const char *where) VNP_MUST_CHECK;

/* A layer's weights; pointers into the arena. ESM-2 names in comments first, DNABERT-S second. */
typedef struct {
    float *ln1_w, *ln1_b; /* [D]      attention.LayerNorm (pre-LN)  | attention.output.LayerNorm (post-LN) */
    float *qkv_w;         /* [3D, D]  query|key|value rows fused    | attention.self.Wqkv */
    float *qkv_b;         /* [3D] */
    float *o_w;           /* [D, D]   attention.output.dense */
    float *o_b;           /* [D] */
    float *ln2_w, *ln2_b; /* [D]      LayerNorm (pre-FFN)           | mlp.layernorm (post-LN) */
    float *fc1_w;         /* [FF, D]  intermediate.dense            | [2FF, D] mlp.gated_layers (gate | value) */
    float *fc1_b;         /* [FF]                                   | NULL (no bias) */
    float *fc2_w;         /* [D, FF]  output.dense                  | mlp.wo */
    float *fc2_b;         /* [D] */
} vnp_layer;

/* The weight at element offset off of the arena (elements of the backend's type). */
#define VNP_ARENA(e, off) vnp_be_at((e)->be, (e)->arena, (off))

struct vnp_encoder {
    vnp_backend *be;
    vnp_encoder_config cfg;
    float *arena; /* backend memory holding every weight, in the backend's element type */
    size_t arena_floats; /* elements */
    long nonfinite_batches; /* batches whose activations held NaN/Inf (reported, see vnp_encoder_forward) */
    long fp32_reruns;       /* of those, batches redone on twin */
    int force_nonfinite;    /* test hook: batches still to treat as NaN/Inf */
    vnp_encoder_twin_fn make_twin; /* NULL: a NaN/Inf batch fails */
    void *twin_ctx;
    vnp_encoder *twin;      /* FP32 copy, made on first need */
    struct vnp_fp8 *fp8;    /* ESM-2's FP8 weights and activations (esm2_fp8.c); NULL unless --precision fp8 */
    vnp_layer *layer; /* [L] */
    float *tok_emb;   /* [V, D] word embeddings */
    float *type_row;  /* [D] DNABERT-S token type 0 embedding; NULL for ESM-2 */
    float *emb_ln_w, *emb_ln_b;     /* [D] DNABERT-S embeddings.LayerNorm */
    float *final_ln_w, *final_ln_b; /* [D] ESM-2 emb_layer_norm_after */
    float *slopes;    /* [H] DNABERT-S ALiBi slopes (backend memory) */
    float *inv_freq;  /* host [n_rope][hd/2] distinct rotary inv_freq vectors (ESM-2) */
    int *rope_of_layer; /* host [L] index into inv_freq */
    int n_rope;

    /* activations, sized by vnp_encoder_reserve (backend memory unless noted; x .. ff2 in the backend's element
     * type, the rest FP32/int32) */
    int cap_tokens, cap_seqs;
    void *ws;
    size_t ws_bytes;
    float *x;       /* [T, D] residual stream */
    float *h;       /* [T, D] LayerNorm output (ESM-2) */
    float *qkv;     /* [T, 3D] */
    float *ctx;     /* [T, D] attention output, heads concatenated */
    float *ff;      /* [T, FF] FFN hidden (after GELU) */
    float *ff2;     /* [T, 2FF] DNABERT-S gated projection */
    float *cos_t, *sin_t; /* [n_rope][T][hd/2] rotary tables for positions 0..T-1 */
    float *row_div; /* [T] token-dropout divisors (ESM-2) */
    int32_t *ids;   /* [T] */
    int32_t *cu;    /* [S+1] */
    float *pooled;  /* [S, D] */
    float *h_row_div; /* host [T] */
};

int vnp_esm2_spec(const vnp_encoder_config *cfg, vnp_wlist *l) VNP_MUST_CHECK;
void vnp_esm2_bind(vnp_encoder *e, const vnp_wlist *l);
int vnp_esm2_forward(vnp_encoder *e, const int32_t *ids, const vnp_varlen *vl) VNP_MUST_CHECK;
int vnp_dnabert_spec(const vnp_encoder_config *cfg, vnp_wlist *l) VNP_MUST_CHECK;
void vnp_dnabert_bind(vnp_encoder *e, const vnp_wlist *l);
int vnp_dnabert_forward(vnp_encoder *e, const int32_t *ids, const vnp_varlen *vl) VNP_MUST_CHECK;

/* --precision fp8 (esm2_fp8.c): prepare quantizes the layer weights when the backend asks for FP8 (VNP_OK and
 * nothing done otherwise); begin sizes the FP8 activations for the reserved rows before a forward pass; qkv runs
 * LayerNorm + q|k|v of layer i, rest out_proj through fc2 (attention in between is the FP16 one), end adds the last
 * fc2's output to the residual stream. */
int vnp_esm2_fp8_prepare(vnp_encoder *e) VNP_MUST_CHECK;
int vnp_esm2_fp8_begin(vnp_encoder *e) VNP_MUST_CHECK;
void vnp_esm2_fp8_qkv(vnp_encoder *e, int i, int T);
void vnp_esm2_fp8_rest(vnp_encoder *e, int i, int T);
void vnp_esm2_fp8_end(vnp_encoder *e, int T);
void vnp_esm2_fp8_free(vnp_encoder *e);

/* The fp16 rounding of a float (round to nearest even), used for default rotary frequencies. */
float vnp_round_fp16(float x);

#endif
