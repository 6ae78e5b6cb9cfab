/* BPE encoding of one text: added tokens split out, the Whitespace pre-tokenizer, the per-word merge loop of
 * Hugging Face tokenizers (models/bpe/word.rs::merge_all, replicated decision for decision), the
 * post-processor's ids; plus the read-only queries on a loaded vnp_bpe. */
#include "bpe_internal.h"

#include <stdlib.h>
#include <string.h>

/* One symbol of a word being merged; symbols live in an array and are chained by index. */
typedef struct {
    int32_t c;     /* token id */
    int32_t prev;  /* index of the previous live symbol, -1 at the start */
    int32_t next;  /* index of the next live symbol, -1 at the end */
    int32_t alive; /* 0 once merged into its left neighbour (HF: len == 0) */
} bpe_sym;

/* Heap entries pack (rank, left position) into one integer, so that comparing two entries is one compare and
 * the order is HF's: lowest rank first, then leftmost position. The merge's result id is merge[rank].new_id. */
static inline uint64_t heap_key(uint32_t rank, int32_t pos) { return ((uint64_t)rank << 32) | (uint32_t)pos; }

static inline void heap_sift_down(uint64_t *h, size_t n, size_t i, uint64_t x)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static inline void heap_push(uint64_t *h, size_t *n, uint64_t x)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= x) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

/* Applies the merges to sym[0..ns) (ns >= 2) in HF's order: pop the lowest (rank, pos); skip it if its left
 * symbol was absorbed, has no right neighbour, or the pair there no longer yields the same id; otherwise merge
 * and queue the two new pairs. heap has room for 3*ns entries: ns-1 initial pairs and at most two per merge. */
static void merge_all(const vnp_bpe *b, bpe_sym *sym, int32_t ns, uint64_t *heap)
{
    size_t hn = 0;
    for (int32_t k = 0; k + 1 < ns; k++) {
        const vnp_bpe_pair *p = vnp_bpe_pair_find(b, sym[k].c, sym[k + 1].c);
        if (p) heap[hn++] = heap_key(p->rank, k);
    }
    for (size_t i = hn / 2; i-- > 0;) heap_sift_down(heap, hn, i, heap[i]);

    while (hn > 0) {
        uint64_t top = heap[0];
        hn--;
        if (hn > 0) heap_sift_down(heap, hn, 0, heap[hn]);
        int32_t pos = (int32_t)(uint32_t)top;
        int32_t new_id = b->merge[top >> 32].new_id;
        if (!sym[pos].alive) continue;
        int32_t right = sym[pos].next;
        if (right < 0) continue;
        const vnp_bpe_pair *cur = vnp_bpe_pair_find(b, sym[pos].c, sym[right].c);
        if (!cur || cur->new_id != new_id) continue; /* an expired entry */

        sym[pos].c = new_id;
        sym[right].alive = 0;
        int32_t after = sym[right].next;
        sym[pos].next = after;
        if (after >= 0) sym[after].prev = pos;

        int32_t before = sym[pos].prev;
        if (before >= 0) {
            const vnp_bpe_pair *p = vnp_bpe_pair_find(b, sym[before].c, new_id);
            if (p) heap_push(heap, &hn, heap_key(p->rank, before));
        }
        if (after >= 0) {
            const vnp_bpe_pair *p = vnp_bpe_pair_find(b, new_id, sym[after].c);
            if (p) heap_push(heap, &hn, heap_key(p->rank, pos));
        }
    }
}

/* Work space of merge_by_rank, carved from the caller's scratch. The queue holds the same (rank, pos) entries
 * as HF's heap, kept as one list per rank plus a bitmap of the ranks that have entries. */
typedef struct {
    int32_t *node_pos, *node_next; /* [3n] list nodes */
    int32_t *run;                  /* [3n] the positions of the rank being worked */
    int32_t *head, *tail;          /* [n_merges], valid where the rank's bit is set */
    uint8_t *sorted;               /* [n_merges] 1 while the rank's list is in position order */
    uint64_t *bits;                /* [(n_merges + 63) / 64] ranks with entries */
    int32_t n_nodes;
} rank_queue;

