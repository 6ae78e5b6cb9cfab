/* Which model a tensor table holds (ESM-2, DNABERT-S, the VirNucPro MLP), its sizes, the tensors it needs, and
 * the comparison of a table with them. */
#include "table.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vnp_model_kind_name(vnp_model_kind k)
{
    switch (k) {
    case VNP_MODEL_ESM2: return "esm2";
    case VNP_MODEL_DNABERT_S: return "dnabert_s";
    case VNP_MODEL_MLP: return "mlp";
    default: return "unknown";
    }
}

/* Released ESM-2 sizes (spec/esm2.md §2). */
static const struct {
    int layers, dim, heads;
    const char *name;
} esm2_sizes[] = {
    {6, 320, 20, "esm2_t6_8M_UR50D"},     {12, 480, 20, "esm2_t12_35M_UR50D"},
    {30, 640, 20, "esm2_t30_150M_UR50D"}, {33, 1280, 20, "esm2_t33_650M_UR50D"},
    {36, 2560, 40, "esm2_t36_3B_UR50D"},  {48, 5120, 40, "esm2_t48_15B_UR50D"},
};

/* Highest N + 1 over names "layer.N.<suffix...>" that contain `marker` after the layer number; 0 when none. */
static int count_layers(const vnp_weights *w, const char *marker)
{
    long best = -1;
    for (size_t i = 0; i < vnp_weights_count(w); i++) {
        const char *s = vnp_weights_at(w, i)->name;
        if (strncmp(s, "layer.", 6) != 0 || !isdigit((unsigned char)s[6])) continue;
        char *end;
        long n = strtol(s + 6, &end, 10);
        if (*end != '.' || n < 0 || n > 100000 || !strstr(end, marker)) continue;
        if (n > best) best = n;
    }
    return (int)(best + 1);
}

static const vnp_tensor *find2d(const vnp_weights *w, const char *name)
{
    const vnp_tensor *t = vnp_weights_find(w, name);
    return t && t->ndim == 2 && t->shape[0] > 0 && t->shape[1] > 0 && t->shape[0] <= 1 << 24 &&
                   t->shape[1] <= 1 << 24
               ? t
               : NULL;
}

/* An integer field of config.json, or -1. */
static long config_int(json_t *cfg, const char *key)
{
    json_t *v = json_object_get(cfg, key);
    return json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < (1 << 24)
               ? (long)json_integer_value(v)
               : -1;
}

