/* `virnucpro report`'s pass over a finished run: reads sequence_summary.tsv (one row per input record, in input
 * order) and prediction_results.txt (one row per kept frame, in the same order) side by side, calls each
 * sequence's regions into viral_regions.tsv and keeps the bounded aggregates report.html draws.
 *
 * prediction_results.txt  header "Sequence_ID\tPrediction\tscore1\tscore2"; frame ids "<record id>_chunk_<c>"
 *                         + F1..F3 / R1..R3 (spec §1-2); scores in either style (numpy float32 or float64 repr).
 * sequence_summary.tsv    header naming at least sequence_id, length, chunks (call and confidence when present).
 * The two are joined by order, so record ids may contain anything but a tab, repeat, or end in "_chunk_1". */
#define _POSIX_C_SOURCE 200809L
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnp/seq.h"

void vnp_report_opts_init(vnp_report_opts *o)
{
    vnp_region_opts_init(&o->regions);
    o->html = 1;
    o->tracks = VNP_REPORT_MAX_TRACKS;
}

/* ---- ranking ---- */
static int cmp_num(double a, double b)
{
    if (isnan(a)) a = -1;
    if (isnan(b)) b = -1;
    return a > b ? 1 : a < b ? -1 : 0;
}

int vnp_rep_seq_above(const vnp_rep_seq *a, const vnp_rep_seq *b)
{
    int c = cmp_num(a->best, b->best);
    if (!c) c = cmp_num(a->mean, b->mean);
    return c ? c > 0 : a->order < b->order;
}

int vnp_rep_track_above(const vnp_rep_seq *a, const vnp_rep_seq *b)
{
    int c = cmp_num(a->best_region, b->best_region);
    if (!c) c = cmp_num(a->mean, b->mean);
    if (!c) c = a->chunks > b->chunks ? 1 : a->chunks < b->chunks ? -1 : 0;
    return c ? c > 0 : a->order < b->order;
}

/* A min-heap (the lowest ranked at the root) over elements of `size` bytes whose first member is a vnp_rep_seq. */
typedef int (*above_fn)(const vnp_rep_seq *, const vnp_rep_seq *);
static void heap_swap(char *h, size_t size, size_t i, size_t j)
{
    char tmp[sizeof(vnp_rep_track) > sizeof(vnp_rep_seq) ? sizeof(vnp_rep_track) : sizeof(vnp_rep_seq)];
    memcpy(tmp, h + i * size, size);
    memcpy(h + i * size, h + j * size, size);
    memcpy(h + j * size, tmp, size);
}
static const vnp_rep_seq *at(const char *h, size_t size, size_t i) { return (const vnp_rep_seq *)(h + i * size); }
static void sift_up(char *h, size_t size, size_t i, above_fn above)
{
    while (i > 0 && above(at(h, size, (i - 1) / 2), at(h, size, i))) {
        heap_swap(h, size, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}
static void sift_down(char *h, size_t size, size_t n, above_fn above)
{
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && above(at(h, size, m), at(h, size, l))) m = l;
        if (r < n && above(at(h, size, m), at(h, size, r))) m = r;
        if (m == i) return;
        heap_swap(h, size, i, m);
        i = m;
    }
}

/* ---- one record at a time ---- */
typedef struct {
    vnp_rep_seq s;
    size_t cap;
    vnp_chunk_score *chunks;
    float *frames;
    vnp_region *regions;
    size_t last_chunk; /* 1-based chunk of the last frame row taken, 0 before any */
} record;

