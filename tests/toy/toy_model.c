/* A test-only third model, to show what adding a model takes: this one file. "Toy-ESM" is an ESM-2-like protein
 * encoder under other tensor names and its own config.json model_type; its description below is all the program
 * learns of it. The test build `virnucpro_toy` is the program with this model registered before main runs
 * (tests/cli/test_toy_model.sh runs `models check` and `embed` on it). A model built into the product would instead
 * live in src/model/<name>.c with one line in src/model/registry.c. */
#define main vnp_cli_main
#include "../../cli/main.c"
#undef main

#include "model/model_internal.h"

#define BLOCK "blocks.%d."

static const vnp_tensor_desc tensors[] = {
    {"tok_embed.weight", {VNP_SZ_V, VNP_SZ_D}, VNP_SLOT_TOK_EMB, 0},
    {BLOCK "attn.q.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_QKV_W, 0}, /* q|k|v fused: consecutive */
    {BLOCK "attn.k.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {BLOCK "attn.v.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {BLOCK "attn.q.bias", {VNP_SZ_D}, VNP_SLOT_QKV_B, 0},
    {BLOCK "attn.k.bias", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {BLOCK "attn.v.bias", {VNP_SZ_D}, VNP_SLOT_FOLLOWS, 0},
    {BLOCK "attn.inv_freq", {VNP_SZ_HALF_HD}, VNP_SLOT_NONE, VNP_T_OPTIONAL},
    {BLOCK "attn.out.weight", {VNP_SZ_D, VNP_SZ_D}, VNP_SLOT_O_W, 0},
    {BLOCK "attn.out.bias", {VNP_SZ_D}, VNP_SLOT_O_B, 0},
    {BLOCK "norm1.weight", {VNP_SZ_D}, VNP_SLOT_LN1_W, 0},
    {BLOCK "norm1.bias", {VNP_SZ_D}, VNP_SLOT_LN1_B, 0},
    {BLOCK "ffn.up.weight", {VNP_SZ_F, VNP_SZ_D}, VNP_SLOT_FC1_W, 0},
    {BLOCK "ffn.up.bias", {VNP_SZ_F}, VNP_SLOT_FC1_B, 0},
    {BLOCK "ffn.down.weight", {VNP_SZ_D, VNP_SZ_F}, VNP_SLOT_FC2_W, 0},
    {BLOCK "ffn.down.bias", {VNP_SZ_D}, VNP_SLOT_FC2_B, 0},
    {BLOCK "norm2.weight", {VNP_SZ_D}, VNP_SLOT_LN2_W, 0},
    {BLOCK "norm2.bias", {VNP_SZ_D}, VNP_SLOT_LN2_B, 0},
    {"final_norm.weight", {VNP_SZ_D}, VNP_SLOT_FINAL_LN_W, 0},
    {"final_norm.bias", {VNP_SZ_D}, VNP_SLOT_FINAL_LN_B, 0},
};

static const vnp_size_source sources[] = {
    {"tok_embed.weight", 0, 0, VNP_SZ_V},
    {"tok_embed.weight", 1, 0, VNP_SZ_D},
    {"blocks.0.ffn.up.weight", 0, 0, VNP_SZ_F},
};

static const vnp_config_key keys[] = {
    {"num_hidden_layers", VNP_KEY_INT, 1, 64, VNP_SZ_L, 0, NULL},
    {"hidden_size", VNP_KEY_INT, 1, 4096, VNP_SZ_D, 0, NULL},
    {"num_attention_heads", VNP_KEY_INT, 1, 64, VNP_SZ_H, 0, NULL},
    {"intermediate_size", VNP_KEY_INT, 1, 16384, VNP_SZ_F, 0, NULL},
};

static const vnp_model_desc toy_desc = {
    .name = "toy_esm", .title = "Toy-ESM", .kind = VNP_MODEL_UNKNOWN, .role = VNP_ROLE_PROTEIN,
    .detect = {BLOCK "attn.q.weight"},
    .layer_probe = BLOCK "attn.q.weight",
    .model_type = "toy_esm",
    .sources = sources, .n_sources = VNP_COUNT(sources),
    .keys = keys, .n_keys = VNP_COUNT(keys),
    .tensors = tensors, .n_tensors = VNP_COUNT(tensors),
    .rotary_tensor = BLOCK "attn.inv_freq",
    .forward = vnp_esm2_forward, /* the same layer as ESM-2: pre-LN, rotary, GELU FFN, final LayerNorm */
    .tokenizer = VNP_TOK_ESM,
    .ln_eps = 1e-5f,
    .mask_id = 32,
    .pool_skip_first = 1, .pool_skip_last = 1, .pool_max_rows = 1024,
    .features = VNP_F_ROTARY | VNP_F_PRE_LN,
};

int main(int argc, char **argv)
{
    if (vnp_model_register(&toy_desc)) return 1;
    return vnp_cli_main(argc, argv);
}
