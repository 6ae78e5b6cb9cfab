/* The tensor table: building it (readers add raw names), normalising and sorting it, the public accessors, and
 * releasing what it owns. */
#define _DEFAULT_SOURCE
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

vnp_weights *vnp_wt_new(const char *path)
{
    vnp_weights *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->path = vnp_strdup(path ? path : "");
    if (!w->path) {
        free(w);
        return NULL;
    }
    w->format = "unknown";
    long pg = sysconf(_SC_PAGESIZE);
    w->page = pg > 0 ? (size_t)pg : 4096;
    return w;
}

int vnp_wt_add(vnp_weights *w, const char *name, size_t len, const vnp_tensor *t)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        vnp_tensor *nt = vnp_realloc_array(w->t, cap, sizeof *nt);
        if (!nt) return VNP_ERR_NOMEM;
        w->t = nt;
        w->cap = cap;
    }
    char *s = malloc(len + 1);
    if (!s) return VNP_ERR_NOMEM;
    memcpy(s, name, len);
    s[len] = '\0';
    w->t[w->n] = *t;
    w->t[w->n].name = s;
    w->n++;
    return VNP_OK;
}

int vnp_wt_meta(vnp_weights *w, const char *key, const char *value, size_t len)
{
    char *v = malloc(len + 1);
    if (!v) return VNP_ERR_NOMEM;
    memcpy(v, value, len);
    v[len] = '\0';
    for (size_t i = 0; i < w->nmeta; i++) {
        if (strcmp(w->meta_key[i], key) == 0) {
            free(w->meta_val[i]);
            w->meta_val[i] = v;
            return VNP_OK;
        }
    }
    if (w->nmeta == w->cap_meta) {
        size_t cap = w->cap_meta ? w->cap_meta * 2 : 8;
        char **k = vnp_realloc_array(w->meta_key, cap, sizeof *k);
        if (!k) goto nomem;
        w->meta_key = k;
        char **vv = vnp_realloc_array(w->meta_val, cap, sizeof *vv);
        if (!vv) goto nomem;
        w->meta_val = vv;
        w->cap_meta = cap;
    }
    char *k = vnp_strdup(key);
    if (!k) goto nomem;
    w->meta_key[w->nmeta] = k;
    w->meta_val[w->nmeta] = v;
    w->nmeta++;
    return VNP_OK;
nomem:
    free(v);
    return VNP_ERR_NOMEM;
}

static void region_release(const vnp_wt_region *r)
{
    if (r->mapped)
        munmap(r->base, r->len);
    else
        free(r->base);
}

int vnp_wt_own(vnp_weights *w, void *base, size_t len, int mapped)
{
    vnp_wt_region r = {base, len, mapped};
    if (w->nregions == w->cap_regions) {
        size_t cap = w->cap_regions ? w->cap_regions * 2 : 4;
        vnp_wt_region *nr = vnp_realloc_array(w->regions, cap, sizeof *nr);
        if (!nr) {
            region_release(&r);
            return VNP_ERR_NOMEM;
        }
        w->regions = nr;
        w->cap_regions = cap;
    }
    w->regions[w->nregions++] = r;
    return VNP_OK;
}

static void sort_meta(vnp_weights *w);

typedef struct {
    vnp_tensor t; /* t.name is the normalised name */
    char *raw;
} named;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->t.name, ((const named *)b)->t.name);
}

/* Sorts the metadata pairs by key (insertion sort: a handful of pairs). */
static void sort_meta(vnp_weights *w)
{
    for (size_t i = 1; i < w->nmeta; i++) {
        char *k = w->meta_key[i], *v = w->meta_val[i];
        size_t j = i;
        while (j > 0 && strcmp(w->meta_key[j - 1], k) > 0) {
            w->meta_key[j] = w->meta_key[j - 1];
            w->meta_val[j] = w->meta_val[j - 1];
            j--;
        }
        w->meta_key[j] = k;
        w->meta_val[j] = v;
    }
}

