/* libFuzzer target: a model's config.json read through its model description (vnp_model_read), beside two small
 * tensor tables shaped like ESM-2 and DNABERT-S. Any input must give either a model whose sizes are the tensors'
 * (heads dividing the width) or a refusal, and the encoder loader must reach the same verdict. */
#include "vnp/model.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    vnp_tensor *t;
    size_t n;
} table;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const vnp_tensor *)a)->name, ((const vnp_tensor *)b)->name);
}

static const vnp_tensor *find(const void *ctx, const char *name)
{
    const table *tb = ctx;
    vnp_tensor key = {.name = name};
    return bsearch(&key, tb->t, tb->n, sizeof key, by_name);
}

static float zeros[4096];
static char names[2][64][96];

static void add(table *tb, char (*nm)[96], const char *name, int64_t d0, int64_t d1)
{
    vnp_tensor *t = &tb->t[tb->n];
    snprintf(nm[tb->n], 96, "%s", name);
    int64_t shape[2] = {d0, d1};
    if (vnp_tensor_init(t, nm[tb->n], VNP_DT_F32, d1 ? 2 : 1, shape, zeros)) abort();
    tb->n++;
}

/* ESM-2: 2 layers, D 8, FFN 16, vocabulary 33, rotary inv_freq of head dim 4 (2 heads). */
static void make_esm(table *tb)
{
    static const char *per[] = {"attention.self.query.weight", "attention.self.key.weight",
                                "attention.self.value.weight", "attention.output.dense.weight"};
    static const char *vec[] = {"attention.self.query.bias", "attention.self.key.bias", "attention.self.value.bias",
                                "attention.output.dense.bias", "attention.LayerNorm.weight", "attention.LayerNorm.bias",
                                "output.dense.bias", "LayerNorm.weight", "LayerNorm.bias"};
    char n[96];
    add(tb, names[0], "embeddings.word_embeddings.weight", 33, 8);
    add(tb, names[0], "emb_layer_norm_after.weight", 8, 0);
    add(tb, names[0], "emb_layer_norm_after.bias", 8, 0);
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < 4; i++) snprintf(n, sizeof n, "layer.%d.%s", l, per[i]), add(tb, names[0], n, 8, 8);
        for (size_t i = 0; i < 9; i++) snprintf(n, sizeof n, "layer.%d.%s", l, vec[i]), add(tb, names[0], n, 8, 0);
        snprintf(n, sizeof n, "layer.%d.intermediate.dense.weight", l), add(tb, names[0], n, 16, 8);
        snprintf(n, sizeof n, "layer.%d.intermediate.dense.bias", l), add(tb, names[0], n, 16, 0);
        snprintf(n, sizeof n, "layer.%d.output.dense.weight", l), add(tb, names[0], n, 8, 16);
        snprintf(n, sizeof n, "layer.%d.attention.self.rotary_embeddings.inv_freq", l), add(tb, names[0], n, 2, 0);
    }
}

/* DNABERT-S: 1 layer, D 8, FFN 4, vocabulary 16, 2 token types. */
static void make_dna(table *tb)
{
    add(tb, names[1], "embeddings.word_embeddings.weight", 16, 8);
    add(tb, names[1], "embeddings.token_type_embeddings.weight", 2, 8);
    add(tb, names[1], "embeddings.LayerNorm.weight", 8, 0);
    add(tb, names[1], "embeddings.LayerNorm.bias", 8, 0);
    add(tb, names[1], "layer.0.attention.self.Wqkv.weight", 24, 8);
    add(tb, names[1], "layer.0.attention.self.Wqkv.bias", 24, 0);
    add(tb, names[1], "layer.0.attention.output.dense.weight", 8, 8);
    add(tb, names[1], "layer.0.attention.output.dense.bias", 8, 0);
    add(tb, names[1], "layer.0.attention.output.LayerNorm.weight", 8, 0);
    add(tb, names[1], "layer.0.attention.output.LayerNorm.bias", 8, 0);
    add(tb, names[1], "layer.0.mlp.gated_layers.weight", 8, 8);
    add(tb, names[1], "layer.0.mlp.wo.weight", 8, 4);
    add(tb, names[1], "layer.0.mlp.wo.bias", 8, 0);
    add(tb, names[1], "layer.0.mlp.layernorm.weight", 8, 0);
    add(tb, names[1], "layer.0.mlp.layernorm.bias", 8, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vnp_tensor store[2][64];
    static table tables[2];
    if (!tables[0].n) {
        vnp_log_set_level(VNP_LOG_QUIET);
        tables[0].t = store[0];
        tables[1].t = store[1];
        make_esm(&tables[0]);
        make_dna(&tables[1]);
        for (int k = 0; k < 2; k++) qsort(tables[k].t, tables[k].n, sizeof(vnp_tensor), by_name);
    }
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    for (int k = 0; k < 2; k++) {
        vnp_model_info m;
        int rc = vnp_model_read(find, &tables[k], text, 0, "fuzz", &m);
        if (rc == VNP_OK) {
            int layers = k ? 1 : 2;
            if (m.dim != 8 || m.layers != layers || m.heads < 1 || m.dim % m.heads) abort();
            if (vnp_model_check_tensors(find, &tables[k], &m, NULL, NULL) != 0) abort();
        }
        vnp_encoder_config cfg;
        int rc2 = vnp_encoder_config_derive(find, &tables[k], text, 0, "fuzz", &cfg);
        if ((rc == VNP_OK) != (rc2 == VNP_OK)) abort(); /* one verdict */
    }
    free(text);
    return 0;
}
