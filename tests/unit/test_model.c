/* The encoders and the MLP against the reference fixtures (every weight layout), packing invariance, random
 * weights of several ESM-2 and DNABERT-S shapes, and refusal of missing or mis-shaped tensors. Prints the max
 * abs difference per tensor set. Under sanitizers (slow code) every 13th fixture row plus the edge rows run (VNP_TEST_FULL=1: all). */
#include "vnp/model.h"
#include "vnp/sched.h"
#include "vnp/tok.h"
#include "vnp/weights.h"
#include "vnp_test.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLOW_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW_BUILD 1
#endif
#endif
#ifndef SLOW_BUILD
#define SLOW_BUILD 0
#endif

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) p[n] = 0;
    if (len) *len = (size_t)n;
    return p;
}

static float *read_f32(const char *rel, size_t *count)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", vnp_test_data(), rel);
    size_t n = 0;
    float *p = (float *)slurp(path, &n);
    *count = n / 4;
    return p;
}

/* The sequences of a fixture .tsv (`case:id<TAB>sequence` per line), as token ids. */
typedef struct {
    size_t n;
    int32_t **ids;
    int32_t *len;
    char *text;
} seqset;

static int load_set(const char *rel, const vnp_bpe *bpe, seqset *s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", vnp_test_data(), rel);
    memset(s, 0, sizeof *s);
    s->text = slurp(path, NULL);
    if (!s->text) return -1;
    size_t cap = 0;
    vnp_tokens t = {0};
    for (char *line = s->text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *tab = strchr(line, '\t');
        if (tab) {
            if (s->n == cap) {
                cap = cap ? cap * 2 : 256;
                s->ids = realloc(s->ids, cap * sizeof *s->ids);
                s->len = realloc(s->len, cap * sizeof *s->len);
            }
            t.n = 0;
            const char *seq = tab + 1;
            size_t unk = 0;
            int rc = bpe ? vnp_bpe_encode(bpe, seq, strlen(seq), &t) : vnp_esm_encode(seq, strlen(seq), &t, &unk);
            if (rc) return -1;
            s->ids[s->n] = malloc(t.n * sizeof(int32_t));
            memcpy(s->ids[s->n], t.ids, t.n * sizeof(int32_t));
            s->len[s->n++] = (int32_t)t.n;
        }
        if (!nl) break;
        line = nl + 1;
    }
    vnp_tokens_free(&t);
    return 0;
}

static void free_set(seqset *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->ids[i]);
    free(s->ids);
    free(s->len);
    free(s->text);
}

/* Embeds the selected items (sel[0..nsel)) of a set in FFD-packed batches under `budget` tokens; row k of out
 * belongs to sel[k]. */
static int embed_packed(vnp_encoder *e, const seqset *s, const size_t *sel, size_t nsel, size_t budget, float *out)
{
    int D = vnp_encoder_cfg(e)->dim;
    int32_t *tok = malloc(nsel * sizeof(int32_t)), *cu = malloc((nsel + 1) * sizeof(int32_t));
    int32_t maxlen = 0;
    for (size_t k = 0; k < nsel; k++) {
        tok[k] = s->len[sel[k]];
        if (tok[k] > maxlen) maxlen = tok[k];
    }
    size_t cap = budget > (size_t)maxlen ? budget : (size_t)maxlen;
    int32_t *ids = malloc(cap * sizeof(int32_t));
    float *pooled = malloc(nsel * (size_t)D * sizeof(float));
    vnp_packing p = {0};
    int rc = vnp_encoder_reserve(e, (int)cap, (int)nsel);
    if (!rc) rc = vnp_pack_ffd(tok, nsel, budget, 0, &p);
    for (size_t b = 0; !rc && b < p.nbatches; b++) {
        const size_t *items = p.order + p.start[b];
        size_t n = p.start[b + 1] - p.start[b];
        vnp_cu_seqlens(tok, items, n, cu);
        for (size_t i = 0; i < n; i++) memcpy(ids + cu[i], s->ids[sel[items[i]]], (size_t)tok[items[i]] * sizeof(int32_t));
        rc = vnp_encoder_forward(e, ids, cu, (int)n, pooled, NULL);
        for (size_t i = 0; !rc && i < n; i++) memcpy(out + items[i] * D, pooled + i * D, (size_t)D * sizeof(float));
    }
    vnp_packing_free(&p);
    free(tok), free(cu), free(ids), free(pooled);
    return rc;
}

static double max_abs(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d;
    }
    return m;
}

