/* `virnucpro train`: options, the two labelled feature files, and the outputs (classifier safetensors with its
 * metadata, metrics JSON); the recipe itself is train/'s. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "vnp/train.h"
#include "vnp/util.h"
#include "vnp/weights.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
"usage: virnucpro train --viral VIRAL.h5 --other OTHER.h5 -o MODEL.safetensors [options]\n"
"\n"
"Trains the VirNucPro classifier (MLP features -> 512 -> BatchNorm -> ReLU -> Dropout 0.5 -> 2) on the features of\n"
"`virnucpro embed-frames` as VirNucPro's train.py does: cross-entropy, SGD with momentum 0.9, StepLR (step 10,\n"
"gamma 0.85), batches of 32 shuffled each epoch, a held-out validation part, early stopping on its loss. Writes\n"
"the model of the epoch with the lowest validation loss; `predict --classifier MODEL.safetensors` reads it.\n"
"The same seed gives the same model bytes, whatever --threads.\n"
"\n"
"  --viral FILE           features labelled viral (1): HDF5 with datasets dnabert_s and esm2\n"
"  --other FILE           features labelled other (0), same widths\n"
"  -o, --output FILE      the classifier (safetensors; metadata chunk_length, feature_layout, seed, epochs_run)\n"
"  --epochs N             most epochs (default 50)\n"
"  --lr X                 initial learning rate (default 2e-4)\n"
"  --batch-size N         rows per SGD step, 2..4096 (default 32)\n"
"  --seed N               seed of the split, the initial weights, shuffling and dropout (default 1)\n"
"  --val-fraction X       part held out for validation, in (0, 0.5] (default 0.1)\n"
"  --patience N           stop after N epochs without a lower validation loss; 0 never (default 5)\n"
"  --length N             chunk length to record when the files carry no chunk_length attribute\n"
"  --threads N            CPU threads (default: all)\n"
"  --metrics FILE         per-epoch and final metrics as JSON\n"
"  -q, --quiet            no per-epoch lines\n"
"\n"
"Each epoch prints on stderr: epoch, lr, train loss, validation loss, accuracy, precision, recall, F1, AUROC\n"
"(viral is the positive class).\n"
"\n"
"exit status: 0 done; 1 failure while running; 2 bad usage or input (one class only, widths that differ)\n");
}

enum { OPT_VIRAL = 1000, OPT_OTHER, OPT_EPOCHS, OPT_LR, OPT_BS, OPT_SEED, OPT_VAL, OPT_PAT, OPT_LEN, OPT_THREADS,
       OPT_METRICS };

typedef struct {
    const char *viral, *other, *out, *metrics;
    int length;
    vnp_train_opts o;
} train_args;

static int parse_double(const char *opt, const char *s, double lo, double hi, int lo_open, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(lo_open ? v > lo : v >= lo) || !(v <= hi))
        return vnp_cli_usage_error("train", "%s expects a number in %s%g, %g], got '%s'", opt, lo_open ? "(" : "[",
                                   lo, hi, s);
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    static const struct option longopts[] = {
        {"viral", required_argument, NULL, OPT_VIRAL},   {"other", required_argument, NULL, OPT_OTHER},
        {"output", required_argument, NULL, 'o'},        {"epochs", required_argument, NULL, OPT_EPOCHS},
        {"lr", required_argument, NULL, OPT_LR},         {"batch-size", required_argument, NULL, OPT_BS},
        {"seed", required_argument, NULL, OPT_SEED},     {"val-fraction", required_argument, NULL, OPT_VAL},
        {"patience", required_argument, NULL, OPT_PAT},  {"length", required_argument, NULL, OPT_LEN},
        {"threads", required_argument, NULL, OPT_THREADS}, {"metrics", required_argument, NULL, OPT_METRICS},
        {"quiet", no_argument, NULL, 'q'},               {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    long v;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_VIRAL: a->viral = optarg; break;
        case OPT_OTHER: a->other = optarg; break;
        case 'o': a->out = optarg; break;
        case OPT_METRICS: a->metrics = optarg; break;
        case OPT_EPOCHS:
            if ((v = vnp_cli_parse_long("--epochs", optarg, 1, 100000)) < 0) return 2;
            a->o.epochs = (int)v;
            break;
        case OPT_BS:
            if ((v = vnp_cli_parse_long("--batch-size", optarg, 2, 4096)) < 0) return 2;
            a->o.batch_size = (int)v;
            break;
        case OPT_PAT:
            if (strcmp(optarg, "0") == 0) a->o.patience = 0;
            else if ((v = vnp_cli_parse_long("--patience", optarg, 1, 100000)) < 0) return 2;
            else a->o.patience = (int)v;
            break;
        case OPT_LEN:
            if ((v = vnp_cli_parse_long("--length", optarg, 1, 100000)) < 0) return 2;
            a->length = (int)v;
            break;
        case OPT_THREADS:
            if ((v = vnp_cli_parse_long("--threads", optarg, 1, 4096)) < 0) return 2;
            a->o.threads = (int)v;
            break;
        case OPT_SEED:
            errno = 0;
            a->o.seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return vnp_cli_usage_error("train", "--seed expects a non-negative integer, got '%s'", optarg);
            break;
        case OPT_LR:
            if (parse_double("--lr", optarg, 0, 10, 1, &a->o.lr)) return 2;
            break;
        case OPT_VAL:
            if (parse_double("--val-fraction", optarg, 0, 0.5, 1, &a->o.val_fraction)) return 2;
            break;
        case 'q': a->o.quiet = 1; break;
        default: return vnp_cli_usage_error("train", "unknown option");
        }
    }
    if (optind < argc) return vnp_cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!a->viral || !a->other) return vnp_cli_usage_error("train", "--viral FILE and --other FILE are required");
    if (!a->out) return vnp_cli_usage_error("train", "-o MODEL.safetensors is required");
    return 0;
}

/* The chunk length to record: the files' attribute (they must agree with each other and with --length). */
static int chunk_length(const train_args *a, const vnp_features *v, const vnp_features *o, int *len)
{
    int from_file = v->chunk_len ? v->chunk_len : o->chunk_len;
    if (v->chunk_len && o->chunk_len && v->chunk_len != o->chunk_len) {
        fprintf(stderr, "virnucpro train: error: '%s' was made for %d bp chunks but '%s' for %d bp\n", a->viral,
                v->chunk_len, a->other, o->chunk_len);
        return 2;
    }
    if (from_file && a->length && from_file != a->length) {
        fprintf(stderr, "virnucpro train: error: --length %d but the feature files were made for %d bp chunks\n",
                a->length, from_file);
        return 2;
    }
    *len = from_file ? from_file : a->length;
    if (!*len) {
        fprintf(stderr, "virnucpro train: error: the feature files carry no chunk_length attribute; give --length\n");
        return 2;
    }
    return 0;
}

