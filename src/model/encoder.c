/* The encoder object shared by ESM-2 and DNABERT-S: loading weights into one backend allocation (or filling
 * it with random values), sizing activations once, checking a packed batch and pooling its output. */
#include "model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float vnp_round_fp16(float x)
{
    /* fp16 has 11 significant bits: round the float's 24-bit significand to 11 bits (nearest even); fine for
     * the normal range that rotary frequencies (1 .. 1e-4) live in. */
    if (x == 0.0f || !isfinite(x)) return x;
    int e;
    double m = frexp((double)x, &e);  /* x = m * 2^e, 0.5 <= |m| < 1 */
    double scaled = ldexp(m, 11);     /* 11 significant bits before the point */
    double r = nearbyint(scaled);     /* ties to even in the default rounding mode */
    if (e - 1 < -14) {                /* subnormal fp16: fixed quantum 2^-24 */
        return (float)(nearbyint((double)x * 16777216.0) / 16777216.0);
    }
    return (float)ldexp(r, e - 11);
}

const vnp_encoder_config *vnp_encoder_cfg(const vnp_encoder *e) { return &e->cfg; }
size_t vnp_encoder_weight_bytes(const vnp_encoder *e) { return e->arena_floats * vnp_be_elem(e->be); }
long vnp_encoder_nonfinite_batches(const vnp_encoder *e) { return e->nonfinite_batches; }
long vnp_encoder_fp32_reruns(const vnp_encoder *e) { return e->fp32_reruns; }
void vnp_encoder_force_nonfinite(vnp_encoder *e, int n) { e->force_nonfinite = n; }

void vnp_encoder_set_fp32_twin(vnp_encoder *e, vnp_encoder_twin_fn make, void *ctx)
{
    e->make_twin = make;
    e->twin_ctx = ctx;
}
size_t vnp_encoder_activation_bytes(const vnp_encoder *e) { return e->ws_bytes; }

void vnp_encoder_free(vnp_encoder *e)
{
    if (!e) return;
    vnp_encoder_free(e->twin);
    if (e->be) vnp_esm2_fp8_free(e);
    if (e->be) {
        e->be->ops->release(e->be, e->arena);
        e->be->ops->release(e->be, e->ws);
        e->be->ops->release(e->be, e->slopes);
    }
    free(e->layer);
    free(e->inv_freq);
    free(e->rope_of_layer);
    free(e->h_row_div);
    free(e);
}

static vnp_encoder *encoder_new(vnp_backend *be, const vnp_encoder_config *cfg, vnp_wlist *l)
{
    int64_t sz[VNP_SZ_COUNT];
    vnp_encoder_sizes(cfg, sz);
    vnp_encoder *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->be = be;
    e->cfg = *cfg;
    e->layer = vnp_calloc_array((size_t)cfg->layers, sizeof *e->layer);
    e->rope_of_layer = vnp_calloc_array((size_t)cfg->layers, sizeof(int));
    int rc = vnp_wlist_build(cfg->desc, sz, 1, l);
    if (!e->layer || !e->rope_of_layer || rc) goto fail;
    e->arena_floats = l->total;
    e->arena = be->ops->alloc(be, l->total * vnp_be_elem(be));
    if (!e->arena) goto fail;
    if (cfg->desc->features & VNP_F_ALIBI) {
        float slopes[4096];
        if (cfg->heads > 4096) goto fail;
        vnp_alibi_slopes(cfg->heads, slopes);
        e->slopes = be->ops->alloc(be, (size_t)cfg->heads * sizeof(float));
        if (!e->slopes || be->ops->upload(be, e->slopes, slopes, (size_t)cfg->heads * sizeof(float))) goto fail;
    }
    return e;
fail:
    vnp_error("cannot set up a %s encoder (%zu weight floats)", cfg->desc->name, l->total);
    vnp_encoder_free(e);
    return NULL;
}

/* Copies one checked tensor into its arena slot (converting to FP32, then to the backend's element type; only the
 * first rows when asked). */
