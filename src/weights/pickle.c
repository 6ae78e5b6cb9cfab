/* The pickle VM: opcodes of protocols 2-4 as torch.save writes them, turned into an inert object graph.
 *
 * Accepted opcodes (spec/esm2.md §4d): PROTO FRAME GLOBAL STACK_GLOBAL BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET
 * MARK EMPTY_TUPLE EMPTY_LIST EMPTY_DICT TUPLE TUPLE1-3 LIST DICT BINUNICODE SHORT_BINUNICODE BINSTRING
 * SHORT_BINSTRING BINBYTES SHORT_BINBYTES BININT BININT1 BININT2 LONG1 BINFLOAT NONE NEWTRUE NEWFALSE BINPERSID
 * REDUCE NEWOBJ SETITEM SETITEMS APPEND APPENDS BUILD STOP; any other byte is an error at its offset.
 * Calls are never made: REDUCE/NEWOBJ of torch's tensor-rebuild functions become PK_TENSOR, OrderedDict() becomes
 * a PK_DICT, everything else becomes a PK_OBJECT that records its class and arguments. Every count, length and index
 * from the file is checked before use, and every allocation is bounded by the limits in pickle.h. */
#include "pickle.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *d;
    size_t size, pos, op_pos;
    const char *what;
    vnp_pickle *pk;
    int32_t *stack;
    size_t sp, scap;
    size_t marks[VNP_PK_MAX_MARKS];
    size_t nmarks;
    int32_t *memo;
    size_t memo_cap, memo_count;
} vm;

static int vm_err(vm *m, int rc, const char *msg)
{
    vnp_error("%s: byte %zu (opcode 0x%02x): %s", m->what, m->op_pos, m->op_pos < m->size ? m->d[m->op_pos] : 0,
              msg);
    return rc;
}

static int need(vm *m, size_t n)
{
    if (m->size - m->pos < n) return vm_err(m, VNP_ERR_FORMAT, "the pickle ends inside this opcode's argument");
    return VNP_OK;
}

static uint32_t rd_le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int new_obj(vm *m, pk_type type, int32_t *idx)
{
    vnp_pickle *pk = m->pk;
    if (pk->n >= VNP_PK_MAX_OBJECTS) return vm_err(m, VNP_ERR_FORMAT, "too many objects in the pickle");
    if (pk->n == pk->cap) {
        size_t cap = pk->cap ? pk->cap * 2 : 256;
        pk_obj *o = vnp_realloc_array(pk->o, cap, sizeof *o);
        if (!o) return VNP_ERR_NOMEM;
        pk->o = o;
        pk->cap = cap;
    }
    pk_obj *o = &pk->o[pk->n];
    memset(o, 0, sizeof *o);
    o->type = (uint8_t)type;
    o->pos = m->op_pos;
    if (type == PK_OBJECT) o->u.o.cls = o->u.o.args = o->u.o.state = o->u.o.extra = -1;
    *idx = (int32_t)pk->n++;
    return VNP_OK;
}

static int push(vm *m, int32_t idx)
{
    if (m->sp == m->scap) {
        if (m->scap >= VNP_PK_MAX_STACK) return vm_err(m, VNP_ERR_FORMAT, "the pickle stack grows too deep");
        size_t cap = m->scap ? m->scap * 2 : 256;
        int32_t *s = vnp_realloc_array(m->stack, cap, sizeof *s);
        if (!s) return VNP_ERR_NOMEM;
        m->stack = s;
        m->scap = cap;
    }
    m->stack[m->sp++] = idx;
    return VNP_OK;
}

/* The floor below which pops may not go: the top MARK (as CPython's unpickler). */
static size_t floor_sp(const vm *m) { return m->nmarks ? m->marks[m->nmarks - 1] : 0; }

static int pop(vm *m, int32_t *idx)
{
    if (m->sp <= floor_sp(m)) return vm_err(m, VNP_ERR_FORMAT, "pickle stack underflow");
    *idx = m->stack[--m->sp];
    return VNP_OK;
}

static int top(vm *m, int32_t *idx)
{
    if (m->sp <= floor_sp(m)) return vm_err(m, VNP_ERR_FORMAT, "pickle stack underflow");
    *idx = m->stack[m->sp - 1];
    return VNP_OK;
}

