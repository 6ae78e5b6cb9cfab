/* The predict driver: streams the inputs into blocks, scores and commits each block (or skips it when an
 * earlier run committed it), polls for SIGINT/SIGTERM between blocks, then assembles the final files and the
 * run summary. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnp/dist.h"
#include "vnp/env.h"
#include "vnp/io.h"

void vnp_predict_opts_init(vnp_predict_opts *o)
{
    memset(o, 0, sizeof *o);
    o->chunk_len = 300;
    o->min_confident = 0.8;
    o->block_records = 2000;
    o->block_bases = 1000000;
    o->reuse_bytes = vnp_reuse_default_bytes();
}

typedef struct {
    const vnp_predict_opts *o;
    const vnp_scorer *sc;
    int n_sc;
    vnp_predict_stats *st;
    vnp_journal j;          /* OUTDIR's journal (a single run, a shard, MPI rank 0) */
    vnp_journal scratch;    /* MPI ranks other than 0: blocks wait here until sent to rank 0 */
    char *scratch_dir;
    const vnp_journal *jw;  /* where this process commits blocks */
    vnp_flow *flow;
    vnp_ship *ship;         /* MPI rank 0: receives the other ranks' blocks */
    vnp_job *job;           /* the block being filled */
    uint64_t next_no;       /* its number */
    int parts, me;          /* this process scores blocks b with b % parts == me */
    int rank, ranks;        /* MPI (0 and 1 without) */
    uint8_t *held;          /* MPI ranks other than 0: bitmap of the blocks rank 0 already holds */
    uint64_t n_held;        /* bits in held */
    int shared, said_done;  /* MPI ranks other than 0: rank 0 expects a "done" from us; it was sent */
    vnp_translator *tr;
    vnp_idset *ids;
    uint64_t dup_records, nonacgt;
    double t_start, t_last_bar, t_prepare;
    uint64_t bytes_total;  /* sizes of the input files (0: unknown, e.g. standard input) */
    uint64_t bytes_done;   /* bytes of the inputs already finished */
    const vnp_seqreader *reader; /* the input being read */
    uint64_t bases_expected, bases_resumed; /* bases of the blocks read that this process commits; resumed ones */
    int reading_done;
} run;

/* records, frames, their rates, and the share of the work committed with an ETA (progress.c) */
static void progress(run *r, int final)
{
    if (!r->o->progress) return;
    double now = vnp_time_now();
    if (!final && now - r->t_last_bar < 0.25) return;
    r->t_last_bar = now;
    vnp_predict_stats c = *r->st, part; /* this process's totals once its flow is finished, plus what runs on */
    if (r->flow) {
        vnp_flow_snapshot(r->flow, &part);
        vnp_stats_add(&c, &part);
    }
    if (r->ship) {
        vnp_ship_snapshot(r->ship, &part);
        vnp_stats_add(&c, &part);
    }
    vnp_progress p = {c.records, c.frames, c.bases, r->bases_resumed, r->bases_expected, 0, r->bytes_total,
                      r->reading_done, now - r->t_start};
    p.bytes_read = r->bytes_done + (r->reader ? vnp_seqreader_bytes_read(r->reader) : 0);
    char line[512];
    vnp_progress_format(line, sizeof line, &p, final);
    fprintf(stderr, "\r%s%s", line, final ? "\n" : "   ");
    fflush(stderr);
}

/* 1 when this process (shard, rank) scores block no. */
static int ours(const run *r, uint64_t no) { return no % (uint64_t)r->parts == (uint64_t)r->me; }

static int held_by_rank0(const run *r, uint64_t no) { return no < r->n_held && (r->held[no / 8] >> (no % 8)) & 1; }

/* Hands the filled block on (to be scored, or counted when an earlier run committed it), or lets it go when
 * another shard or rank scores it, and starts the next block. */
