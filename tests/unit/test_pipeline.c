/* Pipeline tests with a deterministic stand-in scorer: block journal, resume after an interruption at every
 * block, identical outputs whatever the block size, refusal of a foreign OUTDIR, empty input. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/pipeline.h"
#include "vnp_test.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static int interrupt_after = -1; /* raise SIGINT in the classify call number N */
static int classify_calls;

static float hash_seq(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return (float)(h % 10007) / 10007.0f;
}

static int fake_dna(void *ctx, const char *const *seqs, const size_t *lens, size_t n, float *out, size_t ld)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        out[i * ld] = (float)lens[i];
        out[i * ld + 1] = hash_seq(seqs[i], lens[i]);
    }
    return 0;
}

static int fake_prot(void *ctx, const char *const *seqs, const size_t *lens, size_t n, float *out, size_t ld)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) out[i * ld] = hash_seq(seqs[i], lens[i]);
    return 0;
}

static int fake_classify(void *ctx, const float *x, size_t n, float *probs)
{
    (void)ctx;
    if (++classify_calls == interrupt_after) raise(SIGINT);
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

static int run(const char *in, const char *out, size_t block, int resume, int force)
{
    static const vnp_scorer s = {NULL, 2, 1, fake_dna, fake_prot, fake_classify, NULL};
    const char *inputs[1] = {in};
    vnp_predict_opts o;
    vnp_predict_opts_init(&o);
    o.inputs = inputs;
    o.n_inputs = 1;
    o.outdir = out;
    o.chunk_len = 500;
    o.resume = resume;
    o.force = force;
    o.keep_intermediate = 1;
    o.block_records = block;
    char identity[64];
    snprintf(identity, sizeof identity, "{\"block\":%zu}", block);
    o.identity = identity;
    vnp_predict_stats st;
    return vnp_predict_run(&o, &s, &st);
}

int main(void)
{
    char in[1024], ref[] = "/tmp/vnp_pipe_ref_XXXXXX", dir[] = "/tmp/vnp_pipe_XXXXXX";
    snprintf(in, sizeof in, "%s/inputs/lassa_reads_subset.bam", vnp_test_data());
    CHECK(mkdtemp(ref) && mkdtemp(dir));
    vnp_log_set_level(VNP_LOG_ERROR);
    vnp_pipeline_install_signals();

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
        classify_calls = 0;
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
    CHECK(txt && strcmp(txt, "Modified_ID\tIs_Virus\n") == 0);
    free(txt);
    unlink(empty);

    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", ref, dir);
    CHECK(system(cmd) == 0);
    VNP_TEST_END();
}
