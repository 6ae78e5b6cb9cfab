/* `virnucpro bench`: throughput of the encoders with random weights of the real shapes on the workloads of
 * bench/torch_anchor.py (same sequence lengths: its Python random stream is reproduced), one JSON line. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "vnp/pipeline.h"
#include "vnp/backend.h"
#include "vnp/model.h"

#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *workload, *device, *precision;
    int n, threads, budget, seed;
} bench_args;

#define B(f) offsetof(bench_args, f)
static const vnp_opt bench_opts[] = {
    {.name = "model", .type = VNP_OPT_STRING, .arg = "M", .def = "esm2_650m", .off = B(model),
     .help = "esm2_3b (36x2560, 40 heads), esm2_650m (33x1280, 20 heads), dnabert_s (12x768, 12 heads, ALiBi, gated "
             "GELU); also esm2_8m/35m/150m/15b"},
    {.name = "workload", .type = VNP_OPT_CHOICE, .choices = "chunks500|reads150", .def = "chunks500",
     .off = B(workload),
     .help = "chunks500: proteins of 500 bp chunks (70% 166 aa, rest 30..165) or DNA slices of 499 bp; reads150: "
             "20..50 aa or 61..151 bp"},
    {.name = "n", .type = VNP_OPT_INT, .def = "2000", .min = 1, .max = 100000000, .off = B(n), .help = "sequences"},
    VNP_CLI_OPT_THREADS(bench_args, threads, 0),
    VNP_CLI_OPT_TPB(bench_args, budget, 0),
    {.name = "seed", .type = VNP_OPT_INT, .arg = "S", .def = "0", .min = 0, .max = 0x7fffffff, .off = B(seed),
     .help = "seed of the workload's lengths (Python's random, as bench/torch_anchor.py)"},
    VNP_CLI_OPT_DEVICE(bench_args, device, 0),
    VNP_CLI_OPT_PRECISION(bench_args, precision, 0),
};
#undef B

static const vnp_opt_cmd bench_cmd = {
    .name = "bench",
    .synopsis = "virnucpro bench --model M --workload W [options]",
    .about =
"Random weights of the real shape (no model file), sequences of the lengths bench/torch_anchor.py\n"
"draws (Python's random with the same seed), packed into token-budgeted batches (FFD). One batch is\n"
"run first as a warm-up, then every batch is timed. Prints one JSON line with the anchor's keys:\n"
"sequences, tokens, seconds, seq_per_s, tok_per_s, device, plus batches and peak memory.\n"
"(bench/torch_anchor.py packs 16384 tokens a batch: give --tokens-per-batch 16384 to compare on a GPU.)",
    .epilog = "exit status: 0 success, 1 failure while running, 2 bad usage\n",
    .opts = bench_opts,
    .n_opts = VNP_OPT_COUNT(bench_opts),
};

/* ---- Python's random module: MT19937 seeded by init_by_array([seed]), random() and randint() ---- */
typedef struct {
    uint32_t mt[624];
    int i;
} pyrand;

static void mt_init(pyrand *r, uint32_t s)
{
    r->mt[0] = s;
    for (int i = 1; i < 624; i++) r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->i = 624;
}

static void py_seed(pyrand *r, uint32_t seed) /* init_by_array with a one-word key */
{
    mt_init(r, 19650218u);
    int i = 1, j = 0;
    for (int k = 624; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + seed + (uint32_t)j;
        i++;
        j = 0; /* key length 1 */
        if (i >= 624) {
            r->mt[0] = r->mt[623];
            i = 1;
        }
    }
    for (int k = 623; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= 624) {
            r->mt[0] = r->mt[623];
            i = 1;
        }
    }
    r->mt[0] = 0x80000000u;
    r->i = 624;
}

