/* A set of record ids kept as 64-bit hashes, to notice repeated ids in inputs of any size cheaply. */
#include "vnp/io.h"

#include <stdlib.h>

struct vnp_idset {
    uint64_t *slot; /* open addressing, linear probing; 0 = empty */
    size_t cap;     /* power of two */
    size_t n;
    int full;
};

/* FNV-1a followed by a 64-bit finaliser (murmur3 fmix64) so that the low bits used for the slot are mixed. */
static uint64_t hash_id(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h ? h : 1;
}

vnp_idset *vnp_idset_create(void)
{
    vnp_idset *s = calloc(1, sizeof *s);
    if (s) {
        s->cap = 1024;
        s->slot = calloc(s->cap, sizeof *s->slot);
    }
    if (!s || !s->slot) {
        vnp_error("out of memory");
        vnp_idset_free(s);
        return NULL;
    }
    return s;
}

void vnp_idset_free(vnp_idset *s)
{
    if (!s) return;
    free(s->slot);
    free(s);
}

int vnp_idset_full(const vnp_idset *s) { return s->full; }

static void insert(uint64_t *slot, size_t cap, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    while (slot[i]) i = (i + 1) & (cap - 1);
    slot[i] = h;
}

static int grow(vnp_idset *s)
{
    size_t cap = s->cap * 2;
    uint64_t *ns = vnp_calloc_array(cap, sizeof *ns);
    if (!ns) {
        vnp_error("out of memory remembering %zu record ids", s->n);
        return VNP_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i]) insert(ns, cap, s->slot[i]);
    free(s->slot);
    s->slot = ns;
    s->cap = cap;
    return VNP_OK;
}

int vnp_idset_add(vnp_idset *s, const char *id, size_t len)
{
    uint64_t h = hash_id(id, len);
    size_t i = (size_t)h & (s->cap - 1);
    while (s->slot[i]) {
        if (s->slot[i] == h) return 1;
        i = (i + 1) & (s->cap - 1);
    }
    if (s->full) return 0;
    if (s->n >= VNP_IDSET_MAX_IDS) {
        s->full = 1;
        return 0;
    }
    /* Keep the load at or below one half so probes stay short. */
    if ((s->n + 1) * 2 > s->cap) {
        int rc = grow(s);
        if (rc) return rc;
        i = (size_t)h & (s->cap - 1);
        while (s->slot[i]) i = (i + 1) & (s->cap - 1);
    }
    s->slot[i] = h;
    s->n++;
    return 0;
}
