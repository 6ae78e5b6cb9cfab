/* Training tests: exact AUROC on hand cases, the backward pass of one SGD step against finite differences of the
 * training-mode loss, BatchNorm running statistics by hand, PyTorch's momentum rule, byte-identical models for a
 * seed whatever the thread count, and a separable synthetic set learned to high accuracy. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/model.h"
#include "vnp/train.h"
#include "vnp/weights.h"
#include "vnp_test.h"

#include <unistd.h>

static char tmpdir[] = "/tmp/vnp_test_train_XXXXXX";

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void test_auroc(void)
{
    const float s1[] = {0.1f, 0.4f, 0.35f, 0.8f};
    const uint8_t y1[] = {0, 0, 1, 1};
    CHECK_NEAR(vnp_auroc(s1, y1, 4), 0.75, 1e-12); /* pairs (pos > neg): 0.35>0.1, 0.8>0.1, 0.8>0.4 = 3 of 4 */
    const float s2[] = {0.5f, 0.5f, 0.5f, 0.5f};
    const uint8_t y2[] = {0, 1, 0, 1};
    CHECK_NEAR(vnp_auroc(s2, y2, 4), 0.5, 1e-12); /* all tied: every pair counts one half */
    const float s3[] = {0.2f, 0.6f, 0.6f, 0.9f};
    const uint8_t y3[] = {0, 0, 1, 1};
    CHECK_NEAR(vnp_auroc(s3, y3, 4), 0.875, 1e-12); /* 1 + 0.5 (tie) + 1 + 1 = 3.5 of 4 */
    const float s4[] = {0.9f, 0.8f, 0.1f};
    const uint8_t y4[] = {0, 0, 1};
    CHECK_NEAR(vnp_auroc(s4, y4, 3), 0.0, 1e-12);
    const uint8_t y5[] = {1, 1, 1};
    CHECK(isnan(vnp_auroc(s4, y5, 3)));
    vnp_binary_metrics m;
    vnp_binary_metrics_compute(s1, y1, 4, &m); /* predictions: 0 0 0 1 */
    CHECK_EQ_INT(m.tp, 1);
    CHECK_EQ_INT(m.fn, 1);
    CHECK_EQ_INT(m.tn, 2);
    CHECK_EQ_INT(m.fp, 0);
    CHECK_NEAR(m.accuracy, 0.75, 1e-12);
    CHECK_NEAR(m.precision, 1.0, 1e-12);
    CHECK_NEAR(m.recall, 0.5, 1e-12);
    CHECK_NEAR(m.f1, 2.0 / 3.0, 1e-12);
}

/* Every trainable value of p, in one list. */
static size_t trainables(vnp_mlp_params *p, float **v)
{
    size_t n = 0, h = (size_t)p->hidden;
    for (size_t i = 0; i < h * (size_t)p->in; i++) v[n++] = &p->w1[i];
    for (size_t i = 0; i < h; i++) v[n++] = &p->b1[i];
    for (size_t i = 0; i < h; i++) v[n++] = &p->gamma[i];
    for (size_t i = 0; i < h; i++) v[n++] = &p->beta[i];
    for (size_t i = 0; i < 2 * h; i++) v[n++] = &p->w2[i];
    for (size_t i = 0; i < 2; i++) v[n++] = &p->b2[i];
    return n;
}

/* Training-mode loss of p on the batch without changing p (lr 0; the running statistics are restored). */
static double loss_at(vnp_mlp_params *p, const float *x, const uint8_t *y, size_t b, vnp_pool *pool)
{
    vnp_mlp_params q = {0}, vel = {0};
    vnp_rng r;
    vnp_rng_seed(&r, 1);
    double loss = NAN;
    if (vnp_mlp_params_copy(&q, p) == 0 && vnp_mlp_params_zero(&vel, p->in, p->hidden, 2) == 0 &&
        vnp_mlp_train_step(&q, &vel, x, y, b, 0.0, 0.0, 0.0, &r, pool, &loss) != 0)
        loss = NAN;
    vnp_mlp_params_free(&q);
    vnp_mlp_params_free(&vel);
    return loss;
}

