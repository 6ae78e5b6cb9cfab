/* Reading a model through its description (model_internal.h): which description a tensor table matches, its sizes
 * (tensors first), config.json checked against them (JSON type, range, agreement), the tensor list made concrete,
 * the check of a table against it, and binding arena slots by each tensor's declared slot. One reader for
 * `models check`, `validate`, `models inspect` and the loaders, so that all of them reach one verdict. */
#include "model_internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Layer numbers at or above this are not looked for: the largest ESM-2 has 48. */
#define MAX_LAYERS 1024
/* Any size read from a tensor is at most this (a bound that keeps every product below 2^63). */
#define MAX_DIM (1 << 24)

static const char *const size_key[VNP_SZ_COUNT] = {
    [VNP_SZ_L] = "layers", [VNP_SZ_D] = "hidden size", [VNP_SZ_H] = "heads", [VNP_SZ_F] = "FFN width",
    [VNP_SZ_V] = "vocabulary", [VNP_SZ_TYPES] = "token types", [VNP_SZ_IN] = "input width",
    [VNP_SZ_CLASSES] = "classes"};

/* Highest N + 1 such that fmt % N names a tensor of the table; 0 when none. Layers missing in the middle are
 * counted (so that `models check` lists their tensors) up to a gap of MAX_GAP: the search stops there rather than
 * probe every number up to MAX_LAYERS. */
#define MAX_GAP 64
static int highest_layer(vnp_tensor_lookup find, const void *ctx, const char *fmt)
{
    char name[160];
    int top = 0;
    for (int n = 0; n < MAX_LAYERS && n < top + MAX_GAP; n++) {
        snprintf(name, sizeof name, fmt, n);
        if (find(ctx, name)) top = n + 1;
    }
    return top;
}

static int present(vnp_tensor_lookup find, const void *ctx, const char *name)
{
    return strstr(name, "%d") ? highest_layer(find, ctx, name) > 0 : find(ctx, name) != NULL;
}

static const vnp_model_desc *detect_desc(vnp_tensor_lookup find, const void *ctx)
{
    const vnp_model_desc *d;
    for (size_t i = 0; (d = vnp_model_desc_at(i)); i++) {
        int all = d->detect[0] != NULL;
        for (int k = 0; k < 2 && d->detect[k] && all; k++) all = present(find, ctx, d->detect[k]);
        if (all) return d;
    }
    return NULL;
}

vnp_model_kind vnp_model_detect(vnp_tensor_lookup find, const void *ctx)
{
    const vnp_model_desc *d = detect_desc(find, ctx);
    return d ? d->kind : VNP_MODEL_UNKNOWN;
}

/* ---- config.json ---- */

typedef struct {
    const char *where;
    int bad, unsupported;
} verdict;

static void problem(verdict *v, int unsupported, const char *fmt, ...) VNP_PRINTF(3, 4);

static void problem(verdict *v, int unsupported, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vnp_error("%s: %s", v->where, msg);
    v->bad++;
    v->unsupported += unsupported;
}

/* A JSON value as text for messages (strings quoted), cut to fit. */
static void json_text(json_t *j, char *buf, size_t n)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY);
    snprintf(buf, n, "%s", s ? s : "?");
    if (s && strlen(s) >= n && n > 4) memcpy(buf + n - 4, "...", 4);
    free(s);
}

static const char *type_name(vnp_key_type t)
{
    static const char *const names[] = {"an integer", "a number", "true or false", "a string"};
    return names[t];
}

static int type_ok(json_t *j, vnp_key_type t)
{
    switch (t) {
    case VNP_KEY_INT: return json_is_integer(j);
    case VNP_KEY_NUMBER: return json_is_number(j);
    case VNP_KEY_BOOL: return json_is_boolean(j);
    default: return json_is_string(j);
    }
}

/* " (the tensors say N)" when they do, for messages. */
static void tensors_say(char *buf, size_t n, const int64_t *sz, const char *from_tensors, vnp_size s)
{
    buf[0] = 0;
    if (s && from_tensors[s]) snprintf(buf, n, "; the tensors say %lld", (long long)sz[s]);
}

typedef struct {
    double ln_eps;
    int token_dropout, mask_id, mask_from_config;
} settings;

