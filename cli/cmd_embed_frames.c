/* `virnucpro embed-frames`: the features of every kept frame, for training. It runs the predict pipeline without a
 * classifier into a temporary folder beside the output and keeps only its embeddings.h5, tagged with chunk_length. */
#define _XOPEN_SOURCE 700
#include "cli.h"
#include "options.h"
#include "vnp/pipeline.h"
#include "vnp/train.h"
#include "vnp/util.h"

#include <errno.h>
#include <ftw.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *out, *models, *esm, *dnabert, *device, *precision, *gpus;
    int len, threads, tpb, quiet;
} frames_args;

static const vnp_opt frames_opts[] = {
    {.name = "output", .short_opt = 'o', .type = VNP_OPT_PATH, .arg = "FILE", .off = offsetof(frames_args, out),
     .help = "the HDF5 file to write (replaced atomically); required"},
    VNP_CLI_OPT_LENGTH(frames_args, len),
    VNP_CLI_OPT_MODELS(frames_args, models),
    VNP_CLI_OPT_ESM(frames_args, esm),
    VNP_CLI_OPT_DNABERT(frames_args, dnabert),
    VNP_CLI_OPT_DEVICE(frames_args, device, 0),
    VNP_CLI_OPT_PRECISION(frames_args, precision, 0),
    VNP_CLI_OPT_GPUS(frames_args, gpus),
    VNP_CLI_OPT_THREADS(frames_args, threads, 0),
    VNP_CLI_OPT_TPB(frames_args, tpb, 0),
    {.name = "quiet", .short_opt = 'q', .type = VNP_OPT_FLAG, .off = offsetof(frames_args, quiet),
     .help = "errors only"},
};

static const vnp_opt_cmd frames_cmd = {
    .name = "embed-frames",
    .synopsis = "virnucpro embed-frames INPUT... -l 300|500 -o FEATURES.h5 [options]",
    .about =
"Chunks, translates and embeds every input sequence as predict does, and writes the features of every kept frame\n"
"(no classifier) to an HDF5 file for `virnucpro train`: datasets frame_id [N], dnabert_s [N, 768], esm2 [N, 2560]\n"
"(widths of the given models) and the root attribute chunk_length.",
    .epilog = "exit status: 0 done; 1 failure while running; 2 bad usage or input\n",
    .opts = frames_opts,
    .n_opts = VNP_OPT_COUNT(frames_opts),
};

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
    frames_args a = {0};
    int first, prc = vnp_opt_parse(&frames_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    const char *out = a.out, *device = a.device, *precision = a.precision;
    int len = a.len, threads = a.threads, tpb = a.tpb, quiet = a.quiet;
    int n_inputs = argc - first;
    if (n_inputs < 1) return vnp_opt_usage_error("embed-frames", "no INPUT given");
    if (!out) return vnp_opt_usage_error("embed-frames", "-o FEATURES.h5 is required");
    if (!len) return vnp_opt_usage_error("embed-frames", "-l 300|500 is required");
    for (int i = 0; i < n_inputs; i++) {
        const char *in = argv[first + i];
        if (strcmp(in, "-") && access(in, R_OK) != 0) {
            fprintf(stderr, "virnucpro embed-frames: error: cannot read input '%s': %s\n", in, strerror(errno));
            return 2;
        }
    }
    vnp_log_set_level(quiet ? VNP_LOG_ERROR : VNP_LOG_WARN);
    vnp_cli_models mp = {a.esm, a.dnabert, NULL, {NULL, NULL, NULL}};
    int ret = vnp_cli_resolve_models("embed-frames", a.models, 0, &mp);
    vnp_scorer scorers[VNP_CLI_MAX_GPUS];
    memset(scorers, 0, sizeof scorers);
    int gpus[VNP_CLI_MAX_GPUS];
    int n_gpus = ret ? 0 : vnp_cli_choose_gpus("embed-frames", device, a.gpus, 0, gpus, VNP_CLI_MAX_GPUS);
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
    po.inputs = (const char *const *)(argv + first);
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
