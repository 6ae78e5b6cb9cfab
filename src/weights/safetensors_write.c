/* The safetensors writer: sorted JSON header padded to 8 bytes, then every tensor's bytes, streamed through a
 * small conversion buffer, into an atomic output file. */
#include "safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_ELEMS ((int64_t)1 << 20)

typedef struct {
    const vnp_tensor *t;
    size_t i;
} wr_item;

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const wr_item *)a)->t->name, ((const wr_item *)b)->t->name);
}

static vnp_dtype out_dtype(const vnp_tensor *t, vnp_dtype float_dtype)
{
    return float_dtype != VNP_DT_COUNT && vnp_dtype_is_float(t->dtype) ? float_dtype : t->dtype;
}

/* The header JSON text (malloc'ed, not padded) for items in order. */
static char *build_header(const wr_item *it, size_t n, vnp_dtype float_dtype, const vnp_meta_pair *meta,
                          size_t nmeta)
{
    json_t *root = json_object(), *md = json_object();
    char *text = NULL;
    if (!root || !md) goto done;
    if (json_object_set_new(md, "format", json_string("pt"))) goto done;
    for (size_t i = 0; i < nmeta; i++)
        if (!meta[i].key || !meta[i].value || json_object_set_new(md, meta[i].key, json_string(meta[i].value)))
            goto done;
    if (json_object_set(root, "__metadata__", md)) goto done;
    uint64_t off = 0;
    for (size_t k = 0; k < n; k++) {
        const vnp_tensor *t = it[k].t;
        vnp_dtype dt = out_dtype(t, float_dtype);
        uint64_t bytes = (uint64_t)t->numel * vnp_dtype_size(dt);
        json_t *e = json_object(), *shape = json_array();
        if (!e || !shape) {
            json_decref(e);
            json_decref(shape);
            goto done;
        }
        for (int d = 0; d < t->ndim; d++) json_array_append_new(shape, json_integer(t->shape[d]));
        json_object_set_new(e, "dtype", json_string(vnp_dtype_name(dt)));
        json_object_set_new(e, "shape", shape);
        json_object_set_new(e, "data_offsets", json_pack("[II]", (json_int_t)off, (json_int_t)(off + bytes)));
        if (json_object_set_new(root, t->name, e)) goto done;
        off += bytes;
    }
    text = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
done:
    json_decref(md);
    json_decref(root);
    return text;
}

/* Validates the tensors: names, dtypes, sizes that add up without overflow. */
static int check_tensors(const wr_item *it, size_t n, vnp_dtype float_dtype, const char *path)
{
    uint64_t total = 0;
    for (size_t k = 0; k < n; k++) {
        const vnp_tensor *t = it[k].t;
        if (!t->name || !*t->name || (unsigned)t->dtype >= VNP_DT_COUNT || t->ndim < 0 || t->ndim > VNP_MAX_DIMS ||
            (t->numel > 0 && !t->data)) {
            vnp_error("%s: tensor %zu ('%s') has no name, no data or an invalid dtype/rank", path, it[k].i,
                      t->name ? t->name : "");
            return VNP_ERR_USAGE;
        }
        int64_t numel;
        size_t es = vnp_dtype_size(out_dtype(t, float_dtype));
        if (vnp_shape_numel(t->ndim, t->shape, es, &numel) != VNP_OK || numel != t->numel ||
            (uint64_t)numel * es > UINT64_MAX / 2 - total) {
            vnp_error("%s: tensor '%s': numel does not match its shape, or the sizes overflow", path, t->name);
            return VNP_ERR_USAGE;
        }
        total += (uint64_t)numel * es;
        if (k > 0 && strcmp(it[k - 1].t->name, t->name) == 0) {
            vnp_error("%s: two tensors are named '%s'", path, t->name);
            return VNP_ERR_USAGE;
        }
    }
    return VNP_OK;
}

static int write_tensor(FILE *fp, const vnp_tensor *t, vnp_dtype dt, void *scratch)
{
    size_t es = vnp_dtype_size(dt);
    if (dt == t->dtype && t->contiguous) {
        size_t bytes = (size_t)t->numel * es;
        return bytes && fwrite(t->data, 1, bytes, fp) != bytes ? VNP_ERR_IO : VNP_OK;
    }
    for (int64_t first = 0; first < t->numel; first += CHUNK_ELEMS) {
        int64_t cnt = t->numel - first < CHUNK_ELEMS ? t->numel - first : CHUNK_ELEMS;
        int rc = vnp_tensor_convert(t, dt, first, cnt, scratch);
        if (rc) return rc;
        if (fwrite(scratch, es, (size_t)cnt, fp) != (size_t)cnt) return VNP_ERR_IO;
    }
    return VNP_OK;
}

