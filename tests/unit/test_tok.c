/* Unit tests for tok/: the ESM-2 alphabet, the DNABERT-S BPE against every Hugging Face reference case
 * (tests/data/dnabert_tokens.tsv, tokenizer_test_vectors.json), a naive BPE cross-check, linear time on
 * 100 kbp, concurrent encoding, and tokenizer.json files that must be refused with a useful message. */
#define _POSIX_C_SOURCE 200809L
#include "tok/bpe_internal.h"
#include "vnp/tok.h"
#include "vnp/util.h"
#include "vnp_test.h"

#include <jansson.h>
#include <stdint.h>
#include <unistd.h>

/* ids == expected[0..n) */
static int same_ids(const vnp_tokens *t, const int32_t *expected, size_t n)
{
    if (t->n != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (t->ids[i] != expected[i]) return 0;
    return 1;
}

static void print_ids(const char *what, const vnp_tokens *t)
{
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < t->n && i < 40; i++) fprintf(stderr, " %d", t->ids[i]);
    fprintf(stderr, t->n > 40 ? " ...\n" : "\n");
}

#define ESM_CASE(text, n_unk_expected, ...)                                                                  \
    do {                                                                                                     \
        static const int32_t exp_[] = {__VA_ARGS__};                                                         \
        vnp_tokens t_ = {0};                                                                                 \
        size_t unk_ = 99;                                                                                    \
        CHECK(vnp_esm_encode(text, sizeof(text) - 1, &t_, &unk_) == 0);                                      \
        CHECK_MSG(same_ids(&t_, exp_, sizeof exp_ / sizeof exp_[0]), "esm2 \"%s\"", text);                   \
        CHECK_EQ_INT(unk_, n_unk_expected);                                                                  \
        vnp_tokens_free(&t_);                                                                                \
    } while (0)

static void test_esm(void)
{
    /* every token string encodes to its own id */
    for (int32_t id = 0; id < VNP_ESM_VOCAB_SIZE; id++) {
        const char *s = vnp_esm_token(id);
        vnp_tokens t = {0};
        size_t unk;
        CHECK(vnp_esm_encode(s, strlen(s), &t, &unk) == 0);
        CHECK_MSG(t.n == 3 && t.ids[0] == 0 && t.ids[1] == id && t.ids[2] == 2 && unk == 0, "token %s", s);
        vnp_tokens_free(&t);
    }
    CHECK(vnp_esm_token(33) == NULL && vnp_esm_token(-1) == NULL);
    CHECK_EQ_STR(vnp_esm_token(VNP_ESM_MASK), "<mask>");

    /* the spec's examples (esm2.md §1, §3.1, §6) */
    ESM_CASE("MKT", 0, 0, 20, 15, 11, 2);
    ESM_CASE("MKTAYI", 0, 0, 20, 15, 11, 5, 19, 12, 2);
    ESM_CASE("<cls>MKT<mask>YIA<eos>", 0, 0, 0, 20, 15, 11, 32, 19, 12, 5, 2, 2);
    ESM_CASE("", 0, 0, 2);
    ESM_CASE("XBUZO.-", 0, 0, 24, 25, 26, 27, 28, 29, 30, 2);
    ESM_CASE("<null_1><pad><unk>", 0, 0, 31, 1, 3, 2);
    /* whitespace is dropped */
    ESM_CASE(" M K\tT\r\n", 0, 0, 20, 15, 11, 2);
    /* unknown characters: one <unk> per run (HF: split on known tokens, then str.split()) */
    ESM_CASE("MKjjA", 2, 0, 20, 15, 3, 5, 2);
    ESM_CASE("mkta", 4, 0, 3, 2);
    ESM_CASE("MK*A", 1, 0, 20, 15, 3, 5, 2);
    ESM_CASE("jj kk", 4, 0, 3, 3, 2);
    ESM_CASE("M1K", 1, 0, 20, 3, 15, 2);
    ESM_CASE("<mask", 5, 0, 3, 2);
    ESM_CASE("<MASK>", 2, 0, 3, 20, 5, 8, 15, 3, 2);
    ESM_CASE("M\xc3\xa9K", 1, 0, 20, 3, 15, 2);        /* é: one character */
    ESM_CASE("M\xc2\xa0K", 0, 0, 20, 15, 2);           /* no-break space is whitespace */
    ESM_CASE("M\x1fK", 0, 0, 20, 15, 2);               /* so is 0x1f for Python's str.split */
    ESM_CASE("M\xff\xfeK", 2, 0, 20, 3, 15, 2);        /* invalid UTF-8: a byte per character */

    /* appending: a second sequence goes after the first */
    vnp_tokens t = {0};
    size_t unk;
    CHECK(vnp_esm_encode("MK", 2, &t, &unk) == 0 && vnp_esm_encode("A", 1, &t, NULL) == 0);
    static const int32_t two[] = {0, 20, 15, 2, 0, 5, 2};
    CHECK(same_ids(&t, two, 7));
    /* a length, not a NUL, ends the text */
    t.n = 0;
    CHECK(vnp_esm_encode("MKT", 2, &t, &unk) == 0 && t.n == 4 && t.ids[2] == 15);
    vnp_tokens_free(&t);
    vnp_tokens_free(&t); /* twice is fine: the struct was zeroed */
}