/* Checks and applies one key of config.json. */
static void read_key(verdict *v, const vnp_config_key *k, json_t *j, int64_t *sz, const char *from_tensors,
                     char *from_config, settings *st)
{
    char val[96], say[96];
    json_text(j, val, sizeof val);
    tensors_say(say, sizeof say, sz, from_tensors, k->size);
    if (!type_ok(j, k->type)) {
        problem(v, 0, "config.json: %s is %s, expected %s%s", k->key, val, type_name(k->type), say);
        return;
    }
    if (k->type == VNP_KEY_STRING || k->type == VNP_KEY_BOOL) {
        const char *got = k->type == VNP_KEY_STRING ? json_string_value(j) : json_is_true(j) ? "true" : "false";
        if (k->must_be && strcmp(got, k->must_be) != 0)
            problem(v, 1, "config.json: %s is %s; only %s is supported", k->key, val, k->must_be);
        else if (k->setting == VNP_SET_TOKEN_DROPOUT)
            st->token_dropout = json_is_true(j);
        return;
    }
    double x = json_number_value(j);
    if (!(x >= k->min && x <= k->max)) {
        if (k->type == VNP_KEY_INT)
            problem(v, 0, "config.json: %s = %s is outside [%lld, %lld]%s", k->key, val, (long long)k->min,
                    (long long)k->max, say);
        else
            problem(v, 0, "config.json: %s = %s is outside [%g, %g]%s", k->key, val, k->min, k->max, say);
        return;
    }
    if (k->size) {
        int64_t n = (int64_t)json_integer_value(j);
        if (from_tensors[k->size] && n != sz[k->size]) {
            problem(v, 0, "config.json: %s = %lld, but the tensors say %lld", k->key, (long long)n,
                    (long long)sz[k->size]);
        } else {
            sz[k->size] = n;
            from_config[k->size] = 1;
        }
    } else if (k->setting == VNP_SET_LN_EPS) {
        st->ln_eps = x;
    } else if (k->setting == VNP_SET_MASK_ID) {
        st->mask_id = (int)json_integer_value(j);
        st->mask_from_config = 1;
    }
}

static void read_config(verdict *v, const vnp_model_desc *d, const char *text, int64_t *sz,
                        const char *from_tensors, char *from_config, settings *st)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!root || !json_is_object(root)) {
        if (root)
            problem(v, 0, "config.json: not a JSON object");
        else
            problem(v, 0, "config.json line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        json_decref(root);
        return;
    }
    json_t *mt = json_object_get(root, "model_type");
    char val[96];
    if (mt && !json_is_null(mt)) {
        json_text(mt, val, sizeof val);
        if (!json_is_string(mt))
            problem(v, 0, "config.json: model_type is %s, expected a string", val);
        else if (strcmp(json_string_value(mt), d->model_type) != 0)
            problem(v, 0, "config.json: model_type is %s, but the tensors are %s (model_type \"%s\")", val, d->title,
                    d->model_type);
    }
    for (size_t i = 0; i < d->n_keys; i++) {
        json_t *j = json_object_get(root, d->keys[i].key);
        if (j && !json_is_null(j)) read_key(v, &d->keys[i], j, sz, from_tensors, from_config, st);
    }
    json_decref(root);
}

/* ---- sizes ---- */

static const vnp_model_variant *find_variant(const vnp_model_desc *d, const int64_t *sz)
{
    for (size_t i = 0; i < d->n_variants; i++) {
        const vnp_model_variant *r = &d->variants[i];
        int match = 1;
        for (int s = VNP_SZ_L; s < VNP_SZ_3D && match; s++)
            if (s != VNP_SZ_H && r->sz[s]) match = r->sz[s] == sz[s];
        if (match) return r;
    }
    return NULL;
}

/* Heads when config.json does not give them: the fair-esm cfg, the rotary inv_freq, then the guesses. */
static const char *find_heads(verdict *v, const vnp_model_desc *d, vnp_tensor_lookup find, const void *ctx,
                              int heads_hint, int64_t *sz)
{
    int64_t D = sz[VNP_SZ_D];
    if (heads_hint > 0) {
        sz[VNP_SZ_H] = heads_hint;
        return "cfg";
    }
    const vnp_tensor *inv = NULL;
    if (d->rotary_tensor) {
        char name[160];
        snprintf(name, sizeof name, d->rotary_tensor, 0);
        inv = find(ctx, name);
    }
    if (inv && inv->ndim == 1 && inv->shape[0] > 0 && D % (2 * inv->shape[0]) == 0) {
        sz[VNP_SZ_H] = D / (2 * inv->shape[0]);
        return "inv_freq";
    }
    const vnp_model_variant *r = find_variant(d, sz);
    if (r && r->sz[VNP_SZ_H]) {
        sz[VNP_SZ_H] = r->sz[VNP_SZ_H];
        vnp_warn("%s: no num_attention_heads in a config.json: taking %lld heads, those of %s (%lld layers, hidden "
                 "size %lld)", v->where, (long long)sz[VNP_SZ_H], r->name, (long long)sz[VNP_SZ_L], (long long)D);
        return "known sizes";
    }
    if (d->default_head_dim && D % d->default_head_dim == 0) {
        sz[VNP_SZ_H] = D / d->default_head_dim;
        vnp_warn("%s: no num_attention_heads in a config.json: taking %lld heads of dimension %d (hidden size %lld)",
                 v->where, (long long)sz[VNP_SZ_H], d->default_head_dim, (long long)D);
        return "head_dim 64";
    }
    return NULL;
}

