/* virnucpro-broad v2.0's `predict` command line (spec/virnucpro.md §4), accepted as it is: its options, mapped
 * onto predict's own (cmd_predict.c applies them), the Python-internals tuning flags accepted and ignored, and
 * its output folder rule DIR/<Path(input).stem>_merged. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnp/util.h"

enum {
    B_MODEL_TYPE = 'm', B_MODEL_PATH = 'p', B_EXPECTED = 'e', B_BATCH = 'b', B_WORKERS = 'w',
    B_OUTPUT_DIR = VNP_BROAD_OPT_BASE, B_PARALLEL, B_NO_PROGRESS, B_ESM_BATCH, B_DNA_BATCH, B_IGNORED_FLAG,
    B_IGNORED_VALUE
};

const struct option vnp_broad_longopts[] = {
    {"model-type", required_argument, NULL, B_MODEL_TYPE},
    {"model-path", required_argument, NULL, B_MODEL_PATH},
    {"expected-length", required_argument, NULL, B_EXPECTED},
    {"output-dir", required_argument, NULL, B_OUTPUT_DIR},
    {"parallel", no_argument, NULL, B_PARALLEL},
    {"no-progress", no_argument, NULL, B_NO_PROGRESS},
    {"esm-batch-size", required_argument, NULL, B_ESM_BATCH},
    {"dnabert-batch-size", required_argument, NULL, B_DNA_BATCH},
    /* tuning of broad's Python internals (DataLoader, CUDA allocator, checkpoint checks): nothing to tune here */
    {"batch-size", required_argument, NULL, B_BATCH},
    {"num-workers", required_argument, NULL, B_WORKERS},
    {"dataloader-workers", required_argument, NULL, B_IGNORED_VALUE},
    {"cache-clear-interval", required_argument, NULL, B_IGNORED_VALUE},
    {"pin-memory", no_argument, NULL, B_IGNORED_FLAG},
    {"persistent-models", no_argument, NULL, B_IGNORED_FLAG},
    {"no-persistent-models", no_argument, NULL, B_IGNORED_FLAG},
    {"cuda-streams", no_argument, NULL, B_IGNORED_FLAG},
    {"no-cuda-streams", no_argument, NULL, B_IGNORED_FLAG},
    {"expandable-segments", no_argument, NULL, B_IGNORED_FLAG},
    {"v1-fallback", no_argument, NULL, B_IGNORED_FLAG},
    {"v1-attention", no_argument, NULL, B_IGNORED_FLAG},
    {"skip-checkpoint-validation", no_argument, NULL, B_IGNORED_FLAG},
    {"force-resume", no_argument, NULL, B_IGNORED_FLAG},
};
const size_t vnp_broad_n_longopts = sizeof vnp_broad_longopts / sizeof vnp_broad_longopts[0];

int vnp_broad_option(int c, const char *arg, int longindex, const struct option *table, vnp_broad_args *b)
{
    long v;
    switch (c) {
    case B_MODEL_TYPE:
        if (strcmp(arg, "300") && strcmp(arg, "500") && strcmp(arg, "custom"))
        {
            vnp_opt_usage_error("predict", "--model-type must be 300, 500 or custom, got '%s'", arg);
            return -1;
        }
        b->model_type = arg;
        return 1;
    case B_MODEL_PATH: b->model_path = arg; return 1;
    case B_EXPECTED:
        if ((v = vnp_cli_parse_long("--expected-length", arg, 1, 100000)) < 0) return -1;
        b->expected_length = (int)v;
        return 1;
    case B_OUTPUT_DIR: b->output_dir = arg; return 1;
    case B_PARALLEL: b->parallel = 1; return 1;
    case B_NO_PROGRESS: b->no_progress = 1; return 1;
    case B_ESM_BATCH:
    case B_DNA_BATCH:
        if ((v = vnp_cli_parse_long(c == B_ESM_BATCH ? "--esm-batch-size" : "--dnabert-batch-size", arg,
                                    VNP_CLI_TPB_MIN, VNP_CLI_TPB_MAX)) < 0) /* --tokens-per-batch's range */
            return -1;
        *(c == B_ESM_BATCH ? &b->esm_tokens : &b->dna_tokens) = (int)v;
        return 1;
    case B_BATCH:
    case B_WORKERS:
    case B_IGNORED_VALUE:
        if (vnp_cli_parse_long(c == B_BATCH ? "--batch-size" : c == B_WORKERS ? "--num-workers" : "option", arg, 0,
                               1L << 40) < 0)
            return -1;
        /* fall through */
    case B_IGNORED_FLAG:
        if (b->n_ignored < (int)(sizeof b->ignored / sizeof b->ignored[0]))
            b->ignored[b->n_ignored++] = c == B_BATCH ? "batch-size"
                                         : c == B_WORKERS ? "num-workers"
                                         : longindex >= 0 ? table[longindex].name : "?";
        return 1;
    }
    return 0;
}

void vnp_broad_log_ignored(const vnp_broad_args *b)
{
    for (int i = 0; i < b->n_ignored; i++)
        vnp_info("--%s: tunes virnucpro-broad's Python internals; accepted and ignored", b->ignored[i]);
    if (b->parallel) vnp_info("--parallel: every visible GPU is used already (narrow with --gpus or --device cuda:N)");
}

int vnp_broad_length(const vnp_broad_args *b)
{
    if (b->expected_length) return b->expected_length;
    if (b->model_type && strcmp(b->model_type, "custom")) return atoi(b->model_type);
    return 0;
}

char *vnp_broad_output_dir(const char *dir, const char *input)
{
    /* pathlib: the last component (trailing slashes dropped), less its last suffix unless the dot leads or ends */
    size_t n = strlen(input);
    while (n > 1 && input[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && input[s - 1] != '/') s--;
    size_t stem_end = n;
    for (size_t i = n; i-- > s;)
        if (input[i] == '.') {
            if (i > s && i < n - 1) stem_end = i;
            break;
        }
    size_t len = strlen(dir) + (stem_end - s) + 16;
    char *out = malloc(len);
    if (out) snprintf(out, len, "%s/%.*s_merged", dir, (int)(stem_end - s), input + s);
    return out;
}

const char *vnp_broad_device(const char *device, char *buf, size_t size)
{
    /* broad's "-d N" is GPU N */
    if (!device || !*device || strspn(device, "0123456789") != strlen(device)) return device;
    snprintf(buf, size, "cuda:%s", device);
    return buf;
}
