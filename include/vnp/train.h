/* train: labelled feature files (HDF5 from embed-frames) and the VirNucPro classifier recipe of train.py in C:
 * MLP in -> 512 -> BatchNorm1d -> ReLU -> Dropout 0.5 -> 2, cross-entropy, SGD with momentum, StepLR, early stopping.
 *
 * Determinism: every random draw comes from one xoshiro256** stream seeded by the caller, and the work is split
 * across threads by hidden unit only (each float is computed by one thread in a fixed order), so the same seed gives
 * the same model bytes for any thread count. */
#ifndef VNP_TRAIN_H
#define VNP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "vnp/util.h"
#include "vnp/weights.h"

/* ---- feature files (features.c) ---- */
typedef struct {
    float *x;      /* [n, d_dna + d_prot] rows, DNA features first */
    char **ids;    /* [n] frame ids (NULL when not asked for) */
    size_t n;
    int d_dna, d_prot;
    int chunk_len; /* the file's chunk_length attribute, 0 when absent */
} vnp_features;

/* Reads datasets dnabert_s [n, d_dna] and esm2 [n, d_prot] (and frame_id when want_ids) of an HDF5 file.
 * VNP_ERR_NOTFOUND / VNP_ERR_FORMAT after a message naming the file and what was wrong. */
int vnp_features_read(const char *path, int want_ids, vnp_features *f) VNP_MUST_CHECK;
void vnp_features_free(vnp_features *f); /* accepts a zeroed struct */
/* Sets the integer attribute chunk_length on the root group of an existing HDF5 file. */
int vnp_features_set_chunk_length(const char *path, int chunk_len) VNP_MUST_CHECK;

/* ---- the PRNG (rng.c): splitmix64-seeded xoshiro256** ---- */
typedef struct {
    uint64_t s[4];
} vnp_rng;
void vnp_rng_seed(vnp_rng *r, uint64_t seed);
uint64_t vnp_rng_next(vnp_rng *r);
double vnp_rng_uniform(vnp_rng *r); /* [0, 1) with 53 random bits */
size_t vnp_rng_below(vnp_rng *r, size_t n); /* [0, n), unbiased */

/* ---- metrics (metrics.c) ---- */
typedef struct {
    double accuracy, precision, recall, f1, auroc; /* auroc NaN when a class is absent */
    size_t tp, fp, tn, fn;
} vnp_binary_metrics;
/* Area under the ROC curve of scores for labels (1 positive), exact: rank sum with tied scores given their average
 * rank. NaN when either class is absent. */
double vnp_auroc(const float *scores, const uint8_t *labels, size_t n);
/* Positive prediction: score > 0.5 (P(virus) above P(others), as argmax with ties to class 0). */
void vnp_binary_metrics_compute(const float *scores, const uint8_t *labels, size_t n, vnp_binary_metrics *m);

/* ---- the MLP being trained (mlp_train.c) ---- */
typedef struct {
    int in, hidden, classes;
    float *w1;      /* [hidden, in]  hidden_layer.weight */
    float *b1;      /* [hidden]      hidden_layer.bias */
    float *gamma;   /* [hidden]      bn1.weight */
    float *beta;    /* [hidden]      bn1.bias */
    float *rmean;   /* [hidden]      bn1.running_mean */
    float *rvar;    /* [hidden]      bn1.running_var */
    float *w2;      /* [classes, hidden] output_layer.weight */
    float *b2;      /* [classes]     output_layer.bias */
    int64_t batches_tracked; /* bn1.num_batches_tracked */
} vnp_mlp_params;

/* Allocates and initialises like PyTorch's nn.Linear (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and
 * biases, drawn w1, b1, w2, b2 in that order) and BatchNorm1d (gamma 1, beta 0, mean 0, var 1). */
int vnp_mlp_params_init(vnp_mlp_params *p, int in, int hidden, int classes, vnp_rng *r) VNP_MUST_CHECK;
/* Allocates p with every value 0 (momentum buffers). */
int vnp_mlp_params_zero(vnp_mlp_params *p, int in, int hidden, int classes) VNP_MUST_CHECK;
int vnp_mlp_params_copy(vnp_mlp_params *dst, const vnp_mlp_params *src) VNP_MUST_CHECK; /* dst allocated as src */
void vnp_mlp_params_free(vnp_mlp_params *p);

