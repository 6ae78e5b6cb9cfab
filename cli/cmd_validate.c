/* `virnucpro validate`: reads every input to its end and opens every model predict would use, without running
 * any model, and reports what it found and every problem; exit 0 when predict could run, 2 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "vnp/io.h"
#include "vnp/seq.h"
#include "vnp/tok.h"
#include "vnp/util.h"
#include "vnp/model.h"
#include "vnp/weights.h"

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    int problems, warnings, inputs, models;
} tally;

static void say(tally *t, const char *tag, const char *fmt, ...) VNP_PRINTF(3, 4);

static void say(tally *t, const char *tag, const char *fmt, ...)
{
    va_list ap;
    printf("%s\t", tag);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (strcmp(tag, "problem") == 0) t->problems++;
    if (strcmp(tag, "warning") == 0) t->warnings++;
}

/* ---- inputs ---- */

typedef struct {
    uint64_t records, bases, chunks, empty, dups, nonacgt, nonacgt_records;
    size_t shortest, longest;
    char first_dup[128];
} input_stats;

static void check_input(tally *t, const char *path, int length, const char *ref, vnp_idset *ids)
{
    vnp_seqreader *r = NULL;
    vnp_seqreader_opts o = {ref};
    int rc = vnp_seqreader_open(&r, path, &o);
    if (rc) {
        say(t, "problem", "input %s: %s (predict would exit %d; details on standard error)", path, vnp_status_str(rc),
            vnp_status_exit_code(rc));
        return;
    }
    input_stats s = {.shortest = (size_t)-1};
    vnp_seqrecord rec;
    while ((rc = vnp_seqreader_next(r, &rec)) == 1) {
        s.records++;
        s.bases += rec.seq_len;
        if (rec.seq_len < s.shortest) s.shortest = rec.seq_len;
        if (rec.seq_len > s.longest) s.longest = rec.seq_len;
        if (!rec.seq_len) s.empty++;
        if (length) s.chunks += vnp_chunk_count(rec.seq_len, (size_t)length);
        size_t bad = vnp_seq_count_non_acgt(rec.seq, rec.seq_len);
        s.nonacgt += bad;
        s.nonacgt_records += bad > 0;
        int dup = ids ? vnp_idset_add(ids, rec.id, rec.id_len) : 0;
        if (dup < 0) {
            rc = dup;
            break;
        }
        if (dup && s.dups++ == 0) snprintf(s.first_dup, sizeof s.first_dup, "%s", rec.id);
    }
    const char *fmt = vnp_seqformat_name(vnp_seqreader_format(r));
    vnp_seqreader_close(r);
    if (rc < 0) {
        say(t, "problem", "input %s: %s after %llu records (predict would exit %d; details on standard error)", path,
            vnp_status_str(rc), (unsigned long long)s.records, vnp_status_exit_code(rc));
        return;
    }
    t->inputs++;
    char chunks[64] = "";
    if (length) snprintf(chunks, sizeof chunks, ", %llu chunks of %d", (unsigned long long)s.chunks, length);
    say(t, "input", "%s: %s, %llu records, %llu bases (shortest %zu, longest %zu)%s, %llu bases outside ACGT, %llu "
                    "repeated ids", path, fmt, (unsigned long long)s.records, (unsigned long long)s.bases,
        s.records ? s.shortest : 0, s.longest, chunks, (unsigned long long)s.nonacgt, (unsigned long long)s.dups);
    if (!s.records) say(t, "warning", "input %s holds no record: predict writes the header lines only", path);
    if (s.empty)
        say(t, "warning", "input %s: %llu empty records (no chunk, no score)", path, (unsigned long long)s.empty);
    if (s.dups)
        say(t, "warning", "input %s: %llu records repeat an earlier id (first: '%s'); their rows share that id", path,
            (unsigned long long)s.dups, s.first_dup);
    if (s.nonacgt)
        say(t, "warning", "input %s: %llu bases outside ACGT in %llu records; codons holding one are dropped, as in "
                          "VirNucPro", path, (unsigned long long)s.nonacgt, (unsigned long long)s.nonacgt_records);
}

/* ---- models ---- */