static int flush_block(run *r)
{
    vnp_job *job = r->job;
    vnp_block *b = &job->b;
    if (b->n_records == 0) return VNP_OK;
    uint64_t no = r->next_no++, next_first = b->first_record + b->n_records;
    int mine = ours(r, no), keep = 0;
    if (r->rank == 0 && r->o->distributed && !mine && !held_by_rank0(r, no)) {
        keep = 0; /* another rank's, not committed by an earlier run: counted when it arrives, even if it already
                   * has (the journal may hold it by now; counting it here too would count it twice) */
    } else if (r->rank == 0) {
        int rc = vnp_journal_block_done(&r->j, no, b->n_records, b->ids.data, &job->counts);
        if (rc < 0) return rc;
        job->resumed = rc == 1;
        keep = job->resumed || mine; /* a remote block committed by an earlier run is counted here */
    } else {
        keep = mine && !held_by_rank0(r, no);
    }
    if (mine && !job->resumed) r->nonacgt += b->nonacgt;
    if (keep || (r->rank == 0 && r->o->distributed)) r->bases_expected += b->bases; /* rank 0 commits them all */
    if (job->resumed) r->bases_resumed += job->counts.bases;
    if (keep) {
        job->no = no;
        vnp_flow_submit(r->flow, job);
        r->job = vnp_flow_job(r->flow);
    }
    vnp_block_reset(&r->job->b, next_first);
    progress(r, 0);
    if (vnp_pipeline_signal()) return VNP_ERR_INTERRUPTED;
    return vnp_flow_cancelled(r->flow) ? VNP_ERR_INTERNAL : VNP_OK; /* the stage's own error is reported later */
}

static int read_input(run *r, const char *path)
{
    vnp_seqreader *rd = NULL;
    vnp_seqreader_opts ro = {r->o->reference};
    int rc = vnp_seqreader_open(&rd, path, &ro);
    if (rc) return rc;
    r->reader = rd;
    vnp_seqrecord rec;
    while ((rc = vnp_seqreader_next(rd, &rec)) == 1) {
        double t0 = vnp_time_now();
        int dup = vnp_idset_add(r->ids, rec.id, rec.id_len);
        if (dup < 0) {
            rc = dup;
            break;
        }
        r->dup_records += (uint64_t)dup;
        vnp_block *b = &r->job->b;
        if (ours(r, r->next_no))
            rc = vnp_block_add(b, r->tr, rec.id, rec.id_len, rec.seq, rec.seq_len, r->o->chunk_len,
                               r->o->keep_intermediate);
        else
            rc = vnp_block_add_unscored(b, rec.id, rec.id_len, rec.seq_len, r->o->chunk_len);
        r->t_prepare += vnp_time_now() - t0;
        if (rc) break;
        if (b->n_records >= r->o->block_records || b->bases >= r->o->block_bases)
            if ((rc = flush_block(r))) break;
    }
    r->bytes_done += vnp_seqreader_bytes_read(rd);
    r->reader = NULL;
    vnp_seqreader_close(rd);
    return rc < 0 ? rc : VNP_OK;
}

/* The --precision fp8 self-checks of every scorer (GPU) of this process as one: frames and labels summed, the
 * smallest cosine, failed when any fell back to FP16. */
static void merge_fp8_checks(const vnp_scorer *sc, int n, vnp_predict_stats *st)
{
    vnp_fp8_check_init(&st->fp8_check);
    for (int i = 0; i < n; i++) {
        vnp_fp8_check k;
        if (!sc[i].fp8_check || !sc[i].fp8_check(sc[i].ctx, &k)) continue;
        st->fp8 = 1;
        vnp_fp8_check_add(&st->fp8_check, &k);
    }
}

