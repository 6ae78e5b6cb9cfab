/* The predict driver: streams the inputs into blocks, scores and commits each block (or skips it when an
 * earlier run committed it), polls for SIGINT/SIGTERM between blocks, then assembles the final files and the
 * run summary. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnp/io.h"

static volatile sig_atomic_t g_signal;

static void on_signal(int sig) { g_signal = sig; }

void vnp_pipeline_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int vnp_pipeline_signal(void) { return (int)g_signal; }

void vnp_predict_opts_init(vnp_predict_opts *o)
{
    memset(o, 0, sizeof *o);
    o->chunk_len = 300;
    o->min_confident = 0.8;
    o->block_records = 2000;
    o->block_bases = 1000000;
}

typedef struct {
    const vnp_predict_opts *o;
    const vnp_scorer *s;
    vnp_predict_stats *st;
    vnp_journal j;
    vnp_block b;
    vnp_translator *tr;
    vnp_idset *ids;
    uint64_t dup_records, nonacgt;
    double t_start, t_last_bar;
    uint64_t bytes_total;  /* sizes of the input files (0: unknown, e.g. standard input) */
    uint64_t bytes_done;   /* bytes of the inputs already finished */
    const vnp_seqreader *reader; /* the input being read */
} run;

/* records, frames, their rates, and an ETA from the input bytes consumed when the input sizes are known */
static void progress(run *r, int final)
{
    if (!r->o->progress) return;
    double now = vnp_time_now();
    if (!final && now - r->t_last_bar < 0.25) return;
    r->t_last_bar = now;
    double el = now - r->t_start;
    char eta[48] = "";
    uint64_t done = r->bytes_done + (r->reader ? vnp_seqreader_bytes_read(r->reader) : 0);
    if (!final && r->bytes_total && done > 0 && el > 1.0) {
        double frac = (double)done / (double)r->bytes_total;
        if (frac > 1.0) frac = 1.0;
        double left = el / frac - el;
        snprintf(eta, sizeof eta, "  %3.0f%%  ETA %02d:%02d:%02d", 100.0 * frac, (int)(left / 3600),
                 (int)(left / 60) % 60, (int)left % 60);
    }
    fprintf(stderr, "\r  %llu records  %llu frames  %.0f records/s  %.0f frames/s  %.0fs elapsed%s%s",
            (unsigned long long)r->st->records, (unsigned long long)r->st->frames,
            el > 0 ? (double)r->st->records / el : 0.0, el > 0 ? (double)r->st->frames / el : 0.0, el, eta,
            final ? "\n" : "   ");
    fflush(stderr);
}

