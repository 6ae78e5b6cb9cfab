/* Shards for schedulers without MPI: `predict --shard i/N` scores every N-th block into its own OUTDIR and keeps
 * the blocks with a manifest; `virnucpro merge` checks that the shards belong together and cover every block, links
 * their blocks into one journal and assembles the outputs exactly as a single run would. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnp/io.h"

char *vnp_shard_manifest(const vnp_predict_opts *o, const vnp_scorer *s, const vnp_predict_stats *st)
{
    json_error_t err;
    json_t *info = o->run_info ? json_loads(o->run_info, 0, &err) : json_object();
    json_t *m = json_pack("{s:i, s:i, s:I, s:i, s:i, s:i, s:b, s:b, s:f, s:s, s:o}", "index", o->shard + 1,
                          "count", o->n_shards, "blocks", (json_int_t)st->blocks, "chunk_length", o->chunk_len,
                          "d_dna", s->d_dna, "d_prot", s->d_prot, "keep_intermediate", o->keep_intermediate,
                          "save_embeddings", o->save_embeddings, "min_confident", o->min_confident, "output_style",
                          vnp_output_style_name(o->output_style), "run_info", info ? info : json_object());
    json_t *stats = vnp_stats_json(st); /* "seconds", "reuse_counts", "fp8_check" */
    if (m && stats) json_object_update(m, stats);
    json_decref(stats);
    char *text = m ? json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(m);
    return text;
}

/* ---- merge ---- */

typedef struct {
    const char *dir;
    json_t *run;      /* run.json */
    json_t *identity; /* without "shard" and file times, for comparing */
    json_t *m;        /* the manifest */
    vnp_journal j;
} shard;

/* Drops every "mtime" member, at any depth: copies of the same files on other hosts differ only there. */
static void drop_times(json_t *v)
{
    if (json_is_object(v)) {
        json_object_del(v, "mtime");
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) drop_times(x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) drop_times(x);
    }
}