/* Removes the top MARK; *start is the stack index of the first item above it. */
static int pop_mark(vm *m, size_t *start)
{
    if (!m->nmarks) return vm_err(m, VNP_ERR_FORMAT, "no MARK on the pickle stack");
    *start = m->marks[--m->nmarks];
    return VNP_OK;
}

static int c_add(vm *m, int32_t cont, int32_t item)
{
    vnp_pickle *pk = m->pk;
    if (pk->items >= VNP_PK_MAX_ITEMS) return vm_err(m, VNP_ERR_FORMAT, "too many container items in the pickle");
    pk_obj *o = &pk->o[cont];
    if (o->u.c.n == o->u.c.cap) {
        uint32_t cap = o->u.c.cap ? o->u.c.cap * 2 : 4;
        int32_t *it = vnp_realloc_array(o->u.c.items, cap, sizeof *it);
        if (!it) return VNP_ERR_NOMEM;
        o->u.c.items = it;
        o->u.c.cap = cap;
    }
    o->u.c.items[o->u.c.n++] = item;
    pk->items++;
    return VNP_OK;
}

/* A new container of `type` holding stack[start..sp), which is popped. */
static int make_seq(vm *m, pk_type type, size_t start, int32_t *out)
{
    int rc = new_obj(m, type, out);
    for (size_t i = start; rc == VNP_OK && i < m->sp; i++) rc = c_add(m, *out, m->stack[i]);
    if (rc == VNP_OK) m->sp = start;
    return rc;
}

static int gl_is(const pk_obj *g, const char *mod, const char *name)
{
    return g->type == PK_GLOBAL && g->u.g.mod_len == strlen(mod) && g->u.g.name_len == strlen(name) &&
           memcmp(g->u.g.mod, mod, g->u.g.mod_len) == 0 && memcmp(g->u.g.name, name, g->u.g.name_len) == 0;
}

static const struct {
    const char *name;
    vnp_dtype dt;
} storage_types[] = {
    {"FloatStorage", VNP_DT_F32}, {"HalfStorage", VNP_DT_F16},  {"BFloat16Storage", VNP_DT_BF16},
    {"DoubleStorage", VNP_DT_F64}, {"LongStorage", VNP_DT_I64}, {"IntStorage", VNP_DT_I32},
    {"ShortStorage", VNP_DT_I16},  {"CharStorage", VNP_DT_I8},  {"ByteStorage", VNP_DT_U8},
    {"BoolStorage", VNP_DT_BOOL},  {"UntypedStorage", VNP_DT_U8},
}, torch_dtypes[] = {
    {"float32", VNP_DT_F32}, {"float", VNP_DT_F32},   {"float16", VNP_DT_F16}, {"half", VNP_DT_F16},
    {"bfloat16", VNP_DT_BF16}, {"float64", VNP_DT_F64}, {"double", VNP_DT_F64}, {"int64", VNP_DT_I64},
    {"long", VNP_DT_I64},    {"int32", VNP_DT_I32},   {"int", VNP_DT_I32},     {"int16", VNP_DT_I16},
    {"short", VNP_DT_I16},   {"int8", VNP_DT_I8},     {"uint8", VNP_DT_U8},    {"bool", VNP_DT_BOOL},
};

/* BINPERSID: ('storage', torch.XStorage, key, location, numel) -> PK_STORAGE. */
static int make_storage(vm *m, int32_t pid, int32_t *out)
{
    const pk_obj *o = m->pk->o, *t = &o[pid];
    if (t->type != PK_TUPLE || t->u.c.n < 5)
        return vm_err(m, VNP_ERR_FORMAT, "persistent id is not a ('storage', type, key, location, numel) tuple");
    const pk_obj *tag = &o[t->u.c.items[0]], *cls = &o[t->u.c.items[1]], *key = &o[t->u.c.items[2]],
                 *numel = &o[t->u.c.items[4]];
    if (tag->type != PK_STR || tag->u.s.len != 7 || memcmp(tag->u.s.p, "storage", 7) != 0)
        return vm_err(m, VNP_ERR_UNSUPPORTED, "persistent id is not a 'storage' record");
    if (key->type != PK_STR || numel->type != PK_INT || numel->u.i < 0)
        return vm_err(m, VNP_ERR_FORMAT, "storage record without a string key or a non-negative element count");
    int found = -1;
    for (size_t i = 0; cls->type == PK_GLOBAL && i < sizeof storage_types / sizeof storage_types[0]; i++)
        if (gl_is(cls, "torch", storage_types[i].name)) found = (int)i;
    if (found < 0) {
        vnp_error("%s: byte %zu: storage type '%.*s.%.*s' is not supported", m->what, m->op_pos,
                  cls->type == PK_GLOBAL ? (int)cls->u.g.mod_len : 1, cls->type == PK_GLOBAL ? cls->u.g.mod : "?",
                  cls->type == PK_GLOBAL ? (int)cls->u.g.name_len : 1, cls->type == PK_GLOBAL ? cls->u.g.name : "?");
        return VNP_ERR_UNSUPPORTED;
    }
    const char *kp = key->u.s.p;
    size_t kl = key->u.s.len;
    int64_t n = numel->u.i;
    int rc = new_obj(m, PK_STORAGE, out);
    if (rc) return rc;
    pk_obj *s = &m->pk->o[*out];
    s->u.st.key = kp;
    s->u.st.key_len = kl;
    s->u.st.numel = n;
    s->u.st.dtype = storage_types[found].dt;
    return VNP_OK;
}

