/* `virnucpro predict`: options, model resolution and the run's identity; the work is pipeline/'s. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "vnp/backend.h"
#include "vnp/config.h"
#include "vnp/dist.h"
#include "vnp/env.h"
#include "vnp/pipeline.h"
#include "vnp/util.h"
#include "vnp/weights.h"

#include <errno.h>
#include <stddef.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *models, *esm, *dnabert, *classifier, *device, *outdir, *reference, *precision, *gpus, *config;
    const char *style_name, *shard_text, *reuse_text;
    int length, force_length, threads, tpb, resume, force, save_emb, keep, block_records;
    int shard, n_shards; /* 0-based shard of n_shards (0: not sharded) */
    double min_conf;
    int quiet, verbose;
    vnp_output_style style;
    vnp_broad_args broad;
    char *broad_outdir; /* --output-dir's DIR/<stem>_merged */
    char device_buf[32];
    int no_reuse, no_report;
    long long reuse_bytes; /* --reuse-memory; < 0: the default */
    vnp_report_opts report;
} predict_args;

/* "I/N" with 1 <= I <= N <= 100000 into the 0-based shard and the count; 1 when it is not that. */
static int parse_shard(const char *v, int *shard, int *n_shards)
{
    int i = 0, n = 0, k = 0;
    if (sscanf(v, "%d/%d%n", &i, &n, &k) != 2 || v[k] || n < 1 || i < 1 || i > n || n > 100000) return 1;
    *shard = i - 1;
    *n_shards = n;
    return 0;
}

static int check_shard(const char *v)
{
    int i, n;
    return parse_shard(v, &i, &n);
}

static int check_bytes(const char *v) { return vnp_cli_bytes_value(v) < 0; }

