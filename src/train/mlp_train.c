/* The trainable VirNucPro MLP: parameters, one SGD step (training-mode BatchNorm, dropout, cross-entropy, backward,
 * momentum update with PyTorch's semantics), eval-mode scoring and saving as safetensors.
 *
 * Threads split the hidden units into fixed groups of UNITS_PER_TASK: every value of layer 1 and BatchNorm belongs to
 * one hidden unit, and is computed by one task in a fixed order, so results do not depend on the thread count. The
 * output layer (2 x hidden) is small and runs on the calling thread. */
#include "vnp/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UNITS_PER_TASK 16
#define BN_EPS 1e-5
#define BN_MOMENTUM 0.1

void vnp_mlp_params_free(vnp_mlp_params *p)
{
    if (!p) return;
    free(p->w1);
    free(p->b1);
    free(p->gamma);
    free(p->beta);
    free(p->rmean);
    free(p->rvar);
    free(p->w2);
    free(p->b2);
    memset(p, 0, sizeof *p);
}

static int params_alloc(vnp_mlp_params *p, int in, int hidden, int classes)
{
    memset(p, 0, sizeof *p);
    if (in <= 0 || hidden <= 0 || classes <= 0) return VNP_ERR_USAGE;
    p->in = in;
    p->hidden = hidden;
    p->classes = classes;
    size_t h = (size_t)hidden;
    p->w1 = vnp_calloc_array(h, (size_t)in * sizeof(float));
    p->b1 = vnp_calloc_array(h, sizeof(float));
    p->gamma = vnp_calloc_array(h, sizeof(float));
    p->beta = vnp_calloc_array(h, sizeof(float));
    p->rmean = vnp_calloc_array(h, sizeof(float));
    p->rvar = vnp_calloc_array(h, sizeof(float));
    p->w2 = vnp_calloc_array((size_t)classes, h * sizeof(float));
    p->b2 = vnp_calloc_array((size_t)classes, sizeof(float));
    if (!p->w1 || !p->b1 || !p->gamma || !p->beta || !p->rmean || !p->rvar || !p->w2 || !p->b2) {
        vnp_mlp_params_free(p);
        return VNP_ERR_NOMEM;
    }
    return VNP_OK;
}

int vnp_mlp_params_zero(vnp_mlp_params *p, int in, int hidden, int classes)
{
    return params_alloc(p, in, hidden, classes);
}

static void fill_uniform(float *v, size_t n, double bound, vnp_rng *r)
{
    for (size_t i = 0; i < n; i++) v[i] = (float)((2.0 * vnp_rng_uniform(r) - 1.0) * bound);
}

int vnp_mlp_params_init(vnp_mlp_params *p, int in, int hidden, int classes, vnp_rng *r)
{
    int rc = params_alloc(p, in, hidden, classes);
    if (rc) return rc;
    size_t h = (size_t)hidden;
    double b_in = 1.0 / sqrt((double)in), b_h = 1.0 / sqrt((double)hidden);
    fill_uniform(p->w1, h * (size_t)in, b_in, r);
    fill_uniform(p->b1, h, b_in, r);
    fill_uniform(p->w2, (size_t)classes * h, b_h, r);
    fill_uniform(p->b2, (size_t)classes, b_h, r);
    for (size_t j = 0; j < h; j++) {
        p->gamma[j] = 1.0f;
        p->rvar[j] = 1.0f;
    }
    return VNP_OK;
}

int vnp_mlp_params_copy(vnp_mlp_params *dst, const vnp_mlp_params *src)
{
    if (dst->in != src->in || dst->hidden != src->hidden || dst->classes != src->classes || !dst->w1) {
        vnp_mlp_params_free(dst);
        int rc = params_alloc(dst, src->in, src->hidden, src->classes);
        if (rc) return rc;
    }
    size_t h = (size_t)src->hidden;
    memcpy(dst->w1, src->w1, h * (size_t)src->in * sizeof(float));
    memcpy(dst->b1, src->b1, h * sizeof(float));
    memcpy(dst->gamma, src->gamma, h * sizeof(float));
    memcpy(dst->beta, src->beta, h * sizeof(float));
    memcpy(dst->rmean, src->rmean, h * sizeof(float));
    memcpy(dst->rvar, src->rvar, h * sizeof(float));
    memcpy(dst->w2, src->w2, (size_t)src->classes * h * sizeof(float));
    memcpy(dst->b2, src->b2, (size_t)src->classes * sizeof(float));
    dst->batches_tracked = src->batches_tracked;
    return VNP_OK;
}