static int record_reset(record *rec, size_t chunks)
{
    if (chunks > rec->cap) {
        size_t cap = chunks + chunks / 2 + 16;
        vnp_chunk_score *c = vnp_realloc_array(rec->chunks, cap, sizeof *c);
        if (c) rec->chunks = c;
        float *f = vnp_realloc_array(rec->frames, cap, VNP_NFRAMES * sizeof *f);
        if (f) rec->frames = f;
        vnp_region *g = vnp_realloc_array(rec->regions, (cap + 1) / 2 + 1, sizeof *g);
        if (g) rec->regions = g;
        if (!c || !f || !g) return VNP_ERR_NOMEM;
        rec->cap = cap;
    }
    if (chunks) memset(rec->chunks, 0, chunks * sizeof *rec->chunks); /* an empty sequence: maybe nothing allocated */
    for (size_t i = 0; i < chunks * VNP_NFRAMES; i++) rec->frames[i] = NAN;
    rec->last_chunk = 0;
    return VNP_OK;
}

static void bump(uint64_t *hist, float x)
{
    int b = (int)(x * VNP_REP_BINS);
    hist[b < 0 ? 0 : b >= VNP_REP_BINS ? VNP_REP_BINS - 1 : b]++;
}

static void count_tier(vnp_rep *r, const char *call, const char *conf)
{
    for (size_t i = 0; i < r->n_tiers; i++)
        if (!strcmp(r->tiers[i].call, call) && !strcmp(r->tiers[i].confidence, conf)) {
            r->tiers[i].n++;
            return;
        }
    if (r->n_tiers == VNP_REP_TIERS) return; /* a file with more kinds than VirNucPro writes: the rest are not shown */
    vnp_rep_tier *t = &r->tiers[r->n_tiers++];
    snprintf(t->call, sizeof t->call, "%s", call);
    snprintf(t->confidence, sizeof t->confidence, "%s", conf);
    t->n = 1;
}

static int keep_track(vnp_rep *r, const record *rec)
{
    size_t cap = (size_t)r->opts->tracks;
    if (cap == 0 || rec->s.chunks < (size_t)r->opts->regions.min_seq_chunks || rec->s.scored == 0) return VNP_OK;
    vnp_rep_track *slot;
    if (r->n_tracks < cap) {
        slot = &r->tracks[r->n_tracks];
        *slot = (vnp_rep_track){0};
    } else if (vnp_rep_track_above(&rec->s, &r->tracks[0].s)) {
        slot = &r->tracks[0];
    } else {
        return VNP_OK;
    }
    size_t n = rec->s.chunks;
    vnp_chunk_score *c = vnp_realloc_array(slot->chunks, n, sizeof *c);
    if (c) slot->chunks = c;
    float *f = vnp_realloc_array(slot->frames, n, VNP_NFRAMES * sizeof *f);
    if (f) slot->frames = f;
    vnp_region *g = vnp_realloc_array(slot->regions, rec->s.n_regions + 1, sizeof *g);
    if (g) slot->regions = g;
    if (!c || !f || !g) return VNP_ERR_NOMEM; /* what was allocated stays with the slot and is freed with it */
    slot->s = rec->s;
    memcpy(c, rec->chunks, n * sizeof *c);
    memcpy(f, rec->frames, n * VNP_NFRAMES * sizeof *f);
    memcpy(g, rec->regions, rec->s.n_regions * sizeof *g);
    if (slot == &r->tracks[r->n_tracks]) {
        r->n_tracks++;
        sift_up((char *)r->tracks, sizeof *r->tracks, r->n_tracks - 1, vnp_rep_track_above);
    } else {
        sift_down((char *)r->tracks, sizeof *r->tracks, r->n_tracks, vnp_rep_track_above);
    }
    return VNP_OK;
}