/* Encoders: heads that divide D, agree with the rotary tensors and fit the kernels. */
static void check_heads(verdict *v, const vnp_model_desc *d, vnp_tensor_lookup find, const void *ctx,
                        const int64_t *sz, const char *source)
{
    int64_t D = sz[VNP_SZ_D], H = sz[VNP_SZ_H];
    const char *from = strcmp(source, "config.json") == 0 ? "config.json: num_attention_heads" : "heads";
    if (H < 1 || H > D || D % H) {
        problem(v, 0, "%s = %lld does not divide the hidden size %lld (what the tensors say)", from, (long long)H,
                (long long)D);
        return;
    }
    int64_t hd = D / H;
    if (d->rotary_tensor) {
        char name[160];
        snprintf(name, sizeof name, d->rotary_tensor, 0);
        const vnp_tensor *inv = find(ctx, name);
        if (inv && inv->ndim == 1 && inv->shape[0] * 2 != hd)
            problem(v, 0, "%s = %lld gives head dimension %lld, but the tensors say %lld ('%s' has %lld elements)",
                    from, (long long)H, (long long)hd, (long long)(2 * inv->shape[0]), name,
                    (long long)inv->shape[0]);
    }
    if (hd > 256 || ((d->features & VNP_F_ROTARY) && hd % 2))
        problem(v, 1, "unsupported head dimension %lld (hidden size %lld / %lld heads)", (long long)hd,
                (long long)D, (long long)H);
}

static void fill_info(vnp_model_info *m, const vnp_model_desc *d, const int64_t *sz, const settings *st)
{
    m->kind = d->kind;
    m->desc = d;
    m->title = d->title;
    m->role = d->role;
    m->tokenizer = d->tokenizer;
    m->layers = (int)sz[VNP_SZ_L];
    m->dim = (int)sz[VNP_SZ_D];
    m->heads = (int)sz[VNP_SZ_H];
    m->ffn = (int)sz[VNP_SZ_F];
    m->vocab = (int)sz[VNP_SZ_V];
    m->types = (int)sz[VNP_SZ_TYPES];
    m->in_features = (int)sz[VNP_SZ_IN];
    m->classes = (int)sz[VNP_SZ_CLASSES];
    m->ln_eps = (float)st->ln_eps;
    m->token_dropout = st->token_dropout;
    m->mask_id = st->mask_id;
    const vnp_model_variant *r = find_variant(d, sz);
    m->name = r ? r->name : NULL;
}

