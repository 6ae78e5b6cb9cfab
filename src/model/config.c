/* Model configuration: which model a tensor table holds, its sizes (config.json first, tensor shapes second),
 * the published shapes by name, and the tensor-list checks that refuse missing or mis-shaped weights. */
#include "model_internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vnp_model_kind vnp_model_detect(vnp_tensor_lookup find, const void *ctx)
{
    if (find(ctx, "layer.0.attention.self.Wqkv.weight")) return VNP_MODEL_DNABERT_S;
    if (find(ctx, "layer.0.attention.self.query.weight")) return VNP_MODEL_ESM2;
    if (find(ctx, "hidden_layer.weight") && find(ctx, "output_layer.weight")) return VNP_MODEL_MLP;
    return VNP_MODEL_UNKNOWN;
}

/* ---- tensor lists ---- */

size_t vnp_wlist_add(vnp_wlist *l, int64_t d0, int64_t d1, const char *fmt, ...)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        vnp_wspec *v = vnp_realloc_array(l->v, cap, sizeof *v);
        if (!v) return (size_t)-1;
        l->v = v;
        l->cap = cap;
    }
    vnp_wspec *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->ndim = d1 > 0 ? 2 : 1;
    s->shape[0] = d0;
    s->shape[1] = d1;
    s->offset = l->total;
    /* no padding: fused tensors (ESM-2 query|key|value) must be contiguous */
    l->total += (size_t)d0 * (size_t)(d1 > 0 ? d1 : 1);
    return s->offset;
}

void vnp_wlist_free(vnp_wlist *l)
{
    if (!l) return;
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t at = 0;
    at += (size_t)snprintf(buf + at, n - at, "[");
    for (int i = 0; i < ndim && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (at < n) snprintf(buf + at, n - at, "]");
}

static int is_float(vnp_dtype dt)
{
    return dt == VNP_DT_F32 || dt == VNP_DT_F16 || dt == VNP_DT_BF16 || dt == VNP_DT_F64;
}

int vnp_wlist_check(const vnp_wlist *l, vnp_tensor_lookup find, const void *ctx, const char *where)
{
    int bad = 0;
    for (size_t i = 0; i < l->n; i++) {
        const vnp_wspec *s = &l->v[i];
        char want[64], got[64];
        int64_t want_shape[2] = {s->file_rows ? s->file_rows : s->shape[0], s->shape[1]};
        shape_str(want, sizeof want, s->ndim, want_shape);
        if (s->file_rows) snprintf(want + strlen(want) - 1, sizeof want - strlen(want) + 1, " or more rows]");
        const vnp_tensor *t = find(ctx, s->name);
        if (!t) {
            vnp_error("%s: missing tensor '%s' (expected shape %s)", where, s->name, want);
            bad++;
            continue;
        }
        shape_str(got, sizeof got, t->ndim, t->shape);
        int ok = t->ndim == s->ndim && (s->ndim < 2 || t->shape[1] == s->shape[1]) &&
                 (s->file_rows ? t->shape[0] >= s->file_rows : t->shape[0] == s->shape[0]);
        if (!ok) {
            vnp_error("%s: tensor '%s' has shape %s, expected %s", where, s->name, got, want);
            bad++;
        } else if (!is_float(t->dtype)) {
            vnp_error("%s: tensor '%s' has dtype %s, expected a floating-point type", where, s->name,
                      vnp_dtype_name(t->dtype));
            bad++;
        }
    }
    return bad ? VNP_ERR_FORMAT : VNP_OK;
}

/* ---- sizes ---- */

int vnp_encoder_config_finish(vnp_encoder_config *c)
{
    if (c->layers < 1 || c->dim < 1 || c->heads < 1 || c->ffn < 1 || c->vocab < 1 || c->dim % c->heads) {
        vnp_error("inconsistent model shape: %d layers, hidden size %d, %d heads, FFN %d, vocabulary %d", c->layers,
                  c->dim, c->heads, c->ffn, c->vocab);
        return VNP_ERR_USAGE;
    }
    c->head_dim = c->dim / c->heads;
    if (c->head_dim > 256 || (c->kind == VNP_MODEL_ESM2 && c->head_dim % 2)) {
        vnp_error("unsupported head dimension %d (hidden size %d / %d heads)", c->head_dim, c->dim, c->heads);
        return VNP_ERR_UNSUPPORTED;
    }
    if (c->kind == VNP_MODEL_ESM2) {
        c->pool_skip_first = 1; /* <cls> */
        c->pool_skip_last = 1;  /* <eos> */
        c->pool_max_rows = 1024;
        if (c->ln_eps <= 0) c->ln_eps = 1e-5f;
    } else if (c->kind == VNP_MODEL_DNABERT_S) {
        c->pool_skip_first = c->pool_skip_last = 0; /* [CLS] and [SEP] are averaged too */
        c->pool_max_rows = -1;
        c->token_dropout = 0;
        c->mask_id = -1;
        if (c->ln_eps <= 0) c->ln_eps = 1e-12f;
    } else {
        vnp_error("not an encoder kind: %s", vnp_model_kind_name(c->kind));
        return VNP_ERR_USAGE;
    }
    return VNP_OK;
}

static const struct {
    const char *name;
    vnp_model_kind kind;
    int layers, dim, heads, ffn, vocab;
} named[] = {
    {"esm2_8m", VNP_MODEL_ESM2, 6, 320, 20, 1280, 33},      {"esm2_35m", VNP_MODEL_ESM2, 12, 480, 20, 1920, 33},
    {"esm2_150m", VNP_MODEL_ESM2, 30, 640, 20, 2560, 33},   {"esm2_650m", VNP_MODEL_ESM2, 33, 1280, 20, 5120, 33},
    {"esm2_3b", VNP_MODEL_ESM2, 36, 2560, 40, 10240, 33},   {"esm2_15b", VNP_MODEL_ESM2, 48, 5120, 40, 20480, 33},
    {"dnabert_s", VNP_MODEL_DNABERT_S, 12, 768, 12, 3072, 4096},
};

int vnp_encoder_config_named(const char *name, vnp_encoder_config *cfg)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strcmp(name, named[i].name) == 0) {
            memset(cfg, 0, sizeof *cfg);
            cfg->kind = named[i].kind;
            cfg->layers = named[i].layers;
            cfg->dim = named[i].dim;
            cfg->heads = named[i].heads;
            cfg->ffn = named[i].ffn;
            cfg->vocab = named[i].vocab;
            cfg->token_dropout = cfg->kind == VNP_MODEL_ESM2;
            cfg->mask_id = cfg->kind == VNP_MODEL_ESM2 ? 32 : -1;
            return vnp_encoder_config_finish(cfg);
        }
    return VNP_ERR_NOTFOUND;
}

