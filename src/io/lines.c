/* Line splitting of plain, gzip and BGZF text for the FASTA/FASTQ parsers, with Python's universal newlines. */
#include "io_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vnp_lines_init(vnp_lines *l, hFILE *hf, BGZF *bgzf)
{
    memset(l, 0, sizeof *l);
    l->hf = hf;
    l->bgzf = bgzf;
}

void vnp_lines_free(vnp_lines *l)
{
    free(l->blk);
    vnp_buf_free(&l->spill);
    l->blk = NULL;
}

void vnp_lines_push_back(vnp_lines *l) { l->pushed_back = 1; }

/* Fills the block; returns bytes read, 0 at a clean end, or a negative status (logged). */
static long refill(vnp_lines *l, const char *name, uint64_t nrec)
{
    if (!l->blk) {
        l->blk = malloc(VNP_LINES_BLOCK);
        if (!l->blk) {
            vnp_error("out of memory reading '%s'", name);
            return VNP_ERR_NOMEM;
        }
    }
    ssize_t n;
    if (l->bgzf) {
        n = bgzf_read(l->bgzf, l->blk, VNP_LINES_BLOCK);
        if (n < 0) {
            vnp_error("'%s' is truncated or corrupt: the compressed data breaks off after %llu complete "
                      "records (%llu complete lines)", name, (unsigned long long)nrec, (unsigned long long)l->line_no);
            return VNP_ERR_TRUNCATED;
        }
        if (n == 0 && l->bgzf_eof_marker_missing) {
            vnp_error("'%s' is truncated: the BGZF data ends without its end-of-file marker, after %llu "
                      "complete records (%llu complete lines)", name, (unsigned long long)nrec, (unsigned long long)l->line_no);
            return VNP_ERR_TRUNCATED;
        }
    } else {
        n = hread(l->hf, l->blk, VNP_LINES_BLOCK);
        if (n < 0) {
            vnp_error("reading '%s' failed after %llu records (line %llu): %s", name, (unsigned long long)nrec,
                      (unsigned long long)l->line_no, strerror(herrno(l->hf) ? herrno(l->hf) : EIO));
            return VNP_ERR_IO;
        }
    }
    l->pos = 0;
    l->end = (size_t)n;
    return (long)n;
}

/* First '\n' or '\r' in [p, e), or NULL. Two memchr passes beat a byte loop on typical 60-80 column lines. */
static const char *find_eol(const char *p, const char *e)
{
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    const char *cr = memchr(p, '\r', (size_t)((nl ? nl : e) - p));
    return cr ? cr : nl;
}

int vnp_lines_next(vnp_lines *l, const char *name, uint64_t nrec)
{
    if (l->status) return l->status;
    if (l->pushed_back) {
        l->pushed_back = 0;
        return 1;
    }
    l->spill.len = 0;
    for (;;) {
        if (l->pos == l->end) {
            if (l->at_eof) return 0;
            long n = refill(l, name, nrec);
            if (n < 0) return l->status = (int)n;
            if (n == 0) {
                l->at_eof = 1;
                if (l->spill.len == 0) return 0;
                /* A last line without a terminator. */
                l->line = l->spill.data;
                l->len = l->spill.len;
                l->line_no++;
                return 1;
            }
        }
        if (l->pending_cr) {
            l->pending_cr = 0;
            if (l->blk[l->pos] == '\n') {
                l->pos++;
                continue;
            }
        }
        const char *p = l->blk + l->pos, *e = l->blk + l->end;
        const char *t = find_eol(p, e);
        if (!t) {
            if (vnp_buf_append(&l->spill, p, (size_t)(e - p))) {
                vnp_error("out of memory: a line of '%s' is longer than %zu bytes", name, l->spill.len);
                return l->status = VNP_ERR_NOMEM;
            }
            l->pos = l->end;
            continue;
        }
        if (l->spill.len) {
            if (vnp_buf_append(&l->spill, p, (size_t)(t - p))) {
                vnp_error("out of memory: a line of '%s' is longer than %zu bytes", name, l->spill.len);
                return l->status = VNP_ERR_NOMEM;
            }
            l->line = l->spill.data;
            l->len = l->spill.len;
        } else {
            l->line = p;
            l->len = (size_t)(t - p);
        }
        l->pos = (size_t)(t - l->blk) + 1;
        if (*t == '\r') {
            if (l->pos < l->end) {
                if (l->blk[l->pos] == '\n') l->pos++;
            } else {
                l->pending_cr = 1;
            }
        }
        l->line_no++;
        return 1;
    }
}
