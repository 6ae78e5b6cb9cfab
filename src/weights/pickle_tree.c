/* Naming the tensors of a pickle's object graph: state dicts, fair-esm {'model', 'cfg'} dicts and whole pickled
 * nn.Modules flattened to dotted names, each tensor bound to its storage bytes with every bound checked. */
#include "pickle.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_META 512

typedef struct {
    const vnp_pickle *pk;
    vnp_weights *w;
    vnp_storage_fn fn;
    void *ctx;
    const char *what;
    char name[VNP_PK_MAX_NAME + 1];
    size_t budget; /* node visits left: a DAG of shared containers cannot make the walk explode */
    size_t nmeta;
} walker;

static const pk_obj *obj(const walker *k, int32_t i) { return &k->pk->o[i]; }

/* The value of key `key` in a PK_DICT, -1 when absent. */
static int32_t dict_get(const vnp_pickle *pk, int32_t dict, const char *key)
{
    const pk_obj *d = &pk->o[dict];
    if (d->type != PK_DICT) return -1;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i + 1 < d->u.c.n; i += 2) {
        const pk_obj *kk = &pk->o[d->u.c.items[i]];
        if (kk->type == PK_STR && kk->u.s.len == kl && memcmp(kk->u.s.p, key, kl) == 0) return d->u.c.items[i + 1];
    }
    return -1;
}

/* Appends ".<segment>" (no dot at the start) to k->name at len; *out is the new length. */
static int append_seg(walker *k, size_t len, const pk_obj *key, size_t *out)
{
    char num[32];
    const char *p;
    size_t n;
    if (key->type == PK_STR) {
        p = key->u.s.p;
        n = key->u.s.len;
        if (memchr(p, '\0', n)) {
            vnp_error("%s: byte %zu: a key holds a NUL byte", k->what, key->pos);
            return VNP_ERR_FORMAT;
        }
    } else if (key->type == PK_INT) {
        n = (size_t)snprintf(num, sizeof num, "%" PRId64, key->u.i);
        p = num;
    } else {
        return VNP_ERR_NOTFOUND; /* keys that are not names: skipped */
    }
    size_t need = len + (len ? 1 : 0) + n;
    if (need > VNP_PK_MAX_NAME) {
        vnp_error("%s: byte %zu: a tensor name grows longer than %d bytes", k->what, key->pos, VNP_PK_MAX_NAME);
        return VNP_ERR_FORMAT;
    }
    if (len) k->name[len++] = '.';
    memcpy(k->name + len, p, n);
    k->name[need] = '\0';
    *out = need;
    return VNP_OK;
}

