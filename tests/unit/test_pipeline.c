/* Pipeline tests with a deterministic stand-in scorer: block journal, resume after an interruption at every
 * block, identical outputs whatever the block size, refusal of a foreign OUTDIR, empty input. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/pipeline.h"
#include "vnp_test.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static int interrupt_after = -1; /* raise SIGINT in the protein embedding of block N */
static int classify_calls, protein_calls;

/* Tokens are the bytes of the sequence; the "embedding" is what the old stand-in computed from the sequence. */
static int fake_tokenize(void *ctx, int protein, const char *const *seqs, const size_t *lens, size_t n, vnp_window *w)
{
    (void)ctx;
    (void)protein;
    int32_t ids[4096];
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < lens[i] && k < 4096; k++) ids[k] = (uint8_t)seqs[i][k];
        int rc = vnp_window_add(w, ids, (int32_t)lens[i]);
        if (rc) return rc;
    }
    return 0;
}

static float hash_ids(const int32_t *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return (float)(h % 10007) / 10007.0f;
}

static int fake_embed(void *ctx, int protein, vnp_window *w, float *out, size_t ld)
{
    (void)ctx;
    if (protein && ++protein_calls == interrupt_after) raise(SIGINT);
    for (size_t i = 0; i < w->n; i++) {
        const int32_t *ids = w->ids + w->start[i];
        if (protein) {
            out[i * ld] = hash_ids(ids, (size_t)w->len[i]);
        } else {
            out[i * ld] = (float)w->len[i];
            out[i * ld + 1] = hash_ids(ids, (size_t)w->len[i]);
        }
    }
    return 0;
}

static int fake_classify(void *ctx, const float *x, size_t n, float *probs)
{
    (void)ctx;
    ++classify_calls;
    for (size_t i = 0; i < n; i++) {
        float p = 0.5f * (x[i * 3 + 1] + x[i * 3 + 2]);
        probs[2 * i] = 1.0f - p;
        probs[2 * i + 1] = p;
    }
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = '\0';
    fclose(f);
    return b;
}

static int same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static const char *files[] = {"prediction_results.txt", "prediction_results_highestscore.csv", "sequence_summary.tsv",
                              "chunked.fa", "identified_nucleotide.fa", "identified_protein.faa"};

static const vnp_scorer fake = {NULL, 2, 1, fake_tokenize, fake_embed, fake_classify, NULL, NULL, NULL, 0};

static vnp_output_style run_style = VNP_OUTPUT_BROAD; /* the default */

static void opts(vnp_predict_opts *o, const char **inputs, const char *out, size_t block, char *identity)
{
    vnp_predict_opts_init(o);
    o->output_style = run_style;
    o->inputs = inputs;
    o->n_inputs = 1;
    o->outdir = out;
    o->chunk_len = 500;
    o->keep_intermediate = 1;
    o->block_records = block;
    snprintf(identity, 64, "{\"block\":%zu}", block);
    o->identity = identity;
}

static int run(const char *in, const char *out, size_t block, int resume, int force)
{
    const char *inputs[1] = {in};
    char identity[64];
    vnp_predict_opts o;
    opts(&o, inputs, out, block, identity);
    o.resume = resume;
    o.force = force;
    vnp_predict_stats st;
    return vnp_predict_run(&o, &fake, 1, &st);
}

/* n stand-in scorers at once (the multi-GPU path: one worker thread each, one queue). */
static int run_workers(const char *in, const char *out, size_t block, int n)
{
    const char *inputs[1] = {in};
    char identity[64];
    vnp_predict_opts o;
    opts(&o, inputs, out, block, identity);
    o.force = 1;
    vnp_scorer s[4] = {fake, fake, fake, fake};
    vnp_predict_stats st;
    int rc = vnp_predict_run(&o, s, n, &st);
    CHECK_EQ_INT(st.workers, n);
    return rc;
}

/* Shard i (0-based) of n into out. */
static int run_shard(const char *in, const char *out, size_t block, int i, int n)
{
    const char *inputs[1] = {in};
    char identity[64];
    vnp_predict_opts o;
    opts(&o, inputs, out, block, identity);
    o.force = 1;
    o.shard = i;
    o.n_shards = n;
    vnp_predict_stats st;
    return vnp_predict_run(&o, &fake, 1, &st);
}

static void same_outputs(const char *ref, const char *dir, const char *what)
{
    char a[2048], b[2048];
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        snprintf(a, sizeof a, "%s/%s", ref, files[f]);
        snprintf(b, sizeof b, "%s/%s", dir, files[f]);
        CHECK_MSG(same_file(a, b), "%s: %s", what, files[f]);
    }
}