static int check_sets(const train_args *a, const vnp_features *v, const vnp_features *o)
{
    if (v->n == 0 || o->n == 0) {
        fprintf(stderr, "virnucpro train: error: '%s' holds no feature rows: training needs both viral and other "
                        "examples\n", v->n == 0 ? a->viral : a->other);
        return 2;
    }
    if (v->d_dna != o->d_dna || v->d_prot != o->d_prot) {
        fprintf(stderr, "virnucpro train: error: feature widths differ: '%s' has dnabert_s %d + esm2 %d, '%s' has "
                        "dnabert_s %d + esm2 %d (made with other models?)\n",
                a->viral, v->d_dna, v->d_prot, a->other, o->d_dna, o->d_prot);
        return 2;
    }
    return 0;
}

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *epoch_json(const vnp_epoch_log *L)
{
    return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I}", "epoch", L->epoch, "lr",
                     num(L->lr), "train_loss", num(L->train_loss), "val_loss", num(L->val_loss), "accuracy",
                     num(L->val.accuracy), "precision", num(L->val.precision), "recall", num(L->val.recall), "f1",
                     num(L->val.f1), "auroc", num(L->val.auroc), "tp", (json_int_t)L->val.tp, "fp",
                     (json_int_t)L->val.fp, "tn", (json_int_t)L->val.tn, "fn", (json_int_t)L->val.fn);
}

