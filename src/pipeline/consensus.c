/* prediction_results_highestscore.csv: a k-way merge of the blocks' "cons" parts, each a byte-ordered list of
 * "<chunk id>\t<max score1 bits>\t<max score2 bits>" rows. Equal ids (duplicate record names in different blocks)
 * are combined, as the original's pandas groupby combines them. At most VNP_MERGE_FANIN files are open at once:
 * larger runs are merged in passes through intermediate files of the same format. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

/* Merges the n files into out: final rows "<id>\tTrue|False", or intermediate rows of the input format. */
static int merge_files(char **paths, size_t n, FILE *out, int final)
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
        int w = final ? fprintf(out, "%s\t%s\n", id.data, m2 >= m1 ? "True" : "False")
                      : fprintf(out, "%s\t%08x\t%08x\n", id.data, b1, b2);
        if (w < 0) rc = VNP_ERR_IO;
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
static int reduce_passes(const vnp_journal *j, char ***paths, size_t *n)
{
    int pass = 0;
    while (*n > VNP_MERGE_FANIN) {
        size_t groups = (*n + VNP_MERGE_FANIN - 1) / VNP_MERGE_FANIN;
        char **next = vnp_calloc_array(groups, sizeof *next);
        if (!next) return VNP_ERR_NOMEM;
        int rc = VNP_OK;
        for (size_t g = 0; g < groups && rc == VNP_OK; g++) {
            char name[64], buf[4096];
            snprintf(name, sizeof name, "merge%d_%zu", pass, g);
            vnp_journal_part(j, 0, name, buf, sizeof buf);
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

int vnp_consensus_write(const vnp_journal *j, uint64_t n_blocks)
{
    size_t n = (size_t)n_blocks;
    char **paths = vnp_calloc_array(n ? n : 1, sizeof *paths);
    if (!paths) return VNP_ERR_NOMEM;
    int rc = VNP_OK;
    for (size_t b = 0; b < n && rc == VNP_OK; b++) {
        char buf[4096];
        vnp_journal_part(j, b, "cons", buf, sizeof buf);
        if (!(paths[b] = vnp_strdup(buf))) rc = VNP_ERR_NOMEM;
    }
    int passes = n > VNP_MERGE_FANIN;
    if (rc == VNP_OK) rc = reduce_passes(j, &paths, &n);
    char *out = vnp_path_join(j->outdir, "prediction_results_highestscore.csv");
    vnp_outfile *o = NULL;
    if (rc == VNP_OK && out) {
        o = vnp_outfile_open(out);
        rc = o ? VNP_OK : VNP_ERR_IO;
    } else if (rc == VNP_OK) {
        rc = VNP_ERR_NOMEM;
    }
    if (rc == VNP_OK) {
        rc = fputs("Modified_ID\tIs_Virus\n", vnp_outfile_fp(o)) < 0 ? VNP_ERR_IO : VNP_OK;
        if (rc == VNP_OK) rc = merge_files(paths, n, vnp_outfile_fp(o), 1);
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
    free(out);
    return rc;
}
