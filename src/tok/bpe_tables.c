/* Building the lookup tables of a BPE tokenizer: the string pool, the vocab hash, the merge (pair) hash, the
 * id -> string map and the one-byte fast table. The JSON walk that feeds them is in bpe_load.c. */
#include "bpe_internal.h"
#include "bpe_tables.h"

#include <stdlib.h>
#include <string.h>

static uint32_t pow2_at_least(size_t n)
{
    uint32_t p = 16;
    while (p < n && p < (1u << 30)) p <<= 1;
    return p;
}

int vnp_bpe_pool_add(vnp_bpe *b, const char *s, size_t n, uint32_t *off)
{
    if (n >= UINT32_MAX / 2 || b->strings_len + n + 1 >= UINT32_MAX) return VNP_ERR_NOMEM;
    if (b->strings_len + n + 1 > b->strings_cap) {
        size_t cap = b->strings_cap ? b->strings_cap : 4096;
        while (cap < b->strings_len + n + 1) cap *= 2;
        char *p = realloc(b->strings, cap);
        if (!p) return VNP_ERR_NOMEM;
        b->strings = p;
        b->strings_cap = cap;
    }
    memcpy(b->strings + b->strings_len, s, n);
    b->strings[b->strings_len + n] = '\0';
    *off = (uint32_t)b->strings_len;
    b->strings_len += n + 1;
    return VNP_OK;
}

int vnp_bpe_vocab_init(vnp_bpe *b, size_t count)
{
    if (count > VNP_BPE_MAX_ID) return VNP_ERR_NOMEM;
    uint32_t size = pow2_at_least(2 * count + 1);
    b->vocab = vnp_malloc_array(size, sizeof *b->vocab);
    if (!b->vocab) return VNP_ERR_NOMEM;
    for (uint32_t i = 0; i < size; i++) b->vocab[i].id = -1;
    b->vocab_mask = size - 1;
    b->vocab_count = 0;
    return VNP_OK;
}

int vnp_bpe_vocab_put(vnp_bpe *b, const char *s, size_t n, int32_t id)
{
    /* the table was sized for every key, so it always has a free slot */
    uint32_t h = vnp_bpe_hash(s, n);
    uint32_t i = h & b->vocab_mask;
    for (;; i = (i + 1) & b->vocab_mask) {
        vnp_bpe_str *e = &b->vocab[i];
        if (e->id < 0) break;
        if (e->hash == h && e->len == n && memcmp(b->strings + e->off, s, n) == 0) {
            e->id = id; /* a repeated key: the last one wins, as in a Rust HashMap */
            return VNP_OK;
        }
    }
    if (b->vocab_count + 1 > b->vocab_mask / 2 + 1) return VNP_ERR_INTERNAL;
    uint32_t off;
    int rc = vnp_bpe_pool_add(b, s, n, &off);
    if (rc) return rc;
    b->vocab[i] = (vnp_bpe_str){.hash = h, .id = id, .off = off, .len = (uint32_t)n};
    b->vocab_count++;
    return VNP_OK;
}

int vnp_bpe_pairs_init(vnp_bpe *b, size_t count)
{
    if (count > (1u << 28)) return VNP_ERR_NOMEM;
    uint32_t size = pow2_at_least(2 * count + 1);
    b->pairs = vnp_malloc_array(size, sizeof *b->pairs);
    if (!b->pairs) return VNP_ERR_NOMEM;
    for (uint32_t i = 0; i < size; i++) b->pairs[i].key = VNP_BPE_PAIR_EMPTY;
    b->pair_mask = size - 1;
    int bits = 0;
    while ((1u << bits) < size) bits++;
    b->pair_shift = 64 - bits;
    b->merge = vnp_malloc_array(count ? count : 1, sizeof *b->merge);
    return b->merge ? VNP_OK : VNP_ERR_NOMEM;
}