typedef struct {
    tally *t;
    const char *label, *path;
} check_ctx;

static void shape_str(char *out, size_t cap, const int64_t *shape, int ndim)
{
    size_t at = 0;
    out[0] = '\0';
    for (int d = 0; d < ndim && at < cap; d++) {
        int n = snprintf(out + at, cap - at, "%s%lld", d ? "," : "", (long long)shape[d]);
        if (n < 0) break;
        at += (size_t)n;
    }
    if (!ndim) snprintf(out, cap, "scalar");
}

static void on_tensor_problem(void *ctx, const vnp_tensor_spec *want, const vnp_tensor *got)
{
    check_ctx *c = ctx;
    char w[64], g[64];
    shape_str(w, sizeof w, want->shape, want->ndim);
    if (!got) {
        say(c->t, "problem", "%s %s: tensor %s [%s] is missing", c->label, c->path, want->name, w);
        return;
    }
    shape_str(g, sizeof g, got->shape, got->ndim);
    say(c->t, "problem", "%s %s: tensor %s is %s [%s], expected a float tensor [%s]", c->label, c->path, want->name,
        vnp_dtype_name(got->dtype), g, w);
}

/* Opens path, names the model and checks its tensors against want. Fills *m and returns 1 when usable. */
static int check_model(tally *t, const char *label, const char *path, vnp_model_role want, vnp_model_info *m)
{
    const char *wanted = vnp_model_role_title(want);
    memset(m, 0, sizeof *m);
    vnp_weights *w = vnp_weights_open(path);
    if (!w) {
        say(t, "problem", "%s %s: cannot be read (details on standard error)", label, path);
        return 0;
    }
    int ok = 0, rc = vnp_weights_model_info(w, m);
    if (rc == VNP_ERR_NOTFOUND) {
        say(t, "problem", "%s %s: its tensor names match no known model; expected %s", label, path, wanted);
    } else if (rc) {
        say(t, "problem", "%s %s: not usable: its config.json or sizes contradict the tensors (details on standard "
                          "error)", label, path);
    } else if (m->role != want) {
        say(t, "problem", "%s %s: holds %s %s model, not %s", label, path, strchr("AEIOU", m->title[0]) ? "an" : "a",
            m->title, wanted);
    } else {
        int named = m->name && strcmp(m->name, m->title) != 0;
        if (want == VNP_ROLE_CLASSIFIER)
            say(t, label, "%s: %s (input width %d, hidden %d, %d classes), %s, %zu tensors", path, m->title,
                m->in_features, m->dim, m->classes, vnp_weights_format(w), vnp_weights_count(w));
        else
            say(t, label, "%s: %s%s%s (%d layers, dim %d, %d heads, ffn %d, vocab %d), %s, %zu tensors", path,
                m->title, named ? " " : "", named ? m->name : "", m->layers, m->dim, m->heads, m->ffn,
                m->vocab, vnp_weights_format(w), vnp_weights_count(w));
        check_ctx c = {t, label, path};
        int n = vnp_weights_check(w, m, on_tensor_problem, &c);
        if (n < 0) say(t, "problem", "%s %s: cannot be checked: %s", label, path, vnp_status_str(n));
        ok = n == 0;
    }
    vnp_weights_close(w);
    t->models += ok;
    return ok;
}

/* tokenizer.json beside the DNABERT-S weights (in the folder, or beside the file): loaded by the tokenizer predict
 * uses, every token id inside the embedding, and a test sequence encoded. */
