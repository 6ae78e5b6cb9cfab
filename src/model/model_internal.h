/* Private to model/: the model descriptions (what each model is: sizes, config keys, tensors, forward pass), the
 * tensor lists made from them, the encoder struct shared by the forward passes, and their entry points. */
#ifndef VNP_MODEL_INTERNAL_H
#define VNP_MODEL_INTERNAL_H

#include "vnp/model.h"

/* ==== model descriptions ====
 * Everything the program knows about one model lives in one vnp_model_desc (src/model/<name>.c): how to recognise
 * it, its released sizes, the config.json keys it reads (type, range, which size they must agree with), its tensors
 * (shape in symbolic sizes, where each goes in the encoder) and, for encoders, the forward pass and pooling. The
 * generic code in describe.c reads it for `models check`, `validate`, `models inspect`, the loaders and bind;
 * registry.c lists the descriptions. */

/* The symbolic sizes a shape is written in; a model's sizes are an int64_t vector indexed by them. */
typedef enum {
    VNP_SZ_NONE = 0, /* no second dimension (a vector) */
    VNP_SZ_1,        /* 1 */
    VNP_SZ_L,        /* transformer layers */
    VNP_SZ_D,        /* hidden size (the MLP's hidden width) */
    VNP_SZ_H,        /* attention heads */
    VNP_SZ_F,        /* feed-forward width */
    VNP_SZ_V,        /* vocabulary (word embedding rows) */
    VNP_SZ_TYPES,    /* token type embedding rows */
    VNP_SZ_IN,       /* classifier input width */
    VNP_SZ_CLASSES,  /* classifier outputs */
    VNP_SZ_3D,       /* derived: 3 D, 2 F, head_dim / 2 */
    VNP_SZ_2F,
    VNP_SZ_HALF_HD,
    VNP_SZ_COUNT
} vnp_size;

/* Where a tensor's converted copy goes (vnp_encoder fields; per-layer slots into layer[i]). */
typedef enum {
    VNP_SLOT_NONE = 0, /* checked only (not copied into the arena) */
    VNP_SLOT_FOLLOWS,  /* copied right after the previous tensor: one fused matrix with it (ESM-2 q|k|v) */
    VNP_SLOT_TOK_EMB, VNP_SLOT_TYPE_ROW, VNP_SLOT_EMB_LN_W, VNP_SLOT_EMB_LN_B, VNP_SLOT_FINAL_LN_W,
    VNP_SLOT_FINAL_LN_B,
    VNP_SLOT_LN1_W, /* per layer from here on */
    VNP_SLOT_LN1_B, VNP_SLOT_QKV_W, VNP_SLOT_QKV_B, VNP_SLOT_O_W, VNP_SLOT_O_B, VNP_SLOT_LN2_W, VNP_SLOT_LN2_B,
    VNP_SLOT_FC1_W, VNP_SLOT_FC1_B, VNP_SLOT_FC2_W, VNP_SLOT_FC2_B
} vnp_slot;

enum {
    VNP_T_OPTIONAL = 1,  /* checked only when present */
    VNP_T_FIRST_ROW = 2, /* only row 0 goes to the arena (DNABERT-S token type 0) */
};

/* One tensor: its normalised name ("%d" = the layer number in per-layer tensors), shape, destination. */
typedef struct {
    const char *name;
    vnp_size shape[2];
    vnp_slot slot;
    unsigned flags;
} vnp_tensor_desc;

/* What a config.json key is: its JSON type, its range, and what it sets. */
typedef enum { VNP_KEY_INT, VNP_KEY_NUMBER, VNP_KEY_BOOL, VNP_KEY_STRING } vnp_key_type;
typedef enum { VNP_SET_NONE = 0, VNP_SET_LN_EPS, VNP_SET_TOKEN_DROPOUT, VNP_SET_MASK_ID } vnp_setting;

typedef struct {
    const char *key;
    vnp_key_type type;
    double min, max;       /* range of a number (inclusive) */
    vnp_size size;         /* the size it gives; it must equal what the tensors say when they say it */
    vnp_setting setting;   /* or the setting it gives */
    const char *must_be;   /* string and bool keys: the one value supported ("rotary", "false"); NULL: any */
} vnp_config_key;

/* Where a size is read from the tensors: dimension `axis` of `tensor`, divided by `div` (0 = 1). */
typedef struct {
    const char *tensor;
    int axis, div;
    vnp_size size;
} vnp_size_source;

/* A released variant: its name, its published short name (vnp_encoder_config_named) and sizes (0 = any). */
typedef struct {
    const char *name, *short_name;
    int64_t sz[VNP_SZ_COUNT];
} vnp_model_variant;


