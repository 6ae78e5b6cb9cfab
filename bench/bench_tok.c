/* Tokenizer throughput, single thread: DNABERT-S BPE on random 500 bp and 100 kbp DNA, ESM-2 on random
 * 166-aa proteins. Prints one line per case (MB/s of input text per CPU second, best of 5 passes over 20 MB,
 * sequences/s), for the per-rank merge queue used with DNABERT-S's table and for the general heap queue.
 * Build and run with
 * bench/bench_tok.sh. */
#include "tok/bpe_internal.h" /* to time the general heap queue too (by_rank = 0) */
#include "vnp/tok.h"
#include "vnp/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 88172645463325252ull;
static uint32_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 32);
}

/* Encodes n_seq sequences of len bytes from text (laid end to end), `reps` times; returns the best MB/s. */
static double run(const vnp_bpe *bpe, const char *text, size_t len, size_t n_seq, int reps, size_t *tokens)
{
    vnp_tokens t = {0};
    double best = 0;
    for (int r = 0; r < reps; r++) {
        size_t total = 0;
        double t0 = vnp_cpu_time(); /* CPU time: the 2-core VM is shared, wall time would count waiting */
        for (size_t i = 0; i < n_seq; i++) {
            t.n = 0;
            int rc = bpe ? vnp_bpe_encode(bpe, text + i * len, len, &t)
                         : vnp_esm_encode(text + i * len, len, &t, NULL);
            if (rc) {
                fprintf(stderr, "encode failed\n");
                exit(1);
            }
            total += t.n;
        }
        double dt = vnp_cpu_time() - t0;
        double mbs = (double)(len * n_seq) / dt / 1e6;
        if (mbs > best) best = mbs;
        *tokens = total;
    }
    vnp_tokens_free(&t);
    return best;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_tok tokenizer.json\n");
        return 2;
    }
    vnp_bpe *bpe = vnp_bpe_load(argv[1]);
    if (!bpe) return 2;
    size_t bytes = 20u << 20; /* 20 MB of text per case */
    char *text = malloc(bytes);
    if (!text) return 1;
    for (size_t i = 0; i < bytes; i++) text[i] = "ACGT"[rnd() & 3];

    static const size_t lens[] = {500, 5000, 100000};
    printf("%-28s %10s %12s %12s\n", "case", "MB/s", "seqs/s", "tokens/seq");
    int by_rank = bpe->by_rank;
    for (int queue = 0; queue < 2; queue++) {
        bpe->by_rank = queue == 0 ? by_rank : 0;
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            size_t n_seq = bytes / lens[k], tokens;
            double mbs = run(bpe, text, lens[k], n_seq, 5, &tokens);
            char name[64];
            snprintf(name, sizeof name, "dnabert %zu bp (%s)", lens[k], bpe->by_rank ? "by rank" : "heap");
            printf("%-28s %10.1f %12.0f %12.1f\n", name, mbs, mbs * 1e6 / (double)lens[k],
                   (double)tokens / (double)n_seq);
        }
    }
    bpe->by_rank = by_rank;
    static const char aa[] = "ACDEFGHIKLMNPQRSTVWY";
    for (size_t i = 0; i < bytes; i++) text[i] = aa[rnd() % 20];
    size_t tokens, len = 166;
    double mbs = run(NULL, text, len, bytes / len, 3, &tokens);
    printf("%-28s %10.1f %12.0f %12.1f\n", "esm2 166 aa", mbs, mbs * 1e6 / (double)len, (double)tokens / (double)(bytes / len));
    free(text);
    vnp_bpe_free(bpe);
    return 0;
}