static size_t *selection(size_t n, size_t *nsel)
{
    size_t *sel = malloc(n * sizeof(size_t)), k = 0;
    for (size_t i = 0; i < n; i++)
        if (!SLOW_BUILD || i % 13 == 0 || i + 5 >= n || getenv("VNP_TEST_FULL")) sel[k++] = i;
    *nsel = k;
    return sel;
}

/* Every fixture row of one model in one layout, then the per-token states of the first three rows. */
static void check_fixture(vnp_backend *be, const char *model_rel, const seqset *s, const float *want, size_t D,
                          const float *tok_want, size_t tok_floats, const int *tok_rows)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models/%s", vnp_test_data(), model_rel);
    vnp_weights *w = vnp_weights_open(path);
    CHECK_MSG(w != NULL, "open %s", path);
    if (!w) return;
    vnp_encoder *e = vnp_encoder_load(be, w);
    CHECK_MSG(e != NULL, "load %s", path);
    if (e) {
        CHECK_EQ_INT(vnp_encoder_cfg(e)->dim, D);
        size_t nsel;
        size_t *sel = selection(s->n, &nsel);
        float *got = malloc(nsel * D * sizeof(float));
        double worst = 0;
        CHECK(embed_packed(e, s, sel, nsel, 2048, got) == VNP_OK);
        for (size_t k = 0; k < nsel; k++) {
            double d = max_abs(got + k * D, want + sel[k] * D, D);
            if (!(d <= worst)) worst = d;
        }
        printf("%-36s %4zu rows: max abs diff %.3g\n", model_rel, nsel, worst);
        CHECK_MSG(worst <= 1e-4, "%s: pooled rows differ by %g", model_rel, worst);
        /* per-token final states of the first three rows, each alone */
        size_t off = 0;
        double tworst = 0;
        for (int r = 0; r < 3; r++) {
            int32_t cu[2] = {0, s->len[r]};
            CHECK_EQ_INT(s->len[r], tok_rows[r]);
            float *st = malloc((size_t)s->len[r] * D * sizeof(float)), pooled[1024];
            if (vnp_encoder_forward(e, s->ids[r], cu, 1, pooled, st) == VNP_OK && off + (size_t)s->len[r] * D <= tok_floats) {
                double d = max_abs(st, tok_want + off, (size_t)s->len[r] * D);
                if (!(d <= tworst)) tworst = d;
            } else {
                tworst = INFINITY;
            }
            off += (size_t)tok_rows[r] * D;
            free(st);
        }
        printf("%-36s first 3 rows per token: max abs diff %.3g\n", model_rel, tworst);
        CHECK_MSG(tworst <= 1e-4, "%s: token states differ by %g", model_rel, tworst);
        CHECK_EQ_INT(off, tok_floats);
        free(got);
        free(sel);
    }
    vnp_encoder_free(e);
    vnp_weights_close(w);
}

/* The same sequences embedded alone, and packed with the others under several budgets. */
static double packing_spread(vnp_encoder *e, const seqset *s, const size_t *sel, size_t nsel)
{
    size_t D = (size_t)vnp_encoder_cfg(e)->dim;
    float *alone = malloc(nsel * D * sizeof(float)), *packed = malloc(nsel * D * sizeof(float));
    double worst = 0;
    for (size_t k = 0; k < nsel; k++)
        if (embed_packed(e, s, sel + k, 1, 1, alone + k * D)) worst = INFINITY;
    size_t budgets[3] = {300, 1000, 5000};
    for (int b = 0; b < 3; b++) {
        if (embed_packed(e, s, sel, nsel, budgets[b], packed)) worst = INFINITY;
        double d = max_abs(alone, packed, nsel * D);
        if (!(d <= worst)) worst = d;
    }
    for (size_t i = 0; i < nsel * D; i++)
        if (!isfinite(alone[i])) worst = INFINITY;
    free(alone), free(packed);
    return worst;
}

static void check_packing(vnp_backend *be, const char *model_rel, const seqset *s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models/%s", vnp_test_data(), model_rel);
    vnp_weights *w = vnp_weights_open(path);
    vnp_encoder *e = w ? vnp_encoder_load(be, w) : NULL;
    CHECK(e != NULL);
    if (e) {
        size_t sel[24], n = 0;
        size_t want = SLOW_BUILD ? 8 : 20;
        for (size_t i = 0; i < s->n && n < want; i += s->n / want) sel[n++] = i;
        sel[n++] = s->n - 1; /* the longest edge row */
        double d = packing_spread(e, s, sel, n);
        printf("packing invariance %-21s %2zu seqs: max abs diff %.3g\n", model_rel, n, d);
        CHECK(d <= 1e-5);
    }
    vnp_encoder_free(e);
    vnp_weights_close(w);
}

