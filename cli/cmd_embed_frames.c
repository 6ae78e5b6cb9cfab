/* `virnucpro embed-frames`: the features of every kept frame, for training. It runs the predict pipeline without a
 * classifier into a temporary folder beside the output and keeps only its embeddings.h5, tagged with chunk_length. */
#define _XOPEN_SOURCE 700
#include "cli.h"
#include "vnp/pipeline.h"
#include "vnp/train.h"
#include "vnp/util.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
"usage: virnucpro embed-frames INPUT... -l 300|500 -o FEATURES.h5 [options]\n"
"\n"
"Chunks, translates and embeds every input sequence as predict does, and writes the features of every kept frame\n"
"(no classifier) to an HDF5 file for `virnucpro train`: datasets frame_id [N], dnabert_s [N, 768], esm2 [N, 2560]\n"
"(widths of the given models) and the root attribute chunk_length.\n"
"\n"
"  -o, --output FILE      the HDF5 file to write (replaced atomically)\n"
"  -l, --length N         chunk length, 300 or 500\n"
"  --models DIR           folder holding the released models (default: $VIRNUCPRO_MODELS)\n"
"  --esm PATH             ESM-2 file or folder\n"
"  --dnabert PATH         DNABERT-S folder (or weights file with tokenizer.json beside it)\n"
"  --device auto|cpu|cuda where the encoders run (default auto: a GPU when one is usable)\n"
"  --precision P          on a GPU: fp16 (default), fp32 (diagnostic mode) or fp8 (README)\n"
"  --gpus LIST            with --device cuda: the GPUs to use, e.g. 0,2 (default: every visible GPU)\n"
"  --threads N            CPU threads (default: all)\n"
"  --tokens-per-batch N   packing budget of an encoder batch (default 16384)\n"
"  -q, --quiet            errors only\n"
"\n"
"exit status: 0 done; 1 failure while running; 2 bad usage or input\n");
}

