/* DNABERT-S (MosaicBERT): its model description (sizes, config.json keys, tensors) and the forward pass of
 * ../spec/dnabert_s.md §4 on a packed batch: LN(word + token-type-0 embedding), L post-LN layers (fused Wqkv,
 * varlen attention with ALiBi, dense + residual + LN, gated GELU MLP + residual + LN). Pooling is done by the
 * caller. */
#include "model_internal.h"

#include <math.h>

#define LAYER "layer.%d."

/* DNABERT-S (spec/dnabert_s.md): MosaicBERT names with the "bert." prefix removed by weights/. */
static const vnp_tensor_desc tensors[] = {
    {"embeddings.word_embeddings.weight", {VNP_SZ_V, VNP_SZ_D}, VNP_SLOT_TOK_EMB, 0},
    /* [type_vocab, D]: only row 0 is used */
    {"embeddings.token_type_embeddings.weight", {VNP_SZ_TYPES, VNP_SZ_D}, VNP_SLOT_TYPE_ROW, VNP_T_FIRST_ROW},
    {"embeddings.LayerNorm.weight", {VNP_SZ_D}, VNP_SLOT_EMB_LN_W, 0},
    {"embeddings.LayerNorm.bias", {VNP_SZ_D}, VNP_SLOT_EMB_LN_B, 0},
    {LAYER "attention.self.Wqkv.weight", {VNP_SZ_3D, VNP_SZ_D}, VNP_SLOT_QKV_W, 0},
    {LAYER "attention.self.Wqkv.bias", {VNP_SZ_3D}, VNP_SLOT_QKV_B, 0},
    {LAYER "attention.output.dense.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_O_W, 0},
    {LAYER "attention.output.dense.bias", {VNP_SZ_D}, VNP_SLOT_O_B, 0},
    {LAYER "attention.output.LayerNorm.weight", {VNP_SZ_D}, VNP_SLOT_LN1_W, 0},
    {LAYER "attention.output.LayerNorm.bias", {VNP_SZ_D}, VNP_SLOT_LN1_B, 0},
    {LAYER "mlp.gated_layers.weight", {VNP_SZ_2F, VNP_SZ_D}, VNP_SLOT_FC1_W, 0}, /* gate | value, no bias */
    {LAYER "mlp.wo.weight", {VNP_SZ_D, VNP_SZ_F}, VNP_SLOT_FC2_W, 0},
    {LAYER "mlp.wo.bias", {VNP_SZ_D}, VNP_SLOT_FC2_B, 0},
    {LAYER "mlp.layernorm.weight", {VNP_SZ_D}, VNP_SLOT_LN2_W, 0},
    {LAYER "mlp.layernorm.bias", {VNP_SZ_D}, VNP_SLOT_LN2_B, 0},
};

static const vnp_size_source sources[] = {
    {"embeddings.word_embeddings.weight", 0, 0, VNP_SZ_V},
    {"embeddings.word_embeddings.weight", 1, 0, VNP_SZ_D},
    {"layer.0.mlp.gated_layers.weight", 0, 2, VNP_SZ_F},
    {"embeddings.token_type_embeddings.weight", 0, 0, VNP_SZ_TYPES},
};

static const vnp_config_key keys[] = {
    {"num_hidden_layers", VNP_KEY_INT, 1, 1024, VNP_SZ_L, 0, NULL},
    {"hidden_size", VNP_KEY_INT, 1, 65536, VNP_SZ_D, 0, NULL},
    {"num_attention_heads", VNP_KEY_INT, 1, 4096, VNP_SZ_H, 0, NULL},
    {"intermediate_size", VNP_KEY_INT, 1, 1 << 20, VNP_SZ_F, 0, NULL},
    {"vocab_size", VNP_KEY_INT, 1, 1 << 24, VNP_SZ_V, 0, NULL},
    {"type_vocab_size", VNP_KEY_INT, 1, 1 << 16, VNP_SZ_TYPES, 0, NULL},
    {"layer_norm_eps", VNP_KEY_NUMBER, 1e-30, 1, 0, VNP_SET_LN_EPS, NULL},
};

static const vnp_model_variant variants[] = {
    {"DNABERT-S", "dnabert_s", {[VNP_SZ_L] = 12, [VNP_SZ_D] = 768, [VNP_SZ_H] = 12, [VNP_SZ_F] = 3072, [VNP_SZ_V] = 4096}},
};

const vnp_model_desc vnp_dnabert_s_desc = {
    .name = "dnabert_s", .title = "DNABERT-S", .kind = VNP_MODEL_DNABERT_S, .role = VNP_ROLE_DNA,
    .detect = {LAYER "attention.self.Wqkv.weight"},
    .layer_probe = LAYER "attention.self.Wqkv.weight",
    .model_type = "bert",
    .sources = sources, .n_sources = VNP_COUNT(sources),
    .keys = keys, .n_keys = VNP_COUNT(keys),
    .tensors = tensors, .n_tensors = VNP_COUNT(tensors),
    .variants = variants, .n_variants = VNP_COUNT(variants),
    .default_head_dim = 64,
    .forward = vnp_dnabert_forward,
    .tokenizer = VNP_TOK_BPE,
    .ln_eps = 1e-12f,
    .mask_id = -1,
    .pool_skip_first = 0, .pool_skip_last = 0, /* [CLS] and [SEP] are averaged too */
    .pool_max_rows = -1,
    .features = VNP_F_ALIBI | VNP_F_GATED_FFN,
};

int vnp_dnabert_forward(vnp_encoder *e, const int32_t *ids, const vnp_varlen *vl)
{
    (void)ids;
    const vnp_encoder_config *c = &e->cfg;
    vnp_backend *be = e->be;
    const vnp_backend_ops *op = be->ops;
    int T = vl->cu_host[vl->nseq], D = c->dim, H = c->heads, hd = c->head_dim, F = c->ffn;
    float scale = (float)(1.0 / sqrt((double)hd)); /* the code divides by sqrt(head_dim): exactly 1/8 for 64 */
    op->embed(be, e->x, e->tok_emb, e->ids, T, D, e->type_row, 1.0f, NULL, -1);
    op->layernorm(be, e->x, e->x, e->emb_ln_w, e->emb_ln_b, T, D, c->ln_eps);
    for (int i = 0; i < c->layers; i++) {
        const vnp_layer *y = &e->layer[i];
        op->gemm(be, e->qkv, e->x, y->qkv_w, y->qkv_b, T, 3 * D, D, 0);
        op->attention(be, e->ctx, D, e->qkv, vnp_be_at(be, e->qkv, (size_t)D), vnp_be_at(be, e->qkv, 2 * (size_t)D), 3 * D, H, hd, scale, e->slopes, vl);
        op->gemm(be, e->x, e->ctx, y->o_w, y->o_b, T, D, D, 1); /* dense(ctx) + x */
        op->layernorm(be, e->x, e->x, y->ln1_w, y->ln1_b, T, D, c->ln_eps);
        op->gemm(be, e->ff2, e->x, y->fc1_w, NULL, T, 2 * F, D, 0);
        op->gated_gelu(be, e->ff, e->ff2, T, F);
        op->gemm(be, e->x, e->ff, y->fc2_w, y->fc2_b, T, D, F, 1); /* wo(u) + x1 */
        op->layernorm(be, e->x, e->x, y->ln2_w, y->ln2_b, T, D, c->ln_eps);
    }
    return VNP_OK;
}
