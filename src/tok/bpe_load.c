/* Reading a Hugging Face tokenizer.json into a vnp_bpe: every key is checked for presence and type, and every
 * refusal names the file and the JSON path of what is wrong.
 *
 * Layout read (tokenizers' serialisation, format "1.0"):
 *   { "added_tokens": [ {"id": int, "content": str, "single_word"/"lstrip"/"rstrip": bool, ...}, ... ],
 *     "normalizer": null,  "pre_tokenizer": {"type": "Whitespace"} | null,
 *     "post_processor": {"type": "TemplateProcessing", "single": [ {"SpecialToken": {"id": str}} |
 *                         {"Sequence": {"id": "A"}}, ... ], "special_tokens": { str: {"ids": [int...]} }}
 *                       | {"type": "BertProcessing"|"RobertaProcessing", "cls": [str, int], "sep": [str, int]} | null,
 *     "model": {"type": "BPE", "vocab": { str: int }, "merges": [ "a b" | [a, b], ... ], "unk_token": str|null,
 *               "fuse_unk": bool, "byte_fallback": false, "ignore_merges": bool, "dropout": null,
 *               "continuing_subword_prefix": null, "end_of_word_suffix": null },
 *     "truncation", "padding", "decoder", "version": ignored }
 */
#include "bpe_internal.h"
#include "bpe_tables.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* Logs "<file>: <message>" and returns VNP_ERR_FORMAT. */
static int fail(const vnp_bpe *b, int status, const char *fmt, ...) VNP_PRINTF(3, 4);
static int fail(const vnp_bpe *b, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vnp_error("%s: %s", b->name, msg);
    return status;
}

/* obj[key] when it has the wanted type; absent or null gives *out = NULL and 0 when `optional`. */
static int member(const vnp_bpe *b, const json_t *obj, const char *path, const char *key, json_type want,
                  int optional, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || (optional && json_is_null(v))) {
        if (optional) return VNP_OK;
        return fail(b, VNP_ERR_FORMAT, "key \"%s%s\" is missing", path, key);
    }
    int ok = json_typeof(v) == want || (want == JSON_TRUE && json_is_boolean(v));
    if (!ok) {
        const char *w = want == JSON_OBJECT   ? "an object"
                        : want == JSON_ARRAY  ? "an array"
                        : want == JSON_STRING ? "a string"
                        : want == JSON_TRUE   ? "true or false"
                                              : "an integer";
        return fail(b, VNP_ERR_FORMAT, "\"%s%s\" must be %s, found %s", path, key, w, type_name(v));
    }
    *out = v;
    return VNP_OK;
}

/* An id from JSON: an integer in [0, VNP_BPE_MAX_ID). */
static int read_id(const vnp_bpe *b, const json_t *v, const char *what, const char *detail, int32_t *id)
{
    if (!json_is_integer(v))
        return fail(b, VNP_ERR_FORMAT, "%s%s must be an integer id, found %s", what, detail, type_name(v));
    json_int_t x = json_integer_value(v);
    if (x < 0 || x >= VNP_BPE_MAX_ID)
        return fail(b, x < 0 ? VNP_ERR_FORMAT : VNP_ERR_UNSUPPORTED, "%s%s = %lld is outside [0, %d)", what,
                    detail, (long long)x, VNP_BPE_MAX_ID);
    *id = (int32_t)x;
    return VNP_OK;
}

/* A boolean option that this implementation supports only as false. */
static int require_false(const vnp_bpe *b, const json_t *obj, const char *path, const char *key)
{
    json_t *v;
    int rc = member(b, obj, path, key, JSON_TRUE, 1, &v);
    if (rc) return rc;
    if (v && json_is_true(v)) return fail(b, VNP_ERR_UNSUPPORTED, "\"%s%s\": true is not supported", path, key);
    return VNP_OK;
}