static void test_step_gradient(void)
{
    enum { IN = 3, H = 4, B = 5 };
    vnp_rng r;
    vnp_rng_seed(&r, 42);
    vnp_mlp_params p = {0}, q = {0}, vel = {0};
    CHECK(vnp_mlp_params_init(&p, IN, H, 2, &r) == 0);
    for (int j = 0; j < H; j++) { /* move BN away from the identity so that every term matters */
        p.gamma[j] = 0.5f + 0.25f * (float)j;
        p.beta[j] = 0.3f - 0.1f * (float)j;
    }
    float x[B * IN];
    for (int i = 0; i < B * IN; i++) x[i] = (float)(2.0 * vnp_rng_uniform(&r) - 1.0);
    const uint8_t y[B] = {0, 1, 1, 0, 1};
    vnp_pool *pool = vnp_pool_create(2);
    CHECK(vnp_mlp_params_copy(&q, &p) == 0);
    CHECK(vnp_mlp_params_zero(&vel, IN, H, 2) == 0);
    double loss;
    const double lr = 1.0;
    CHECK(vnp_mlp_train_step(&q, &vel, x, y, B, lr, 0.9, 0.0, &r, pool, &loss) == 0);
    CHECK_NEAR(loss, loss_at(&p, x, y, B, pool), 1e-6);
    /* the step moved each value by -lr * grad (first step: velocity = grad); compare with central differences */
    float *vp[H * IN + 5 * H + 2], *vq[H * IN + 5 * H + 2], *vv[H * IN + 5 * H + 2];
    size_t n = trainables(&p, vp);
    trainables(&q, vq);
    trainables(&vel, vv);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float keep = *vp[i], h = 1e-2f;
        *vp[i] = keep + h;
        double up = loss_at(&p, x, y, B, pool);
        *vp[i] = keep - h;
        double down = loss_at(&p, x, y, B, pool);
        *vp[i] = keep;
        double fd = (up - down) / (2.0 * h), step = -(double)(*vq[i] - keep) / lr;
        if (fabs(fd - step) > 2e-3 + 2e-2 * fabs(fd) || fabs(*vv[i] - step) > 1e-5) {
            bad++;
            fprintf(stderr, "param %zu: finite difference %.6g, step %.6g, velocity %.6g\n", i, fd, step, *vv[i]);
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* BatchNorm running statistics, by hand for unit 0: momentum 0.1, unbiased variance */
    double z[B], mean = 0, var = 0;
    for (int b = 0; b < B; b++) {
        z[b] = p.b1[0];
        for (int k = 0; k < IN; k++) z[b] += (double)p.w1[k] * x[b * IN + k];
        mean += z[b] / B;
    }
    for (int b = 0; b < B; b++) var += (z[b] - mean) * (z[b] - mean) / (B - 1);
    CHECK_NEAR(q.rmean[0], 0.1 * mean, 1e-6);
    CHECK_NEAR(q.rvar[0], 0.9 + 0.1 * var, 1e-6);
    CHECK_EQ_INT(q.batches_tracked, 1);
    /* momentum (PyTorch): v = 0.9 v + g; w -= lr v. A second step at lr 0 only updates the velocity: v2 = 0.9 v1 + g2 */
    vnp_mlp_params q2 = {0}, vel2 = {0};
    CHECK(vnp_mlp_params_copy(&q2, &q) == 0 && vnp_mlp_params_copy(&vel2, &vel) == 0);
    CHECK(vnp_mlp_train_step(&q2, &vel2, x, y, B, 0.0, 0.9, 0.0, &r, pool, &loss) == 0);
    vnp_mlp_params vz = {0}, q3 = {0};
    CHECK(vnp_mlp_params_zero(&vz, IN, H, 2) == 0 && vnp_mlp_params_copy(&q3, &q) == 0);
    CHECK(vnp_mlp_train_step(&q3, &vz, x, y, B, 0.0, 0.9, 0.0, &r, pool, &loss) == 0); /* vz = g2 */
    CHECK_NEAR(vel2.w1[0], 0.9 * vel.w1[0] + vz.w1[0], 1e-6);
    CHECK_NEAR(vel2.b2[1], 0.9 * vel.b2[1] + vz.b2[1], 1e-6);
    CHECK(vnp_mlp_train_step(&q3, &vz, x, y, 1, 0.1, 0.9, 0.0, &r, pool, &loss) != 0); /* one row: no batch stats */
    vnp_mlp_params_free(&p);
    vnp_mlp_params_free(&q);
    vnp_mlp_params_free(&vel);
    vnp_mlp_params_free(&q2);
    vnp_mlp_params_free(&vel2);
    vnp_mlp_params_free(&vz);
    vnp_mlp_params_free(&q3);
    vnp_pool_free(pool);
}

enum { N = 800, D = 24 };
static float xs[N * D];
static uint8_t ys[N];

/* Gaussian rows labelled by the side of a fixed random hyperplane through the origin. */
static void make_set(void)
{
    vnp_rng r;
    vnp_rng_seed(&r, 2026);
    double w[D];
    for (int k = 0; k < D; k++) w[k] = 2.0 * vnp_rng_uniform(&r) - 1.0;
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int k = 0; k < D; k++) {
            double u1 = vnp_rng_uniform(&r) + 1e-12, u2 = vnp_rng_uniform(&r); /* Box-Muller */
            xs[i * D + k] = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
            s += w[k] * xs[i * D + k];
        }
        ys[i] = s > 0;
    }
}