/* Parses "1 5 6 2" into ids; returns the count or -1. */
static long parse_ids(const char *s, int32_t *ids, size_t max)
{
    size_t n = 0;
    char *end;
    while (*s) {
        long v = strtol(s, &end, 10);
        if (end == s || n == max) return -1;
        ids[n++] = (int32_t)v;
        s = end;
        while (*s == ' ') s++;
    }
    return (long)n;
}

/* Every case of dnabert_tokens.tsv: "# header", then id<TAB>sequence<TAB>space-separated ids. */
static void test_tsv(const vnp_bpe *bpe, const char *label)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/dnabert_tokens.tsv", vnp_test_data());
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f) return;
    char *line = NULL;
    size_t cap = 0, cases = 0, bad = 0;
    ssize_t got;
    static int32_t expected[1 << 16];
    vnp_tokens t = {0};
    while ((got = getline(&line, &cap, f)) >= 0) {
        if (line[0] == '#') continue;
        if (got && line[got - 1] == '\n') line[--got] = '\0';
        char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        CHECK_MSG(tab2 != NULL, "bad tsv line: %.60s", line);
        if (!tab2) continue;
        *tab1 = *tab2 = '\0';
        long n = parse_ids(tab2 + 1, expected, sizeof expected / sizeof expected[0]);
        CHECK(n >= 2);
        t.n = 0;
        CHECK(vnp_bpe_encode(bpe, tab1 + 1, strlen(tab1 + 1), &t) == 0);
        cases++;
        if (n < 0 || !same_ids(&t, expected, (size_t)n)) {
            if (bad++ < 5) {
                fprintf(stderr, "%s: tsv case %s differs\n", label, line);
                print_ids("got", &t);
            }
        }
    }
    CHECK_MSG(bad == 0, "%s: %zu of %zu tsv cases differ", label, bad, cases);
    CHECK_EQ_INT(cases, 1198);
    free(line);
    fclose(f);
    vnp_tokens_free(&t);
}

/* Every case of tokenizer_test_vectors.json: {"cases": [{"seq": str, "input_ids": [int...]}, ...]}. */
static void test_vectors(const vnp_bpe *bpe)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/dnabert-s/tokenizer_test_vectors.json", vnp_test_data());
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    CHECK_MSG(root != NULL, "%s: %s", path, err.text);
    if (!root) return;
    json_t *cases = json_object_get(root, "cases");
    CHECK(json_is_array(cases) && json_array_size(cases) == 31);
    size_t i;
    json_t *c;
    vnp_tokens t = {0};
    json_array_foreach(cases, i, c) {
        json_t *seq = json_object_get(c, "seq"), *ids = json_object_get(c, "input_ids");
        t.n = 0;
        CHECK(vnp_bpe_encode(bpe, json_string_value(seq), json_string_length(seq), &t) == 0);
        int ok = t.n == json_array_size(ids);
        for (size_t k = 0; ok && k < t.n; k++) ok = t.ids[k] == json_integer_value(json_array_get(ids, k));
        CHECK_MSG(ok, "test vector %zu (\"%.40s\") differs", i, json_string_value(seq));
        if (!ok) print_ids("got", &t);
    }
    vnp_tokens_free(&t);
    json_decref(root);
}

