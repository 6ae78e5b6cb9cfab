/* seq: VirNucPro's chunking and six-frame translation, reproduced exactly (spec/virnucpro.md §1-2).
 * Pure functions over byte strings: nothing here reads files or knows about models. A kept frame becomes a
 * vnp_work_item, the unit every later stage (tokenizers, encoders, classifier) refers to by index. */
#ifndef VNP_SEQ_H
#define VNP_SEQ_H

#include "vnp/util.h"

#include <stddef.h>
#include <stdint.h>

/* ---- chunking (spec §1) ----
 * A sequence of length n is cut into ceil(n/k) chunks of at most k bases. The original's step arithmetic overlaps
 * every chunk after the first by lower+1 bases, so the last chunk usually comes out shorter than k
 * (k=500: n=501 -> 500, 251; n=1001 -> 500, 500, 335). Reproduced, not fixed: the classifiers were trained on it. */
typedef struct {
    size_t offset; /* first base of the chunk in the sequence */
    size_t length; /* 1..k */
} vnp_chunk;

/* Number of chunks of a sequence of n bases: ceil(n/k); 0 for n == 0 or k == 0. */
size_t vnp_chunk_count(size_t n, size_t k);
/* Chunk c (0-based, c < vnp_chunk_count(n, k)) of a sequence of n bases, in O(1). Returns {0, 0} when c is out of
 * range. */
vnp_chunk vnp_chunk_get(size_t n, size_t k, size_t c);

/* ---- six-frame translation (spec §2) ---- */

/* Frames 1..3 are F1..F3 (forward, offsets 0..2), 4..6 are R1..R3 (on the reverse complement). */
#define VNP_NFRAMES 6

/* One kept frame: the work item of the pipeline. nuc and prot point into the vnp_translator that produced the
 * item and stay valid until its next vnp_translate_chunk call; copy them to keep them longer. */
typedef struct {
    uint64_t record;  /* 0-based index of the input record */
    uint64_t chunk;   /* 0-based index of the chunk in its record (ids print chunk+1) */
    int frame;        /* 1..6 */
    const char *nuc;  /* upper-cased nucleotide slice, one base longer than the codons where the chunk allows */
    size_t nuc_len;
    const char *prot; /* protein, no '*', never empty; codons with a non-ACGT base are missing from it */
    size_t prot_len;
} vnp_work_item;

/* Scratch memory for translating chunks; one per thread. */
typedef struct vnp_translator vnp_translator;
vnp_translator *vnp_translator_create(void);
void vnp_translator_free(vnp_translator *t); /* accepts NULL */

/* Translates chunk[0..len) in six frames and stores the kept frames (no stop codon, not empty) in items[0..*n_kept)
 * in the original's order F1 F2 F3 R1 R2 R3. record and chunk_index are copied into the items. The chunk is read
 * as the original reads it after str.upper(): ASCII letters in any case, every other byte kept as is (and any codon
 * containing it dropped). Returns 0, or VNP_ERR_NOMEM. */
int vnp_translate_chunk(vnp_translator *t, const char *chunk, size_t len, uint64_t record, uint64_t chunk_index,
                        vnp_work_item items[VNP_NFRAMES], int *n_kept) VNP_MUST_CHECK;

/* The frame's id suffix as the original prints it: "F1".."F3", "R1".."R3" (frame 1..6); "" otherwise. */
const char *vnp_frame_label(int frame);

/* The amino acid of an upper-case ACGT codon ('*' for a stop), or 0 when any of the three bytes is not ACGT. */
char vnp_codon_translate(const char codon[3]);

/* How many bytes of s[0..n) are outside ACGTacgt (each one drops every codon containing it). */
size_t vnp_seq_count_non_acgt(const char *s, size_t n);

/* out[0..n) = reverse complement of s[0..n) as the original computes it: ACGTacgt complemented, every other byte
 * kept, order reversed. out and s must not overlap. */
void vnp_seq_revcomp(char *out, const char *s, size_t n);

#endif