void vnp_bpe_pair_put(vnp_bpe *b, int32_t left, int32_t right, uint32_t rank, int32_t new_id)
{
    uint64_t key = vnp_bpe_pair_key(left, right);
    for (uint64_t i = (key * 0x9E3779B97F4A7C15ull) >> b->pair_shift;; i = (i + 1) & b->pair_mask) {
        vnp_bpe_pair *p = &b->pairs[i];
        /* a repeated pair takes its last rank, as HF's HashMap collect does */
        if (p->key == key || p->key == VNP_BPE_PAIR_EMPTY) {
            *p = (vnp_bpe_pair){.key = key, .rank = rank, .new_id = new_id};
            b->merge[rank] = (vnp_bpe_merge){.left = left, .right = right, .new_id = new_id};
            return;
        }
    }
}

/* Sets merge[].shared (another pair yields the same id) and by_rank (every operand of a merge is made only by
 * merges of lower rank; see bpe_internal.h). Only the pairs in the table count: a repeated pair's earlier rank
 * is dead. */
static int mark_merges(vnp_bpe *b)
{
    int64_t *per_id = vnp_malloc_array(b->vocab_size ? (size_t)b->vocab_size : 1, sizeof *per_id);
    if (!per_id) return VNP_ERR_NOMEM;

    for (int32_t i = 0; i < b->vocab_size; i++) per_id[i] = 0; /* pairs yielding each id */
    for (uint64_t i = 0; i <= b->pair_mask; i++)
        if (b->pairs[i].key != VNP_BPE_PAIR_EMPTY) per_id[b->pairs[i].new_id]++;
    for (uint32_t r = 0; r < b->n_merges; r++) b->merge[r].shared = per_id[b->merge[r].new_id] > 1;

    for (int32_t i = 0; i < b->vocab_size; i++) per_id[i] = -1; /* highest rank yielding each id */
    for (uint64_t i = 0; i <= b->pair_mask; i++) {
        const vnp_bpe_pair *p = &b->pairs[i];
        if (p->key != VNP_BPE_PAIR_EMPTY && (int64_t)p->rank > per_id[p->new_id]) per_id[p->new_id] = p->rank;
    }
    b->by_rank = 1;
    for (uint64_t i = 0; i <= b->pair_mask; i++) {
        const vnp_bpe_pair *p = &b->pairs[i];
        if (p->key == VNP_BPE_PAIR_EMPTY) continue;
        const vnp_bpe_merge *m = &b->merge[p->rank];
        if (per_id[m->left] >= (int64_t)p->rank || per_id[m->right] >= (int64_t)p->rank) b->by_rank = 0;
    }
    free(per_id);
    return VNP_OK;
}

int vnp_bpe_finish_tables(vnp_bpe *b)
{
    int32_t max_id = -1;
    for (uint32_t i = 0; i <= b->vocab_mask; i++)
        if (b->vocab[i].id > max_id) max_id = b->vocab[i].id;
    for (size_t i = 0; i < b->n_added; i++)
        if (b->added[i].id > max_id) max_id = b->added[i].id;
    for (size_t i = 0; i < b->n_prefix; i++)
        if (b->prefix[i] > max_id) max_id = b->prefix[i];
    for (size_t i = 0; i < b->n_suffix; i++)
        if (b->suffix[i] > max_id) max_id = b->suffix[i];
    b->vocab_size = max_id + 1;
    b->id_str = vnp_malloc_array(b->vocab_size ? (size_t)b->vocab_size : 1, sizeof *b->id_str);
    if (!b->id_str) return VNP_ERR_NOMEM;
    for (int32_t i = 0; i < b->vocab_size; i++) b->id_str[i] = UINT32_MAX;
    for (uint32_t i = 0; i <= b->vocab_mask; i++)
        if (b->vocab[i].id >= 0) b->id_str[b->vocab[i].id] = b->vocab[i].off;
    for (size_t i = 0; i < b->n_added; i++) b->id_str[b->added[i].id] = b->added[i].off;

    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        b->byte_id[c] = vnp_bpe_vocab_find(b, &ch, 1);
    }
    int rc = mark_merges(b);
    if (rc) return rc;
    memset(b->added_first, 0, sizeof b->added_first);
    for (size_t i = 0; i < b->n_added; i++) b->added_first[(unsigned char)b->strings[b->added[i].off]] = 1;
    return VNP_OK;
}