static int write_run_summary(run *r)
{
    json_error_t err;
    json_t *root = r->o->run_info ? json_loads(r->o->run_info, 0, &err) : json_object();
    if (!root) {
        vnp_error("internal: run information is not JSON: %s", err.text);
        return VNP_ERR_INTERNAL;
    }
    const vnp_predict_stats *st = r->st;
    double wall = st->t_total > 0 ? st->t_total : 1e-9;
    vnp_run_totals tot = {r->o->chunk_len, st->records, st->chunks, st->frames, st->bases, st->blocks,
                          st->blocks_resumed, st->fp32_reruns, vnp_stats_seconds_json(st)};
    int rc = vnp_run_summary_fill(root, &tot);
    json_object_set_new(root, "workers", json_pack("{s:i, s:i}", "gpus_or_cpu_engines", st->workers, "mpi_ranks",
                                                   st->ranks));
    json_object_set_new(root, "throughput", json_pack("{s:f, s:f, s:f}", "records_per_s", (double)st->records / wall,
                                                      "frames_per_s", (double)st->frames / wall, "bases_per_s",
                                                      (double)st->bases / wall));
    vnp_stats_summary_members(root, st, 1);
    json_object_set_new(root, "peak_rss_bytes", json_integer((json_int_t)vnp_peak_rss_bytes()));
    if (rc == VNP_OK) rc = vnp_write_json_file(r->j.outdir, vnp_run_summary_name, root);
    json_decref(root);
    return rc;
}

/* MPI: rank 0 tells the others whether OUTDIR's journal opened (and whether that run had already finished) and
 * which blocks it already holds, so that they skip those. */
static int share_journal(run *r, int rc)
{
    if ((rc = vnp_dist_agree(rc))) return rc;
    uint64_t head[2] = {(uint64_t)r->j.complete, 0};
    vnp_buf bits = {0};
    if (r->rank == 0 && !r->j.complete && r->j.resumed) {
        uint64_t misses = 0;
        for (uint64_t no = 0; misses < 64 * (uint64_t)r->ranks; no++) { /* ranks finish out of order */
            vnp_block_marker m;
            int ok = vnp_journal_block_reusable(&r->j, no, &m); /* a damaged block is computed again */
            if (ok <= 0) { /* absent, or damaged (and computed again) */
                misses++;
                continue;
            }
            misses = 0;
            if (vnp_buf_reserve(&bits, no / 8 + 1)) return VNP_ERR_NOMEM;
            while (bits.len <= no / 8) bits.data[bits.len++] = 0;
            bits.data[no / 8] = (char)(bits.data[no / 8] | (1 << (no % 8)));
            head[1] = no + 1;
        }
    }
    if ((rc = vnp_dist_bcast(head, sizeof head, 0))) return rc;
    r->j.complete = (int)head[0];
    r->n_held = head[1];
    if (r->n_held == 0) {
        vnp_buf_free(&bits);
        return VNP_OK;
    }
    if (r->rank != 0 && vnp_buf_reserve(&bits, (size_t)(r->n_held / 8 + 1))) return VNP_ERR_NOMEM;
    rc = vnp_dist_bcast(bits.data, (size_t)(r->n_held + 7) / 8, 0);
    r->held = (uint8_t *)bits.data; /* freed with the run */
    return rc;
}

/* Opens where this process commits blocks: OUTDIR's journal, or (MPI ranks other than 0) a scratch journal. */
static int open_journals(run *r)
{
    const vnp_predict_opts *o = r->o;
    int rc;
    if (r->rank == 0) {
        rc = vnp_journal_open(&r->j, o->outdir, o->identity ? o->identity : "{}", o->resume, o->force, o->lock);
        r->jw = &r->j;
    } else {
        const char *tmp = vnp_env_get()->tmpdir ? vnp_env_get()->tmpdir : "/tmp";
        size_t n = strlen(tmp) + 64;
        r->scratch_dir = malloc(n);
        if (!r->scratch_dir) return VNP_ERR_NOMEM;
        snprintf(r->scratch_dir, n, "%s/virnucpro-rank%d-XXXXXX", tmp, r->rank);
        if (!mkdtemp(r->scratch_dir)) {
            vnp_error("MPI rank %d: cannot create a scratch folder '%s': %s", r->rank, r->scratch_dir,
                      strerror(errno));
            free(r->scratch_dir);
            r->scratch_dir = NULL;
            rc = VNP_ERR_IO;
        } else {
            rc = vnp_journal_open(&r->scratch, r->scratch_dir, "{}", 0, 1, NULL);
        }
        r->jw = &r->scratch;
    }
    return o->distributed ? share_journal(r, rc) : rc;
}