/* Scores and commits the pending block, or recognises it as committed by an earlier run. */
static int flush_block(run *r)
{
    vnp_block *b = &r->b;
    if (b->n_records == 0) return VNP_OK;
    const char *first = b->ids.data;
    uint64_t no = r->st->blocks;
    int rc = vnp_journal_block_done(&r->j, no, b->n_records, first);
    if (rc < 0) return rc;
    if (rc == 1) {
        r->st->blocks_resumed++;
    } else {
        double t0 = vnp_time_now();
        if ((rc = vnp_block_score(b, r->s, r->st))) return rc;
        double t1 = vnp_time_now();
        if ((rc = vnp_block_write(b, &r->j, no, r->o, r->s))) return rc;
        if ((rc = vnp_journal_commit_block(&r->j, no, b->n_records, first))) return rc;
        r->st->t_write += vnp_time_now() - t1;
        (void)t0;
    }
    r->st->blocks++;
    r->st->records += b->n_records;
    r->st->chunks += b->chunks;
    r->st->frames += b->n_items;
    r->st->bases += b->bases;
    r->nonacgt += b->nonacgt;
    vnp_block_reset(b, b->first_record + b->n_records);
    progress(r, 0);
    return vnp_pipeline_signal() ? VNP_ERR_INTERRUPTED : VNP_OK;
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
        rc = vnp_block_add(&r->b, r->tr, rec.id, rec.id_len, rec.seq, rec.seq_len, r->o->chunk_len,
                           r->o->keep_intermediate);
        r->st->t_prepare += vnp_time_now() - t0;
        if (rc) break;
        if (r->b.n_records >= r->o->block_records || r->b.bases >= r->o->block_bases)
            if ((rc = flush_block(r))) break;
    }
    r->bytes_done += vnp_seqreader_bytes_read(rd);
    r->reader = NULL;
    vnp_seqreader_close(rd);
    return rc < 0 ? rc : VNP_OK;
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
    json_object_set_new(root, "chunk_length", json_integer(r->o->chunk_len));
    json_object_set_new(root, "counts", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "records", (json_int_t)st->records,
                                                  "chunks", (json_int_t)st->chunks, "frames", (json_int_t)st->frames,
                                                  "bases", (json_int_t)st->bases, "blocks", (json_int_t)st->blocks,
                                                  "blocks_resumed", (json_int_t)st->blocks_resumed));
    json_object_set_new(root, "seconds", json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "prepare", st->t_prepare,
                                                   "dnabert_s", st->t_dna, "esm2", st->t_prot, "classify",
                                                   st->t_classify, "write", st->t_write, "total", st->t_total));
    json_object_set_new(root, "throughput", json_pack("{s:f, s:f, s:f}", "records_per_s", (double)st->records / wall,
                                                      "frames_per_s", (double)st->frames / wall, "bases_per_s",
                                                      (double)st->bases / wall));
    if (r->s->fp32_reruns) /* FP16 batches with NaN/Inf, redone in FP32 (ARCHITECTURE.md, Precision) */
        json_object_set_new(root, "fp32_reruns", json_integer(r->s->fp32_reruns(r->s->ctx)));
    json_object_set_new(root, "peak_rss_bytes", json_integer((json_int_t)vnp_peak_rss_bytes()));
    char *path = vnp_path_join(r->j.outdir, "run_summary.json");
    vnp_outfile *o = path ? vnp_outfile_open(path) : NULL;
    free(path);
    int rc = VNP_ERR_IO;
    if (o && json_dumpf(root, vnp_outfile_fp(o), JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
        fputc('\n', vnp_outfile_fp(o));
        rc = vnp_outfile_commit(o);
        o = NULL;
    }
    vnp_outfile_abort(o);
    json_decref(root);
    return rc;
}

int vnp_predict_run(const vnp_predict_opts *o, const vnp_scorer *s, vnp_predict_stats *st)
{
    run r = {0};
    r.o = o;
    r.s = s;
    r.st = st;
    memset(st, 0, sizeof *st);
    g_signal = 0; /* a signal counts from the start of this run */
    r.t_start = r.t_last_bar = vnp_time_now();
    int rc = vnp_journal_open(&r.j, o->outdir, o->identity ? o->identity : "{}", o->resume, o->force);
    if (rc) goto done;
    if (r.j.complete) {
        vnp_info("'%s' already holds the finished results of this run", o->outdir);
        goto done;
    }
    r.tr = vnp_translator_create();
    r.ids = vnp_idset_create();
    if (!r.tr || !r.ids) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    vnp_block_reset(&r.b, 0);
    for (int i = 0; i < o->n_inputs; i++) {
        struct stat sb;
        if (strcmp(o->inputs[i], "-") == 0 || stat(o->inputs[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
            r.bytes_total = 0; /* one input of unknown size: no ETA */
            break;
        }
        r.bytes_total += (uint64_t)sb.st_size;
    }
    for (int i = 0; i < o->n_inputs && rc == VNP_OK; i++) rc = read_input(&r, o->inputs[i]);
    if (rc == VNP_OK) rc = flush_block(&r);
    progress(&r, 1);
    if (rc) goto done;
    if (r.dup_records)
        vnp_warn("%llu records repeat an earlier id; they were processed as separate records",
                 (unsigned long long)r.dup_records);
    if (r.nonacgt)
        vnp_warn("%llu bases are not A, C, G or T; codons containing them were dropped from the translations, "
                 "as VirNucPro does", (unsigned long long)r.nonacgt);
    double t0 = vnp_time_now();
    rc = vnp_assemble_outputs(&r.j, st->blocks, o, s);
    st->t_write += vnp_time_now() - t0;
    st->t_total = vnp_time_now() - r.t_start;
    if (rc == VNP_OK) rc = write_run_summary(&r);
    if (rc == VNP_OK) rc = vnp_journal_finish(&r.j);
done:
    st->t_total = vnp_time_now() - r.t_start;
    vnp_translator_free(r.tr);
    vnp_idset_free(r.ids);
    vnp_block_free(&r.b);
    vnp_journal_close(&r.j);
    return rc;
}