/* The "simple form" of spec §5.3 step 4: repeatedly merge the lowest-rank adjacent pair, leftmost on ties.
 * O(n^2): only for short words made of vocab characters. */
static size_t naive_bpe(const vnp_bpe *b, const char *s, size_t n, int32_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) out[m++] = b->byte_id[(unsigned char)s[i]];
    for (;;) {
        size_t best = SIZE_MAX;
        uint32_t best_rank = UINT32_MAX;
        int32_t best_id = -1;
        for (size_t i = 0; i + 1 < m; i++) {
            const vnp_bpe_pair *p = vnp_bpe_pair_find(b, out[i], out[i + 1]);
            if (p && p->rank < best_rank) best_rank = p->rank, best = i, best_id = p->new_id;
        }
        if (best == SIZE_MAX) return m;
        out[best] = best_id;
        memmove(out + best + 1, out + best + 2, (m - best - 2) * sizeof *out);
        m--;
    }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* Random DNA with a per-sequence skew, so that long A/T or G/C runs (deep merges) occur too. */
static void random_dna(char *s, size_t n)
{
    uint32_t w[4] = {1 + rng() % 8, 1 + rng() % 8, 1 + rng() % 8, 1 + rng() % 8};
    uint32_t sum = w[0] + w[1] + w[2] + w[3];
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rng() % sum, k = 0;
        while (r >= w[k]) r -= w[k++];
        s[i] = "ACGT"[k];
    }
}

static void test_naive_crosscheck(const vnp_bpe *bpe)
{
    static char seq[700];
    static int32_t ref[700];
    vnp_tokens t = {0};
    int bad = 0;
    for (int c = 0; c < 60; c++) {
        size_t n = 1 + rng() % 600;
        random_dna(seq, n);
        size_t m = naive_bpe(bpe, seq, n, ref);
        t.n = 0;
        CHECK(vnp_bpe_encode(bpe, seq, n, &t) == 0);
        int ok = t.n == m + 2 && t.ids[0] == 1 && t.ids[m + 1] == 2 && memcmp(t.ids + 1, ref, m * 4) == 0;
        bad += !ok;
    }
    CHECK_MSG(bad == 0, "%d of 60 random sequences differ from the naive BPE", bad);
    vnp_tokens_free(&t);
}

static void test_long(const vnp_bpe *bpe)
{
    size_t n = 100000;
    char *seq = malloc(n);
    CHECK(seq != NULL);
    if (!seq) return;
    for (size_t i = 0; i < n; i++) seq[i] = "ACGT"[rng() % 4];
    vnp_tokens t = {0};
    double t0 = vnp_time_now();
    CHECK(vnp_bpe_encode(bpe, seq, n, &t) == 0);
    double dt = vnp_time_now() - t0;
    /* not a benchmark: a quadratic merge loop would take minutes here */
    CHECK_MSG(dt < 5.0, "100 kbp took %.2f s", dt);
    CHECK(t.n > n / 8 && t.n < n / 2 && t.ids[0] == 1 && t.ids[t.n - 1] == 2);
    /* the ids spell the sequence back */
    size_t pos = 0;
    int spelled = 1;
    for (size_t i = 1; i + 1 < t.n && spelled; i++) {
        const char *tok = vnp_bpe_token(bpe, t.ids[i]);
        size_t len = tok ? strlen(tok) : 0;
        spelled = tok && pos + len <= n && memcmp(seq + pos, tok, len) == 0;
        pos += len;
    }
    CHECK(spelled && pos == n);
    vnp_tokens_free(&t);
    free(seq);
}

/* Several threads encode with one tokenizer into their own buffers; results equal the sequential ones. */
typedef struct {
    const vnp_bpe *bpe;
    char seqs[64][500];
    size_t sums[64];
    int failed;
} mt_ctx;

static size_t id_sum(const vnp_tokens *t)
{
    size_t s = 0;
    for (size_t i = 0; i < t->n; i++) s = s * 31 + (size_t)t->ids[i];
    return s;
}