int vnp_model_read(vnp_tensor_lookup find, const void *ctx, const char *config_json, int heads_hint,
                   const char *where, vnp_model_info *out)
{
    memset(out, 0, sizeof *out);
    const vnp_model_desc *d = detect_desc(find, ctx);
    if (!d) return VNP_ERR_NOTFOUND;
    verdict v = {where, 0, 0};
    int64_t sz[VNP_SZ_COUNT] = {0};
    char from_tensors[VNP_SZ_COUNT] = {0}, from_config[VNP_SZ_COUNT] = {0};
    sz[VNP_SZ_1] = 1;
    if (d->layer_probe) {
        sz[VNP_SZ_L] = highest_layer(find, ctx, d->layer_probe);
        from_tensors[VNP_SZ_L] = 1;
    }
    for (size_t i = 0; i < d->n_sources; i++) {
        const vnp_size_source *s = &d->sources[i];
        const vnp_tensor *t = find(ctx, s->tensor);
        if (!t || t->ndim <= s->axis || t->ndim > 2 || t->shape[s->axis] < 1 || t->shape[s->axis] > MAX_DIM) continue;
        int64_t n = t->shape[s->axis], div = s->div ? s->div : 1;
        if (n % div) {
            problem(&v, 0, "tensor '%s' has %lld rows, expected a multiple of %lld", s->tensor, (long long)n,
                    (long long)div);
            continue;
        }
        sz[s->size] = n / div;
        from_tensors[s->size] = 1;
    }
    settings st = {d->ln_eps, d->mask_id >= 0, d->mask_id, 0};
    if (config_json && d->model_type) read_config(&v, d, config_json, sz, from_tensors, from_config, &st);
    /* every size the tensors are written in must be known */
    for (size_t i = 0; i < d->n_sources; i++) {
        const vnp_size_source *s = &d->sources[i];
        int said = 0; /* one message per missing tensor */
        for (size_t k = 0; k < i; k++) said |= !sz[d->sources[k].size] && strcmp(d->sources[k].tensor, s->tensor) == 0;
        if (!sz[s->size] && !said)
            problem(&v, 0, "cannot tell the %s: tensor '%s' is missing or not of the expected rank%s", size_key[s->size],
                    s->tensor, d->model_type ? ", and config.json does not say" : "");
    }
    if (!v.bad && d->forward) {
        const char *source = from_config[VNP_SZ_H] ? "config.json" : find_heads(&v, d, find, ctx, heads_hint, sz);
        if (!source)
            problem(&v, 0, "cannot tell the number of attention heads: config.json has no num_attention_heads and "
                           "the tensors do not tell (hidden size %lld)", (long long)sz[VNP_SZ_D]);
        else
            check_heads(&v, d, find, ctx, sz, source);
        out->heads_source = source;
        if (st.mask_from_config && st.mask_id >= sz[VNP_SZ_V])
            problem(&v, 0, "config.json: mask_token_id = %d is outside the vocabulary; the tensors say %lld rows",
                    st.mask_id, (long long)sz[VNP_SZ_V]);
        if (!st.mask_from_config && st.mask_id >= sz[VNP_SZ_V]) st.mask_id = -1; /* a small test vocabulary */
        if (st.mask_id < 0) st.token_dropout = 0;
    }
    const char *hs = out->heads_source;
    fill_info(out, d, sz, &st);
    out->heads_source = hs;
    if (v.bad) return v.unsupported == v.bad ? VNP_ERR_UNSUPPORTED : VNP_ERR_FORMAT;
    return VNP_OK;
}

const vnp_tensor *vnp_weights_lookup(const void *w, const char *name) { return vnp_weights_find(w, name); }

int vnp_weights_heads_hint(const vnp_weights *w)
{
    const char *fh = vnp_weights_meta(w, "cfg.model.encoder_attention_heads");
    return fh && atoi(fh) > 0 && atoi(fh) <= 4096 ? atoi(fh) : 0;
}

int vnp_weights_model_info(const vnp_weights *w, vnp_model_info *out)
{
    return vnp_model_read(vnp_weights_lookup, w, vnp_weights_config(w), vnp_weights_heads_hint(w),
                          vnp_weights_path(w), out);
}

/* ---- tensor lists ---- */

static void sizes_of_info(const vnp_model_info *m, int64_t *sz)
{
    memset(sz, 0, VNP_SZ_COUNT * sizeof *sz);
    sz[VNP_SZ_1] = 1;
    sz[VNP_SZ_L] = m->layers;
    sz[VNP_SZ_D] = m->dim;
    sz[VNP_SZ_H] = m->heads;
    sz[VNP_SZ_F] = m->ffn;
    sz[VNP_SZ_V] = m->vocab;
    sz[VNP_SZ_TYPES] = m->types;
    sz[VNP_SZ_IN] = m->in_features;
    sz[VNP_SZ_CLASSES] = m->classes;
}

void vnp_encoder_sizes(const vnp_encoder_config *c, int64_t *sz)
{
    memset(sz, 0, VNP_SZ_COUNT * sizeof *sz);
    sz[VNP_SZ_1] = 1;
    sz[VNP_SZ_L] = c->layers;
    sz[VNP_SZ_D] = c->dim;
    sz[VNP_SZ_H] = c->heads;
    sz[VNP_SZ_F] = c->ffn;
    sz[VNP_SZ_V] = c->vocab;
    sz[VNP_SZ_TYPES] = c->types > 0 ? c->types : 1;
}