/* An integer member of m within [lo, hi]. */
static int int_in(const json_t *m, const char *key, json_int_t lo, json_int_t hi)
{
    const json_t *v = json_object_get(m, key);
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

int vnp_shard_run_check(const json_t *run, const char **why)
{
    const json_t *m = json_object_get(run, "shard");
    const json_t *mc = json_object_get(m, "min_confident");
    *why = NULL;
    if (!json_is_object(run) || !json_is_object(json_object_get(run, "identity")))
        *why = "not a run journal (no \"identity\" object)";
    else if (!json_is_object(m))
        *why = "not a shard's run (no \"shard\" entry)";
    else if (!json_is_true(json_object_get(run, "complete")))
        *why = "this shard has not finished; run it (again, with --resume)";
    else if (!int_in(m, "count", 1, 100000) ||
             !int_in(m, "index", 1, json_integer_value(json_object_get(m, "count"))))
        *why = "its manifest's \"index\" and \"count\" are not 1 <= index <= count <= 100000";
    else if (!int_in(m, "blocks", 0, (json_int_t)1 << 40))
        *why = "its manifest's \"blocks\" is not a block count";
    else if (!int_in(m, "chunk_length", 300, 500) || (json_integer_value(json_object_get(m, "chunk_length")) != 300 &&
                                                     json_integer_value(json_object_get(m, "chunk_length")) != 500))
        *why = "its manifest's \"chunk_length\" is not 300 or 500";
    else if (!int_in(m, "d_dna", 1, 1 << 16) || !int_in(m, "d_prot", 1, 1 << 16))
        *why = "its manifest's feature widths \"d_dna\" / \"d_prot\" are not in [1, 65536]";
    else if (!json_is_boolean(json_object_get(m, "keep_intermediate")) ||
             !json_is_boolean(json_object_get(m, "save_embeddings")))
        *why = "its manifest's \"keep_intermediate\" / \"save_embeddings\" are not true or false";
    else if (!json_is_number(mc) || !(json_number_value(mc) >= 0.5 && json_number_value(mc) <= 1.0))
        *why = "its manifest's \"min_confident\" is not a number in [0.5, 1]";
    return *why ? VNP_ERR_FORMAT : VNP_OK;
}

static int load_shard(shard *s, const char *dir)
{
    s->dir = dir;
    char *path = vnp_path_join(dir, ".virnucpro/run.json");
    json_error_t err;
    s->run = path ? json_load_file(path, 0, &err) : NULL;
    if (!s->run) {
        vnp_error("'%s' is not the output folder of a `predict --shard` run (%s: %s)", dir, path ? path : "",
                  path ? err.text : "out of memory");
        free(path);
        return VNP_ERR_FORMAT;
    }
    const char *why;
    if (vnp_shard_run_check(s->run, &why)) {
        vnp_error("'%s': %s", path, why);
        free(path);
        return VNP_ERR_FORMAT;
    }
    s->m = json_object_get(s->run, "shard");
    free(path);
    s->identity = json_deep_copy(json_object_get(s->run, "identity"));
    if (!s->identity) return VNP_ERR_NOMEM;
    json_object_del(s->identity, "shard");
    drop_times(s->identity);
    s->j.outdir = vnp_strdup(dir);
    s->j.dir = vnp_path_join(dir, ".virnucpro");
    s->j.blocks = s->j.dir ? vnp_path_join(s->j.dir, "blocks") : NULL;
    return s->j.outdir && s->j.blocks ? VNP_OK : VNP_ERR_NOMEM;
}

static json_int_t m_int(const shard *s, const char *key) { return json_integer_value(json_object_get(s->m, key)); }

/* The shards are of one run, each index 1..N once, all with the same block count. */
static int check_set(shard *sh, int n)
{
    json_int_t count = m_int(&sh[0], "count"), blocks = m_int(&sh[0], "blocks");
    if (count != n) {
        vnp_error("'%s' is shard %lld of %lld, but %d shard folders were given", sh[0].dir,
                  (long long)m_int(&sh[0], "index"), (long long)count, n);
        return VNP_ERR_USAGE;
    }
    char *seen = calloc((size_t)n + 1, 1);
    if (!seen) return VNP_ERR_NOMEM;
    int rc = VNP_OK;
    for (int i = 0; i < n && rc == VNP_OK; i++) {
        json_int_t idx = m_int(&sh[i], "index");
        if (!json_equal(sh[i].identity, sh[0].identity)) {
            vnp_error("'%s' and '%s' are shards of different runs (inputs, models or settings differ)", sh[0].dir,
                      sh[i].dir);
            rc = VNP_ERR_USAGE;
        } else if (m_int(&sh[i], "count") != count || m_int(&sh[i], "blocks") != blocks) {
            vnp_error("'%s' and '%s' split the run differently (%lld vs %lld shards, %lld vs %lld blocks)", sh[0].dir,
                      sh[i].dir, (long long)count, (long long)m_int(&sh[i], "count"), (long long)blocks,
                      (long long)m_int(&sh[i], "blocks"));
            rc = VNP_ERR_USAGE;
        } else if (idx < 1 || idx > n || seen[idx]) {
            vnp_error("'%s' is shard %lld of %lld, %s", sh[i].dir, (long long)idx, (long long)count,
                      idx < 1 || idx > n ? "out of range" : "given twice");
            rc = VNP_ERR_USAGE;
        } else {
            seen[idx] = 1;
        }
    }
    free(seen);
    return rc;
}

/* A hard link, or a copy where the shard lies on another file system. */
static int link_or_copy(const char *from, const char *to)
{
    if (link(from, to) == 0) return VNP_OK;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK) {
        vnp_error("cannot link '%s' to '%s': %s", from, to, strerror(errno));
        return VNP_ERR_IO;
    }
    vnp_buf b = {0};
    int rc = vnp_read_file(from, SIZE_MAX / 2, &b);
    if (rc == VNP_OK) rc = vnp_write_file(to, b.data, b.len);
    vnp_buf_free(&b);
    return rc;
}

/* Links every part of the shard's own blocks into j, each block checked whole first: a damaged one is refused,
 * naming its file in the shard's folder. */
static int gather(const shard *s, const vnp_journal *j, uint64_t blocks, int n)
{
    uint64_t idx = (uint64_t)m_int(s, "index") - 1;
    int rc = VNP_OK;
    for (uint64_t no = idx; rc == VNP_OK && no < blocks; no += (uint64_t)n)
        rc = vnp_journal_block_verify(&s->j, no, NULL, "run that shard again (predict --shard ... --force) "
                                                      "before merging");
    DIR *d = rc ? NULL : opendir(s->j.blocks);
    if (!d) {
        if (!rc) vnp_error("cannot read '%s': %s", s->j.blocks, strerror(errno));
        return rc ? rc : VNP_ERR_IO;
    }
    for (struct dirent *e; rc == VNP_OK && (e = readdir(d));) {
        char *end;
        unsigned long long no = strtoull(e->d_name, &end, 10);
        if (e->d_name[0] == '.' || *end != '.' || end - e->d_name != 8 || strstr(end, ".tmp.")) continue;
        if (no >= blocks || no % (uint64_t)n != idx) continue; /* not this shard's: ignore */
        char *from = vnp_path_join(s->j.blocks, e->d_name), *to = vnp_path_join(j->blocks, e->d_name);
        rc = from && to ? link_or_copy(from, to) : VNP_ERR_NOMEM;
        free(from);
        free(to);
    }
    closedir(d);
    return rc;
}

