/* io: reading sequences (FASTA, FASTQ, SAM, BAM, CRAM; plain, gzip or BGZF; '-' for standard input) through
 * htslib, and writing the FASTA outputs of preprocessing. Formats are recognised from the content, never from the
 * file name. Records stream one at a time: memory is bounded by the longest record, not by the input. */
#ifndef VNP_IO_H
#define VNP_IO_H

#include "vnp/util.h"

#include <stddef.h>
#include <stdint.h>

/* ---- reading ---- */

typedef enum {
    VNP_SEQFMT_EMPTY = 0, /* no bytes at all (or compressed nothing): zero records */
    VNP_SEQFMT_FASTA,
    VNP_SEQFMT_FASTQ,
    VNP_SEQFMT_SAM,
    VNP_SEQFMT_BAM,
    VNP_SEQFMT_CRAM
} vnp_seqformat;

/* Short name of a format ("FASTA", "BAM", ...). */
const char *vnp_seqformat_name(vnp_seqformat fmt);

/* One record. The strings belong to the reader and stay valid until its next vnp_seqreader_next/close call. */
typedef struct {
    const char *id;  /* NUL-terminated. FASTA/FASTQ: the first whitespace-delimited word of the header (as
                        Biopython); SAM/BAM/CRAM: the read name, plus "/1" or "/2" for the first or second read
                        of a pair (as `samtools fasta -N`) */
    size_t id_len;
    const char *seq; /* NUL-terminated. FASTA/FASTQ: the sequence lines joined, with leading/trailing whitespace
                        and spaces removed, case preserved; SAM/BAM/CRAM: SEQ in the read's original orientation
                        (reverse-strand reads reverse-complemented back) */
    size_t seq_len;
    uint64_t index;  /* 0-based number of the record in the input */
    uint64_t line;   /* FASTA/FASTQ: 1-based line of the header; 0 for SAM/BAM/CRAM */
} vnp_seqrecord;

typedef struct {
    const char *reference; /* CRAM: reference FASTA for decoding (NULL: the header's UR/M5 lookup) */
} vnp_seqreader_opts;

typedef struct vnp_seqreader vnp_seqreader;

/* Opens path ("-" = standard input) and recognises its format from the first bytes. On success *out is the reader
 * and 0 is returned; otherwise *out is NULL, an error naming the file is logged, and the status is
 * VNP_ERR_NOTFOUND (missing, unreadable or a directory), VNP_ERR_FORMAT (content that is no sequence format:
 * the message says what was seen), VNP_ERR_UNSUPPORTED, VNP_ERR_TRUNCATED, VNP_ERR_IO or VNP_ERR_NOMEM.
 * opts may be NULL. */
int vnp_seqreader_open(vnp_seqreader **out, const char *path, const vnp_seqreader_opts *opts) VNP_MUST_CHECK;

/* Reads the next record into *rec. Returns 1 when a record was read, 0 at the end of the input, or a negative
 * status after logging the file, the record number reached and (for text) the line: VNP_ERR_TRUNCATED (a gzip,
 * BGZF, BAM or CRAM stream that ends early or is corrupt), VNP_ERR_FORMAT (FASTA/FASTQ/SAM syntax), VNP_ERR_IO,
 * VNP_ERR_NOMEM. After an error or the end, further calls return the same value. Records of SAM/BAM/CRAM that are
 * secondary (0x100) or supplementary (0x800), or have no SEQ, are skipped like `samtools fasta` skips them. */
int vnp_seqreader_next(vnp_seqreader *r, vnp_seqrecord *rec) VNP_MUST_CHECK;

vnp_seqformat vnp_seqreader_format(const vnp_seqreader *r);
/* The name used in messages: the path, or "standard input" for "-". */
const char *vnp_seqreader_name(const vnp_seqreader *r);
/* Bytes of the input file consumed so far (compressed bytes for gzip/BGZF/BAM; read-ahead included), for progress
 * estimates; 0 when unknown (CRAM). */
