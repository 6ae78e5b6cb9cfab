/* ESM-2 (any size): its model description (sizes, config.json keys, tensors) and the forward pass of ../spec/esm2.md §3 on a
 * packed batch: embedding x 0.88 with token dropout, L pre-LN layers (fused q|k|v GEMM, q scaled then rotary,
 * varlen attention, out_proj, exact-erf GELU FFN), the final LayerNorm. Pooling is done by the caller. */
#include "model_internal.h"

#include <math.h>

#define LAYER "layer.%d."

/* ESM-2 (spec/esm2.md): Hugging Face names, fair-esm .pt files mapped to them by weights/. */
static const vnp_tensor_desc tensors[] = {
    {"embeddings.word_embeddings.weight", {VNP_SZ_V, VNP_SZ_D}, VNP_SLOT_TOK_EMB, 0},
    /* query, key, value consecutive: they form one [3D, D] GEMM */
    {LAYER "attention.self.query.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_QKV_W, 0},
    {LAYER "attention.self.key.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {LAYER "attention.self.value.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {LAYER "attention.self.query.bias", {VNP_SZ_D}, VNP_SLOT_QKV_B, 0},
    {LAYER "attention.self.key.bias", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {LAYER "attention.self.value.bias", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {LAYER "attention.self.rotary_embeddings.inv_freq", {VNP_SZ_HALF_HD}, VNP_SLOT_NONE, VNP_T_OPTIONAL},
    {LAYER "attention.output.dense.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_O_W, 0},
    {LAYER "attention.output.dense.bias", {VNP_SZ_D}, VNP_SLOT_O_B, 0},
    {LAYER "attention.LayerNorm.weight", {VNP_SZ_D}, VNP_SLOT_LN1_W, 0},
    {LAYER "attention.LayerNorm.bias", {VNP_SZ_D}, VNP_SLOT_LN1_B, 0},
    {LAYER "intermediate.dense.weight", {VNP_SZ_F, VNP_SZ_D}, VNP_SLOT_FC1_W, 0},
    {LAYER "intermediate.dense.bias", {VNP_SZ_F}, VNP_SLOT_FC1_B, 0},
    {LAYER "output.dense.weight", {VNP_SZ_D, VNP_SZ_F}, VNP_SLOT_FC2_W, 0},
    {LAYER "output.dense.bias", {VNP_SZ_D}, VNP_SLOT_FC2_B, 0},
    {LAYER "LayerNorm.weight", {VNP_SZ_D}, VNP_SLOT_LN2_W, 0},
    {LAYER "LayerNorm.bias", {VNP_SZ_D}, VNP_SLOT_LN2_B, 0},
    {"emb_layer_norm_after.weight", {VNP_SZ_D}, VNP_SLOT_FINAL_LN_W, 0},
    {"emb_layer_norm_after.bias", {VNP_SZ_D}, VNP_SLOT_FINAL_LN_B, 0},
};

static const vnp_size_source sources[] = {
    {"embeddings.word_embeddings.weight", 0, 0, VNP_SZ_V},
    {"embeddings.word_embeddings.weight", 1, 0, VNP_SZ_D},
    {"layer.0.intermediate.dense.weight", 0, 0, VNP_SZ_F},
};

static const vnp_config_key keys[] = {
    {"num_hidden_layers", VNP_KEY_INT, 1, 1024, VNP_SZ_L, 0, NULL},
    {"hidden_size", VNP_KEY_INT, 1, 65536, VNP_SZ_D, 0, NULL},
    {"num_attention_heads", VNP_KEY_INT, 1, 4096, VNP_SZ_H, 0, NULL},
    {"intermediate_size", VNP_KEY_INT, 1, 1 << 20, VNP_SZ_F, 0, NULL},
    {"vocab_size", VNP_KEY_INT, 1, 1 << 24, VNP_SZ_V, 0, NULL},
    {"layer_norm_eps", VNP_KEY_NUMBER, 1e-30, 1, 0, VNP_SET_LN_EPS, NULL},
    {"token_dropout", VNP_KEY_BOOL, 0, 0, 0, VNP_SET_TOKEN_DROPOUT, NULL},
    {"mask_token_id", VNP_KEY_INT, 0, 1 << 24, 0, VNP_SET_MASK_ID, NULL},
    {"position_embedding_type", VNP_KEY_STRING, 0, 0, 0, 0, "rotary"},
    {"emb_layer_norm_before", VNP_KEY_BOOL, 0, 0, 0, 0, "false"},
};

#define ESM2(name, short_name, L, D, H) {name, short_name, {[VNP_SZ_L] = L, [VNP_SZ_D] = D, [VNP_SZ_H] = H, \
                                          [VNP_SZ_F] = 4 * (D), [VNP_SZ_V] = 33}}
static const vnp_model_variant variants[] = { /* esm2.md §2 */
    ESM2("esm2_t6_8M_UR50D", "esm2_8m", 6, 320, 20),      ESM2("esm2_t12_35M_UR50D", "esm2_35m", 12, 480, 20),
    ESM2("esm2_t30_150M_UR50D", "esm2_150m", 30, 640, 20), ESM2("esm2_t33_650M_UR50D", "esm2_650m", 33, 1280, 20),
    ESM2("esm2_t36_3B_UR50D", "esm2_3b", 36, 2560, 40),   ESM2("esm2_t48_15B_UR50D", "esm2_15b", 48, 5120, 40),
};

const vnp_model_desc vnp_esm2_desc = {
    .name = "esm2", .title = "ESM-2", .kind = VNP_MODEL_ESM2, .role = VNP_ROLE_PROTEIN,
    .detect = {LAYER "attention.self.query.weight"},
    .layer_probe = LAYER "attention.self.query.weight",
    .model_type = "esm",
    .sources = sources, .n_sources = VNP_COUNT(sources),
    .keys = keys, .n_keys = VNP_COUNT(keys),
    .tensors = tensors, .n_tensors = VNP_COUNT(tensors),
    .variants = variants, .n_variants = VNP_COUNT(variants),
    .rotary_tensor = LAYER "attention.self.rotary_embeddings.inv_freq",
    .forward = vnp_esm2_forward,
    .tokenizer = VNP_TOK_ESM,
    .ln_eps = 1e-5f,
    .mask_id = 32,                                  /* <mask>: token dropout */
    .pool_skip_first = 1, .pool_skip_last = 1,      /* <cls>, <eos> */
    .pool_max_rows = 1024,
    .features = VNP_F_ROTARY | VNP_F_PRE_LN,
};

/* Token dropout at inference (esm2.md §3.1): x = (E[tok] * 0.88f) / (1 - n_mask/n_tokens) per sequence, and
 * <mask> rows zeroed. Without <mask> tokens the divisor is exactly 1 and is skipped. */
static int embed(vnp_encoder *e, const int32_t *ids, const vnp_varlen *vl)
{
    const vnp_encoder_config *c = &e->cfg;
    vnp_backend *be = e->be;
    int T = vl->cu_host[vl->nseq], any_mask = 0;
    if (c->token_dropout && c->mask_id >= 0) {
        for (int s = 0; s < vl->nseq; s++) {
            int32_t a = vl->cu_host[s], b = vl->cu_host[s + 1], nmask = 0;
            for (int32_t t = a; t < b; t++) nmask += ids[t] == c->mask_id;
            float div = 1.0f - (float)nmask / (float)(b - a);
            for (int32_t t = a; t < b; t++) e->h_row_div[t] = div;
            any_mask |= nmask > 0;
        }
        if (any_mask) {
            int rc = be->ops->upload(be, e->row_div, e->h_row_div, (size_t)T * sizeof(float));
            if (rc) return rc;
        }
    }
    be->ops->embed(be, e->x, e->tok_emb, e->ids, T, c->dim, NULL, c->token_dropout ? 0.88f : 1.0f,
                   any_mask ? e->row_div : NULL, c->token_dropout ? c->mask_id : -1);
    return VNP_OK;
}

int vnp_esm2_forward(vnp_encoder *e, const int32_t *ids, const vnp_varlen *vl)
{
    const vnp_encoder_config *c = &e->cfg;
    vnp_backend *be = e->be;
    const vnp_backend_ops *op = be->ops;
    int T = vl->cu_host[vl->nseq], D = c->dim, H = c->heads, hd = c->head_dim, F = c->ffn;
    size_t tab = (size_t)e->cap_tokens * (size_t)(hd / 2);
    float qscale = (float)(1.0 / sqrt((double)hd)); /* head_dim^-0.5, applied to q before the rotation */
    /* A power-of-two scale commutes exactly with the rotation and with rounding to FP16/FP32, so q and k (adjacent
     * in the fused rows) are then rotated in one pass and the scale moves to the attention scores. */
    int qexp, pow2 = frexpf(qscale, &qexp) == 0.5f;
    int rc = embed(e, ids, vl), fp8 = vnp_encoder_fp8(e);
    if (!rc) rc = vnp_esm2_fp8_begin(e);
    if (rc) return rc;
    for (int i = 0; i < c->layers; i++) {
        const vnp_layer *y = &e->layer[i];
        const float *ct = e->cos_t + (size_t)e->rope_of_layer[i] * tab, *st = e->sin_t + (size_t)e->rope_of_layer[i] * tab;
        if (fp8) {
            vnp_esm2_fp8_qkv(e, i, T);
        } else {
            op->layernorm(be, e->h, e->x, y->ln1_w, y->ln1_b, T, D, c->ln_eps);
            op->gemm(be, e->qkv, e->h, y->qkv_w, y->qkv_b, T, 3 * D, D, 0);
        }
        if (pow2) {
            op->rope(be, e->qkv, 3 * D, 2 * H, hd, 1.0f, ct, st, vl);
        } else {
            op->rope(be, e->qkv, 3 * D, H, hd, qscale, ct, st, vl);
            op->rope(be, vnp_be_at(be, e->qkv, (size_t)D), 3 * D, H, hd, 1.0f, ct, st, vl);
        }
        op->attention(be, e->ctx, D, e->qkv, vnp_be_at(be, e->qkv, (size_t)D), vnp_be_at(be, e->qkv, 2 * (size_t)D),
                      3 * D, H, hd, pow2 ? qscale : 1.0f, NULL, vl);
        if (fp8) {
            vnp_esm2_fp8_rest(e, i, T);
            continue;
        }
        op->gemm(be, e->x, e->ctx, y->o_w, y->o_b, T, D, D, 1);
        op->layernorm(be, e->h, e->x, y->ln2_w, y->ln2_b, T, D, c->ln_eps);
        op->gemm(be, e->ff, e->h, y->fc1_w, NULL, T, F, D, 0);
        op->bias_gelu(be, e->ff, y->fc1_b, T, F);
        op->gemm(be, e->x, e->ff, y->fc2_w, y->fc2_b, T, D, F, 1);
    }
    if (fp8) vnp_esm2_fp8_end(e, T);
    op->layernorm(be, e->x, e->x, e->final_ln_w, e->final_ln_b, T, D, c->ln_eps);
    return VNP_OK;
}