static void mt_job(void *p, size_t i)
{
    mt_ctx *c = p;
    vnp_tokens t = {0};
    for (int rep = 0; rep < 20; rep++) {
        t.n = 0;
        if (vnp_bpe_encode(c->bpe, c->seqs[i], 500, &t) || id_sum(&t) != c->sums[i]) c->failed = 1;
    }
    vnp_tokens_free(&t);
}

static void test_threads(const vnp_bpe *bpe)
{
    static mt_ctx c;
    c.bpe = bpe;
    vnp_tokens t = {0};
    for (int i = 0; i < 64; i++) {
        random_dna(c.seqs[i], 500);
        t.n = 0;
        CHECK(vnp_bpe_encode(bpe, c.seqs[i], 500, &t) == 0);
        c.sums[i] = id_sum(&t);
    }
    vnp_tokens_free(&t);
    vnp_pool *pool = vnp_pool_create(4);
    CHECK(pool != NULL);
    if (!pool) return;
    vnp_pool_run(pool, 64, mt_job, &c);
    vnp_pool_free(pool);
    CHECK(c.failed == 0);
}

#define BPE_CASE(bpe, text, ...)                                                                             \
    do {                                                                                                     \
        static const int32_t exp_[] = {__VA_ARGS__};                                                         \
        vnp_tokens t_ = {0};                                                                                 \
        CHECK(vnp_bpe_encode(bpe, text, sizeof(text) - 1, &t_) == 0);                                        \
        CHECK_MSG(same_ids(&t_, exp_, sizeof exp_ / sizeof exp_[0]), "bpe \"%s\"", text);                    \
        if (!same_ids(&t_, exp_, sizeof exp_ / sizeof exp_[0])) print_ids("got", &t_);                       \
        vnp_tokens_free(&t_);                                                                                \
    } while (0)

/* use_heap: force the general heap queue (merge_all) instead of the per-rank queue that DNABERT-S's table
 * allows, so that both are checked against every reference case. */
static void test_dnabert(const char *folder, int use_heap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s/tokenizer.json", vnp_test_data(), folder);
    vnp_bpe *bpe = vnp_bpe_load(path);
    CHECK_MSG(bpe != NULL, "cannot load %s", path);
    if (!bpe) return;
    CHECK(bpe->by_rank == 1);
    if (use_heap) bpe->by_rank = 0;
    CHECK_EQ_INT(vnp_bpe_vocab_size(bpe), 4096);
    CHECK_EQ_INT(vnp_bpe_token_id(bpe, "[CLS]"), 1);
    CHECK_EQ_INT(vnp_bpe_token_id(bpe, "[SEP]"), 2);
    CHECK_EQ_INT(vnp_bpe_token_id(bpe, "[PAD]"), 3);
    CHECK_EQ_INT(vnp_bpe_token_id(bpe, "[MASK]"), 4);
    CHECK_EQ_INT(vnp_bpe_token_id(bpe, "nope"), -1);
    CHECK_EQ_INT(vnp_bpe_unk_id(bpe), 0);
    CHECK_EQ_STR(vnp_bpe_token(bpe, 5), "A");
    CHECK_EQ_STR(vnp_bpe_token(bpe, 0), "[UNK]");
    CHECK(vnp_bpe_token(bpe, 4096) == NULL && vnp_bpe_token(bpe, -1) == NULL);
    int32_t ids[4];
    CHECK(vnp_bpe_prefix_ids(bpe, ids, 4) == 1 && ids[0] == 1);
    CHECK(vnp_bpe_suffix_ids(bpe, ids, 4) == 1 && ids[0] == 2);

    test_tsv(bpe, folder);
    test_vectors(bpe);
    /* added tokens in the text are split out first (HF AddedVocabulary) */
    BPE_CASE(bpe, "AC[SEP]GT", 1, 5, 6, 2, 1049, 2);
    BPE_CASE(bpe, "[CLS]", 1, 1, 2);
    BPE_CASE(bpe, "[MASK", 1, 0, 0, 5, 0, 0, 2);
    /* the header example: "ACGTN" */
    BPE_CASE(bpe, "ACGTN", 1, 5, 6, 1049, 0, 2);
    /* non-ASCII: one [UNK] per character, a no-break space splits words */
    BPE_CASE(bpe, "A\xc3\xa9G", 1, 5, 0, 7, 2);
    BPE_CASE(bpe, "AC\xc2\xa0GT", 1, 5, 6, 1049, 2);
    /* appending */
    vnp_tokens t = {0};
    CHECK(vnp_bpe_encode(bpe, "A", 1, &t) == 0 && vnp_bpe_encode(bpe, "", 0, &t) == 0);
    static const int32_t two[] = {1, 5, 2, 1, 2};
    CHECK(same_ids(&t, two, 5));
    vnp_tokens_free(&t);

    test_naive_crosscheck(bpe);
    test_long(bpe);
    if (!use_heap) test_threads(bpe);
    vnp_bpe_free(bpe);
}

