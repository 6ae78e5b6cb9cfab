/* Helpers shared by the two tokenizers: UTF-8 stepping, the two whitespace definitions, scratch memory. */
#ifndef VNP_TOK_INTERNAL_H
#define VNP_TOK_INTERNAL_H

#include "vnp/tok.h"

#include <stddef.h>
#include <stdint.h>

/* Length in bytes of the UTF-8 character at s[i] (i < len) and its code point in *cp. A byte that does not
 * start a valid, shortest-form sequence is one character of its own with *cp = 0xFFFD: Python and Rust strings
 * are always valid UTF-8, so any choice is ours, and one-byte-one-character keeps every byte accounted for. */
static inline size_t vnp_tok_utf8(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned b = s[i];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    uint32_t c;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        c = b & 0x0F;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        c = b & 0x07;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (len - i < n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t k = 1; k < n; k++) {
        unsigned cb = s[i + k];
        if (cb < lo || cb > hi) {
            *cp = 0xFFFD;
            return 1;
        }
        lo = 0x80;
        hi = 0xBF;
        c = (c << 6) | (cb & 0x3F);
    }
    *cp = c;
    return n;
}

/* Non-ASCII code points of the Unicode White_Space property. */
static inline int vnp_tok_unicode_space_hi(uint32_t c)
{
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Regex `\s` as Hugging Face tokenizers' Whitespace pre-tokenizer sees it (Unicode White_Space). */
static inline int vnp_tok_is_regex_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || c == 32 || (c >= 0x80 && vnp_tok_unicode_space_hi(c));
}

/* Python's str.isspace (used by str.split in HF EsmTokenizer): White_Space plus the ASCII separators 28-31. */
static inline int vnp_tok_is_py_space(uint32_t c)
{
    return (c >= 9 && c <= 13) || (c >= 28 && c <= 32) || (c >= 0x80 && vnp_tok_unicode_space_hi(c));
}

/* 1 when the non-ASCII code point c is a word character (`\w`) for HF's Whitespace pre-tokenizer
 * (unicode_word.c). */
int vnp_tok_is_word_cp(uint32_t c);

/* The caller's scratch area grown to at least `bytes` (contents not kept); NULL when out of memory. */
void *vnp_tok_scratch(vnp_tokens *t, size_t bytes);

#endif
