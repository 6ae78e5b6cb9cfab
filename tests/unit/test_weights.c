/* Unit tests for weights/: every fixture model loads; the three ESM-2 layouts agree tensor by tensor; the MLP has
 * the names and shapes of the spec; dtype conversions; the safetensors writer round trip; model kinds and the
 * required-tensor check. Hostile inputs are in test_weights_hostile.c. */
#define _DEFAULT_SOURCE
#include "vnp/model.h"
#include "vnp/weights.h"
#include "vnp_test.h"

#include <stdint.h>
#include <unistd.h>

static char path_buf[4096];

static const char *model_path(const char *rel)
{
    snprintf(path_buf, sizeof path_buf, "%s/models/%s", vnp_test_data(), rel);
    return path_buf;
}

static vnp_weights *open_model(const char *rel)
{
    vnp_weights *w = vnp_weights_open(model_path(rel));
    CHECK_MSG(w != NULL, "cannot open %s", rel);
    return w;
}

static float *to_f32(const vnp_tensor *t)
{
    float *f = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *f);
    if (f && vnp_tensor_to_f32(t, f) != VNP_OK) {
        free(f);
        return NULL;
    }
    return f;
}

static int same_shape(const vnp_tensor *a, const vnp_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

/* Every tensor of `sub` is in `full` with the same shape and the same f32 values (element-wise). */
static void check_subset_equal(const vnp_weights *sub, const vnp_weights *full, const char *what)
{
    size_t bad = 0;
    for (size_t i = 0; i < vnp_weights_count(sub); i++) {
        const vnp_tensor *a = vnp_weights_at(sub, i), *b = vnp_weights_find(full, a->name);
        if (!b || !same_shape(a, b)) {
            fprintf(stderr, "%s: '%s' missing or shaped differently\n", what, a->name);
            bad++;
            continue;
        }
        float *fa = to_f32(a), *fb = to_f32(b);
        if (!fa || !fb) {
            bad++;
        } else {
            for (int64_t k = 0; k < a->numel; k++) {
                if (fa[k] != fb[k]) {
                    fprintf(stderr, "%s: '%s'[%lld] %g != %g\n", what, a->name, (long long)k, fa[k], fb[k]);
                    bad++;
                    break;
                }
            }
        }
        free(fa);
        free(fb);
    }
    CHECK_MSG(bad == 0, "%s: %zu tensors differ", what, bad);
}

static void test_esm2_layouts(void)
{
    vnp_weights *st = open_model("esm2-tiny/model.safetensors"), *bin = open_model("esm2-tiny/pytorch_model.bin"),
                *fair = open_model("esm2-tiny/esm2_tiny_fair.pt"), *dir = open_model("esm2-tiny");
    if (!st || !bin || !fair || !dir) goto done;
    CHECK_EQ_STR(vnp_weights_format(st), "safetensors");
    CHECK_EQ_STR(vnp_weights_format(bin), "pytorch-zip");
    CHECK_EQ_STR(vnp_weights_format(dir), "safetensors"); /* a folder prefers model.safetensors */
    CHECK(vnp_weights_config(dir) != NULL && strstr(vnp_weights_config(dir), "\"hidden_size\": 128"));
    /* fair-esm names all map onto HF names: the fair table is the HF .bin table minus the HF-only extras. */
    check_subset_equal(fair, bin, "fair vs bin");
    check_subset_equal(st, bin, "safetensors vs bin");
    static const char *hf_only[] = {"contact_head.regression.bias", "contact_head.regression.weight",
                                    "rotary_embeddings.inv_freq"};
    CHECK_EQ_INT(vnp_weights_count(bin), vnp_weights_count(fair) + 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK(vnp_weights_find(bin, hf_only[i]) != NULL);
        CHECK(vnp_weights_find(fair, hf_only[i]) == NULL);
    }
    /* safetensors drops the tied decoder (saved once); everything else matches the .bin. */
    CHECK(vnp_weights_find(st, "lm_head.decoder.weight") == NULL);
    CHECK_EQ_INT(vnp_weights_count(st), vnp_weights_count(bin) - 1);
    /* No fair-esm name survives un-mapped. */
    for (size_t i = 0; i < vnp_weights_count(fair); i++) {
        const char *n = vnp_weights_at(fair, i)->name;
        CHECK_MSG(!strstr(n, "self_attn") && !strstr(n, "layers.") && !strstr(n, "fc1") && !strstr(n, "embed_tokens") &&
                      strncmp(n, "encoder.", 8) != 0,
                  "unmapped fair-esm name %s", n);
    }
    /* dtypes as stored: HF fp32, fair-esm fp16 */
    const vnp_tensor *q = vnp_weights_find(fair, "layer.2.attention.self.query.weight");
    CHECK(q && q->dtype == VNP_DT_F16 && q->ndim == 2 && q->shape[0] == 128 && q->shape[1] == 128 && q->contiguous);
    CHECK(vnp_weights_find(st, "layer.2.attention.self.query.weight")->dtype == VNP_DT_F32);
    /* tied weights in fair-esm: the decoder is the embedding, same bytes */
    const vnp_tensor *e = vnp_weights_find(fair, "embeddings.word_embeddings.weight"),
                     *d = vnp_weights_find(fair, "lm_head.decoder.weight");
    CHECK(e && d && e->data == d->data && same_shape(e, d));
    /* rotary inv_freq: present in every layer of every layout, fp16-rounded (spec/esm2.md §3.3, hd = 64) */
    static const uint16_t inv_bits[32] = {0x3c00, 0x3a00, 0x3880, 0x36bf, 0x350f, 0x3397, 0x31b1, 0x3044,
                                          0x2e66, 0x2ccd, 0x2b33, 0x2966, 0x280c, 0x2612, 0x248d, 0x22d4,
                                          0x211f, 0x1fae, 0x1dc2, 0x1c51, 0x1a7a, 0x18db, 0x1749, 0x1576,
                                          0x1419, 0x1225, 0x109b, 0x0ee9, 0x0d2e, 0x0bc5, 0x09d4, 0x085f};
    const vnp_weights *all[3] = {st, bin, fair};
    for (int k = 0; k < 3; k++) {
        for (int l = 0; l < 3; l++) {
            char name[96];
            snprintf(name, sizeof name, "layer.%d.attention.self.rotary_embeddings.inv_freq", l);
            const vnp_tensor *t = vnp_weights_find(all[k], name);
            CHECK_MSG(t && t->ndim == 1 && t->shape[0] == 32, "%s missing in layout %d", name, k);
            float f[32];
            if (!t || t->numel != 32 || vnp_tensor_to_f32(t, f) != VNP_OK) continue;
            int same = 1;
            for (int j = 0; j < 32; j++)
                same &= vnp_f32_to_f16(f[j]) == inv_bits[j] && vnp_f16_to_f32(inv_bits[j]) == f[j];
            CHECK_MSG(same, "inv_freq of %s in layout %d is not the fp16-rounded table", name, k);
        }
    }
    /* model info: from config.json when beside, from the fair cfg otherwise (see test_fair_alone) */
    vnp_model_info m;
    CHECK(vnp_weights_model_info(fair, &m) == VNP_OK);
    CHECK(m.kind == VNP_MODEL_ESM2 && m.layers == 3 && m.dim == 128 && m.heads == 2 && m.ffn == 512 && m.vocab == 33);
    CHECK(m.name == NULL);
    CHECK_EQ_STR(vnp_weights_meta(fair, "cfg.model.encoder_layers"), "3");
    CHECK_EQ_STR(vnp_weights_meta(fair, "cfg.model.token_dropout"), "true");
    CHECK_EQ_STR(vnp_weights_meta(st, "format"), "pt");
    CHECK(vnp_weights_check(st, &m, NULL, NULL) == 0);
    CHECK(vnp_weights_check(bin, &m, NULL, NULL) == 0);
    CHECK(vnp_weights_check(fair, &m, NULL, NULL) == 0);
done:
    vnp_weights_close(st);
    vnp_weights_close(bin);
    vnp_weights_close(fair);
    vnp_weights_close(dir);
}

/* The fair-esm file alone in a folder: no config.json, so heads come from cfg.model.encoder_attention_heads. */
static void test_fair_alone(void)
{
    char dir[] = "/tmp/vnp_test_weights_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char dst[512];
    snprintf(dst, sizeof dst, "%s/esm2_t3.pt", dir);
    FILE *in = fopen(model_path("esm2-tiny/esm2_tiny_fair.pt"), "rb"), *out = fopen(dst, "wb");
    CHECK(in && out);
    char buf[65536];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    if (in) fclose(in);
    if (out) fclose(out);
    vnp_weights *w = vnp_weights_open(dir); /* the folder resolves to its single .pt */
    CHECK(w != NULL);
    vnp_model_info m;
    if (w) {
        CHECK(vnp_weights_config(w) == NULL);
        CHECK(vnp_weights_model_info(w, &m) == VNP_OK && m.heads == 2 && strcmp(m.heads_source, "cfg") == 0);
    }
    vnp_weights_close(w);
    unlink(dst);
    rmdir(dir);
}

static void test_dnabert(void)
{
    vnp_weights *st = open_model("dnabert-s-tiny/model.safetensors"),
                *bin = open_model("dnabert-s-tiny/pytorch_model.bin");
    if (st && bin) {
        CHECK_EQ_INT(vnp_weights_count(st), 28);
        CHECK_EQ_INT(vnp_weights_count(bin), 28);
        check_subset_equal(st, bin, "dnabert safetensors vs bin");
        const vnp_tensor *t = vnp_weights_find(bin, "layer.1.attention.self.Wqkv.weight");
        CHECK(t && t->shape[0] == 576 && t->shape[1] == 192);
        CHECK(vnp_weights_find(bin, "layer.0.mlp.wo.weight") != NULL);
        CHECK(vnp_weights_find(bin, "pooler.dense.weight") != NULL); /* nothing dropped */
        vnp_model_info m;
        CHECK(vnp_weights_model_info(bin, &m) == VNP_OK);
        CHECK(m.kind == VNP_MODEL_DNABERT_S && m.layers == 2 && m.dim == 192 && m.heads == 12 && m.ffn == 384 &&
              m.vocab == 4096);
        CHECK(vnp_weights_check(bin, &m, NULL, NULL) == 0);
    }
    vnp_weights_close(st);
    vnp_weights_close(bin);
}

static void test_mlp(void)
{
    static const struct {
        const char *name, *dtype;
        int ndim;
        int64_t d0, d1;
    } want[] = {
        {"bn1.bias", "F32", 1, 512, 0},         {"bn1.num_batches_tracked", "I64", 0, 0, 0},
        {"bn1.running_mean", "F32", 1, 512, 0}, {"bn1.running_var", "F32", 1, 512, 0},
        {"bn1.weight", "F32", 1, 512, 0},       {"hidden_layer.bias", "F32", 1, 512, 0},
        {"hidden_layer.weight", "F32", 2, 512, 3328}, {"output_layer.bias", "F32", 1, 2, 0},
        {"output_layer.weight", "F32", 2, 2, 512},
    };
    vnp_weights *w = open_model("mlp/mlp_3328.pth");
    if (!w) return;
    CHECK_EQ_INT(vnp_weights_count(w), 9);
    for (size_t i = 0; i < 9 && i < vnp_weights_count(w); i++) {
        const vnp_tensor *t = vnp_weights_at(w, i);
        CHECK_EQ_STR(t->name, want[i].name);
        CHECK_EQ_STR(vnp_dtype_name(t->dtype), want[i].dtype);
        CHECK_EQ_INT(t->ndim, want[i].ndim);
        if (t->ndim > 0) CHECK_EQ_INT(t->shape[0], want[i].d0);
        if (t->ndim > 1) CHECK_EQ_INT(t->shape[1], want[i].d1);
    }
    vnp_model_info m;
    CHECK(vnp_weights_model_info(w, &m) == VNP_OK && m.kind == VNP_MODEL_MLP && m.in_features == 3328 &&
          m.dim == 512 && m.classes == 2);
    CHECK(vnp_weights_check(w, &m, NULL, NULL) == 0);
    /* bn1.running_var is a variance: positive */
    float *rv = to_f32(vnp_weights_find(w, "bn1.running_var"));
    int pos = rv != NULL;
    for (int i = 0; rv && i < 512; i++) pos &= rv[i] > 0;
    CHECK(pos);
    free(rv);
    int64_t nbt = 0;
    const vnp_tensor *s = vnp_weights_find(w, "bn1.num_batches_tracked");
    if (s) memcpy(&nbt, s->data, 8);
    CHECK(s && s->numel == 1 && nbt >= 0);
    vnp_weights_close(w);
    w = open_model("mlp/mlp_tiny.pth");
    if (w) {
        CHECK(vnp_weights_model_info(w, &m) == VNP_OK && m.in_features == 320 && m.dim == 32 && m.classes == 2);
        CHECK(vnp_weights_check(w, &m, NULL, NULL) == 0);
    }
    vnp_weights_close(w);
}

static void test_half(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = vnp_f16_to_f32((uint16_t)h);
        if (f != f) continue; /* nan */
        bad += vnp_f32_to_f16(f) != h;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(vnp_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(vnp_f32_to_f16(65519.0f) == 0x7bff);
    CHECK(vnp_f32_to_f16(65520.0f) == 0x7c00); /* rounds to inf */
    CHECK(vnp_f32_to_f16(1e-8f) == 0x0000);
    CHECK(vnp_f32_to_f16(5.9604645e-8f) == 0x0001);   /* 2^-24 */
    CHECK(vnp_f32_to_f16(2.98023224e-8f) == 0x0000);  /* 2^-25: tie to even */
    CHECK(vnp_f32_to_f16(4.4703484e-8f) == 0x0001);   /* 1.5 * 2^-25 */
    CHECK(vnp_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00); /* tie to even */
    CHECK(vnp_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);
    CHECK(vnp_f32_to_f16(-2.0f) == 0xc000);
    CHECK(vnp_bf16_to_f32(0x3f80) == 1.0f && vnp_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(vnp_f32_to_bf16(1.00390625f) == 0x3f80);    /* tie to even */
    CHECK(vnp_f32_to_bf16(1.01171875f) == 0x3f82);
    vnp_dtype dt;
    CHECK(vnp_dtype_from_name("BF16", &dt) == VNP_OK && dt == VNP_DT_BF16);
    CHECK(vnp_dtype_from_name("U16", &dt) == VNP_ERR_UNSUPPORTED);
    CHECK(vnp_dtype_size(VNP_DT_I64) == 8 && vnp_dtype_size(VNP_DT_BOOL) == 1);
}

static void test_strided(void)
{
    /* A 3x4 f16 view, transposed from a 4x3 row-major buffer, with storage offset 1. */
    uint16_t buf[13];
    for (int i = 0; i < 13; i++) buf[i] = vnp_f32_to_f16((float)(i - 1));
    vnp_tensor t;
    int64_t shape[2] = {3, 4};
    CHECK(vnp_tensor_init(&t, "x", VNP_DT_F16, 2, shape, buf + 1) == VNP_OK);
    t.strides[0] = 1;
    t.strides[1] = 3;
    t.contiguous = 0;
    float f[12];
    CHECK(vnp_tensor_to_f32(&t, f) == VNP_OK);
    int ok = 1;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++) ok &= f[r * 4 + c] == (float)(c * 3 + r);
    CHECK(ok);
    float part[5];
    CHECK(vnp_tensor_convert(&t, VNP_DT_F32, 5, 5, part) == VNP_OK);
    ok = 1;
    for (int k = 0; k < 5; k++) ok &= part[k] == f[5 + k];
    CHECK(ok);
    CHECK(vnp_tensor_convert(&t, VNP_DT_F32, 10, 5, part) == VNP_ERR_USAGE);
    uint16_t h[12];
    CHECK(vnp_tensor_to_f16(&t, h) == VNP_OK && h[4] == vnp_f32_to_f16(1.0f));
    CHECK(vnp_tensor_convert(&t, VNP_DT_I64, 0, 1, part) == VNP_ERR_UNSUPPORTED);
    int64_t big[2] = {INT64_MAX / 2, 4};
    CHECK(vnp_tensor_init(&t, "y", VNP_DT_F32, 2, big, buf) == VNP_ERR_USAGE);
}

static void test_write_roundtrip(void)
{
    char dir[] = "/tmp/vnp_test_weights_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/out.safetensors", dir);
    float a[6] = {1, 2, 3, 4, 5, 6.5f};
    int64_t n = 42;
    uint16_t tr[6];
    for (int i = 0; i < 6; i++) tr[i] = vnp_f32_to_f16(a[i]);
    vnp_tensor t[3];
    int64_t s23[2] = {2, 3}, s32[2] = {3, 2};
    CHECK(vnp_tensor_init(&t[0], "b.weight", VNP_DT_F32, 2, s23, a) == VNP_OK);
    CHECK(vnp_tensor_init(&t[1], "a.count", VNP_DT_I64, 0, NULL, &n) == VNP_OK);
    CHECK(vnp_tensor_init(&t[2], "c.transposed", VNP_DT_F16, 2, s32, tr) == VNP_OK);
    t[2].strides[0] = 1;
    t[2].strides[1] = 3;
    t[2].contiguous = 0;
    vnp_meta_pair meta[2] = {{"chunk_length", "500"}, {"note", "x\"y"}};
    CHECK(vnp_safetensors_write(path, t, 3, VNP_DT_COUNT, meta, 2) == VNP_OK);
    vnp_weights *w = vnp_weights_open(path);
    CHECK(w != NULL);
    if (w) {
        CHECK_EQ_INT(vnp_weights_count(w), 3);
        CHECK_EQ_STR(vnp_weights_at(w, 0)->name, "a.count");
        CHECK_EQ_STR(vnp_weights_meta(w, "chunk_length"), "500");
        CHECK_EQ_STR(vnp_weights_meta(w, "note"), "x\"y");
        CHECK_EQ_STR(vnp_weights_meta(w, "format"), "pt");
        const vnp_tensor *c = vnp_weights_find(w, "c.transposed");
        float f[6];
        CHECK(c && c->contiguous && c->dtype == VNP_DT_F16 && vnp_tensor_to_f32(c, f) == VNP_OK);
        CHECK(f[0] == 1 && f[1] == 4 && f[2] == 2 && f[5] == 6.5f);
        const vnp_tensor *s = vnp_weights_find(w, "a.count");
        CHECK(s && s->ndim == 0 && s->numel == 1 && s->dtype == VNP_DT_I64 && memcmp(s->data, &n, 8) == 0);
        /* header padded: the data starts at a multiple of 8 */
        uint64_t hl = 0;
        FILE *fp = fopen(path, "rb");
        CHECK(fp && fread(&hl, 8, 1, fp) == 1 && hl % 8 == 0);
        if (fp) fclose(fp);
    }
    vnp_weights_close(w);
    /* --dtype f16 keeps integer tensors, converts the float ones */
    CHECK(vnp_safetensors_write(path, t, 3, VNP_DT_F16, NULL, 0) == VNP_OK);
    w = vnp_weights_open(path);
    CHECK(w && vnp_weights_find(w, "b.weight")->dtype == VNP_DT_F16 &&
          vnp_weights_find(w, "a.count")->dtype == VNP_DT_I64);
    vnp_weights_close(w);
    /* duplicate names are refused and leave no file */
    unlink(path);
    t[1].name = "b.weight";
    CHECK(vnp_safetensors_write(path, t, 3, VNP_DT_COUNT, NULL, 0) == VNP_ERR_USAGE);
    CHECK(access(path, F_OK) != 0);
    /* a whole converted fixture loads with the same names, shapes and values */
    vnp_weights *fair = open_model("esm2-tiny/esm2_tiny_fair.pt");
    if (fair) {
        CHECK(vnp_weights_save(fair, path, VNP_DT_F32) == VNP_OK);
        w = vnp_weights_open(path);
        CHECK(w && vnp_weights_count(w) == vnp_weights_count(fair));
        if (w) {
            check_subset_equal(fair, w, "fair vs converted");
            CHECK_EQ_STR(vnp_weights_meta(w, "source_format"), "pytorch-zip");
            CHECK_EQ_STR(vnp_weights_meta(w, "cfg.model.encoder_attention_heads"), "2");
            CHECK(vnp_weights_find(w, "layer.0.attention.self.query.weight")->dtype == VNP_DT_F32);
        }
        vnp_weights_close(w);
    }
    vnp_weights_close(fair);
    unlink(path);
    rmdir(dir);
}

/* A sharded safetensors folder: two shards plus the HF index. */
static void test_sharded(void)
{
    char dir[] = "/tmp/vnp_test_weights_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p1[512], p2[512], pi[512];
    snprintf(p1, sizeof p1, "%s/model-00001-of-00002.safetensors", dir);
    snprintf(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", dir);
    snprintf(pi, sizeof pi, "%s/model.safetensors.index.json", dir);
    float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
    vnp_tensor t1, t2;
    int64_t s4[1] = {4}, s2[1] = {2};
    CHECK(vnp_tensor_init(&t1, "esm.encoder.layer.0.LayerNorm.weight", VNP_DT_F32, 1, s4, a) == VNP_OK);
    CHECK(vnp_tensor_init(&t2, "esm.encoder.emb_layer_norm_after.bias", VNP_DT_F32, 1, s2, b) == VNP_OK);
    CHECK(vnp_safetensors_write(p1, &t1, 1, VNP_DT_COUNT, NULL, 0) == VNP_OK);
    CHECK(vnp_safetensors_write(p2, &t2, 1, VNP_DT_COUNT, NULL, 0) == VNP_OK);
    FILE *f = fopen(pi, "w");
    CHECK(f != NULL);
    if (f) {
        fprintf(f, "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {"
                   "\"esm.encoder.layer.0.LayerNorm.weight\": \"model-00001-of-00002.safetensors\", "
                   "\"esm.encoder.emb_layer_norm_after.bias\": \"model-00002-of-00002.safetensors\"}}");
        fclose(f);
    }
    vnp_weights *w = vnp_weights_open(dir);
    CHECK(w != NULL);
    if (w) {
        CHECK_EQ_STR(vnp_weights_format(w), "safetensors-sharded");
        CHECK_EQ_INT(vnp_weights_count(w), 2);
        CHECK(vnp_weights_find(w, "layer.0.LayerNorm.weight") != NULL);
        const vnp_tensor *t = vnp_weights_find(w, "emb_layer_norm_after.bias");
        float v[2];
        CHECK(t && vnp_tensor_to_f32(t, v) == VNP_OK && v[1] == 6);
        vnp_weights_release(w, t); /* advisory: data still readable afterwards */
        CHECK(vnp_tensor_to_f32(t, v) == VNP_OK && v[0] == 5);
    }
    vnp_weights_close(w);
    /* an index naming a tensor its shard lacks is refused */
    f = fopen(pi, "w");
    if (f) {
        fprintf(f, "{\"weight_map\": {\"missing.weight\": \"model-00001-of-00002.safetensors\"}}");
        fclose(f);
    }
    CHECK(vnp_weights_open(pi) == NULL);
    f = fopen(pi, "w");
    if (f) {
        fprintf(f, "{\"weight_map\": {\"x\": \"../etc/passwd\"}}");
        fclose(f);
    }
    CHECK(vnp_weights_open(pi) == NULL);
    unlink(p1);
    unlink(p2);
    unlink(pi);
    /* a sharded pytorch_model.bin: one torch zip shard (the fixture, linked) and its index */
    char target[4096];
    snprintf(target, sizeof target, "%s", model_path("esm2-tiny/pytorch_model.bin"));
    if (target[0] != '/') {
        char cwd[2048];
        if (getcwd(cwd, sizeof cwd))
            snprintf(target, sizeof target, "%s/%s", cwd, model_path("esm2-tiny/pytorch_model.bin"));
    }
    snprintf(p1, sizeof p1, "%s/pytorch_model-00001-of-00001.bin", dir);
    snprintf(pi, sizeof pi, "%s/pytorch_model.bin.index.json", dir);
    CHECK(symlink(target, p1) == 0);
    f = fopen(pi, "w");
    if (f) {
        fprintf(f, "{\"weight_map\": {\"esm.embeddings.word_embeddings.weight\": "
                   "\"pytorch_model-00001-of-00001.bin\"}}");
        fclose(f);
    }
    w = vnp_weights_open(dir);
    CHECK(w != NULL);
    if (w) {
        CHECK_EQ_STR(vnp_weights_format(w), "pytorch-zip-sharded");
        CHECK_EQ_INT(vnp_weights_count(w), 63);
    }
    vnp_weights_close(w);
    unlink(p1);
    unlink(pi);
    rmdir(dir);
}

static void report_count(void *ctx, const vnp_tensor_spec *want, const vnp_tensor *got)
{
    (void)want;
    (void)got;
    (*(int *)ctx)++;
}

static void test_required(void)
{
    vnp_model_info m = {.kind = VNP_MODEL_ESM2, .layers = 36, .dim = 2560, .heads = 40, .ffn = 10240, .vocab = 33};
    size_t n;
    vnp_tensor_spec *r = vnp_model_required(&m, &n);
    CHECK(r != NULL && n == 1 + 36 * 17 + 2);
    int found = 0;
    for (size_t i = 0; r && i < n; i++)
        if (strcmp(r[i].name, "layer.35.intermediate.dense.weight") == 0)
            found = r[i].shape[0] == 10240 && r[i].shape[1] == 2560 && !r[i].optional;
    CHECK(found);
    free(r);
    /* check reports a missing tensor */
    vnp_weights *w = open_model("mlp/mlp_tiny.pth");
    vnp_model_info mm;
    if (w && vnp_weights_model_info(w, &mm) == VNP_OK) {
        mm.dim = 33; /* pretend a different width: every hidden-sized tensor is now mis-shaped */
        int count = 0;
        CHECK(vnp_weights_check(w, &mm, report_count, &count) == 7 && count == 7); /* all but output_layer.bias */
    }
    vnp_weights_close(w);
    CHECK_EQ_STR(vnp_model_kind_name(VNP_MODEL_DNABERT_S), "dnabert_s");
}

int main(void)
{
    test_esm2_layouts();
    test_fair_alone();
    test_dnabert();
    test_mlp();
    test_half();
    test_strided();
    test_write_roundtrip();
    test_sharded();
    test_required();
    VNP_TEST_END();
}