int vnp_wt_finish(vnp_weights *w, const char *what)
{
    /* The fair-esm mapping is a property of the whole file: a lone "lm_head.weight" means the tied decoder
     * only when the rest of the names are fair-esm ones. */
    int fair = 0;
    for (size_t i = 0; i < w->n && !fair; i++) fair = vnp_names_is_fair(w->t[i].name);
    named *v = vnp_malloc_array(w->n ? w->n : 1, sizeof *v);
    if (!v) return VNP_ERR_NOMEM;
    int rc = VNP_OK;
    size_t done = 0;
    for (; done < w->n; done++) {
        v[done].t = w->t[done];
        v[done].raw = (char *)w->t[done].name;
        v[done].t.name = vnp_names_normalise(v[done].raw, fair);
        if (!v[done].t.name) {
            rc = VNP_ERR_NOMEM;
            break;
        }
    }
    if (rc == VNP_OK && w->n > 1) qsort(v, w->n, sizeof *v, cmp_named);
    for (size_t i = 1; rc == VNP_OK && i < w->n; i++) {
        if (strcmp(v[i - 1].t.name, v[i].t.name) == 0) {
            vnp_error("%s: tensors '%s' and '%s' both have the name '%s' after normalisation", what, v[i - 1].raw,
                      v[i].raw, v[i].t.name);
            rc = VNP_ERR_FORMAT;
        }
    }
    /* The table keeps the normalised names (sorted) on success, the raw ones (unsorted) on failure. */
    for (size_t i = 0; i < done; i++) {
        if (rc == VNP_OK) {
            free(v[i].raw);
            w->t[i] = v[i].t;
        } else {
            free((char *)v[i].t.name);
        }
    }
    free(v);
    if (rc == VNP_OK) sort_meta(w);
    return rc;
}

void vnp_weights_close(vnp_weights *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) free((char *)w->t[i].name);
    free(w->t);
    for (size_t i = 0; i < w->nmeta; i++) {
        free(w->meta_key[i]);
        free(w->meta_val[i]);
    }
    free(w->meta_key);
    free(w->meta_val);
    for (size_t i = 0; i < w->nregions; i++) region_release(&w->regions[i]);
    free(w->regions);
    free(w->config);
    free(w->path);
    free(w);
}

size_t vnp_weights_count(const vnp_weights *w) { return w ? w->n : 0; }

const vnp_tensor *vnp_weights_at(const vnp_weights *w, size_t i) { return w && i < w->n ? &w->t[i] : NULL; }

const vnp_tensor *vnp_weights_find(const vnp_weights *w, const char *name)
{
    if (!w || !name) return NULL;
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(w->t[mid].name, name);
        if (c == 0) return &w->t[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *vnp_weights_config(const vnp_weights *w) { return w ? w->config : NULL; }
const char *vnp_weights_format(const vnp_weights *w) { return w ? w->format : NULL; }
const char *vnp_weights_path(const vnp_weights *w) { return w ? w->path : NULL; }

size_t vnp_weights_meta_count(const vnp_weights *w) { return w ? w->nmeta : 0; }

void vnp_weights_meta_at(const vnp_weights *w, size_t i, const char **key, const char **value)
{
    int ok = w && i < w->nmeta;
    if (key) *key = ok ? w->meta_key[i] : NULL;
    if (value) *value = ok ? w->meta_val[i] : NULL;
}

const char *vnp_weights_meta(const vnp_weights *w, const char *key)
{
    if (!w || !key) return NULL;
    for (size_t i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta_key[i], key) == 0) return w->meta_val[i];
    return NULL;
}

void vnp_weights_release(const vnp_weights *w, const vnp_tensor *t)
{
    if (!w || !t || !t->data || t->numel <= 0) return;
    /* The byte span the tensor touches: from data to its last element (strides are non-negative). */
    int64_t last = 0;
    for (int d = 0; d < t->ndim; d++) last += (t->shape[d] - 1) * t->strides[d];
    size_t bytes = ((size_t)last + 1) * vnp_dtype_size(t->dtype);
    uintptr_t lo = (uintptr_t)t->data, hi = lo + bytes;
    for (size_t i = 0; i < w->nregions; i++) {
        const vnp_wt_region *r = &w->regions[i];
        uintptr_t rb = (uintptr_t)r->base, re = rb + r->len;
        if (!r->mapped || lo < rb || hi > re) continue;
        /* Whole pages inside the span only: a neighbour sharing a page keeps it. */
        uintptr_t a = (lo + w->page - 1) & ~(uintptr_t)(w->page - 1);
        uintptr_t b = hi & ~(uintptr_t)(w->page - 1);
        if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
        return;
    }
}

int vnp_shape_numel(int ndim, const int64_t *shape, size_t elsize, int64_t *numel)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return VNP_ERR_FORMAT;
        if (shape[d] != 0 && n > INT64_MAX / shape[d]) return VNP_ERR_FORMAT;
        n *= shape[d];
    }
    if (elsize && n > 0 && ((uint64_t)n > (uint64_t)INT64_MAX / elsize || (uint64_t)n > SIZE_MAX / elsize))
        return VNP_ERR_FORMAT;
    *numel = n;
    return VNP_OK;
}

void vnp_contig_strides(int ndim, const int64_t *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        strides[d] = s;
        int64_t k = shape[d] > 1 ? shape[d] : 1;
        s = s > INT64_MAX / k ? 0 : s * k;
    }
}

int vnp_strides_contiguous(int ndim, const int64_t *shape, const int64_t *strides)
{
    int64_t want = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] != 1 && strides[d] != want) return 0;
        want *= shape[d];
    }
    return 1;
}
