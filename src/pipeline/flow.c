/* The stages of a run on their own threads, so that the GPU never waits on the CPU: the caller reads and
 * translates records into blocks; tokenizer threads turn a block's frames into token windows; one worker thread
 * per scorer (per GPU) runs the encoders over whichever block is next (a slower GPU takes fewer); writer threads
 * (as many as scorers, since committing a block waits on fsync) run the classifier, write and commit the block
 * and hand it to the sink (an MPI rank other than 0 sends it to rank 0). Blocks are independent journal entries,
 * so they may finish in any order; the outputs are assembled in input order at the end. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct vnp_flow {
    const vnp_predict_opts *o;
    const vnp_scorer *sc;
    int n_sc;
    const vnp_journal *j;
    vnp_flow_sink sink; /* after a block is committed (NULL: none) */
    void *sink_ctx;
    vnp_job *jobs;
    int n_jobs;
    vnp_queue *q_free, *q_tok, *q_run, *q_write;
    pthread_t *threads;
    struct worker_arg *args;
    int n_threads, n_tok, n_wr;
    int lo_started; /* threads [lo_started, n_threads) are running (they start from the last) */
    atomic_int tok_left, run_left; /* stage threads still running: the last one out closes the next queue */
    atomic_int cancel;             /* an error or a signal: jobs not started yet are dropped */
    pthread_mutex_t mu;            /* rc and the counts */
    int rc;
    vnp_predict_stats counts;
    vnp_reuse *reuse; /* features of the sequences seen, for every runner (NULL: reuse off) */
};

typedef struct worker_arg {
    vnp_flow *f;
    int index; /* the scorer of a run worker */
} worker_arg;

static void fail(vnp_flow *f, int rc)
{
    pthread_mutex_lock(&f->mu);
    if (f->rc == VNP_OK) f->rc = rc;
    pthread_mutex_unlock(&f->mu);
    atomic_store(&f->cancel, 1);
}

/* Pushes onto a queue sized for every job: it cannot be full. */
static void hand_on(vnp_flow *f, vnp_queue *q, vnp_job *job)
{
    if (vnp_queue_push(q, job)) fail(f, VNP_ERR_INTERNAL);
}

static void *tokenizer(void *p)
{
    vnp_flow *f = ((worker_arg *)p)->f;
    for (vnp_job *job; (job = vnp_queue_pop(f->q_tok));) {
        if (!job->drop && (atomic_load(&f->cancel) || vnp_pipeline_signal())) job->drop = 1;
        if (!job->drop) {
            double t0 = vnp_time_now();
            int rc = vnp_block_tokenize(&job->b, &f->sc[0]);
            job->t_tokenize = vnp_time_now() - t0;
            if (rc) {
                fail(f, rc);
                job->drop = 1;
            }
        }
        hand_on(f, f->q_run, job);
    }
    if (atomic_fetch_sub(&f->tok_left, 1) == 1) vnp_queue_close(f->q_run);
    return NULL;
}

static void *runner(void *p)
{
    worker_arg *a = p;
    vnp_flow *f = a->f;
    const vnp_scorer *s = &f->sc[a->index];
    int rc = s->bind ? s->bind(s->ctx) : VNP_OK;
    if (rc) fail(f, rc);
    for (vnp_job *job; (job = vnp_queue_pop(f->q_run));) {
        /* after SIGINT/SIGTERM only the blocks already on a GPU finish (and are committed) */
        if (!job->drop && (atomic_load(&f->cancel) || vnp_pipeline_signal())) job->drop = 1;
        if (!job->drop && (rc = vnp_block_embed(&job->b, s, f->reuse, &job->t_dna, &job->t_prot))) {
            fail(f, rc);
            job->drop = 1;
        }
        hand_on(f, f->q_write, job);
    }
    if (atomic_fetch_sub(&f->run_left, 1) == 1) vnp_queue_close(f->q_write);
    return NULL;
}