static uint32_t mt_next(pyrand *r)
{
    if (r->i >= 624) {
        for (int k = 0; k < 624; k++) {
            uint32_t y = (r->mt[k] & 0x80000000u) | (r->mt[(k + 1) % 624] & 0x7fffffffu);
            r->mt[k] = r->mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        r->i = 0;
    }
    uint32_t y = r->mt[r->i++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

static double py_random(pyrand *r)
{
    uint32_t a = mt_next(r) >> 5, b = mt_next(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}

static long py_randint(pyrand *r, long a, long b) /* a + _randbelow(b - a + 1) */
{
    unsigned long n = (unsigned long)(b - a + 1);
    int k = 0;
    while ((n >> k) != 0) k++; /* n.bit_length() */
    for (;;) {
        unsigned long v = mt_next(r) >> (32 - k);
        if (v < n) return a + (long)v;
    }
}

/* Token counts of the anchor's workloads. */
static void workload_tokens(int esm, int chunks, long n, uint32_t seed, int32_t *tok)
{
    pyrand r;
    py_seed(&r, seed);
    for (long i = 0; i < n; i++) {
        if (esm) {
            long len = chunks ? (py_random(&r) < 0.7 ? 166 : py_randint(&r, 30, 165)) : py_randint(&r, 20, 50);
            tok[i] = (int32_t)len + 2;
        } else {
            long bp = chunks ? (py_random(&r) < 0.7 ? 499 : py_randint(&r, 91, 496)) : py_randint(&r, 61, 151);
            double t = nearbyint((double)bp / 4.6); /* Python round(): half to even */
            tok[i] = (int32_t)(t < 3 ? 3 : t) + 2;
        }
    }
}

int vnp_cmd_bench(int argc, char **argv)
{
    bench_args a = {0};
    int first, prc = vnp_opt_parse(&bench_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    if (first != argc) return vnp_opt_usage_error("bench", "unexpected argument '%s'", argv[first]);
    const char *model = a.model, *workload = a.workload, *precision = a.precision;
    long n = a.n, threads = a.threads, seed = a.seed;
    vnp_encoder_config cfg;
    if (vnp_encoder_config_named(model, &cfg))
        return vnp_opt_usage_error("bench", "unknown model '%s' (esm2_3b, esm2_650m, dnabert_s, ...)", model);
    int chunks = strcmp(workload, "chunks500") == 0;
    if (!chunks && strcmp(workload, "reads150") != 0)
        return vnp_opt_usage_error("bench", "--workload must be chunks500 or reads150, got '%s'", workload);
    int esm = cfg.kind == VNP_MODEL_ESM2;

    int rc = VNP_OK;
    vnp_backend *be = NULL;
    vnp_encoder *enc = NULL;
    vnp_window win = {0};
    int32_t *tok = vnp_malloc_array((size_t)n, sizeof(int32_t)), *ids = NULL;
    float *out = vnp_malloc_array((size_t)n * (size_t)cfg.dim, sizeof(float));
    if (!tok || !out) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    workload_tokens(esm, chunks, n, (uint32_t)seed, tok);
    int32_t maxtok = 0;
    for (long i = 0; i < n; i++) maxtok = tok[i] > maxtok ? tok[i] : maxtok;
    if (!(ids = vnp_malloc_array((size_t)maxtok, sizeof(int32_t)))) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull ^ (uint64_t)seed;
    for (long i = 0; i < n; i++) {
        for (int32_t t = 0; t < tok[i]; t++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ids[t] = esm ? 4 + (int32_t)(x % 20) : 5 + (int32_t)(x % 4091);
        }
        ids[0] = esm ? 0 : 1;             /* <cls> / [CLS] */
        ids[tok[i] - 1] = esm ? 2 : 2;    /* <eos> / [SEP] */
        if ((rc = vnp_window_add(&win, ids, tok[i]))) goto done;
    }
    double tl = vnp_time_now();
    if ((rc = vnp_backend_open_for(a.device, (int)threads, precision, &be))) goto done;
    if (!(enc = vnp_encoder_random(be, &cfg, 1234 + (uint64_t)seed))) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    double load_s = vnp_time_now() - tl;
    long budget = a.budget > 0 ? a.budget : (long)vnp_encoders_auto_budget(be, &enc, 1);
    /* warm-up: the first (largest) batch */
    {
        vnp_window first = {0};
        vnp_packing p = {0};
        if ((rc = vnp_pack_ffd(win.len, win.n, (size_t)budget, 0, &p))) goto done;
        for (size_t k = p.start[0]; k < p.start[1] && !rc; k++)
            rc = vnp_window_add(&first, win.ids + win.start[p.order[k]], win.len[p.order[k]]);
        if (!rc) rc = vnp_window_run(enc, &first, (size_t)budget, out, (size_t)vnp_encoder_cfg(enc)->dim);
        vnp_packing_free(&p);
        vnp_window_free(&first);
        if (rc) goto done;
    }
    double t0 = vnp_time_now();
    if ((rc = vnp_window_run(enc, &win, (size_t)budget, out, (size_t)vnp_encoder_cfg(enc)->dim))) goto done;
    double dt = vnp_time_now() - t0;
    int finite = 1;
    for (size_t i = 0; i < (size_t)n * (size_t)cfg.dim; i++)
        if (!isfinite(out[i])) finite = 0;
    if (!finite) {
        vnp_error("non-finite features in the benchmark output");
        rc = VNP_ERR_INTERNAL;
        goto done;
    }
    char devname[32];
    if (strcmp(be->ops->name, "cpu") == 0)
        snprintf(devname, sizeof devname, "cpu x%d", be->nthreads);
    else
        snprintf(devname, sizeof devname, "%s", be->ops->name);
    printf("{\"anchor\": \"virnucpro\", \"model\": \"%s\", \"workload\": \"%s\", \"mode\": \"packed\", "
           "\"device\": \"%s\", \"precision\": \"%s\", \"version\": \"%s\", \"sequences\": %ld, \"tokens\": %zu, \"seconds\": %.3f, "
           "\"seq_per_s\": %.1f, \"tok_per_s\": %.1f, \"batches\": %zu, \"tokens_per_batch\": %ld, "
           "\"weights_gb\": %.2f, \"activations_gb\": %.2f, \"load_seconds\": %.2f, \"peak_rss_mb\": %.0f}\n",
           model, workload, devname, vnp_backend_precision(be), VNP_VERSION, n, win.ntok, dt, (double)n / dt, (double)win.ntok / dt,
           win.batches, budget, (double)vnp_encoder_weight_bytes(enc) / 1e9,
           (double)vnp_encoder_activation_bytes(enc) / 1e9, load_s, (double)vnp_peak_rss_bytes() / 1e6);
done:
    free(tok);
    free(out);
    free(ids);
    vnp_window_free(&win);
    vnp_encoder_free(enc);
    vnp_backend_free(be);
    if (rc) vnp_error("bench failed: %s", vnp_status_str(rc));
    return vnp_status_exit_code(rc);
}
