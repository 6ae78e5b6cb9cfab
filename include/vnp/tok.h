/* tok: the two tokenizers of VirNucPro, bit-for-bit as Hugging Face produces their ids.
 *
 *  - ESM-2: the fixed 33-token alphabet of fair-esm / HF EsmTokenizer (../shared/spec/esm2.md §1).
 *  - DNABERT-S: a byte-pair-encoding model read from a Hugging Face `tokenizer.json`
 *    (../shared/spec/dnabert_s.md §5): added tokens split out first, the Whitespace pre-tokenizer
 *    (`\w+|[^\w\s]+`), BPE merges applied by rank exactly as `tokenizers` word.rs::merge_all, one [UNK] per
 *    unknown character, then the post-processor ([CLS] ... [SEP]). Never pads or truncates, whatever the
 *    file's saved `padding`/`truncation` settings say (Hugging Face's AutoTokenizer does not apply them either).
 *
 * Output goes to a caller-owned vnp_tokens buffer that also holds the encoder's scratch memory, so after the
 * first few calls encoding allocates nothing. A loaded vnp_bpe is read-only: any number of threads may encode
 * with one vnp_bpe at the same time, each with its own vnp_tokens.
 *
 * Example:
 *     vnp_bpe *bpe = vnp_bpe_load("models/dnabert-s/tokenizer.json");   // NULL: the reason was logged
 *     vnp_tokens t = {0};
 *     if (vnp_bpe_encode(bpe, "ACGTN", 5, &t) == 0) { ... t.ids[0 .. t.n) = 1 5 6 1049 0 2 ... }
 *     t.n = 0;                            // reuse for the next sequence (or keep appending)
 *     vnp_tokens_free(&t); vnp_bpe_free(bpe);
 */
#ifndef VNP_TOK_H
#define VNP_TOK_H

#include "vnp/util.h"

#include <stddef.h>
#include <stdint.h>

/* ---- the id buffer ---- */

/* A growable array of token ids, owned by the caller. Zero-initialise it ({0}) before first use.
 * Encoders APPEND to ids[n..]; set n = 0 yourself to start over. `scratch` is private working memory of the
 * encoders, kept between calls so that a warmed buffer never allocates. */
typedef struct {
    int32_t *ids; /* ids[0 .. n) */
    size_t n;
    size_t cap;
    void *scratch; /* private */
    size_t scratch_bytes;
} vnp_tokens;

/* Makes room for `extra` more ids (ids[n .. n+extra)); VNP_ERR_NOMEM on failure (the buffer is unchanged). */
int vnp_tokens_reserve(vnp_tokens *t, size_t extra) VNP_MUST_CHECK;
/* Releases ids and scratch and zeroes the struct; accepts NULL and a zeroed struct. */
void vnp_tokens_free(vnp_tokens *t);

/* ---- ESM-2 ---- */

enum {
    VNP_ESM_CLS = 0,
    VNP_ESM_PAD = 1,
    VNP_ESM_EOS = 2,
    VNP_ESM_UNK = 3,
    VNP_ESM_MASK = 32,
    VNP_ESM_VOCAB_SIZE = 33
};

/* The token string of an ESM-2 id ("<cls>", "L", ...), or NULL when id is outside [0, 33). */
const char *vnp_esm_token(int32_t id);

