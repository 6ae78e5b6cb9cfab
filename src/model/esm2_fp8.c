/* ESM-2 under --precision fp8: its four layer GEMMs (q|k|v, out_proj, fc1, fc2) in FP8 E4M3 with FP32 accumulation.
 * Weights are quantized once at load (one scale per output channel) beside the FP16 ones, which stay for the
 * self-check and a fall-back to FP16; activations are quantized per token by the kernel that makes them (LayerNorm
 * before q|k|v and fc1, GELU before fc2, a quantize pass over the attention output before out_proj). Each GEMM writes
 * its raw FP16 sums, and the kernel that reads them applies the token and channel scales and the bias: the second
 * LayerNorm (with out_proj's residual add), the GELU (fc1), the next layer's first LayerNorm (fc2's residual add),
 * a pass over q|k|v. Residual stream, LayerNorm statistics, rotary, attention, softmax and pooling stay FP16/FP32. */
#include "model_internal.h"

#include <stdlib.h>

struct vnp_fp8 {
    int on;          /* the FP8 layers run (vnp_encoder_set_fp8) */
    void *arena8;    /* backend memory: every layer's E4M3 weights, then their FP32 scales */
    size_t arena8_bytes;
    void *act8;      /* [cap, max(D, F)] E4M3 activations: the input of the next GEMM */
    float *scale[2]; /* [cap] per-row scales, two so that a kernel reads the last GEMM's while writing the next's */
    int cap;
    vnp_q8out pending; /* the last fc2's output, not yet added to the residual stream (z NULL: none) */
    struct {
        void *w8[4];    /* q|k|v [3D, D], out_proj [D, D], fc1 [F, D], fc2 [D, F] */
        float *s[4];
    } *layer;
};

/* rows and columns of GEMM g of a layer */
static void gemm_shape(const vnp_encoder_config *c, int g, int *rows, int *cols)
{
    static const int rmul[4] = {3, 1, 0, 1};
    *rows = g == 2 ? c->ffn : rmul[g] * c->dim;
    *cols = g == 3 ? c->ffn : c->dim;
}

void vnp_esm2_fp8_free(vnp_encoder *e)
{
    struct vnp_fp8 *f = e->fp8;
    if (!f) return;
    e->be->ops->release(e->be, f->arena8);
    e->be->ops->release(e->be, f->act8);
    free(f->layer);
    free(f);
    e->fp8 = NULL;
}

int vnp_esm2_fp8_prepare(vnp_encoder *e)
{
    vnp_backend *be = e->be;
    const vnp_backend_ops *op = be->ops;
    const vnp_encoder_config *c = &e->cfg;
    if (!be->fp8 || c->kind != VNP_MODEL_ESM2) return VNP_OK; /* DNABERT-S stays FP16 */
    if (!op->quant_rows || !op->layernorm_q8 || !op->gelu_q8 || !op->dequant_q8 || !op->gemm_q8 ||
        vnp_be_elem(be) != 2) {
        vnp_error("the %s backend has no FP8 path", op->name);
        return VNP_ERR_UNSUPPORTED;
    }
    if (c->dim % 16 || c->ffn % 16) { /* cuBLASLt's FP8 kernels take multiples of 16 */
        vnp_warn("ESM-2 with hidden %d and FFN %d: FP8 needs multiples of 16; this model runs in FP16", c->dim,
                 c->ffn);
        return VNP_OK;
    }
    struct vnp_fp8 *f = calloc(1, sizeof *f);
    if (!f || !(f->layer = vnp_calloc_array((size_t)c->layers, sizeof *f->layer))) {
        free(f);
        return VNP_ERR_NOMEM;
    }
    e->fp8 = f;
    size_t wbytes = 0, sbytes = 0;
    for (int g = 0; g < 4; g++) {
        int r, k;
        gemm_shape(c, g, &r, &k);
        wbytes += (size_t)r * (size_t)k;
        sbytes += (size_t)r * sizeof(float);
    }
    wbytes = (wbytes + 255) & ~(size_t)255;
    f->arena8_bytes = (wbytes + sbytes) * (size_t)c->layers;
    if (!(f->arena8 = op->alloc(be, f->arena8_bytes))) {
        vnp_esm2_fp8_free(e);
        return VNP_ERR_NOMEM;
    }
    char *w = f->arena8, *s = (char *)f->arena8 + wbytes * (size_t)c->layers;
    for (int i = 0; i < c->layers; i++) {
        const vnp_layer *y = &e->layer[i];
        const float *src[4] = {y->qkv_w, y->o_w, y->fc1_w, y->fc2_w};
        for (int g = 0; g < 4; g++) {
            int r, k;
            gemm_shape(c, g, &r, &k);
            f->layer[i].w8[g] = w;
            f->layer[i].s[g] = (float *)(void *)s;
            op->quant_rows(be, w, (float *)(void *)s, src[g], r, k, k);
            w += (size_t)r * (size_t)k;
            s += (size_t)r * sizeof(float);
        }
    }
    int rc = op->sync(be);
    if (rc) {
        vnp_esm2_fp8_free(e);
        return rc;
    }
    f->on = 1;
    vnp_info("ESM-2: layer GEMM weights quantized to FP8 E4M3 with per-channel scales (%.1f MB beside the FP16 copy)",
             (double)f->arena8_bytes / 1e6);
    return VNP_OK;
}

