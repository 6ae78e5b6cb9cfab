/* Opening a sequence input: the file or standard input, format recognition from the content (htslib), and
 * dispatch to the FASTA/FASTQ or SAM/BAM/CRAM record readers. */
#define _POSIX_C_SOURCE 200809L
#include "io_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <htslib/hts_log.h>

const char *vnp_seqformat_name(vnp_seqformat fmt)
{
    switch (fmt) {
    case VNP_SEQFMT_EMPTY: return "empty";
    case VNP_SEQFMT_FASTA: return "FASTA";
    case VNP_SEQFMT_FASTQ: return "FASTQ";
    case VNP_SEQFMT_SAM: return "SAM";
    case VNP_SEQFMT_BAM: return "BAM";
    case VNP_SEQFMT_CRAM: return "CRAM";
    }
    return "unknown";
}

void vnp_io_quote(char *out, size_t cap, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;
    if (cap < 12) {
        if (cap) out[0] = '\0';
        return;
    }
    out[j++] = '\'';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (j + 8 >= cap) {
            out[j++] = '.';
            out[j++] = '.';
            out[j++] = '.';
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[j++] = (char)c;
        } else {
            out[j++] = '\\';
            out[j++] = 'x';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j++] = '\'';
    out[j] = '\0';
}

/* htslib prints its own diagnostics; ours name the file and record, so its are shown only when debugging. */
static void quiet_htslib(void)
{
    vnp_log_level lv = vnp_log_get_level();
    hts_set_log_level(lv >= VNP_LOG_DEBUG ? HTS_LOG_WARNING : lv >= VNP_LOG_INFO ? HTS_LOG_ERROR : HTS_LOG_OFF);
}

static int open_errno_status(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case EACCES:
    case EPERM:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG: return VNP_ERR_NOTFOUND;
    case ENOMEM: return VNP_ERR_NOMEM;
    default: return VNP_ERR_IO;
    }
}

/* Says what the content is when it is no sequence format. */
static int not_a_sequence_file(vnp_seqreader *r, hFILE *hf, const htsFormat *f)
{
    char head[16], shown[80];
    ssize_t n = hpeek(hf, head, sizeof head);
    vnp_io_quote(shown, sizeof shown, head, n > 0 ? (size_t)n : 0);
    char *desc = hts_format_description(f);
    vnp_error("'%s' is not FASTA, FASTQ, SAM, BAM or CRAM: it looks like %s and starts with %s", r->name,
              desc ? desc : "unknown data", shown);
    free(desc);
    return VNP_ERR_FORMAT;
}

static int open_text(vnp_seqreader *r, hFILE *hf, const htsFormat *f)
{
    BGZF *bz = NULL;
    if (f->compression == gzip || f->compression == bgzf) {
        bz = bgzf_hopen(hf, "r");
        if (!bz) {
            if (hclose(hf) < 0) vnp_debug("closing '%s' failed", r->name);
            vnp_error("'%s': cannot read its compressed data", r->name);
            return VNP_ERR_TRUNCATED;
        }
        vnp_lines_init(&r->lines, NULL, bz);
        /* 0: the BGZF end-of-file block is absent (2: a pipe, where it cannot be checked). */
        if (f->compression == bgzf) r->lines.bgzf_eof_marker_missing = bgzf_check_EOF(bz) == 0;
    } else if (f->compression == no_compression) {
        vnp_lines_init(&r->lines, hf, NULL);
    } else {
        char *desc = hts_format_description(f);
        vnp_error("'%s' is %s; only plain, gzip and bgzip compression are read (decompress it first)", r->name,
                  desc ? desc : "compressed with an unsupported method");
        free(desc);
        if (hclose(hf) < 0) vnp_debug("closing '%s' failed", r->name);
        return VNP_ERR_UNSUPPORTED;
    }
    return VNP_OK;
}