/* t (NULL for a resumed block): seconds of tokenize, DNABERT-S, ESM-2, classify, write. */
static void count(vnp_flow *f, const vnp_block_counts *c, int resumed, const double t[5])
{
    pthread_mutex_lock(&f->mu);
    vnp_predict_stats *st = &f->counts;
    st->blocks++;
    st->blocks_done++; /* committed now or earlier: in the journal either way */
    st->blocks_resumed += resumed != 0;
    vnp_stats_add_block(st, c);
    if (t) {
        st->t_tokenize += t[0];
        st->t_dna += t[1];
        st->t_prot += t[2];
        st->t_classify += t[3];
        st->t_write += t[4];
    }
    pthread_mutex_unlock(&f->mu);
}

/* Classifies, writes and commits a scored block (or counts one committed earlier), then returns it to the pool. */
static int finish_job(vnp_flow *f, vnp_job *job)
{
    vnp_block *b = &job->b;
    vnp_block_counts c = vnp_block_counts_of(b);
    if (job->resumed) {
        count(f, &job->counts, 1, NULL);
        return VNP_OK;
    }
    double t0 = vnp_time_now();
    int rc = vnp_block_classify(b, &f->sc[0]);
    double t1 = vnp_time_now();
    if (!rc) rc = vnp_block_write(b, f->j, job->no, f->o, &f->sc[0]);
    if (!rc) rc = vnp_journal_commit_block(f->j, job->no, &c, b->ids.data);
    if (!rc && f->sink) rc = f->sink(f->sink_ctx, job->no, &c, b->ids.data);
    double t2 = vnp_time_now();
    if (rc) return rc;
    double t[5] = {job->t_tokenize, job->t_dna, job->t_prot, t1 - t0, t2 - t1};
    count(f, &c, 0, t);
    return VNP_OK;
}

static void *writer(void *p)
{
    vnp_flow *f = ((worker_arg *)p)->f;
    for (vnp_job *job; (job = vnp_queue_pop(f->q_write));) {
        if (!job->drop) {
            int rc = finish_job(f, job);
            if (rc) fail(f, rc);
        }
        hand_on(f, f->q_free, job);
    }
    return NULL;
}