static int read_vocab(vnp_bpe *b, const json_t *vocab)
{
    int rc = vnp_bpe_vocab_init(b, json_object_size(vocab));
    if (rc) return fail(b, rc, "model.vocab: out of memory");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)vocab, key, v) {
        char detail[96];
        snprintf(detail, sizeof detail, "[\"%.60s\"]", key);
        int32_t id;
        if ((rc = read_id(b, v, "model.vocab", detail, &id))) return rc;
        /* json_object_foreach gives NUL-terminated keys; jansson rejects \u0000 inside them */
        if ((rc = vnp_bpe_vocab_put(b, key, strlen(key), id))) return fail(b, rc, "model.vocab: out of memory");
    }
    return VNP_OK;
}

/* Splits merge i into its two parts: "a b" (exactly one space, as tokenizers' convert_merges_to_hashmap) or
 * ["a", "b"]. Returns 1 for a "#version" line, which is skipped and takes no rank. */
static int merge_parts(const vnp_bpe *b, size_t i, const json_t *m, const char **a, size_t *na, const char **c,
                       size_t *nc, int *skip)
{
    *skip = 0;
    if (json_is_string(m)) {
        const char *s = json_string_value(m);
        size_t n = json_string_length(m);
        if (n >= 8 && memcmp(s, "#version", 8) == 0) {
            *skip = 1;
            return VNP_OK;
        }
        const char *sp = memchr(s, ' ', n);
        if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - s)))
            return fail(b, VNP_ERR_FORMAT, "model.merges[%zu] \"%.80s\" is not two tokens separated by one space",
                        i, s);
        *a = s;
        *na = (size_t)(sp - s);
        *c = sp + 1;
        *nc = n - *na - 1;
        return VNP_OK;
    }
    if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
        json_is_string(json_array_get(m, 1))) {
        *a = json_string_value(json_array_get(m, 0));
        *na = json_string_length(json_array_get(m, 0));
        *c = json_string_value(json_array_get(m, 1));
        *nc = json_string_length(json_array_get(m, 1));
        return VNP_OK;
    }
    return fail(b, VNP_ERR_FORMAT, "model.merges[%zu] must be a string \"a b\" or an array of two strings, found %s",
                i, type_name(m));
}

static int read_merges(vnp_bpe *b, const json_t *merges)
{
    size_t n = json_array_size(merges);
    int rc = vnp_bpe_pairs_init(b, n);
    if (rc) return fail(b, rc, "model.merges: out of memory");
    char *joined = NULL;
    size_t joined_cap = 0;
    uint32_t rank = 0;
    for (size_t i = 0; i < n; i++) {
        const char *l = NULL, *r = NULL;
        size_t nl = 0, nr = 0;
        int skip;
        if ((rc = merge_parts(b, i, json_array_get(merges, i), &l, &nl, &r, &nr, &skip))) goto out;
        if (skip) continue;
        int32_t lid = vnp_bpe_vocab_find(b, l, nl), rid = vnp_bpe_vocab_find(b, r, nr);
        if (lid < 0 || rid < 0) {
            rc = fail(b, VNP_ERR_FORMAT, "model.merges[%zu] \"%.*s %.*s\": \"%.*s\" is not in model.vocab", i,
                      (int)(nl > 60 ? 60 : nl), l, (int)(nr > 60 ? 60 : nr), r, (int)(lid < 0 ? nl : nr),
                      lid < 0 ? l : r);
            goto out;
        }
        if (nl + nr + 1 > joined_cap) {
            joined_cap = 2 * (nl + nr + 1);
            char *p = realloc(joined, joined_cap);
            if (!p) {
                rc = fail(b, VNP_ERR_NOMEM, "model.merges: out of memory");
                goto out;
            }
            joined = p;
        }
        memcpy(joined, l, nl);
        memcpy(joined + nl, r, nr);
        int32_t nid = vnp_bpe_vocab_find(b, joined, nl + nr);
        if (nid < 0) {
            rc = fail(b, VNP_ERR_FORMAT, "model.merges[%zu] \"%.*s %.*s\": the merged token \"%.*s\" is not in model.vocab",
                      i, (int)(nl > 60 ? 60 : nl), l, (int)(nr > 60 ? 60 : nr), r, (int)(nl + nr > 120 ? 120 : nl + nr),
                      joined);
            goto out;
        }
        vnp_bpe_pair_put(b, lid, rid, rank++, nid);
    }
    b->n_merges = rank;
out:
    free(joined);
    return rc;
}