static int add_entry(vnp_wlist *l, const vnp_tensor_desc *t, const int64_t *sz, int layer, int arena_only)
{
    if (arena_only && t->slot == VNP_SLOT_NONE) return VNP_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        vnp_wspec *v = vnp_realloc_array(l->v, cap, sizeof *v);
        if (!v) return VNP_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    vnp_wspec *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, t->name, layer);
    s->ndim = t->shape[1] ? 2 : 1;
    for (int k = 0; k < s->ndim; k++) s->shape[k] = sz[t->shape[k]];
    s->slot = t->slot;
    s->layer = layer;
    s->flags = t->flags;
    s->offset = l->total;
    if (t->slot != VNP_SLOT_NONE) {
        /* no padding: fused tensors (ESM-2 query|key|value) must be contiguous */
        s->elems = (size_t)((t->flags & VNP_T_FIRST_ROW) ? 1 : s->shape[0]) * (size_t)(s->ndim == 2 ? s->shape[1] : 1);
        l->total += s->elems;
    }
    return VNP_OK;
}

int vnp_wlist_build(const vnp_model_desc *d, const int64_t *sz_in, int arena_only, vnp_wlist *l)
{
    int64_t sz[VNP_SZ_COUNT];
    memcpy(sz, sz_in, sizeof sz);
    sz[VNP_SZ_1] = 1;
    sz[VNP_SZ_3D] = 3 * sz[VNP_SZ_D];
    sz[VNP_SZ_2F] = 2 * sz[VNP_SZ_F];
    sz[VNP_SZ_HALF_HD] = sz[VNP_SZ_H] > 0 ? sz[VNP_SZ_D] / sz[VNP_SZ_H] / 2 : 0;
    /* globals before the per-layer block, the block once per layer, then the globals after it */
    size_t first = d->n_tensors, last = 0;
    for (size_t i = 0; i < d->n_tensors; i++)
        if (strstr(d->tensors[i].name, "%d")) {
            if (first == d->n_tensors) first = i;
            last = i;
        }
    int rc = VNP_OK;
    for (size_t i = 0; i < first && !rc; i++) rc = add_entry(l, &d->tensors[i], sz, -1, arena_only);
    for (int64_t y = 0; first < d->n_tensors && y < sz[VNP_SZ_L] && !rc; y++)
        for (size_t i = first; i <= last && !rc; i++) rc = add_entry(l, &d->tensors[i], sz, (int)y, arena_only);
    for (size_t i = first < d->n_tensors ? last + 1 : d->n_tensors; i < d->n_tensors && !rc; i++)
        rc = add_entry(l, &d->tensors[i], sz, -1, arena_only);
    return rc;
}