/* Eight partial sums in a fixed order: the compiler can vectorise it without -ffast-math, and the result is the
 * same on every run and thread count. */
static float dot(const float *a, const float *b, int n)
{
    float acc[8] = {0};
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[k + l] * b[k + l];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; k < n; k++) s += a[k] * b[k];
    return s;
}

/* ---- one training step ---- */
typedef struct {
    vnp_mlp_params *p, *vel;
    const float *x;      /* [b, in] */
    size_t b;
    float lr, mom;
    const float *mask;   /* [b, hidden] 0 or 1/(1-dropout) */
    float *xhat;         /* [b, hidden] normalised pre-activations */
    float *act;          /* [b, hidden] after ReLU and dropout */
    float *invstd;       /* [hidden] */
    const float *dz2;    /* [b, classes] dLoss/dlogits */
    float *grow;         /* [tasks, in] one weight-row gradient per task */
    float *gcol;         /* [tasks, 2 * b] dLoss/dh and dLoss/dz1 of one hidden unit per task */
} step_ctx;

static void step_forward(void *vctx, size_t task)
{
    step_ctx *c = vctx;
    vnp_mlp_params *p = c->p;
    size_t H = (size_t)p->hidden, B = c->b;
    size_t j0 = task * UNITS_PER_TASK, j1 = j0 + UNITS_PER_TASK < H ? j0 + UNITS_PER_TASK : H;
    for (size_t j = j0; j < j1; j++) {
        const float *w = p->w1 + j * (size_t)p->in;
        double sum = 0, sq = 0;
        for (size_t r = 0; r < B; r++) {
            float z = p->b1[j] + dot(c->x + r * (size_t)p->in, w, p->in);
            c->xhat[r * H + j] = z;
            sum += z;
        }
        double mean = sum / (double)B;
        for (size_t r = 0; r < B; r++) {
            double d = c->xhat[r * H + j] - mean;
            sq += d * d;
        }
        double var = sq / (double)B; /* biased: normalisation; the running estimate is unbiased as in PyTorch */
        float inv = (float)(1.0 / sqrt(var + BN_EPS));
        c->invstd[j] = inv;
        for (size_t r = 0; r < B; r++) {
            float xh = (c->xhat[r * H + j] - (float)mean) * inv;
            float h = p->gamma[j] * xh + p->beta[j];
            c->xhat[r * H + j] = xh;
            c->act[r * H + j] = h > 0 ? h * c->mask[r * H + j] : 0.0f;
        }
        p->rmean[j] = (float)((1 - BN_MOMENTUM) * p->rmean[j] + BN_MOMENTUM * mean);
        p->rvar[j] = (float)((1 - BN_MOMENTUM) * p->rvar[j] + BN_MOMENTUM * var * (double)B / (double)(B - 1));
    }
}

static void sgd(float *w, float *v, float g, float lr, float mom)
{
    *v = mom * *v + g;
    *w -= lr * *v;
}

static void step_backward(void *vctx, size_t task)
{
    step_ctx *c = vctx;
    vnp_mlp_params *p = c->p, *vel = c->vel;
    size_t H = (size_t)p->hidden, B = c->b, C = (size_t)p->classes, in = (size_t)p->in;
    size_t j0 = task * UNITS_PER_TASK, j1 = j0 + UNITS_PER_TASK < H ? j0 + UNITS_PER_TASK : H;
    float *g = c->grow + task * in, *dh = c->gcol + task * 2 * B, *dz1 = dh + B;
    for (size_t j = j0; j < j1; j++) {
        float dgamma = 0, dbeta = 0, s1 = 0, s2 = 0;
        for (size_t r = 0; r < B; r++) {
            float dd = 0;
            for (size_t k = 0; k < C; k++) dd += c->dz2[r * C + k] * p->w2[k * H + j]; /* W2 before its update */
            float a = c->act[r * H + j];
            dh[r] = a > 0 ? dd * c->mask[r * H + j] : 0.0f;
            float xh = c->xhat[r * H + j];
            dgamma += dh[r] * xh;
            dbeta += dh[r];
            float dx = dh[r] * p->gamma[j];
            s1 += dx;
            s2 += dx * xh;
        }
        float db1 = 0, scale = c->invstd[j] / (float)B;
        for (size_t r = 0; r < B; r++) {
            float dx = dh[r] * p->gamma[j];
            dz1[r] = scale * ((float)B * dx - s1 - c->xhat[r * H + j] * s2);
            db1 += dz1[r];
        }
        memset(g, 0, in * sizeof(float));
        for (size_t r = 0; r < B; r++) {
            const float *xr = c->x + r * in;
            float d = dz1[r];
            for (size_t k = 0; k < in; k++) g[k] += d * xr[k];
        }
        float *w = p->w1 + j * in, *v = vel->w1 + j * in;
        for (size_t k = 0; k < in; k++) sgd(&w[k], &v[k], g[k], c->lr, c->mom);
        sgd(&p->b1[j], &vel->b1[j], db1, c->lr, c->mom);
        sgd(&p->gamma[j], &vel->gamma[j], dgamma, c->lr, c->mom);
        sgd(&p->beta[j], &vel->beta[j], dbeta, c->lr, c->mom);
    }
}