static int load_one(vnp_encoder *e, const vnp_wspec *s, const vnp_tensor *t, float **tmp, size_t *tmp_n)
{
    size_t want = s->elems;
    float *dst = VNP_ARENA(e, s->offset);
    if (e->be->ops->host_visible && vnp_be_elem(e->be) == 4 && (size_t)t->numel == want)
        return vnp_tensor_to_f32(t, dst);
    /* FP16 in the file and on the device (a GPU): the mapped bytes go up as they are, at disk speed, instead of
     * FP16 -> FP32 on the CPU, twice the bytes over the bus and FP32 -> FP16 on the GPU (issue 14, start-up) */
    if (t->dtype == VNP_DT_F16 && t->contiguous && vnp_be_elem(e->be) == 2 && !e->be->ops->host_visible &&
        (size_t)t->numel >= want)
        return e->be->ops->upload(e->be, dst, t->data, want * 2);
    if ((size_t)t->numel > *tmp_n) {
        float *p = vnp_realloc_array(*tmp, (size_t)t->numel, sizeof(float));
        if (!p) return VNP_ERR_NOMEM;
        *tmp = p;
        *tmp_n = (size_t)t->numel;
    }
    int rc = vnp_tensor_to_f32(t, *tmp);
    if (rc) return rc;
    return vnp_be_upload_f32(e->be, dst, *tmp, want); /* the leading rows */
}

/* The rotary frequencies of every layer (ESM-2): per layer from the file, else the model-level buffer, else
 * the fp16-rounded formula (what the released checkpoints hold) with a warning. Identical vectors share. */
static int load_inv_freq(vnp_encoder *e, vnp_tensor_lookup find, const void *ctx, const char *where)
{
    int half = e->cfg.head_dim / 2, L = e->cfg.layers, warned = 0;
    e->inv_freq = vnp_malloc_array((size_t)L * (size_t)half, sizeof(float));
    float *cur = vnp_malloc_array((size_t)half, sizeof(float));
    int rc = VNP_OK;
    if (!e->inv_freq || !cur) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    for (int l = 0; l < L; l++) {
        char name[128];
        snprintf(name, sizeof name, "layer.%d.attention.self.rotary_embeddings.inv_freq", l);
        const vnp_tensor *t = find ? find(ctx, name) : NULL;
        if (!t && find) t = find(ctx, "rotary_embeddings.inv_freq");
        if (t) {
            if (t->ndim != 1 || t->shape[0] != half) {
                vnp_error("%s: tensor '%s' has %lld elements, expected shape [%d]", where, t->name,
                          (long long)t->numel, half);
                rc = VNP_ERR_FORMAT;
                goto done;
            }
            if ((rc = vnp_tensor_to_f32(t, cur))) goto done;
        } else {
            if (find && !warned++)
                vnp_warn("%s: no rotary inv_freq in the file; using the fp16-rounded formula 1/10000^(2j/%d)", where,
                         e->cfg.head_dim);
            for (int j = 0; j < half; j++)
                cur[j] = vnp_round_fp16(1.0f / powf(10000.0f, (float)(2 * j) / (float)e->cfg.head_dim));
        }
        int found = -1;
        for (int r = 0; r < e->n_rope && found < 0; r++)
            if (memcmp(e->inv_freq + (size_t)r * half, cur, (size_t)half * sizeof(float)) == 0) found = r;
        if (found < 0) {
            found = e->n_rope++;
            memcpy(e->inv_freq + (size_t)found * half, cur, (size_t)half * sizeof(float));
        }
        e->rope_of_layer[l] = found;
    }
done:
    free(cur);
    return rc;
}