/* A tuple of non-negative ints into dims[]; -1 when it is not one or is longer than VNP_MAX_DIMS. */
static int int_tuple(const vnp_pickle *pk, int32_t idx, int64_t *dims)
{
    const pk_obj *t = &pk->o[idx];
    if ((t->type != PK_TUPLE && t->type != PK_LIST) || t->u.c.n > VNP_MAX_DIMS) return -1;
    for (uint32_t i = 0; i < t->u.c.n; i++) {
        const pk_obj *v = &pk->o[t->u.c.items[i]];
        if (v->type != PK_INT || v->u.i < 0) return -1;
        dims[i] = v->u.i;
    }
    return (int)t->u.c.n;
}

/* _rebuild_tensor[_v2|_v3](storage, offset, size, stride, ...) -> PK_TENSOR (the bounds are checked when the
 * storage bytes are known, in vnp_pickle_collect). */
static int make_tensor(vm *m, int32_t args, int v3, int32_t *out)
{
    const vnp_pickle *pk = m->pk;
    const pk_obj *a = &pk->o[args];
    if (a->type != PK_TUPLE || a->u.c.n < 4 || pk->o[a->u.c.items[0]].type != PK_STORAGE ||
        pk->o[a->u.c.items[1]].type != PK_INT || pk->o[a->u.c.items[1]].u.i < 0)
        return vm_err(m, VNP_ERR_FORMAT, "tensor rebuild without (storage, offset >= 0, size, stride) arguments");
    pk_tensor t = {0};
    t.storage = a->u.c.items[0];
    t.dtype = pk->o[t.storage].u.st.dtype;
    t.offset = pk->o[a->u.c.items[1]].u.i;
    int nd = int_tuple(pk, a->u.c.items[2], t.shape), ns = int_tuple(pk, a->u.c.items[3], t.strides);
    if (nd < 0 || ns != nd)
        return vm_err(m, nd > VNP_MAX_DIMS ? VNP_ERR_UNSUPPORTED : VNP_ERR_FORMAT,
                      "tensor size/stride are not equal-length tuples of at most 8 non-negative ints");
    t.ndim = nd;
    if (v3 && a->u.c.n >= 7) { /* _rebuild_tensor_v3 names the dtype of an untyped storage */
        const pk_obj *g = &pk->o[a->u.c.items[6]];
        int found = 0;
        for (size_t i = 0; i < sizeof torch_dtypes / sizeof torch_dtypes[0] && !found; i++)
            if (gl_is(g, "torch", torch_dtypes[i].name)) t.dtype = torch_dtypes[i].dt, found = 1;
        if (!found) return vm_err(m, VNP_ERR_UNSUPPORTED, "_rebuild_tensor_v3 with an unsupported dtype");
    }
    vnp_pickle *wpk = m->pk;
    if (wpk->ntensors == wpk->cap_tensors) {
        size_t cap = wpk->cap_tensors ? wpk->cap_tensors * 2 : 64;
        pk_tensor *nt = vnp_realloc_array(wpk->tensors, cap, sizeof *nt);
        if (!nt) return VNP_ERR_NOMEM;
        wpk->tensors = nt;
        wpk->cap_tensors = cap;
    }
    int rc = new_obj(m, PK_TENSOR, out);
    if (rc) return rc;
    wpk->tensors[wpk->ntensors] = t;
    wpk->o[*out].u.tensor = (uint32_t)wpk->ntensors++;
    return VNP_OK;
}