enum { OPT_MODELS = 1000, OPT_ESM, OPT_DNABERT, OPT_THREADS, OPT_TPB, OPT_DEVICE, OPT_PRECISION, OPT_GPUS };

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Runs the pipeline into tmpdir and moves its embeddings.h5 to out. */
static int embed_into(const vnp_predict_opts *po, const vnp_scorer *s, int n_sc, const char *tmpdir, const char *out,
                      int len, int quiet)
{
    vnp_predict_stats st;
    int rc = vnp_predict_run(po, s, n_sc, &st);
    int sig = vnp_pipeline_signal();
    if (rc == VNP_ERR_INTERRUPTED || (rc && sig)) { /* the work folder is removed by the caller */
        fprintf(stderr, "virnucpro embed-frames: interrupted by %s; nothing was written\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        return sig == SIGINT ? 130 : 143;
    }
    if (rc) return vnp_status_exit_code(rc);
    size_t n = strlen(tmpdir) + 32;
    char *h5 = malloc(n);
    if (!h5) return 1;
    snprintf(h5, n, "%s/embeddings.h5", tmpdir);
    rc = vnp_features_set_chunk_length(h5, len);
    if (rc == VNP_OK && rename(h5, out) != 0) {
        fprintf(stderr, "virnucpro embed-frames: error: cannot move the features to '%s': %s\n", out, strerror(errno));
        rc = VNP_ERR_IO;
    }
    free(h5);
    if (rc) return vnp_status_exit_code(rc);
    if (!quiet)
        fprintf(stderr, "virnucpro embed-frames: %llu records, %llu chunks, %llu frames -> %s (%.2f s)\n",
                (unsigned long long)st.records, (unsigned long long)st.chunks, (unsigned long long)st.frames, out,
                st.t_total);
    return 0;
}

int vnp_cmd_embed_frames(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},          {"length", required_argument, NULL, 'l'},
        {"models", required_argument, NULL, OPT_MODELS},   {"esm", required_argument, NULL, OPT_ESM},
        {"dnabert", required_argument, NULL, OPT_DNABERT}, {"threads", required_argument, NULL, OPT_THREADS},
        {"tokens-per-batch", required_argument, NULL, OPT_TPB}, {"quiet", no_argument, NULL, 'q'},
        {"device", required_argument, NULL, OPT_DEVICE},   {"precision", required_argument, NULL, OPT_PRECISION},
        {"gpus", required_argument, NULL, OPT_GPUS},
        {"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0}};
    const char *out = NULL, *models = NULL, *esm = NULL, *dnabert = NULL;
    int len = 0, threads = 0, tpb = 16384, quiet = 0, c;
    const char *device = "auto", *precision = NULL, *gpu_list = NULL;
    long v;
    if (vnp_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:l:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'l':
            if ((v = vnp_cli_parse_long("--length", optarg, 1, 100000)) < 0) return 2;
            if (v != 300 && v != 500)
                return vnp_cli_usage_error("embed-frames", "--length must be 300 or 500, got %ld", v);
            len = (int)v;
            break;
        case OPT_MODELS: models = optarg; break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_PRECISION: precision = optarg; break;
        case OPT_GPUS: gpu_list = optarg; break;
        case OPT_ESM: esm = optarg; break;
        case OPT_DNABERT: dnabert = optarg; break;
        case OPT_THREADS:
            if ((v = vnp_cli_parse_long("--threads", optarg, 1, 4096)) < 0) return 2;
            threads = (int)v;
            break;
        case OPT_TPB:
            if ((v = vnp_cli_parse_long("--tokens-per-batch", optarg, 64, 1 << 24)) < 0) return 2;
            tpb = (int)v;
            break;
        case 'q': quiet = 1; break;
        default: return vnp_cli_usage_error("embed-frames", "unknown option");
        }
    }
    int n_inputs = argc - optind;
    if (n_inputs < 1) return vnp_cli_usage_error("embed-frames", "no INPUT given");
    if (!out) return vnp_cli_usage_error("embed-frames", "-o FEATURES.h5 is required");
    if (!len) return vnp_cli_usage_error("embed-frames", "-l 300|500 is required");
    for (int i = 0; i < n_inputs; i++) {
        const char *in = argv[optind + i];
        if (strcmp(in, "-") && access(in, R_OK) != 0) {
            fprintf(stderr, "virnucpro embed-frames: error: cannot read input '%s': %s\n", in, strerror(errno));
            return 2;
        }
    }
    vnp_log_set_level(quiet ? VNP_LOG_ERROR : VNP_LOG_WARN);
    vnp_cli_models mp = {esm, dnabert, NULL, {NULL, NULL, NULL}};
    int ret = vnp_cli_resolve_models("embed-frames", models, 0, &mp);
    vnp_scorer scorers[VNP_CLI_MAX_GPUS];
    memset(scorers, 0, sizeof scorers);
    int gpus[VNP_CLI_MAX_GPUS];
    int n_gpus = ret ? 0 : vnp_cli_choose_gpus("embed-frames", device, gpu_list, 0, gpus, VNP_CLI_MAX_GPUS);
    int n_sc = n_gpus > 0 ? n_gpus : 1;
    char *tmpdir = NULL;
    if (n_gpus < 0) ret = 2;
    if (ret) goto done;
    vnp_scorer_opts so = {mp.esm, mp.dnabert, NULL, device, threads, tpb, precision, 0, 0};
    int rc = n_gpus > 0 ? vnp_scorers_open(&so, gpus, n_gpus, scorers) : vnp_scorer_open(&so, scorers);
    if (rc) {
        ret = vnp_status_exit_code(rc);
        goto done;
    }
    size_t n = strlen(out) + 32;
    tmpdir = malloc(n);
    if (tmpdir) snprintf(tmpdir, n, "%s.work.XXXXXX", out);
    if (!tmpdir || !mkdtemp(tmpdir)) {
        fprintf(stderr, "virnucpro embed-frames: error: cannot create a work folder beside '%s': %s\n", out,
                strerror(errno));
        free(tmpdir);
        tmpdir = NULL;
        ret = 1;
        goto done;
    }
    vnp_predict_opts po;
    vnp_predict_opts_init(&po);
    po.inputs = (const char *const *)(argv + optind);
    po.n_inputs = n_inputs;
    po.outdir = tmpdir;
    po.chunk_len = len;
    po.force = 1;
    po.save_embeddings = 1;
    vnp_pipeline_install_signals(); /* Ctrl-C stops between blocks, so that the work folder can be removed */
    ret = embed_into(&po, scorers, n_sc, tmpdir, out, len, quiet);
done:
    if (tmpdir) nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(tmpdir);
    for (int i = 0; i < VNP_CLI_MAX_GPUS; i++) vnp_scorer_close(&scorers[i]);
    vnp_cli_models_free(&mp);
    return ret;
}