#define P(f) offsetof(predict_args, f)
static const vnp_opt predict_opts[] = {
    {.group = "required:"},
    {.name = "output", .short_opt = 'o', .type = VNP_OPT_PATH, .arg = "DIR", .off = P(outdir),
     .flags = VNP_OPT_CFG, .help = "output folder (created if needed); required"},
    VNP_CLI_OPT_LENGTH(predict_args, length),
    {.group = "models (each flag wins over --models):"},
    VNP_CLI_OPT_MODELS(predict_args, models),
    VNP_CLI_OPT_ESM(predict_args, esm),
    VNP_CLI_OPT_DNABERT(predict_args, dnabert),
    VNP_CLI_OPT_CLASSIFIER(predict_args, classifier),
    {.name = "force-length", .type = VNP_OPT_FLAG, .off = P(force_length), .flags = VNP_OPT_CFG,
     .help = "accept a classifier whose file name names the other chunk length"},
    {.group = "run:"},
    /* checked after the parse, once broad's bare GPU number (-d N) has become cuda:N */
    VNP_CLI_OPT_DEVICE_CHECKED(predict_args, device, 'd', NULL),
    VNP_CLI_OPT_PRECISION(predict_args, precision, 0),
    VNP_CLI_OPT_GPUS(predict_args, gpus),
    VNP_CLI_OPT_THREADS(predict_args, threads, 't'),
    {.name = "merge-threads", .type = VNP_OPT_INT, .min = 1, .max = 4096, .off = P(threads),
     .flags = VNP_OPT_HIDDEN, .help = "virnucpro-broad's name of --threads"},
    VNP_CLI_OPT_TPB(predict_args, tpb, 0),
    {.name = "shard", .type = VNP_OPT_STRING, .arg = "I/N", .off = P(shard_text), .check = check_shard,
     .expects = "I/N with 1 <= I <= N (e.g. 2/8)", .flags = VNP_OPT_CFG,
     .help = "score only shard I of N (1 <= I <= N) into OUTDIR, for schedulers without MPI; join the N shard "
             "folders with `virnucpro merge`"},
    {.name = "resume", .type = VNP_OPT_FLAG, .off = P(resume), .flags = VNP_OPT_CFG,
     .help = "continue the run journaled in OUTDIR (after a crash, kill or Ctrl-C)"},
    {.name = "force", .short_opt = 'f', .type = VNP_OPT_FLAG, .off = P(force), .flags = VNP_OPT_CFG,
     .help = "replace another run's results in OUTDIR"},
    {.name = "save-embeddings", .type = VNP_OPT_FLAG, .off = P(save_emb), .flags = VNP_OPT_CFG,
     .help = "also write embeddings.h5 (frame_id, dnabert_s, esm2 datasets; fp32)"},
    {.name = "keep-intermediate", .short_opt = 'k', .type = VNP_OPT_FLAG, .off = P(keep), .flags = VNP_OPT_CFG,
     .help = "also write chunked.fa, identified_nucleotide.fa, identified_protein.faa"},
    {.name = "output-style", .type = VNP_OPT_CHOICE, .choices = "broad|original", .def = "broad",
     .off = P(style_name), .flags = VNP_OPT_CFG,
     .help = "layout of the two result files: broad (virnucpro-broad v2.0's, four-column consensus) or original "
             "(VirNucPro's, byte for byte; see the README). Part of the run's identity: --resume and merge need the "
             "same style"},
    {.name = "min-confident-score", .type = VNP_OPT_DOUBLE, .def = "0.8", .min = 0.5, .max = 1.0,
     .off = P(min_conf), .flags = VNP_OPT_CFG, .help = "confidence tier threshold of sequence_summary.tsv"},
    {.name = "block-records", .type = VNP_OPT_INT, .def = "2000", .min = 1, .max = 10000000,
     .off = P(block_records), .flags = VNP_OPT_CFG, .help = "records per journal block (the unit of --resume; a block also closes at 1 Mbp)"},
    VNP_CLI_OPT_NO_REPORT(predict_args, no_report),
    VNP_CLI_OPTS_REGIONS(predict_args, report),
    {.name = "reference", .short_opt = 'T', .type = VNP_OPT_PATH, .arg = "FA", .off = P(reference),
     .flags = VNP_OPT_CFG, .help = "reference FASTA for CRAM input"},
    {.name = "no-reuse", .type = VNP_OPT_FLAG, .off = P(no_reuse), .flags = VNP_OPT_CFG,
     .help = "run every frame through the encoders, repeats included (same outputs, slower)"},
    {.name = "reuse-memory", .type = VNP_OPT_STRING, .arg = "SIZE", .off = P(reuse_text), .check = check_bytes,
     .expects = "a size in bytes with an optional K, M, G or T (e.g. 512M, 2G)", .flags = VNP_OPT_CFG,
     .help = "memory for the features of the sequences seen, e.g. 512M, 4G (default: the smaller of 2G and an "
             "eighth of RAM; 0 turns reuse off)"},
    {.name = "config", .type = VNP_OPT_PATH, .arg = "FILE", .off = P(config),
     .help = "read options from a YAML file (virnucpro config generate); the command line wins"},
    {.name = "quiet", .short_opt = 'q', .type = VNP_OPT_FLAG, .off = P(quiet), .flags = VNP_OPT_CFG,
     .help = "errors only, no progress bar"},
    {.name = "verbose", .short_opt = 'v', .type = VNP_OPT_FLAG, .off = P(verbose), .flags = VNP_OPT_CFG,
     .help = "more detail on stderr"},
};
#undef P

static int broad_extra(void *dest, int c, const char *arg, int longindex, const struct option *table)
{
    return vnp_broad_option(c, arg, longindex, table, &((predict_args *)dest)->broad);
}

