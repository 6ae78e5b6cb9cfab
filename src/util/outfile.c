/* Whole files: atomic output files (written under a temporary name, renamed onto the final name only when
 * complete), reading a small file into memory, writing a buffer to a file; and the yes/no environment switches. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vnp_outfile {
    FILE *fp;
    char *path;
    char *tmp;
};

vnp_outfile *vnp_outfile_open(const char *path)
{
    vnp_outfile *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    size_t n = strlen(path) + 32;
    o->path = vnp_strdup(path);
    o->tmp = malloc(n);
    if (!o->path || !o->tmp) goto fail;
    snprintf(o->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    /* a fresh file, never one a symbolic link under the temporary name points to (an old one of that name is a
     * stale leftover of a killed process with our pid: unlink removes a link itself, not its target) */
    unlink(o->tmp);
    int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    o->fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!o->fp) {
        if (fd >= 0) close(fd);
        vnp_error("cannot create '%s': %s", o->tmp, strerror(errno));
        goto fail;
    }
    return o;
fail:
    free(o->path);
    free(o->tmp);
    free(o);
    return NULL;
}

FILE *vnp_outfile_fp(vnp_outfile *o) { return o->fp; }

static void outfile_free(vnp_outfile *o)
{
    free(o->path);
    free(o->tmp);
    free(o);
}

int vnp_outfile_commit(vnp_outfile *o)
{
    int rc = VNP_OK;
    if (fflush(o->fp) != 0 || ferror(o->fp) || fsync(fileno(o->fp)) != 0) {
        vnp_error("writing '%s' failed: %s", o->path, strerror(errno));
        rc = VNP_ERR_IO;
    }
    if (fclose(o->fp) != 0 && rc == VNP_OK) {
        vnp_error("closing '%s' failed: %s", o->path, strerror(errno));
        rc = VNP_ERR_IO;
    }
    if (rc == VNP_OK && rename(o->tmp, o->path) != 0) {
        vnp_error("cannot rename '%s' to '%s': %s", o->tmp, o->path, strerror(errno));
        rc = VNP_ERR_IO;
    }
    if (rc != VNP_OK) unlink(o->tmp);
    outfile_free(o);
    return rc;
}

void vnp_outfile_abort(vnp_outfile *o)
{
    if (!o) return;
    fclose(o->fp);
    unlink(o->tmp);
    outfile_free(o);
}

int vnp_read_file(const char *path, size_t max_bytes, vnp_buf *out)
{
    out->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        vnp_error("cannot open '%s': %s", path, strerror(errno));
        return VNP_ERR_IO;
    }
    char chunk[65536];
    size_t n;
    int rc = VNP_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > max_bytes) {
            vnp_error("'%s' is larger than %zu bytes", path, max_bytes);
            rc = VNP_ERR_FORMAT;
            break;
        }
        if ((rc = vnp_buf_append(out, chunk, n))) {
            vnp_error("'%s': out of memory", path);
            break;
        }
    }
    if (rc == VNP_OK && ferror(f)) {
        vnp_error("reading '%s' failed: %s", path, strerror(errno));
        rc = VNP_ERR_IO;
    }
    fclose(f);
    if (rc == VNP_OK && !out->data && (rc = vnp_buf_reserve(out, 0)) == VNP_OK) out->data[0] = '\0';
    if (rc) vnp_buf_free(out);
    return rc;
}

int vnp_write_file(const char *path, const void *data, size_t n)
{
    vnp_outfile *o = vnp_outfile_open(path);
    if (!o) return VNP_ERR_IO;
    if (n && fwrite(data, 1, n, o->fp) != n) {
        vnp_error("writing '%s' failed: %s", path, strerror(errno));
        vnp_outfile_abort(o);
        return VNP_ERR_IO;
    }
    return vnp_outfile_commit(o);
}