static inline void rq_push(rank_queue *q, uint32_t rank, int32_t pos)
{
    int32_t e = q->n_nodes++;
    q->node_pos[e] = pos;
    q->node_next[e] = -1;
    uint64_t bit = 1ull << (rank & 63);
    if (!(q->bits[rank >> 6] & bit)) {
        q->bits[rank >> 6] |= bit;
        q->head[rank] = q->tail[rank] = e;
        q->sorted[rank] = 1;
        return;
    }
    if (pos < q->node_pos[q->tail[rank]]) q->sorted[rank] = 0;
    q->node_next[q->tail[rank]] = e;
    q->tail[rank] = e;
}

static void sort_positions(int32_t *a, int32_t n)
{
    if (n > 32) {
        /* heapsort: no recursion, no allocation, O(n log n) on any input */
        for (int32_t i = n / 2; i-- > 0;) {
            int32_t x = a[i], j = i, c;
            while ((c = 2 * j + 1) < n) {
                if (c + 1 < n && a[c + 1] > a[c]) c++;
                if (a[c] <= x) break;
                a[j] = a[c];
                j = c;
            }
            a[j] = x;
        }
        for (int32_t end = n - 1; end > 0; end--) {
            int32_t x = a[end], j = 0, c;
            a[end] = a[0];
            while ((c = 2 * j + 1) < end) {
                if (c + 1 < end && a[c + 1] > a[c]) c++;
                if (a[c] <= x) break;
                a[j] = a[c];
                j = c;
            }
            a[j] = x;
        }
        return;
    }
    for (int32_t i = 1; i < n; i++) {
        int32_t x = a[i], j = i;
        for (; j > 0 && a[j - 1] > x; j--) a[j] = a[j - 1];
        a[j] = x;
    }
}

/* The same merges as merge_all, in the same order, for tables where b->by_rank holds. Then a merge of rank r
 * only creates pairs of rank > r, so HF's heap pops every entry of the lowest rank present, left to right,
 * before any other: that order is rebuilt here with one list per rank (sorted when entries arrived out of
 * position order) instead of a heap, which saves the O(log n) sift of every push and pop. */
static void merge_by_rank(const vnp_bpe *b, bpe_sym *sym, int32_t ns, rank_queue *q)
{
    size_t n_words = ((size_t)b->n_merges + 63) / 64;
    memset(q->bits, 0, n_words * sizeof *q->bits);
    q->n_nodes = 0;
    for (int32_t k = 0; k + 1 < ns; k++) {
        const vnp_bpe_pair *p = vnp_bpe_pair_find(b, sym[k].c, sym[k + 1].c);
        if (p) rq_push(q, p->rank, k);
    }
    for (size_t w = 0; w < n_words;) {
        if (!q->bits[w]) {
            w++;
            continue;
        }
        uint32_t rank = (uint32_t)(w * 64) + (uint32_t)__builtin_ctzll(q->bits[w]);
        q->bits[w] &= q->bits[w] - 1; /* nothing can join this rank any more */
        int32_t n_run = 0;
        for (int32_t e = q->head[rank]; e >= 0; e = q->node_next[e]) q->run[n_run++] = q->node_pos[e];
        if (!q->sorted[rank]) sort_positions(q->run, n_run);
        const vnp_bpe_merge m = b->merge[rank];
        for (int32_t i = 0; i < n_run; i++) {
            int32_t pos = q->run[i];
            if (!sym[pos].alive) continue;
            int32_t right = sym[pos].next;
            if (right < 0) continue;
            if (sym[pos].c != m.left || sym[right].c != m.right) {
                /* HF checks only that the pair now there yields the same id: only possible when another
                 * pair yields it too */
                if (!m.shared) continue;
                const vnp_bpe_pair *cur = vnp_bpe_pair_find(b, sym[pos].c, sym[right].c);
                if (!cur || cur->new_id != m.new_id) continue;
            }
            sym[pos].c = m.new_id;
            sym[right].alive = 0;
            int32_t after = sym[right].next;
            sym[pos].next = after;
            if (after >= 0) sym[after].prev = pos;
            int32_t before = sym[pos].prev;
            if (before >= 0) {
                const vnp_bpe_pair *p = vnp_bpe_pair_find(b, sym[before].c, m.new_id);
                if (p) rq_push(q, p->rank, before);
            }
            if (after >= 0) {
                const vnp_bpe_pair *p = vnp_bpe_pair_find(b, m.new_id, sym[after].c);
                if (p) rq_push(q, p->rank, pos);
            }
        }
    }
}

