/* The ESM-2 alphabet (fair-esm "ESM-1b" architecture, 33 tokens) and its encoder, with HF EsmTokenizer's
 * treatment of unknown characters (../shared/spec/esm2.md §1). */
#include "tok_internal.h"

#include <string.h>

static const char *const esm_tokens[VNP_ESM_VOCAB_SIZE] = {
    "<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K", "Q",
    "N",     "F",     "Y",     "M",     "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-", "<null_1>", "<mask>"};

const char *vnp_esm_token(int32_t id)
{
    return id >= 0 && id < VNP_ESM_VOCAB_SIZE ? esm_tokens[id] : NULL;
}

/* id of a one-character token, -1 for any other byte (the unit test checks it against esm_tokens). */
static inline int esm_char_id(unsigned char c)
{
    switch (c) {
    case 'L': return 4;
    case 'A': return 5;
    case 'G': return 6;
    case 'V': return 7;
    case 'S': return 8;
    case 'E': return 9;
    case 'R': return 10;
    case 'T': return 11;
    case 'I': return 12;
    case 'D': return 13;
    case 'P': return 14;
    case 'K': return 15;
    case 'Q': return 16;
    case 'N': return 17;
    case 'F': return 18;
    case 'Y': return 19;
    case 'M': return 20;
    case 'H': return 21;
    case 'W': return 22;
    case 'C': return 23;
    case 'X': return 24;
    case 'B': return 25;
    case 'U': return 26;
    case 'Z': return 27;
    case 'O': return 28;
    case '.': return 29;
    case '-': return 30;
    default: return -1;
    }
}

/* The multi-character token ("<cls>" ... "<mask>") that s[i..len) starts with, as its id, else -1. No token is
 * a prefix of another and none shares a character with a one-letter token, so the first hit is HF's
 * longest-match. */
static int esm_special_at(const char *s, size_t len, size_t i)
{
    for (int id = 0; id < VNP_ESM_VOCAB_SIZE; id++) {
        const char *t = esm_tokens[id];
        size_t n = strlen(t);
        if (n > 1 && len - i >= n && memcmp(s + i, t, n) == 0) return id;
    }
    return -1;
}

int vnp_esm_encode(const char *seq, size_t len, vnp_tokens *out, size_t *n_unknown)
{
    /* at most one id per byte, plus <cls> and <eos> */
    if (len > SIZE_MAX - 2 || vnp_tokens_reserve(out, len + 2) != VNP_OK) return VNP_ERR_NOMEM;
    const unsigned char *s = (const unsigned char *)seq;
    int32_t *ids = out->ids + out->n;
    size_t k = 0, unknown = 0;
    int in_unknown_run = 0;
    ids[k++] = VNP_ESM_CLS;
    for (size_t i = 0; i < len;) {
        int id = esm_char_id(s[i]);
        if (id >= 0) {
            ids[k++] = id;
            in_unknown_run = 0;
            i++;
            continue;
        }
        if (s[i] == '<' && (id = esm_special_at(seq, len, i)) >= 0) {
            ids[k++] = id;
            in_unknown_run = 0;
            i += strlen(esm_tokens[id]);
            continue;
        }
        uint32_t cp;
        size_t n = vnp_tok_utf8(s, len, i, &cp);
        i += n;
        if (vnp_tok_is_py_space(cp)) {
            in_unknown_run = 0;
            continue;
        }
        unknown++;
        if (!in_unknown_run) ids[k++] = VNP_ESM_UNK;
        in_unknown_run = 1;
    }
    ids[k++] = VNP_ESM_EOS;
    out->n += k;
    if (n_unknown) *n_unknown = unknown;
    return VNP_OK;
}