static void check_tokenizer(tally *t, const char *dnabert, int vocab_rows)
{
    struct stat st;
    size_t n = strlen(dnabert) + 32;
    char *path = malloc(n);
    if (!path) return;
    if (stat(dnabert, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(path, n, "%s/tokenizer.json", dnabert);
    } else {
        const char *slash = strrchr(dnabert, '/');
        snprintf(path, n, "%.*stokenizer.json", slash ? (int)(slash - dnabert + 1) : 0, dnabert);
    }
    vnp_bpe *bpe = NULL;
    vnp_tokens tk = {0};
    if (stat(path, &st) != 0) {
        say(t, "problem", "dnabert %s: no tokenizer.json beside it (%s); DNABERT-S needs its tokenizer", dnabert, path);
        goto out;
    }
    if (!(bpe = vnp_bpe_load(path))) {
        say(t, "problem", "dnabert %s: the tokenizer cannot be loaded (details on standard error)", path);
        goto out;
    }
    int32_t size = vnp_bpe_vocab_size(bpe);
    if (vocab_rows > 0 && size > vocab_rows) {
        say(t, "problem", "dnabert %s: %d token ids but the model's embedding has %d rows", path, (int)size,
            vocab_rows);
        goto out;
    }
    if (vnp_bpe_encode(bpe, "ACGTACGTNACGT", 13, &tk) != 0 || tk.n < 3) {
        say(t, "problem", "dnabert %s: the tokenizer cannot encode a test sequence", path);
        goto out;
    }
    say(t, "dnabert", "%s: BPE tokenizer, %d token ids", path, (int)size);
out:
    vnp_tokens_free(&tk);
    vnp_bpe_free(bpe);
    free(path);
}

typedef struct {
    const char *models, *esm, *dnabert, *classifier, *reference;
    int length, force_length;
} validate_args;

static void check_classifier(tally *t, const validate_args *a, const char *path, int length, int dna_dim,
                             int esm_dim)
{
    vnp_model_info m;
    if (!check_model(t, "classifier", path, VNP_ROLE_CLASSIFIER, &m)) return;
    if (m.classes != 2) say(t, "problem", "classifier %s: %d outputs, VirNucPro has 2", path, m.classes);
    if (dna_dim && esm_dim && m.in_features != dna_dim + esm_dim)
        say(t, "problem", "classifier %s: input width %d, but DNABERT-S width %d + ESM-2 width %d = %d: these models "
                          "do not belong together", path, m.in_features, dna_dim, esm_dim, dna_dim + esm_dim);
    int named = vnp_cli_length_in_name(path);
    if (length && named && named != length && !a->force_length)
        say(t, "problem", "classifier %s: named for %d bp chunks but -l %d was given (predict refuses it without "
                          "--force-length)", path, named, length);
}

static void check_models(tally *t, const validate_args *a)
{
    const char *dir = vnp_cli_models_dir(a->models);
    vnp_cli_models mp = {a->esm, a->dnabert, a->classifier, {NULL, NULL, NULL}};
    if (!dir && !a->esm && !a->dnabert && !a->classifier) {
        printf("models\tnot checked (no --models, --esm, --dnabert, --classifier, nor $VIRNUCPRO_MODELS)\n");
        return;
    }
    if (dir) {
        (void)vnp_cli_resolve_models("validate", dir, a->length, &mp); /* prints what is missing */
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            say(t, "problem", "models folder %s does not exist", dir);
            vnp_cli_models_free(&mp);
            return;
        }
        if (!mp.esm) say(t, "problem", "ESM-2: not found (--esm, or esm2_t36_3B_UR50D.pt or esm2_t36_3B_UR50D/ in %s)", dir);
        if (!mp.dnabert) say(t, "problem", "DNABERT-S: not found (--dnabert, or DNABERT-S/ in %s)", dir);
        if (a->length && !mp.classifier)
            say(t, "problem", "classifier: not found (--classifier, or %d_model.pth in %s)", a->length, dir);
    }
    vnp_model_info esm = {0}, dna = {0};
    int esm_ok = mp.esm && check_model(t, "esm2", mp.esm, VNP_ROLE_PROTEIN, &esm);
    int dna_ok = mp.dnabert && check_model(t, "dnabert", mp.dnabert, VNP_ROLE_DNA, &dna);
    if (mp.dnabert && dna_ok) check_tokenizer(t, mp.dnabert, dna.vocab);
    int dna_dim = dna_ok ? dna.dim : 0, esm_dim = esm_ok ? esm.dim : 0;
    if (mp.classifier) {
        check_classifier(t, a, mp.classifier, a->length, dna_dim, esm_dim);
    } else if (dir && !a->length) { /* every classifier of the folder */
        int found = 0;
        for (int len = 300; len <= 500; len += 200) {
            char *p = vnp_cli_model_in_dir(dir, VNP_CLI_CLASSIFIER, len);
            if (!p) continue;
            found++;
            check_classifier(t, a, p, len, dna_dim, esm_dim);
            free(p);
        }
        if (!found) say(t, "problem", "classifier: neither 300_model.pth nor 500_model.pth in %s", dir);
    }
    vnp_cli_models_free(&mp);
}

