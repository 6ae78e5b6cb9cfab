/* Internal: the tensor table behind vnp_weights, how the format readers fill it, and the memory it owns.
 * Readers add tensors under their names as written in the file; vnp_wt_finish normalises the names (names.c),
 * sorts them and rejects two tensors that end up with the same name. */
#ifndef VNP_WEIGHTS_TABLE_H
#define VNP_WEIGHTS_TABLE_H

#include "vnp/weights.h"

#include <stddef.h>
#include <stdint.h>

/* A region the table owns: a file mapping (munmap) or a heap block (free). */
typedef struct {
    void *base;
    size_t len;
    int mapped;
} vnp_wt_region;

struct vnp_weights {
    char *path;
    const char *format; /* static string */
    char *config;       /* config.json text or NULL */
    vnp_tensor *t;      /* n tensors; t[i].name is owned (malloc) */
    size_t n, cap;
    char **meta_key, **meta_val; /* nmeta pairs, owned */
    size_t nmeta, cap_meta;
    vnp_wt_region *regions;
    size_t nregions, cap_regions;
    size_t page; /* page size for vnp_weights_release */
};

/* A table with no tensors yet; path is copied. NULL on allocation failure. */
vnp_weights *vnp_wt_new(const char *path);
/* Appends a tensor with the raw name name[0..len) (copied). The shape/strides/data of t are taken as they are;
 * readers validate them before. */
int vnp_wt_add(vnp_weights *w, const char *name, size_t len, const vnp_tensor *t) VNP_MUST_CHECK;
/* Adds or replaces a metadata pair (both copied; value len bytes, may hold no NUL). */
int vnp_wt_meta(vnp_weights *w, const char *key, const char *value, size_t len) VNP_MUST_CHECK;
/* Takes ownership of a region, released at vnp_weights_close. On failure the region is released at once. */
int vnp_wt_own(vnp_weights *w, void *base, size_t len, int mapped) VNP_MUST_CHECK;
/* Normalises every name, sorts the tensors and the metadata, rejects duplicate names. `what` names the source
 * in messages. */
int vnp_wt_finish(vnp_weights *w, const char *what) VNP_MUST_CHECK;

/* names.c: the normalised name of a raw name, malloc'ed; fair != 0 applies the fair-esm -> HF table.
 * vnp_names_is_fair tells whether a raw name marks a fair-esm layout (embed_tokens.weight or layers.N.*). */
char *vnp_names_normalise(const char *raw, int fair);
int vnp_names_is_fair(const char *raw);

/* Row-major strides for shape[0..ndim) into strides; numel into *numel. VNP_ERR_FORMAT when a dim is negative or
 * the product overflows int64 (or, in bytes with elsize, size_t / int64). */
int vnp_shape_numel(int ndim, const int64_t *shape, size_t elsize, int64_t *numel) VNP_MUST_CHECK;
/* Row-major strides of shape (dims of size 0 count as 1; a stride that would overflow is set to 0, which only
 * happens when numel is 0). */
void vnp_contig_strides(int ndim, const int64_t *shape, int64_t *strides);
/* 1 when the strides are row-major contiguous (dims of size 1 ignored). */
int vnp_strides_contiguous(int ndim, const int64_t *shape, const int64_t *strides);

#endif
