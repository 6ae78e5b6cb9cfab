/* PyTorch zip checkpoints: finds <prefix>/data.pkl, runs the pickle VM on it and binds each storage key to the
 * stored entry <prefix>/data/<key> (spec/esm2.md §4d). */
#include "torch.h"

#include "pickle.h"
#include "zip.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const vnp_zip *z;
    const char *what;
    char name[512];
} storage_ctx;

static int find_storage(void *ctx, const char *key, size_t key_len, const uint8_t **bytes, uint64_t *nbytes)
{
    storage_ctx *c = ctx;
    int n = snprintf(c->name, sizeof c->name, "%.*s/data/%.*s", (int)c->z->prefix_len, c->z->prefix,
                     (int)(key_len < 256 ? key_len : 256), key);
    if (n < 0 || (size_t)n >= sizeof c->name || key_len >= 256) return VNP_ERR_NOTFOUND;
    const vnp_zip_entry *e = vnp_zip_find(c->z, c->name, (size_t)n);
    if (!e) return VNP_ERR_NOTFOUND;
    int rc = vnp_zip_entry_bytes(c->z, e, c->what, bytes);
    if (rc) return rc;
    *nbytes = e->size;
    return VNP_OK;
}

/* The bytes of <prefix>/<leaf>, NULL-free: *e is NULL when the entry is absent. */
static const vnp_zip_entry *find_leaf(const vnp_zip *z, const char *leaf)
{
    char name[512];
    int n = snprintf(name, sizeof name, "%.*s/%s", (int)z->prefix_len, z->prefix, leaf);
    if (n < 0 || (size_t)n >= sizeof name) return NULL;
    return vnp_zip_find(z, name, (size_t)n);
}

int vnp_torch_parse_mem(vnp_weights *w, const uint8_t *data, size_t size, const char *what)
{
    vnp_zip z;
    vnp_pickle pk = {0};
    pk.root = -1;
    int rc = vnp_zip_parse_mem(data, size, what, &z);
    if (rc) return rc;
    if (z.prefix_len > 256) {
        vnp_error("%s: byte %llu: the top-level folder of the archive is longer than 256 bytes", what,
                  (unsigned long long)z.cd_offset);
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    const vnp_zip_entry *bo = find_leaf(&z, "byteorder");
    const uint8_t *p;
    if (bo && vnp_zip_entry_bytes(&z, bo, what, &p) == VNP_OK && bo->size >= 3 && memcmp(p, "big", 3) == 0) {
        vnp_error("%s: byte %llu: the checkpoint was written on a big-endian machine (byteorder 'big'); not "
                  "supported",
                  what, (unsigned long long)bo->data_offset);
        rc = VNP_ERR_UNSUPPORTED;
        goto done;
    }
    const vnp_zip_entry *pe = find_leaf(&z, "data.pkl");
    if (!pe) {
        vnp_error("%s: byte %llu: the central directory lists no '%.*s/data.pkl' (not a torch.save checkpoint?)",
                  what, (unsigned long long)z.cd_offset, (int)z.prefix_len, z.prefix);
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    if ((rc = vnp_zip_entry_bytes(&z, pe, what, &p))) goto done;
    char pwhat[1024];
    snprintf(pwhat, sizeof pwhat, "%s: %.*s/data.pkl (at file byte %llu)", what, (int)z.prefix_len, z.prefix,
             (unsigned long long)pe->data_offset);
    if ((rc = vnp_pickle_parse_mem(p, (size_t)pe->size, pwhat, &pk))) goto done;
    storage_ctx sc = {.z = &z, .what = what};
    rc = vnp_pickle_collect(&pk, w, find_storage, &sc, pwhat);
done:
    vnp_pickle_free(&pk);
    vnp_zip_free(&z);
    return rc;
}