static const vnp_opt validate_opts[] = {
    VNP_CLI_OPT_LENGTH(validate_args, length),
    VNP_CLI_OPT_MODELS(validate_args, models),
    VNP_CLI_OPT_ESM(validate_args, esm),
    VNP_CLI_OPT_DNABERT(validate_args, dnabert),
    VNP_CLI_OPT_CLASSIFIER(validate_args, classifier),
    {.name = "force-length", .type = VNP_OPT_FLAG, .off = offsetof(validate_args, force_length),
     .help = "accept a classifier whose file name names the other length (as predict)"},
    {.name = "reference", .short_opt = 'T', .type = VNP_OPT_PATH, .arg = "FA",
     .off = offsetof(validate_args, reference), .help = "reference FASTA for CRAM input"},
};

static const vnp_opt_cmd validate_cmd = {
    .name = "validate",
    .synopsis = "virnucpro validate [INPUT...] [--models DIR] [--esm PATH] [--dnabert PATH] [--classifier FILE]\n"
                "                          [-l 300|500] [--force-length] [-T FA]",
    .about =
"Checks what `virnucpro predict` would read, without running any model:\n"
"  inputs   each is read to its end: format, records, bases, chunks (with -l), empty records, repeated ids,\n"
"           bases outside ACGT, and any error with the exit code predict would give;\n"
"  models   found as predict finds them (flags, then --models DIR or $VIRNUCPRO_MODELS: esm2_t36_3B_UR50D.pt or\n"
"           esm2_t36_3B_UR50D/, DNABERT-S/, <length>_model.pth): each is opened and named (kind, sizes), its\n"
"           tensors checked; DNABERT-S needs tokenizer.json beside it; the classifier's input width must be the\n"
"           DNABERT-S width plus the ESM-2 width. Without -l, every classifier of the folder is checked. Without a\n"
"           models folder only the model flags given are checked.",
    .epilog =
"Standard output: one line per finding, 'input', 'esm2', 'dnabert', 'classifier', 'warning', 'problem' then a\n"
"TAB and the text, and a last 'result' line.\n"
"exit status: 0 usable (warnings allowed), 2 at least one problem or bad usage\n",
    .opts = validate_opts,
    .n_opts = VNP_OPT_COUNT(validate_opts),
};

int vnp_cmd_validate(int argc, char **argv)
{
    validate_args a = {0};
    int first, prc = vnp_opt_parse(&validate_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    int n_inputs = argc - first;
    if (!n_inputs && !vnp_cli_models_dir(a.models) && !a.esm && !a.dnabert && !a.classifier)
        return vnp_opt_usage_error("validate", "nothing to check: give INPUT files and/or models");
    tally t = {0};
    vnp_idset *ids = vnp_idset_create(); /* one set for all inputs: predict reads them as one stream */
    if (!ids) {
        fprintf(stderr, "virnucpro validate: error: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n_inputs; i++) check_input(&t, argv[first + i], a.length, a.reference, ids);
    if (vnp_idset_full(ids)) say(&t, "warning", "more than %u records: later ids were not checked for repeats",
                                 VNP_IDSET_MAX_IDS);
    vnp_idset_free(ids);
    check_models(&t, &a);
    if (t.problems)
        printf("result\tNOT USABLE: %d problem%s\n", t.problems, t.problems == 1 ? "" : "s");
    else
        printf("result\tOK: %d input%s and %d model%s usable, %d warning%s\n", t.inputs, t.inputs == 1 ? "" : "s",
               t.models, t.models == 1 ? "" : "s", t.warnings, t.warnings == 1 ? "" : "s");
    if (fflush(stdout) != 0) return 1;
    if (t.problems)
        fprintf(stderr, "virnucpro validate: error: %d problem%s (listed on standard output)\n", t.problems,
                t.problems == 1 ? "" : "s");
    return t.problems ? 2 : 0;
}