/* Everything of one record is in: its regions, its rows, the aggregates. */
static int finish_record(vnp_rep *r, record *rec, const char *full_id, FILE *regions)
{
    vnp_rep_seq *s = &rec->s;
    double sum = 0;
    for (size_t i = 0; i < s->chunks; i++) {
        const vnp_chunk_score *c = &rec->chunks[i];
        if (c->frames <= 0) continue;
        if (s->scored == 0 || c->score > s->best) s->best = c->score;
        sum += c->score;
        s->scored++;
        s->viral_chunks += c->score >= c->score_other;
    }
    s->mean = s->scored ? sum / (double)s->scored : NAN;
    if (!s->scored) s->best = NAN;
    size_t nr = 0;
    int rc = s->chunks ? vnp_regions_call(rec->chunks, s->chunks, s->length, r->chunk_len, &r->opts->regions,
                                          rec->regions, &nr, NULL)
                       : VNP_OK;
    if (rc) return rc;
    s->n_regions = nr;
    for (size_t i = 0; i < nr && rc == VNP_OK; i++) {
        rc = vnp_regions_write_row(regions, full_id, &rec->regions[i]);
        if (rec->regions[i].mean_score > s->best_region) s->best_region = rec->regions[i].mean_score;
        r->n_whole += rec->regions[i].whole;
    }
    if (rc) return rc;
    r->n_regions += nr;
    r->seqs_with_regions += nr > 0;
    r->records++;
    r->chunks += s->chunks;
    r->frames += s->frames;
    if (s->scored) {
        r->scored_records++;
        bump(r->hist_best, s->best);
    }
    count_tier(r, s->call, s->confidence);
    if (r->n_top < VNP_REPORT_MAX_ROWS) {
        r->top[r->n_top++] = *s;
        sift_up((char *)r->top, sizeof *r->top, r->n_top - 1, vnp_rep_seq_above);
    } else if (vnp_rep_seq_above(s, &r->top[0])) {
        r->top[0] = *s;
        sift_down((char *)r->top, sizeof *r->top, r->n_top, vnp_rep_seq_above);
    }
    return keep_track(r, rec);
}

/* ---- the two tables ---- */
typedef struct {
    FILE *f;
    const char *path;
    char *line;
    size_t cap;
    uint64_t lineno;
    int col_id, col_len, col_chunks, col_call, col_conf, ncols;
} table;

static int table_open(table *t, const char *outdir, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", outdir, name);
    t->path = path;
    t->f = fopen(path, "r");
    if (!t->f) {
        vnp_error("cannot read '%s': %s (is '%s' the output folder of a finished `virnucpro predict` or `merge`?)",
                  path, strerror(errno), outdir);
        return errno == ENOENT ? VNP_ERR_NOTFOUND : VNP_ERR_IO;
    }
    return VNP_OK;
}

/* The next line without its newline; 0 at the end; VNP_ERR_IO on a read error. */
static int table_next(table *t)
{
    ssize_t n = getline(&t->line, &t->cap, t->f);
    if (n < 0) {
        if (ferror(t->f)) {
            vnp_error("reading '%s' after line %llu failed: %s", t->path, (unsigned long long)t->lineno,
                      strerror(errno));
            return VNP_ERR_IO;
        }
        return 0;
    }
    t->lineno++;
    while (n > 0 && (t->line[n - 1] == '\n' || t->line[n - 1] == '\r')) t->line[--n] = '\0';
    return 1;
}

