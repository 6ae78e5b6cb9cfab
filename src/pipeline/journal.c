/* The run journal in OUTDIR/.virnucpro/: run.json says which run the directory holds (its identity: inputs,
 * models, settings) and whether it finished; blocks/NNNNNNNN.<part> hold each committed block's results, and
 * blocks/NNNNNNNN.done, written last and atomically, says the block is complete. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnp/io.h"

/* The files of a finished run, removed by --force. */
static const char *const final_files[] = {
    "prediction_results.txt", "prediction_results_highestscore.csv", "sequence_summary.tsv", "run_summary.json",
    "embeddings.h5", "chunked.fa", "identified_nucleotide.fa", "identified_protein.faa", "viral_regions.tsv",
    "report.html",
};

char *vnp_path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Removes every plain file in dir, then dir itself. */
static int remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? VNP_OK : VNP_ERR_IO;
    int rc = VNP_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *p = vnp_path_join(dir, e->d_name);
        if (!p || unlink(p) != 0) {
            vnp_error("cannot remove '%s': %s", p ? p : e->d_name, strerror(errno));
            rc = VNP_ERR_IO;
        }
        free(p);
    }
    closedir(d);
    if (rc == VNP_OK && rmdir(dir) != 0 && errno != ENOENT) {
        vnp_error("cannot remove '%s': %s", dir, strerror(errno));
        rc = VNP_ERR_IO;
    }
    return rc;
}

static int remove_results(vnp_journal *j)
{
    int rc = remove_flat_dir(j->blocks);
    char *run = vnp_path_join(j->dir, "run.json");
    if (run && unlink(run) != 0 && errno != ENOENT) rc = VNP_ERR_IO;
    free(run);
    if (rc == VNP_OK && rmdir(j->dir) != 0 && errno != ENOENT) rc = VNP_ERR_IO;
    for (size_t i = 0; i < sizeof final_files / sizeof final_files[0]; i++) {
        char *p = vnp_path_join(j->outdir, final_files[i]);
        if (p && unlink(p) != 0 && errno != ENOENT) {
            vnp_error("cannot remove '%s': %s", p, strerror(errno));
            rc = VNP_ERR_IO;
        }
        free(p);
    }
    return rc;
}

int vnp_journal_discard(vnp_journal *j) { return remove_results(j); }

