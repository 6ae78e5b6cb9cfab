/* The VirNucPro MLP classifier: its model description, and the model in eval mode: Linear, BatchNorm1d with running statistics (eps 1e-5), ReLU,
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

/* The VirNucPro MLPClassifier (its 300_model.pth / 500_model.pth hold the whole pickled module). */
static const vnp_tensor_desc tensors[] = {
    {"hidden_layer.weight", {VNP_SZ_D, VNP_SZ_IN}, VNP_SLOT_FOLLOWS, 0},
    {"hidden_layer.bias", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {"bn1.weight", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {"bn1.bias", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {"bn1.running_mean", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {"bn1.running_var", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {"output_layer.weight", {VNP_SZ_CLASSES, VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {"output_layer.bias", {VNP_SZ_CLASSES}, VNP_SLOT_FOLLOWS, 0},
};

static const vnp_size_source sources[] = {
    {"hidden_layer.weight", 0, 0, VNP_SZ_D},
    {"hidden_layer.weight", 1, 0, VNP_SZ_IN},
    {"output_layer.weight", 0, 0, VNP_SZ_CLASSES},
};

static const vnp_model_variant variants[] = {
    {"VirNucPro-MLPClassifier", NULL, {[VNP_SZ_IN] = 3328, [VNP_SZ_D] = 512, [VNP_SZ_CLASSES] = 2}},
};

/* No config.json (model_type NULL): the file is the whole model. The MLP is not an encoder: no forward here, its
 * own loader below; its tensors land in the MLP's arena (slot "follows": copied, bound by name). */
const vnp_model_desc vnp_mlp_desc = {
    .name = "mlp", .title = "VirNucPro MLP", .kind = VNP_MODEL_MLP, .role = VNP_ROLE_CLASSIFIER,
    .detect = {"hidden_layer.weight", "output_layer.weight"},
    .sources = sources, .n_sources = VNP_COUNT(sources),
    .tensors = tensors, .n_tensors = VNP_COUNT(tensors),
    .variants = variants, .n_variants = VNP_COUNT(variants),
};

/* The arena slot of the tensor named `name` in l. */
static float *slot_of(vnp_mlp *m, const vnp_wlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0) return m->arena + l->v[i].offset;
    return NULL;
}

vnp_mlp *vnp_mlp_load_lookup(vnp_tensor_lookup find, const void *ctx, const char *where)
{
    vnp_model_info info;
    int rc = vnp_model_read(find, ctx, NULL, 0, where, &info);
    if (rc || info.desc != &vnp_mlp_desc) {
        if (rc != VNP_ERR_FORMAT)
            vnp_error("%s: not a VirNucPro MLP: tensors 'hidden_layer.weight' [hidden, in] and 'output_layer.weight' "
                      "[classes, hidden] are missing or not matrices", where);
        return NULL;
    }
    vnp_mlp *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->hidden = info.dim;
    m->in = info.in_features;
    m->classes = info.classes;
    vnp_wlist l = {0};
    int64_t sz[VNP_SZ_COUNT] = {[VNP_SZ_D] = info.dim, [VNP_SZ_IN] = info.in_features, [VNP_SZ_CLASSES] = info.classes};
    if (vnp_wlist_build(&vnp_mlp_desc, sz, 1, &l) || vnp_wlist_check(&l, find, ctx, where)) goto fail;
    m->arena = vnp_malloc_array(l.total, sizeof(float));
    if (!m->arena) goto fail;
    for (size_t i = 0; i < l.n; i++)
        if (vnp_tensor_to_f32(find(ctx, l.v[i].name), m->arena + l.v[i].offset)) {
            vnp_error("%s: cannot convert tensor '%s'", where, l.v[i].name);
            goto fail;
        }
    m->w1 = slot_of(m, &l, "hidden_layer.weight");
    m->b1 = slot_of(m, &l, "hidden_layer.bias");
    m->bn_g = slot_of(m, &l, "bn1.weight");
    m->bn_b = slot_of(m, &l, "bn1.bias");
    m->bn_mean = slot_of(m, &l, "bn1.running_mean");
    m->bn_var = slot_of(m, &l, "bn1.running_var");
    m->w2 = slot_of(m, &l, "output_layer.weight");
    m->b2 = slot_of(m, &l, "output_layer.bias");
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