/* Splits the line in place at tabs into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = '\0';
        p = t + 1;
    }
    return n;
}

static int summary_header(table *t)
{
    int rc = table_next(t);
    if (rc <= 0) {
        if (rc == 0) vnp_error("'%s' is empty; expected a header line starting with sequence_id", t->path);
        return rc ? rc : VNP_ERR_FORMAT;
    }
    char *f[64];
    int n = split_tabs(t->line, f, 64);
    t->col_id = t->col_len = t->col_chunks = t->col_call = t->col_conf = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(f[i], "sequence_id")) t->col_id = i;
        else if (!strcmp(f[i], "length")) t->col_len = i;
        else if (!strcmp(f[i], "chunks")) t->col_chunks = i;
        else if (!strcmp(f[i], "call")) t->col_call = i;
        else if (!strcmp(f[i], "confidence")) t->col_conf = i;
    }
    t->ncols = n;
    if (t->col_id < 0 || t->col_len < 0 || t->col_chunks < 0) {
        vnp_error("'%s' line 1: expected a header with the columns sequence_id, length and chunks", t->path);
        return VNP_ERR_FORMAT;
    }
    return VNP_OK;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-') return -1;
    *out = v;
    return 0;
}

/* The next record of sequence_summary.tsv into rec (full id into *id); 0 at the end, 1 for a record. */
static int next_record(vnp_rep *r, table *t, record *rec, char **id, size_t *id_cap)
{
    int rc = table_next(t);
    if (rc <= 0) return rc;
    char *f[64];
    int n = split_tabs(t->line, f, 64);
    uint64_t len, chunks;
    if (n != t->ncols || parse_u64(f[t->col_len], &len) || parse_u64(f[t->col_chunks], &chunks)) {
        vnp_error("'%s' line %llu: expected %d tab-separated fields with a whole number of bases and of chunks",
                  t->path, (unsigned long long)t->lineno, t->ncols);
        return VNP_ERR_FORMAT;
    }
    if (chunks != vnp_chunk_count((size_t)len, (size_t)r->chunk_len)) {
        vnp_error("'%s' line %llu: %llu bases make %zu chunks of %d, the file says %llu (a different chunk length?)",
                  t->path, (unsigned long long)t->lineno, (unsigned long long)len,
                  vnp_chunk_count((size_t)len, (size_t)r->chunk_len), r->chunk_len, (unsigned long long)chunks);
        return VNP_ERR_FORMAT;
    }
    size_t il = strlen(f[t->col_id]);
    if (il + 1 > *id_cap) {
        char *p = realloc(*id, il + 1);
        if (!p) return VNP_ERR_NOMEM;
        *id = p;
        *id_cap = il + 1;
    }
    memcpy(*id, f[t->col_id], il + 1);
    if ((rc = record_reset(rec, (size_t)chunks))) return rc;
    rec->s = (vnp_rep_seq){.order = r->records, .length = len, .chunks = (size_t)chunks};
    if (il > VNP_REP_ID_MAX) snprintf(rec->s.id, sizeof rec->s.id, "%.*s...", VNP_REP_ID_MAX, *id);
    else memcpy(rec->s.id, *id, il + 1);
    snprintf(rec->s.call, sizeof rec->s.call, "%s", t->col_call >= 0 ? f[t->col_call] : "");
    snprintf(rec->s.confidence, sizeof rec->s.confidence, "%s", t->col_conf >= 0 ? f[t->col_conf] : "");
    return 1;
}

/* When frame id fid is "<id>_chunk_<c><F|R><1-3>" with 1 <= c, returns c and the frame's 0-based slot; else 0. */
static size_t frame_of(const char *fid, const char *id, int *slot)
{
    size_t n = strlen(id);
    if (strncmp(fid, id, n) || strncmp(fid + n, "_chunk_", 7)) return 0;
    const char *p = fid + n + 7;
    if (*p < '1' || *p > '9') return 0;
    size_t c = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (c > (SIZE_MAX - 9) / 10) return 0;
        c = c * 10 + (size_t)(*p - '0');
    }
    if ((p[0] != 'F' && p[0] != 'R') || p[1] < '1' || p[1] > '3' || p[2]) return 0;
    *slot = (p[0] == 'R' ? 3 : 0) + (p[1] - '1');
    return c;
}

static int parse_score(const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0)) return -1;
    *out = (float)v; /* both styles print the float32 the classifier gave: it reads back exactly */
    return 0;
}

