/* The safetensors reader: a bounds-checked header parse that leaves tensor data in place.
 *
 * Layout (spec/esm2.md §4c):
 *   [0, 8)        u64 little-endian N, the header length
 *   [8, 8+N)      UTF-8 JSON object: {"__metadata__": {str: str}, "<name>": {"dtype": "F16", "shape": [..],
 *                 "data_offsets": [begin, end]}, ...}
 *   [8+N, size)   the data buffer; a tensor's bytes are buffer[begin, end), end - begin = numel * sizeof(dtype),
 *                 little-endian, row-major. Tensors may not overlap. */
#include "safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t begin, end;
    size_t idx; /* into w->t */
} st_range;

static int cmp_range(const void *a, const void *b)
{
    const st_range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* The file offset of "key" in the header text (the start of the header when the key is written with escapes). */
static uint64_t key_pos(const uint8_t *hdr, size_t n, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; kl + 2 <= n && i <= n - kl - 2; i++)
        if (hdr[i] == '"' && memcmp(hdr + i + 1, key, kl) == 0 && hdr[i + 1 + kl] == '"') return 8 + i;
    return 8;
}

static int parse_metadata(vnp_weights *w, json_t *meta, const char *what, uint64_t pos)
{
    if (!json_is_object(meta)) {
        vnp_error("%s: byte %llu: header: \"__metadata__\" is not an object", what, (unsigned long long)pos);
        return VNP_ERR_FORMAT;
    }
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v) {
        if (!json_is_string(v)) {
            vnp_error("%s: byte %llu: header: \"__metadata__\" value of '%s' is not a string", what,
                      (unsigned long long)pos, k);
            return VNP_ERR_FORMAT;
        }
        int rc = vnp_wt_meta(w, k, json_string_value(v), json_string_length(v));
        if (rc) return rc;
    }
    return VNP_OK;
}

/* One tensor entry (its key at file byte `at`): fills t (data left NULL) and the byte range relative to the data
 * buffer. */
static int parse_entry(const char *name, json_t *e, uint64_t bufsize, uint64_t bufpos, uint64_t at,
                       const char *what, vnp_tensor *t, st_range *r)
{
    memset(t, 0, sizeof *t);
    if (!json_is_object(e)) {
        vnp_error("%s: byte %llu: header: tensor '%s' is not an object", what, (unsigned long long)at, name);
        return VNP_ERR_FORMAT;
    }
    json_t *dt = json_object_get(e, "dtype"), *shape = json_object_get(e, "shape"),
           *offs = json_object_get(e, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(shape) || !json_is_array(offs)) {
        vnp_error("%s: byte %llu: header: tensor '%s' lacks a string \"dtype\", an array \"shape\" or an array "
                  "\"data_offsets\"",
                  what, (unsigned long long)at, name);
        return VNP_ERR_FORMAT;
    }
    if (vnp_dtype_from_name(json_string_value(dt), &t->dtype) != VNP_OK) {
        vnp_error("%s: byte %llu: header: tensor '%s' has dtype '%s', which is not supported (F32 F16 BF16 F64 "
                  "I64 I32 I16 I8 U8 BOOL)",
                  what, (unsigned long long)at, name, json_string_value(dt));
        return VNP_ERR_UNSUPPORTED;
    }
    size_t nd = json_array_size(shape);
    if (nd > VNP_MAX_DIMS) {
        vnp_error("%s: byte %llu: header: tensor '%s' has %zu dimensions (at most %d supported)", what,
                  (unsigned long long)at, name, nd, VNP_MAX_DIMS);
        return VNP_ERR_UNSUPPORTED;
    }
    t->ndim = (int)nd;
    for (size_t d = 0; d < nd; d++) {
        json_t *v = json_array_get(shape, d);
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            vnp_error("%s: byte %llu: header: tensor '%s': shape[%zu] is not a non-negative integer", what,
                      (unsigned long long)at, name, d);
            return VNP_ERR_FORMAT;
        }
        t->shape[d] = json_integer_value(v);
    }
    size_t es = vnp_dtype_size(t->dtype);
    if (vnp_shape_numel(t->ndim, t->shape, es, &t->numel) != VNP_OK) {
        vnp_error("%s: byte %llu: header: tensor '%s': the shape's element count overflows", what,
                  (unsigned long long)at, name);
        return VNP_ERR_FORMAT;
    }
    json_t *b = json_array_get(offs, 0), *en = json_array_get(offs, 1);
    if (json_array_size(offs) != 2 || !json_is_integer(b) || !json_is_integer(en) || json_integer_value(b) < 0 ||
        json_integer_value(en) < json_integer_value(b)) {
        vnp_error("%s: byte %llu: header: tensor '%s': \"data_offsets\" is not [begin, end] with 0 <= begin <= end",
                  what, (unsigned long long)at, name);
        return VNP_ERR_FORMAT;
    }
    r->begin = (uint64_t)json_integer_value(b);
    r->end = (uint64_t)json_integer_value(en);
    if (r->end > bufsize) {
        vnp_error("%s: tensor '%s': data_offsets [%llu, %llu] = file bytes [%llu, %llu) run past the end of the "
                  "file (%llu bytes)",
                  what, name, (unsigned long long)r->begin, (unsigned long long)r->end,
                  (unsigned long long)(bufpos + r->begin), (unsigned long long)(bufpos + r->end),
                  (unsigned long long)(bufpos + bufsize));
        return VNP_ERR_FORMAT;
    }
    uint64_t want = (uint64_t)t->numel * es;
    if (r->end - r->begin != want) {
        vnp_error("%s: tensor '%s' at file byte %llu: %llu bytes in data_offsets, but shape x %s needs %llu", what,
                  name, (unsigned long long)(bufpos + r->begin), (unsigned long long)(r->end - r->begin),
                  vnp_dtype_name(t->dtype), (unsigned long long)want);
        return VNP_ERR_FORMAT;
    }
    vnp_contig_strides(t->ndim, t->shape, t->strides);
    t->contiguous = 1;
    return VNP_OK;
}