static void remove_scratch(run *r)
{
    if (!r->scratch_dir) return;
    int rc = vnp_journal_discard(&r->scratch);
    (void)rc; /* a scratch folder left in TMPDIR is no reason to fail a finished share */
    vnp_journal_close(&r->scratch); /* releases its lock, removing the emptied .virnucpro/ */
    rmdir(r->scratch_dir);
    free(r->scratch_dir);
    r->scratch_dir = NULL;
}

/* Every block is in OUTDIR's journal: the final files, the run summary, the journal marked complete. A shard
 * keeps its blocks and writes its manifest instead. */
static int conclude(run *r)
{
    const vnp_predict_opts *o = r->o;
    vnp_predict_stats *st = r->st;
    for (uint64_t no = 0; no < st->blocks; no++) {
        vnp_block_counts c;
        if (!ours(r, no) && !o->distributed) continue; /* another shard's */
        /* every part is checked before it is assembled: a damaged block never reaches the outputs */
        int rc = vnp_journal_block_verify(&r->j, no, &c, "rerun the same command with --resume to compute it again");
        if (rc) return rc;
    }
    if (r->dup_records)
        vnp_warn("%llu records repeat an earlier id; they were processed as separate records",
                 (unsigned long long)r->dup_records);
    if (r->nonacgt)
        vnp_warn("%llu bases are not A, C, G or T; codons containing them were dropped from the translations, "
                 "as VirNucPro does", (unsigned long long)r->nonacgt);
    if (o->n_shards > 1 && !o->distributed) {
        st->t_total = vnp_time_now() - r->t_start;
        char *manifest = vnp_shard_manifest(o, r->sc, st);
        int rc = manifest ? vnp_journal_finish_shard(&r->j, manifest) : VNP_ERR_NOMEM;
        free(manifest);
        return rc;
    }
    double t0 = vnp_time_now();
    int rc = vnp_assemble_outputs(&r->j, st->blocks, o, r->sc);
    st->t_write += vnp_time_now() - t0;
    st->t_total = vnp_time_now() - r->t_start;
    if (rc == VNP_OK) rc = write_run_summary(r);
    if (rc == VNP_OK) rc = vnp_journal_finish(&r->j);
    return rc;
}

