/* FASTA and FASTQ records over vnp_lines, read the way the original (Biopython) reads them.
 *
 * FASTA: a header line starts with '>'; the id is the first whitespace-delimited word after it. Every other line
 * up to the next header is sequence: leading/trailing whitespace stripped, inner spaces removed, the rest (case
 * included) kept. Only blank lines may precede the first header.
 * FASTQ: '@' header, sequence lines up to a line starting with '+', then quality lines until they are as long as
 * the sequence (so multi-line records work); the quality must have exactly the sequence's length. */
#include "io_internal.h"

#include <string.h>

/* Per byte, for sequence lines: what Python's str.strip()/split() call whitespace (ASCII part), and what to do with
 * a byte inside a line. */
enum { K_COPY = 0, K_SPACE = 1, K_KEEP_WS = 2, K_CONTROL = 3 };
static const unsigned char WS[256] = {['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
                                      [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, [' '] = 1};
static unsigned char KIND[256];
static int kind_ready;

static void init_kind(void)
{
    for (int c = 0; c < 256; c++) {
        if (c == ' ') KIND[c] = K_SPACE;
        else if (WS[c]) KIND[c] = K_KEEP_WS; /* str.strip() removes it at the ends only */
        else if (c < 0x20 || c == 0x7f) KIND[c] = K_CONTROL;
        else KIND[c] = K_COPY;
    }
    __atomic_store_n(&kind_ready, 1, __ATOMIC_RELEASE);
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!WS[(unsigned char)p[i]]) return 0;
    return 1;
}

/* id = first whitespace-delimited word of header h[0..n) (h excludes the '>' or '@'). */
static int set_id(vnp_buf *id, const char *h, size_t n)
{
    size_t i = 0;
    while (i < n && WS[(unsigned char)h[i]]) i++;
    size_t j = i;
    while (j < n && !WS[(unsigned char)h[j]]) j++;
    id->len = 0;
    return vnp_buf_append(id, h + i, j - i);
}

/* Appends one sequence line, normalised as the original does (strip, then drop spaces). */
static int append_seq_line(vnp_seqreader *r, const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    while (s < e && WS[*s]) s++;
    while (e > s && WS[e[-1]]) e--;
    if (vnp_buf_reserve(&r->seq, (size_t)(e - s))) {
        vnp_error("out of memory: record %llu of '%s' is longer than %zu bases", (unsigned long long)r->nrec + 1,
                  r->name, r->seq.len);
        return VNP_ERR_NOMEM;
    }
    char *out = r->seq.data + r->seq.len;
    for (const unsigned char *q = s; q < e; q++) {
        unsigned char c = *q;
        unsigned k = KIND[c];
        if (k == K_COPY || k == K_KEEP_WS) {
            *out++ = (char)c;
        } else if (k == K_CONTROL) {
            vnp_error("'%s' line %llu, column %zu: control byte 0x%02x in the sequence of record %llu ('%s'); "
                      "expected sequence letters (is this a binary file?)",
                      r->name, (unsigned long long)r->lines.line_no, (size_t)(q - (const unsigned char *)p) + 1,
                      c, (unsigned long long)r->nrec + 1, r->id.data ? r->id.data : "");
            return VNP_ERR_FORMAT;
        }
    }
    r->seq.len = (size_t)(out - r->seq.data);
    r->seq.data[r->seq.len] = '\0';
    return VNP_OK;
}

static int nomem(vnp_seqreader *r)
{
    vnp_error("out of memory reading '%s'", r->name);
    return VNP_ERR_NOMEM;
}

/* Makes sure id and seq are valid (possibly empty) C strings and fills rec. */
static int finish_record(vnp_seqreader *r, vnp_seqrecord *rec, uint64_t line)
{
    if (vnp_buf_reserve(&r->id, 0) || vnp_buf_reserve(&r->seq, 0)) return nomem(r);
    r->id.data[r->id.len] = '\0';
    r->seq.data[r->seq.len] = '\0';
    rec->id = r->id.data;
    rec->id_len = r->id.len;
    rec->seq = r->seq.data;
    rec->seq_len = r->seq.len;
    rec->index = r->nrec;
    rec->line = line;
    return 1;
}

static int bad_start(vnp_seqreader *r, const char *expected)
{
    char seen[64];
    vnp_io_quote(seen, sizeof seen, r->lines.line, r->lines.len);
    vnp_error("'%s' line %llu: expected %s, found %s", r->name, (unsigned long long)r->lines.line_no, expected,
              seen);
    return VNP_ERR_FORMAT;
}

int vnp_fasta_next(vnp_seqreader *r, vnp_seqrecord *rec)
{
    if (!__atomic_load_n(&kind_ready, __ATOMIC_ACQUIRE)) init_kind();
    vnp_lines *l = &r->lines;
    int rc;
    if (!r->have_next) {
        if (r->fastx_started) return 0;
        r->fastx_started = 1;
        while ((rc = vnp_lines_next(l, r->name, r->nrec)) == 1) {
            if (l->len > 0 && l->line[0] == '>') break;
            if (!is_blank(l->line, l->len)) return bad_start(r, "a FASTA header line starting with '>'");
        }
        if (rc <= 0) return rc;
        if (set_id(&r->next_id, l->line + 1, l->len - 1)) return nomem(r);
        r->next_id_line = l->line_no;
        r->have_next = 1;
    }
    vnp_buf t = r->id;
    r->id = r->next_id;
    r->next_id = t;
    uint64_t line = r->next_id_line;
    r->have_next = 0;
    r->seq.len = 0;
    while ((rc = vnp_lines_next(l, r->name, r->nrec)) == 1) {
        if (l->len > 0 && l->line[0] == '>') {
            if (set_id(&r->next_id, l->line + 1, l->len - 1)) return nomem(r);
            r->next_id_line = l->line_no;
            r->have_next = 1;
            break;
        }
        if ((rc = append_seq_line(r, l->line, l->len)) < 0) return rc;
    }
    if (rc < 0) return rc; /* the record may be incomplete: never hand it out */
    return finish_record(r, rec, line);
}

static int fastq_eof(vnp_seqreader *r, uint64_t line, const char *where)
{
    vnp_error("'%s': the file ends inside FASTQ record %llu ('%s', line %llu) %s", r->name,
              (unsigned long long)r->nrec + 1, r->id.data, (unsigned long long)line, where);
    return VNP_ERR_FORMAT;
}

int vnp_fastq_next(vnp_seqreader *r, vnp_seqrecord *rec)
{
    if (!__atomic_load_n(&kind_ready, __ATOMIC_ACQUIRE)) init_kind();
    vnp_lines *l = &r->lines;
    int rc;
    while ((rc = vnp_lines_next(l, r->name, r->nrec)) == 1 && is_blank(l->line, l->len)) {
    }
    if (rc <= 0) return rc;
    if (l->line[0] != '@') return bad_start(r, "a FASTQ header line starting with '@'");
    if (set_id(&r->id, l->line + 1, l->len - 1)) return nomem(r);
    uint64_t line = l->line_no;
    r->seq.len = 0;
    while ((rc = vnp_lines_next(l, r->name, r->nrec)) == 1 && !(l->len > 0 && l->line[0] == '+'))
        if ((rc = append_seq_line(r, l->line, l->len)) < 0) return rc;
    if (rc < 0) return rc;
    if (rc == 0) return fastq_eof(r, line, "before its '+' line");
    /* Quality lines until they cover the sequence. An empty sequence has one (empty) quality line, which may be
     * missing before the next record or the end. */
    size_t qlen = 0;
    uint64_t plus_line = l->line_no;
    if (r->seq.len == 0) {
        rc = vnp_lines_next(l, r->name, r->nrec);
        if (rc < 0) return rc;
        if (rc == 1 && !is_blank(l->line, l->len)) vnp_lines_push_back(l);
    }
    while (qlen < r->seq.len) {
        if ((rc = vnp_lines_next(l, r->name, r->nrec)) < 0) return rc;
        if (rc == 0) return fastq_eof(r, line, "before the end of its quality string");
        size_t n = l->len;
        while (n > 0 && WS[(unsigned char)l->line[n - 1]]) n--;
        qlen += n;
    }
    if (qlen != r->seq.len) {
        vnp_error("'%s' lines %llu-%llu: FASTQ record %llu ('%s') has %zu quality characters for %zu bases",
                  r->name, (unsigned long long)plus_line + 1, (unsigned long long)l->line_no,
                  (unsigned long long)r->nrec + 1, r->id.data, qlen, r->seq.len);
        return VNP_ERR_FORMAT;
    }
    return finish_record(r, rec, line);
}
