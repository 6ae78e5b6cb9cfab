/* FASTA output files of preprocessing: buffered writes into an atomic vnp_outfile, and output directories. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Records are formatted into a buffer of this size and handed to stdio in large writes. */
#define WRITER_BUF (1u << 20)

struct vnp_fasta_writer {
    vnp_outfile *out;
    char *path;
    int width;
    char *buf; /* [WRITER_BUF] */
    size_t len;
};

vnp_fasta_writer *vnp_fasta_writer_open(const char *path, int width)
{
    vnp_fasta_writer *w = calloc(1, sizeof *w);
    if (!w) {
        vnp_error("out of memory");
        return NULL;
    }
    w->width = width > 0 ? width : 0;
    w->path = vnp_strdup(path);
    w->buf = malloc(WRITER_BUF);
    if (!w->path || !w->buf) {
        vnp_error("out of memory");
        goto fail;
    }
    w->out = vnp_outfile_open(path);
    if (!w->out) goto fail; /* logged by vnp_outfile_open */
    return w;
fail:
    free(w->path);
    free(w->buf);
    free(w);
    return NULL;
}

static int flush_buf(vnp_fasta_writer *w)
{
    if (w->len && fwrite(w->buf, 1, w->len, vnp_outfile_fp(w->out)) != w->len) {
        vnp_error("writing '%s' failed: %s", w->path, strerror(errno));
        return VNP_ERR_IO;
    }
    w->len = 0;
    return VNP_OK;
}

/* Appends p[0..n) to the buffer, flushing (and writing very long pieces directly) as needed. */
static int emit(vnp_fasta_writer *w, const char *p, size_t n)
{
    if (n > WRITER_BUF - w->len) {
        if (flush_buf(w)) return VNP_ERR_IO;
        if (n >= WRITER_BUF) {
            if (fwrite(p, 1, n, vnp_outfile_fp(w->out)) != n) {
                vnp_error("writing '%s' failed: %s", w->path, strerror(errno));
                return VNP_ERR_IO;
            }
            return VNP_OK;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return VNP_OK;
}

static int emit_c(vnp_fasta_writer *w, char c)
{
    if (w->len == WRITER_BUF && flush_buf(w)) return VNP_ERR_IO;
    w->buf[w->len++] = c;
    return VNP_OK;
}

int vnp_fasta_writer_put(vnp_fasta_writer *w, const char *id, size_t id_len, const char *seq, size_t seq_len)
{
    if (emit_c(w, '>') || emit(w, id, id_len) || emit_c(w, '\n')) return VNP_ERR_IO;
    if (w->width == 0 || seq_len == 0) /* Biopython writes an empty sequence as one empty line */
        return emit(w, seq, seq_len) || emit_c(w, '\n') ? VNP_ERR_IO : VNP_OK;
    size_t width = (size_t)w->width;
    for (size_t i = 0; i < seq_len; i += width) {
        size_t n = seq_len - i < width ? seq_len - i : width;
        if (emit(w, seq + i, n) || emit_c(w, '\n')) return VNP_ERR_IO;
    }
    return VNP_OK;
}

static void writer_free(vnp_fasta_writer *w)
{
    free(w->path);
    free(w->buf);
    free(w);
}

int vnp_fasta_writer_commit(vnp_fasta_writer *w)
{
    int rc = flush_buf(w);
    if (rc) {
        vnp_outfile_abort(w->out);
    } else {
        rc = vnp_outfile_commit(w->out);
    }
    writer_free(w);
    return rc;
}

void vnp_fasta_writer_abort(vnp_fasta_writer *w)
{
    if (!w) return;
    vnp_outfile_abort(w->out);
    writer_free(w);
}

int vnp_mkdir_p(const char *dir)
{
    char *p = vnp_strdup(dir);
    if (!p) {
        vnp_error("out of memory");
        return VNP_ERR_NOMEM;
    }
    int rc = VNP_OK;
    size_t n = strlen(p);
    /* Create each prefix ending before a '/', then the whole path. */
    for (size_t i = 1; i <= n && rc == VNP_OK; i++) {
        if (i < n && p[i] != '/') continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            vnp_error("cannot create directory '%s': %s", p, strerror(e));
            rc = e == EACCES || e == ENOTDIR || e == EROFS || e == EPERM ? VNP_ERR_NOTFOUND : VNP_ERR_IO;
        }
        p[i] = saved;
    }
    struct stat st;
    if (rc == VNP_OK && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        vnp_error("cannot use '%s' as the output directory: it is not a directory", dir);
        rc = VNP_ERR_NOTFOUND;
    }
    free(p);
    return rc;
}