/* Loads JSON text while capturing the log; returns the tokenizer (or NULL) and the message in msg. */
static vnp_bpe *load_capture(const char *json, char *msg, size_t cap)
{
    char tmpl[] = "/tmp/vnp_test_tok_XXXXXX";
    int fd = mkstemp(tmpl);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    vnp_bpe *b = vnp_bpe_load_mem(json, strlen(json), "bad.json");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, msg, cap - 1, 0);
    msg[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(tmpl);
    return b;
}

#define BAD_JSON(json, expect_substring)                                                                     \
    do {                                                                                                     \
        char msg_[1024];                                                                                     \
        vnp_bpe *b_ = load_capture(json, msg_, sizeof msg_);                                                 \
        CHECK_MSG(b_ == NULL, "accepted: %s", json);                                                         \
        CHECK_MSG(strstr(msg_, "bad.json") && strstr(msg_, expect_substring), "message \"%s\" lacks \"%s\"", \
                  msg_, expect_substring);                                                                   \
        vnp_bpe_free(b_);                                                                                    \
    } while (0)

#define V "\"vocab\": {\"[UNK]\": 0, \"A\": 1, \"C\": 2, \"AC\": 3}"

static void test_bad_files(void)
{
    BAD_JSON("{\"model\": ", "not valid JSON");
    BAD_JSON("[1, 2]", "top level must be an object");
    BAD_JSON("{}", "key \"model\" is missing");
    BAD_JSON("{\"model\": {\"merges\": []}}", "key \"model.vocab\" is missing");
    BAD_JSON("{\"model\": {" V "}}", "key \"model.merges\" is missing");
    BAD_JSON("{\"model\": {\"vocab\": [], \"merges\": []}}", "\"model.vocab\" must be an object, found an array");
    BAD_JSON("{\"model\": {\"vocab\": {\"A\": \"x\"}, \"merges\": []}}", "model.vocab[\"A\"] must be an integer id");
    BAD_JSON("{\"model\": {\"vocab\": {\"A\": -1}, \"merges\": []}}", "model.vocab[\"A\"] = -1 is outside");
    BAD_JSON("{\"model\": {" V ", \"merges\": {}}}", "\"model.merges\" must be an array, found an object");
    BAD_JSON("{\"model\": {" V ", \"merges\": [\"A G\"]}}", "model.merges[0] \"A G\": \"G\" is not in model.vocab");
    BAD_JSON("{\"model\": {" V ", \"merges\": [\"A C\", \"C A\"]}}", "the merged token \"CA\" is not in model.vocab");
    BAD_JSON("{\"model\": {" V ", \"merges\": [\"AC\"]}}", "model.merges[0] \"AC\" is not two tokens");
    BAD_JSON("{\"model\": {" V ", \"merges\": [7]}}", "model.merges[0] must be a string");
    BAD_JSON("{\"model\": {\"type\": \"WordPiece\", " V ", \"merges\": []}}", "\"WordPiece\" is not supported");
    BAD_JSON("{\"model\": {" V ", \"merges\": [], \"unk_token\": \"<unk>\"}}", "unk_token \"<unk>\" is not in");
    BAD_JSON("{\"model\": {" V ", \"merges\": [], \"unk_token\": 5}}", "\"model.unk_token\" must be a string");
    BAD_JSON("{\"model\": {" V ", \"merges\": [], \"byte_fallback\": true}}", "byte_fallback\": true is not supported");
    BAD_JSON("{\"model\": {" V ", \"merges\": [], \"fuse_unk\": 1}}", "\"model.fuse_unk\" must be true or false");
    BAD_JSON("{\"model\": {" V ", \"merges\": []}, \"added_tokens\": [{\"content\": \"[X]\"}]}",
             "key \"added_tokens[0].id\" is missing");
    BAD_JSON("{\"model\": {" V ", \"merges\": []}, \"added_tokens\": [{\"id\": 9, \"content\": \"[X]\", "
             "\"lstrip\": true}]}",
             "added_tokens[0].lstrip\": true is not supported");
    BAD_JSON("{\"model\": {" V ", \"merges\": []}, \"normalizer\": {\"type\": \"Lowercase\"}}",
             "normalizer \"Lowercase\" is not supported");
    BAD_JSON("{\"model\": {" V ", \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
             "pre_tokenizer \"ByteLevel\" is not supported");
    BAD_JSON("{\"model\": {" V ", \"merges\": []}, \"post_processor\": {\"type\": \"TemplateProcessing\", "
             "\"single\": [], \"special_tokens\": {}}}",
             "exactly one Sequence");
    BAD_JSON("{\"model\": {" V ", \"merges\": []}, \"post_processor\": {\"type\": \"TemplateProcessing\", "
             "\"single\": [{\"SpecialToken\": {\"id\": \"[X]\"}}, {\"Sequence\": {\"id\": \"A\"}}], "
             "\"special_tokens\": {}}}",
             "special_tokens has no entry \"[X]\"");

    /* a missing file names itself */
    char msg[512];
    fflush(stderr);
    char tmpl[] = "/tmp/vnp_test_tok_XXXXXX";
    int fd = mkstemp(tmpl), saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    vnp_bpe *b = vnp_bpe_load("/nonexistent/tokenizer.json");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, msg, sizeof msg - 1, 0);
    msg[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(tmpl);
    CHECK(b == NULL && strstr(msg, "cannot open '/nonexistent/tokenizer.json'"));
}