vnp_encoder *vnp_encoder_load_checked(vnp_backend *be, const vnp_encoder_config *cfgp, vnp_tensor_lookup find,
                                      const void *ctx, const char *where)
{
    vnp_encoder_config cfg = *cfgp;
    vnp_wlist l = {0};
    vnp_encoder *e = encoder_new(be, &cfg, &l);
    float *tmp = NULL;
    size_t tmp_n = 0;
    if (!e) goto fail;
    for (size_t i = 0; i < l.n; i++) {
        int rc = load_one(e, &l.v[i], find(ctx, l.v[i].name), &tmp, &tmp_n);
        if (rc) {
            vnp_error("%s: cannot convert tensor '%s': %s", where, l.v[i].name, vnp_status_str(rc));
            goto fail;
        }
    }
    if ((cfg.desc->features & VNP_F_ROTARY) && load_inv_freq(e, find, ctx, where)) goto fail;
    vnp_encoder_bind(e, &l);
    if (vnp_esm2_fp8_prepare(e)) goto fail; /* FP8 copies of the ESM-2 layer weights, when asked */
    free(tmp);
    vnp_wlist_free(&l);
    vnp_info("%s: %s, %d layers, hidden %d, %d heads, FFN %d (%.1f MB of %s weights)", where,
             cfg.desc->name, cfg.layers, cfg.dim, cfg.heads, cfg.ffn,
             (double)vnp_encoder_weight_bytes(e) / 1e6, vnp_backend_precision(be));
    return e;
fail:
    free(tmp);
    vnp_wlist_free(&l);
    vnp_encoder_free(e);
    return NULL;
}

vnp_encoder *vnp_encoder_load_lookup(vnp_backend *be, vnp_tensor_lookup find, const void *ctx,
                                     const char *config_json, int heads_hint, const char *where)
{
    vnp_encoder_config cfg;
    if (vnp_encoder_config_derive(find, ctx, config_json, heads_hint, where, &cfg)) return NULL;
    return vnp_encoder_load_checked(be, &cfg, find, ctx, where);
}

vnp_encoder *vnp_encoder_load(vnp_backend *be, const vnp_weights *w)
{
    return vnp_encoder_load_lookup(be, vnp_weights_lookup, w, vnp_weights_config(w), vnp_weights_heads_hint(w),
                                   vnp_weights_path(w));
}

/* ---- random weights ---- */

typedef struct {
    vnp_encoder *e;
    const vnp_wlist *l;
    uint64_t seed;
    float *host; /* FP32 host arena when the backend's own is not host FP32 */
} rand_ctx;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Uniform values: LayerNorm gains around 1, small biases, embeddings in [-0.5, 0.5], and linear weights with
 * standard deviation 0.5/sqrt(fan_in) so the residual stream stays O(1) through any number of layers. */
static void rand_fill(void *p, size_t i)
{
    rand_ctx *c = p;
    const vnp_wspec *s = &c->l->v[i];
    float *dst = c->host ? c->host + s->offset : c->e->arena + s->offset;
    size_t n = s->elems;
    float base = 0.0f, amp;
    int norm = strstr(s->name, "LayerNorm") || strstr(s->name, "layernorm") || strstr(s->name, "layer_norm");
    if (norm && ends_with(s->name, ".weight")) {
        base = 1.0f;
        amp = 0.1f;
    } else if (ends_with(s->name, ".bias") || norm) {
        amp = 0.02f;
    } else if (strstr(s->name, "embeddings")) {
        amp = 0.5f;
    } else {
        amp = 0.5f * sqrtf(3.0f) / sqrtf((float)(s->ndim == 2 ? s->shape[1] : 1));
    }
    uint64_t x = c->seed ^ (0x9E3779B97F4A7C15ull * (i + 1));
    for (size_t k = 0; k < n; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        dst[k] = base + amp * (float)((double)(x >> 40) / 8388608.0 - 1.0);
    }
}

vnp_encoder *vnp_encoder_random(vnp_backend *be, const vnp_encoder_config *cfg_in, uint64_t seed)
{
    vnp_encoder_config cfg = *cfg_in;
    if (vnp_encoder_config_finish(&cfg)) return NULL;
    vnp_wlist l = {0};
    vnp_encoder *e = encoder_new(be, &cfg, &l);
    if (!e) goto fail;
    /* a device backend: the same values made in a host FP32 copy, then uploaded (converted) once */
    int staged = !be->ops->host_visible || vnp_be_elem(be) != 4;
    rand_ctx rc = {e, &l, seed ? seed : 1, NULL};
    if (staged && !(rc.host = vnp_malloc_array(l.total, sizeof(float)))) goto fail;
    vnp_pool *pool = vnp_pool_create(staged ? 0 : be->nthreads);
    vnp_pool_run(pool, l.n, rand_fill, &rc);
    vnp_pool_free(pool);
    if (staged) {
        int st = vnp_be_upload_f32(be, e->arena, rc.host, l.total);
        free(rc.host);
        if (st) goto fail;
    }
    if ((cfg.desc->features & VNP_F_ROTARY) && load_inv_freq(e, NULL, NULL, "random")) goto fail;
    vnp_encoder_bind(e, &l);
    if (vnp_esm2_fp8_prepare(e)) goto fail; /* FP8 copies of the ESM-2 layer weights, when asked */
    vnp_wlist_free(&l);
    return e;
fail:
    vnp_wlist_free(&l);
    vnp_encoder_free(e);
    return NULL;
}

