/* prediction_results_highestscore.csv from the blocks' consensus parts, each a list of
 * "<chunk id>\t<max score1 bits>\t<max score2 bits>" rows (vnp_cons_part_write). Equal ids (duplicate record names)
 * are combined, as both pandas codes combine them.
 * original: the parts are byte-ordered and k-way merged into byte order; at most VNP_MERGE_FANIN files are open at
 * once, larger runs are merged in passes through intermediate files of the same format.
 * broad: the parts are in input order and the rows come out in first-appearance order; ids seen twice are found
 * through a hash set first, so that memory grows with the repeated ids only. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/report.h"

#include "vnp/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#define VNP_MERGE_FANIN 128

typedef struct {
    FILE *f;
    const char *path;
    char *line;
    size_t cap;
    char *id; /* points into line */
    uint32_t m1, m2;
} cons_src;

/* 1 a row, 0 the end, < 0 an error. */
static int cons_next(cons_src *s)
{
    ssize_t n = getline(&s->line, &s->cap, s->f);
    if (n < 0) return ferror(s->f) ? VNP_ERR_IO : 0;
    char *t1 = strchr(s->line, '\t');
    char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t2 || sscanf(t1 + 1, "%x", &s->m1) != 1 || sscanf(t2 + 1, "%x", &s->m2) != 1) {
        vnp_error("'%s': malformed journal row; use --force to start over", s->path);
        return VNP_ERR_FORMAT;
    }
    *t1 = '\0';
    s->id = s->line;
    return 1;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A binary min-heap of source indices ordered by their current id. */
static int heap_less(cons_src *src, const size_t *h, size_t a, size_t b)
{
    int c = strcmp(src[h[a]].id, src[h[b]].id);
    return c < 0 || (c == 0 && h[a] < h[b]);
}

static void heap_down(cons_src *src, size_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && heap_less(src, h, l, m)) m = l;
        if (l + 1 < n && heap_less(src, h, l + 1, m)) m = l + 1;
        if (m == i) return;
        size_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Merges the n files into out: final rows of the original layout, or intermediate rows of the input format. */
static int merge_files(char *const *paths, size_t n, FILE *out, int final)
{
    cons_src *src = vnp_calloc_array(n ? n : 1, sizeof *src);
    size_t *heap = vnp_malloc_array(n ? n : 1, sizeof *heap);
    int rc = src && heap ? VNP_OK : VNP_ERR_NOMEM;
    size_t live = 0;
    for (size_t i = 0; i < n && rc == VNP_OK; i++) {
        src[i].path = paths[i];
        if (!(src[i].f = fopen(paths[i], "rb"))) {
            vnp_error("cannot read journal part '%s': %s", paths[i], strerror(errno));
            rc = VNP_ERR_IO;
        } else if ((rc = cons_next(&src[i])) == 1) {
            heap[live++] = i;
            rc = VNP_OK;
        }
    }
    if (rc == VNP_OK)
        for (size_t i = live / 2; i-- > 0;) heap_down(src, heap, live, i);
    vnp_buf id = {0};
    while (rc == VNP_OK && live > 0) {
        id.len = 0;
        if (vnp_buf_append(&id, src[heap[0]].id, strlen(src[heap[0]].id))) {
            rc = VNP_ERR_NOMEM;
            break;
        }
        float m1 = -1.0f, m2 = -1.0f;
        uint32_t b1 = 0, b2 = 0;
        while (live > 0 && strcmp(src[heap[0]].id, id.data) == 0) {
            cons_src *s = &src[heap[0]];
            if (bits_f32(s->m1) > m1) m1 = bits_f32(b1 = s->m1);
            if (bits_f32(s->m2) > m2) m2 = bits_f32(b2 = s->m2);
            int more = cons_next(s);
            if (more < 0) {
                rc = more;
                break;
            }
            if (!more) heap[0] = heap[--live];
            heap_down(src, heap, live, 0);
        }
        if (rc) break;
        rc = final ? vnp_cons_row(out, VNP_OUTPUT_ORIGINAL, id.data, m1, m2)
                   : vnp_cons_part_row(out, id.data, bits_f32(b1), bits_f32(b2));
    }
    vnp_buf_free(&id);
    for (size_t i = 0; src && i < n; i++) {
        if (src[i].f) fclose(src[i].f);
        free(src[i].line);
    }
    free(src);
    free(heap);
    return rc;
}

