/* `virnucpro train`: options, the two labelled feature files, and the outputs (classifier safetensors with its
 * metadata, metrics JSON); the recipe itself is train/'s. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "vnp/train.h"
#include "vnp/util.h"
#include "vnp/weights.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *viral, *other, *out, *metrics, *seed;
    int length;
    vnp_train_opts o;
} train_args;

static int check_seed(const char *v)
{
    char *end;
    errno = 0;
    (void)strtoull(v, &end, 10);
    return errno || end == v || *end || v[0] == '-';
}

/* The defaults are train.h's VNP_TRAIN_DEFAULT_* (vnp_train_opts_init sets the same ones for library callers). */
#define T(f) offsetof(train_args, f)
static const vnp_opt train_opts[] = {
    {.name = "viral", .type = VNP_OPT_PATH, .arg = "FILE", .off = T(viral),
     .help = "features labelled viral (1): HDF5 with datasets dnabert_s and esm2; required"},
    {.name = "other", .type = VNP_OPT_PATH, .arg = "FILE", .off = T(other),
     .help = "features labelled other (0), same widths; required"},
    {.name = "output", .short_opt = 'o', .type = VNP_OPT_PATH, .arg = "FILE", .off = T(out),
     .help = "the classifier (safetensors; metadata chunk_length, feature_layout, seed, epochs_run); required"},
    {.name = "epochs", .type = VNP_OPT_INT, .def = VNP_XSTR(VNP_TRAIN_DEFAULT_EPOCHS), .min = 1, .max = 100000,
     .off = T(o.epochs), .help = "most epochs"},
    {.name = "lr", .type = VNP_OPT_DOUBLE, .def = VNP_XSTR(VNP_TRAIN_DEFAULT_LR), .min = 0, .max = 10,
     .flags = VNP_OPT_MIN_OPEN, .off = T(o.lr), .help = "initial learning rate"},
    {.name = "batch-size", .type = VNP_OPT_INT, .def = VNP_XSTR(VNP_TRAIN_DEFAULT_BATCH_SIZE), .min = 2, .max = 4096,
     .off = T(o.batch_size), .help = "rows per SGD step, 2..4096"},
    {.name = "seed", .type = VNP_OPT_STRING, .arg = "N", .def = VNP_XSTR(VNP_TRAIN_DEFAULT_SEED), .off = T(seed),
     .check = check_seed, .expects = "a non-negative integer",
     .help = "seed of the split, the initial weights, shuffling and dropout"},
    {.name = "val-fraction", .type = VNP_OPT_DOUBLE, .def = VNP_XSTR(VNP_TRAIN_DEFAULT_VAL_FRACTION), .min = 0,
     .max = 0.5, .flags = VNP_OPT_MIN_OPEN, .off = T(o.val_fraction),
     .help = "part held out for validation, in (0, 0.5]"},
    {.name = "patience", .type = VNP_OPT_INT, .def = VNP_XSTR(VNP_TRAIN_DEFAULT_PATIENCE), .min = 0, .max = 100000,
     .off = T(o.patience), .help = "stop after N epochs without a lower validation loss; 0 never"},
    {.name = "length", .type = VNP_OPT_INT, .min = 1, .max = 100000, .off = T(length),
     .help = "chunk length to record when the files carry no chunk_length attribute"},
    VNP_CLI_OPT_THREADS(train_args, o.threads, 0),
    {.name = "metrics", .type = VNP_OPT_PATH, .arg = "FILE", .off = T(metrics),
     .help = "per-epoch and final metrics as JSON"},
    {.name = "quiet", .short_opt = 'q', .type = VNP_OPT_FLAG, .off = T(o.quiet), .help = "no per-epoch lines"},
};
#undef T

static const vnp_opt_cmd train_cmd = {
    .name = "train",
    .synopsis = "virnucpro train --viral VIRAL.h5 --other OTHER.h5 -o MODEL.safetensors [options]",
    .about =
"Trains the VirNucPro classifier (MLP features -> 512 -> BatchNorm -> ReLU -> Dropout 0.5 -> 2) on the features of\n"
"`virnucpro embed-frames` as VirNucPro's train.py does: cross-entropy, SGD with momentum 0.9, StepLR (step 10,\n"
"gamma 0.85), batches of 32 shuffled each epoch, a held-out validation part, early stopping on its loss. Writes\n"
"the model of the epoch with the lowest validation loss; `predict --classifier MODEL.safetensors` reads it.\n"
"The same seed gives the same model bytes, whatever --threads.",
    .epilog =
"Each epoch prints on stderr: epoch, lr, train loss, validation loss, accuracy, precision, recall, F1, AUROC\n"
"(viral is the positive class).\n"
"\n"
"exit status: 0 done; 1 failure while running; 2 bad usage or input (one class only, widths that differ)\n",
    .opts = train_opts,
    .n_opts = VNP_OPT_COUNT(train_opts),
};

static int parse_args(int argc, char **argv, train_args *a)
{
    int first, prc = vnp_opt_parse(&train_cmd, argc, argv, a, &first);
    if (prc) return prc == 1 ? -1 : 2;
    a->o.seed = strtoull(a->seed, NULL, 10);
    if (first < argc) return vnp_opt_usage_error("train", "unexpected argument '%s'", argv[first]);
    if (!a->viral || !a->other) return vnp_opt_usage_error("train", "--viral FILE and --other FILE are required");
    if (!a->out) return vnp_opt_usage_error("train", "-o MODEL.safetensors is required");
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
    train_args a = {0};
    vnp_train_opts_init(&a.o);
    int ret = parse_args(argc, argv, &a);
    if (ret) return ret < 0 ? 0 : ret;
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
