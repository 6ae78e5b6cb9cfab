/* The run journal in OUTDIR/.virnucpro/: run.json says which run the directory holds (its identity: inputs,
 * models, settings) and whether it finished; blocks/NNNNNNNN.<part> hold each committed block's results, and
 * blocks/NNNNNNNN.done, written last and atomically, says the block is complete and holds the size and CRC-32 of
 * each part, checked whenever a block is reused (--resume), assembled or merged. OUTDIR's lock and the removal of
 * files are outdir.c's. */
#define _POSIX_C_SOURCE 200809L /* O_NOFOLLOW, O_CLOEXEC */
#include "pipeline_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "vnp/io.h"

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
    return lstat(path, &st) == 0;
}

int vnp_journal_discard(vnp_journal *j)
{
    int rc = vnp_outdir_remove_blocks(j->outdir);
    char *run = vnp_path_join(j->dir, "run.json");
    if (run && unlink(run) != 0 && errno != ENOENT) rc = VNP_ERR_IO;
    free(run);
    return rc;
}

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

/* 1 when OUTDIR holds results of some run (ours or an older one): final files, or a journal that finished or
 * committed a block. A journal that committed nothing (its run failed or was killed before its first block) holds
 * nothing to lose, so a new run may take its place. */
static int holds_results(const vnp_journal *j)
{
    if (vnp_outdir_has_final(j->outdir)) return 1;
    char *path = vnp_path_join(j->dir, "run.json");
    json_error_t err;
    json_t *root = path && exists(path) ? json_load_file(path, 0, &err) : NULL;
    int held = path && exists(path) && (!root || json_is_true(json_object_get(root, "complete")));
    json_decref(root);
    free(path);
    return held || vnp_outdir_has_committed_block(j->outdir);
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

int vnp_journal_open(vnp_journal *j, const char *outdir, const char *identity, int resume, int force,
                     vnp_outdir_lock *lock)
{
    memset(j, 0, sizeof *j);
    j->outdir = vnp_strdup(outdir);
    j->dir = vnp_path_join(outdir, ".virnucpro");
    j->blocks = j->dir ? vnp_path_join(j->dir, "blocks") : NULL;
    if (!j->outdir || !j->dir || !j->blocks) return VNP_ERR_NOMEM;
    /* the lock first: until it is held, nothing in OUTDIR is ours to read or change */
    int rc = lock ? VNP_OK : vnp_outdir_lock_take(outdir, &j->lock);
    if (rc) return rc;
    if ((rc = vnp_outdir_remove_stale(outdir))) return rc;
    char *run = vnp_path_join(j->dir, "run.json");
    int has_journal = run && exists(run);
    free(run);
    if (holds_results(j)) {
        /* --force with --resume (virnucpro-broad's workflows pass both): continue the same run, replace another */
        int same = 0, complete = 0;
        if (force && resume && has_journal && (same = read_run_json(j, identity, &complete)) < 0) same = 0;
        if (force && same) {
            j->resumed = 1;
            j->complete = complete;
        } else if (force) {
            if ((rc = vnp_outdir_remove_results(outdir))) return rc;
        } else if (!resume) {
            vnp_error("'%s' already holds the results of a run; use --resume to continue it or --force to "
                      "replace it", outdir);
            return VNP_ERR_USAGE;
        } else if (!has_journal) {
            vnp_error("'%s' holds results but no run journal (.virnucpro/run.json) to resume; use --force to "
                      "replace them", outdir);
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
    if (mkdir(j->blocks, 0777) != 0 && errno != EEXIST) {
        vnp_error("cannot create '%s': %s", j->blocks, strerror(errno));
        return VNP_ERR_IO;
    }
    if (!j->resumed && (rc = write_run_json(j, identity, 0, NULL))) return rc;
    j->opened = 1;
    return VNP_OK;
}

void vnp_journal_close(vnp_journal *j)
{
    vnp_outdir_lock_release(j->lock);
    free(j->outdir);
    free(j->dir);
    free(j->blocks);
    memset(j, 0, sizeof *j);
}

void vnp_journal_part(const vnp_journal *j, uint64_t block, const char *part, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%08llu.%s", j->blocks, (unsigned long long)block, part);
}

/* ---- done markers ----
 * "<records> <first id> <chunks> <frames> <bases>\n", one "part <name> <bytes> <crc32>\n" line per part the block
 * has, then "end <crc32>\n": the CRC-32 (zlib) of every byte before that line, so that a flipped byte anywhere in
 * the marker or its parts is noticed. Ids hold no whitespace (they are the first word of a header). */

const char *const vnp_journal_parts[] = {"pred", "cons", "seq", "chunked", "nuc", "prot", "emb", "embids"};
const size_t vnp_journal_n_parts = sizeof vnp_journal_parts / sizeof vnp_journal_parts[0];

enum { MARKER_MAX = 65536 };

/* Reads an unsigned decimal number ending at a space or newline. */
static int take_u64(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (s >= end || *s < '0' || *s > '9') return 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - 9) / 10) return 0;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    *p = s;
    return 1;
}

static int take_hex32(const char **p, const char *end, uint32_t *v)
{
    const char *s = *p;
    uint32_t x = 0;
    if (end - s < 8) return 0;
    for (int i = 0; i < 8; i++, s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        if (d < 0) return 0;
        x = x << 4 | (uint32_t)d;
    }
    *v = x;
    *p = s;
    return 1;
}

/* A word of at most cap - 1 bytes without space, newline or NUL, into out. */
static int take_word(const char **p, const char *end, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = 0;
    while (s + n < end && s[n] != ' ' && s[n] != '\n' && s[n] != '\0') n++;
    if (n == 0 || n >= cap) return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = s + n;
    return 1;
}

static int take_char(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c) return 0;
    (*p)++;
    return 1;
}

