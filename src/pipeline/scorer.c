/* The scorer built from model files: DNABERT-S and ESM-2 encoders on packed batches (First-Fit-Decreasing into a
 * token budget), and the VirNucPro MLP. Tokenization, packing and scatter of pooled rows back to input order live
 * here; the forward passes are model/'s. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/pipeline.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vnp/backend.h"
#include "vnp/env.h"
#include "vnp/model.h"
#include "vnp/tok.h"
#include "vnp/weights.h"

typedef struct scorer_ctx scorer_ctx;
typedef struct {
    scorer_ctx *c;
    const vnp_weights *w; /* kept open (mapped) while a twin may still be needed */
} twin_src;

struct scorer_ctx {
    vnp_backend *be;
    vnp_weights *w_esm, *w_dna, *w_cls;
    vnp_encoder *esm, *dna;
    vnp_mlp *mlp;
    vnp_bpe *bpe;
    size_t budget;         /* tokens per packed batch */
    size_t budget_dna, budget_esm; /* each encoder's (the budget unless given) */
    int padded;            /* VIRNUCPRO_DISABLE_PACKING: padded batches, for comparison */
    atomic_size_t unknown; /* protein characters outside the ESM-2 alphabet (tokenize runs on several threads) */
    char *esm_path, *dna_path, *cls_path;
    char *device;          /* for the FP32 twin backend, opened on first NaN/Inf batch (NULL: auto) */
    int threads;
    vnp_backend *be32;
    twin_src tw_esm, tw_dna;
    /* --precision fp8: the self-check of the first frames (fp8_checking while it runs) */
    int fp8_asked, fp8_checking;
    vnp_fp8_check fp8;
    vnp_window chk_win; /* the checked frames, run again in FP16 */
    float *chk_buf;     /* their FP16 features, then feature rows for the classifier */
    size_t chk_cap;     /* floats */
};

/* The FP32 twin of one encoder, on a shared FP32 backend of the same device (vnp_encoder_twin_fn). */
static vnp_encoder *make_twin(void *ctx)
{
    twin_src *t = ctx;
    scorer_ctx *c = t->c;
    if (!c->be32 && vnp_backend_open_for(c->device, c->threads, "fp32", &c->be32)) return NULL;
    return vnp_encoder_load(c->be32, t->w);
}

static int tokenize(void *vctx, int protein, const char *const *seqs, const size_t *lens, size_t n, vnp_window *w)
{
    scorer_ctx *c = vctx;
    vnp_tokens t = {0};
    size_t unknown = 0;
    int rc = VNP_OK;
    for (size_t i = 0; i < n && rc == VNP_OK; i++) {
        t.n = 0;
        rc = protein ? vnp_esm_encode(seqs[i], lens[i], &t, &unknown) : vnp_bpe_encode(c->bpe, seqs[i], lens[i], &t);
        if (!rc && t.n > INT32_MAX / 2) rc = VNP_ERR_UNSUPPORTED;
        if (!rc) rc = vnp_window_add(w, t.ids, (int32_t)t.n);
    }
    atomic_fetch_add(&c->unknown, unknown);
    vnp_tokens_free(&t);
    return rc;
}

static int run_window(scorer_ctx *c, vnp_encoder *e, vnp_window *w, float *out, size_t ld)
{
    size_t budget = e == c->esm ? c->budget_esm : c->budget_dna;
    return c->padded ? vnp_window_run_padded(e, w, budget, out, ld) : vnp_window_run(e, w, budget, out, ld);
}

static void fp8_report(const scorer_ctx *c, const char *verdict)
{
    const vnp_fp8_check *k = &c->fp8;
    vnp_info("fp8 self-check: %ld frames, ESM-2 feature cosine FP8 vs FP16 min %.5f mean %.5f; labels %ld of %ld "
             "agree (%ld flips where the FP16 score is more than %.2f from 0.5): %s",
             k->frames, k->min_cos, k->frames ? k->sum_cos / (double)k->frames : 1.0, k->labeled - k->flips,
             k->labeled, k->confident_flips, VNP_FP8_LABEL_MARGIN, verdict);
}