static size_t tasks_of(int hidden) { return ((size_t)hidden + UNITS_PER_TASK - 1) / UNITS_PER_TASK; }

/* Row softmax of the output layer over act [b, hidden]: probabilities into prob [b, classes], summed cross-entropy
 * of labels y (when not NULL) returned. */
static double output_layer(const vnp_mlp_params *p, const float *act, size_t b, const uint8_t *y, float *prob)
{
    size_t H = (size_t)p->hidden, C = (size_t)p->classes;
    double loss = 0;
    for (size_t r = 0; r < b; r++) {
        float *lg = prob + r * C;
        float mx = -INFINITY;
        for (size_t k = 0; k < C; k++) {
            lg[k] = p->b2[k] + dot(act + r * H, p->w2 + k * H, p->hidden);
            if (lg[k] > mx) mx = lg[k];
        }
        double se = 0;
        for (size_t k = 0; k < C; k++) se += exp((double)lg[k] - mx);
        double lse = mx + log(se);
        if (y) loss += lse - lg[y[r]];
        for (size_t k = 0; k < C; k++) lg[k] = (float)exp((double)lg[k] - lse);
    }
    return loss;
}

int vnp_mlp_train_step(vnp_mlp_params *p, vnp_mlp_params *vel, const float *x, const uint8_t *y, size_t b, double lr,
                       double momentum, double dropout, vnp_rng *r, vnp_pool *pool, double *loss)
{
    if (b < 2 || b > 4096) {
        vnp_error("a training batch needs 2 to 4096 rows (BatchNorm batch statistics), got %zu", b);
        return VNP_ERR_USAGE;
    }
    size_t H = (size_t)p->hidden, C = (size_t)p->classes, ntask = tasks_of(p->hidden);
    step_ctx c = {p, vel, x, b, (float)lr, (float)momentum, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    float *mask = vnp_malloc_array(b * H, sizeof(float));
    c.xhat = vnp_malloc_array(b * H, sizeof(float));
    c.act = vnp_malloc_array(b * H, sizeof(float));
    c.invstd = vnp_malloc_array(H, sizeof(float));
    float *prob = vnp_malloc_array(b * C, sizeof(float));
    c.grow = vnp_malloc_array(ntask, (size_t)p->in * sizeof(float));
    c.gcol = vnp_malloc_array(ntask, 2 * b * sizeof(float));
    float *gw2 = vnp_malloc_array(C * H + C, sizeof(float)); /* [classes, hidden] then [classes] */
    int rc = VNP_ERR_NOMEM;
    if (!mask || !c.xhat || !c.act || !c.invstd || !prob || !c.grow || !c.gcol || !gw2) goto out;
    float keep = (float)(1.0 / (1.0 - dropout));
    for (size_t i = 0; i < b * H; i++) mask[i] = dropout > 0 && vnp_rng_uniform(r) < dropout ? 0.0f : keep;
    c.mask = mask;
    vnp_pool_run(pool, ntask, step_forward, &c);
    p->batches_tracked++;
    *loss = output_layer(p, c.act, b, y, prob) / (double)b;
    for (size_t i = 0; i < b; i++) { /* prob becomes dLoss/dlogits = (softmax - onehot) / b */
        prob[i * C + y[i]] -= 1.0f;
        for (size_t k = 0; k < C; k++) prob[i * C + k] /= (float)b;
    }
    float *gb2 = gw2 + C * H;
    for (size_t k = 0; k < C; k++) {
        gb2[k] = 0;
        for (size_t j = 0; j < H; j++) gw2[k * H + j] = 0;
        for (size_t i = 0; i < b; i++) {
            float d = prob[i * C + k];
            gb2[k] += d;
            for (size_t j = 0; j < H; j++) gw2[k * H + j] += d * c.act[i * H + j];
        }
    }
    c.dz2 = prob;
    vnp_pool_run(pool, ntask, step_backward, &c);
    for (size_t i = 0; i < C * H; i++) sgd(&p->w2[i], &vel->w2[i], gw2[i], c.lr, c.mom);
    for (size_t k = 0; k < C; k++) sgd(&p->b2[k], &vel->b2[k], gb2[k], c.lr, c.mom);
    rc = VNP_OK;
out:
    free(mask);
    free(c.xhat);
    free(c.act);
    free(c.invstd);
    free(prob);
    free(c.grow);
    free(c.gcol);
    free(gw2);
    return rc;
}

/* ---- eval-mode scoring ---- */
typedef struct {
    const vnp_mlp_params *p;
    const float *x;
    size_t b;
    float *act; /* [b, hidden] */
} eval_ctx;

static void eval_hidden(void *vctx, size_t task)
{
    eval_ctx *c = vctx;
    const vnp_mlp_params *p = c->p;
    size_t H = (size_t)p->hidden;
    size_t j0 = task * UNITS_PER_TASK, j1 = j0 + UNITS_PER_TASK < H ? j0 + UNITS_PER_TASK : H;
    for (size_t j = j0; j < j1; j++) {
        const float *w = p->w1 + j * (size_t)p->in;
        float inv = (float)(1.0 / sqrt((double)p->rvar[j] + BN_EPS));
        for (size_t r = 0; r < c->b; r++) {
            float z = p->b1[j] + dot(c->x + r * (size_t)p->in, w, p->in);
            float h = p->gamma[j] * ((z - p->rmean[j]) * inv) + p->beta[j];
            c->act[r * H + j] = h > 0 ? h : 0.0f;
        }
    }
}

int vnp_mlp_params_score(const vnp_mlp_params *p, const float *x, const uint8_t *y, size_t n, vnp_pool *pool,
                         float *score, double *loss)
{
    enum { BLOCK = 1024 };
    size_t H = (size_t)p->hidden, C = (size_t)p->classes;
    float *act = vnp_malloc_array(BLOCK, H * sizeof(float));
    float *prob = vnp_malloc_array(BLOCK, C * sizeof(float));
    if (!act || !prob) {
        free(act);
        free(prob);
        return VNP_ERR_NOMEM;
    }
    double total = 0;
    for (size_t i = 0; i < n; i += BLOCK) {
        size_t b = n - i < BLOCK ? n - i : BLOCK;
        eval_ctx c = {p, x + i * (size_t)p->in, b, act};
        vnp_pool_run(pool, tasks_of(p->hidden), eval_hidden, &c);
        total += output_layer(p, act, b, y ? y + i : NULL, prob);
        for (size_t r = 0; r < b; r++) score[i + r] = prob[r * C + (C > 1 ? 1 : 0)];
    }
    free(act);
    free(prob);
    if (loss) *loss = n ? total / (double)n : NAN;
    return VNP_OK;
}

int vnp_mlp_params_save(const vnp_mlp_params *p, const char *path, const vnp_meta_pair *meta, size_t nmeta)
{
    int64_t h = p->hidden, in = p->in, c = p->classes;
    const struct {
        const char *name;
        int ndim;
        int64_t shape[2];
        const void *data;
        vnp_dtype dt;
    } spec[] = {
        {"hidden_layer.weight", 2, {h, in}, p->w1, VNP_DT_F32}, {"hidden_layer.bias", 1, {h, 0}, p->b1, VNP_DT_F32},
        {"bn1.weight", 1, {h, 0}, p->gamma, VNP_DT_F32},       {"bn1.bias", 1, {h, 0}, p->beta, VNP_DT_F32},
        {"bn1.running_mean", 1, {h, 0}, p->rmean, VNP_DT_F32}, {"bn1.running_var", 1, {h, 0}, p->rvar, VNP_DT_F32},
        {"bn1.num_batches_tracked", 0, {0, 0}, &p->batches_tracked, VNP_DT_I64},
        {"output_layer.weight", 2, {c, h}, p->w2, VNP_DT_F32}, {"output_layer.bias", 1, {c, 0}, p->b2, VNP_DT_F32},
    };
    enum { NT = sizeof spec / sizeof spec[0] };
    vnp_tensor t[NT];
    for (size_t i = 0; i < NT; i++) {
        int rc = vnp_tensor_init(&t[i], spec[i].name, spec[i].dt, spec[i].ndim, spec[i].shape, spec[i].data);
        if (rc) return rc;
    }
    return vnp_safetensors_write(path, t, NT, VNP_DT_COUNT, meta, nmeta);
}