uint64_t vnp_seqreader_bytes_read(const vnp_seqreader *r);
/* Records returned so far. */
uint64_t vnp_seqreader_count(const vnp_seqreader *r);
void vnp_seqreader_close(vnp_seqreader *r); /* accepts NULL */

/* ---- duplicate ids ----
 * Remembers ids as 64-bit hashes (8 bytes each, so millions of reads stay cheap) to count repeats. The table stops
 * growing at VNP_IDSET_MAX_IDS ids (128 MiB); later ids are then no longer checked (vnp_idset_full says so). A false repeat
 * needs a 64-bit hash collision. */
#define VNP_IDSET_MAX_IDS (1u << 23)
typedef struct vnp_idset vnp_idset;
vnp_idset *vnp_idset_create(void);
void vnp_idset_free(vnp_idset *s); /* accepts NULL */
/* Adds id; returns 1 if it was seen before, 0 if new (or the set is full), VNP_ERR_NOMEM. */
int vnp_idset_add(vnp_idset *s, const char *id, size_t len) VNP_MUST_CHECK;
int vnp_idset_full(const vnp_idset *s);

/* ---- writing FASTA ----
 * Output goes to "<path>.tmp.<pid>" (vnp_outfile) and is renamed onto path by vnp_fasta_writer_commit, so a file
 * that looks finished is complete. */
typedef struct vnp_fasta_writer vnp_fasta_writer;
/* width > 0: sequence lines wrapped at width columns, an empty sequence written as one empty line (Biopython
 * SeqIO.write with width 60); width == 0: the whole sequence on one line. NULL after logging on failure. */
vnp_fasta_writer *vnp_fasta_writer_open(const char *path, int width);
/* Appends ">id\n" and the sequence lines. Returns 0 or VNP_ERR_IO (logged, naming the file). */
int vnp_fasta_writer_put(vnp_fasta_writer *w, const char *id, size_t id_len, const char *seq,
                         size_t seq_len) VNP_MUST_CHECK;
/* Flushes, closes and renames onto the final path; frees w in every case. Returns 0 or VNP_ERR_IO. */
int vnp_fasta_writer_commit(vnp_fasta_writer *w) VNP_MUST_CHECK;
/* Removes the temporary file; frees w; accepts NULL. */
void vnp_fasta_writer_abort(vnp_fasta_writer *w);

/* Creates directory dir and its missing parents (like `mkdir -p`). Returns 0, VNP_ERR_IO or VNP_ERR_NOTFOUND
 * (a component exists and is not a directory, or permission denied), after logging. */
int vnp_mkdir_p(const char *dir) VNP_MUST_CHECK;

/* ---- writing embeddings.h5 (libhdf5) ----
 * Layout: dataset "frame_id" [N] (variable-length UTF-8 strings), "dnabert_s" [N, d_dna] and "esm2" [N, d_prot]
 * (float32), rows in the same order; readable with h5py. Rows are appended in batches; the file is written under
 * a temporary name and renamed by vnp_h5_embeddings_commit. */
typedef struct vnp_h5_embeddings vnp_h5_embeddings;
/* NULL after logging on failure. */
vnp_h5_embeddings *vnp_h5_embeddings_create(const char *path, int d_dna, int d_prot);
/* Appends n rows: ids[i] and features[i*(d_dna+d_prot) ...] (DNA first). Returns 0 or VNP_ERR_IO. */
int vnp_h5_embeddings_append(vnp_h5_embeddings *h, const char *const *ids, const float *features,
                             size_t n) VNP_MUST_CHECK;
int vnp_h5_embeddings_commit(vnp_h5_embeddings *h) VNP_MUST_CHECK; /* frees h in every case */
void vnp_h5_embeddings_abort(vnp_h5_embeddings *h);                  /* accepts NULL */

#endif