int vnp_write_json_file(const char *dir, const char *name, json_t *root)
{
    char *path = vnp_path_join(dir, name);
    vnp_outfile *o = path ? vnp_outfile_open(path) : NULL;
    free(path);
    int rc = VNP_ERR_IO;
    if (o && json_dumpf(root, vnp_outfile_fp(o), JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
        fputc('\n', vnp_outfile_fp(o));
        rc = vnp_outfile_commit(o);
        o = NULL;
    }
    vnp_outfile_abort(o);
    return rc;
}

/* 1 when OUTDIR holds results of some run (ours or an older one). */
static int holds_results(const vnp_journal *j)
{
    if (exists(j->dir)) return 1;
    for (size_t i = 0; i < sizeof final_files / sizeof final_files[0]; i++) {
        char *p = vnp_path_join(j->outdir, final_files[i]);
        int e = p && exists(p);
        free(p);
        if (e) return 1;
    }
    return 0;
}

/* run.json: the identity, whether the run finished, and for a shard its manifest (JSON text or NULL). */
static int write_run_json(const vnp_journal *j, const char *identity, int complete, const char *shard)
{
    json_error_t err;
    json_t *id = json_loads(identity, 0, &err);
    json_t *sh = shard ? json_loads(shard, 0, &err) : NULL;
    if (!id || (shard && !sh)) {
        vnp_error("internal: run identity or shard manifest is not JSON: %s", err.text);
        json_decref(id);
        json_decref(sh);
        return VNP_ERR_INTERNAL;
    }
    json_t *root = json_pack("{s:o, s:b}", "identity", id, "complete", complete);
    if (root && sh) json_object_set_new(root, "shard", sh);
    char *path = vnp_path_join(j->dir, "run.json");
    vnp_outfile *o = path ? vnp_outfile_open(path) : NULL;
    int rc = VNP_ERR_IO;
    if (o && root && json_dumpf(root, vnp_outfile_fp(o), JSON_SORT_KEYS | JSON_INDENT(1)) == 0) {
        fputc('\n', vnp_outfile_fp(o));
        rc = vnp_outfile_commit(o);
        o = NULL;
    }
    vnp_outfile_abort(o);
    json_decref(root);
    free(path);
    return rc;
}

/* Reads run.json: returns 1 and sets *complete when its identity equals ours, 0 when it differs, <0 on error. */
static int read_run_json(const vnp_journal *j, const char *identity, int *complete)
{
    char *path = vnp_path_join(j->dir, "run.json");
    json_error_t err;
    json_t *root = path ? json_load_file(path, 0, &err) : NULL;
    if (!root) {
        vnp_error("'%s': the run journal is unreadable (%s); use --force to start over",
                  path ? path : j->dir, path ? err.text : "out of memory");
        free(path);
        return VNP_ERR_FORMAT;
    }
    json_t *want = json_loads(identity, 0, &err);
    int same = want && json_equal(json_object_get(root, "identity"), want);
    *complete = json_is_true(json_object_get(root, "complete"));
    json_decref(want);
    json_decref(root);
    free(path);
    return same;
}

int vnp_journal_open(vnp_journal *j, const char *outdir, const char *identity, int resume, int force)
{
    memset(j, 0, sizeof *j);
    j->outdir = vnp_strdup(outdir);
    j->dir = vnp_path_join(outdir, ".virnucpro");
    j->blocks = j->dir ? vnp_path_join(j->dir, "blocks") : NULL;
    if (!j->outdir || !j->dir || !j->blocks) return VNP_ERR_NOMEM;
    /* An OUTDIR that cannot be made is a failure while running (exit 1), whatever errno said. */
    int rc = vnp_mkdir_p(outdir);
    if (rc) return rc == VNP_ERR_NOMEM ? rc : VNP_ERR_IO;
    if (access(outdir, W_OK) != 0) {
        vnp_error("output directory '%s' is not writable: %s", outdir, strerror(errno));
        return VNP_ERR_IO;
    }
    if (holds_results(j)) {
        /* --force with --resume (virnucpro-broad's workflows pass both): continue the same run, replace another */
        int same = 0, complete = 0;
        if (force && resume && exists(j->dir) && (same = read_run_json(j, identity, &complete)) < 0) same = 0;
        if (force && same) {
            j->resumed = 1;
            j->complete = complete;
        } else if (force) {
            if ((rc = remove_results(j))) return rc;
        } else if (!resume) {
            vnp_error("'%s' already holds the results of a run; use --resume to continue it or --force to "
                      "replace it", outdir);
            return VNP_ERR_USAGE;
        } else if (!exists(j->dir)) {
            vnp_error("'%s' holds results but no run journal (.virnucpro/) to resume; use --force to replace them",
                      outdir);
            return VNP_ERR_USAGE;
        } else {
            same = read_run_json(j, identity, &complete);
            if (same < 0) return same;
            if (!same) {
                vnp_error("'%s' holds a run with other inputs, models or settings; --resume needs the same "
                          "command (or use --force to replace it)", outdir);
                return VNP_ERR_USAGE;
            }
            j->resumed = 1;
            j->complete = complete;
        }
    }
    if (vnp_mkdir_p(j->blocks)) return VNP_ERR_IO;
    if (!j->resumed) return write_run_json(j, identity, 0, NULL);
    return VNP_OK;
}

void vnp_journal_close(vnp_journal *j)
{
    free(j->outdir);
    free(j->dir);
    free(j->blocks);
    memset(j, 0, sizeof *j);
}

void vnp_journal_part(const vnp_journal *j, uint64_t block, const char *part, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%08llu.%s", j->blocks, (unsigned long long)block, part);
}

/* Reads a done marker: "<records> <first id> <chunks> <frames> <bases>". 1 when it exists and parses, 0 when
 * absent, VNP_ERR_FORMAT when unreadable. */
static int read_marker(const char *path, vnp_block_counts *c, char *id, size_t idsize)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long v[4] = {0, 0, 0, 0};
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%%llu %%%zus %%llu %%llu %%llu", idsize - 1);
    int n = fscanf(f, fmt, &v[0], id, &v[1], &v[2], &v[3]);
    fclose(f);
    if (n != 5) return VNP_ERR_FORMAT;
    *c = (vnp_block_counts){v[0], v[1], v[2], v[3]};
    return 1;
}

