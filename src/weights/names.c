/* Name normalisation: the Hugging Face names without the model prefix, with fair-esm names mapped onto them
 * (spec/esm2.md §4b, the table of convert_esm.py). */
#include "table.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name after the model prefixes: "esm." or "bert.", then "encoder.sentence_encoder." or "encoder.". */
static const char *strip_prefixes(const char *raw)
{
    const char *s = raw;
    if (strncmp(s, "esm.", 4) == 0)
        s += 4;
    else if (strncmp(s, "bert.", 5) == 0)
        s += 5;
    if (strncmp(s, "encoder.sentence_encoder.", 25) == 0)
        s += 25;
    else if (strncmp(s, "encoder.", 8) == 0)
        s += 8;
    return s;
}

/* Length of "layers.<digits>." at s, 0 when s does not start so. */
static size_t layers_prefix(const char *s, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(s, word, n) != 0 || !isdigit((unsigned char)s[n])) return 0;
    size_t i = n;
    while (isdigit((unsigned char)s[i])) i++;
    return s[i] == '.' ? i + 1 : 0;
}

int vnp_names_is_fair(const char *raw)
{
    const char *s = strip_prefixes(raw);
    return strcmp(s, "embed_tokens.weight") == 0 || layers_prefix(s, "layers.") > 0;
}

/* fair-esm per-layer sub-names -> HF (the part after "layers.N." / "layer.N."). */
static const struct {
    const char *fair, *hf;
} layer_map[] = {
    {"self_attn.q_proj.", "attention.self.query."},
    {"self_attn.k_proj.", "attention.self.key."},
    {"self_attn.v_proj.", "attention.self.value."},
    {"self_attn.out_proj.", "attention.output.dense."},
    {"self_attn.rot_emb.", "attention.self.rotary_embeddings."},
    {"self_attn_layer_norm.", "attention.LayerNorm."},
    {"fc1.", "intermediate.dense."},
    {"fc2.", "output.dense."},
    {"final_layer_norm.", "LayerNorm."},
};

static char *join3(const char *a, size_t alen, const char *b, const char *c)
{
    size_t n = alen + strlen(b) + strlen(c) + 1;
    char *out = malloc(n);
    if (!out) return NULL;
    memcpy(out, a, alen);
    snprintf(out + alen, n - alen, "%s%s", b, c);
    return out;
}

static char *map_fair(const char *s)
{
    if (strcmp(s, "embed_tokens.weight") == 0) return vnp_strdup("embeddings.word_embeddings.weight");
    if (strcmp(s, "lm_head.weight") == 0) return vnp_strdup("lm_head.decoder.weight");
    size_t lp = layers_prefix(s, "layers.");
    if (lp == 0) return vnp_strdup(s);
    /* "layers.N." -> "layer.N." then the sub-name through the table (unknown sub-names kept). */
    const char *digits = s + 7, *rest = s + lp;
    size_t ndig = lp - 7; /* digits plus the dot */
    char head[64];
    if (ndig + 6 >= sizeof head) return vnp_strdup(s);
    memcpy(head, "layer.", 6);
    memcpy(head + 6, digits, ndig);
    size_t hlen = 6 + ndig;
    for (size_t i = 0; i < sizeof layer_map / sizeof layer_map[0]; i++) {
        size_t n = strlen(layer_map[i].fair);
        if (strncmp(rest, layer_map[i].fair, n) == 0) return join3(head, hlen, layer_map[i].hf, rest + n);
    }
    return join3(head, hlen, "", rest);
}

char *vnp_names_normalise(const char *raw, int fair)
{
    const char *s = strip_prefixes(raw);
    return fair ? map_fair(s) : vnp_strdup(s);
}