static int read_model(vnp_bpe *b, const json_t *model)
{
    json_t *v;
    int rc;
    if ((rc = member(b, model, "model.", "type", JSON_STRING, 1, &v))) return rc;
    if (v && strcmp(json_string_value(v), "BPE") != 0)
        return fail(b, VNP_ERR_UNSUPPORTED, "model.type \"%.40s\" is not supported (only BPE)", json_string_value(v));
    v = json_object_get(model, "dropout");
    if (v && !json_is_null(v) && !(json_is_number(v) && json_number_value(v) == 0.0))
        return fail(b, VNP_ERR_UNSUPPORTED, "model.dropout must be null: BPE dropout is not supported");
    static const char *const affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int k = 0; k < 2; k++) {
        if ((rc = member(b, model, "model.", affixes[k], JSON_STRING, 1, &v))) return rc;
        if (v && json_string_length(v) > 0)
            return fail(b, VNP_ERR_UNSUPPORTED, "model.%s \"%.40s\" is not supported", affixes[k],
                        json_string_value(v));
    }
    if ((rc = require_false(b, model, "model.", "byte_fallback"))) return rc;
    if ((rc = member(b, model, "model.", "fuse_unk", JSON_TRUE, 1, &v))) return rc;
    b->fuse_unk = v && json_is_true(v);
    if ((rc = member(b, model, "model.", "ignore_merges", JSON_TRUE, 1, &v))) return rc;
    b->ignore_merges = v && json_is_true(v);

    json_t *vocab, *merges, *unk;
    if ((rc = member(b, model, "model.", "vocab", JSON_OBJECT, 0, &vocab))) return rc;
    if ((rc = member(b, model, "model.", "merges", JSON_ARRAY, 0, &merges))) return rc;
    if ((rc = member(b, model, "model.", "unk_token", JSON_STRING, 1, &unk))) return rc;
    if ((rc = read_vocab(b, vocab))) return rc;
    if ((rc = read_merges(b, merges))) return rc;
    b->unk_id = -1;
    if (unk) {
        b->unk_id = vnp_bpe_vocab_find(b, json_string_value(unk), json_string_length(unk));
        if (b->unk_id < 0)
            return fail(b, VNP_ERR_FORMAT, "model.unk_token \"%.40s\" is not in model.vocab", json_string_value(unk));
    }
    return VNP_OK;
}

static int read_added_tokens(vnp_bpe *b, const json_t *root)
{
    json_t *list;
    int rc = member(b, root, "", "added_tokens", JSON_ARRAY, 1, &list);
    if (rc || !list) return rc;
    size_t n = json_array_size(list);
    b->added = vnp_calloc_array(n ? n : 1, sizeof *b->added);
    if (!b->added) return fail(b, VNP_ERR_NOMEM, "added_tokens: out of memory");
    for (size_t i = 0; i < n; i++) {
        char path[48];
        snprintf(path, sizeof path, "added_tokens[%zu].", i);
        json_t *t = json_array_get(list, i), *id, *content;
        if (!json_is_object(t))
            return fail(b, VNP_ERR_FORMAT, "added_tokens[%zu] must be an object, found %s", i, type_name(t));
        if ((rc = member(b, t, path, "id", JSON_INTEGER, 0, &id))) return rc;
        if ((rc = member(b, t, path, "content", JSON_STRING, 0, &content))) return rc;
        if (json_string_length(content) == 0)
            return fail(b, VNP_ERR_FORMAT, "added_tokens[%zu].content is empty", i);
        static const char *const flags[] = {"single_word", "lstrip", "rstrip"};
        for (int k = 0; k < 3; k++)
            if ((rc = require_false(b, t, path, flags[k]))) return rc;
        vnp_bpe_added *a = &b->added[b->n_added++];
        char detail[40];
        snprintf(detail, sizeof detail, "[%zu].id", i);
        if ((rc = read_id(b, id, "added_tokens", detail, &a->id))) return rc;
        a->len = (uint32_t)json_string_length(content);
        if ((rc = vnp_bpe_pool_add(b, json_string_value(content), a->len, &a->off)))
            return fail(b, rc, "added_tokens: out of memory");
    }
    return VNP_OK;
}