/* ---- activations ---- */

int vnp_encoder_reserve(vnp_encoder *e, int max_tokens, int max_seqs)
{
    if (max_tokens < 1 || max_seqs < 1) return VNP_ERR_USAGE;
    if (max_seqs > max_tokens) max_seqs = max_tokens;
    if (max_tokens <= e->cap_tokens && max_seqs <= e->cap_seqs) return VNP_OK;
    if (max_tokens < e->cap_tokens) max_tokens = e->cap_tokens;
    if (max_seqs < e->cap_seqs) max_seqs = e->cap_seqs;
    vnp_backend *be = e->be;
    const vnp_encoder_config *c = &e->cfg;
    size_t T = (size_t)max_tokens, S = (size_t)max_seqs, D = (size_t)c->dim, F = (size_t)c->ffn;
    size_t half = (size_t)c->head_dim / 2, nrope = (c->desc->features & VNP_F_ROTARY) ? (size_t)e->n_rope : 0;
    int pre_ln = (c->desc->features & VNP_F_PRE_LN) != 0, gated = (c->desc->features & VNP_F_GATED_FFN) != 0;
    int dropout = c->desc->mask_id >= 0; /* token dropout's per-row divisors */
    /* sizes in bytes, each rounded up to 256 bytes; the first six slots hold backend elements, the rest FP32 or
     * int32 */
    size_t el = vnp_be_elem(be);
#define R256(n) (((n) + 255) & ~(size_t)255)
    size_t sz[12] = {R256(T * D * el),      R256(pre_ln ? T * D * el : 0),  R256(T * 3 * D * el),
                     R256(T * D * el),      R256(T * F * el),                R256(gated ? 2 * T * F * el : 0),
                     R256(nrope * T * half * 4), R256(nrope * T * half * 4), R256(dropout ? T * 4 : 0),
                     R256(T * 4),           R256((S + 1) * 4),               R256(S * D * 4)};
#undef R256
    size_t total = 0;
    for (int i = 0; i < 12; i++) total += sz[i];
    float *h_row_div = dropout ? vnp_malloc_array(T, sizeof(float)) : NULL;
    void *ws = be->ops->alloc(be, total);
    if (!ws || (dropout && !h_row_div)) {
        be->ops->release(be, ws);
        free(h_row_div);
        vnp_error("cannot allocate activations for %d tokens (%.1f MB)", max_tokens, (double)total / 1e6);
        return VNP_ERR_NOMEM;
    }
    be->ops->release(be, e->ws);
    free(e->h_row_div);
    e->ws = ws;
    e->ws_bytes = total;
    e->h_row_div = h_row_div;
    char *p = ws;
    float **slots[12] = {&e->x, &e->h, &e->qkv, &e->ctx, &e->ff, &e->ff2, &e->cos_t, &e->sin_t, &e->row_div,
                         (float **)&e->ids, (float **)&e->cu, &e->pooled};
    for (int i = 0; i < 12; i++) {
        *slots[i] = sz[i] ? (float *)(void *)p : NULL;
        p += sz[i];
    }
    for (size_t r = 0; r < nrope; r++)
        be->ops->rope_table(be, e->cos_t + r * T * half, e->sin_t + r * T * half, e->inv_freq + r * half,
                            max_tokens, (int)half);
    e->cap_tokens = max_tokens;
    e->cap_seqs = max_seqs;
    return VNP_OK;
}

