/* The VirNucPro MLP classifier in eval mode: Linear, BatchNorm1d with running statistics (eps 1e-5), ReLU,
 * (dropout = identity), Linear, softmax. The first GEMM uses SGEMM where available, the rest is plain C. */
#include "model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef VNP_HAVE_OPENBLAS
#include <cblas.h>
#endif

struct vnp_mlp {
    int in, hidden, classes;
    float *w1;    /* [hidden, in] hidden_layer.weight */
    float *b1;    /* [hidden] */
    float *bn_g, *bn_b, *bn_mean, *bn_var; /* [hidden] bn1.{weight,bias,running_mean,running_var} */
    float *w2;    /* [classes, hidden] output_layer.weight */
    float *b2;    /* [classes] */
    float *arena; /* all of the above */
};

void vnp_mlp_free(vnp_mlp *m)
{
    if (!m) return;
    free(m->arena);
    free(m);
}

int vnp_mlp_in_dim(const vnp_mlp *m) { return m->in; }
int vnp_mlp_classes(const vnp_mlp *m) { return m->classes; }

vnp_mlp *vnp_mlp_load_lookup(vnp_tensor_lookup find, const void *ctx, const char *where)
{
    const vnp_tensor *w1 = find(ctx, "hidden_layer.weight"), *w2 = find(ctx, "output_layer.weight");
    if (!w1 || w1->ndim != 2 || !w2 || w2->ndim != 2) {
        vnp_error("%s: not a VirNucPro MLP: tensors 'hidden_layer.weight' [hidden, in] and 'output_layer.weight' "
                  "[classes, hidden] are %s",
                  where, (!w1 || !w2) ? "missing" : "not matrices");
        return NULL;
    }
    vnp_mlp *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->hidden = (int)w1->shape[0];
    m->in = (int)w1->shape[1];
    m->classes = (int)w2->shape[0];
    int64_t nh = m->hidden, ni = m->in, nc = m->classes;
    vnp_wlist l = {0};
    int ok = vnp_wlist_add(&l, nh, ni, "hidden_layer.weight") != (size_t)-1;
    ok &= vnp_wlist_add(&l, nh, 0, "hidden_layer.bias") != (size_t)-1;
    ok &= vnp_wlist_add(&l, nh, 0, "bn1.weight") != (size_t)-1;
    ok &= vnp_wlist_add(&l, nh, 0, "bn1.bias") != (size_t)-1;
    ok &= vnp_wlist_add(&l, nh, 0, "bn1.running_mean") != (size_t)-1;
    ok &= vnp_wlist_add(&l, nh, 0, "bn1.running_var") != (size_t)-1;
    ok &= vnp_wlist_add(&l, nc, nh, "output_layer.weight") != (size_t)-1;
    ok &= vnp_wlist_add(&l, nc, 0, "output_layer.bias") != (size_t)-1;
    if (!ok || vnp_wlist_check(&l, find, ctx, where) || nc < 1) goto fail;
    m->arena = vnp_malloc_array(l.total, sizeof(float));
    if (!m->arena) goto fail;
    float **dst[8] = {&m->w1, &m->b1, &m->bn_g, &m->bn_b, &m->bn_mean, &m->bn_var, &m->w2, &m->b2};
    for (size_t i = 0; i < l.n; i++) {
        *dst[i] = m->arena + l.v[i].offset;
        if (vnp_tensor_to_f32(find(ctx, l.v[i].name), *dst[i])) {
            vnp_error("%s: cannot convert tensor '%s'", where, l.v[i].name);
            goto fail;
        }
    }
    vnp_wlist_free(&l);
    return m;
fail:
    vnp_wlist_free(&l);
    vnp_mlp_free(m);
    return NULL;
}

static const vnp_tensor *weights_lookup(const void *ctx, const char *name) { return vnp_weights_find(ctx, name); }

vnp_mlp *vnp_mlp_load(const vnp_weights *w)
{
    return vnp_mlp_load_lookup(weights_lookup, w, vnp_weights_path(w));
}

int vnp_mlp_argmax(const float *probs, int classes)
{
    int best = 0;
    for (int c = 1; c < classes; c++)
        if (probs[c] > probs[best]) best = c;
    return best;
}

/* Rows are processed in blocks so that the hidden activations stay small. */
#define MLP_BLOCK 256

int vnp_mlp_forward(const vnp_mlp *m, const float *x, size_t rows, float *probs)
{
    float *z = vnp_malloc_array((size_t)MLP_BLOCK * (size_t)m->hidden, sizeof(float));
    double *logit = vnp_malloc_array((size_t)m->classes, sizeof(double));
    if (!z || !logit) {
        free(z);
        free(logit);
        return VNP_ERR_NOMEM;
    }
    for (size_t r0 = 0; r0 < rows; r0 += MLP_BLOCK) {
        int nb = rows - r0 < MLP_BLOCK ? (int)(rows - r0) : MLP_BLOCK;
        const float *xb = x + r0 * (size_t)m->in;
#ifdef VNP_HAVE_OPENBLAS
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, m->hidden, m->in, 1.0f, xb, m->in, m->w1, m->in,
                    0.0f, z, m->hidden);
#else
        for (int r = 0; r < nb; r++)
            for (int j = 0; j < m->hidden; j++) {
                double s = 0.0;
                for (int i = 0; i < m->in; i++) s += (double)xb[(size_t)r * m->in + i] * m->w1[(size_t)j * m->in + i];
                z[(size_t)r * m->hidden + j] = (float)s;
            }
#endif
        for (int r = 0; r < nb; r++) {
            float *zr = z + (size_t)r * m->hidden;
            for (int j = 0; j < m->hidden; j++) {
                float v = zr[j] + m->b1[j];
                v = (v - m->bn_mean[j]) / sqrtf(m->bn_var[j] + 1e-5f) * m->bn_g[j] + m->bn_b[j];
                zr[j] = v > 0.0f ? v : 0.0f;
            }
            double mx = -INFINITY, sum = 0.0;
            for (int c = 0; c < m->classes; c++) {
                double s = m->b2[c];
                for (int j = 0; j < m->hidden; j++) s += (double)zr[j] * m->w2[(size_t)c * m->hidden + j];
                logit[c] = (float)s;
                if (logit[c] > mx) mx = logit[c];
            }
            for (int c = 0; c < m->classes; c++) sum += logit[c] = exp(logit[c] - mx);
            float *pr = probs + (r0 + (size_t)r) * (size_t)m->classes;
            for (int c = 0; c < m->classes; c++) pr[c] = (float)(logit[c] / sum);
        }
    }
    free(z);
    free(logit);
    return VNP_OK;
}