/* normalizer must be null; pre_tokenizer Whitespace or null. */
static int read_text_steps(vnp_bpe *b, const json_t *root)
{
    json_t *v = json_object_get(root, "normalizer");
    if (v && !json_is_null(v)) {
        json_t *t = json_is_object(v) ? json_object_get(v, "type") : NULL;
        return fail(b, VNP_ERR_UNSUPPORTED, "normalizer %s%.40s%s is not supported (only null)", t ? "\"" : "",
                    t && json_is_string(t) ? json_string_value(t) : type_name(v), t ? "\"" : "");
    }
    v = json_object_get(root, "pre_tokenizer");
    b->whitespace_pretok = 0;
    if (v && !json_is_null(v)) {
        json_t *t;
        if (!json_is_object(v))
            return fail(b, VNP_ERR_FORMAT, "\"pre_tokenizer\" must be an object or null, found %s", type_name(v));
        int rc = member(b, v, "pre_tokenizer.", "type", JSON_STRING, 0, &t);
        if (rc) return rc;
        if (strcmp(json_string_value(t), "Whitespace") != 0)
            return fail(b, VNP_ERR_UNSUPPORTED, "pre_tokenizer \"%.40s\" is not supported (only Whitespace or null)",
                        json_string_value(t));
        b->whitespace_pretok = 1;
    }
    return VNP_OK;
}

static int add_post_id(vnp_bpe *b, int after, int32_t id)
{
    size_t *n = after ? &b->n_suffix : &b->n_prefix;
    if (*n >= VNP_BPE_MAX_POST)
        return fail(b, VNP_ERR_UNSUPPORTED, "post_processor adds more than %d ids on one side", VNP_BPE_MAX_POST);
    (after ? b->suffix : b->prefix)[(*n)++] = id;
    return VNP_OK;
}

static int read_template(vnp_bpe *b, const json_t *pp)
{
    json_t *single, *specials;
    int rc;
    if ((rc = member(b, pp, "post_processor.", "single", JSON_ARRAY, 0, &single))) return rc;
    if ((rc = member(b, pp, "post_processor.", "special_tokens", JSON_OBJECT, 0, &specials))) return rc;
    int n_seq = 0;
    for (size_t i = 0; i < json_array_size(single); i++) {
        json_t *item = json_array_get(single, i), *tok, *name;
        char path[64];
        snprintf(path, sizeof path, "post_processor.single[%zu].", i);
        if (json_is_object(item) && (tok = json_object_get(item, "Sequence"))) {
            if (!json_is_object(tok)) return fail(b, VNP_ERR_FORMAT, "%sSequence must be an object", path);
            if ((rc = member(b, tok, path, "id", JSON_STRING, 0, &name))) return rc;
            if (strcmp(json_string_value(name), "A") != 0 || n_seq++)
                return fail(b, VNP_ERR_FORMAT, "post_processor.single must hold exactly one Sequence \"A\"");
            continue;
        }
        if (!json_is_object(item) || !(tok = json_object_get(item, "SpecialToken")) || !json_is_object(tok))
            return fail(b, VNP_ERR_FORMAT, "post_processor.single[%zu] must be {\"SpecialToken\": {...}} or "
                        "{\"Sequence\": {...}}", i);
        if ((rc = member(b, tok, path, "id", JSON_STRING, 0, &name))) return rc;
        json_t *spec = json_object_get(specials, json_string_value(name)), *ids;
        if (!spec || !json_is_object(spec))
            return fail(b, VNP_ERR_FORMAT, "post_processor.special_tokens has no entry \"%.40s\"",
                        json_string_value(name));
        char spath[96];
        snprintf(spath, sizeof spath, "post_processor.special_tokens[\"%.40s\"].", json_string_value(name));
        if ((rc = member(b, spec, spath, "ids", JSON_ARRAY, 0, &ids))) return rc;
        for (size_t k = 0; k < json_array_size(ids); k++) {
            int32_t id;
            char detail[120];
            snprintf(detail, sizeof detail, "[\"%.40s\"].ids[%zu]", json_string_value(name), k);
            if ((rc = read_id(b, json_array_get(ids, k), "post_processor.special_tokens", detail, &id))) return rc;
            if ((rc = add_post_id(b, n_seq, id))) return rc;
        }
    }
    if (n_seq != 1) return fail(b, VNP_ERR_FORMAT, "post_processor.single must hold exactly one Sequence \"A\"");
    return VNP_OK;
}