int vnp_safetensors_parse_mem(vnp_weights *w, const uint8_t *data, size_t size, const char *what)
{
    if (size < 8) {
        vnp_error("%s: byte 0: %zu bytes, too short for the 8-byte safetensors header length", what, size);
        return VNP_ERR_FORMAT;
    }
    uint64_t n = le64(data);
    if (n > size - 8) {
        vnp_error("%s: byte 0: header length %llu runs past the end of the file (%zu bytes)", what,
                  (unsigned long long)n, size);
        return VNP_ERR_FORMAT;
    }
    if (n > VNP_SAFETENSORS_MAX_HEADER) {
        vnp_error("%s: byte 0: header length %llu exceeds the %u-byte limit", what, (unsigned long long)n,
                  VNP_SAFETENSORS_MAX_HEADER);
        return VNP_ERR_FORMAT;
    }
    if (n < 2 || data[8] != '{') {
        vnp_error("%s: byte 8: the header is not a JSON object (not a safetensors file?)", what);
        return VNP_ERR_FORMAT;
    }
    json_error_t err;
    json_t *root = json_loadb((const char *)data + 8, (size_t)n, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        vnp_error("%s: byte %lld: header JSON: %s", what, (long long)err.position + 8, err.text);
        return VNP_ERR_FORMAT;
    }
    int rc = VNP_OK;
    st_range *ranges = NULL;
    if (!json_is_object(root)) {
        vnp_error("%s: byte 8: the header is not a JSON object", what);
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    uint64_t bufpos = 8 + n, bufsize = size - bufpos;
    const uint8_t *buf = data + bufpos;
    size_t nkeys = json_object_size(root), nr = 0;
    ranges = vnp_malloc_array(nkeys ? nkeys : 1, sizeof *ranges);
    if (!ranges) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            rc = parse_metadata(w, val, what, key_pos(data + 8, (size_t)n, key));
            if (rc) goto done;
            continue;
        }
        if (!*key) {
            vnp_error("%s: byte %llu: header: a tensor has an empty name", what,
                      (unsigned long long)key_pos(data + 8, (size_t)n, ""));
            rc = VNP_ERR_FORMAT;
            goto done;
        }
        vnp_tensor t;
        st_range r;
        rc = parse_entry(key, val, bufsize, bufpos, key_pos(data + 8, (size_t)n, key), what, &t, &r);
        if (rc) goto done;
        t.data = buf + r.begin;
        r.idx = w->n;
        rc = vnp_wt_add(w, key, strlen(key), &t);
        if (rc) goto done;
        ranges[nr++] = r;
    }
    qsort(ranges, nr, sizeof *ranges, cmp_range);
    uint64_t prev_end = 0;
    size_t prev = SIZE_MAX;
    for (size_t i = 0; i < nr; i++) {
        if (ranges[i].begin == ranges[i].end) continue; /* empty tensors take no bytes */
        if (prev != SIZE_MAX && ranges[i].begin < prev_end) {
            vnp_error("%s: tensors '%s' and '%s' overlap at file byte %llu", what, w->t[ranges[prev].idx].name,
                      w->t[ranges[i].idx].name, (unsigned long long)(bufpos + ranges[i].begin));
            rc = VNP_ERR_FORMAT;
            goto done;
        }
        prev = i;
        prev_end = ranges[i].end;
    }
done:
    free(ranges);
    json_decref(root);
    return rc;
}