static int train_to(const char *path, int threads, uint64_t seed, int epochs, vnp_train_result *keep)
{
    vnp_train_opts o;
    vnp_train_opts_init(&o);
    o.threads = threads;
    o.seed = seed;
    o.epochs = epochs;
    o.lr = 0.01;
    o.quiet = 1;
    vnp_train_result res;
    int rc = vnp_train_run(&o, xs, ys, N, D, &res);
    if (rc) return rc;
    const vnp_meta_pair meta[] = {{"seed", "x"}};
    rc = vnp_mlp_params_save(&res.best, path, meta, 1);
    if (keep) *keep = res;
    else vnp_train_result_free(&res);
    return rc;
}

static int same_bytes(const char *a, const char *b)
{
    vnp_buf x = {0}, y = {0};
    int same = vnp_read_file(a, 1 << 26, &x) == 0 && vnp_read_file(b, 1 << 26, &y) == 0 && x.len == y.len &&
               memcmp(x.data, y.data, x.len) == 0;
    vnp_buf_free(&x);
    vnp_buf_free(&y);
    return same;
}

static void test_train(void)
{
    make_set();
    vnp_train_result res;
    CHECK(train_to(tpath("a.safetensors"), 2, 7, 25, &res) == 0);
    const vnp_epoch_log *best = &res.log[res.best_epoch - 1];
    CHECK_MSG(best->val.accuracy >= 0.95, "val accuracy %.4f", best->val.accuracy);
    CHECK_MSG(best->val.auroc >= 0.98, "val AUROC %.4f", best->val.auroc);
    CHECK_EQ_INT(res.n_val, 80);
    CHECK_EQ_INT(res.n_train, 720);
    vnp_train_result_free(&res);
    CHECK(train_to(tpath("b.safetensors"), 2, 7, 4, NULL) == 0);
    CHECK(train_to(tpath("c.safetensors"), 2, 7, 4, NULL) == 0);
    CHECK(train_to(tpath("d.safetensors"), 1, 7, 4, NULL) == 0);
    CHECK(train_to(tpath("e.safetensors"), 3, 7, 4, NULL) == 0);
    CHECK(train_to(tpath("f.safetensors"), 2, 8, 4, NULL) == 0);
    CHECK(same_bytes(tpath("b.safetensors"), tpath("c.safetensors")));
    CHECK(same_bytes(tpath("b.safetensors"), tpath("d.safetensors")));
    CHECK(same_bytes(tpath("b.safetensors"), tpath("e.safetensors")));
    CHECK(!same_bytes(tpath("b.safetensors"), tpath("f.safetensors")));
    /* the saved file is a classifier model/ loads, scoring as the trainer does */
    vnp_weights *w = vnp_weights_open(tpath("a.safetensors"));
    vnp_mlp *m = w ? vnp_mlp_load(w) : NULL;
    CHECK(m != NULL);
    if (m) {
        CHECK_EQ_INT(vnp_mlp_in_dim(m), D);
        CHECK_EQ_INT(vnp_mlp_classes(m), 2);
        float probs[2 * 4];
        CHECK(vnp_mlp_forward(m, xs, 4, probs) == 0);
        int right = 0;
        for (int i = 0; i < 4; i++) right += (probs[2 * i + 1] > 0.5f) == ys[i];
        CHECK(right >= 3);
    }
    vnp_mlp_free(m);
    vnp_weights_close(w);
    /* refusals: one class only; too few rows */
    vnp_train_opts o;
    vnp_train_opts_init(&o);
    o.quiet = 1;
    uint8_t ones[N];
    memset(ones, 1, N);
    CHECK(vnp_train_run(&o, xs, ones, N, D, &res) == VNP_ERR_USAGE);
    CHECK(vnp_train_run(&o, xs, ys, 2, D, &res) == VNP_ERR_USAGE);
    o.val_fraction = 0;
    CHECK(vnp_train_run(&o, xs, ys, N, D, &res) == VNP_ERR_USAGE);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    vnp_log_set_level(VNP_LOG_QUIET);
    test_auroc();
    test_step_gradient();
    test_train();
    const char *names[] = {"a", "b", "c", "d", "e", "f"};
    for (size_t i = 0; i < 6; i++) {
        char n[32];
        snprintf(n, sizeof n, "%s.safetensors", names[i]);
        unlink(tpath(n));
    }
    rmdir(tmpdir);
    VNP_TEST_END();
}