/* The defaults `train` can change, one owner: vnp_train_opts_init and `virnucpro train`'s option table (as text,
 * through VNP_XSTR) both use these. */
#define VNP_TRAIN_DEFAULT_EPOCHS 50
#define VNP_TRAIN_DEFAULT_LR 2e-4
#define VNP_TRAIN_DEFAULT_BATCH_SIZE 32
#define VNP_TRAIN_DEFAULT_VAL_FRACTION 0.1
#define VNP_TRAIN_DEFAULT_PATIENCE 5
#define VNP_TRAIN_DEFAULT_SEED 1

typedef struct {
    int epochs;          /* VNP_TRAIN_DEFAULT_EPOCHS */
    double lr;           /* VNP_TRAIN_DEFAULT_LR */
    double momentum;     /* 0.9 */
    int batch_size;      /* VNP_TRAIN_DEFAULT_BATCH_SIZE */
    int step_size;       /* StepLR: 10 epochs */
    double gamma;        /* StepLR: 0.85 */
    double dropout;      /* 0.5 */
    int hidden;          /* 512 */
    double val_fraction; /* VNP_TRAIN_DEFAULT_VAL_FRACTION */
    int patience;        /* epochs without a lower validation loss that stop training (VNP_TRAIN_DEFAULT_PATIENCE);
                          * 0: never stop early */
    uint64_t seed;       /* VNP_TRAIN_DEFAULT_SEED */
    int threads;         /* <= 0: every CPU; the result does not depend on it */
    int quiet;           /* 1: no per-epoch line on stderr */
} vnp_train_opts;
/* Sets every field to its default (the recipe of train.py; those `train` has options for from the macros above). */
void vnp_train_opts_init(vnp_train_opts *o);

typedef struct {
    int epoch; /* 1-based */
    double lr, train_loss, val_loss;
    vnp_binary_metrics val;
} vnp_epoch_log;

typedef struct {
    vnp_mlp_params best;  /* parameters after the epoch with the lowest validation loss */
    vnp_epoch_log *log;   /* [epochs_run] */
    int epochs_run, best_epoch;
    size_t n_train, n_val;
} vnp_train_result;
void vnp_train_result_free(vnp_train_result *r);

/* One SGD step on a batch (training-mode BatchNorm, dropout masks from r): forward, cross-entropy (mean over the
 * batch), backward, momentum update with velocity buffers vel (same layout as p, zeroed before the first step).
 * x: [b, p->in]; y: [b]. Returns the batch loss through *loss. b must be in [2, 4096] (batch statistics). */
int vnp_mlp_train_step(vnp_mlp_params *p, vnp_mlp_params *vel, const float *x, const uint8_t *y, size_t b, double lr,
                       double momentum, double dropout, vnp_rng *r, vnp_pool *pool, double *loss) VNP_MUST_CHECK;
/* Eval-mode forward (running statistics, no dropout): P(class 1) of each of n rows into score [n]; mean
 * cross-entropy into *loss when not NULL. */
int vnp_mlp_params_score(const vnp_mlp_params *p, const float *x, const uint8_t *y, size_t n, vnp_pool *pool,
                         float *score, double *loss) VNP_MUST_CHECK;

/* Trains on x [n, d] with labels y [n] (0/1). Both classes must be present in the training part.
 * VNP_ERR_USAGE after a message when the data or options cannot train. */
int vnp_train_run(const vnp_train_opts *o, const float *x, const uint8_t *y, size_t n, int d, vnp_train_result *res)
    VNP_MUST_CHECK;

/* Writes p as safetensors F32 with the names vnp_mlp_load reads (eval-mode BatchNorm: running statistics) and the
 * given metadata pairs. */
int vnp_mlp_params_save(const vnp_mlp_params *p, const char *path, const vnp_meta_pair *meta, size_t nmeta)
    VNP_MUST_CHECK;

#endif