const vnp_opt_cmd vnp_cli_predict_cmd = {
    .name = "predict",
    .synopsis = "virnucpro predict INPUT... -o OUTDIR -l 300|500 [options]",
    .about =
"Scores every input sequence as VirNucPro does: chunks of the model length, six-frame translation, DNABERT-S\n"
"and ESM-2 features of each stop-free frame, the MLP classifier, per-chunk consensus.\n"
"\n"
"INPUT    FASTA/FASTQ (plain, gzip, bgzip), SAM/BAM/CRAM, or '-' for standard input; several are read as one\n"
"         stream, in order.",
    .epilog =
"virnucpro-broad's command line is accepted as it is (README, \"Coming from virnucpro-broad\"):\n"
"  -m, --model-type 300|500|custom   chunk length and classifier (custom: --model-path and -e)\n"
"  -p, --model-path FILE  the classifier          -e, --expected-length N   chunk length\n"
"  --output-dir DIR       results in DIR/<input stem>_merged/ (broad's -o; here -o is --output)\n"
"  -d N                   GPU N (as --device cuda:N); -d/-k/-f/-t are --device/--keep-intermediate/--force/\n"
"                         --threads (also --merge-threads); --parallel: every visible GPU (the default)\n"
"  --esm-batch-size N, --dnabert-batch-size N   token budget of each encoder's batches\n"
"  --no-progress          no progress bar\n"
"  accepted and ignored (tuning of broad's Python internals; one line each under -v): -b/--batch-size,\n"
"  -w/--num-workers, --dataloader-workers, --pin-memory, --[no-]persistent-models, --[no-]cuda-streams,\n"
"  --expandable-segments, --cache-clear-interval, --v1-fallback, --v1-attention, --skip-checkpoint-validation,\n"
"  --force-resume. CUDA_VISIBLE_DEVICES=-1 means the CPU.\n"
"\n"
"outputs in OUTDIR:\n"
"  prediction_results.txt                one row per kept frame: Sequence_ID Prediction score1 score2\n"
"  prediction_results_highestscore.csv   per chunk (tab-separated): Modified_ID Is_Virus max_score_0 max_score_1\n"
"                                        (--output-style original: Modified_ID Is_Virus, sorted)\n"
"  sequence_summary.tsv                  one row per input record (see the README)\n"
"  run_summary.json                      versions, models and checksums, device, per-stage times, throughput\n"
"  viral_regions.tsv                     runs of viral chunks along each sequence of >= 3 chunks (a heuristic)\n"
"  report.html                           self-contained report: overview, score histograms, top sequences,\n"
"                                        score tracks (opens offline in any browser)\n"
"\n"
"MPI: `mpirun -n N virnucpro predict ...` (a build with MPI) shares the blocks among the ranks; rank 0\n"
"writes OUTDIR (it must see the inputs and models, as every rank must).\n"
"\n"
"exit status: 0 done; 1 failure while running; 2 bad usage or input; 130/143 interrupted by SIGINT/SIGTERM\n"
"(the blocks finished so far are kept: rerun with --resume).\n",
    .opts = predict_opts,
    .n_opts = VNP_OPT_COUNT(predict_opts),
    .inputs_help = "input files (FASTA/FASTQ plain/gzip/bgzip, SAM/BAM/CRAM, '-' = stdin), read in order; used "
                   "only when the command line names none",
    .extra = vnp_broad_longopts,
    .n_extra = 0, /* set at run time: vnp_broad_n_longopts is no constant expression */
    .extra_short = VNP_BROAD_SHORTOPTS,
    .extra_fn = broad_extra,
};

/* {"path", "bytes", "mtime"} of a file or folder: what a resumed run must find unchanged. */
static json_t *file_identity(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0) return json_pack("{s:s}", "path", path);
    return json_pack("{s:s, s:I, s:I}", "path", path, "bytes", (json_int_t)st.st_size, "mtime",
                     (json_int_t)st.st_mtime);
}