/* REDUCE / NEWOBJ: what calling cls(*args) would give, without calling anything. */
static int apply(vm *m, int32_t cls, int32_t args, int32_t *out)
{
    const pk_obj *g = &m->pk->o[cls], *a = &m->pk->o[args];
    if (gl_is(g, "torch._utils", "_rebuild_tensor_v2") || gl_is(g, "torch._utils", "_rebuild_tensor"))
        return make_tensor(m, args, 0, out);
    if (gl_is(g, "torch._utils", "_rebuild_tensor_v3")) return make_tensor(m, args, 1, out);
    if ((gl_is(g, "torch._utils", "_rebuild_parameter") || gl_is(g, "torch._utils", "_rebuild_parameter_with_state")) &&
        a->type == PK_TUPLE && a->u.c.n >= 1 && m->pk->o[a->u.c.items[0]].type == PK_TENSOR) {
        *out = a->u.c.items[0];
        return VNP_OK;
    }
    if (gl_is(g, "collections", "OrderedDict") && a->type == PK_TUPLE && a->u.c.n == 0) return new_obj(m, PK_DICT, out);
    int rc = new_obj(m, PK_OBJECT, out);
    if (rc) return rc;
    m->pk->o[*out].u.o.cls = cls;
    m->pk->o[*out].u.o.args = args;
    return VNP_OK;
}

/* The dict that SETITEM targets: a PK_DICT, or the items dict of a PK_OBJECT (a dict subclass). */
static int dict_target(vm *m, int32_t idx, int32_t *dict)
{
    pk_type t = m->pk->o[idx].type;
    if (t == PK_DICT) {
        *dict = idx;
        return VNP_OK;
    }
    if (t != PK_OBJECT) return vm_err(m, VNP_ERR_FORMAT, "SETITEM(S) on something that is not a dict");
    if (m->pk->o[idx].u.o.extra < 0) {
        int rc = new_obj(m, PK_DICT, dict);
        if (rc) return rc;
        m->pk->o[idx].u.o.extra = *dict;
    }
    *dict = m->pk->o[idx].u.o.extra;
    if (m->pk->o[*dict].type != PK_DICT) return vm_err(m, VNP_ERR_FORMAT, "SETITEM(S) on a list-like object");
    return VNP_OK;
}

static int list_target(vm *m, int32_t idx, int32_t *list)
{
    pk_type t = m->pk->o[idx].type;
    if (t == PK_LIST) {
        *list = idx;
        return VNP_OK;
    }
    if (t != PK_OBJECT) return vm_err(m, VNP_ERR_FORMAT, "APPEND(S) on something that is not a list");
    if (m->pk->o[idx].u.o.extra < 0) {
        int rc = new_obj(m, PK_LIST, list);
        if (rc) return rc;
        m->pk->o[idx].u.o.extra = *list;
    }
    *list = m->pk->o[idx].u.o.extra;
    if (m->pk->o[*list].type != PK_LIST) return vm_err(m, VNP_ERR_FORMAT, "APPEND(S) on a dict-like object");
    return VNP_OK;
}

static int memo_put(vm *m, uint64_t i)
{
    int32_t v;
    int rc = top(m, &v);
    if (rc) return rc;
    if (i >= VNP_PK_MAX_MEMO || i >= m->size) return vm_err(m, VNP_ERR_FORMAT, "memo index beyond what the pickle can hold");
    if (i >= m->memo_cap) {
        size_t cap = m->memo_cap ? m->memo_cap : 256;
        while (cap <= i) cap *= 2;
        int32_t *nm = vnp_realloc_array(m->memo, cap, sizeof *nm);
        if (!nm) return VNP_ERR_NOMEM;
        for (size_t k = m->memo_cap; k < cap; k++) nm[k] = -1;
        m->memo = nm;
        m->memo_cap = cap;
    }
    if (m->memo[i] < 0) m->memo_count++;
    m->memo[i] = v;
    return VNP_OK;
}

static int memo_get(vm *m, uint64_t i)
{
    if (i >= m->memo_cap || m->memo[i] < 0) return vm_err(m, VNP_ERR_FORMAT, "memo index was never stored");
    return push(m, m->memo[i]);
}

