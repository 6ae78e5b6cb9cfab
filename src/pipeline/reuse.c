/* Reuse of repeated frames (issue 14): a bounded cache of pooled encoder features keyed by the exact sequence
 * (a frame's DNA slice for DNABERT-S, its protein for ESM-2), shared by every scorer of a run, least recently used
 * dropped first. Exact because the encoders are batch invariant: a sequence's features are the same bytes whatever
 * batch it runs in, so a repeat gets what running it again would give. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct entry {
    struct entry *chain;       /* next in the hash bucket */
    struct entry *prev, *next; /* LRU list, most recent first */
    uint64_t hash;
    size_t len;
    int enc;
    char *key;                 /* len bytes, after the features */
    float feat[];              /* d of the encoder */
} entry;

struct vnp_reuse {
    pthread_mutex_t mu;
    size_t limit, bytes, peak;
    int d[2];
    entry **buckets;
    size_t nbuckets, count;
    entry *head, *tail;
    vnp_reuse_stats st;
};

size_t vnp_reuse_default_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t cap = (size_t)2 << 30;
    if (pages <= 0 || page <= 0) return cap;
    size_t eighth = (size_t)pages / 8 * (size_t)page;
    return eighth < cap ? eighth : cap;
}

/* FNV-1a over the bytes, with the encoder mixed in (the same string may be a DNA slice and, rarely, a protein). */
static uint64_t key_hash(int enc, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)enc;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

vnp_reuse *vnp_reuse_create(size_t limit_bytes, int d_dna, int d_prot)
{
    vnp_reuse *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->nbuckets = 1024;
    r->buckets = calloc(r->nbuckets, sizeof *r->buckets);
    if (!r->buckets) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->limit = limit_bytes;
    r->d[0] = d_dna;
    r->d[1] = d_prot;
    r->st.limit_bytes = limit_bytes;
    return r;
}