/* The classifier's probabilities of the first k rows with the checked protein features prot (stride dp) beside the
 * DNA features of the same rows (out - d_dna, stride ld: the block puts DNA first, protein after, and embeds DNA
 * first). rows is scratch for k feature rows. */
static int classify_with(scorer_ctx *c, const float *out, size_t ld, const float *prot, size_t dp, size_t k,
                         float *rows, float *probs)
{
    size_t dd = (size_t)vnp_encoder_cfg(c->dna)->dim, dpr = (size_t)vnp_encoder_cfg(c->esm)->dim;
    for (size_t i = 0; i < k; i++) {
        memcpy(rows + i * (dd + dpr), out - dd + i * ld, dd * sizeof(float));
        memcpy(rows + i * (dd + dpr) + dd, prot + i * dp, dpr * sizeof(float));
    }
    return vnp_mlp_forward(c->mlp, rows, k, probs);
}

/* ESM-2 in FP8 over a window while the self-check runs: its first frames (up to VNP_FP8_CHECK_FRAMES in the run)
 * again in FP16, features and labels compared; on a failed check the window is redone and the run continues in
 * FP16. */
static int embed_checked(scorer_ctx *c, vnp_window *w, float *out, size_t ld)
{
    int rc = run_window(c, c->esm, w, out, ld);
    size_t k = w->n, left = (size_t)(VNP_FP8_CHECK_FRAMES - c->fp8.frames);
    if (rc || k == 0) return rc;
    if (k > left) k = left;
    size_t dd = (size_t)vnp_encoder_cfg(c->dna)->dim, dp = (size_t)vnp_encoder_cfg(c->esm)->dim;
    size_t need = k * dp + (c->mlp ? k * (dd + dp) + 4 * k : 0);
    if (need > c->chk_cap) {
        float *p = vnp_realloc_array(c->chk_buf, need, sizeof(float));
        if (!p) return VNP_ERR_NOMEM;
        c->chk_buf = p;
        c->chk_cap = need;
    }
    vnp_window_clear(&c->chk_win);
    for (size_t i = 0; i < k && !rc; i++) rc = vnp_window_add(&c->chk_win, w->ids + w->start[i], w->len[i]);
    vnp_encoder_set_fp8(c->esm, 0);
    if (!rc) rc = run_window(c, c->esm, &c->chk_win, c->chk_buf, dp);
    vnp_encoder_set_fp8(c->esm, 1);
    if (rc) return rc;
    vnp_fp8_check_features(&c->fp8, out, ld, c->chk_buf, dp, k, (int)dp);
    if (c->mlp) {
        float *rows = c->chk_buf + k * dp, *p16 = rows + k * (dd + dp), *p8 = p16 + 2 * k;
        if ((rc = classify_with(c, out, ld, c->chk_buf, dp, k, rows, p16)) ||
            (rc = classify_with(c, out, ld, out, ld, k, rows, p8)))
            return rc;
        vnp_fp8_check_labels(&c->fp8, p16, p8, k);
    }
    if (vnp_fp8_check_verdict(&c->fp8)) {
        c->fp8_checking = 0;
        fp8_report(c, "FAILED");
        vnp_warn("fp8 self-check failed (minimum cosine under %.2f, or a confident label flipped): ESM-2 continues "
                 "in FP16 for the rest of the run (run_summary.json, fp8_self_check)", VNP_FP8_MIN_COSINE);
        vnp_encoder_set_fp8(c->esm, 0);
        return run_window(c, c->esm, w, out, ld);
    }
    if (c->fp8.frames >= VNP_FP8_CHECK_FRAMES) {
        c->fp8_checking = 0;
        fp8_report(c, "passed, FP8 stays on");
    }
    return VNP_OK;
}