/* BertProcessing / RobertaProcessing: "cls": [token, id] before, "sep": [token, id] after. */
static int read_cls_sep(vnp_bpe *b, const json_t *pp)
{
    static const char *const keys[] = {"cls", "sep"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(pp, keys[k]);
        if (!v || !json_is_array(v) || json_array_size(v) != 2 || !json_is_string(json_array_get(v, 0)))
            return fail(b, VNP_ERR_FORMAT, "post_processor.%s must be [token, id]", keys[k]);
        int32_t id;
        int rc = read_id(b, json_array_get(v, 1), "post_processor.", k ? "sep[1]" : "cls[1]", &id);
        if (rc || (rc = add_post_id(b, k, id))) return rc;
    }
    return VNP_OK;
}

static int read_post_processor(vnp_bpe *b, const json_t *root)
{
    json_t *pp = json_object_get(root, "post_processor"), *t;
    if (!pp || json_is_null(pp)) return VNP_OK;
    if (!json_is_object(pp))
        return fail(b, VNP_ERR_FORMAT, "\"post_processor\" must be an object or null, found %s", type_name(pp));
    int rc = member(b, pp, "post_processor.", "type", JSON_STRING, 0, &t);
    if (rc) return rc;
    const char *type = json_string_value(t);
    if (strcmp(type, "TemplateProcessing") == 0) return read_template(b, pp);
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) return read_cls_sep(b, pp);
    return fail(b, VNP_ERR_UNSUPPORTED, "post_processor \"%.40s\" is not supported", type);
}

vnp_bpe *vnp_bpe_load_mem(const char *json, size_t len, const char *name)
{
    vnp_bpe *b = calloc(1, sizeof *b);
    if (!b || !(b->name = vnp_strdup(name ? name : "tokenizer.json"))) {
        vnp_error("%s: out of memory", name ? name : "tokenizer.json");
        free(b);
        return NULL;
    }
    json_error_t err;
    json_t *root = json_loadb(json, len, 0, &err), *model;
    int rc;
    if (!root) {
        fail(b, VNP_ERR_FORMAT, "not valid JSON: %s (line %d, column %d)", err.text, err.line, err.column);
        goto bad;
    }
    if (!json_is_object(root)) {
        fail(b, VNP_ERR_FORMAT, "the top level must be an object, found %s", type_name(root));
        goto bad;
    }
    if ((rc = member(b, root, "", "model", JSON_OBJECT, 0, &model)) || (rc = read_model(b, model)) ||
        (rc = read_added_tokens(b, root)) || (rc = read_text_steps(b, root)) || (rc = read_post_processor(b, root)))
        goto bad;
    if ((rc = vnp_bpe_finish_tables(b))) {
        fail(b, rc, "out of memory");
        goto bad;
    }
    json_decref(root);
    vnp_debug("%s: %u vocab entries, %u merges, %zu added tokens; padding/truncation settings ignored", b->name,
              b->vocab_count, b->n_merges, b->n_added);
    return b;
bad:
    json_decref(root);
    vnp_bpe_free(b);
    return NULL;
}

vnp_bpe *vnp_bpe_load(const char *path)
{
    vnp_buf buf = {0};
    if (vnp_read_file(path, (size_t)1 << 30, &buf)) return NULL;
    vnp_bpe *b = vnp_bpe_load_mem(buf.data, buf.len, path);
    vnp_buf_free(&buf);
    return b;
}

void vnp_bpe_free(vnp_bpe *b)
{
    if (!b) return;
    free(b->name);
    free(b->strings);
    free(b->vocab);
    free(b->pairs);
    free(b->merge);
    free(b->id_str);
    free(b->added);
    free(b);
}