/* Merges groups of VNP_MERGE_FANIN files into intermediate files until few enough remain; replaces *paths. */
static int reduce_passes(const char *scratch, char ***paths, size_t *n)
{
    int pass = 0;
    while (*n > VNP_MERGE_FANIN) {
        size_t groups = (*n + VNP_MERGE_FANIN - 1) / VNP_MERGE_FANIN;
        char **next = vnp_calloc_array(groups, sizeof *next);
        if (!next) return VNP_ERR_NOMEM;
        int rc = VNP_OK;
        for (size_t g = 0; g < groups && rc == VNP_OK; g++) {
            char buf[4096];
            snprintf(buf, sizeof buf, "%s/merge%d_%zu", scratch, pass, g);
            next[g] = vnp_strdup(buf);
            FILE *f = next[g] ? fopen(next[g], "wb") : NULL;
            if (!f) {
                rc = next[g] ? VNP_ERR_IO : VNP_ERR_NOMEM;
                break;
            }
            size_t lo = g * VNP_MERGE_FANIN, cnt = *n - lo < VNP_MERGE_FANIN ? *n - lo : VNP_MERGE_FANIN;
            rc = merge_files(*paths + lo, cnt, f, 0);
            if (fclose(f) != 0 && rc == VNP_OK) rc = VNP_ERR_IO;
            if (rc == VNP_ERR_IO) vnp_error("writing '%s' failed: %s", next[g], strerror(errno));
        }
        for (size_t i = 0; i < *n; i++) {
            if (pass > 0) unlink((*paths)[i]); /* intermediate files of the previous pass */
            free((*paths)[i]);
        }
        free(*paths);
        *paths = next;
        *n = groups;
        pass++;
        if (rc) return rc;
    }
    return VNP_OK;
}

/* ---- broad: first-appearance order ---- */

typedef struct {
    char **ids;     /* sorted, distinct: the chunk ids seen more than once */
    size_t n;
    float *m1, *m2; /* their maxima over every occurrence */
    unsigned char *printed;
} dup_table;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static long dup_find(const dup_table *d, const char *id)
{
    if (!d->n) return -1;
    char *const *hit = bsearch(&id, d->ids, d->n, sizeof *d->ids, cmp_str);
    return hit ? (long)(hit - d->ids) : -1;
}

/* One pass over every row of the parts, in order: pass 0 finds repeated ids, 1 takes their maxima, 2 writes. */
static int broad_pass(char *const *paths, size_t n, int pass, dup_table *d, vnp_idset *seen, FILE *out)
{
    int rc = VNP_OK;
    size_t cap = 0;
    for (size_t i = 0; i < n && rc == VNP_OK; i++) {
        cons_src s = {0};
        s.path = paths[i];
        if (!(s.f = fopen(paths[i], "rb"))) {
            vnp_error("cannot read journal part '%s': %s", paths[i], strerror(errno));
            return VNP_ERR_IO;
        }
        int more = 0;
        while (rc == VNP_OK && (more = cons_next(&s)) == 1) {
            float m1 = bits_f32(s.m1), m2 = bits_f32(s.m2);
            if (pass == 0) {
                int dup = vnp_idset_add(seen, s.id, strlen(s.id));
                if (dup < 0) rc = dup;
                if (dup != 1) continue;
                if (d->n == cap) { /* a false repeat (hash collision) only costs a table entry */
                    cap = cap ? 2 * cap : 64;
                    char **g = realloc(d->ids, cap * sizeof *g);
                    if (!g) {
                        rc = VNP_ERR_NOMEM;
                        break;
                    }
                    d->ids = g;
                }
                if (!(d->ids[d->n] = vnp_strdup(s.id))) rc = VNP_ERR_NOMEM;
                else d->n++;
                continue;
            }
            long k = dup_find(d, s.id);
            if (pass == 1) {
                if (k >= 0 && m1 > d->m1[k]) d->m1[k] = m1;
                if (k >= 0 && m2 > d->m2[k]) d->m2[k] = m2;
            } else if (k < 0) {
                rc = vnp_cons_row(out, VNP_OUTPUT_BROAD, s.id, m1, m2);
            } else if (!d->printed[k]) {
                d->printed[k] = 1;
                rc = vnp_cons_row(out, VNP_OUTPUT_BROAD, s.id, d->m1[k], d->m2[k]);
            }
        }
        if (rc == VNP_OK && more < 0) rc = more;
        fclose(s.f);
        free(s.line);
    }
    return rc;
}