int vnp_safetensors_write_cb(const char *path, const vnp_tensor *tensors, size_t n, vnp_dtype float_dtype,
                             const vnp_meta_pair *meta, size_t nmeta, vnp_st_written_fn done, void *ctx)
{
    if (float_dtype != VNP_DT_COUNT && float_dtype != VNP_DT_F32 && float_dtype != VNP_DT_F16 &&
        float_dtype != VNP_DT_BF16) {
        vnp_error("%s: tensors can be written as F32, F16 or BF16, not %s", path, vnp_dtype_name(float_dtype));
        return VNP_ERR_USAGE;
    }
    wr_item *it = vnp_malloc_array(n ? n : 1, sizeof *it);
    void *scratch = vnp_malloc_array((size_t)CHUNK_ELEMS, 8);
    char *header = NULL;
    vnp_outfile *o = NULL;
    int rc = VNP_ERR_NOMEM;
    if (!it || !scratch) goto fail;
    for (size_t i = 0; i < n; i++) it[i] = (wr_item){&tensors[i], i};
    if (n > 1) qsort(it, n, sizeof *it, cmp_item);
    rc = check_tensors(it, n, float_dtype, path);
    if (rc) goto fail;
    header = build_header(it, n, float_dtype, meta, nmeta);
    if (!header) {
        vnp_error("%s: cannot build the header (out of memory, or a name or metadata text that is not UTF-8)",
                  path);
        rc = VNP_ERR_FORMAT;
        goto fail;
    }
    size_t hlen = strlen(header), padded = (hlen + 7) & ~(size_t)7;
    o = vnp_outfile_open(path);
    if (!o) {
        rc = VNP_ERR_IO;
        goto fail;
    }
    FILE *fp = vnp_outfile_fp(o);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    rc = VNP_ERR_IO;
    if (fwrite(len8, 1, 8, fp) != 8 || fwrite(header, 1, hlen, fp) != hlen) goto fail;
    for (size_t i = hlen; i < padded; i++)
        if (fputc(' ', fp) == EOF) goto fail;
    for (size_t k = 0; k < n; k++) {
        rc = write_tensor(fp, it[k].t, out_dtype(it[k].t, float_dtype), scratch);
        if (rc) {
            if (rc == VNP_ERR_IO) vnp_error("%s: writing tensor '%s' failed", path, it[k].t->name);
            goto fail;
        }
        if (done) done(ctx, it[k].i);
    }
    free(it);
    free(scratch);
    free(header);
    return vnp_outfile_commit(o);
fail:
    vnp_outfile_abort(o);
    free(it);
    free(scratch);
    free(header);
    return rc;
}

int vnp_safetensors_write(const char *path, const vnp_tensor *tensors, size_t n, vnp_dtype float_dtype,
                          const vnp_meta_pair *meta, size_t nmeta)
{
    return vnp_safetensors_write_cb(path, tensors, n, float_dtype, meta, nmeta, NULL, NULL);
}

typedef struct {
    const vnp_weights *w;
    const vnp_tensor *t;
} save_ctx;

static void release_written(void *ctx, size_t i)
{
    const save_ctx *c = ctx;
    vnp_weights_release(c->w, &c->t[i]);
}

int vnp_weights_save(const vnp_weights *w, const char *path, vnp_dtype float_dtype)
{
    size_t n = vnp_weights_count(w), nm = vnp_weights_meta_count(w), k = 0;
    vnp_tensor *t = vnp_malloc_array(n ? n : 1, sizeof *t);
    vnp_meta_pair *meta = vnp_malloc_array(nm + 1, sizeof *meta);
    int rc = VNP_ERR_NOMEM;
    if (t && meta) {
        for (size_t i = 0; i < n; i++) t[i] = *vnp_weights_at(w, i);
        for (size_t i = 0; i < nm; i++) {
            vnp_weights_meta_at(w, i, &meta[k].key, &meta[k].value);
            if (strcmp(meta[k].key, "format") != 0 && strcmp(meta[k].key, "source_format") != 0) k++;
        }
        meta[k++] = (vnp_meta_pair){"source_format", vnp_weights_format(w)};
        save_ctx c = {w, t};
        rc = vnp_safetensors_write_cb(path, t, n, float_dtype, meta, k, release_written, &c);
    }
    free(t);
    free(meta);
    return rc;
}