static char *make_identity(const predict_args *a, const vnp_scorer *sc, char **inputs, int n)
{
    json_t *in = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(in, file_identity(inputs[i]));
    json_t *root = json_pack("{s:o, s:i, s:o, s:o, s:o, s:b, s:b, s:i, s:f, s:s}", "inputs", in, "chunk_length",
                             a->length, "esm2", file_identity(a->esm), "dnabert_s", file_identity(a->dnabert),
                             "classifier", file_identity(a->classifier), "save_embeddings", a->save_emb,
                             "keep_intermediate", a->keep, "block_records", a->block_records, "min_confident",
                             a->min_conf, "precision", vnp_scorer_precision(sc));
    if (root) json_object_set_new(root, "output_style", json_string(vnp_output_style_name(a->style)));
    if (root && a->n_shards > 1) { /* `merge` compares shards' identities without it */
        char sh[48];
        snprintf(sh, sizeof sh, "%d/%d", a->shard + 1, a->n_shards);
        json_object_set_new(root, "shard", json_string(sh));
    }
    char *s = root ? json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(root);
    return s;
}

/* t_models: seconds spent opening the models (every GPU's copy, in parallel); t_ready: from the command's start until
 * the models were ready (argument checks, OUTDIR's lock and model resolution included): the start-up cost. */
static char *make_run_info(const predict_args *a, const vnp_scorer *s, const int *gpus, int n_gpus, int argc,
                           char **argv, double t_models, double t_ready)
{
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++) json_array_append_new(cmd, json_string(argv[i]));
    char *models = vnp_scorer_describe(s);
    json_error_t err;
    json_t *mj = models ? json_loads(models, 0, &err) : NULL;
    free(models);
    json_t *root = json_pack("{s:s, s:o, s:s, s:s, s:i, s:o}", "virnucpro_version", VNP_VERSION, "command", cmd,
                             "device", vnp_scorer_device(s), "precision", vnp_scorer_precision(s), "threads", a->threads > 0 ? a->threads : vnp_cpu_count(),
                             "models", mj ? mj : json_null());
    if (root && n_gpus > 0) {
        json_t *g = json_array();
        for (int i = 0; i < n_gpus; i++) json_array_append_new(g, json_integer(gpus[i]));
        json_object_set_new(root, "gpus", g);
    }
    if (root) json_object_set_new(root, "output_style", json_string(vnp_output_style_name(a->style)));
    if (root && vnp_dist_size() > 1) json_object_set_new(root, "mpi_ranks", json_integer(vnp_dist_size()));
    if (root)
        json_object_set_new(root, "startup_seconds", json_pack("{s:f, s:f}", "load_models", t_models,
                                                               "start_to_models_ready", t_ready));
    char *out = root ? json_dumps(root, JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    return out;
}


/* Folds virnucpro-broad's options (broad_compat.c) into predict's: 0, or 2 after a usage error. */
static int apply_broad(predict_args *a, const char *first_input)
{
    vnp_broad_args *b = &a->broad;
    int len = vnp_broad_length(b);
    if (b->model_type && strcmp(b->model_type, "custom") == 0 && !b->model_path)
        return vnp_opt_usage_error("predict", "--model-path is required when using --model-type custom");
    if (b->model_type && strcmp(b->model_type, "custom") == 0 && !len && !a->length)
        return vnp_opt_usage_error("predict", "--model-type custom needs --expected-length 300|500");
    if (len && len != 300 && len != 500)
        return vnp_opt_usage_error("predict", "the chunk length must be 300 or 500, got %d", len);
    if (len && a->length && len != a->length)
        return vnp_opt_usage_error("predict", "-l %d and --model-type/--expected-length %d disagree", a->length, len);
    if (len) a->length = len;
    if (b->model_path && a->classifier && strcmp(b->model_path, a->classifier))
        return vnp_opt_usage_error("predict", "give the classifier either as --classifier or as --model-path");
    if (b->model_path) a->classifier = b->model_path;
    if (b->output_dir && a->outdir)
        return vnp_opt_usage_error("predict", "give either -o/--output DIR or --output-dir DIR (broad's), not both");
    if (b->output_dir && first_input) {
        if (!(a->broad_outdir = vnp_broad_output_dir(b->output_dir, first_input)))
            return vnp_opt_usage_error("predict", "out of memory");
        a->outdir = a->broad_outdir;
    }
    if (b->esm_tokens || b->dna_tokens) {
        if (!b->esm_tokens) b->esm_tokens = a->tpb;
        if (!b->dna_tokens) b->dna_tokens = a->tpb;
    }
    a->device = vnp_broad_device(a->device, a->device_buf, sizeof a->device_buf);
    /* as in broad (and PyTorch): no visible GPU means the CPU */
    const char *cvd = vnp_env_get()->cuda_visible_devices;
    if (cvd && strcmp(cvd, "-1") == 0 && strcmp(a->device, "auto") == 0) a->device = "cpu";
    return 0;
}