static int read_run_json(vnp_rep *r)
{
    char path[4096];
    json_error_t err;
    snprintf(path, sizeof path, "%s/run_summary.json", r->outdir);
    if (access(path, F_OK) != 0) { /* a folder from before run_summary.json: the identity has the chunk length */
        vnp_warn("'%s' is missing; the report's overview will be short", path);
        r->summary = json_object();
    } else if (!(r->summary = json_load_file(path, 0, &err))) {
        vnp_error("'%s' line %d: %s (expected the JSON object `virnucpro predict` writes)", path, err.line, err.text);
        return VNP_ERR_FORMAT;
    }
    if (!json_is_object(r->summary)) {
        vnp_error("'%s': expected a JSON object", path);
        return VNP_ERR_FORMAT;
    }
    snprintf(path, sizeof path, "%s/.virnucpro/run.json", r->outdir);
    json_t *run = json_load_file(path, 0, &err);
    if (run && json_is_false(json_object_get(run, "complete"))) {
        vnp_error("the run in '%s' has not finished (%s says so): finish it with `virnucpro predict --resume`",
                  r->outdir, path);
        json_decref(run);
        return VNP_ERR_FORMAT;
    }
    json_t *id = run ? json_object_get(run, "identity") : NULL;
    r->identity = json_is_object(id) ? json_incref(id) : NULL;
    json_decref(run);
    json_t *cl = json_object_get(r->summary, "chunk_length");
    if (!json_is_integer(cl) && r->identity) cl = json_object_get(r->identity, "chunk_length");
    r->chunk_len = json_is_integer(cl) ? (int)json_integer_value(cl) : 0;
    if (r->chunk_len != 300 && r->chunk_len != 500) {
        vnp_error("'%s/run_summary.json': expected \"chunk_length\": 300 or 500", r->outdir);
        return VNP_ERR_FORMAT;
    }
    json_t *mc = r->identity ? json_object_get(r->identity, "min_confident") : NULL;
    r->min_confident = json_is_number(mc) ? json_number_value(mc) : NAN;
    return VNP_OK;
}

static void rep_free(vnp_rep *r)
{
    json_decref(r->summary);
    json_decref(r->identity);
    free(r->top);
    for (size_t i = 0; r->tracks && i < (size_t)r->opts->tracks; i++) {
        free(r->tracks[i].chunks);
        free(r->tracks[i].frames);
        free(r->tracks[i].regions);
    }
    free(r->tracks);
}

/* The join of the two tables, writing viral_regions.tsv to out. */
static int join_tables(vnp_rep *r, table *sum, table *pred, FILE *out)
{
    record rec = {0};
    char *id = NULL;
    size_t id_cap = 0;
    int rc = summary_header(sum);
    if (rc == VNP_OK && (rc = table_next(pred)) >= 0) {
        if (rc == 0 || strcmp(pred->line, "Sequence_ID\tPrediction\tscore1\tscore2")) {
            vnp_error("'%s' line 1: expected the header Sequence_ID<tab>Prediction<tab>score1<tab>score2", pred->path);
            rc = VNP_ERR_FORMAT;
        } else {
            rc = VNP_OK;
        }
    }
    int have = rc == VNP_OK ? next_record(r, sum, &rec, &id, &id_cap) : 0;
    if (have < 0) rc = have;
    while (rc == VNP_OK && (rc = table_next(pred)) == 1) {
        rc = VNP_OK;
        char *f[5];
        float s1, s2;
        if (split_tabs(pred->line, f, 5) != 4 || parse_score(f[2], &s1) || parse_score(f[3], &s2)) {
            vnp_error("'%s' line %llu: expected a frame id and a label, then two scores in [0, 1], tab-separated",
                      pred->path, (unsigned long long)pred->lineno);
            rc = VNP_ERR_FORMAT;
            break;
        }
        size_t c = 0;
        int slot = 0;
        while (have == 1 && !((c = frame_of(f[0], id, &slot)) && c <= rec.s.chunks && c >= rec.last_chunk)) {
            if ((rc = finish_record(r, &rec, id, out))) break;
            have = next_record(r, sum, &rec, &id, &id_cap);
        }
        if (rc == VNP_OK && have < 0) rc = have;
        if (rc) break;
        if (have == 0) {
            vnp_error("'%s' line %llu: frame '%s' is of no record of '%s' at or after its line %llu (expected frame "
                      "ids <sequence_id>_chunk_<n>F1..R3 in the order of the records: are the two files of one run?)",
                      pred->path, (unsigned long long)pred->lineno, f[0], sum->path,
                      (unsigned long long)sum->lineno);
            rc = VNP_ERR_FORMAT;
            break;
        }
        vnp_chunk_score *ch = &rec.chunks[c - 1];
        if (ch->frames == 0 || s2 > ch->score) ch->score = s2;
        if (ch->frames == 0 || s1 > ch->score_other) ch->score_other = s1;
        ch->frames++;
        rec.frames[(c - 1) * VNP_NFRAMES + (size_t)slot] = s2;
        rec.s.frames++;
        rec.last_chunk = c;
        bump(r->hist_frame, s2);
    }
    while (rc == VNP_OK && have == 1) { /* the records after the last frame */
        if ((rc = finish_record(r, &rec, id, out))) break;
        have = next_record(r, sum, &rec, &id, &id_cap);
        if (have < 0) rc = have;
    }
    free(rec.chunks);
    free(rec.frames);
    free(rec.regions);
    free(id);
    return rc;
}