void vnp_encoder_set_fp8(vnp_encoder *e, int on)
{
    if (e->fp8) e->fp8->on = on != 0;
}

int vnp_encoder_fp8(const vnp_encoder *e) { return e->fp8 && e->fp8->on; }

/* The FP8 activation buffers for the encoder's reserved rows (grown with them). */
static int reserve(vnp_encoder *e)
{
    struct vnp_fp8 *f = e->fp8;
    f->pending.z = NULL;
    if (f->cap >= e->cap_tokens) return VNP_OK;
    vnp_backend *be = e->be;
    size_t T = (size_t)e->cap_tokens, W = (size_t)(e->cfg.ffn > e->cfg.dim ? e->cfg.ffn : e->cfg.dim);
    size_t a = (T * W + 255) & ~(size_t)255, sb = (T * sizeof(float) + 255) & ~(size_t)255;
    void *p = be->ops->alloc(be, a + 2 * sb);
    if (!p) return VNP_ERR_NOMEM;
    be->ops->release(be, f->act8);
    f->act8 = p;
    f->scale[0] = (float *)(void *)((char *)p + a);
    f->scale[1] = (float *)(void *)((char *)p + a + sb);
    f->cap = e->cap_tokens;
    return VNP_OK;
}

int vnp_esm2_fp8_begin(vnp_encoder *e) { return vnp_encoder_fp8(e) ? reserve(e) : VNP_OK; }

/* Layer i up to the attention: LayerNorm (after adding the previous layer's fc2 output) quantized, the q|k|v GEMM,
 * its scales and bias applied in place. */
void vnp_esm2_fp8_qkv(vnp_encoder *e, int i, int T)
{
    const vnp_encoder_config *c = &e->cfg;
    vnp_backend *be = e->be;
    const vnp_backend_ops *op = be->ops;
    struct vnp_fp8 *f = e->fp8;
    const vnp_layer *y = &e->layer[i];
    int D = c->dim;
    op->layernorm_q8(be, f->act8, f->scale[0], e->x, f->pending.z ? &f->pending : NULL, y->ln1_w, y->ln1_b, T, D,
                     c->ln_eps);
    f->pending.z = NULL;
    op->gemm_q8(be, e->qkv, f->act8, f->layer[i].w8[0], T, 3 * D, D);
    vnp_q8out g = {e->qkv, f->scale[0], f->layer[i].s[0], y->qkv_b};
    op->dequant_q8(be, e->qkv, &g, T, 3 * D, 0);
}

/* Layer i after the attention: out_proj, its residual folded into the second LayerNorm, fc1 with GELU folded into
 * the quantizer of fc2's input, fc2 (its residual add waits for the next LayerNorm, or vnp_esm2_fp8_end). */
void vnp_esm2_fp8_rest(vnp_encoder *e, int i, int T)
{
    const vnp_encoder_config *c = &e->cfg;
    vnp_backend *be = e->be;
    const vnp_backend_ops *op = be->ops;
    struct vnp_fp8 *f = e->fp8;
    const vnp_layer *y = &e->layer[i];
    int D = c->dim, F = c->ffn;
    op->quant_rows(be, f->act8, f->scale[1], e->ctx, T, D, D);
    op->gemm_q8(be, e->h, f->act8, f->layer[i].w8[1], T, D, D);
    vnp_q8out o = {e->h, f->scale[1], f->layer[i].s[1], y->o_b};
    op->layernorm_q8(be, f->act8, f->scale[0], e->x, &o, y->ln2_w, y->ln2_b, T, D, c->ln_eps);
    op->gemm_q8(be, e->ff, f->act8, f->layer[i].w8[2], T, F, D);
    vnp_q8out h = {e->ff, f->scale[0], f->layer[i].s[2], y->fc1_b};
    op->gelu_q8(be, f->act8, f->scale[1], &h, T, F);
    op->gemm_q8(be, e->h, f->act8, f->layer[i].w8[3], T, D, F);
    f->pending = (vnp_q8out){e->h, f->scale[1], f->layer[i].s[3], y->fc2_b};
}

void vnp_esm2_fp8_end(vnp_encoder *e, int T)
{
    struct vnp_fp8 *f = e->fp8;
    if (!f || !f->pending.z) return;
    e->be->ops->dequant_q8(e->be, e->x, &f->pending, T, e->cfg.dim, 1);
    f->pending.z = NULL;
}