int vnp_journal_block_done(const vnp_journal *j, uint64_t block, uint64_t n_records, const char *first_id,
                           vnp_block_counts *out)
{
    char path[4096], id[1024] = "";
    vnp_journal_part(j, block, "done", path, sizeof path);
    vnp_block_counts c;
    int rc = read_marker(path, &c, id, sizeof id);
    if (rc == 0) return 0;
    const char *want = *first_id ? first_id : "-";
    size_t idn = strlen(want) < 1000 ? strlen(want) : 1000; /* the marker keeps 1000 bytes of it */
    if (rc < 0 || c.records != n_records || strncmp(id, want, idn) != 0) {
        vnp_error("'%s': block %llu of the journal does not match the input (it changed since the run began); "
                  "use --force to start over", path, (unsigned long long)block);
        return VNP_ERR_FORMAT;
    }
    if (out) *out = c;
    return 1;
}

int vnp_journal_block_counts(const vnp_journal *j, uint64_t block, vnp_block_counts *out)
{
    char path[4096], id[1024];
    vnp_journal_part(j, block, "done", path, sizeof path);
    int rc = read_marker(path, out, id, sizeof id);
    if (rc == 0) vnp_error("'%s' is missing: block %llu was never finished", path, (unsigned long long)block);
    if (rc < 0) vnp_error("'%s': unreadable journal entry", path);
    return rc == 1 ? VNP_OK : rc == 0 ? VNP_ERR_NOTFOUND : rc;
}

int vnp_journal_commit_block(const vnp_journal *j, uint64_t block, const vnp_block_counts *c, const char *first_id)
{
    char path[4096];
    vnp_journal_part(j, block, "done", path, sizeof path);
    vnp_outfile *o = vnp_outfile_open(path);
    if (!o) return VNP_ERR_IO;
    /* ids cannot hold whitespace (they are the first word of a header), so one line holds everything */
    fprintf(vnp_outfile_fp(o), "%llu %.1000s %llu %llu %llu\n", (unsigned long long)c->records,
            *first_id ? first_id : "-", (unsigned long long)c->chunks, (unsigned long long)c->frames,
            (unsigned long long)c->bases);
    return vnp_outfile_commit(o);
}

/* The identity recorded in run.json, as compact sorted JSON text (malloc'ed). */
static char *recorded_identity(const vnp_journal *j)
{
    char *path = vnp_path_join(j->dir, "run.json");
    json_error_t err;
    json_t *root = path ? json_load_file(path, 0, &err) : NULL;
    free(path);
    char *identity = root ? json_dumps(json_object_get(root, "identity"), JSON_SORT_KEYS) : NULL;
    json_decref(root);
    return identity;
}

int vnp_journal_finish(vnp_journal *j)
{
    char *identity = recorded_identity(j);
    if (!identity) return VNP_ERR_IO;
    int rc = write_run_json(j, identity, 1, NULL);
    free(identity);
    if (rc == VNP_OK) rc = remove_flat_dir(j->blocks);
    j->complete = rc == VNP_OK;
    return rc;
}

int vnp_journal_finish_shard(vnp_journal *j, const char *manifest)
{
    char *identity = recorded_identity(j);
    if (!identity) return VNP_ERR_IO;
    int rc = write_run_json(j, identity, 1, manifest);
    free(identity);
    j->complete = rc == VNP_OK;
    return rc;
}
