/* SAM, BAM and CRAM records as sequences, the way `samtools fasta -N` (1.16) turns them into FASTA: secondary
 * and supplementary alignments skipped, reverse-strand reads complemented back to the orientation they were
 * sequenced in, "/1" or "/2" appended to the names of the first and second reads of a pair. */
#include "io_internal.h"

#include <errno.h>
#include <string.h>

#include <htslib/cram.h>

int vnp_sam_open(vnp_seqreader *r, hFILE *hf, const vnp_seqreader_opts *opts)
{
    r->hts = hts_hopen(hf, r->path, "r");
    if (!r->hts) {
        if (hclose(hf) < 0) vnp_debug("closing '%s' failed", r->name);
        vnp_error("'%s': cannot open it as SAM/BAM/CRAM", r->name);
        return VNP_ERR_FORMAT;
    }
    const htsFormat *f = hts_get_format(r->hts);
    r->fmt = f->format == bam ? VNP_SEQFMT_BAM : f->format == cram ? VNP_SEQFMT_CRAM : VNP_SEQFMT_SAM;
    if (opts && opts->reference && hts_set_fai_filename(r->hts, opts->reference) != 0) {
        vnp_error("cannot use '%s' as the reference for '%s'", opts->reference, r->name);
        return VNP_ERR_NOTFOUND;
    }
    /* A cut-off BGZF/CRAM file usually ends between blocks, where nothing else shows it. */
    if (r->fmt == VNP_SEQFMT_CRAM) {
        r->bgzf_eof_marker_missing = cram_check_EOF(r->hts->fp.cram) == 0;
    } else if (r->hts->format.compression == bgzf) {
        r->bgzf_eof_marker_missing = bgzf_check_EOF(r->hts->fp.bgzf) == 0;
    }
    r->hdr = sam_hdr_read(r->hts);
    if (!r->hdr) {
        vnp_error("'%s': cannot read the %s header (truncated or corrupt file?)", r->name,
                  vnp_seqformat_name(r->fmt));
        return r->fmt == VNP_SEQFMT_SAM ? VNP_ERR_FORMAT : VNP_ERR_TRUNCATED;
    }
    r->b = bam_init1();
    if (!r->b) {
        vnp_error("out of memory reading '%s'", r->name);
        return VNP_ERR_NOMEM;
    }
    return VNP_OK;
}

void vnp_sam_close(vnp_seqreader *r)
{
    bam_destroy1(r->b);
    sam_hdr_destroy(r->hdr);
    if (r->hts && hts_close(r->hts) != 0) vnp_debug("closing '%s' failed", r->name);
    r->b = NULL;
    r->hdr = NULL;
    r->hts = NULL;
}

/* seq_nt16_str of the complement of each 4-bit base code (the code's bits reversed). */
static const char COMP_NT16[] = "=TGKCYSBAWRDMHVN";

static int read_error(vnp_seqreader *r, int ret)
{
    if (r->fmt == VNP_SEQFMT_SAM) {
        vnp_error("'%s': the SAM record after read %llu cannot be parsed", r->name, (unsigned long long)r->nrec);
        return VNP_ERR_FORMAT;
    }
    if (ret == -2) {
        vnp_error("'%s' is truncated: the %s data breaks off after %llu reads", r->name,
                  vnp_seqformat_name(r->fmt), (unsigned long long)r->nrec);
        return VNP_ERR_TRUNCATED;
    }
    vnp_error("'%s': the %s record after read %llu is corrupt or cannot be decoded%s", r->name,
              vnp_seqformat_name(r->fmt), (unsigned long long)r->nrec,
              r->fmt == VNP_SEQFMT_CRAM ? " (is its reference available? see --reference)" : "");
    return VNP_ERR_TRUNCATED;
}

int vnp_sam_next(vnp_seqreader *r, vnp_seqrecord *rec)
{
    bam1_t *b = r->b;
    for (;;) {
        int ret = sam_read1(r->hts, r->hdr, b);
        if (ret == -1) {
            if (r->bgzf_eof_marker_missing) {
                vnp_error("'%s' is truncated: it ends without the %s end-of-file marker, after %llu reads",
                          r->name, vnp_seqformat_name(r->fmt), (unsigned long long)r->nrec);
                return VNP_ERR_TRUNCATED;
            }
            return 0;
        }
        if (ret < -1) return read_error(r, ret);
        uint16_t flag = b->core.flag;
        if (flag & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY)) continue;
        int32_t n = b->core.l_qseq;
        if (n <= 0) continue; /* SEQ '*': samtools writes nothing for it either */
        const char *suffix = "";
        if (flag & BAM_FPAIRED) {
            uint16_t rd = flag & (BAM_FREAD1 | BAM_FREAD2);
            suffix = rd == BAM_FREAD1 ? "/1" : rd == BAM_FREAD2 ? "/2" : "";
        }
        r->id.len = 0;
        if (vnp_buf_append(&r->id, bam_get_qname(b), strlen(bam_get_qname(b))) ||
            vnp_buf_append(&r->id, suffix, strlen(suffix)) || vnp_buf_reserve(&r->seq, (size_t)n)) {
            vnp_error("out of memory reading '%s'", r->name);
            return VNP_ERR_NOMEM;
        }
        const uint8_t *s = bam_get_seq(b);
        char *out = r->seq.data;
        if (flag & BAM_FREVERSE) {
            for (int32_t i = 0; i < n; i++) out[i] = COMP_NT16[bam_seqi(s, n - 1 - i)];
        } else {
            for (int32_t i = 0; i < n; i++) out[i] = seq_nt16_str[bam_seqi(s, i)];
        }
        r->seq.len = (size_t)n;
        out[n] = '\0';
        rec->id = r->id.data;
        rec->id_len = r->id.len;
        rec->seq = r->seq.data;
        rec->seq_len = r->seq.len;
        rec->index = r->nrec;
        rec->line = 0;
        return 1;
    }
}