/* Random sequences of random lengths over the vocabulary (specials at the ends). */
static void random_set(seqset *s, size_t n, int vocab, int maxlen, uint64_t seed, int esm)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->ids = malloc(n * sizeof *s->ids);
    s->len = malloc(n * sizeof *s->len);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int len = 1 + (int)((seed >> 33) % (uint64_t)maxlen);
        s->len[i] = len;
        s->ids[i] = malloc((size_t)len * sizeof(int32_t));
        for (int t = 0; t < len; t++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            s->ids[i][t] = esm ? 4 + (int32_t)((seed >> 33) % 20) : 5 + (int32_t)((seed >> 33) % (uint64_t)(vocab - 5));
        }
        if (esm) {
            s->ids[i][0] = 0;
            if (len > 1) s->ids[i][len - 1] = 2;
            if (i % 5 == 3 && len > 4) s->ids[i][len / 2] = 32; /* a <mask>: token dropout scaling */
        }
    }
}

static void check_random_shapes(vnp_backend *be)
{
    struct {
        vnp_model_kind kind;
        int layers, dim, heads, ffn, vocab, maxlen;
    } shapes[] = {
        {VNP_MODEL_ESM2, 6, 320, 20, 1280, 33, 120},     /* the esm2_t6_8M shape */
        {VNP_MODEL_ESM2, 2, 72, 3, 288, 33, 200},        /* head dim 24: scale not a power of two */
        {VNP_MODEL_ESM2, 2, 60, 5, 240, 33, 90},         /* head dim 12, D not a multiple of 16 */
        {VNP_MODEL_ESM2, 1, 256, 2, 1024, 33, 1300},     /* head dim 128 (15B), a sequence past 1024 */
        {VNP_MODEL_DNABERT_S, 2, 96, 12, 160, 300, 700}, /* 12 ALiBi heads of dim 8 */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        vnp_encoder_config cfg = {.kind = shapes[i].kind, .layers = shapes[i].layers, .dim = shapes[i].dim,
                                  .heads = shapes[i].heads, .ffn = shapes[i].ffn, .vocab = shapes[i].vocab,
                                  .token_dropout = shapes[i].kind == VNP_MODEL_ESM2,
                                  .mask_id = shapes[i].kind == VNP_MODEL_ESM2 ? 32 : -1};
        vnp_encoder *e = vnp_encoder_random(be, &cfg, 42 + i);
        CHECK(e != NULL);
        if (!e) continue;
        seqset s;
        size_t n = SLOW_BUILD ? 4 : 14;
        random_set(&s, n, cfg.vocab, shapes[i].maxlen, 7 * i + 1, cfg.kind == VNP_MODEL_ESM2);
        size_t sel[16];
        for (size_t k = 0; k < n; k++) sel[k] = k;
        double d = packing_spread(e, &s, sel, n);
        printf("random %-9s L=%d D=%d H=%d: packing invariance and finiteness, max abs diff %.3g\n",
               vnp_model_kind_name(cfg.kind), cfg.layers, cfg.dim, cfg.heads, d);
        CHECK(d <= 1e-5);
        free_set(&s);
        vnp_encoder_free(e);
    }
    vnp_encoder_config named;
    CHECK(vnp_encoder_config_named("esm2_3b", &named) == VNP_OK && named.heads == 40 && named.head_dim == 64);
    CHECK(vnp_encoder_config_named("dnabert_s", &named) == VNP_OK && named.ffn == 3072 && named.pool_max_rows < 0);
    CHECK(vnp_encoder_config_named("nope", &named) == VNP_ERR_NOTFOUND);
}

/* ---- refusal of bad tensor tables: a hand-made table ---- */

typedef struct {
    vnp_tensor *t;
    size_t n;
} table;

static const vnp_tensor *table_find(const void *ctx, const char *name)
{
    const table *tb = ctx;
    for (size_t i = 0; i < tb->n; i++)
        if (strcmp(tb->t[i].name, name) == 0) return &tb->t[i];
    return NULL;
}