/* Bytes of scratch for a word of n bytes: its symbols, then the heap or the rank queue. */
static size_t word_scratch_bytes(const vnp_bpe *b, size_t n)
{
    size_t sym = (n * sizeof(bpe_sym) + 7) & ~(size_t)7;
    size_t heap = 3 * n * sizeof(uint64_t);
    size_t words = ((size_t)b->n_merges + 63) / 64;
    size_t rq = 9 * n * sizeof(int32_t) + 2 * (size_t)b->n_merges * sizeof(int32_t) + words * 8 +
                (((size_t)b->n_merges + 7) & ~(size_t)7);
    return sym + (b->by_rank ? rq : heap);
}

/* Encodes one pre-tokenized word w[0..n) (n > 0), appending its ids; out->ids already has room for n ids. */
static int encode_word(const vnp_bpe *b, const unsigned char *w, size_t n, vnp_tokens *out)
{
    if (b->ignore_merges) {
        int32_t id = vnp_bpe_vocab_find(b, (const char *)w, n);
        if (id >= 0) {
            out->ids[out->n++] = id;
            return VNP_OK;
        }
    }
    if (n > INT32_MAX / 4) return VNP_ERR_NOMEM;
    /* scratch: n symbols (a character is at least one byte), then the queue: at most 3n entries, the n-1
     * first pairs and two per merge */
    size_t sym_bytes = (n * sizeof(bpe_sym) + 7) & ~(size_t)7;
    unsigned char *scratch = vnp_tok_scratch(out, word_scratch_bytes(b, n));
    if (!scratch) return VNP_ERR_NOMEM;
    bpe_sym *sym = (bpe_sym *)scratch;
    unsigned char *queue = scratch + sym_bytes;

    int32_t ns = 0;
    int last_was_unk = 0;
    for (size_t i = 0; i < n;) {
        int32_t id;
        if (w[i] < 0x80) {
            id = b->byte_id[w[i]];
            i++;
        } else {
            uint32_t cp;
            size_t len = vnp_tok_utf8(w, n, i, &cp);
            id = vnp_bpe_vocab_find(b, (const char *)w + i, len);
            i += len;
        }
        if (id < 0) {
            if (b->unk_id < 0 || (b->fuse_unk && last_was_unk)) continue;
            id = b->unk_id;
            last_was_unk = 1;
        } else {
            last_was_unk = 0;
        }
        sym[ns] = (bpe_sym){.c = id, .prev = ns - 1, .next = ns + 1, .alive = 1};
        ns++;
    }
    if (ns == 0) return VNP_OK;
    sym[ns - 1].next = -1;
    if (ns >= 2 && b->by_rank) {
        size_t words = ((size_t)b->n_merges + 63) / 64;
        rank_queue q = {.bits = (uint64_t *)queue};
        q.node_pos = (int32_t *)(queue + words * 8);
        q.node_next = q.node_pos + 3 * n;
        q.run = q.node_next + 3 * n;
        q.head = q.run + 3 * n;
        q.tail = q.head + b->n_merges;
        q.sorted = (uint8_t *)(q.tail + b->n_merges);
        merge_by_rank(b, sym, ns, &q);
    } else if (ns >= 2) {
        merge_all(b, sym, ns, (uint64_t *)queue);
    }
    for (int32_t k = 0; k >= 0; k = sym[k].next) out->ids[out->n++] = sym[k].c;
    return VNP_OK;
}

enum { CLS_WORD = 0, CLS_PUNCT = 1, CLS_SPACE = 2 };

/* ASCII classes of the regex \w+|[^\w\s]+: \w = [A-Za-z0-9_], \s = 9-13 and 32, the rest punctuation. */
static inline int ascii_class(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') return CLS_WORD;
    if ((c >= 9 && c <= 13) || c == 32) return CLS_SPACE;
    return CLS_PUNCT;
}

/* Class and byte length of the character at s[i]. An invalid UTF-8 byte (cp 0xFFFD, a symbol) is punctuation,
 * like U+FFFD itself. */
