/* embeddings.h5 through libhdf5: three extendible datasets (frame ids, DNABERT-S and ESM-2 features) appended
 * batch by batch, so a run of any size writes its features with bounded memory. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/io.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vnp_h5_embeddings {
    hid_t file, ids, dna, prot, str_type;
    int d_dna, d_prot;
    hsize_t rows;
    float *scratch; /* one batch of one feature block, de-interleaved */
    size_t scratch_rows;
    char *path, *tmp;
};

static hid_t make_dataset(hid_t file, const char *name, hid_t type, int width)
{
    hsize_t dims[2] = {0, (hsize_t)width}, maxdims[2] = {H5S_UNLIMITED, (hsize_t)width};
    hsize_t chunk[2] = {1024, (hsize_t)(width > 0 ? width : 1)};
    int rank = width > 0 ? 2 : 1;
    hid_t space = H5Screate_simple(rank, dims, maxdims);
    hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    if (width > 0 && (size_t)width * 1024 * 4 > (4u << 20)) chunk[0] = (4u << 20) / ((hsize_t)width * 4);
    H5Pset_chunk(plist, rank, chunk);
    H5Pset_obj_track_times(plist, 0); /* no timestamps: the same features give the same file, byte for byte */
    hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    H5Pclose(plist);
    H5Sclose(space);
    return ds;
}

static void close_all(vnp_h5_embeddings *h)
{
    if (h->ids >= 0) H5Dclose(h->ids);
    if (h->dna >= 0) H5Dclose(h->dna);
    if (h->prot >= 0) H5Dclose(h->prot);
    if (h->str_type >= 0) H5Tclose(h->str_type);
    if (h->file >= 0) H5Fclose(h->file);
    h->ids = h->dna = h->prot = h->str_type = h->file = -1;
}

static void h5_free(vnp_h5_embeddings *h)
{
    free(h->scratch);
    free(h->path);
    free(h->tmp);
    free(h);
}

vnp_h5_embeddings *vnp_h5_embeddings_create(const char *path, int d_dna, int d_prot)
{
    vnp_h5_embeddings *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->file = h->ids = h->dna = h->prot = h->str_type = -1;
    h->d_dna = d_dna;
    h->d_prot = d_prot;
    size_t n = strlen(path) + 32;
    h->path = vnp_strdup(path);
    h->tmp = malloc(n);
    if (!h->path || !h->tmp) goto fail;
    snprintf(h->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our messages, not the library's stack dumps */
    h->file = H5Fcreate(h->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (h->file < 0) {
        vnp_error("cannot create HDF5 file '%s'", h->tmp);
        goto fail;
    }
    h->str_type = H5Tcopy(H5T_C_S1);
    H5Tset_size(h->str_type, H5T_VARIABLE);
    H5Tset_cset(h->str_type, H5T_CSET_UTF8);
    h->ids = make_dataset(h->file, "frame_id", h->str_type, 0);
    h->dna = make_dataset(h->file, "dnabert_s", H5T_IEEE_F32LE, d_dna);
    h->prot = make_dataset(h->file, "esm2", H5T_IEEE_F32LE, d_prot);
    if (h->ids < 0 || h->dna < 0 || h->prot < 0) {
        vnp_error("cannot create the datasets of '%s'", h->tmp);
        goto fail;
    }
    return h;
fail:
    close_all(h);
    if (h->tmp) unlink(h->tmp);
    h5_free(h);
    return NULL;
}

/* Writes rows [h->rows, h->rows + n) of one dataset from a contiguous buffer. */
static int write_rows(hid_t ds, hid_t mem_type, int width, hsize_t first, size_t n, const void *buf)
{
    int rank = width > 0 ? 2 : 1;
    hsize_t size[2] = {first + n, (hsize_t)width};
    if (H5Dset_extent(ds, size) < 0) return VNP_ERR_IO;
    hid_t fspace = H5Dget_space(ds);
    hsize_t start[2] = {first, 0}, count[2] = {n, (hsize_t)width};
    hid_t mspace = H5Screate_simple(rank, count, NULL);
    herr_t e = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    if (e >= 0) e = H5Dwrite(ds, mem_type, mspace, fspace, H5P_DEFAULT, buf);
    H5Sclose(mspace);
    H5Sclose(fspace);
    return e < 0 ? VNP_ERR_IO : VNP_OK;
}

int vnp_h5_embeddings_append(vnp_h5_embeddings *h, const char *const *ids, const float *features, size_t n)
{
    if (n == 0) return VNP_OK;
    size_t d = (size_t)h->d_dna + (size_t)h->d_prot;
    int widest = h->d_dna > h->d_prot ? h->d_dna : h->d_prot;
    if (n > h->scratch_rows) {
        free(h->scratch);
        h->scratch = vnp_malloc_array(n, (size_t)widest * sizeof(float));
        h->scratch_rows = h->scratch ? n : 0;
        if (!h->scratch) return VNP_ERR_NOMEM;
    }
    int rc = write_rows(h->ids, h->str_type, 0, h->rows, n, ids);
    for (int part = 0; part < 2 && rc == VNP_OK; part++) {
        int w = part ? h->d_prot : h->d_dna;
        size_t off = part ? (size_t)h->d_dna : 0;
        for (size_t i = 0; i < n; i++) memcpy(h->scratch + i * (size_t)w, features + i * d + off, (size_t)w * sizeof(float));
        rc = write_rows(part ? h->prot : h->dna, H5T_NATIVE_FLOAT, w, h->rows, n, h->scratch);
    }
    if (rc) {
        vnp_error("writing rows %llu.. of '%s' failed", (unsigned long long)h->rows, h->path);
        return rc;
    }
    h->rows += n;
    return VNP_OK;
}

int vnp_h5_embeddings_commit(vnp_h5_embeddings *h)
{
    int rc = H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0 ? VNP_ERR_IO : VNP_OK;
    close_all(h);
    if (rc == VNP_OK && rename(h->tmp, h->path) != 0) rc = VNP_ERR_IO;
    if (rc) {
        vnp_error("finishing '%s' failed", h->path);
        unlink(h->tmp);
    }
    h5_free(h);
    return rc;
}

void vnp_h5_embeddings_abort(vnp_h5_embeddings *h)
{
    if (!h) return;
    close_all(h);
    unlink(h->tmp);
    h5_free(h);
}
