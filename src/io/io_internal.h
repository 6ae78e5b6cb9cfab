/* The sequence reader's state, shared by the files of src/io/ (open and dispatch, text line reading, FASTA/FASTQ
 * records, SAM/BAM/CRAM records). Not a public header. */
#ifndef VNP_IO_INTERNAL_H
#define VNP_IO_INTERNAL_H

#include "vnp/io.h"

#include <htslib/bgzf.h>
#include <htslib/hfile.h>
#include <htslib/hts.h>
#include <htslib/sam.h>

/* Text input is read in blocks of this many decompressed bytes; lines inside a block are handed out without
 * copying, a line crossing a block edge is assembled in vnp_lines.spill. Kept small because bgzf_read discards a
 * whole request when the compressed data breaks off, and the records completed before that are what the
 * truncation message reports. */
#define VNP_LINES_BLOCK (1u << 16)

/* Lines of a text stream with Python's universal newlines (\n, \r\n and a lone \r all end a line), which is how
 * the original reads its FASTA. */
typedef struct {
    hFILE *hf;      /* uncompressed input, or NULL */
    BGZF *bgzf;     /* gzip/BGZF input, or NULL */
    int bgzf_eof_marker_missing; /* BGZF without its end-of-file block: the file was cut short */
    char *blk;      /* [VNP_LINES_BLOCK] */
    size_t pos, end;
    int at_eof;
    int pending_cr; /* the last line ended in \r at a block edge: a \n starting the next block belongs to it */
    vnp_buf spill;  /* a line crossing a block edge */
    int pushed_back; /* vnp_lines_next returns the previous line again */
    const char *line;
    size_t len;
    uint64_t line_no; /* 1-based number of the line last returned */
    int status;       /* sticky: 0, or the error that ended the stream */
} vnp_lines;

struct vnp_seqreader {
    char *path;      /* as given */
    char *name;      /* for messages: the path, or "standard input" */
    vnp_seqformat fmt;
    enum htsCompression compression;
    uint64_t nrec;   /* records returned */
    int state;       /* 0 reading; 1 at the end; < 0 the sticky error */

    /* FASTA/FASTQ */
    vnp_lines lines;
    vnp_buf id, next_id;   /* the current record's id; the id of the FASTA header already read */
    uint64_t next_id_line; /* its line */
    int have_next;
    int fastx_started;     /* the leading blank lines have been skipped */
    vnp_buf seq;

    /* SAM/BAM/CRAM */
    htsFile *hts;
    sam_hdr_t *hdr;
    bam1_t *b;
    int bgzf_eof_marker_missing;
};

/* lines.c */
void vnp_lines_init(vnp_lines *l, hFILE *hf, BGZF *bgzf);
void vnp_lines_free(vnp_lines *l);
/* 1 a line (l->line, l->len, without its terminator), 0 end, < 0 error (logged with name and nrec, the records
 * completed so far). */
int vnp_lines_next(vnp_lines *l, const char *name, uint64_t nrec) VNP_MUST_CHECK;
void vnp_lines_push_back(vnp_lines *l);

/* seqreader.c: p[0..n) for a message, quoted, non-printable bytes as \xNN, cut at about cap-8 bytes. */
void vnp_io_quote(char *out, size_t cap, const char *p, size_t n);

/* fastx.c */
int vnp_fasta_next(vnp_seqreader *r, vnp_seqrecord *rec) VNP_MUST_CHECK;
int vnp_fastq_next(vnp_seqreader *r, vnp_seqrecord *rec) VNP_MUST_CHECK;

/* sam.c */
int vnp_sam_open(vnp_seqreader *r, hFILE *hf, const vnp_seqreader_opts *opts) VNP_MUST_CHECK;
int vnp_sam_next(vnp_seqreader *r, vnp_seqrecord *rec) VNP_MUST_CHECK;
void vnp_sam_close(vnp_seqreader *r);

#endif