static int write_metrics(const train_args *a, const vnp_train_result *r, int len)
{
    json_t *epochs = json_array();
    for (int i = 0; i < r->epochs_run; i++) json_array_append_new(epochs, epoch_json(&r->log[i]));
    json_t *root = json_pack("{s:s, s:s, s:I, s:i, s:I, s:I, s:i, s:i, s:o, s:o}", "virnucpro_version", VNP_VERSION,
                             "model", a->out, "seed", (json_int_t)a->o.seed, "chunk_length", len, "n_train",
                             (json_int_t)r->n_train, "n_val", (json_int_t)r->n_val, "epochs_run", r->epochs_run,
                             "best_epoch", r->best_epoch, "epochs", epochs, "final",
                             epoch_json(&r->log[r->best_epoch - 1]));
    vnp_outfile *f = root ? vnp_outfile_open(a->metrics) : NULL;
    int rc = f && json_dumpf(root, vnp_outfile_fp(f), JSON_INDENT(1) | JSON_PRESERVE_ORDER) == 0 ? VNP_OK : VNP_ERR_IO;
    if (f && rc == VNP_OK) fputc('\n', vnp_outfile_fp(f));
    if (rc == VNP_OK) rc = vnp_outfile_commit(f);
    else vnp_outfile_abort(f);
    json_decref(root);
    if (rc) fprintf(stderr, "virnucpro train: error: cannot write '%s'\n", a->metrics);
    return rc;
}

static int save_model(const train_args *a, const vnp_train_result *r, const vnp_features *v, int len)
{
    char chunk[32], layout[96], seed[32], epochs[32], best[32];
    snprintf(chunk, sizeof chunk, "%d", len);
    snprintf(layout, sizeof layout, "dnabert_s:%d,esm2:%d", v->d_dna, v->d_prot);
    snprintf(seed, sizeof seed, "%" PRIu64, a->o.seed);
    snprintf(epochs, sizeof epochs, "%d", r->epochs_run);
    snprintf(best, sizeof best, "%d", r->best_epoch);
    const vnp_meta_pair meta[] = {{"chunk_length", chunk},       {"feature_layout", layout},
                                  {"virnucpro_version", VNP_VERSION}, {"seed", seed},
                                  {"epochs_run", epochs},        {"best_epoch", best}};
    return vnp_mlp_params_save(&r->best, a->out, meta, sizeof meta / sizeof meta[0]);
}

int vnp_cmd_train(int argc, char **argv)
{
    if (vnp_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    train_args a = {0};
    vnp_train_opts_init(&a.o);
    int ret = parse_args(argc, argv, &a);
    if (ret) return ret;
    vnp_features fv = {0}, fo = {0};
    vnp_train_result res = {0};
    float *x = NULL;
    uint8_t *y = NULL;
    int len = 0, rc = vnp_features_read(a.viral, 0, &fv);
    if (!rc) rc = vnp_features_read(a.other, 0, &fo);
    if (rc) {
        ret = vnp_status_exit_code(rc);
        goto out;
    }
    if ((ret = check_sets(&a, &fv, &fo)) || (ret = chunk_length(&a, &fv, &fo, &len))) goto out;
    size_t d = (size_t)fv.d_dna + (size_t)fv.d_prot, n = fv.n + fo.n;
    x = vnp_malloc_array(n, d * sizeof(float));
    y = malloc(n);
    if (!x || !y) {
        fprintf(stderr, "virnucpro train: error: out of memory for %zu rows of %zu features\n", n, d);
        ret = 1;
        goto out;
    }
    memcpy(x, fv.x, fv.n * d * sizeof(float));
    memcpy(x + fv.n * d, fo.x, fo.n * d * sizeof(float));
    memset(y, 1, fv.n);
    memset(y + fv.n, 0, fo.n);
    if (!a.o.quiet)
        fprintf(stderr, "virnucpro train: %zu viral + %zu other rows of %zu features (chunk length %d)\n", fv.n, n - fv.n,
                d, len);
    rc = vnp_train_run(&a.o, x, y, n, (int)d, &res);
    if (!rc) rc = save_model(&a, &res, &fv, len);
    if (!rc && a.metrics) rc = write_metrics(&a, &res, len);
    if (rc) {
        ret = vnp_status_exit_code(rc);
        goto out;
    }
    const vnp_epoch_log *b = &res.log[res.best_epoch - 1];
    fprintf(stderr, "virnucpro train: best epoch %d of %d: val loss %.5f, accuracy %.4f, AUROC %.4f -> %s\n",
            res.best_epoch, res.epochs_run, b->val_loss, b->val.accuracy, b->val.auroc, a.out);
out:
    vnp_features_free(&fv);
    vnp_features_free(&fo);
    vnp_train_result_free(&res);
    free(x);
    free(y);
    return ret;
}