static int predict_main(int argc, char **argv)
{
    double t_start = vnp_time_now();
    predict_args a = {0};
    vnp_report_opts_init(&a.report);
    /* what predict_main owns, with a.broad_outdir (apply_broad's): released at out:, the one way out after the parse */
    vnp_outdir_lock *lock = NULL;
    vnp_cli_models mp = {0};
    char *identity = NULL, *info = NULL;
    vnp_scorer *scorers = NULL;
    int n_sc = 0, scorer_open = 0, ret;
    vnp_opt_cmd cmd = vnp_cli_predict_cmd;
    cmd.n_extra = vnp_broad_n_longopts;
    int first, prc = vnp_opt_parse(&cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    if (a.style_name && vnp_output_style_parse(a.style_name, &a.style))
        return vnp_opt_usage_error("predict", "--output-style must be broad or original, got '%s'", a.style_name);
    if (a.shard_text && parse_shard(a.shard_text, &a.shard, &a.n_shards)) /* checked by the parser already */
        return vnp_opt_usage_error("predict", "--shard expects I/N, got '%s'", a.shard_text);
    a.reuse_bytes = a.reuse_text ? vnp_cli_bytes_value(a.reuse_text) : -1;
    a.report.html = !a.no_report;
    /* from here on a.broad_outdir may be allocated: every exit goes through out */
    if ((ret = apply_broad(&a, argc - first > 0 ? argv[first] : NULL))) goto out;
    int n_inputs = argc - first;
    if (n_inputs < 1) {
        ret = vnp_opt_usage_error("predict", "no INPUT given");
        goto out;
    }
    if (!a.outdir) {
        ret = vnp_opt_usage_error("predict", "-o OUTDIR (or --output-dir DIR) is required");
        goto out;
    }
    if (!a.length) {
        ret = vnp_opt_usage_error("predict", "-l 300|500 (or --model-type 300|500) is required");
        goto out;
    }
    vnp_device dev;
    int gpu;
    if (vnp_device_parse(a.device, &dev, &gpu)) {
        ret = vnp_opt_usage_error("predict", "--device expects auto, cpu, cuda or cuda:N, got '%s'", a.device);
        goto out;
    }
    int drc = vnp_device_check(dev); /* before OUTDIR's lock and the models */
    if (drc) {
        ret = vnp_status_exit_code(drc);
        goto out;
    }
    int distributed = vnp_dist_size() > 1;
    if (distributed && a.n_shards > 1) {
        ret = vnp_opt_usage_error("predict", "--shard and MPI are two ways of splitting a run: use one");
        goto out;
    }
    for (int i = 0; distributed && i < n_inputs; i++) {
        if (strcmp(argv[first + i], "-") == 0) {
            ret = vnp_opt_usage_error("predict", "under MPI every rank reads the inputs: standard input ('-') "
                                                 "cannot be shared; give a file");
            goto out;
        }
    }
    vnp_log_set_level(a.quiet || vnp_dist_rank() > 0 ? VNP_LOG_ERROR : a.verbose ? VNP_LOG_INFO : VNP_LOG_WARN);
    for (int i = 0; i < n_inputs; i++) {
        const char *in = argv[first + i];
        if (strcmp(in, "-") && access(in, R_OK) != 0) {
            fprintf(stderr, "virnucpro predict: error: cannot read input '%s': %s\n", in, strerror(errno));
            ret = 2;
            goto out;
        }
    }

    vnp_broad_log_ignored(&a.broad);
    /* OUTDIR's lock before the models load: a second run into a busy OUTDIR is refused at once (rank 0 holds it) */
    int lrc = vnp_dist_rank() == 0 ? vnp_outdir_lock_take(a.outdir, &lock) : VNP_OK;
    if (distributed) lrc = vnp_dist_agree(lrc);
    if (lrc) {
        ret = vnp_status_exit_code(lrc);
        goto out;
    }
    mp = (vnp_cli_models){a.esm, a.dnabert, a.classifier, {NULL, NULL, NULL}};
    ret = vnp_cli_resolve_models("predict", a.models, a.length, &mp);
    a.esm = mp.esm;
    a.dnabert = mp.dnabert;
    a.classifier = mp.classifier;
    if (ret) goto out;
    int named = vnp_cli_length_in_name(a.classifier);
    if (named && named != a.length && !a.force_length) {
        fprintf(stderr, "virnucpro predict: error: classifier '%s' is named for %d bp chunks but -l %d was given; "
                        "use the %d_model.pth classifier, or --force-length if the name is wrong\n",
                a.classifier, named, a.length, a.length);
        ret = 2;
        goto out;
    }
    /* models from `virnucpro train` record the chunk length they were trained on */
    vnp_weights *cw = vnp_weights_open(a.classifier);
    const char *cl = cw ? vnp_weights_meta(cw, "chunk_length") : NULL;
    if (cl && atoi(cl) != a.length && !a.force_length) {
        fprintf(stderr, "virnucpro predict: error: classifier '%s' was trained on %s bp chunks but -l %d was given; "
                        "use --force-length if that is intended\n", a.classifier, cl, a.length);
        vnp_weights_close(cw);
        ret = 2;
        goto out;
    }
    vnp_weights_close(cw);
    int gpus[VNP_CLI_MAX_GPUS];
    int n_gpus = vnp_cli_choose_gpus("predict", a.device, a.gpus, distributed, gpus, VNP_CLI_MAX_GPUS);
    if (n_gpus < 0) {
        ret = 2;
        goto out;
    }
    n_sc = n_gpus > 0 ? n_gpus : 1;
    scorers = calloc((size_t)n_sc, sizeof *scorers);
    if (!scorers) {
        fprintf(stderr, "virnucpro predict: error: out of memory\n");
        ret = 1;
        goto out;
    }
    vnp_scorer_opts so = {a.esm, a.dnabert, a.classifier, a.device, a.threads, a.tpb, a.precision,
                          a.broad.dna_tokens, a.broad.esm_tokens};
    double t_open = vnp_time_now();
    int rc = n_gpus > 0 ? vnp_scorers_open(&so, gpus, n_gpus, scorers) : vnp_scorer_open(&so, scorers);
    double t_ready = vnp_time_now();
    if (distributed) rc = vnp_dist_agree(rc); /* one rank without its models stops every rank */
    if (rc) {
        ret = vnp_status_exit_code(rc);
        goto out;
    }
    scorer_open = 1;
    identity = make_identity(&a, &scorers[0], argv + first, n_inputs);
    info = make_run_info(&a, &scorers[0], gpus, n_gpus, argc, argv, t_ready - t_open, t_ready - t_start);
    vnp_info("models ready %.2f s after the start (%.2f s loading them)", t_ready - t_start, t_ready - t_open);
    if (!identity || !info) {
        fprintf(stderr, "virnucpro predict: error: out of memory\n");
        ret = 1;
        goto out;
    }
    vnp_predict_opts po;
    vnp_predict_opts_init(&po);
    po.inputs = (const char *const *)(argv + first);
    po.n_inputs = n_inputs;
    po.outdir = a.outdir;
    po.chunk_len = a.length;
    po.resume = a.resume;
    po.force = a.force;
    po.save_embeddings = a.save_emb;
    po.keep_intermediate = a.keep;
    po.output_style = a.style;
    po.progress = !a.quiet && !a.broad.no_progress && isatty(STDERR_FILENO) && vnp_dist_rank() == 0;
    po.min_confident = a.min_conf;
    po.block_records = (size_t)a.block_records;
    po.identity = identity;
    po.run_info = info;
    po.reference = a.reference;
    if (a.no_reuse) po.reuse_bytes = 0;
    else if (a.reuse_bytes >= 0) po.reuse_bytes = (size_t)a.reuse_bytes;
    po.shard = a.shard;
    po.n_shards = a.n_shards;
    po.distributed = distributed;
    po.lock = lock;
    vnp_pipeline_install_signals();
    vnp_predict_stats st;
    rc = vnp_predict_run(&po, scorers, n_sc, &st);
    int sig = vnp_pipeline_signal();
    if (rc == VNP_ERR_INTERRUPTED || (rc && sig)) {
        fprintf(stderr, "virnucpro predict: interrupted by %s with %llu blocks committed; rerun the same command "
                        "with --resume to finish\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
                (unsigned long long)st.blocks_done);
        ret = sig == SIGINT ? 130 : 143;
        goto out;
    }
    if (rc) {
        ret = vnp_status_exit_code(rc);
        goto out;
    }
    if (vnp_dist_rank() == 0 && a.n_shards <= 1 && (ret = vnp_cli_report_write("predict", a.outdir, &a.report)))
        goto out;
    if (!a.quiet && vnp_dist_rank() == 0 && a.n_shards > 1)
        fprintf(stderr, "virnucpro predict: shard %d of %d done (%llu records scored in %.2f s); join the %d shard "
                        "folders with `virnucpro merge`\n", a.shard + 1, a.n_shards, (unsigned long long)st.records,
                st.t_total, a.n_shards);
    else if (!a.quiet && vnp_dist_rank() == 0)
        fprintf(stderr, "virnucpro predict: %llu records, %llu chunks, %llu frames in %.2f s (%.1f records/s, "
                        "%.1f frames/s); %llu of %llu blocks resumed; peak memory %.1f MiB\n",
                (unsigned long long)st.records, (unsigned long long)st.chunks, (unsigned long long)st.frames,
                st.t_total, st.t_total > 0 ? (double)st.records / st.t_total : 0.0,
                st.t_total > 0 ? (double)st.frames / st.t_total : 0.0, (unsigned long long)st.blocks_resumed,
                (unsigned long long)st.blocks, (double)vnp_peak_rss_bytes() / (1024.0 * 1024.0));
    ret = 0;
out:
    for (int i = 0; scorer_open && i < n_sc; i++) vnp_scorer_close(&scorers[i]);
    free(scorers);
    free(identity);
    free(info);
    vnp_cli_models_free(&mp);
    free(a.broad_outdir);
    vnp_outdir_lock_release(lock);
    return ret;
}

int vnp_cmd_predict(int argc, char **argv)
{
    int n;
    char **v;
    int rc = vnp_config_set_table(&vnp_cli_predict_cmd);
    if (rc == VNP_OK) rc = vnp_config_splice(argc, argv, &n, &v); /* --config FILE: its options go first, so the command line wins */
    if (rc) return vnp_status_exit_code(rc);
    int ret = predict_main(n, v);
    vnp_config_argv_free(v);
    return ret;
}