void vnp_wlist_free(vnp_wlist *l)
{
    if (!l) return;
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void to_spec(const vnp_wspec *s, vnp_tensor_spec *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%.95s", s->name);
    out->ndim = s->ndim;
    out->shape[0] = s->shape[0];
    out->shape[1] = s->ndim == 2 ? s->shape[1] : 0;
    out->optional = (s->flags & VNP_T_OPTIONAL) != 0;
}

static int list_of_info(const vnp_model_info *m, vnp_wlist *l)
{
    const vnp_model_desc *d = m->desc ? m->desc : vnp_model_desc_of_kind(m->kind);
    if (!d) {
        vnp_error("no tensor list for model kind '%s'", vnp_model_kind_name(m->kind));
        return VNP_ERR_USAGE;
    }
    if (d->forward && m->heads < 1) {
        vnp_error("no tensor list for %s without a head count", d->title);
        return VNP_ERR_USAGE;
    }
    int64_t sz[VNP_SZ_COUNT];
    sizes_of_info(m, sz);
    return vnp_wlist_build(d, sz, 0, l);
}

vnp_tensor_spec *vnp_model_required(const vnp_model_info *m, size_t *n)
{
    vnp_wlist l = {0};
    *n = 0;
    if (list_of_info(m, &l)) {
        vnp_wlist_free(&l);
        return NULL;
    }
    vnp_tensor_spec *out = vnp_calloc_array(l.n ? l.n : 1, sizeof *out);
    for (size_t i = 0; out && i < l.n; i++) to_spec(&l.v[i], &out[i]);
    if (out) *n = l.n;
    vnp_wlist_free(&l);
    return out;
}

/* Each entry of l against the table: report(ctx, want, got) per problem; returns their number. */
static int check_list(const vnp_wlist *l, vnp_tensor_lookup find, const void *ctx, vnp_check_fn report, void *rctx)
{
    int problems = 0;
    for (size_t i = 0; i < l->n; i++) {
        const vnp_wspec *s = &l->v[i];
        const vnp_tensor *t = find(ctx, s->name);
        if (!t && (s->flags & VNP_T_OPTIONAL)) continue;
        int ok = t && vnp_dtype_is_float(t->dtype) && t->ndim == s->ndim;
        for (int d = 0; ok && d < s->ndim; d++) ok = t->shape[d] == s->shape[d];
        if (!ok) {
            problems++;
            vnp_tensor_spec want;
            to_spec(s, &want);
            if (report) report(rctx, &want, t);
        }
    }
    return problems;
}

int vnp_model_check_tensors(vnp_tensor_lookup find, const void *ctx, const vnp_model_info *m, vnp_check_fn report,
                            void *rctx)
{
    vnp_wlist l = {0};
    int rc = list_of_info(m, &l);
    if (!rc) rc = check_list(&l, find, ctx, report, rctx);
    vnp_wlist_free(&l);
    return rc;
}

int vnp_weights_check(const vnp_weights *w, const vnp_model_info *m, vnp_check_fn report, void *ctx)
{
    return vnp_model_check_tensors(vnp_weights_lookup, w, m, report, ctx);
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t at = 0;
    at += (size_t)snprintf(buf + at, n - at, "[");
    for (int i = 0; i < ndim && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (at < n) snprintf(buf + at, n - at, "]");
}

void vnp_log_tensor_problem(void *ctx, const vnp_tensor_spec *want, const vnp_tensor *got)
{
    const char *where = ctx;
    char w[64], g[64];
    shape_str(w, sizeof w, want->ndim, want->shape);
    if (!got) {
        vnp_error("%s: missing tensor '%s' (expected shape %s)", where, want->name, w);
        return;
    }
    shape_str(g, sizeof g, got->ndim, got->shape);
    if (!vnp_dtype_is_float(got->dtype))
        vnp_error("%s: tensor '%s' has dtype %s, expected a floating-point type", where, want->name,
                  vnp_dtype_name(got->dtype));
    else
        vnp_error("%s: tensor '%s' has shape %s, expected %s", where, want->name, g, w);
}

int vnp_wlist_check(const vnp_wlist *l, vnp_tensor_lookup find, const void *ctx, const char *where)
{
    return check_list(l, find, ctx, vnp_log_tensor_problem, (void *)where) ? VNP_ERR_FORMAT : VNP_OK;
}

/* ---- binding ---- */

void vnp_encoder_bind(vnp_encoder *e, const vnp_wlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const vnp_wspec *s = &l->v[i];
        if (s->slot == VNP_SLOT_NONE || s->slot == VNP_SLOT_FOLLOWS) continue;
        float *p = VNP_ARENA(e, s->offset);
        vnp_layer *y = s->layer >= 0 && s->layer < e->cfg.layers ? &e->layer[s->layer] : NULL;
        float **dst = NULL;
        switch (s->slot) {
        case VNP_SLOT_TOK_EMB: dst = &e->tok_emb; break;
        case VNP_SLOT_TYPE_ROW: dst = &e->type_row; break;
        case VNP_SLOT_EMB_LN_W: dst = &e->emb_ln_w; break;
        case VNP_SLOT_EMB_LN_B: dst = &e->emb_ln_b; break;
        case VNP_SLOT_FINAL_LN_W: dst = &e->final_ln_w; break;
        case VNP_SLOT_FINAL_LN_B: dst = &e->final_ln_b; break;
        case VNP_SLOT_LN1_W: dst = y ? &y->ln1_w : NULL; break;
        case VNP_SLOT_LN1_B: dst = y ? &y->ln1_b : NULL; break;
        case VNP_SLOT_QKV_W: dst = y ? &y->qkv_w : NULL; break;
        case VNP_SLOT_QKV_B: dst = y ? &y->qkv_b : NULL; break;
        case VNP_SLOT_O_W: dst = y ? &y->o_w : NULL; break;
        case VNP_SLOT_O_B: dst = y ? &y->o_b : NULL; break;
        case VNP_SLOT_LN2_W: dst = y ? &y->ln2_w : NULL; break;
        case VNP_SLOT_LN2_B: dst = y ? &y->ln2_b : NULL; break;
        case VNP_SLOT_FC1_W: dst = y ? &y->fc1_w : NULL; break;
        case VNP_SLOT_FC1_B: dst = y ? &y->fc1_b : NULL; break;
        case VNP_SLOT_FC2_W: dst = y ? &y->fc2_w : NULL; break;
        case VNP_SLOT_FC2_B: dst = y ? &y->fc2_b : NULL; break;
        default: break;
        }
        if (dst) *dst = p;
    }
}