int vnp_seqreader_open(vnp_seqreader **out, const char *path, const vnp_seqreader_opts *opts)
{
    *out = NULL;
    quiet_htslib();
    vnp_seqreader *r = calloc(1, sizeof *r);
    if (!r) {
        vnp_error("out of memory");
        return VNP_ERR_NOMEM;
    }
    int is_stdin = strcmp(path, "-") == 0;
    r->path = vnp_strdup(path);
    r->name = vnp_strdup(is_stdin ? "standard input" : path);
    if (!r->path || !r->name) {
        vnp_seqreader_close(r);
        vnp_error("out of memory");
        return VNP_ERR_NOMEM;
    }
    int rc = VNP_OK;
    if (!is_stdin) {
        struct stat st;
        if (stat(path, &st) != 0) {
            int e = errno;
            vnp_error("cannot open '%s': %s", path, strerror(e));
            vnp_seqreader_close(r);
            return open_errno_status(e);
        }
        if (S_ISDIR(st.st_mode)) {
            vnp_error("cannot read '%s': it is a directory", path);
            vnp_seqreader_close(r);
            return VNP_ERR_NOTFOUND;
        }
    }
    hFILE *hf = hopen(path, "r");
    if (!hf) {
        int e = errno;
        vnp_error("cannot open '%s': %s", r->name, strerror(e));
        vnp_seqreader_close(r);
        return open_errno_status(e);
    }
    htsFormat f;
    if (hts_detect_format2(hf, is_stdin ? NULL : path, &f) < 0) {
        int e = errno;
        vnp_error("cannot read '%s': %s", r->name, strerror(e ? e : EIO));
        if (hclose(hf) < 0) vnp_debug("closing '%s' failed", r->name);
        vnp_seqreader_close(r);
        return open_errno_status(e);
    }
    switch (f.format) {
    case empty_format:
        r->fmt = VNP_SEQFMT_EMPTY;
        r->state = 1;
        if (hclose(hf) < 0) vnp_debug("closing '%s' failed", r->name);
        break;
    case fasta_format:
    case fastq_format:
    case text_format:
        /* Plain text (e.g. blank lines before the first header) is decided by its first non-blank line. */
        r->fmt = f.format == fastq_format ? VNP_SEQFMT_FASTQ : VNP_SEQFMT_FASTA;
        r->fastx_started = f.format == text_format ? -1 : 0;
        rc = open_text(r, hf, &f);
        break;
    case sam:
    case bam:
    case cram: rc = vnp_sam_open(r, hf, opts); break;
    default:
        rc = not_a_sequence_file(r, hf, &f);
        if (hclose(hf) < 0) vnp_debug("closing '%s' failed", r->name);
        break;
    }
    if (rc != VNP_OK) {
        vnp_seqreader_close(r);
        return rc;
    }
    vnp_debug("'%s': %s", r->name, vnp_seqformat_name(r->fmt));
    *out = r;
    return VNP_OK;
}

/* Text whose first bytes htslib could not place: the first non-blank line says FASTA ('>'), FASTQ ('@') or
 * neither. */
static int decide_text_format(vnp_seqreader *r)
{
    vnp_lines *l = &r->lines;
    int rc;
    for (;;) {
        rc = vnp_lines_next(l, r->name, 0);
        if (rc <= 0) return rc;
        size_t i = 0;
        while (i < l->len && (l->line[i] == ' ' || (l->line[i] >= '\t' && l->line[i] <= '\r'))) i++;
        if (i < l->len) break;
    }
    if (l->line[0] == '>' || l->line[0] == '@') {
        r->fmt = l->line[0] == '>' ? VNP_SEQFMT_FASTA : VNP_SEQFMT_FASTQ;
        r->fastx_started = 0;
        vnp_lines_push_back(l);
        return 1;
    }
    char seen[64];
    vnp_io_quote(seen, sizeof seen, l->line, l->len);
    vnp_error("'%s' is not FASTA, FASTQ, SAM, BAM or CRAM: its first non-blank line (line %llu) is %s", r->name,
              (unsigned long long)l->line_no, seen);
    return VNP_ERR_FORMAT;
}

int vnp_seqreader_next(vnp_seqreader *r, vnp_seqrecord *rec)
{
    if (r->state) return r->state < 0 ? r->state : 0;
    int rc;
    if (r->fastx_started < 0 && (rc = decide_text_format(r)) <= 0) {
        r->state = rc < 0 ? rc : 1;
        return rc;
    }
    switch (r->fmt) {
    case VNP_SEQFMT_FASTA: rc = vnp_fasta_next(r, rec); break;
    case VNP_SEQFMT_FASTQ: rc = vnp_fastq_next(r, rec); break;
    case VNP_SEQFMT_SAM:
    case VNP_SEQFMT_BAM:
    case VNP_SEQFMT_CRAM: rc = vnp_sam_next(r, rec); break;
    default: rc = 0; break;
    }
    if (rc == 1) {
        r->nrec++;
        return 1;
    }
    r->state = rc < 0 ? rc : 1;
    return rc;
}

vnp_seqformat vnp_seqreader_format(const vnp_seqreader *r) { return r->fmt; }
const char *vnp_seqreader_name(const vnp_seqreader *r) { return r->name; }
uint64_t vnp_seqreader_count(const vnp_seqreader *r) { return r->nrec; }

void vnp_seqreader_close(vnp_seqreader *r)
{
    if (!r) return;
    if (r->hts) {
        vnp_sam_close(r);
    } else if (r->lines.bgzf) {
        if (bgzf_close(r->lines.bgzf) < 0) vnp_debug("closing '%s' failed", r->name);
    } else if (r->lines.hf) {
        if (hclose(r->lines.hf) < 0) vnp_debug("closing '%s' failed", r->name);
    }
    vnp_lines_free(&r->lines);
    vnp_buf_free(&r->id);
    vnp_buf_free(&r->next_id);
    vnp_buf_free(&r->seq);
    free(r->path);
    free(r->name);
    free(r);
}

uint64_t vnp_seqreader_bytes_read(const vnp_seqreader *r)
{
    off_t at = -1;
    if (r->lines.bgzf) {
        at = htell(r->lines.bgzf->fp);
    } else if (r->lines.hf) {
        at = htell(r->lines.hf);
    } else if (r->hts && r->fmt != VNP_SEQFMT_CRAM) {
        at = r->hts->is_bgzf ? htell(r->hts->fp.bgzf->fp) : htell(r->hts->fp.hfile);
    }
    return at > 0 ? (uint64_t)at : 0;
}
