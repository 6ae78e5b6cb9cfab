/* ESM-2 (any size) over the backend ops: the tensors it needs and the forward pass of ../spec/esm2.md §3 on a
 * packed batch: embedding x 0.88 with token dropout, L pre-LN layers (fused q|k|v GEMM, q scaled then rotary,
 * varlen attention, out_proj, exact-erf GELU FFN), the final LayerNorm. Pooling is done by the caller. */
#include "model_internal.h"

#include <math.h>

#define LAYER "layer.%d."

int vnp_esm2_spec(const vnp_encoder_config *c, vnp_wlist *l)
{
    int64_t D = c->dim, F = c->ffn;
    int ok = vnp_wlist_add(l, c->vocab, D, "embeddings.word_embeddings.weight") != (size_t)-1;
    for (int i = 0; i < c->layers && ok; i++) {
        /* query, key, value consecutive: they form one [3D, D] GEMM */
        ok &= vnp_wlist_add(l, D, D, LAYER "attention.self.query.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, D, LAYER "attention.self.key.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, D, LAYER "attention.self.value.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.self.query.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.self.key.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.self.value.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, D, LAYER "attention.output.dense.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.output.dense.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.LayerNorm.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "attention.LayerNorm.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, F, D, LAYER "intermediate.dense.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, F, 0, LAYER "intermediate.dense.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, F, LAYER "output.dense.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "output.dense.bias", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "LayerNorm.weight", i) != (size_t)-1;
        ok &= vnp_wlist_add(l, D, 0, LAYER "LayerNorm.bias", i) != (size_t)-1;
    }
    ok &= vnp_wlist_add(l, D, 0, "emb_layer_norm_after.weight") != (size_t)-1;
    ok &= vnp_wlist_add(l, D, 0, "emb_layer_norm_after.bias") != (size_t)-1;
    return ok ? VNP_OK : VNP_ERR_NOMEM;
}

void vnp_esm2_bind(vnp_encoder *e, const vnp_wlist *l)
{
    const vnp_wspec *s = l->v;
    e->tok_emb = VNP_ARENA(e, (s++)->offset);
    for (int i = 0; i < e->cfg.layers; i++) {
        vnp_layer *y = &e->layer[i];
        y->qkv_w = VNP_ARENA(e, s->offset); /* query.weight, then key and value right after it */
        s += 3;
        y->qkv_b = VNP_ARENA(e, s->offset);
        s += 3;
        y->o_w = VNP_ARENA(e, (s++)->offset);
        y->o_b = VNP_ARENA(e, (s++)->offset);
        y->ln1_w = VNP_ARENA(e, (s++)->offset);
        y->ln1_b = VNP_ARENA(e, (s++)->offset);
        y->fc1_w = VNP_ARENA(e, (s++)->offset);
        y->fc1_b = VNP_ARENA(e, (s++)->offset);
        y->fc2_w = VNP_ARENA(e, (s++)->offset);
        y->fc2_b = VNP_ARENA(e, (s++)->offset);
        y->ln2_w = VNP_ARENA(e, (s++)->offset);
        y->ln2_b = VNP_ARENA(e, (s++)->offset);
    }
    e->final_ln_w = VNP_ARENA(e, (s++)->offset);
    e->final_ln_b = VNP_ARENA(e, (s++)->offset);
}

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