static void check_bad_tables(vnp_backend *be)
{
    /* DNABERT-S, 1 layer, D=16, 2 heads, FF=8: every tensor present, data all zeros */
    static float zeros[4096 * 2];
    struct {
        const char *name;
        int64_t d0, d1;
    } spec[] = {{"embeddings.word_embeddings.weight", 40, 16}, {"embeddings.token_type_embeddings.weight", 2, 16},
                {"embeddings.LayerNorm.weight", 16, 0},        {"embeddings.LayerNorm.bias", 16, 0},
                {"layer.0.attention.self.Wqkv.weight", 48, 16}, {"layer.0.attention.self.Wqkv.bias", 48, 0},
                {"layer.0.attention.output.dense.weight", 16, 16}, {"layer.0.attention.output.dense.bias", 16, 0},
                {"layer.0.attention.output.LayerNorm.weight", 16, 0}, {"layer.0.attention.output.LayerNorm.bias", 16, 0},
                {"layer.0.mlp.gated_layers.weight", 16, 16},   {"layer.0.mlp.wo.weight", 16, 8},
                {"layer.0.mlp.wo.bias", 16, 0},                {"layer.0.mlp.layernorm.weight", 16, 0},
                {"layer.0.mlp.layernorm.bias", 16, 0}};
    size_t n = sizeof spec / sizeof spec[0];
    vnp_tensor t[16];
    memset(t, 0, sizeof t);
    for (size_t i = 0; i < n; i++) {
        t[i].name = spec[i].name;
        t[i].dtype = VNP_DT_F32;
        t[i].ndim = spec[i].d1 ? 2 : 1;
        t[i].shape[0] = spec[i].d0;
        t[i].shape[1] = spec[i].d1;
        t[i].numel = spec[i].d0 * (spec[i].d1 ? spec[i].d1 : 1);
        t[i].strides[0] = spec[i].d1 ? spec[i].d1 : 1;
        t[i].strides[1] = 1;
        t[i].contiguous = 1;
        t[i].data = zeros;
    }
    const char *cfg = "{\"model_type\": \"bert\", \"num_attention_heads\": 2}";
    table tb = {t, n};
    vnp_encoder_config c;
    CHECK(vnp_encoder_config_derive(table_find, &tb, cfg, 0, "hand-made", &c) == VNP_OK);
    CHECK(c.kind == VNP_MODEL_DNABERT_S && c.layers == 1 && c.dim == 16 && c.heads == 2 && c.ffn == 8);
    CHECK(c.ln_eps == 1e-12f);
    vnp_encoder *e = vnp_encoder_load_lookup(be, table_find, &tb, cfg, 0, "hand-made");
    CHECK(e != NULL);
    vnp_encoder_free(e);
    fprintf(stderr, "(the errors below are expected)\n");
    /* a missing tensor */
    table missing = {t, n - 1};
    CHECK(vnp_encoder_config_derive(table_find, &missing, cfg, 0, "missing", &c) == VNP_ERR_FORMAT);
    CHECK(vnp_encoder_load_lookup(be, table_find, &missing, cfg, 0, "missing") == NULL);
    /* a mis-shaped one */
    t[6].shape[1] = 15;
    CHECK(vnp_encoder_config_derive(table_find, &tb, cfg, 0, "mis-shaped", &c) == VNP_ERR_FORMAT);
    t[6].shape[1] = 16;
    /* a non-float one */
    t[3].dtype = VNP_DT_I64;
    CHECK(vnp_encoder_config_derive(table_find, &tb, cfg, 0, "integer", &c) == VNP_ERR_FORMAT);
    t[3].dtype = VNP_DT_F32;
    /* config.json disagreeing with the tensors */
    CHECK(vnp_encoder_config_derive(table_find, &tb, "{\"model_type\": \"bert\", \"hidden_size\": 32}", 0, "cfg", &c) ==
          VNP_ERR_FORMAT);
    /* heads that do not divide D */
    CHECK(vnp_encoder_config_derive(table_find, &tb, "{\"num_attention_heads\": 3}", 0, "heads", &c) != VNP_OK);
    /* no encoder at all */
    table none = {t + 2, 2};
    CHECK(vnp_encoder_config_derive(table_find, &none, NULL, 0, "none", &c) == VNP_ERR_FORMAT);
    CHECK(vnp_mlp_load_lookup(table_find, &none, "none") == NULL);
    /* a batch with an id outside the vocabulary is refused before running */
    e = vnp_encoder_load_lookup(be, table_find, &tb, cfg, 0, "hand-made");
    if (e && vnp_encoder_reserve(e, 8, 2) == VNP_OK) {
        int32_t ids[3] = {1, 40, 2}, cu[2] = {0, 3};
        float out[16];
        CHECK(vnp_encoder_forward(e, ids, cu, 1, out, NULL) == VNP_ERR_USAGE);
        int32_t cu_big[2] = {0, 9};
        CHECK(vnp_encoder_forward(e, ids, cu_big, 1, out, NULL) == VNP_ERR_USAGE);
    }
    vnp_encoder_free(e);
    fprintf(stderr, "(end of expected errors)\n");
}