/* Binds tensor object ti to its storage and adds it as k->name[0..len). */
static int emit(walker *k, size_t len, int32_t ti)
{
    const pk_obj *to = obj(k, ti);
    const pk_tensor *t = &k->pk->tensors[to->u.tensor];
    const pk_obj *s = obj(k, t->storage);
    const char *name = len ? k->name : "tensor";
    const uint8_t *bytes = NULL;
    uint64_t nbytes = 0;
    int rc = k->fn(k->ctx, s->u.st.key, s->u.st.key_len, &bytes, &nbytes);
    if (rc == VNP_ERR_NOTFOUND)
        vnp_error("%s: byte %zu: tensor '%s' uses storage '%.*s', which is not in the file", k->what, s->pos, name,
                  (int)s->u.st.key_len, s->u.st.key);
    if (rc) return rc;
    size_t ses = vnp_dtype_size(s->u.st.dtype), es = vnp_dtype_size(t->dtype);
    if ((uint64_t)s->u.st.numel > nbytes / ses) {
        vnp_error("%s: byte %zu: storage '%.*s' declares %" PRId64 " elements of %s, more than its %" PRIu64
                  " bytes hold",
                  k->what, s->pos, (int)s->u.st.key_len, s->u.st.key, s->u.st.numel, vnp_dtype_name(s->u.st.dtype),
                  nbytes);
        return VNP_ERR_FORMAT;
    }
    uint64_t sbytes = (uint64_t)s->u.st.numel * ses;
    vnp_tensor vt;
    memset(&vt, 0, sizeof vt);
    vt.dtype = t->dtype;
    vt.ndim = t->ndim;
    memcpy(vt.shape, t->shape, sizeof vt.shape);
    memcpy(vt.strides, t->strides, sizeof vt.strides);
    if (vnp_shape_numel(t->ndim, t->shape, es, &vt.numel) != VNP_OK) {
        vnp_error("%s: byte %zu: tensor '%s': the shape's element count overflows", k->what, to->pos, name);
        return VNP_ERR_FORMAT;
    }
    vt.data = bytes;
    if (vt.numel > 0) {
        /* The last element reached: offset + sum (shape-1)*stride, each step overflow-checked. */
        uint64_t last = (uint64_t)t->offset;
        int over = 0;
        for (int d = 0; d < t->ndim && !over; d++) {
            uint64_t span = (uint64_t)(t->shape[d] - 1);
            uint64_t st = (uint64_t)t->strides[d];
            if (st && span > (UINT64_MAX / 2) / st) over = 1;
            else if (last > UINT64_MAX / 2 - span * st) over = 1;
            else last += span * st;
        }
        if (over || last >= sbytes / es) {
            vnp_error("%s: byte %zu: tensor '%s' (offset %" PRId64 ", %d dims) reaches past the %" PRIu64
                      " bytes of storage '%.*s'",
                      k->what, to->pos, name, t->offset, t->ndim, sbytes, (int)s->u.st.key_len, s->u.st.key);
            return VNP_ERR_FORMAT;
        }
        vt.data = bytes + (size_t)t->offset * es;
    }
    vt.contiguous = vnp_strides_contiguous(vt.ndim, vt.shape, vt.strides);
    return vnp_wt_add(k->w, name, len ? len : strlen(name), &vt);
}

static int walk(walker *k, int32_t idx, size_t len, int depth);

/* Every value of a dict (or the items of a list/tuple) under name.<key>. */
static int walk_children(walker *k, int32_t idx, size_t len, int depth)
{
    const pk_obj *c = obj(k, idx);
    int is_dict = c->type == PK_DICT;
    for (uint32_t i = 0; i < c->u.c.n; i += is_dict ? 2 : 1) {
        pk_obj num = {.type = PK_INT, .pos = c->pos};
        num.u.i = i;
        const pk_obj *key = is_dict ? obj(k, c->u.c.items[i]) : &num;
        int32_t val = is_dict ? (i + 1 < c->u.c.n ? c->u.c.items[i + 1] : -1) : c->u.c.items[i];
        if (val < 0) break;
        size_t nl;
        int rc = append_seg(k, len, key, &nl);
        if (rc == VNP_ERR_NOTFOUND) continue;
        if (rc) return rc;
        if ((rc = walk(k, val, nl, depth + 1))) return rc;
        k->name[len] = '\0';
    }
    return VNP_OK;
}

static int walk(walker *k, int32_t idx, size_t len, int depth)
{
    if (k->budget == 0 || depth > VNP_PK_MAX_DEPTH) {
        vnp_error("%s: byte %zu: the object graph is nested deeper than %d levels or is too large (cyclic?)", k->what,
                  obj(k, idx)->pos, VNP_PK_MAX_DEPTH);
        return VNP_ERR_FORMAT;
    }
    k->budget--;
    const pk_obj *o = obj(k, idx);
    switch (o->type) {
    case PK_TENSOR: return emit(k, len, idx);
    case PK_DICT:
    case PK_LIST:
    case PK_TUPLE: return walk_children(k, idx, len, depth);
    case PK_OBJECT: {
        int32_t state = o->u.o.state, extra = o->u.o.extra;
        int rc = VNP_OK;
        if (state >= 0 && (dict_get(k->pk, state, "_parameters") >= 0 || dict_get(k->pk, state, "_modules") >= 0)) {
            /* An nn.Module: its parameters and buffers by name, then its sub-modules by name. */
            static const char *parts[] = {"_parameters", "_buffers", "_modules"};
            for (int p = 0; p < 3 && rc == VNP_OK; p++) {
                int32_t d = dict_get(k->pk, state, parts[p]);
                if (d >= 0) rc = walk(k, d, len, depth + 1);
            }
        } else if (state >= 0) {
            rc = walk(k, state, len, depth + 1);
        }
        if (rc == VNP_OK && extra >= 0) rc = walk(k, extra, len, depth + 1);
        return rc;
    }
    default: return VNP_OK;
    }
}

