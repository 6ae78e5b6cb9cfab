/* The in-memory form of a loaded BPE tokenizer, shared by its loader (bpe_load.c, bpe_json.c) and encoder
 * (bpe_encode.c). Everything here is written once at load and read-only afterwards. */
#ifndef VNP_BPE_INTERNAL_H
#define VNP_BPE_INTERNAL_H

#include "tok_internal.h"

#include <stdint.h>
#include <string.h>

/* Ids are kept below 2^24 so that id tables stay small whatever a file claims. */
#define VNP_BPE_MAX_ID (1 << 24)
#define VNP_BPE_MAX_POST 8 /* ids the post-processor may add on either side */

/* One merge: the pair (left id, right id) packed as key = left << 32 | right. */
typedef struct {
    uint64_t key;    /* VNP_BPE_PAIR_EMPTY when the slot is free */
    uint32_t rank;   /* index in the merges list (0 = applied first) */
    int32_t new_id;  /* id of left+right */
} vnp_bpe_pair;
#define VNP_BPE_PAIR_EMPTY UINT64_MAX

/* The merge of one rank: left + right -> new_id. */
typedef struct {
    int32_t left, right, new_id;
    int32_t shared; /* 1 when another pair of the table also yields new_id */
} vnp_bpe_merge;

/* One vocab string: text at strings + off, len bytes (NUL-terminated there too). */
typedef struct {
    uint32_t hash;
    int32_t id; /* -1 when the slot is free */
    uint32_t off;
    uint32_t len;
} vnp_bpe_str;

typedef struct {
    uint32_t off, len; /* content in strings */
    int32_t id;
} vnp_bpe_added;

struct vnp_bpe {
    char *name; /* file name for messages */

    /* string pool of every vocab and added-token string */
    char *strings;
    size_t strings_len, strings_cap;

    /* vocab: open addressing on the string hash, power-of-two size */
    vnp_bpe_str *vocab;
    uint32_t vocab_mask;
    uint32_t vocab_count;

    /* merges: open addressing on the packed pair, multiplicative hash, power-of-two size */
    vnp_bpe_pair *pairs;
    uint64_t pair_mask;
    int pair_shift; /* 64 - log2(size) */
    uint32_t n_merges;
    vnp_bpe_merge *merge; /* [n_merges]: the merge of each rank */
    /* 1 when every merge's operands are made only by merges of lower rank (true of any trained BPE, and of
     * DNABERT-S): then a merge can only enable merges of higher rank, and the queue can be worked through
     * rank by rank (bpe_encode.c). Otherwise the general binary heap is used. */
    int by_rank;

    /* reverse map id -> offset in strings (UINT32_MAX: no token), vocab_size entries */
    uint32_t *id_str;
    int32_t vocab_size;

    /* vocab id of each one-byte character, -1 when absent: the fast path for ASCII text */
    int32_t byte_id[256];

    vnp_bpe_added *added;
    size_t n_added;
    uint8_t added_first[256]; /* 1 when some added token starts with this byte */

    int32_t unk_id; /* -1: unknown characters are dropped */
    int fuse_unk;
    int ignore_merges;
    int whitespace_pretok; /* 1: Whitespace (\w+|[^\w\s]+), 0: the whole text is one word */

    int32_t prefix[VNP_BPE_MAX_POST], suffix[VNP_BPE_MAX_POST];
    size_t n_prefix, n_suffix;
};

static inline uint32_t vnp_bpe_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The vocab id of the string s[0..n), or -1. */
static inline int32_t vnp_bpe_vocab_find(const struct vnp_bpe *b, const char *s, size_t n)
{
    uint32_t h = vnp_bpe_hash(s, n);
    for (uint32_t i = h & b->vocab_mask;; i = (i + 1) & b->vocab_mask) {
        const vnp_bpe_str *e = &b->vocab[i];
        if (e->id < 0) return -1;
        if (e->hash == h && e->len == n && memcmp(b->strings + e->off, s, n) == 0) return e->id;
    }
}

static inline uint64_t vnp_bpe_pair_key(int32_t left, int32_t right)
{
    return ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
}

/* The merge of (left, right), or NULL. */
static inline const vnp_bpe_pair *vnp_bpe_pair_find(const struct vnp_bpe *b, int32_t left, int32_t right)
{
    uint64_t key = vnp_bpe_pair_key(left, right);
    for (uint64_t i = (key * 0x9E3779B97F4A7C15ull) >> b->pair_shift;; i = (i + 1) & b->pair_mask) {
        const vnp_bpe_pair *p = &b->pairs[i];
        if (p->key == key) return p;
        if (p->key == VNP_BPE_PAIR_EMPTY) return NULL;
    }
}

#endif
