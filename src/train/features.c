/* Feature files for training: the dnabert_s and esm2 datasets of an embeddings.h5 / embed-frames file read into one
 * row-major matrix (DNA first), and the chunk_length attribute that says which chunk length they were made for. */
#include "vnp/train.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

void vnp_features_free(vnp_features *f)
{
    if (!f) return;
    if (f->ids)
        for (size_t i = 0; i < f->n; i++) free(f->ids[i]);
    free(f->ids);
    free(f->x);
    memset(f, 0, sizeof *f);
}

/* Opens a 2-D dataset and reports its shape; -1 after a message. */
static hid_t open_matrix(hid_t file, const char *path, const char *name, hsize_t dims[2])
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
        vnp_error("'%s': no dataset '%s' (expected the layout of embed-frames / predict --save-embeddings)", path, name);
        return -1;
    }
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) {
        vnp_error("'%s': cannot open dataset '%s'", path, name);
        return -1;
    }
    hid_t sp = H5Dget_space(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (rank == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    hid_t ty = H5Dget_type(ds);
    int is_float = ty >= 0 && H5Tget_class(ty) == H5T_FLOAT;
    if (ty >= 0) H5Tclose(ty);
    if (rank != 2 || !is_float || dims[1] == 0 || dims[1] > 65536) {
        vnp_error("'%s': dataset '%s' must be a 2-D float matrix [rows, 1..65536], got rank %d%s", path, name, rank,
                  is_float ? "" : " (not float)");
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

/* Reads dataset ds [n, w] into columns [off, off + w) of x [n, ld]. */
static int read_block(hid_t ds, size_t n, size_t w, float *x, size_t ld, size_t off)
{
    enum { ROWS = 4096 };
    float *buf = vnp_malloc_array(ROWS, w * sizeof(float));
    if (!buf) return VNP_ERR_NOMEM;
    hid_t fsp = H5Dget_space(ds);
    int rc = VNP_OK;
    for (size_t r = 0; r < n && rc == VNP_OK; r += ROWS) {
        hsize_t start[2] = {r, 0}, count[2] = {n - r < ROWS ? n - r : ROWS, w};
        hid_t msp = H5Screate_simple(2, count, NULL);
        if (H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_FLOAT, msp, fsp, H5P_DEFAULT, buf) < 0)
            rc = VNP_ERR_IO;
        H5Sclose(msp);
        for (size_t i = 0; rc == VNP_OK && i < count[0]; i++)
            memcpy(x + (r + i) * ld + off, buf + i * w, w * sizeof(float));
    }
    H5Sclose(fsp);
    free(buf);
    return rc;
}

static int read_ids(hid_t file, const char *path, vnp_features *f)
{
    hid_t ds = H5Lexists(file, "frame_id", H5P_DEFAULT) > 0 ? H5Dopen2(file, "frame_id", H5P_DEFAULT) : -1;
    if (ds < 0) {
        vnp_error("'%s': no dataset 'frame_id'", path);
        return VNP_ERR_FORMAT;
    }
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[1] = {0};
    int ok = H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, dims, NULL) == 1 && dims[0] == f->n;
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    f->ids = ok ? vnp_calloc_array(f->n ? f->n : 1, sizeof(char *)) : NULL;
    int rc = !ok ? VNP_ERR_FORMAT : !f->ids ? VNP_ERR_NOMEM : VNP_OK;
    if (rc == VNP_OK && f->n && H5Dread(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, f->ids) < 0) rc = VNP_ERR_FORMAT;
    if (rc == VNP_ERR_FORMAT) vnp_error("'%s': 'frame_id' must hold %zu variable-length strings", path, f->n);
    H5Tclose(st);
    H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

static int read_chunk_len(hid_t file)
{
    int v = 0;
    if (H5Aexists(file, "chunk_length") <= 0) return 0;
    hid_t a = H5Aopen(file, "chunk_length", H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_INT, &v) < 0) v = 0;
    if (a >= 0) H5Aclose(a);
    return v > 0 ? v : 0;
}

int vnp_features_read(const char *path, int want_ids, vnp_features *f)
{
    memset(f, 0, sizeof *f);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(path) <= 0) {
        vnp_error("'%s' is not a readable HDF5 file", path);
        return VNP_ERR_FORMAT;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        vnp_error("cannot open HDF5 file '%s'", path);
        return VNP_ERR_NOTFOUND;
    }
    hsize_t dd[2] = {0, 0}, dp[2] = {0, 0};
    hid_t ds_dna = open_matrix(file, path, "dnabert_s", dd);
    hid_t ds_prot = ds_dna >= 0 ? open_matrix(file, path, "esm2", dp) : -1;
    int rc = ds_prot < 0 ? VNP_ERR_FORMAT : VNP_OK;
    if (rc == VNP_OK && dd[0] != dp[0]) {
        vnp_error("'%s': dnabert_s has %llu rows but esm2 has %llu", path, (unsigned long long)dd[0],
                  (unsigned long long)dp[0]);
        rc = VNP_ERR_FORMAT;
    }
    if (rc == VNP_OK) {
        f->n = (size_t)dd[0];
        f->d_dna = (int)dd[1];
        f->d_prot = (int)dp[1];
        size_t d = (size_t)f->d_dna + (size_t)f->d_prot;
        f->x = vnp_malloc_array(f->n ? f->n : 1, d * sizeof(float));
        rc = f->x ? VNP_OK : VNP_ERR_NOMEM;
        if (rc == VNP_OK) rc = read_block(ds_dna, f->n, (size_t)f->d_dna, f->x, d, 0);
        if (rc == VNP_OK) rc = read_block(ds_prot, f->n, (size_t)f->d_prot, f->x, d, (size_t)f->d_dna);
        if (rc == VNP_ERR_IO) vnp_error("'%s': reading the feature rows failed", path);
    }
    if (rc == VNP_OK && want_ids) rc = read_ids(file, path, f);
    if (rc == VNP_OK) f->chunk_len = read_chunk_len(file);
    if (ds_dna >= 0) H5Dclose(ds_dna);
    if (ds_prot >= 0) H5Dclose(ds_prot);
    H5Fclose(file);
    if (rc) vnp_features_free(f);
    return rc;
}

int vnp_features_set_chunk_length(const char *path, int chunk_len)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) {
        vnp_error("cannot open HDF5 file '%s' for writing", path);
        return VNP_ERR_IO;
    }
    hid_t sp = H5Screate(H5S_SCALAR);
    if (H5Aexists(file, "chunk_length") > 0) H5Adelete(file, "chunk_length");
    hid_t a = H5Acreate2(file, "chunk_length", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, H5T_NATIVE_INT, &chunk_len) >= 0 ? VNP_OK : VNP_ERR_IO;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    if (H5Fclose(file) < 0) rc = VNP_ERR_IO;
    if (rc) vnp_error("cannot write the chunk_length attribute of '%s'", path);
    return rc;
}
