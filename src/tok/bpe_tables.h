/* Table building for the BPE loader (bpe_tables.c); used only inside src/tok. */
#ifndef VNP_BPE_TABLES_H
#define VNP_BPE_TABLES_H

#include "bpe_internal.h"

/* Copies s[0..n) and a NUL into the string pool; *off receives its offset. */
int vnp_bpe_pool_add(vnp_bpe *b, const char *s, size_t n, uint32_t *off) VNP_MUST_CHECK;
/* Sizes the vocab hash for `count` strings (no more may be put). */
int vnp_bpe_vocab_init(vnp_bpe *b, size_t count) VNP_MUST_CHECK;
/* Adds (or re-points) a vocab string. */
int vnp_bpe_vocab_put(vnp_bpe *b, const char *s, size_t n, int32_t id) VNP_MUST_CHECK;
/* Sizes the pair hash for `count` merges (no more may be put). */
int vnp_bpe_pairs_init(vnp_bpe *b, size_t count) VNP_MUST_CHECK;
/* Adds a merge; a pair already present takes the new rank and result. */
void vnp_bpe_pair_put(vnp_bpe *b, int32_t left, int32_t right, uint32_t rank, int32_t new_id);
/* After everything is put: vocab_size, the id -> string map, the one-byte table, the merge flags (shared,
 * by_rank), the added-token first bytes. */
int vnp_bpe_finish_tables(vnp_bpe *b) VNP_MUST_CHECK;

#endif
