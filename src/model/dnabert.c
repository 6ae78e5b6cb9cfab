/* DNABERT-S (MosaicBERT) over the backend ops: the tensors it needs and the forward pass of
 * ../spec/dnabert_s.md §4 on a packed batch: LN(word + token-type-0 embedding), L post-LN layers (fused Wqkv,
 * varlen attention with ALiBi, dense + residual + LN, gated GELU MLP + residual + LN). Pooling is done by the
 * caller. */
#include "model_internal.h"

#include <math.h>

#define LAYER "layer.%d."

int vnp_dnabert_spec(const vnp_encoder_config *c, vnp_wlist *l)
{
    int64_t D = c->dim, F = c->ffn;
    int ok = vnp_wlist_add(l, c->vocab, D, "embeddings.word_embeddings.weight") != (size_t)-1;
    ok &= vnp_wlist_add(l, 1, D, "embeddings.token_type_embeddings.weight") != (size_t)-1;
    if (ok) l->v[l->n - 1].file_rows = 1; /* [type_vocab, D]: only row 0 is used */
    ok &= vnp_wlist_add(l, D, 0, "embeddings.LayerNorm.weight") != (size_t)-1;
    ok &= vnp_wlist_add(l, D, 0, "embeddings.LayerNorm.bias") != (size_t)-1;
    for (int i = 0; i < c->layers && ok; i++) {
        ok &= vnp_wlist_add(l, 3 * D, D, LAYER "attention.self.Wqkv.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, 3 * D, 0, LAYER "attention.self.Wqkv.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, D, LAYER "attention.output.dense.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.output.dense.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.output.LayerNorm.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.output.LayerNorm.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, 2 * F, D, LAYER "mlp.gated_layers.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, F, LAYER "mlp.wo.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "mlp.wo.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "mlp.layernorm.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "mlp.layernorm.bias", i) != (size_t)-1;
    }
    return ok ? VNP_OK : VNP_ERR_NOMEM;
}

void vnp_dnabert_bind(vnp_encoder *e, const vnp_wlist *l)
{
    const vnp_wspec *s = l->v;
    e->tok_emb = VNP_ARENA(e, (s++)->offset);
    e->type_row = VNP_ARENA(e, (s++)->offset);
    e->emb_ln_w = VNP_ARENA(e, (s++)->offset);
    e->emb_ln_b = VNP_ARENA(e, (s++)->offset);
    for (int i = 0; i < e->cfg.layers; i++) {
        vnp_layer *y = &e->layer[i];
        y->qkv_w = VNP_ARENA(e, (s++)->offset);
        y->qkv_b = VNP_ARENA(e, (s++)->offset);
        y->o_w = VNP_ARENA(e, (s++)->offset);
        y->o_b = VNP_ARENA(e, (s++)->offset);
        y->ln1_w = VNP_ARENA(e, (s++)->offset);
        y->ln1_b = VNP_ARENA(e, (s++)->offset);
        y->fc1_w = VNP_ARENA(e, (s++)->offset);
        y->fc1_b = NULL;
        y->fc2_w = VNP_ARENA(e, (s++)->offset);
        y->fc2_b = VNP_ARENA(e, (s++)->offset);
        y->ln2_w = VNP_ARENA(e, (s++)->offset);
        y->ln2_b = VNP_ARENA(e, (s++)->offset);
    }
}

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