static inline int char_class(const unsigned char *s, size_t n, size_t i, size_t *len)
{
    if (s[i] < 0x80) {
        *len = 1;
        return ascii_class(s[i]);
    }
    uint32_t cp;
    *len = vnp_tok_utf8(s, n, i, &cp);
    if (vnp_tok_is_regex_space(cp)) return CLS_SPACE;
    return vnp_tok_is_word_cp(cp) ? CLS_WORD : CLS_PUNCT;
}

/* Pre-tokenizes s[0..n) (text between added tokens) and encodes each word. */
static int encode_segment(const vnp_bpe *b, const unsigned char *s, size_t n, vnp_tokens *out)
{
    if (n == 0) return VNP_OK;
    if (!b->whitespace_pretok) return encode_word(b, s, n, out);
    size_t i = 0;
    while (i < n) {
        size_t len;
        int cls = char_class(s, n, i, &len);
        size_t start = i;
        i += len;
        if (cls == CLS_SPACE) continue;
        if (cls == CLS_WORD) /* the hot loop for DNA: scan ASCII word bytes without decoding */
            while (i < n && s[i] < 0x80 && ascii_class(s[i]) == CLS_WORD) i++;
        while (i < n && char_class(s, n, i, &len) == cls) i += len;
        int rc = encode_word(b, s + start, i - start, out);
        if (rc) return rc;
    }
    return VNP_OK;
}

int vnp_bpe_encode(const vnp_bpe *b, const char *seq, size_t len, vnp_tokens *out)
{
    size_t n0 = out->n;
    if (len > SIZE_MAX - 2 * VNP_BPE_MAX_POST || vnp_tokens_reserve(out, len + b->n_prefix + b->n_suffix))
        return VNP_ERR_NOMEM;
    memcpy(out->ids + out->n, b->prefix, b->n_prefix * sizeof(int32_t));
    out->n += b->n_prefix;

    const unsigned char *s = (const unsigned char *)seq;
    size_t seg = 0;
    int rc = VNP_OK;
    if (b->n_added) {
        /* added tokens: leftmost match first, the longest one among those starting there */
        for (size_t i = 0; i < len && rc == VNP_OK; i++) {
            if (!b->added_first[s[i]]) continue;
            const vnp_bpe_added *best = NULL;
            for (size_t k = 0; k < b->n_added; k++) {
                const vnp_bpe_added *a = &b->added[k];
                if (a->len <= len - i && (!best || a->len > best->len) &&
                    memcmp(s + i, b->strings + a->off, a->len) == 0)
                    best = a;
            }
            if (!best) continue;
            rc = encode_segment(b, s + seg, i - seg, out);
            out->ids[out->n++] = best->id;
            i += best->len - 1;
            seg = i + 1;
        }
    }
    if (rc == VNP_OK) rc = encode_segment(b, s + seg, len - seg, out);
    if (rc) {
        out->n = n0;
        return rc;
    }
    memcpy(out->ids + out->n, b->suffix, b->n_suffix * sizeof(int32_t));
    out->n += b->n_suffix;
    return VNP_OK;
}

int32_t vnp_bpe_vocab_size(const vnp_bpe *b) { return b->vocab_size; }

int32_t vnp_bpe_token_id(const vnp_bpe *b, const char *token)
{
    size_t n = strlen(token);
    for (size_t k = 0; k < b->n_added; k++)
        if (b->added[k].len == n && memcmp(b->strings + b->added[k].off, token, n) == 0) return b->added[k].id;
    return vnp_bpe_vocab_find(b, token, n);
}

const char *vnp_bpe_token(const vnp_bpe *b, int32_t id)
{
    if (id < 0 || id >= b->vocab_size || b->id_str[id] == UINT32_MAX) return NULL;
    return b->strings + b->id_str[id];
}

int32_t vnp_bpe_unk_id(const vnp_bpe *b) { return b->unk_id; }

size_t vnp_bpe_prefix_ids(const vnp_bpe *b, int32_t *ids, size_t max)
{
    for (size_t i = 0; i < b->n_prefix && i < max; i++) ids[i] = b->prefix[i];
    return b->n_prefix;
}

size_t vnp_bpe_suffix_ids(const vnp_bpe *b, int32_t *ids, size_t max)
{
    for (size_t i = 0; i < b->n_suffix && i < max; i++) ids[i] = b->suffix[i];
    return b->n_suffix;
}