/* Pushes a STR/BYTES of len bytes at the current position. */
static int push_bytes(vm *m, pk_type type, uint64_t len)
{
    if (len > m->size - m->pos) return vm_err(m, VNP_ERR_FORMAT, "string length runs past the end of the pickle");
    int32_t idx;
    int rc = new_obj(m, type, &idx);
    if (rc) return rc;
    m->pk->o[idx].u.s.p = (const char *)m->d + m->pos;
    m->pk->o[idx].u.s.len = (size_t)len;
    m->pos += (size_t)len;
    return push(m, idx);
}

static int push_int(vm *m, pk_type type, int64_t v)
{
    int32_t idx;
    int rc = new_obj(m, type, &idx);
    if (rc) return rc;
    m->pk->o[idx].u.i = v;
    return push(m, idx);
}

/* A line ending in '\n' at the current position (GLOBAL's operands). */
static int read_line(vm *m, const char **p, uint32_t *len)
{
    const uint8_t *nl = memchr(m->d + m->pos, '\n', m->size - m->pos);
    if (!nl || nl - (m->d + m->pos) > 65535) return vm_err(m, VNP_ERR_FORMAT, "GLOBAL operand without a newline");
    *p = (const char *)m->d + m->pos;
    *len = (uint32_t)(nl - (m->d + m->pos));
    m->pos += (size_t)*len + 1;
    return VNP_OK;
}

static int push_global(vm *m, const char *mod, uint32_t ml, const char *name, uint32_t nl)
{
    int32_t idx;
    int rc = new_obj(m, PK_GLOBAL, &idx);
    if (rc) return rc;
    pk_obj *g = &m->pk->o[idx];
    g->u.g.mod = mod;
    g->u.g.mod_len = ml;
    g->u.g.name = name;
    g->u.g.name_len = nl;
    return push(m, idx);
}

static int op_long1(vm *m)
{
    int rc = need(m, 1);
    if (rc) return rc;
    size_t n = m->d[m->pos++];
    if ((rc = need(m, n))) return rc;
    const uint8_t *p = m->d + m->pos;
    m->pos += n;
    if (n > 8) return push_int(m, PK_BIGINT, 0);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    int64_t s;
    memcpy(&s, &v, sizeof s);
    return push_int(m, PK_INT, s);
}

static int op_binfloat(vm *m)
{
    int rc = need(m, 8);
    if (rc) return rc;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | m->d[m->pos + i]; /* big-endian */
    m->pos += 8;
    double f;
    memcpy(&f, &v, sizeof f);
    int32_t idx;
    if ((rc = new_obj(m, PK_FLOAT, &idx))) return rc;
    m->pk->o[idx].u.f = f;
    return push(m, idx);
}

static int op_setitems(vm *m, size_t start)
{
    int32_t target, dict;
    if ((m->sp - start) % 2) return vm_err(m, VNP_ERR_FORMAT, "SETITEMS with an odd number of items");
    if (start == 0 || start <= floor_sp(m)) return vm_err(m, VNP_ERR_FORMAT, "pickle stack underflow");
    target = m->stack[start - 1];
    int rc = dict_target(m, target, &dict);
    for (size_t i = start; rc == VNP_OK && i < m->sp; i++) rc = c_add(m, dict, m->stack[i]);
    m->sp = start;
    return rc;
}

static int op_appends(vm *m, size_t start)
{
    if (start == 0 || start <= floor_sp(m)) return vm_err(m, VNP_ERR_FORMAT, "pickle stack underflow");
    int32_t list;
    int rc = list_target(m, m->stack[start - 1], &list);
    for (size_t i = start; rc == VNP_OK && i < m->sp; i++) rc = c_add(m, list, m->stack[i]);
    m->sp = start;
    return rc;
}

static int op_build(vm *m)
{
    int32_t state, obj;
    int rc = pop(m, &state);
    if (rc || (rc = top(m, &obj))) return rc;
    pk_obj *o = &m->pk->o[obj];
    if (o->type == PK_OBJECT) o->u.o.state = state; /* dicts (OrderedDict _metadata) and tensors: ignored */
    return VNP_OK;
}

