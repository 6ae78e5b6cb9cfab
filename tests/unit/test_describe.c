/* Unit tests of the model descriptions (src/model/describe.c, registry.c): every built-in description is well
 * formed (per-layer block contiguous, fused tensors after a slotted one, every weight field of the forward pass
 * bound), tensor lists come out in the arena order the loader expects, and config.json keys are judged by type,
 * range and agreement with the tensors on real fixture files. */
#include "model/model_internal.h"
#include "vnp/model.h"
#include "vnp/weights.h"
#include "vnp_test.h"

static void test_descriptions_well_formed(void)
{
    const vnp_model_desc *d;
    size_t n = 0;
    for (size_t i = 0; (d = vnp_model_desc_at(i)); i++, n++) {
        CHECK(d->name && d->title && d->detect[0] && d->n_tensors > 0);
        CHECK(vnp_model_desc_of_kind(d->kind) == d);
        CHECK_EQ_STR(vnp_model_kind_name(d->kind), d->name);
        /* the per-layer tensors form one block, and a "follows" tensor comes after one that is copied */
        size_t first = d->n_tensors, last = 0, in_block = 0;
        for (size_t k = 0; k < d->n_tensors; k++)
            if (strstr(d->tensors[k].name, "%d")) {
                if (first == d->n_tensors) first = k;
                last = k;
                in_block++;
            }
        CHECK_MSG(in_block == 0 || last - first + 1 == in_block, "%s: per-layer tensors not contiguous", d->name);
        CHECK(d->tensors[0].slot != VNP_SLOT_NONE);
        if (!d->forward) continue;
        /* an encoder binds every weight its forward pass reads */
        unsigned seen = 0;
        for (size_t k = 0; k < d->n_tensors; k++) seen |= 1u << d->tensors[k].slot;
        static const vnp_slot need[] = {VNP_SLOT_TOK_EMB, VNP_SLOT_LN1_W, VNP_SLOT_LN1_B, VNP_SLOT_QKV_W,
                                        VNP_SLOT_QKV_B,   VNP_SLOT_O_W,   VNP_SLOT_O_B,   VNP_SLOT_LN2_W,
                                        VNP_SLOT_LN2_B,   VNP_SLOT_FC1_W, VNP_SLOT_FC2_W, VNP_SLOT_FC2_B};
        for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
            CHECK_MSG(seen & (1u << need[k]), "%s: slot %d never bound", d->name, (int)need[k]);
        CHECK(d->pool_max_rows != 0 && d->ln_eps > 0);
    }
    CHECK(n >= 3);
}

/* The arena list: ESM-2 query|key|value adjacent (one fused GEMM), inv_freq only checked, DNABERT-S token type
 * row 0 only. */
static void test_lists(void)
{
    vnp_encoder_config c;
    CHECK(vnp_encoder_config_named("esm2_8m", &c) == VNP_OK);
    int64_t sz[VNP_SZ_COUNT];
    vnp_encoder_sizes(&c, sz);
    vnp_wlist all = {0}, arena = {0};
    CHECK(vnp_wlist_build(c.desc, sz, 0, &all) == VNP_OK && vnp_wlist_build(c.desc, sz, 1, &arena) == VNP_OK);
    CHECK_EQ_INT(all.n, 1 + 6 * 17 + 2);
    CHECK_EQ_INT(arena.n, 1 + 6 * 16 + 2);
    size_t q = 0;
    for (size_t i = 0; i < arena.n; i++)
        if (strcmp(arena.v[i].name, "layer.3.attention.self.query.weight") == 0) q = i;
    CHECK(q > 0 && strcmp(arena.v[q + 1].name, "layer.3.attention.self.key.weight") == 0 &&
          arena.v[q + 2].offset == arena.v[q].offset + 2 * 320 * 320);
    CHECK(arena.v[q].layer == 3 && arena.v[q].slot == VNP_SLOT_QKV_W);
    vnp_wlist_free(&all);
    vnp_wlist_free(&arena);
    CHECK(vnp_encoder_config_named("dnabert_s", &c) == VNP_OK);
    c.types = 2;
    vnp_encoder_sizes(&c, sz);
    CHECK(vnp_wlist_build(c.desc, sz, 1, &arena) == VNP_OK);
    CHECK(arena.n > 1 && arena.v[1].shape[0] == 2 && arena.v[1].elems == 768 && arena.v[1].slot == VNP_SLOT_TYPE_ROW);
    vnp_wlist_free(&arena);
}

/* config.json of the ESM-2 fixture, with one key changed, judged beside its real tensors. */
static int judge(vnp_weights *w, const char *key, const char *value, vnp_model_info *m)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"model_type\": \"esm\", \"%s\": %s}", key, value);
    return vnp_model_read(vnp_weights_lookup, w, cfg, 0, "test", m);
}

static void test_config_keys(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models/esm2-tiny/model.safetensors", vnp_test_data());
    vnp_weights *w = vnp_weights_open(path);
    CHECK(w != NULL);
    if (!w) return;
    vnp_model_info m;
    fprintf(stderr, "(the errors below are expected)\n");
    CHECK(judge(w, "hidden_size", "128", &m) == VNP_OK && m.dim == 128 && m.heads == 2 &&
          strcmp(m.heads_source, "inv_freq") == 0);
    CHECK(judge(w, "hidden_size", "null", &m) == VNP_OK);
    CHECK(judge(w, "hidden_size", "\"128\"", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "hidden_size", "128.5", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "hidden_size", "1000000000", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "num_hidden_layers", "-1", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "num_hidden_layers", "2", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "intermediate_size", "4611686018427387904", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "num_attention_heads", "0", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "num_attention_heads", "3", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "num_attention_heads", "4", &m) == VNP_ERR_FORMAT); /* the inv_freq says head dim 64 */
    CHECK(judge(w, "num_attention_heads", "2", &m) == VNP_OK && strcmp(m.heads_source, "config.json") == 0);
    CHECK(judge(w, "position_embedding_type", "\"absolute\"", &m) == VNP_ERR_UNSUPPORTED);
    CHECK(judge(w, "token_dropout", "false", &m) == VNP_OK && m.token_dropout == 0);
    CHECK(judge(w, "layer_norm_eps", "0", &m) == VNP_ERR_FORMAT);
    CHECK(judge(w, "layer_norm_eps", "1e-6", &m) == VNP_OK && m.ln_eps == 1e-6f);
    CHECK(vnp_model_read(vnp_weights_lookup, w, "{\"model_type\": \"bert\"}", 0, "test", &m) == VNP_ERR_FORMAT);
    CHECK(vnp_model_read(vnp_weights_lookup, w, "[1, 2]", 0, "test", &m) == VNP_ERR_FORMAT);
    CHECK(vnp_model_read(vnp_weights_lookup, w, "{\"num_hidden_layers\": ", 0, "test", &m) == VNP_ERR_FORMAT);
    fprintf(stderr, "(end of expected errors)\n");
    vnp_weights_close(w);
}

int main(void)
{
    test_descriptions_well_formed();
    test_lists();
    test_config_keys();
    VNP_TEST_END();
}