static void check_mlp(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models/mlp/mlp_3328.pth", vnp_test_data());
    vnp_weights *w = vnp_weights_open(path);
    vnp_mlp *m = w ? vnp_mlp_load(w) : NULL;
    CHECK(m != NULL);
    size_t nx, np;
    float *x = read_f32("models/mlp/mlp_3328_inputs.f32", &nx), *want = read_f32("models/mlp/mlp_3328_probs.f32", &np);
    CHECK(x && want);
    if (m && x && want) {
        CHECK_EQ_INT(vnp_mlp_in_dim(m), 3328);
        CHECK_EQ_INT(vnp_mlp_classes(m), 2);
        size_t rows = nx / 3328;
        CHECK_EQ_INT(rows * 2, np);
        float *p = malloc(np * sizeof(float));
        CHECK(vnp_mlp_forward(m, x, rows, p) == VNP_OK);
        double d = max_abs(p, want, np);
        printf("mlp_3328.pth %zu rows: max abs diff %.3g\n", rows, d);
        CHECK(d <= 1e-5);
        free(p);
    }
    float tie[2] = {0.5f, 0.5f}, two[3] = {0.1f, 0.7f, 0.2f};
    CHECK_EQ_INT(vnp_mlp_argmax(tie, 2), 0);
    CHECK_EQ_INT(vnp_mlp_argmax(two, 3), 1);
    free(x), free(want);
    vnp_mlp_free(m);
    vnp_weights_close(w);
}

int main(void)
{
    double t0 = vnp_time_now();
    setvbuf(stdout, NULL, _IOLBF, 0);
    vnp_log_set_level(VNP_LOG_WARN);
    vnp_backend *be = vnp_backend_cpu_create(2);
    CHECK(be != NULL);
    if (!be) VNP_TEST_END();
    char path[512];
    snprintf(path, sizeof path, "%s/models/dnabert-s-tiny/tokenizer.json", vnp_test_data());
    vnp_bpe *bpe = vnp_bpe_load(path);
    CHECK(bpe != NULL);
    seqset esm, dna;
    CHECK(load_set("embeddings/esm2.tsv", NULL, &esm) == 0);
    CHECK(bpe && load_set("embeddings/dnabert.tsv", bpe, &dna) == 0);
    size_t ne, nd, nte, ntd;
    float *we = read_f32("embeddings/esm2.f32", &ne), *wd = read_f32("embeddings/dnabert.f32", &nd);
    float *te = read_f32("embeddings/esm2_first3_tokens.f32", &nte), *td = read_f32("embeddings/dnabert_first3_tokens.f32", &ntd);
    CHECK(we && wd && te && td);
    CHECK_EQ_INT(ne, esm.n * 128);
    CHECK_EQ_INT(nd, dna.n * 192);
    int esm_rows[3] = {101, 101, 101}, dna_rows[3] = {65, 69, 68}; /* MANIFEST.json first3_token_rows */
    if (we && te && ne == esm.n * 128) {
        check_fixture(be, "esm2-tiny/model.safetensors", &esm, we, 128, te, nte, esm_rows);
        check_fixture(be, "esm2-tiny/pytorch_model.bin", &esm, we, 128, te, nte, esm_rows);
        check_fixture(be, "esm2-tiny/esm2_tiny_fair.pt", &esm, we, 128, te, nte, esm_rows);
        check_packing(be, "esm2-tiny/model.safetensors", &esm);
    }
    if (wd && td && nd == dna.n * 192) {
        check_fixture(be, "dnabert-s-tiny/model.safetensors", &dna, wd, 192, td, ntd, dna_rows);
        check_fixture(be, "dnabert-s-tiny/pytorch_model.bin", &dna, wd, 192, td, ntd, dna_rows);
        check_packing(be, "dnabert-s-tiny/model.safetensors", &dna);
    }
    check_mlp();
    check_random_shapes(be);
    check_bad_tables(be);
    free(we), free(wd), free(te), free(td);
    free_set(&esm);
    free_set(&dna);
    vnp_bpe_free(bpe);
    vnp_backend_free(be);
    printf("test_model: %.1f s\n", vnp_time_now() - t0);
    VNP_TEST_END();
}