/* One opcode at m->pos; *stop set at STOP. */
static int step(vm *m, int *stop)
{
    m->op_pos = m->pos;
    uint8_t op = m->d[m->pos++];
    int32_t a, b, idx;
    size_t start;
    int rc = VNP_OK;
    switch (op) {
    case 0x80: /* PROTO */
        if ((rc = need(m, 1))) return rc;
        if (m->d[m->pos] > 5) return vm_err(m, VNP_ERR_UNSUPPORTED, "pickle protocol above 5");
        m->pos++;
        return VNP_OK;
    case 0x95: /* FRAME: a length hint */
        if ((rc = need(m, 8))) return rc;
        m->pos += 8;
        return VNP_OK;
    case 'c': { /* GLOBAL */
        const char *mod, *name;
        uint32_t ml, nl;
        if ((rc = read_line(m, &mod, &ml)) || (rc = read_line(m, &name, &nl))) return rc;
        return push_global(m, mod, ml, name, nl);
    }
    case 0x93: /* STACK_GLOBAL */
        if ((rc = pop(m, &b)) || (rc = pop(m, &a))) return rc;
        if (m->pk->o[a].type != PK_STR || m->pk->o[b].type != PK_STR)
            return vm_err(m, VNP_ERR_FORMAT, "STACK_GLOBAL operands are not strings");
        return push_global(m, m->pk->o[a].u.s.p, (uint32_t)m->pk->o[a].u.s.len, m->pk->o[b].u.s.p,
                           (uint32_t)m->pk->o[b].u.s.len);
    case 'q': /* BINPUT */
        if ((rc = need(m, 1))) return rc;
        return memo_put(m, m->d[m->pos++]);
    case 'r': /* LONG_BINPUT */
        if ((rc = need(m, 4))) return rc;
        m->pos += 4;
        return memo_put(m, rd_le(m->d + m->pos - 4, 4));
    case 0x94: /* MEMOIZE */
        return memo_put(m, m->memo_count);
    case 'h': /* BINGET */
        if ((rc = need(m, 1))) return rc;
        return memo_get(m, m->d[m->pos++]);
    case 'j': /* LONG_BINGET */
        if ((rc = need(m, 4))) return rc;
        m->pos += 4;
        return memo_get(m, rd_le(m->d + m->pos - 4, 4));
    case '(': /* MARK */
        if (m->nmarks == VNP_PK_MAX_MARKS) return vm_err(m, VNP_ERR_FORMAT, "MARKs nested too deeply");
        m->marks[m->nmarks++] = m->sp;
        return VNP_OK;
    case ')': /* EMPTY_TUPLE */
        if ((rc = new_obj(m, PK_TUPLE, &idx))) return rc;
        return push(m, idx);
    case ']': /* EMPTY_LIST */
        if ((rc = new_obj(m, PK_LIST, &idx))) return rc;
        return push(m, idx);
    case '}': /* EMPTY_DICT */
        if ((rc = new_obj(m, PK_DICT, &idx))) return rc;
        return push(m, idx);
    case 't': /* TUPLE */
    case 'l': /* LIST */
    case 'd': /* DICT */
        if ((rc = pop_mark(m, &start))) return rc;
        if (op == 'd' && (m->sp - start) % 2) return vm_err(m, VNP_ERR_FORMAT, "DICT with an odd number of items");
        if ((rc = make_seq(m, op == 't' ? PK_TUPLE : op == 'l' ? PK_LIST : PK_DICT, start, &idx))) return rc;
        return push(m, idx);
    case 0x85: /* TUPLE1 */
    case 0x86: /* TUPLE2 */
    case 0x87: /* TUPLE3 */
        start = (size_t)(op - 0x84);
        if (m->sp < floor_sp(m) + start) return vm_err(m, VNP_ERR_FORMAT, "pickle stack underflow");
        if ((rc = make_seq(m, PK_TUPLE, m->sp - start, &idx))) return rc;
        return push(m, idx);
    case 'X': /* BINUNICODE */
    case 'B': /* BINBYTES */
        if ((rc = need(m, 4))) return rc;
        m->pos += 4;
        return push_bytes(m, op == 'X' ? PK_STR : PK_BYTES, rd_le(m->d + m->pos - 4, 4));
    case 0x8c: /* SHORT_BINUNICODE */
    case 'U':  /* SHORT_BINSTRING */
    case 'C':  /* SHORT_BINBYTES */
        if ((rc = need(m, 1))) return rc;
        m->pos++;
        return push_bytes(m, op == 'C' ? PK_BYTES : PK_STR, m->d[m->pos - 1]);
    case 'T': { /* BINSTRING: signed length */
        if ((rc = need(m, 4))) return rc;
        uint32_t len = rd_le(m->d + m->pos, 4);
        m->pos += 4;
        if (len & 0x80000000u) return vm_err(m, VNP_ERR_FORMAT, "BINSTRING with a negative length");
        return push_bytes(m, PK_STR, len);
    }
    case 'K': /* BININT1 */
        if ((rc = need(m, 1))) return rc;
        return push_int(m, PK_INT, m->d[m->pos++]);
    case 'M': /* BININT2 */
        if ((rc = need(m, 2))) return rc;
        m->pos += 2;
        return push_int(m, PK_INT, rd_le(m->d + m->pos - 2, 2));
    case 'J': /* BININT: signed */
        if ((rc = need(m, 4))) return rc;
        m->pos += 4;
        return push_int(m, PK_INT, (int32_t)rd_le(m->d + m->pos - 4, 4));
    case 0x8a: /* LONG1 */
        return op_long1(m);
    case 'G': /* BINFLOAT */
        return op_binfloat(m);
    case 'N': /* NONE */
        if ((rc = new_obj(m, PK_NONE, &idx))) return rc;
        return push(m, idx);
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
        return push_int(m, PK_BOOL, op == 0x88);
    case 'Q': /* BINPERSID */
        if ((rc = pop(m, &a)) || (rc = make_storage(m, a, &idx))) return rc;
        return push(m, idx);
    case 'R':  /* REDUCE */
    case 0x81: /* NEWOBJ */
        if ((rc = pop(m, &b)) || (rc = pop(m, &a))) return rc;
        if (m->pk->o[b].type != PK_TUPLE) return vm_err(m, VNP_ERR_FORMAT, "call arguments are not a tuple");
        if ((rc = apply(m, a, b, &idx))) return rc;
        return push(m, idx);
    case 's': /* SETITEM */
        if ((rc = pop(m, &b)) || (rc = pop(m, &a)) || (rc = top(m, &idx)) || (rc = dict_target(m, idx, &idx)))
            return rc;
        if ((rc = c_add(m, idx, a))) return rc;
        return c_add(m, idx, b);
    case 'u': /* SETITEMS */
        if ((rc = pop_mark(m, &start))) return rc;
        return op_setitems(m, start);
    case 'a': /* APPEND */
        if ((rc = pop(m, &b)) || (rc = top(m, &idx)) || (rc = list_target(m, idx, &idx))) return rc;
        return c_add(m, idx, b);
    case 'e': /* APPENDS */
        if ((rc = pop_mark(m, &start))) return rc;
        return op_appends(m, start);
    case 'b': /* BUILD */
        return op_build(m);
    case '.': /* STOP */
        if ((rc = pop(m, &a))) return rc;
        m->pk->root = a;
        *stop = 1;
        return VNP_OK;
    default: {
        char msg[64];
        snprintf(msg, sizeof msg, "unsupported pickle opcode 0x%02x", op);
        return vm_err(m, VNP_ERR_FORMAT, msg);
    }
    }
}

int vnp_pickle_parse_mem(const uint8_t *data, size_t size, const char *what, vnp_pickle *pk)
{
    memset(pk, 0, sizeof *pk);
    pk->root = -1;
    vm m = {.d = data, .size = size, .what = what, .pk = pk};
    int rc = VNP_OK, stop = 0;
    while (rc == VNP_OK && !stop) {
        if (m.pos >= size) {
            vnp_error("%s: byte %zu: the pickle ends without STOP", what, size);
            rc = VNP_ERR_FORMAT;
            break;
        }
        rc = step(&m, &stop);
    }
    free(m.stack);
    free(m.memo);
    if (rc) vnp_pickle_free(pk);
    return rc;
}

void vnp_pickle_free(vnp_pickle *pk)
{
    if (!pk) return;
    for (size_t i = 0; i < pk->n; i++) {
        pk_type t = pk->o[i].type;
        if (t == PK_TUPLE || t == PK_LIST || t == PK_DICT) free(pk->o[i].u.c.items);
    }
    free(pk->o);
    free(pk->tensors);
    memset(pk, 0, sizeof *pk);
    pk->root = -1;
}