static int merge_summary(const vnp_journal *j, shard *sh, int n, uint64_t blocks, double t_merge)
{
    vnp_predict_stats st = {0};
    for (uint64_t no = 0; no < blocks; no++) {
        vnp_block_counts c;
        int rc = vnp_journal_block_counts(j, no, &c);
        if (rc) return rc;
        vnp_stats_add_block(&st, &c);
    }
    int with_reuse = 1; /* each shard's reuse counts, when every manifest has them */
    json_t *dirs = json_array();
    for (int i = 0; i < n; i++) {
        int has_reuse = 0;
        if (vnp_stats_add_json(&st, sh[i].m, &has_reuse)) {
            vnp_error("'%s': the shard's manifest has no valid \"seconds\", \"reuse_counts\" or \"fp8_check\"",
                      sh[i].dir);
            json_decref(dirs);
            return VNP_ERR_FORMAT;
        }
        with_reuse &= has_reuse;
        json_array_append_new(dirs, json_string(sh[i].dir));
    }
    json_t *root = json_deep_copy(json_object_get(sh[0].m, "run_info"));
    if (!root) root = json_object();
    json_t *sec = vnp_stats_seconds_json(&st);
    if (sec) json_object_set_new(sec, "merge", json_real(t_merge));
    vnp_run_totals tot = {(int)m_int(&sh[0], "chunk_length"), st.records, st.chunks, st.frames, st.bases, blocks,
                          0, st.fp32_reruns, sec};
    int rc = vnp_run_summary_fill(root, &tot);
    vnp_stats_summary_members(root, &st, with_reuse);
    json_object_set_new(root, "shards", json_pack("{s:i, s:o}", "count", n, "folders", dirs));
    if (rc == VNP_OK) rc = vnp_write_json_file(j->outdir, vnp_run_summary_name, root);
    json_decref(root);
    return rc;
}

int vnp_merge_run(const char *outdir, const char *const *dirs, int n, int force)
{
    double t0 = vnp_time_now();
    /* OUTDIR's lock before anything else: a merge into a folder another run uses touches nothing there */
    vnp_outdir_lock *lock = NULL;
    int rc = vnp_outdir_lock_take(outdir, &lock);
    if (rc) return rc;
    shard *sh = calloc((size_t)n, sizeof *sh);
    if (!sh) {
        vnp_outdir_lock_release(lock);
        return VNP_ERR_NOMEM;
    }
    vnp_journal j = {0};
    for (int i = 0; i < n && rc == VNP_OK; i++) rc = load_shard(&sh[i], dirs[i]);
    if (rc == VNP_OK) rc = check_set(sh, n);
    char *identity = rc == VNP_OK ? json_dumps(sh[0].identity, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    if (rc == VNP_OK && !identity) rc = VNP_ERR_NOMEM;
    uint64_t blocks = rc == VNP_OK ? (uint64_t)m_int(&sh[0], "blocks") : 0;
    if (rc == VNP_OK) rc = vnp_journal_open(&j, outdir, identity, 0, force, lock);
    for (int i = 0; i < n && rc == VNP_OK; i++) rc = gather(&sh[i], &j, blocks, n);
    if (rc == VNP_OK) {
        vnp_predict_opts o;
        vnp_predict_opts_init(&o);
        o.chunk_len = (int)m_int(&sh[0], "chunk_length");
        o.keep_intermediate = json_is_true(json_object_get(sh[0].m, "keep_intermediate"));
        o.save_embeddings = json_is_true(json_object_get(sh[0].m, "save_embeddings"));
        o.min_confident = json_number_value(json_object_get(sh[0].m, "min_confident"));
        /* shards made before the styles existed wrote the original layout */
        if (vnp_output_style_parse(json_string_value(json_object_get(sh[0].m, "output_style")), &o.output_style))
            o.output_style = VNP_OUTPUT_ORIGINAL;
        vnp_scorer s = {0};
        s.d_dna = (int)m_int(&sh[0], "d_dna");
        s.d_prot = (int)m_int(&sh[0], "d_prot");
        rc = vnp_assemble_outputs(&j, blocks, &o, &s);
    }
    if (rc == VNP_OK) rc = merge_summary(&j, sh, n, blocks, vnp_time_now() - t0);
    if (rc == VNP_OK) rc = vnp_journal_finish(&j);
    free(identity);
    for (int i = 0; i < n; i++) {
        json_decref(sh[i].run);
        json_decref(sh[i].identity);
        vnp_journal_close(&sh[i].j);
    }
    free(sh);
    if (rc && j.opened) { /* a merge that failed leaves no half journal: rerunning it is the way on */
        int drc = vnp_journal_discard(&j);
        (void)drc;
    }
    vnp_journal_close(&j);
    vnp_outdir_lock_release(lock);
    return rc;
}