/* ---- one batch ---- */

/* A batch whose activations held NaN/Inf: counted, then redone on the FP32 twin (made on first need) so that no
 * NaN/Inf reaches the output; without a twin source it fails with a message. */
static int rerun_fp32(vnp_encoder *e, const int32_t *ids, const int32_t *cu, int nseq, float *pooled, float *states)
{
    const char *kind = e->cfg.desc->name;
    e->nonfinite_batches++;
    if (!e->make_twin) {
        vnp_error("%s: a batch of %d sequences produced NaN/Inf in %s (batch %ld of this kind); rerun with "
                  "--precision fp32 (or VIRNUCPRO_DISABLE_FP16=1)", kind, nseq, vnp_backend_precision(e->be),
                  e->nonfinite_batches);
        return VNP_ERR_INTERNAL;
    }
    if (!e->twin) {
        vnp_info("%s: a batch produced NaN/Inf in %s; loading an FP32 copy of the model to redo such batches", kind,
                 vnp_backend_precision(e->be));
        if (!(e->twin = e->make_twin(e->twin_ctx))) return VNP_ERR_INTERNAL;
        int rc = vnp_encoder_reserve(e->twin, e->cap_tokens, e->cap_seqs);
        if (rc) return rc;
    }
    int rc = vnp_encoder_forward(e->twin, ids, cu, nseq, pooled, states);
    if (rc) return rc;
    e->fp32_reruns++;
    vnp_warn("%s: a batch of %d sequences produced NaN/Inf in %s and was redone in FP32 (%ld so far)", kind, nseq,
             vnp_backend_precision(e->be), e->fp32_reruns);
    return VNP_OK;
}

int vnp_encoder_forward(vnp_encoder *e, const int32_t *ids, const int32_t *cu, int nseq, float *pooled,
                        float *states)
{
    const vnp_encoder_config *c = &e->cfg;
    if (nseq < 1 || nseq > e->cap_seqs || cu[0] != 0) {
        vnp_error("batch of %d sequences does not fit the %d reserved", nseq, e->cap_seqs);
        return VNP_ERR_USAGE;
    }
    int max_len = 0;
    for (int s = 0; s < nseq; s++) {
        int len = cu[s + 1] - cu[s];
        if (len < 1 || cu[s + 1] > e->cap_tokens) {
            vnp_error("sequence %d of the batch: %d tokens ending at %d (reserved %d tokens)", s, len, cu[s + 1],
                      e->cap_tokens);
            return VNP_ERR_USAGE;
        }
        if (len > max_len) max_len = len;
    }
    int T = cu[nseq];
    for (int t = 0; t < T; t++)
        if (ids[t] < 0 || ids[t] >= c->vocab) {
            vnp_error("token id %d at position %d is outside the vocabulary of %d", ids[t], t, c->vocab);
            return VNP_ERR_USAGE;
        }
    vnp_backend *be = e->be;
    int rc = be->ops->upload(be, e->ids, ids, (size_t)T * sizeof(int32_t));
    if (!rc) rc = be->ops->upload(be, e->cu, cu, (size_t)(nseq + 1) * sizeof(int32_t));
    if (rc) return rc;
    vnp_varlen vl = {nseq, max_len, cu, e->cu};
    rc = c->desc->forward(e, ids, &vl);
    if (rc) return rc;
    be->ops->mean_pool(be, e->pooled, e->x, c->dim, c->pool_skip_first, c->pool_skip_last, c->pool_max_rows, &vl);
    if ((rc = be->ops->sync(be))) return rc;
    int bad = be->ops->nonfinite && be->ops->nonfinite(be, 1);
    if (e->force_nonfinite > 0) {
        e->force_nonfinite--;
        bad = 1;
    }
    if (bad) return rerun_fp32(e, ids, cu, nseq, pooled, states);
    rc = be->ops->download(be, pooled, e->pooled, (size_t)nseq * (size_t)c->dim * sizeof(float));
    if (!rc && states) rc = vnp_be_download_f32(be, states, e->x, (size_t)T * (size_t)c->dim);
    return rc;
}
