/* Blocks between MPI ranks: a rank other than 0 commits each block to a scratch journal, then sends its parts and
 * counts to rank 0 and removes them; rank 0 receives them on a thread of its own and commits them to the run's
 * journal, so that only rank 0 writes OUTDIR and a killed job keeps every block rank 0 had committed.
 *
 * One message tag carries both kinds of message, so that a rank's "done" never overtakes its last block:
 *   "VNPB" u64 block, records, chunks, frames, bases; u32 id length, id; u32 parts; per part: u32 name length,
 *          name, u64 size, bytes
 *   "VNPD" i32 status; u32 length, the rank's statistics as JSON (vnp_stats_json: seconds, FP32 reruns, reuse
 *          counts, FP8 self-check) */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vnp/dist.h"

#define TAG_SHIP 7301


static int put(vnp_buf *b, const void *p, size_t n) { return vnp_buf_append(b, p, n); }
static int put_u32(vnp_buf *b, uint32_t v) { return put(b, &v, 4); }
static int put_u64(vnp_buf *b, uint64_t v) { return put(b, &v, 8); }

int vnp_ship_send(void *jv, uint64_t block, const vnp_block_counts *c, const char *first_id)
{
    const vnp_journal *j = jv;
    vnp_buf m = {0};
    uint32_t idn = (uint32_t)strlen(first_id);
    int rc = put(&m, "VNPB", 4) || put_u64(&m, block) || put_u64(&m, c->records) || put_u64(&m, c->chunks) ||
                     put_u64(&m, c->frames) || put_u64(&m, c->bases) || put_u32(&m, idn) || put(&m, first_id, idn)
                 ? VNP_ERR_NOMEM
                 : VNP_OK;
    char path[4096];
    uint32_t n = 0;
    for (size_t i = 0; i < vnp_journal_n_parts; i++) {
        vnp_journal_part(j, block, vnp_journal_parts[i], path, sizeof path);
        n += access(path, F_OK) == 0;
    }
    if (rc == VNP_OK && put_u32(&m, n)) rc = VNP_ERR_NOMEM;
    vnp_buf file = {0};
    for (size_t i = 0; i < vnp_journal_n_parts && rc == VNP_OK; i++) {
        vnp_journal_part(j, block, vnp_journal_parts[i], path, sizeof path);
        if (access(path, F_OK) != 0) continue;
        if ((rc = vnp_read_file(path, SIZE_MAX / 2, &file))) break;
        uint32_t nl = (uint32_t)strlen(vnp_journal_parts[i]);
        if (put_u32(&m, nl) || put(&m, vnp_journal_parts[i], nl) || put_u64(&m, file.len) ||
            put(&m, file.data, file.len))
            rc = VNP_ERR_NOMEM;
    }
    vnp_buf_free(&file);
    if (rc == VNP_OK) rc = vnp_dist_send(0, TAG_SHIP, m.data, m.len);
    vnp_buf_free(&m);
    for (size_t i = 0; i < vnp_journal_n_parts && rc == VNP_OK; i++) { /* sent: rank 0 holds it now */
        vnp_journal_part(j, block, vnp_journal_parts[i], path, sizeof path);
        unlink(path);
    }
    if (rc == VNP_OK) {
        vnp_journal_part(j, block, "done", path, sizeof path);
        unlink(path);
#ifdef VNP_TEST_HOOKS
        vnp_test_hook_block_sent(); /* test builds only: a rank may be made to die here */
#endif
    }
    return rc;
}

int vnp_ship_done(int status, const vnp_predict_stats *st)
{
    vnp_buf m = {0};
    int32_t s32 = status;
    json_t *o = vnp_stats_json(st);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    uint32_t n = text ? (uint32_t)strlen(text) : 0;
    int rc = !text || put(&m, "VNPD", 4) || put(&m, &s32, 4) || put_u32(&m, n) || put(&m, text, n) ? VNP_ERR_NOMEM
                                                                                                   : VNP_OK;
    free(text);
    if (rc == VNP_OK) rc = vnp_dist_send(0, TAG_SHIP, m.data, m.len);
    vnp_buf_free(&m);
    return rc;
}

/* ---- rank 0 ---- */

struct vnp_ship {
    const vnp_journal *j;
    pthread_t thread;
    pthread_mutex_t mu;
    vnp_predict_stats counts; /* blocks received, the other ranks' times */
    int rc;                   /* first failure: a rank's, or of receiving */
    int failed_rank;
};

/* A cursor over a received message; every read checks what is left. */
typedef struct {
    const char *p;
    size_t left;
    int src;
} reader;

static int take(reader *r, void *dst, size_t n)
{
    if (n > r->left) {
        vnp_error("MPI rank %d sent a truncated message (%zu bytes short)", r->src, n - r->left);
        return VNP_ERR_FORMAT;
    }
    memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
    return VNP_OK;
}

static int name_ok(const char *s, uint32_t n)
{
    if (n == 0 || n > 16) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z') return 0;
    return 1;
}