int main(void)
{
    char in[1024], ref[] = "/tmp/vnp_pipe_ref_XXXXXX", dir[] = "/tmp/vnp_pipe_XXXXXX";
    snprintf(in, sizeof in, "%s/inputs/lassa_reads_subset.bam", vnp_test_data());
    CHECK(mkdtemp(ref) && mkdtemp(dir));
    vnp_log_set_level(VNP_LOG_ERROR);
    vnp_pipeline_install_signals();
    char cmd[4200];

    /* One uninterrupted run; its intermediate files must equal the fixture's. */
    CHECK_EQ_INT(run(in, ref, 1000, 0, 0), 0);
    char a[2048], b[2048];
    const char *golden[3] = {"chunked.fa", "identified_nucleotide.fa", "identified_protein.faa"};
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "%s/%s", ref, golden[i]);
        snprintf(b, sizeof b, "%s/preprocess/lassa_reads_subset.from_bam_500/%s", vnp_test_data(), golden[i]);
        CHECK_MSG(same_file(a, b), "--keep-intermediate %s equals the fixture", golden[i]);
    }

    /* The same outputs for every block size (blocks of 1: 200 blocks, more than the consensus merge opens at once,
     * so it merges in passes). */
    for (size_t block = 1; block <= 150; block = block * 7 + 3) {
        CHECK_EQ_INT(run(in, dir, block, 0, 1), 0);
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            snprintf(a, sizeof a, "%s/%s", ref, files[f]);
            snprintf(b, sizeof b, "%s/%s", dir, files[f]);
            CHECK_MSG(same_file(a, b), "%s with blocks of %zu", files[f], block);
        }
    }

    /* Interrupted at each block in turn, then resumed: identical outputs. */
    for (int stop = 1; stop <= 3; stop++) { /* 200 reads in blocks of 50: 4 blocks */
        classify_calls = protein_calls = 0;
        interrupt_after = stop;
        int rc = run(in, dir, 50, 0, 1);
        CHECK_MSG(rc == VNP_ERR_INTERRUPTED, "interrupted at block %d: rc %d", stop, rc);
        interrupt_after = -1;
        CHECK_EQ_INT(run(in, dir, 50, 0, 0), VNP_ERR_USAGE); /* a journaled run is not overwritten silently */
        int calls_before = classify_calls;
        CHECK_EQ_INT(run(in, dir, 50, 1, 0), 0);
        CHECK_MSG(classify_calls > calls_before, "resume scored the rest");
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            snprintf(a, sizeof a, "%s/%s", ref, files[f]);
            snprintf(b, sizeof b, "%s/%s", dir, files[f]);
            CHECK_MSG(same_file(a, b), "%s after an interrupt at block %d", files[f], stop);
        }
        /* resuming a finished run does nothing and keeps the outputs */
        calls_before = classify_calls;
        CHECK_EQ_INT(run(in, dir, 50, 1, 0), 0);
        CHECK_EQ_INT(classify_calls, calls_before);
    }
    /* Several workers pulling from one queue: the same outputs. */
    for (int n = 2; n <= 4; n++) {
        CHECK_EQ_INT(run_workers(in, dir, 7, n), 0);
        char what[64];
        snprintf(what, sizeof what, "%d workers", n);
        same_outputs(ref, dir, what);
    }

    /* Shards, then merge (in any order of the folders): the outputs of one run. A shard set with one missing, one
     * given twice or of another run is refused. */
    char sh[3][64];
    const char *shards[3];
    for (int i = 0; i < 3; i++) {
        snprintf(sh[i], sizeof sh[i], "%s.shard%d", dir, i + 1);
        shards[2 - i] = sh[i];
        CHECK_EQ_INT(run_shard(in, sh[i], 9, i, 3), 0);
        snprintf(a, sizeof a, "%s/prediction_results.txt", sh[i]);
        CHECK_MSG(access(a, F_OK) != 0, "a shard writes no final files");
    }
    CHECK_EQ_INT(vnp_merge_run(dir, shards, 3, 1), 0);
    same_outputs(ref, dir, "3 shards merged");
    CHECK_EQ_INT(vnp_merge_run(dir, shards, 2, 1), VNP_ERR_USAGE);
    const char *twice[3] = {sh[0], sh[1], sh[1]};
    CHECK_EQ_INT(vnp_merge_run(dir, twice, 3, 1), VNP_ERR_USAGE);
    CHECK_EQ_INT(run_shard(in, sh[2], 10, 2, 3), 0); /* other block size: another run */
    CHECK_EQ_INT(vnp_merge_run(dir, shards, 3, 1), VNP_ERR_USAGE);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s'", sh[0], sh[1], sh[2]);
    CHECK(system(cmd) == 0);

    /* A different run in the same folder: refused with --resume, allowed with --force. */
    CHECK_EQ_INT(run(in, dir, 3, 1, 0), VNP_ERR_USAGE);

    /* Empty input: header lines only. */
    char empty[] = "/tmp/vnp_pipe_empty_XXXXXX";
    int fd = mkstemp(empty);
    close(fd);
    CHECK_EQ_INT(run(empty, dir, 2, 0, 1), 0);
    snprintf(a, sizeof a, "%s/prediction_results.txt", dir);
    size_t len = 0;
    char *txt = slurp(a, &len);
    CHECK(txt && strcmp(txt, "Sequence_ID\tPrediction\tscore1\tscore2\n") == 0);
    free(txt);
    snprintf(a, sizeof a, "%s/prediction_results_highestscore.csv", dir);
    txt = slurp(a, &len);
    CHECK(txt && strcmp(txt, "Modified_ID\tIs_Virus\tmax_score_0\tmax_score_1\n") == 0);
    free(txt);
    run_style = VNP_OUTPUT_ORIGINAL;
    CHECK_EQ_INT(run(empty, dir, 2, 0, 1), 0);
    txt = slurp(a, &len);
    CHECK(txt && strcmp(txt, "Modified_ID\tIs_Virus\n") == 0);
    free(txt);
    run_style = VNP_OUTPUT_BROAD;
    unlink(empty);

    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", ref, dir);
    CHECK(system(cmd) == 0);
    VNP_TEST_END();
}