static int write_html(const vnp_rep *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", r->outdir);
    vnp_outfile *o = vnp_outfile_open(path);
    if (!o) return VNP_ERR_IO;
    int rc = vnp_rep_write_html(vnp_outfile_fp(o), r);
    if (rc) {
        vnp_error("writing '%s' failed: %s", path, rc == VNP_ERR_IO ? strerror(errno) : vnp_status_str(rc));
        vnp_outfile_abort(o);
        return rc;
    }
    return vnp_outfile_commit(o);
}

int vnp_report_build(const char *outdir, const vnp_report_opts *o)
{
    const char *bad = vnp_region_opts_check(&o->regions);
    if (bad || o->tracks < 0 || o->tracks > VNP_REPORT_MAX_TRACKS) {
        vnp_error("invalid report options: %s", bad ? bad : "too many tracks");
        return VNP_ERR_USAGE;
    }
    vnp_rep r = {0};
    r.opts = o;
    r.outdir = outdir;
    r.top = vnp_calloc_array(VNP_REPORT_MAX_ROWS, sizeof *r.top);
    r.tracks = vnp_calloc_array((size_t)o->tracks + 1, sizeof *r.tracks);
    int rc = r.top && r.tracks ? VNP_OK : VNP_ERR_NOMEM;
    table sum = {0}, pred = {0};
    char psum[4096], ppred[4096], pout[4096];
    if (rc == VNP_OK) rc = table_open(&sum, outdir, "sequence_summary.tsv", psum, sizeof psum);
    if (rc == VNP_OK) rc = table_open(&pred, outdir, "prediction_results.txt", ppred, sizeof ppred);
    if (rc == VNP_OK) rc = read_run_json(&r);
    snprintf(pout, sizeof pout, "%s/viral_regions.tsv", outdir);
    vnp_outfile *out = rc == VNP_OK ? vnp_outfile_open(pout) : NULL;
    if (rc == VNP_OK && !out) rc = VNP_ERR_IO;
    if (rc == VNP_OK && fputs(vnp_regions_header, vnp_outfile_fp(out)) < 0) rc = VNP_ERR_IO;
    if (rc == VNP_OK) rc = join_tables(&r, &sum, &pred, vnp_outfile_fp(out));
    if (rc == VNP_ERR_IO) vnp_error("writing '%s' failed: %s", pout, strerror(errno));
    if (rc == VNP_OK) {
        rc = vnp_outfile_commit(out);
        out = NULL;
    }
    vnp_outfile_abort(out);
    if (rc == VNP_OK && o->html) rc = write_html(&r);
    if (rc == VNP_OK)
        vnp_info("%s: %llu regions in %llu of %llu sequences (viral_regions.tsv%s)", outdir,
                 (unsigned long long)r.n_regions, (unsigned long long)r.seqs_with_regions,
                 (unsigned long long)r.records, o->html ? ", report.html" : "");
    if (sum.f) fclose(sum.f);
    if (pred.f) fclose(pred.f);
    free(sum.line);
    free(pred.line);
    rep_free(&r);
    return rc;
}