/* Heads of the published ESM-2 sizes, by hidden size (esm2.md §2); 0 when the size is not one of them. */
static int esm2_heads_by_dim(int dim)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (named[i].kind == VNP_MODEL_ESM2 && named[i].dim == dim) return named[i].heads;
    return 0;
}

/* An integer field of config.json: 0 and *v untouched when absent; VNP_ERR_FORMAT when of the wrong type. */
static int json_int(json_t *root, const char *key, const char *where, int *v)
{
    json_t *j = root ? json_object_get(root, key) : NULL;
    if (!j || json_is_null(j)) return VNP_OK;
    if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > (1 << 30)) {
        vnp_error("%s: config.json: \"%s\" is not a non-negative integer", where, key);
        return VNP_ERR_FORMAT;
    }
    *v = (int)json_integer_value(j);
    return VNP_OK;
}

/* Fills layers/dim/ffn/vocab from the tensors: `emb` [V, D], per-layer probe name, and the FFN width from
 * `ffn_name` dimension `ffn_axis`. */
static int count_layers(vnp_tensor_lookup find, const void *ctx, const char *probe_fmt)
{
    char name[128];
    int n = 0;
    for (;;) {
        snprintf(name, sizeof name, probe_fmt, n);
        if (!find(ctx, name)) return n;
        n++;
    }
}

static int check_config_agrees(const char *where, const char *key, int from_json, int from_tensors)
{
    if (from_json && from_json != from_tensors) {
        vnp_error("%s: config.json says %s = %d but the tensors give %d", where, key, from_json, from_tensors);
        return VNP_ERR_FORMAT;
    }
    return VNP_OK;
}