static int take_lit(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0) return 0;
    *p += n;
    return 1;
}

int vnp_journal_marker_parse(const char *text, size_t len, vnp_block_marker *m, const char **why)
{
    memset(m, 0, sizeof *m);
    const char *p = text, *end = text + len;
    uint64_t v[4];
    *why = "the first line is not \"<records> <first id> <chunks> <frames> <bases>\"";
    if (!take_u64(&p, end, &v[0]) || !take_char(&p, end, ' ') || !take_word(&p, end, m->first_id, sizeof m->first_id) ||
        !take_char(&p, end, ' ') || !take_u64(&p, end, &v[1]) || !take_char(&p, end, ' ') ||
        !take_u64(&p, end, &v[2]) || !take_char(&p, end, ' ') || !take_u64(&p, end, &v[3]) ||
        !take_char(&p, end, '\n'))
        return VNP_ERR_FORMAT;
    m->counts = (vnp_block_counts){v[0], v[1], v[2], v[3]};
    while (take_lit(&p, end, "part ")) {
        vnp_part_sum *ps = &m->parts[m->n_parts];
        *why = "a \"part <name> <bytes> <crc32>\" line is malformed";
        if (m->n_parts >= VNP_JOURNAL_MAX_PARTS) {
            *why = "it lists too many parts";
            return VNP_ERR_FORMAT;
        }
        if (!take_word(&p, end, ps->name, sizeof ps->name) || !take_char(&p, end, ' ') ||
            !take_u64(&p, end, &ps->size) || !take_char(&p, end, ' ') || !take_hex32(&p, end, &ps->crc) ||
            !take_char(&p, end, '\n'))
            return VNP_ERR_FORMAT;
        for (const char *c = ps->name; *c; c++)
            if (*c < 'a' || *c > 'z') return VNP_ERR_FORMAT;
        m->n_parts++;
    }
    size_t body = (size_t)(p - text);
    uint32_t crc;
    *why = "it lacks its closing \"end <crc32>\" line (incomplete, or written by an older virnucpro)";
    if (!take_lit(&p, end, "end ") || !take_hex32(&p, end, &crc) || !take_char(&p, end, '\n') || p != end)
        return VNP_ERR_FORMAT;
    if ((uint32_t)crc32_z(0L, (const Bytef *)text, body) != crc) {
        *why = "its own checksum does not match";
        return VNP_ERR_FORMAT;
    }
    return VNP_OK;
}

/* Reads a journal file without following a symbolic link: its CRC-32 and size, and (when keep is not NULL, at most
 * `max` bytes) its bytes. 1 read, 0 absent, < 0 with *why set. */