/* Appends <cls> (0), one id per protein token, <eos> (2) to out, exactly as HF EsmTokenizer does:
 *  - each of the 33 tokens is recognised literally, case-sensitive: the 29 one-letter tokens
 *    (L A G V S E R T I D P K Q N F Y M H W C X B U Z O . -) and the strings <cls> <pad> <eos> <unk> <null_1>
 *    <mask> anywhere in the text;
 *  - whitespace (Python str.isspace: ASCII 9-13, 28-32 and the Unicode spaces) is dropped;
 *  - every other character (lower case, J, *, digits, non-ASCII, ...) is unknown: a maximal run of unknown
 *    characters not broken by a known token or whitespace becomes ONE <unk> (3), as HF's
 *    `text.split()` after splitting on the known tokens gives ("MKjjA" -> 0 20 15 3 5 2; checked against
 *    transformers' EsmTokenizer on 5,010 strings by bench/xcheck_tok_hf.py).
 *    (fair-esm would raise KeyError instead; VirNucPro's translated proteins never contain such characters.)
 * seq is UTF-8 (invalid bytes count as one character each) and need not be NUL-terminated; len 0 gives 0 2.
 * *n_unknown (may be NULL) receives the number of unknown CHARACTERS, so the caller can print one warning.
 * Returns 0, or VNP_ERR_NOMEM (out keeps its earlier ids). */
int vnp_esm_encode(const char *seq, size_t len, vnp_tokens *out, size_t *n_unknown) VNP_MUST_CHECK;

/* ---- DNABERT-S BPE (any tokenizer.json of the supported subset) ---- */

typedef struct vnp_bpe vnp_bpe;

/* Reads a Hugging Face tokenizer.json. Supported: model BPE (unk_token, fuse_unk, ignore_merges; no dropout,
 * byte_fallback, continuing_subword_prefix or end_of_word_suffix), merges as "a b" strings or [a, b] pairs,
 * added_tokens (without lstrip/rstrip/single_word), normalizer null, pre_tokenizer Whitespace or null,
 * post_processor TemplateProcessing, BertProcessing, RobertaProcessing or null. `padding` and `truncation`
 * are ignored on purpose. Returns NULL after logging, with the file name, what is wrong (not JSON: line and
 * column; a missing key; a wrong type; a merge whose parts or result are not in the vocab; an unsupported
 * feature). */
vnp_bpe *vnp_bpe_load(const char *tokenizer_json);
/* The same from JSON text in memory; `name` is used in messages. */
vnp_bpe *vnp_bpe_load_mem(const char *json, size_t len, const char *name);
void vnp_bpe_free(vnp_bpe *bpe); /* accepts NULL */

/* Appends the ids of one sequence to out: the post-processor's prefix ([CLS]), the tokens, its suffix ([SEP]).
 * seq is UTF-8 text (invalid bytes are one character each) and need not be NUL-terminated. DNA gives one word;
 * every character outside the vocab (N, IUPAC codes, lower case, '-', ...) gives one [UNK]. len 0 gives
 * [CLS] [SEP]. Time is linear in len for trained merge tables such as DNABERT-S's (O(len log len) for
 * others). Thread-safe for distinct `out`. Returns 0 or VNP_ERR_NOMEM (out then
 * keeps its earlier ids). */
int vnp_bpe_encode(const vnp_bpe *bpe, const char *seq, size_t len, vnp_tokens *out) VNP_MUST_CHECK;

/* 1 + the largest id of the vocab and the added tokens (4096 for DNABERT-S). */
int32_t vnp_bpe_vocab_size(const vnp_bpe *bpe);
/* The id of a token string (vocab or added token), or -1. E.g. "[CLS]" -> 1, "[PAD]" -> 3 for DNABERT-S. */
int32_t vnp_bpe_token_id(const vnp_bpe *bpe, const char *token);
/* The string of an id, or NULL when no token has that id. Valid until vnp_bpe_free. */
const char *vnp_bpe_token(const vnp_bpe *bpe, int32_t id);
/* The model's unk_token id ([UNK] = 0), or -1 when it has none (unknown characters are then dropped). */
int32_t vnp_bpe_unk_id(const vnp_bpe *bpe);
/* The ids the post-processor puts before / after a single sequence ([CLS] = 1 / [SEP] = 2 for DNABERT-S):
 * writes at most `max` ids to ids and returns how many there are in all. */
size_t vnp_bpe_prefix_ids(const vnp_bpe *bpe, int32_t *ids, size_t max);
size_t vnp_bpe_suffix_ids(const vnp_bpe *bpe, int32_t *ids, size_t max);

#endif