/* config.json when its model_type is `type` and its hidden_size is `dim` (a stray config is ignored). */
static json_t *matching_config(const vnp_weights *w, const char *type, int dim)
{
    const char *text = vnp_weights_config(w);
    if (!text) return NULL;
    json_t *cfg = json_loads(text, 0, NULL);
    json_t *mt = json_object_get(cfg, "model_type");
    if (!cfg || (json_is_string(mt) && strcmp(json_string_value(mt), type) != 0) ||
        config_int(cfg, "hidden_size") != dim) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

static int esm2_info(const vnp_weights *w, vnp_model_info *m)
{
    const vnp_tensor *emb = find2d(w, "embeddings.word_embeddings.weight"),
                     *fc1 = find2d(w, "layer.0.intermediate.dense.weight");
    m->kind = VNP_MODEL_ESM2;
    m->layers = count_layers(w, ".attention.");
    if (!emb) {
        vnp_error("%s: ESM-2 without a 2-D embeddings.word_embeddings.weight", vnp_weights_path(w));
        return VNP_ERR_FORMAT;
    }
    m->vocab = (int)emb->shape[0];
    m->dim = (int)emb->shape[1];
    m->ffn = fc1 ? (int)fc1->shape[0] : 4 * m->dim;
    json_t *cfg = matching_config(w, "esm", m->dim);
    long h = cfg ? config_int(cfg, "num_attention_heads") : -1;
    json_decref(cfg);
    if (h > 0) {
        m->heads = (int)h;
        m->heads_source = "config.json";
    }
    const char *fh = vnp_weights_meta(w, "cfg.model.encoder_attention_heads");
    if (!m->heads && fh && atoi(fh) > 0) {
        m->heads = atoi(fh);
        m->heads_source = "cfg";
    }
    for (size_t i = 0; i < sizeof esm2_sizes / sizeof esm2_sizes[0]; i++) {
        if (esm2_sizes[i].layers != m->layers || esm2_sizes[i].dim != m->dim) continue;
        m->name = esm2_sizes[i].name;
        if (!m->heads) {
            m->heads = esm2_sizes[i].heads;
            m->heads_source = "known sizes";
        }
    }
    const vnp_tensor *inv = vnp_weights_find(w, "layer.0.attention.self.rotary_embeddings.inv_freq");
    if (!m->heads && inv && inv->ndim == 1 && inv->shape[0] > 0 && m->dim % (2 * inv->shape[0]) == 0) {
        m->heads = (int)(m->dim / (2 * inv->shape[0]));
        m->heads_source = "inv_freq";
    }
    if (!m->heads || m->dim % m->heads != 0) {
        vnp_error("%s: cannot tell the ESM-2 head count (D=%d): no config.json num_attention_heads, no fair-esm cfg, "
                  "no rotary inv_freq, and not a released size",
                  vnp_weights_path(w), m->dim);
        return VNP_ERR_FORMAT;
    }
    return VNP_OK;
}

static int dnabert_info(const vnp_weights *w, vnp_model_info *m)
{
    const vnp_tensor *emb = find2d(w, "embeddings.word_embeddings.weight"),
                     *gated = find2d(w, "layer.0.mlp.gated_layers.weight");
    m->kind = VNP_MODEL_DNABERT_S;
    m->layers = count_layers(w, ".attention.");
    if (!emb) {
        vnp_error("%s: DNABERT-S without a 2-D embeddings.word_embeddings.weight", vnp_weights_path(w));
        return VNP_ERR_FORMAT;
    }
    m->vocab = (int)emb->shape[0];
    m->dim = (int)emb->shape[1];
    json_t *cfg = matching_config(w, "bert", m->dim);
    long h = cfg ? config_int(cfg, "num_attention_heads") : -1, ff = cfg ? config_int(cfg, "intermediate_size") : -1;
    json_decref(cfg);
    m->ffn = gated ? (int)(gated->shape[0] / 2) : ff > 0 ? (int)ff : 4 * m->dim;
    if (h > 0) {
        m->heads = (int)h;
        m->heads_source = "config.json";
    } else if (m->dim % 64 == 0) {
        m->heads = m->dim / 64;
        m->heads_source = "head_dim 64";
    }
    if (m->dim == 768 && m->layers == 12 && m->vocab == 4096) m->name = "DNABERT-S";
    if (!m->heads || m->dim % m->heads != 0) {
        vnp_error("%s: cannot tell the DNABERT-S head count (D=%d) without config.json", vnp_weights_path(w), m->dim);
        return VNP_ERR_FORMAT;
    }
    return VNP_OK;
}

int vnp_weights_model_info(const vnp_weights *w, vnp_model_info *m)
{
    memset(m, 0, sizeof *m);
    if (vnp_weights_find(w, "layer.0.attention.self.query.weight") || count_layers(w, ".attention.self.query.")) {
        return esm2_info(w, m);
    }
    if (vnp_weights_find(w, "layer.0.attention.self.Wqkv.weight") || count_layers(w, ".attention.self.Wqkv.")) {
        return dnabert_info(w, m);
    }
    const vnp_tensor *h = find2d(w, "hidden_layer.weight"), *o = find2d(w, "output_layer.weight");
    if (h && o) {
        m->kind = VNP_MODEL_MLP;
        m->in_features = (int)h->shape[1];
        m->dim = (int)h->shape[0];
        m->classes = (int)o->shape[0];
        if (m->in_features == 3328 && m->dim == 512 && m->classes == 2) m->name = "VirNucPro-MLPClassifier";
        return VNP_OK;
    }
    return VNP_ERR_NOTFOUND;
}

typedef struct {
    vnp_tensor_spec *s;
    size_t n, cap;
    int failed;
} spec_list;

static void add(spec_list *l, int optional, int64_t d0, int64_t d1, const char *fmt, ...) VNP_PRINTF(5, 6);

static void add(spec_list *l, int optional, int64_t d0, int64_t d1, const char *fmt, ...)
{
    if (l->failed) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        vnp_tensor_spec *ns = vnp_realloc_array(l->s, cap, sizeof *ns);
        if (!ns) {
            l->failed = 1;
            return;
        }
        l->s = ns;
        l->cap = cap;
    }
    vnp_tensor_spec *s = &l->s[l->n++];
    memset(s, 0, sizeof *s);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->ndim = d1 > 0 ? 2 : 1;
    s->shape[0] = d0;
    s->shape[1] = d1 > 0 ? d1 : 0;
    s->optional = optional;
}

