/* `virnucpro tokenize esm2|dnabert`: one line of token ids per input line, for checking the tokenizers
 * against Hugging Face by eye or by script. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "vnp/opt.h"
#include "vnp/tok.h"
#include "vnp/util.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const char *tok_arg;
} tokenize_args;

static const vnp_opt tokenize_opts[] = {
    {.name = "tokenizer", .short_opt = 't', .type = VNP_OPT_PATH, .arg = "FILE|DIR",
     .off = offsetof(tokenize_args, tok_arg),
     .help = "tokenizer.json, or a model folder holding one (required for dnabert)"},
};

static const vnp_opt_cmd tokenize_cmd = {
    .name = "tokenize",
    .synopsis = "virnucpro tokenize esm2|dnabert [--tokenizer FILE|DIR] [INPUT]",
    .about =
"Prints the token ids of each input line (one sequence per line, the trailing newline and CR\n"
"removed) as one line of space-separated integers, exactly as Hugging Face produces them:\n"
"  esm2     <cls>=0, one id per residue, <eos>=2 (33-token ESM-2 alphabet; characters outside it\n"
"           become <unk>=3, one per run, with one warning at the end)\n"
"  dnabert  the BPE of a DNABERT-S tokenizer.json: [CLS]=1, tokens, [SEP]=2; every character not in\n"
"           the vocab (N, IUPAC codes, lower case, ...) is one [UNK]=0; never padded or truncated\n"
"An empty line gives the two special ids alone (\"0 2\" or \"1 2\").",
    .epilog = "INPUT is a text file; without it, or with '-', standard input is read.\n\n"
              "exit status: 0 success, 1 read/write failure, 2 bad usage, missing or invalid input/tokenizer\n",
    .opts = tokenize_opts,
    .n_opts = VNP_OPT_COUNT(tokenize_opts),
};

/* FILE, or DIR/tokenizer.json when the path is a folder; malloc'ed. */
static char *tokenizer_path(const char *arg)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(arg);
        char *p = malloc(n + sizeof "/tokenizer.json");
        if (p) snprintf(p, n + sizeof "/tokenizer.json", "%s%s", arg, "/tokenizer.json");
        return p;
    }
    return vnp_strdup(arg);
}

/* Appends the decimal ids, space-separated, and a newline. */
static int format_ids(vnp_buf *line, const int32_t *ids, size_t n)
{
    line->len = 0;
    if (vnp_buf_reserve(line, n * 12 + 1)) return VNP_ERR_NOMEM;
    char *p = line->data;
    for (size_t i = 0; i < n; i++) {
        char tmp[12];
        int k = 0;
        uint32_t v = (uint32_t)ids[i]; /* ids are never negative */
        do tmp[k++] = (char)('0' + v % 10); while ((v /= 10) != 0);
        if (i) *p++ = ' ';
        while (k) *p++ = tmp[--k];
    }
    *p++ = '\n';
    line->len = (size_t)(p - line->data);
    return VNP_OK;
}

int vnp_cmd_tokenize(int argc, char **argv)
{
    tokenize_args a = {0};
    int first, prc = vnp_opt_parse(&tokenize_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    const char *tok_arg = a.tok_arg;
    int npos = argc - first;
    if (npos < 1 || npos > 2) return vnp_opt_usage_error("tokenize", "expected esm2|dnabert and at most one INPUT");
    const char *mode = argv[first], *input = npos == 2 ? argv[first + 1] : "-";
    int esm = strcmp(mode, "esm2") == 0;
    if (!esm && strcmp(mode, "dnabert") != 0)
        return vnp_opt_usage_error("tokenize", "unknown tokenizer '%s' (expected esm2 or dnabert)", mode);
    if (esm && tok_arg) return vnp_opt_usage_error("tokenize", "--tokenizer applies to dnabert only");
    if (!esm && !tok_arg)
        return vnp_opt_usage_error("tokenize", "dnabert needs --tokenizer FILE (tokenizer.json or its folder)");

    vnp_bpe *bpe = NULL;
    if (!esm) {
        char *path = tokenizer_path(tok_arg);
        bpe = path ? vnp_bpe_load(path) : NULL;
        free(path);
        if (!bpe) return 2; /* the loader said why */
    }
    FILE *in = strcmp(input, "-") == 0 ? stdin : fopen(input, "rb");
    if (!in) {
        fprintf(stderr, "virnucpro tokenize: error: cannot open '%s': %s\n", input, strerror(errno));
        vnp_bpe_free(bpe);
        return 2;
    }

    int rc = VNP_OK;
    char *text = NULL;
    size_t text_cap = 0, lines = 0, unknown = 0, unknown_lines = 0;
    ssize_t got;
    vnp_tokens toks = {0};
    vnp_buf line = {0};
    while ((got = getline(&text, &text_cap, in)) >= 0) {
        size_t n = (size_t)got;
        if (n && text[n - 1] == '\n') n--;
        if (n && text[n - 1] == '\r') n--;
        toks.n = 0;
        size_t unk = 0;
        rc = esm ? vnp_esm_encode(text, n, &toks, &unk) : vnp_bpe_encode(bpe, text, n, &toks);
        if (rc || (rc = format_ids(&line, toks.ids, toks.n))) break;
        if (fwrite(line.data, 1, line.len, stdout) != line.len) {
            rc = VNP_ERR_IO;
            break;
        }
        lines++;
        unknown += unk;
        unknown_lines += unk > 0;
    }
    if (rc == VNP_OK && ferror(in)) {
        fprintf(stderr, "virnucpro tokenize: error: reading '%s' failed\n", input);
        rc = VNP_ERR_IO;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == VNP_OK) fprintf(stderr, "virnucpro tokenize: error: writing the output failed\n");
        rc = VNP_ERR_IO;
    } else if (rc) {
        fprintf(stderr, "virnucpro tokenize: error: %s\n", vnp_status_str(rc));
    }
    if (esm && unknown)
        vnp_warn("%zu character%s outside the ESM-2 alphabet (in %zu of %zu lines) became <unk> (3)", unknown,
                 unknown == 1 ? "" : "s", unknown_lines, lines);
    if (in != stdin) fclose(in);
    free(text);
    vnp_buf_free(&line);
    vnp_tokens_free(&toks);
    vnp_bpe_free(bpe);
    return rc ? 1 : 0;
}
