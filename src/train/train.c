/* The training loop of VirNucPro's train.py: seeded split into training and validation rows, shuffled batches each
 * epoch, StepLR, validation metrics per epoch, early stopping on the validation loss, best model kept. */
#include "vnp/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vnp_train_opts_init(vnp_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = VNP_TRAIN_DEFAULT_EPOCHS;
    o->lr = VNP_TRAIN_DEFAULT_LR;
    o->momentum = 0.9;
    o->batch_size = VNP_TRAIN_DEFAULT_BATCH_SIZE;
    o->step_size = 10;
    o->gamma = 0.85;
    o->dropout = 0.5;
    o->hidden = 512;
    o->val_fraction = VNP_TRAIN_DEFAULT_VAL_FRACTION;
    o->patience = VNP_TRAIN_DEFAULT_PATIENCE;
    o->seed = VNP_TRAIN_DEFAULT_SEED;
}

void vnp_train_result_free(vnp_train_result *r)
{
    if (!r) return;
    vnp_mlp_params_free(&r->best);
    free(r->log);
    memset(r, 0, sizeof *r);
}

static void shuffle(size_t *idx, size_t n, vnp_rng *r)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = vnp_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* Copies rows idx[0..n) of x/y into the contiguous xb/yb. */
static void gather(const float *x, const uint8_t *y, int d, const size_t *idx, size_t n, float *xb, uint8_t *yb)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(xb + i * (size_t)d, x + idx[i] * (size_t)d, (size_t)d * sizeof(float));
        yb[i] = y[idx[i]];
    }
}

static int check_opts(const vnp_train_opts *o, size_t n_train, size_t n_val, size_t pos, size_t neg)
{
    if (o->epochs < 1 || o->batch_size < 2 || o->batch_size > 4096 || !(o->lr > 0) || !(o->momentum >= 0) ||
        !(o->dropout >= 0 && o->dropout < 1) || o->hidden < 1 || o->step_size < 1 || !(o->gamma > 0)) {
        vnp_error("training options out of range (epochs >= 1, batch size 2..4096, lr > 0, dropout in [0, 1))");
        return VNP_ERR_USAGE;
    }
    if (pos == 0 || neg == 0) {
        vnp_error("the training rows hold one class only (%zu viral, %zu other): both are needed", pos, neg);
        return VNP_ERR_USAGE;
    }
    if (n_val == 0 || n_train < 2) {
        vnp_error("%zu training and %zu validation rows: too few to train and validate (val fraction %g)", n_train,
                  n_val, o->val_fraction);
        return VNP_ERR_USAGE;
    }
    return VNP_OK;
}

int vnp_train_run(const vnp_train_opts *o, const float *x, const uint8_t *y, size_t n, int d, vnp_train_result *res)
{
    memset(res, 0, sizeof *res);
    if (!(o->val_fraction > 0 && o->val_fraction < 1)) {
        vnp_error("the validation fraction must be in (0, 1), got %g", o->val_fraction);
        return VNP_ERR_USAGE;
    }
    vnp_rng rng;
    vnp_rng_seed(&rng, o->seed);
    size_t n_val = (size_t)llround((double)n * o->val_fraction), n_train = n - (n_val < n ? n_val : n);
    if (n_val > n) n_val = n;
    size_t *idx = vnp_malloc_array(n ? n : 1, sizeof *idx);
    if (!idx) return VNP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    shuffle(idx, n, &rng); /* the split: the last n_val rows of a seeded permutation are held out */
    size_t pos = 0;
    for (size_t i = 0; i < n_train; i++) pos += y[idx[i]] != 0;
    int rc = check_opts(o, n_train, n_val, pos, n_train - pos);
    if (rc) {
        free(idx);
        return rc;
    }
    size_t bs = (size_t)o->batch_size;
    float *xv = vnp_malloc_array(n_val, (size_t)d * sizeof(float));
    uint8_t *yv = malloc(n_val);
    float *xb = vnp_malloc_array(bs, (size_t)d * sizeof(float));
    uint8_t *yb = malloc(bs);
    float *score = vnp_malloc_array(n_val, sizeof(float));
    res->log = vnp_calloc_array((size_t)o->epochs, sizeof *res->log);
    vnp_pool *pool = vnp_pool_create(o->threads);
    vnp_mlp_params p = {0}, vel = {0};
    rc = VNP_ERR_NOMEM;
    if (!xv || !yv || !xb || !yb || !score || !res->log || !pool) goto out;
    gather(x, y, d, idx + n_train, n_val, xv, yv);
    /* velocity buffers start at zero: PyTorch's first step sets buf = grad, the same as 0.9 * 0 + grad */
    if ((rc = vnp_mlp_params_init(&p, d, o->hidden, 2, &rng)) || (rc = vnp_mlp_params_zero(&vel, d, o->hidden, 2)))
        goto out;
    res->n_train = n_train;
    res->n_val = n_val;
    double best = INFINITY;
    int since_best = 0;
    for (int ep = 0; ep < o->epochs; ep++) {
        double lr = o->lr * pow(o->gamma, (double)(ep / o->step_size));
        shuffle(idx, n_train, &rng);
        double loss_sum = 0;
        size_t seen = 0;
        for (size_t i = 0; i < n_train; i += bs) {
            size_t b = n_train - i < bs ? n_train - i : bs;
            if (b < 2) break; /* a last batch of one row has no batch statistics (PyTorch refuses it too) */
            gather(x, y, d, idx + i, b, xb, yb);
            double loss;
            if ((rc = vnp_mlp_train_step(&p, &vel, xb, yb, b, lr, o->momentum, o->dropout, &rng, pool, &loss)))
                goto out;
            loss_sum += loss * (double)b;
            seen += b;
        }
        vnp_epoch_log *L = &res->log[ep];
        L->epoch = ep + 1;
        L->lr = lr;
        L->train_loss = seen ? loss_sum / (double)seen : NAN;
        if ((rc = vnp_mlp_params_score(&p, xv, yv, n_val, pool, score, &L->val_loss))) goto out;
        vnp_binary_metrics_compute(score, yv, n_val, &L->val);
        res->epochs_run = ep + 1;
        if (!o->quiet)
            fprintf(stderr, "epoch %3d  lr %.3g  train loss %.5f  val loss %.5f  acc %.4f  prec %.4f  rec %.4f  "
                            "F1 %.4f  AUROC %.4f\n",
                    L->epoch, lr, L->train_loss, L->val_loss, L->val.accuracy, L->val.precision, L->val.recall,
                    L->val.f1, L->val.auroc);
        if (L->val_loss < best || !res->best.w1) {
            best = L->val_loss;
            res->best_epoch = ep + 1;
            since_best = 0;
            if ((rc = vnp_mlp_params_copy(&res->best, &p))) goto out;
        } else if (o->patience > 0 && ++since_best >= o->patience) {
            break;
        }
    }
    rc = VNP_OK;
out:
    vnp_mlp_params_free(&p);
    vnp_mlp_params_free(&vel);
    vnp_pool_free(pool);
    free(idx);
    free(xv);
    free(yv);
    free(xb);
    free(yb);
    free(score);
    if (rc) vnp_train_result_free(res);
    return rc;
}