/* Reads every input into blocks, handing ours on to the flow. */
static int read_all(run *r)
{
    const vnp_predict_opts *o = r->o;
    for (int i = 0; i < o->n_inputs; i++) {
        struct stat sb;
        if (strcmp(o->inputs[i], "-") == 0 || stat(o->inputs[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
            r->bytes_total = 0; /* one input of unknown size: no ETA */
            break;
        }
        r->bytes_total += (uint64_t)sb.st_size;
    }
    r->job = vnp_flow_job(r->flow);
    vnp_block_reset(&r->job->b, 0);
    int rc = VNP_OK;
    for (int i = 0; i < o->n_inputs && rc == VNP_OK; i++) rc = read_input(r, o->inputs[i]);
    if (rc == VNP_OK) rc = flush_block(r);
    r->reading_done = rc == VNP_OK;
    vnp_flow_release(r->flow, r->job); /* the job being filled goes back unused */
    r->job = NULL;
    return rc;
}

int vnp_predict_run(const vnp_predict_opts *o, const vnp_scorer *sc, int n_sc, vnp_predict_stats *st)
{
    run r = {0};
    r.o = o;
    r.sc = sc;
    r.n_sc = n_sc;
    r.st = st;
    memset(st, 0, sizeof *st);
    vnp_pipeline_signal_reset(); /* a signal counts from the start of this run */
    r.t_start = r.t_last_bar = vnp_time_now();
    r.rank = o->distributed ? vnp_dist_rank() : 0;
    r.ranks = o->distributed ? vnp_dist_size() : 1;
    r.parts = o->distributed ? r.ranks : o->n_shards > 1 ? o->n_shards : 1;
    r.me = o->distributed ? r.rank : o->n_shards > 1 ? o->shard : 0;
    st->ranks = r.ranks;
    int rc = open_journals(&r);
    if (rc) goto done;
    r.shared = o->distributed && r.rank != 0 && !r.j.complete; /* rank 0 waits for this rank's word */
    if (r.j.complete) {
        if (r.rank == 0) vnp_info("'%s' already holds the finished results of this run", o->outdir);
        goto done;
    }
    r.tr = vnp_translator_create();
    r.ids = vnp_idset_create();
    if (!r.tr || !r.ids) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    if (r.rank == 0 && r.ranks > 1 && (rc = vnp_ship_receiver_start(&r.ship, &r.j))) goto done;
    if ((rc = vnp_flow_start(&r.flow, o, sc, n_sc, r.jw, r.rank ? vnp_ship_send : NULL, (void *)r.jw))) goto done;
    rc = read_all(&r);
    if (rc) vnp_flow_cancel(r.flow); /* blocks not started are dropped; the ones running finish */
    int frc = vnp_flow_finish(r.flow, st);
    r.flow = NULL;
    if (frc && (rc == VNP_OK || rc == VNP_ERR_INTERNAL)) rc = frc; /* the stage's error, not the reader's echo */
    if (rc == VNP_OK && vnp_pipeline_signal()) rc = VNP_ERR_INTERRUPTED; /* blocks may have been dropped */
    st->blocks = r.next_no;
    st->t_prepare = r.t_prepare;
    for (int i = 0; i < n_sc; i++)
        if (sc[i].fp32_reruns) st->fp32_reruns += sc[i].fp32_reruns(sc[i].ctx);
    merge_fp8_checks(sc, n_sc, st);
    progress(&r, 1);
    if (r.rank != 0) {
        int rc2 = vnp_ship_done(rc, st);
        r.said_done = 1;
        if (rc == VNP_OK) rc = rc2;
    }
done:
    if (r.ship) { /* rank 0 waits for every rank, even after its own failure: their blocks are kept for --resume */
        int rrc = vnp_ship_receiver_finish(r.ship, st);
        if (rc == VNP_OK) rc = rrc;
        r.ship = NULL;
    } else if (r.shared && !r.said_done) { /* a rank that failed before or while starting: rank 0 waits for its word */
        int rc2 = vnp_ship_done(rc, st);
        (void)rc2;
    }
    if (rc == VNP_OK && r.rank == 0 && !r.j.complete && r.tr) rc = conclude(&r);
    /* a run that failed before committing anything leaves no journal behind, so OUTDIR is as it found it (the
     * lock's release removes the emptied .virnucpro/) and the next run there is not refused */
    if (rc && r.rank == 0 && r.j.opened && !r.j.resumed && st->blocks_done == 0 &&
        !vnp_outdir_has_committed_block(r.j.outdir)) {
        int drc = vnp_journal_discard(&r.j);
        (void)drc; /* the run's own failure is the one to report */
    }
    st->t_total = vnp_time_now() - r.t_start;
    vnp_translator_free(r.tr);
    vnp_idset_free(r.ids);
    free(r.held);
    remove_scratch(&r);
    vnp_journal_close(&r.scratch);
    vnp_journal_close(&r.j);
    return rc;
}