static int broad_write(char *const *paths, size_t n, FILE *out)
{
    dup_table d = {0};
    vnp_idset *seen = vnp_idset_create();
    int rc = seen ? broad_pass(paths, n, 0, &d, seen, NULL) : VNP_ERR_NOMEM;
    if (rc == VNP_OK && vnp_idset_full(seen))
        vnp_warn("more chunk ids than the repeat check holds: repeated record names beyond it are not combined "
                 "in prediction_results_highestscore.csv");
    vnp_idset_free(seen);
    if (rc == VNP_OK && d.n) {
        qsort(d.ids, d.n, sizeof *d.ids, cmp_str);
        size_t u = 0;
        for (size_t i = 0; i < d.n; i++) {
            if (u && strcmp(d.ids[u - 1], d.ids[i]) == 0) free(d.ids[i]);
            else d.ids[u++] = d.ids[i];
        }
        d.n = u;
        d.m1 = vnp_malloc_array(u, sizeof *d.m1);
        d.m2 = vnp_malloc_array(u, sizeof *d.m2);
        d.printed = calloc(u, 1);
        rc = d.m1 && d.m2 && d.printed ? VNP_OK : VNP_ERR_NOMEM;
        for (size_t i = 0; rc == VNP_OK && i < u; i++) d.m1[i] = d.m2[i] = -1.0f;
        if (rc == VNP_OK) rc = broad_pass(paths, n, 1, &d, NULL, NULL);
    }
    if (rc == VNP_OK) rc = broad_pass(paths, n, 2, &d, NULL, out);
    for (size_t i = 0; i < d.n; i++) free(d.ids[i]);
    free(d.ids);
    free(d.m1);
    free(d.m2);
    free(d.printed);
    return rc;
}

int vnp_consensus_write(const char *out, char *const *parts, size_t n_parts, vnp_output_style st, const char *scratch)
{
    size_t n = n_parts;
    char **paths = vnp_calloc_array(n ? n : 1, sizeof *paths);
    if (!paths) return VNP_ERR_NOMEM;
    int rc = VNP_OK;
    for (size_t b = 0; b < n && rc == VNP_OK; b++)
        if (!(paths[b] = vnp_strdup(parts[b]))) rc = VNP_ERR_NOMEM;
    int passes = st == VNP_OUTPUT_ORIGINAL && n > VNP_MERGE_FANIN;
    if (rc == VNP_OK && st == VNP_OUTPUT_ORIGINAL) rc = reduce_passes(scratch, &paths, &n);
    vnp_outfile *o = NULL;
    if (rc == VNP_OK) {
        o = vnp_outfile_open(out);
        rc = o ? VNP_OK : VNP_ERR_IO;
    }
    if (rc == VNP_OK) {
        rc = fputs(vnp_cons_header(st), vnp_outfile_fp(o)) < 0 ? VNP_ERR_IO : VNP_OK;
        if (rc == VNP_OK)
            rc = st == VNP_OUTPUT_ORIGINAL ? merge_files(paths, n, vnp_outfile_fp(o), 1)
                                           : broad_write(paths, n, vnp_outfile_fp(o));
        if (rc == VNP_ERR_IO) vnp_error("writing '%s' failed: %s", out, strerror(errno));
        if (rc)
            vnp_outfile_abort(o);
        else
            rc = vnp_outfile_commit(o);
    }
    for (size_t i = 0; i < n; i++) {
        if (passes && paths[i]) unlink(paths[i]);
        free(paths[i]);
    }
    free(paths);
    return rc;
}