static int read_part(const char *path, uint64_t *size, uint32_t *crc, vnp_buf *keep, size_t max, const char **why)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        *why = errno == ELOOP ? "it is a symbolic link" : strerror(errno);
        return VNP_ERR_FORMAT;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *why = "it is not a regular file";
        return VNP_ERR_FORMAT;
    }
    char buf[1 << 16];
    uLong c = crc32_z(0L, Z_NULL, 0);
    uint64_t n = 0;
    ssize_t k;
    int rc = 1;
    while ((k = read(fd, buf, sizeof buf)) > 0) {
        c = crc32_z(c, (const Bytef *)buf, (size_t)k);
        n += (uint64_t)k;
        if (keep && (n > max || vnp_buf_append(keep, buf, (size_t)k))) {
            *why = n > max ? "it is too large" : "out of memory";
            rc = VNP_ERR_FORMAT;
            break;
        }
    }
    if (k < 0) {
        *why = strerror(errno);
        rc = VNP_ERR_IO;
    }
    close(fd);
    *size = n;
    *crc = (uint32_t)c;
    return rc;
}

int vnp_journal_read_marker(const vnp_journal *j, uint64_t block, vnp_block_marker *m, char *why, size_t whysize)
{
    char path[4096];
    vnp_journal_part(j, block, "done", path, sizeof path);
    vnp_buf t = {0};
    uint64_t size;
    uint32_t crc;
    const char *w = "";
    int rc = read_part(path, &size, &crc, &t, MARKER_MAX, &w);
    if (rc == 1) rc = vnp_journal_marker_parse(t.data ? t.data : "", t.len, m, &w) == VNP_OK ? 1 : VNP_ERR_FORMAT;
    vnp_buf_free(&t);
    if (rc < 0) snprintf(why, whysize, "'%s': %s", path, w);
    return rc;
}

int vnp_journal_block_check(const vnp_journal *j, uint64_t block, vnp_block_marker *m, char *why, size_t whysize)
{
    int rc = vnp_journal_read_marker(j, block, m, why, whysize);
    for (int i = 0; rc == 1 && i < m->n_parts; i++) {
        char path[4096];
        vnp_journal_part(j, block, m->parts[i].name, path, sizeof path);
        uint64_t size = 0;
        uint32_t crc = 0;
        const char *w = "";
        int r = read_part(path, &size, &crc, NULL, 0, &w);
        if (r == 0)
            snprintf(why, whysize, "'%s' is missing", path);
        else if (r < 0)
            snprintf(why, whysize, "'%s': %s", path, w);
        else if (size != m->parts[i].size)
            snprintf(why, whysize, "'%s' holds %llu bytes, its block recorded %llu", path, (unsigned long long)size,
                     (unsigned long long)m->parts[i].size);
        else if (crc != m->parts[i].crc)
            snprintf(why, whysize, "'%s' has CRC-32 %08x, its block recorded %08x", path, crc, m->parts[i].crc);
        if (r != 1 || size != m->parts[i].size || crc != m->parts[i].crc) rc = VNP_ERR_FORMAT;
    }
    /* a part on disk that the marker does not list would be assembled unchecked */
    for (size_t k = 0; rc == 1 && k < vnp_journal_n_parts; k++) {
        int listed = 0;
        for (int i = 0; i < m->n_parts && !listed; i++) listed = strcmp(m->parts[i].name, vnp_journal_parts[k]) == 0;
        char path[4096];
        vnp_journal_part(j, block, vnp_journal_parts[k], path, sizeof path);
        if (!listed && exists(path)) {
            snprintf(why, whysize, "'%s' is not recorded in its block's done marker", path);
            rc = VNP_ERR_FORMAT;
        }
    }
    return rc;
}

int vnp_journal_block_reusable(const vnp_journal *j, uint64_t block, vnp_block_marker *m)
{
    char why[4400] = "";
    int rc = vnp_journal_block_check(j, block, m, why, sizeof why);
    if (rc >= 0) return rc;
    /* damaged: computed again, and the marker goes so that nothing trusts the block meanwhile */
    char path[4096];
    vnp_journal_part(j, block, "done", path, sizeof path);
    vnp_warn("journal block %llu is damaged (%s); computing it again", (unsigned long long)block, why);
    if (unlink(path) != 0 && errno != ENOENT) {
        vnp_error("cannot remove '%s': %s", path, strerror(errno));
        return VNP_ERR_IO;
    }
    return 0;
}