static vnp_bpe *load_ok(const char *json)
{
    vnp_bpe *b = vnp_bpe_load_mem(json, strlen(json), "synthetic.json");
    CHECK_MSG(b != NULL, "refused: %s", json);
    return b;
}

/* The two merge queues agree on random text over {A, B, C} for a table where two pairs yield one token. */
static void test_queues_agree(void)
{
    static const char json[] = "{\"model\": {\"vocab\": {\"A\": 0, \"B\": 1, \"C\": 2, \"AB\": 3, \"BC\": 4,"
                               " \"ABC\": 5, \"CA\": 6, \"CAB\": 7, \"ABCAB\": 8},"
                               " \"merges\": [\"B C\", \"A BC\", \"A B\", \"AB C\", \"C A\", \"C AB\", \"ABC AB\"]}}";
    vnp_bpe *b = load_ok(json);
    if (!b) return;
    CHECK(b->by_rank == 1 && b->merge[1].shared && b->merge[3].shared && !b->merge[0].shared);
    vnp_tokens t1 = {0}, t2 = {0};
    char text[64];
    int differ = 0;
    for (int c = 0; c < 300; c++) {
        size_t n = 1 + rng() % 60;
        for (size_t i = 0; i < n; i++) text[i] = "ABC"[rng() % 3];
        t1.n = t2.n = 0;
        b->by_rank = 1;
        CHECK(vnp_bpe_encode(b, text, n, &t1) == 0);
        b->by_rank = 0;
        CHECK(vnp_bpe_encode(b, text, n, &t2) == 0);
        differ += t1.n != t2.n || memcmp(t1.ids, t2.ids, t1.n * sizeof(int32_t)) != 0;
    }
    CHECK_EQ_INT(differ, 0);
    vnp_tokens_free(&t1);
    vnp_tokens_free(&t2);
    vnp_bpe_free(b);

    /* a merge whose operand is made by a later merge: only the heap queue is exact */
    b = load_ok("{\"model\": {\"vocab\": {\"A\": 0, \"B\": 1, \"C\": 2, \"AB\": 3, \"ABC\": 4},"
                " \"merges\": [\"AB C\", \"A B\"]}}");
    if (b) {
        CHECK(b->by_rank == 0);
        BPE_CASE(b, "ABC", 4);
        BPE_CASE(b, "ABCAB", 4, 3);
        vnp_bpe_free(b);
    }
}