static int receive_block(vnp_ship *s, reader *r)
{
    uint64_t v[5] = {0, 0, 0, 0, 0};
    uint32_t idn = 0, np = 0;
    int rc = take(r, v, sizeof v);
    if (!rc) rc = take(r, &idn, 4);
    if (!rc && (idn > 4096 || idn > r->left)) rc = VNP_ERR_FORMAT;
    char id[4097] = "";
    if (!rc) rc = take(r, id, idn);
    id[idn < 4096 ? idn : 4096] = '\0';
    if (!rc) rc = take(r, &np, 4);
    char path[4096];
    for (uint32_t i = 0; i < np && rc == VNP_OK; i++) {
        uint32_t nl;
        uint64_t size;
        char name[17];
        if ((rc = take(r, &nl, 4))) break;
        if (nl > 16 || nl > r->left || !name_ok(r->p, nl)) {
            vnp_error("MPI rank %d sent a block part with a bad name", r->src);
            rc = VNP_ERR_FORMAT;
            break;
        }
        if ((rc = take(r, name, nl)) || (rc = take(r, &size, 8))) break;
        name[nl] = '\0';
        if (size > r->left) {
            vnp_error("MPI rank %d sent part '%s' of block %llu truncated", r->src, name, (unsigned long long)v[0]);
            rc = VNP_ERR_FORMAT;
            break;
        }
        vnp_journal_part(s->j, v[0], name, path, sizeof path);
        if ((rc = vnp_write_file(path, r->p, (size_t)size))) break;
        r->p += size;
        r->left -= (size_t)size;
    }
    vnp_block_counts c = {v[1], v[2], v[3], v[4]};
    if (rc == VNP_OK) rc = vnp_journal_commit_block(s->j, v[0], &c, id);
    if (rc == VNP_OK) {
        pthread_mutex_lock(&s->mu);
        vnp_stats_add_block(&s->counts, &c);
        s->counts.blocks_done++;
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

static int receive_done(vnp_ship *s, reader *r)
{
    int32_t status;
    uint32_t n;
    int rc = take(r, &status, 4);
    if (!rc) rc = take(r, &n, 4);
    if (!rc && n > r->left) {
        vnp_error("MPI rank %d sent a truncated \"done\" message (%u bytes of statistics, %zu left)", r->src, n,
                  r->left);
        rc = VNP_ERR_FORMAT;
    }
    if (rc) return rc;
    json_error_t err;
    json_t *o = json_loadb(r->p, n, 0, &err);
    pthread_mutex_lock(&s->mu);
    rc = o ? vnp_stats_add_json(&s->counts, o, NULL) : VNP_ERR_FORMAT;
    if (status && s->rc == VNP_OK) {
        s->rc = status;
        s->failed_rank = r->src;
    }
    pthread_mutex_unlock(&s->mu);
    json_decref(o);
    if (rc)
        vnp_error("MPI rank %d sent statistics that are not this version's: %s", r->src, o ? "bad members" : err.text);
    return rc;
}

static void *receiver(void *p)
{
    vnp_ship *s = p;
    int waiting = vnp_dist_size() - 1, rc = VNP_OK;
    vnp_buf m = {0};
    while (waiting > 0 && rc == VNP_OK) {
        int src = -1;
        int got = vnp_dist_poll(TAG_SHIP, &src);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 0) {
            nanosleep(&(struct timespec){0, 2000000}, NULL);
            continue;
        }
        if ((rc = vnp_dist_recv(src, TAG_SHIP, &m))) break;
        reader r = {m.data, m.len, src};
        char kind[4];
        if ((rc = take(&r, kind, 4))) break;
        if (memcmp(kind, "VNPB", 4) == 0) {
            rc = receive_block(s, &r);
        } else if (memcmp(kind, "VNPD", 4) == 0) {
            rc = receive_done(s, &r);
            waiting--;
        } else {
            vnp_error("MPI rank %d sent a message this version does not know", src);
            rc = VNP_ERR_FORMAT;
        }
    }
    vnp_buf_free(&m);
    if (rc) {
        pthread_mutex_lock(&s->mu);
        s->rc = rc;
        s->failed_rank = 0;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

int vnp_ship_receiver_start(vnp_ship **out, const vnp_journal *j)
{
    vnp_ship *s = calloc(1, sizeof *s);
    if (!s) return VNP_ERR_NOMEM;
    s->j = j;
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thread, NULL, receiver, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        vnp_error("cannot start the thread that receives the other ranks' blocks");
        return VNP_ERR_NOMEM;
    }
    *out = s;
    return VNP_OK;
}

void vnp_ship_snapshot(vnp_ship *s, vnp_predict_stats *st)
{
    pthread_mutex_lock(&s->mu);
    *st = s->counts;
    pthread_mutex_unlock(&s->mu);
}

int vnp_ship_receiver_finish(vnp_ship *s, vnp_predict_stats *st)
{
    pthread_join(s->thread, NULL);
    vnp_stats_add(st, &s->counts);
    int rc = s->rc;
    if (rc && s->failed_rank > 0)
        vnp_error("MPI rank %d stopped with an error (%s); its message is above", s->failed_rank, vnp_status_str(rc));
    pthread_mutex_destroy(&s->mu);
    free(s);
    return rc;
}