int vnp_journal_block_done(const vnp_journal *j, uint64_t block, uint64_t n_records, const char *first_id,
                           vnp_block_counts *out)
{
    vnp_block_marker m;
    int rc = vnp_journal_block_reusable(j, block, &m);
    if (rc <= 0) return rc;
    const char *want = *first_id ? first_id : "-";
    size_t idn = strlen(want) < 1000 ? strlen(want) : 1000; /* the marker keeps 1000 bytes of it */
    if (m.counts.records != n_records || strncmp(m.first_id, want, idn) != 0) {
        char path[4096];
        vnp_journal_part(j, block, "done", path, sizeof path);
        vnp_error("'%s': block %llu of the journal does not match the input (it changed since the run began); "
                  "use --force to start over", path, (unsigned long long)block);
        return VNP_ERR_FORMAT;
    }
    if (out) *out = m.counts;
    return 1;
}

int vnp_journal_block_counts(const vnp_journal *j, uint64_t block, vnp_block_counts *out)
{
    vnp_block_marker m;
    char why[4400] = "";
    int rc = vnp_journal_read_marker(j, block, &m, why, sizeof why);
    if (rc == 0) {
        char path[4096];
        vnp_journal_part(j, block, "done", path, sizeof path);
        vnp_error("'%s' is missing: block %llu was never finished", path, (unsigned long long)block);
        return VNP_ERR_NOTFOUND;
    }
    if (rc < 0) {
        vnp_error("journal block %llu is damaged (%s)", (unsigned long long)block, why);
        return rc;
    }
    *out = m.counts;
    return VNP_OK;
}

int vnp_journal_block_verify(const vnp_journal *j, uint64_t block, vnp_block_counts *out, const char *advice)
{
    vnp_block_marker m;
    char why[4400] = "";
    int rc = vnp_journal_block_check(j, block, &m, why, sizeof why);
    if (rc == 0) {
        char path[4096];
        vnp_journal_part(j, block, "done", path, sizeof path);
        vnp_error("'%s' is missing: block %llu was never finished", path, (unsigned long long)block);
        return VNP_ERR_NOTFOUND;
    }
    if (rc < 0) {
        vnp_error("journal block %llu is damaged (%s); %s", (unsigned long long)block, why, advice);
        return rc;
    }
    if (out) *out = m.counts;
    return VNP_OK;
}

int vnp_journal_commit_block(const vnp_journal *j, uint64_t block, const vnp_block_counts *c, const char *first_id)
{
    vnp_buf t = {0};
    char line[1200], path[4096];
    int n = snprintf(line, sizeof line, "%llu %.1000s %llu %llu %llu\n", (unsigned long long)c->records,
                     *first_id ? first_id : "-", (unsigned long long)c->chunks, (unsigned long long)c->frames,
                     (unsigned long long)c->bases);
    int rc = vnp_buf_append(&t, line, (size_t)n) ? VNP_ERR_NOMEM : VNP_OK;
    /* the checksums are of the parts as they lie on disk, read back after they were synced and renamed */
    for (size_t i = 0; i < vnp_journal_n_parts && rc == VNP_OK; i++) {
        vnp_journal_part(j, block, vnp_journal_parts[i], path, sizeof path);
        uint64_t size;
        uint32_t crc;
        const char *w = "";
        int r = read_part(path, &size, &crc, NULL, 0, &w);
        if (r < 0) {
            vnp_error("cannot read back '%s': %s", path, w);
            rc = VNP_ERR_IO;
        } else if (r == 1) {
            n = snprintf(line, sizeof line, "part %s %llu %08x\n", vnp_journal_parts[i], (unsigned long long)size, crc);
            if (vnp_buf_append(&t, line, (size_t)n)) rc = VNP_ERR_NOMEM;
        }
    }
    if (rc == VNP_OK) {
        n = snprintf(line, sizeof line, "end %08x\n", (unsigned)crc32_z(0L, (const Bytef *)t.data, t.len));
        if (vnp_buf_append(&t, line, (size_t)n)) rc = VNP_ERR_NOMEM;
    }
    vnp_journal_part(j, block, "done", path, sizeof path);
    if (rc == VNP_OK) rc = vnp_write_file(path, t.data, t.len);
    vnp_buf_free(&t);
    return rc;
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
    if (!identity)
        vnp_error("cannot read the run's identity back from '%s/run.json': %s", j->dir,
                  root ? "out of memory" : err.text);
    return identity;
}

int vnp_journal_finish(vnp_journal *j)
{
    char *identity = recorded_identity(j);
    if (!identity) return VNP_ERR_IO;
    int rc = write_run_json(j, identity, 1, NULL);
    free(identity);
    if (rc == VNP_OK) rc = vnp_outdir_remove_blocks(j->outdir);
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