static void flow_free(vnp_flow *f)
{
    if (!f) return;
    for (int i = 0; i < f->n_jobs; i++) vnp_block_free(&f->jobs[i].b);
    free(f->jobs);
    free(f->threads);
    free(f->args);
    vnp_queue_free(f->q_free);
    vnp_queue_free(f->q_tok);
    vnp_queue_free(f->q_run);
    vnp_queue_free(f->q_write);
    vnp_reuse_free(f->reuse);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* Takes n threads that never started off a stage's count; the stage's last thread out closes `next`. */
static void never_started(atomic_int *left, int n, vnp_queue *next)
{
    if (n > 0 && atomic_fetch_sub(left, n) == n) vnp_queue_close(next);
}

int vnp_flow_start(vnp_flow **out, const vnp_predict_opts *o, const vnp_scorer *sc, int n_sc, const vnp_journal *j,
                   vnp_flow_sink sink, void *sink_ctx)
{
    *out = NULL;
    vnp_flow *f = calloc(1, sizeof *f);
    if (!f) return VNP_ERR_NOMEM;
    pthread_mutex_init(&f->mu, NULL);
    f->o = o;
    f->sc = sc;
    f->n_sc = n_sc;
    f->j = j;
    f->sink = sink;
    f->sink_ctx = sink_ctx;
    /* one tokenizer and one writer per scorer (BPE runs ~27 MB/s per core, far ahead of one GPU; a writer spends
     * most of its time in fsync); blocks: one being read, and per scorer one being tokenized, one running, one
     * waiting and one being written */
    f->n_tok = f->n_wr = n_sc;
    f->n_jobs = 4 * n_sc + 1;
    int nt = f->n_tok + n_sc + f->n_wr;
    f->jobs = calloc((size_t)f->n_jobs, sizeof *f->jobs);
    f->threads = calloc((size_t)nt, sizeof *f->threads);
    f->args = calloc((size_t)nt, sizeof *f->args);
    size_t cap = (size_t)f->n_jobs;
    int invariant = 1;
    for (int i = 0; i < n_sc; i++) invariant &= sc[i].batch_invariant;
    if (o->reuse_bytes && !invariant) {
        vnp_info("reuse of repeated frames is off: %s does not give a sequence the same bytes in every batch "
                 "(README: batch invariance)", vnp_scorer_device(&sc[0]));
        f->counts.reuse.not_invariant = 1;
    } else if (o->reuse_bytes && !(f->reuse = vnp_reuse_create(o->reuse_bytes, sc[0].d_dna, sc[0].d_prot))) {
        flow_free(f);
        return VNP_ERR_NOMEM;
    }
    f->q_free = vnp_queue_create(cap);
    f->q_tok = vnp_queue_create(cap);
    f->q_run = vnp_queue_create(cap);
    f->q_write = vnp_queue_create(cap);
    if (!f->jobs || !f->threads || !f->args || !f->q_free || !f->q_tok || !f->q_run || !f->q_write) {
        flow_free(f);
        return VNP_ERR_NOMEM;
    }
    for (int i = 0; i < f->n_jobs; i++) hand_on(f, f->q_free, &f->jobs[i]);
    atomic_store(&f->tok_left, f->n_tok);
    atomic_store(&f->run_left, n_sc);
    f->counts.workers = n_sc;
    *out = f;
    f->n_threads = nt;
    f->lo_started = nt;
    /* the writers first, then the runners, then the tokenizers: a stage that failed to start leaves the ones after
     * it a closed queue */
    for (int i = nt - 1; i >= 0; i--) {
        f->args[i].f = f;
        f->args[i].index = i - f->n_tok;
        void *(*fn)(void *) = i < f->n_tok ? tokenizer : i < f->n_tok + n_sc ? runner : writer;
        if (pthread_create(&f->threads[i], NULL, fn, &f->args[i]) != 0) {
            vnp_error("cannot start a pipeline thread");
            fail(f, VNP_ERR_NOMEM);
            int runners = i - f->n_tok + 1, tokenizers = i + 1; /* the ones at or below i never started */
            never_started(&f->run_left, runners < 0 ? 0 : runners > n_sc ? n_sc : runners, f->q_write);
            never_started(&f->tok_left, tokenizers > f->n_tok ? f->n_tok : tokenizers, f->q_run);
            break;
        }
        f->lo_started = i;
    }
    if (f->rc) {
        int rc = vnp_flow_finish(f, NULL);
        *out = NULL;
        return rc;
    }
    return VNP_OK;
}

vnp_job *vnp_flow_job(vnp_flow *f)
{
    vnp_job *job = vnp_queue_pop(f->q_free);
    if (job) {
        job->resumed = job->drop = 0;
        job->t_tokenize = job->t_dna = job->t_prot = 0;
    }
    return job;
}

void vnp_flow_submit(vnp_flow *f, vnp_job *job)
{
    if (job->resumed) { /* only counted, by the writer */
        hand_on(f, f->q_write, job);
        return;
    }
    job->drop = atomic_load(&f->cancel);
    hand_on(f, f->q_tok, job);
}

void vnp_flow_release(vnp_flow *f, vnp_job *job) { hand_on(f, f->q_free, job); }

int vnp_flow_cancelled(vnp_flow *f) { return atomic_load(&f->cancel); }

void vnp_flow_cancel(vnp_flow *f) { atomic_store(&f->cancel, 1); }

int vnp_flow_finish(vnp_flow *f, vnp_predict_stats *st)
{
    vnp_queue_close(f->q_tok);
    for (int i = f->lo_started; i < f->n_threads; i++) pthread_join(f->threads[i], NULL);
    int rc = f->rc;
    if (st) {
        vnp_stats_add(st, &f->counts);
        st->workers = f->counts.workers;
        if (f->reuse) vnp_reuse_snapshot(f->reuse, &st->reuse);
        st->reuse.not_invariant |= f->counts.reuse.not_invariant;
    }
    flow_free(f);
    return rc;
}

void vnp_flow_snapshot(vnp_flow *f, vnp_predict_stats *st)
{
    pthread_mutex_lock(&f->mu);
    *st = f->counts;
    pthread_mutex_unlock(&f->mu);
}