/* Scalar attributes of a Namespace / dict as metadata "<prefix>.<attr>". */
static int collect_scalars(walker *k, int32_t idx, const char *prefix)
{
    const pk_obj *o = obj(k, idx);
    if (o->type == PK_OBJECT) {
        if (o->u.o.state < 0) return VNP_OK;
        o = obj(k, o->u.o.state);
    }
    if (o->type != PK_DICT) return VNP_OK;
    for (uint32_t i = 0; i + 1 < o->u.c.n && k->nmeta < MAX_META; i += 2) {
        const pk_obj *key = obj(k, o->u.c.items[i]), *v = obj(k, o->u.c.items[i + 1]);
        if (key->type != PK_STR || key->u.s.len > 200 || memchr(key->u.s.p, '\0', key->u.s.len)) continue;
        char kbuf[256], vbuf[64];
        const char *val = vbuf;
        size_t vlen;
        if (v->type == PK_INT)
            vlen = (size_t)snprintf(vbuf, sizeof vbuf, "%" PRId64, v->u.i);
        else if (v->type == PK_BOOL)
            vlen = (size_t)snprintf(vbuf, sizeof vbuf, "%s", v->u.i ? "true" : "false");
        else if (v->type == PK_FLOAT)
            vlen = (size_t)snprintf(vbuf, sizeof vbuf, "%.17g", v->u.f);
        else if (v->type == PK_STR && !memchr(v->u.s.p, '\0', v->u.s.len))
            val = v->u.s.p, vlen = v->u.s.len;
        else
            continue;
        snprintf(kbuf, sizeof kbuf, "%s.%.*s", prefix, (int)key->u.s.len, key->u.s.p);
        int rc = vnp_wt_meta(k->w, kbuf, val, vlen);
        if (rc) return rc;
        k->nmeta++;
    }
    return VNP_OK;
}

int vnp_pickle_collect(const vnp_pickle *pk, vnp_weights *w, vnp_storage_fn fn, void *ctx, const char *what)
{
    if (pk->root < 0 || (size_t)pk->root >= pk->n) return VNP_ERR_INTERNAL;
    walker *k = calloc(1, sizeof *k);
    if (!k) return VNP_ERR_NOMEM;
    *k = (walker){.pk = pk, .w = w, .fn = fn, .ctx = ctx, .what = what, .budget = 4 * pk->n + 1024};
    int32_t start = pk->root;
    int rc = VNP_OK;
    if (pk->o[start].type == PK_DICT) {
        int32_t cfg = dict_get(pk, start, "cfg"), args = dict_get(pk, start, "args");
        int32_t cfg_model = cfg >= 0 ? dict_get(pk, cfg, "model") : -1;
        if (cfg_model >= 0) rc = collect_scalars(k, cfg_model, "cfg.model");
        if (rc == VNP_OK && args >= 0) rc = collect_scalars(k, args, "args");
        int32_t inner = dict_get(pk, start, "model");
        if (inner < 0) inner = dict_get(pk, start, "state_dict");
        if (inner >= 0 && (pk->o[inner].type == PK_DICT || pk->o[inner].type == PK_OBJECT)) start = inner;
    }
    if (rc == VNP_OK) rc = walk(k, start, 0, 0);
    free(k);
    return rc;
}