/* Small hand-made tokenizers for the options DNABERT-S's file does not use. */
static void test_synthetic(void)
{
    /* no pre-tokenizer, no post-processor: the whole text is one word, nothing added around it */
    vnp_bpe *b = load_ok("{\"model\": {" V ", \"merges\": [\"#version: 0.2\", \"A C\"], \"unk_token\": \"[UNK]\"}}");
    if (b) {
        BPE_CASE(b, "ACA", 3, 1);
        BPE_CASE(b, "AxxC", 1, 0, 0, 2);
        BPE_CASE(b, "A C", 1, 0, 2);
        CHECK_EQ_INT(vnp_bpe_vocab_size(b), 4);
        vnp_bpe_free(b);
    }
    /* merges as pairs, fused unknowns, BertProcessing, Whitespace */
    b = load_ok("{\"model\": {" V ", \"merges\": [[\"A\", \"C\"]], \"unk_token\": \"[UNK]\", \"fuse_unk\": true},"
                " \"pre_tokenizer\": {\"type\": \"Whitespace\"},"
                " \"post_processor\": {\"type\": \"BertProcessing\", \"cls\": [\"<s>\", 7], \"sep\": [\"</s>\", 8]}}");
    if (b) {
        BPE_CASE(b, "AxxC", 7, 1, 0, 2, 8);
        BPE_CASE(b, "A C", 7, 1, 2, 8);
        BPE_CASE(b, "AC!?AC", 7, 3, 0, 3, 8);
        /* Unicode classes of the Whitespace regex: é is \w, the emoji and ² are not, so they end words */
        BPE_CASE(b, "A\xc3\xa9\xf0\x9f\x98\x80" "C", 7, 1, 0, 0, 2, 8);
        BPE_CASE(b, "A\xc2\xb2\xc2\xb2" "C", 7, 1, 0, 2, 8);
        BPE_CASE(b, "A\xc3\xa9\xc3\xa9" "C", 7, 1, 0, 2, 8);
        CHECK_EQ_INT(vnp_bpe_vocab_size(b), 9);
        vnp_bpe_free(b);
    }
    /* no unk_token: unknown characters vanish, as in HF */
    b = load_ok("{\"model\": {" V ", \"merges\": [\"A C\"]}}");
    if (b) {
        BPE_CASE(b, "AxC", 3); /* A and C meet once x is gone, and merge */
        CHECK_EQ_INT(vnp_bpe_unk_id(b), -1);
        vnp_bpe_free(b);
    }
    /* ignore_merges: a word that is a vocab entry is taken whole */
    b = load_ok("{\"model\": {\"vocab\": {\"A\": 0, \"C\": 1, \"AC\": 2, \"CA\": 3, \"ACA\": 4},"
                " \"merges\": [\"C A\", \"A C\"], \"ignore_merges\": true}}");
    if (b) {
        BPE_CASE(b, "ACA", 4);
        BPE_CASE(b, "ACAC", 0, 3, 1);
        vnp_bpe_free(b);
    }
    /* a repeated merge takes its last rank (HF builds a HashMap) */
    b = load_ok("{\"model\": {\"vocab\": {\"A\": 0, \"C\": 1, \"AC\": 2, \"CA\": 3},"
                " \"merges\": [\"A C\", \"C A\", \"A C\"]}}");
    if (b) {
        BPE_CASE(b, "ACA", 0, 3);
        vnp_bpe_free(b);
    }
}

int main(void)
{
    vnp_log_set_level(VNP_LOG_ERROR);
    test_esm();
    test_dnabert("dnabert-s", 0);
    test_dnabert("dnabert-s-tiny", 1);
    test_bad_files();
    test_synthetic();
    test_queues_agree();
    VNP_TEST_END();
}