static int embed(void *vctx, int protein, vnp_window *w, float *out, size_t ld)
{
    scorer_ctx *c = vctx;
    if (protein && c->fp8_checking) return embed_checked(c, w, out, ld);
    return run_window(c, protein ? c->esm : c->dna, w, out, ld);
}

static int fp8_check(void *vctx, vnp_fp8_check *out)
{
    scorer_ctx *c = vctx;
    *out = c->fp8;
    return c->fp8_asked;
}

static int bind(void *vctx)
{
    scorer_ctx *c = vctx;
    return c->be->ops->bind(c->be);
}

static int classify(void *vctx, const float *features, size_t n, float *probs)
{
    scorer_ctx *c = vctx;
    if (!c->mlp) { /* features only (embed-frames): no classifier, an even score */
        for (size_t i = 0; i < 2 * n; i++) probs[i] = 0.5f;
        return VNP_OK;
    }
    return vnp_mlp_forward(c->mlp, features, n, probs);
}

/* tokenizer.json of a DNABERT-S folder, or beside a weights file. */
static char *tokenizer_path(const char *dnabert)
{
    struct stat st;
    size_t n = strlen(dnabert) + 32;
    char *p = malloc(n);
    if (!p) return NULL;
    if (stat(dnabert, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(p, n, "%s/tokenizer.json", dnabert);
    } else {
        const char *slash = strrchr(dnabert, '/');
        if (slash)
            snprintf(p, n, "%.*s/tokenizer.json", (int)(slash - dnabert), dnabert);
        else
            snprintf(p, n, "tokenizer.json");
    }
    return p;
}

static long fp32_reruns(void *ctx)
{
    scorer_ctx *c = ctx;
    return vnp_encoder_fp32_reruns(c->esm) + vnp_encoder_fp32_reruns(c->dna);
}

/* Tokens per packed batch when not given: the loader's rule for both encoders. */
static size_t auto_budget(scorer_ctx *c)
{
    vnp_encoder *const encs[2] = {c->dna, c->esm};
    return vnp_encoders_auto_budget(c->be, encs, 2);
}

int vnp_scorer_open(const vnp_scorer_opts *o, vnp_scorer *s)
{
    memset(s, 0, sizeof *s);
    scorer_ctx *c = calloc(1, sizeof *c);
    if (!c) return VNP_ERR_NOMEM;
    int rc = VNP_ERR_FORMAT;
    char *tok = NULL;
    c->esm_path = vnp_strdup(o->esm);
    c->dna_path = vnp_strdup(o->dnabert);
    c->cls_path = o->classifier ? vnp_strdup(o->classifier) : NULL;
    c->device = o->device ? vnp_strdup(o->device) : NULL;
    if (!c->esm_path || !c->dna_path || (o->classifier && !c->cls_path) || (o->device && !c->device)) {
        rc = VNP_ERR_NOMEM;
        goto fail;
    }
    if ((rc = vnp_backend_open_for(o->device, o->threads, o->precision, &c->be))) goto fail;
    rc = VNP_ERR_FORMAT;
    /* with FP16 activations (fp16, fp8) the weights stay mapped so that a NaN/Inf batch can be redone in FP32 */
    int keep = vnp_be_elem(c->be) == 2;
    vnp_model_info info;
    c->w_cls = o->classifier ? vnp_model_open(o->classifier, VNP_ROLE_CLASSIFIER, "classifier", &info) : NULL;
    if (o->classifier && (!c->w_cls || !(c->mlp = vnp_mlp_load(c->w_cls)))) goto fail;
    if (!(c->dna = vnp_encoder_open(c->be, o->dnabert, VNP_ROLE_DNA, "DNA encoder", &info, keep ? &c->w_dna : NULL)))
        goto fail;
    if (!(c->esm = vnp_encoder_open(c->be, o->esm, VNP_ROLE_PROTEIN, "protein encoder", &info,
                                    keep ? &c->w_esm : NULL)))
        goto fail;
    tok = tokenizer_path(o->dnabert);
    if (!tok || !(c->bpe = vnp_bpe_load(tok))) goto fail;
    c->fp8_asked = c->fp8_checking = vnp_encoder_fp8(c->esm);
    vnp_fp8_check_init(&c->fp8);
    if (keep) {
        c->threads = o->threads;
        c->tw_dna = (twin_src){c, c->w_dna};
        c->tw_esm = (twin_src){c, c->w_esm};
        vnp_encoder_set_fp32_twin(c->dna, make_twin, &c->tw_dna);
        vnp_encoder_set_fp32_twin(c->esm, make_twin, &c->tw_esm);
    }
    int d_dna = vnp_encoder_cfg(c->dna)->dim, d_prot = vnp_encoder_cfg(c->esm)->dim;
    if (c->mlp && (vnp_mlp_in_dim(c->mlp) != d_dna + d_prot || vnp_mlp_classes(c->mlp) != 2)) {
        vnp_error("classifier '%s' takes %d features into %d classes, but DNABERT-S (%d) + ESM-2 (%d) give %d "
                  "features and VirNucPro has 2 classes: these models do not belong together",
                  o->classifier, vnp_mlp_in_dim(c->mlp), vnp_mlp_classes(c->mlp), d_dna, d_prot, d_dna + d_prot);
        goto fail;
    }
    c->budget = o->tokens_per_batch > 0 ? (size_t)o->tokens_per_batch : auto_budget(c);
    c->budget_dna = o->dna_tokens_per_batch > 0 ? (size_t)o->dna_tokens_per_batch : c->budget;
    c->budget_esm = o->esm_tokens_per_batch > 0 ? (size_t)o->esm_tokens_per_batch : c->budget;
    c->padded = vnp_env_get()->disable_packing;
    if (c->padded) vnp_warn("VIRNUCPRO_DISABLE_PACKING: padded batches, for comparison (slower; same results)");
    free(tok);
    s->ctx = c;
    s->d_dna = d_dna;
    s->d_prot = d_prot;
    s->tokenize = tokenize;
    s->embed = embed;
    s->classify = classify;
    s->fp32_reruns = fp32_reruns;
    s->fp8_check = fp8_check;
    s->bind = bind;
    s->batch_invariant = c->be->batch_invariant;
    return VNP_OK;
fail:
    free(tok);
    s->ctx = c;
    vnp_scorer_close(s);
    return rc;
}

typedef struct {
    vnp_scorer_opts o;
    char device[32];
    vnp_scorer *s;
    int rc;
} open_arg;

static void *open_one(void *p)
{
    open_arg *a = p;
    a->rc = vnp_scorer_open(&a->o, a->s);
    return NULL;
}

int vnp_scorers_open(const vnp_scorer_opts *o, const int *gpus, int n, vnp_scorer *out)
{
    memset(out, 0, (size_t)n * sizeof *out);
    if (n == 1 && !gpus) return vnp_scorer_open(o, out);
    open_arg *a = calloc((size_t)n, sizeof *a);
    pthread_t *t = calloc((size_t)n, sizeof *t);
    char *started = calloc((size_t)n, 1);
    int rc = a && t && started ? VNP_OK : VNP_ERR_NOMEM;
    /* one thread per GPU: each converts and uploads its own copy of the weights (the files are mapped once by
     * the page cache) */
    for (int i = 0; i < n && rc == VNP_OK; i++) {
        a[i].o = *o;
        snprintf(a[i].device, sizeof a[i].device, "cuda:%d", gpus[i]);
        a[i].o.device = a[i].device;
        a[i].s = &out[i];
        if (pthread_create(&t[i], NULL, open_one, &a[i]) != 0) {
            vnp_error("cannot start a thread to load the models onto GPU %d", gpus[i]);
            rc = VNP_ERR_NOMEM;
        } else {
            started[i] = 1;
        }
    }
    for (int i = 0; i < n && a && t && started; i++) {
        if (!started[i]) continue;
        pthread_join(t[i], NULL);
        if (a[i].rc && rc == VNP_OK) rc = a[i].rc;
    }
    if (rc)
        for (int i = 0; i < n; i++) vnp_scorer_close(&out[i]);
    free(a);
    free(t);
    free(started);
    return rc;
}

void vnp_scorer_close(vnp_scorer *s)
{
    scorer_ctx *c = s->ctx;
    if (!c) return;
    size_t unknown = atomic_load(&c->unknown);
    if (unknown) vnp_warn("%zu protein characters are outside the ESM-2 alphabet and were read as <unk>", unknown);
    if (c->fp8_checking && c->fp8.frames > 0) fp8_report(c, "passed (the run had fewer frames to check)");
    vnp_window_free(&c->chk_win);
    free(c->chk_buf);
    vnp_encoder_free(c->esm); /* and their FP32 twins, before the twins' backend goes */
    vnp_encoder_free(c->dna);
    vnp_mlp_free(c->mlp);
    vnp_bpe_free(c->bpe);
    vnp_weights_close(c->w_esm);
    vnp_weights_close(c->w_dna);
    vnp_weights_close(c->w_cls);
    vnp_backend_free(c->be);
    vnp_backend_free(c->be32);
    free(c->esm_path);
    free(c->dna_path);
    free(c->cls_path);
    free(c->device);
    free(c);
    memset(s, 0, sizeof *s);
}

const char *vnp_scorer_device(const vnp_scorer *s)
{
    const scorer_ctx *c = s->ctx;
    return c && c->be ? vnp_backend_device_name(c->be) : "cpu";
}

const char *vnp_scorer_precision(const vnp_scorer *s)
{
    const scorer_ctx *c = s->ctx;
    return c && c->be ? vnp_backend_precision(c->be) : "fp32";
}

/* {"path", "sha256"}: the checksum of a model given as a file, or of a folder's weights file (model.safetensors or
 * pytorch_model.bin, the ones the loader prefers; sharded folders list the path only). */
static json_t *describe_path(const char *path)
{
    struct stat st;
    json_t *o = json_pack("{s:s}", "path", path);
    char hex[65], file[4096];
    const char *target = NULL;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        target = path;
    } else {
        static const char *const names[] = {"model.safetensors", "pytorch_model.bin"};
        for (size_t i = 0; i < 2 && !target; i++) {
            snprintf(file, sizeof file, "%s/%s", path, names[i]);
            if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) target = file;
        }
    }
    if (target && vnp_sha256_file(target, hex) == 0) {
        json_object_set_new(o, "sha256_of", json_string(target));
        json_object_set_new(o, "sha256", json_string(hex));
    }
    return o;
}

static json_t *describe_encoder(const char *path, const vnp_encoder *e)
{
    const vnp_encoder_config *cfg = vnp_encoder_cfg(e);
    json_t *o = describe_path(path);
    json_object_set_new(o, "layers", json_integer(cfg->layers));
    json_object_set_new(o, "hidden_size", json_integer(cfg->dim));
    json_object_set_new(o, "heads", json_integer(cfg->heads));
    return o;
}

char *vnp_scorer_describe(const vnp_scorer *s)
{
    const scorer_ctx *c = s->ctx;
    if (!c) return NULL;
    json_t *root = json_object();
    json_object_set_new(root, "esm2", describe_encoder(c->esm_path, c->esm));
    json_object_set_new(root, "dnabert_s", describe_encoder(c->dna_path, c->dna));
    json_t *cls = c->cls_path ? describe_path(c->cls_path) : json_null();
    if (c->mlp) json_object_set_new(cls, "in_features", json_integer(vnp_mlp_in_dim(c->mlp)));
    json_object_set_new(root, "classifier", cls);
    char *out = json_dumps(root, JSON_PRESERVE_ORDER);
    json_decref(root);
    return out;
}