static void esm2_required(spec_list *l, const vnp_model_info *m)
{
    int64_t D = m->dim, F = m->ffn, V = m->vocab;
    add(l, 0, V, D, "embeddings.word_embeddings.weight");
    for (int i = 0; i < m->layers; i++) {
        static const char *qkv[] = {"query", "key", "value"};
        for (int k = 0; k < 3; k++) {
            add(l, 0, D, D, "layer.%d.attention.self.%s.weight", i, qkv[k]);
            add(l, 0, D, 0, "layer.%d.attention.self.%s.bias", i, qkv[k]);
        }
        add(l, 1, D / m->heads / 2, 0, "layer.%d.attention.self.rotary_embeddings.inv_freq", i);
        add(l, 0, D, D, "layer.%d.attention.output.dense.weight", i);
        add(l, 0, D, 0, "layer.%d.attention.output.dense.bias", i);
        add(l, 0, D, 0, "layer.%d.attention.LayerNorm.weight", i);
        add(l, 0, D, 0, "layer.%d.attention.LayerNorm.bias", i);
        add(l, 0, F, D, "layer.%d.intermediate.dense.weight", i);
        add(l, 0, F, 0, "layer.%d.intermediate.dense.bias", i);
        add(l, 0, D, F, "layer.%d.output.dense.weight", i);
        add(l, 0, D, 0, "layer.%d.output.dense.bias", i);
        add(l, 0, D, 0, "layer.%d.LayerNorm.weight", i);
        add(l, 0, D, 0, "layer.%d.LayerNorm.bias", i);
    }
    add(l, 0, D, 0, "emb_layer_norm_after.weight");
    add(l, 0, D, 0, "emb_layer_norm_after.bias");
}

static void dnabert_required(spec_list *l, const vnp_model_info *m)
{
    int64_t D = m->dim, F = m->ffn, V = m->vocab;
    add(l, 0, V, D, "embeddings.word_embeddings.weight");
    add(l, 0, 2, D, "embeddings.token_type_embeddings.weight");
    add(l, 0, D, 0, "embeddings.LayerNorm.weight");
    add(l, 0, D, 0, "embeddings.LayerNorm.bias");
    for (int i = 0; i < m->layers; i++) {
        add(l, 0, 3 * D, D, "layer.%d.attention.self.Wqkv.weight", i);
        add(l, 0, 3 * D, 0, "layer.%d.attention.self.Wqkv.bias", i);
        add(l, 0, D, D, "layer.%d.attention.output.dense.weight", i);
        add(l, 0, D, 0, "layer.%d.attention.output.dense.bias", i);
        add(l, 0, D, 0, "layer.%d.attention.output.LayerNorm.weight", i);
        add(l, 0, D, 0, "layer.%d.attention.output.LayerNorm.bias", i);
        add(l, 0, 2 * F, D, "layer.%d.mlp.gated_layers.weight", i);
        add(l, 0, D, F, "layer.%d.mlp.wo.weight", i);
        add(l, 0, D, 0, "layer.%d.mlp.wo.bias", i);
        add(l, 0, D, 0, "layer.%d.mlp.layernorm.weight", i);
        add(l, 0, D, 0, "layer.%d.mlp.layernorm.bias", i);
    }
}

static void mlp_required(spec_list *l, const vnp_model_info *m)
{
    int64_t H = m->dim;
    add(l, 0, H, m->in_features, "hidden_layer.weight");
    add(l, 0, H, 0, "hidden_layer.bias");
    static const char *bn[] = {"weight", "bias", "running_mean", "running_var"};
    for (int k = 0; k < 4; k++) add(l, 0, H, 0, "bn1.%s", bn[k]);
    add(l, 0, m->classes, H, "output_layer.weight");
    add(l, 0, m->classes, 0, "output_layer.bias");
}

vnp_tensor_spec *vnp_model_required(const vnp_model_info *m, size_t *n)
{
    spec_list l = {0};
    *n = 0;
    if (m->kind == VNP_MODEL_ESM2 && m->heads > 0)
        esm2_required(&l, m);
    else if (m->kind == VNP_MODEL_DNABERT_S)
        dnabert_required(&l, m);
    else if (m->kind == VNP_MODEL_MLP)
        mlp_required(&l, m);
    else {
        vnp_error("no tensor list for model kind '%s'", vnp_model_kind_name(m->kind));
        return NULL;
    }
    if (l.failed) {
        free(l.s);
        return NULL;
    }
    *n = l.n;
    return l.s;
}

int vnp_weights_check(const vnp_weights *w, const vnp_model_info *m, vnp_check_fn report, void *ctx)
{
    size_t n;
    vnp_tensor_spec *req = vnp_model_required(m, &n);
    if (!req) return VNP_ERR_NOMEM;
    int problems = 0;
    for (size_t i = 0; i < n; i++) {
        const vnp_tensor *t = vnp_weights_find(w, req[i].name);
        if (!t && req[i].optional) continue;
        int ok = t && vnp_dtype_is_float(t->dtype) && t->ndim == req[i].ndim;
        for (int d = 0; ok && d < req[i].ndim; d++) ok = t->shape[d] == req[i].shape[d];
        if (!ok) {
            problems++;
            if (report) report(ctx, &req[i], t);
        }
    }
    free(req);
    return problems;
}