struct vnp_model_desc {
    const char *name;          /* "esm2": vnp_model_kind_name, `models inspect` */
    const char *title;         /* "ESM-2": messages, `models check` */
    vnp_model_kind kind;       /* VNP_MODEL_UNKNOWN for models added at run time */
    vnp_model_role role;
    const char *detect[2];     /* tensors that mark the model ("%d": present for some layer); NULL ends */
    const char *layer_probe;   /* per-layer tensor counted for L (highest layer number + 1); NULL: no layers */
    const char *model_type;    /* config.json "model_type" of the model; NULL: config.json is not read */
    const vnp_size_source *sources; size_t n_sources;
    const vnp_config_key *keys; size_t n_keys;
    const vnp_tensor_desc *tensors; size_t n_tensors;
    const vnp_model_variant *variants; size_t n_variants;
    /* heads when config.json does not say: D / (2 len(inv_freq)) of this tensor, then a released variant with the
     * same L and D, then D / default_head_dim (the last two are guesses, said in a warning) */
    const char *rotary_tensor;
    int default_head_dim;
    /* encoders: the forward pass and what it needs */
    int (*forward)(vnp_encoder *e, const int32_t *ids, const vnp_varlen *vl);
    vnp_tokenizer_kind tokenizer;
    float ln_eps;              /* when config.json does not say */
    int mask_id;               /* token dropout's <mask> id (-1: no token dropout) */
    int pool_skip_first, pool_skip_last, pool_max_rows;
    unsigned features;         /* VNP_F_* */
};

enum {
    VNP_F_ROTARY = 1,    /* rotary positions: inv_freq per layer */
    VNP_F_ALIBI = 2,     /* ALiBi slopes */
    VNP_F_PRE_LN = 4,    /* a LayerNorm output buffer apart from the residual stream */
    VNP_F_GATED_FFN = 8, /* a [T, 2F] gated projection buffer */
};

#define VNP_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The description of a kind (built-in), or NULL. */
const vnp_model_desc *vnp_model_desc_of_kind(vnp_model_kind kind);
/* Registered descriptions: i-th, NULL past the end. */
const vnp_model_desc *vnp_model_desc_at(size_t i);

/* One tensor the model needs, made concrete for one model's sizes: name, shape in the file, and what goes to the
 * arena (offset, elements, slot). */
typedef struct {
    char name[112];
    int ndim;
    int64_t shape[2];   /* in the file */
    size_t offset;      /* in elements, into the arena */
    size_t elems;       /* elements in the arena (0: not copied) */
    vnp_slot slot;
    int layer;          /* per-layer tensors: the layer; -1 otherwise */
    unsigned flags;
} vnp_wspec;

typedef struct {
    vnp_wspec *v;
    size_t n, cap;
    size_t total; /* elements */
} vnp_wlist;

/* The tensors of desc at sizes sz: every one (arena_only 0) or only those copied into the arena. VNP_OK,
 * VNP_ERR_NOMEM. */
int vnp_wlist_build(const vnp_model_desc *desc, const int64_t *sz, int arena_only, vnp_wlist *l) VNP_MUST_CHECK;
void vnp_wlist_free(vnp_wlist *l);
/* The sizes vector of an encoder config. */
void vnp_encoder_sizes(const vnp_encoder_config *c, int64_t *sz);
/* Checks every entry against the table; logs each missing, non-float or mis-shaped tensor. VNP_OK or
 * VNP_ERR_FORMAT. */
int vnp_wlist_check(const vnp_wlist *l, vnp_tensor_lookup find, const void *ctx, const char *where) VNP_MUST_CHECK;
/* vnp_tensor_lookup over an open table; the fair-esm cfg head count of a table (0 when none). */
const vnp_tensor *vnp_weights_lookup(const void *w, const char *name);
int vnp_weights_heads_hint(const vnp_weights *w);
/* The encoder config of a model read by vnp_model_read (derived fields filled). */
int vnp_encoder_config_of_info(const vnp_model_info *m, vnp_encoder_config *cfg) VNP_MUST_CHECK;
/* Loads an encoder whose config and tensors were checked (vnp_encoder_config_derive). NULL after logging. */
vnp_encoder *vnp_encoder_load_checked(vnp_backend *be, const vnp_encoder_config *cfg, vnp_tensor_lookup find,
                                      const void *ctx, const char *where);
/* A vnp_check_fn that logs the problem (ctx: the model's path or name). */
void vnp_log_tensor_problem(void *ctx, const vnp_tensor_spec *want, const vnp_tensor *got);
/* Points the encoder's weight fields at their arena slots, by each tensor's slot. */
void vnp_encoder_bind(vnp_encoder *e, const vnp_wlist *l);

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

int vnp_esm2_forward(vnp_encoder *e, const int32_t *ids, const vnp_varlen *vl) VNP_MUST_CHECK;
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

/* Test hook (tests/unit/test_fp32_twin.c): the next n batches are treated as if the backend's NaN/Inf flag had
 * fired (backends without the flag, like the CPU, included). Not in vnp/model.h: no product caller has a use. */
void vnp_encoder_force_nonfinite(vnp_encoder *e, int n);

/* The fp16 rounding of a float (round to nearest even), used for default rotary frequencies. */
float vnp_round_fp16(float x);

#endif