void vnp_reuse_free(vnp_reuse *r)
{
    if (!r) return;
    for (entry *e = r->head, *n; e; e = n) {
        n = e->next;
        free(e);
    }
    free(r->buckets);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static size_t entry_bytes(const vnp_reuse *r, int enc, size_t len)
{
    return sizeof(entry) + (size_t)r->d[enc] * sizeof(float) + len;
}

static entry *find(const vnp_reuse *r, int enc, const char *s, size_t len, uint64_t h)
{
    for (entry *e = r->buckets[h & (r->nbuckets - 1)]; e; e = e->chain)
        if (e->hash == h && e->enc == enc && e->len == len && memcmp(e->key, s, len) == 0) return e;
    return NULL;
}

static void lru_unlink(vnp_reuse *r, entry *e)
{
    if (e->prev) e->prev->next = e->next;
    else r->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else r->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(vnp_reuse *r, entry *e)
{
    e->next = r->head;
    e->prev = NULL;
    if (r->head) r->head->prev = e;
    r->head = e;
    if (!r->tail) r->tail = e;
}

static void drop_lru(vnp_reuse *r)
{
    entry *e = r->tail;
    lru_unlink(r, e);
    entry **p = &r->buckets[e->hash & (r->nbuckets - 1)];
    while (*p != e) p = &(*p)->chain;
    *p = e->chain;
    r->bytes -= entry_bytes(r, e->enc, e->len);
    r->count--;
    r->st.evicted++;
    free(e);
}

/* Doubles the buckets when they are fuller than one entry each; left as is when memory is short. */
static void grow(vnp_reuse *r)
{
    if (r->count < r->nbuckets) return;
    size_t nb = r->nbuckets * 2;
    entry **b = calloc(nb, sizeof *b);
    if (!b) return;
    for (size_t i = 0; i < r->nbuckets; i++)
        for (entry *e = r->buckets[i], *n; e; e = n) {
            n = e->chain;
            e->chain = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = nb;
}

int vnp_reuse_get(vnp_reuse *r, int enc, const char *s, size_t len, float *out)
{
    uint64_t h = key_hash(enc, s, len);
    pthread_mutex_lock(&r->mu);
    entry *e = find(r, enc, s, len, h);
    if (e) {
        memcpy(out, e->feat, (size_t)r->d[enc] * sizeof(float));
        lru_unlink(r, e);
        lru_front(r, e);
    }
    pthread_mutex_unlock(&r->mu);
    return e != NULL;
}

void vnp_reuse_put(vnp_reuse *r, int enc, const char *s, size_t len, const float *feat)
{
    uint64_t h = key_hash(enc, s, len);
    size_t need = entry_bytes(r, enc, len);
    if (need > r->limit) return;
    pthread_mutex_lock(&r->mu);
    if (!find(r, enc, s, len, h)) { /* another scorer may have put the same sequence meanwhile */
        while (r->bytes + need > r->limit && r->tail) drop_lru(r);
        entry *e = malloc(need);
        if (e) { /* out of memory: the sequence is simply not kept */
            e->hash = h;
            e->len = len;
            e->enc = enc;
            memcpy(e->feat, feat, (size_t)r->d[enc] * sizeof(float));
            e->key = (char *)(e->feat + r->d[enc]);
            memcpy(e->key, s, len);
            size_t bi = h & (r->nbuckets - 1);
            e->chain = r->buckets[bi];
            r->buckets[bi] = e;
            lru_front(r, e);
            r->bytes += need;
            r->count++;
            if (r->bytes > r->st.peak_bytes) r->st.peak_bytes = r->bytes;
            grow(r);
        }
    }
    pthread_mutex_unlock(&r->mu);
}

void vnp_reuse_count(vnp_reuse *r, int enc, uint64_t frames, uint64_t computed)
{
    pthread_mutex_lock(&r->mu);
    r->st.frames[enc] += frames;
    r->st.computed[enc] += computed;
    pthread_mutex_unlock(&r->mu);
}

void vnp_reuse_snapshot(vnp_reuse *r, vnp_reuse_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->st;
    pthread_mutex_unlock(&r->mu);
}

/* The slot of item i's key in a block's table of first occurrences (open addressing, mask + 1 slots of item
 * index + 1, 0 = empty): where it is, or the empty slot where it goes. */
static size_t local_slot(const size_t *table, size_t mask, const char *base, const size_t *off, const size_t *len,
                         size_t i, uint64_t h)
{
    for (size_t k = h & mask;; k = (k + 1) & mask) {
        size_t j = table[k];
        if (j == 0) return k;
        j--;
        if (len[j] == len[i] && memcmp(base + off[j], base + off[i], len[i]) == 0) return k;
    }
}

int vnp_reuse_embed(vnp_reuse *r, const vnp_scorer *s, int enc, const char *base, const size_t *off,
                    const size_t *len, size_t n, const vnp_window *all, vnp_window *fresh, float *out, size_t ld)
{
    size_t d = (size_t)r->d[enc], mask = 1;
    while (mask < 2 * n) mask <<= 1;
    size_t *table = calloc(mask, sizeof *table), *src = vnp_malloc_array(n, sizeof *src);
    uint8_t *first = calloc(n ? n : 1, 1); /* item i is the first of its sequence to run: it goes to the cache */
    int rc = table && src && first ? VNP_OK : VNP_ERR_NOMEM;
    mask--;
    vnp_window_clear(fresh);
    /* src[i]: SIZE_MAX for a cache hit (already in out), else the row of `fresh` that gives item i */
    for (size_t i = 0; i < n && rc == VNP_OK; i++) {
        src[i] = SIZE_MAX;
        if (vnp_reuse_get(r, enc, base + off[i], len[i], out + i * ld)) continue;
        size_t k = local_slot(table, mask, base, off, len, i, key_hash(enc, base + off[i], len[i]));
        if (table[k]) {
            src[i] = src[table[k] - 1];
            continue;
        }
        table[k] = i + 1;
        first[i] = 1;
        src[i] = fresh->n;
        rc = vnp_window_add(fresh, all->ids + all->start[i], all->len[i]);
    }
    size_t m = fresh->n;
    float *rows = rc == VNP_OK && m ? vnp_malloc_array(m, d * sizeof(float)) : NULL;
    if (rc == VNP_OK && m && !rows) rc = VNP_ERR_NOMEM;
    if (rc == VNP_OK && m) rc = s->embed(s->ctx, enc, fresh, rows, d);
    for (size_t i = 0; i < n && rc == VNP_OK; i++) {
        if (src[i] == SIZE_MAX) continue;
        memcpy(out + i * ld, rows + src[i] * d, d * sizeof(float));
        if (first[i]) vnp_reuse_put(r, enc, base + off[i], len[i], rows + src[i] * d);
    }
    if (rc == VNP_OK) vnp_reuse_count(r, enc, n, m);
    free(rows);
    free(first);
    free(src);
    free(table);
    return rc;
}

/* Seconds of an encoder's time that reuse saved: its seconds per frame run, times the frames it did not run. */
static double saved(uint64_t frames, uint64_t computed, double seconds)
{
    return computed ? seconds / (double)computed * (double)(frames - computed) : 0.0;
}

json_t *vnp_reuse_summary(const vnp_predict_stats *st)
{
    size_t limit_bytes = st->reuse.limit_bytes;
    vnp_reuse_stats off = {{st->frames, st->frames}, {st->frames, st->frames}, 0, 0, 0, 0};
    const vnp_reuse_stats *r = limit_bytes ? &st->reuse : &off; /* off: every frame ran */
    static const char *const names[2] = {"dnabert_s", "esm2"};
    double secs[2] = {st->t_dna, st->t_prot};
    json_t *o = json_pack("{s:b, s:I, s:I, s:I}", "enabled", limit_bytes > 0, "memory_limit_bytes",
                          (json_int_t)limit_bytes, "peak_bytes", (json_int_t)r->peak_bytes, "evicted",
                          (json_int_t)r->evicted);
    if (o && st->reuse.not_invariant)
        json_object_set_new(o, "off_because", json_string("an engine is not batch invariant (README: batch "
                                                          "invariance)"));
    for (int e = 0; e < 2 && o; e++) {
        double s = saved(r->frames[e], r->computed[e], secs[e]);
        json_object_set_new(o, names[e], json_pack("{s:I, s:I, s:I, s:f}", "frames", (json_int_t)r->frames[e],
                                                   "computed", (json_int_t)r->computed[e], "reused",
                                                   (json_int_t)(r->frames[e] - r->computed[e]), "seconds_saved", s));
        if (limit_bytes)
            vnp_info("reuse: %s ran %llu distinct of %llu frames (%.1f%%), about %.2f s saved", names[e],
                     (unsigned long long)r->computed[e], (unsigned long long)r->frames[e],
                     r->frames[e] ? 100.0 * (double)r->computed[e] / (double)r->frames[e] : 100.0, s);
    }
    return o;
}