int vnp_encoder_config_derive(vnp_tensor_lookup find, const void *ctx, const char *config_json, int heads_hint,
                              const char *where, vnp_encoder_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = vnp_model_detect(find, ctx);
    if (cfg->kind != VNP_MODEL_ESM2 && cfg->kind != VNP_MODEL_DNABERT_S) {
        vnp_error("%s: not an ESM-2 or DNABERT-S model (no tensor 'layer.0.attention.self.query.weight' or "
                  "'layer.0.attention.self.Wqkv.weight')%s",
                  where, cfg->kind == VNP_MODEL_MLP ? "; it is a VirNucPro MLP classifier" : "");
        return VNP_ERR_FORMAT;
    }
    int esm = cfg->kind == VNP_MODEL_ESM2;
    json_t *root = NULL;
    if (config_json) {
        json_error_t jerr;
        root = json_loads(config_json, 0, &jerr);
        if (!root || !json_is_object(root)) {
            vnp_error("%s: config.json line %d column %d: %s", where, jerr.line, jerr.column,
                      root ? "not a JSON object" : jerr.text);
            json_decref(root);
            return VNP_ERR_FORMAT;
        }
    }
    json_t *mt = root ? json_object_get(root, "model_type") : NULL;
    if (json_is_string(mt) && strcmp(json_string_value(mt), esm ? "esm" : "bert") != 0) {
        vnp_warn("%s: ignoring config.json of model_type '%s' beside %s weights", where, json_string_value(mt),
                 vnp_model_kind_name(cfg->kind));
        json_decref(root);
        root = NULL;
    }
    int rc = VNP_OK, j_layers = 0, j_dim = 0, j_heads = 0, j_ffn = 0, j_vocab = 0;
    if ((rc = json_int(root, "num_hidden_layers", where, &j_layers)) || (rc = json_int(root, "hidden_size", where, &j_dim)) ||
        (rc = json_int(root, "num_attention_heads", where, &j_heads)) ||
        (rc = json_int(root, "intermediate_size", where, &j_ffn)))
        goto done;
    (void)j_vocab;
    json_t *eps = root ? json_object_get(root, "layer_norm_eps") : NULL;
    if (eps && json_is_number(eps)) cfg->ln_eps = (float)json_number_value(eps);
    if (esm) {
        cfg->token_dropout = 1;
        cfg->mask_id = 32;
        json_t *td = root ? json_object_get(root, "token_dropout") : NULL;
        if (td && json_is_boolean(td)) cfg->token_dropout = json_is_true(td);
        if ((rc = json_int(root, "mask_token_id", where, &cfg->mask_id))) goto done;
        json_t *pe = root ? json_object_get(root, "position_embedding_type") : NULL;
        json_t *before = root ? json_object_get(root, "emb_layer_norm_before") : NULL;
        if ((pe && json_is_string(pe) && strcmp(json_string_value(pe), "rotary") != 0) || json_is_true(before)) {
            vnp_error("%s: only ESM-2 (rotary positions, no embedding LayerNorm) is supported", where);
            rc = VNP_ERR_UNSUPPORTED;
            goto done;
        }
    }

    const vnp_tensor *emb = find(ctx, "embeddings.word_embeddings.weight");
    if (!emb || emb->ndim != 2) {
        vnp_error("%s: missing tensor 'embeddings.word_embeddings.weight' (expected shape [vocabulary, hidden size])",
                  where);
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    cfg->vocab = (int)emb->shape[0];
    cfg->dim = (int)emb->shape[1];
    cfg->layers = count_layers(find, ctx, esm ? "layer.%d.attention.self.query.weight" : "layer.%d.attention.self.Wqkv.weight");
    const vnp_tensor *f = find(ctx, esm ? "layer.0.intermediate.dense.weight" : "layer.0.mlp.wo.weight");
    if (!f || f->ndim != 2) {
        vnp_error("%s: missing tensor '%s' (expected shape %s)", where,
                  esm ? "layer.0.intermediate.dense.weight" : "layer.0.mlp.wo.weight",
                  esm ? "[FFN, hidden size]" : "[hidden size, FFN]");
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    cfg->ffn = (int)(esm ? f->shape[0] : f->shape[1]);
    if ((rc = check_config_agrees(where, "num_hidden_layers", j_layers, cfg->layers)) ||
        (rc = check_config_agrees(where, "hidden_size", j_dim, cfg->dim)) ||
        (rc = check_config_agrees(where, "intermediate_size", j_ffn, cfg->ffn)))
        goto done;

    /* heads: config.json, else (ESM-2) the rotary inv_freq length, else the published size table / head dim 64 */
    cfg->heads = j_heads ? j_heads : heads_hint;
    if (!cfg->heads && esm) {
        const vnp_tensor *inv = find(ctx, "layer.0.attention.self.rotary_embeddings.inv_freq");
        if (!inv) inv = find(ctx, "rotary_embeddings.inv_freq");
        if (inv && inv->ndim == 1 && inv->shape[0] > 0 && cfg->dim % (2 * (int)inv->shape[0]) == 0)
            cfg->heads = cfg->dim / (2 * (int)inv->shape[0]);
        else
            cfg->heads = esm2_heads_by_dim(cfg->dim);
    }
    if (!cfg->heads && !esm && cfg->dim % 64 == 0) cfg->heads = cfg->dim / 64;
    if (!cfg->heads) {
        vnp_error("%s: cannot tell the number of attention heads (no config.json num_attention_heads)", where);
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    if ((rc = vnp_encoder_config_finish(cfg))) {
        if (rc == VNP_ERR_USAGE) rc = VNP_ERR_FORMAT;
        goto done;
    }
    if (esm && (cfg->mask_id >= cfg->vocab)) cfg->mask_id = -1;

    /* every tensor present and of the right shape */
    vnp_wlist l = {0};
    rc = esm ? vnp_esm2_spec(cfg, &l) : vnp_dnabert_spec(cfg, &l);
    if (!rc) rc = vnp_wlist_check(&l, find, ctx, where);
    vnp_wlist_free(&l);
done:
    json_decref(root);
    return rc;
}
