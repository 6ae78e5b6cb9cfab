/* `virnucpro embed`: pooled ESM-2 or DNABERT-S features (VirNucPro's definition) for every record of a FASTA
 * file, in input order, as raw float32 rows or TSV. Records stream in windows; each window is packed into
 * token-budgeted batches. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "vnp/pipeline.h"
#include "vnp/backend.h"
#include "vnp/io.h"
#include "vnp/model.h"
#include "vnp/tok.h"
#include "vnp/weights.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WINDOW_SEQS 8192 /* records per window: the unit of packing and of output order */

typedef struct {
    const char *out_path, *format, *tok_path, *device, *precision;
    int threads, budget;
} embed_args;

#define E(f) offsetof(embed_args, f)
static const vnp_opt embed_opts[] = {
    {.name = "output", .short_opt = 'o', .type = VNP_OPT_PATH, .arg = "OUT", .off = E(out_path),
     .help = "output file (written atomically); required"},
    {.name = "format", .short_opt = 'f', .type = VNP_OPT_CHOICE, .choices = "f32|tsv", .def = "f32", .off = E(format),
     .help = "f32: raw little-endian float32 rows of D values, no header; tsv: id<TAB>D values per line"},
    VNP_CLI_OPT_THREADS(embed_args, threads, 't'),
    VNP_CLI_OPT_TPB(embed_args, budget, 'b'),
    {.name = "tokenizer", .type = VNP_OPT_PATH, .arg = "FILE", .off = E(tok_path),
     .help = "DNABERT-S tokenizer.json (default: tokenizer.json beside MODEL)"},
    VNP_CLI_OPT_DEVICE(embed_args, device, 0),
    VNP_CLI_OPT_PRECISION(embed_args, precision, 0),
};
#undef E

static const vnp_opt_cmd embed_cmd = {
    .name = "embed",
    .synopsis = "virnucpro embed MODEL INPUT -o OUT [options]",
    .about =
"MODEL is an ESM-2 or DNABERT-S model folder or file (safetensors, pytorch_model.bin, fair-esm .pt);\n"
"the kind is told from its tensors. INPUT holds proteins (ESM-2) or DNA (DNABERT-S): FASTA/FASTQ/SAM/\n"
"BAM/CRAM, plain or gzip, '-' for standard input. One pooled FP32 feature row per record, in input\n"
"order, exactly as VirNucPro computes it (rows are FP32 whatever --precision):\n"
"  ESM-2      mean of the final-LayerNorm output over residues 1..min(1024, len), full sequence in context\n"
"  DNABERT-S  mean of the last hidden state over all tokens, [CLS] and [SEP] included",
    .epilog =
"Characters a model cannot take: ESM-2 maps each run of them to <unk> (as Hugging Face does) and\n"
"DNABERT-S gives one [UNK] per character (N, IUPAC codes, lower case); both are counted in a warning.\n"
"An empty protein has no residue to average: its row is zeros, with a warning.\n\n" VNP_CLI_EXIT_STATUS,
    .opts = embed_opts,
    .n_opts = VNP_OPT_COUNT(embed_opts),
};

/* tokenizer.json beside the model: in the folder itself, or beside the file. */
static char *default_tokenizer(const char *model)
{
    struct stat st;
    size_t n = strlen(model);
    char *p = malloc(n + 32);
    if (!p) return NULL;
    if (stat(model, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(p, n + 32, "%s/tokenizer.json", model);
    } else {
        const char *slash = strrchr(model, '/');
        if (slash)
            snprintf(p, n + 32, "%.*s/tokenizer.json", (int)(slash - model), model);
        else
            snprintf(p, n + 32, "tokenizer.json");
    }
    return p;
}

typedef struct {
    FILE *fp;
    int tsv;
    size_t dim;
    char **ids; /* tsv: ids of the window's records */
} writer;

static int write_rows(writer *w, const float *rows, size_t n)
{
    if (!w->tsv) return fwrite(rows, sizeof(float), n * w->dim, w->fp) == n * w->dim ? VNP_OK : VNP_ERR_IO;
    for (size_t i = 0; i < n; i++) {
        if (fputs(w->ids[i], w->fp) == EOF) return VNP_ERR_IO;
        for (size_t j = 0; j < w->dim; j++)
            if (fprintf(w->fp, "\t%.9g", (double)rows[i * w->dim + j]) < 0) return VNP_ERR_IO;
        if (fputc('\n', w->fp) == EOF) return VNP_ERR_IO;
    }
    return VNP_OK;
}

int vnp_cmd_embed(int argc, char **argv)
{
    embed_args a = {0};
    int first, prc = vnp_opt_parse(&embed_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    if (argc - first != 2) return vnp_opt_usage_error("embed", "expected MODEL and INPUT");
    if (!a.out_path) return vnp_opt_usage_error("embed", "missing -o OUT");
    const char *model_path = argv[first], *in_path = argv[first + 1], *out_path = a.out_path;
    const char *tok_path = a.tok_path;
    int tsv = strcmp(a.format, "tsv") == 0;

    int rc = VNP_OK;
    vnp_bpe *bpe = NULL;
    vnp_backend *be = NULL;
    vnp_encoder *enc = NULL;
    vnp_seqreader *rd = NULL;
    vnp_outfile *of = NULL;
    vnp_tokens tk = {0};
    vnp_window win = {0};
    float *rows = NULL;
    char *deftok = NULL;
    writer wr = {0};
    int wrote_rows_failed = 0;
    size_t esm_unk_chars = 0, esm_unk_recs = 0, dna_unk = 0, dna_unk_recs = 0, empty = 0, total = 0;

    vnp_model_info info;
    if ((rc = vnp_backend_open_for(a.device, a.threads, a.precision, &be))) goto done;
    if (!(enc = vnp_encoder_open(be, model_path, VNP_ROLE_NONE, "model", &info, NULL))) {
        rc = VNP_ERR_FORMAT; /* said */
        goto done;
    }
    size_t budget = a.budget > 0 ? (size_t)a.budget : vnp_encoders_auto_budget(be, &enc, 1);
    int esm = info.tokenizer == VNP_TOK_ESM;
    if (!esm) {
        if (!tok_path) tok_path = deftok = default_tokenizer(model_path);
        bpe = tok_path ? vnp_bpe_load(tok_path) : NULL;
        if (!bpe) {
            vnp_error("%s needs its tokenizer.json (--tokenizer FILE)", info.title);
            rc = VNP_ERR_NOTFOUND;
            goto done;
        }
    }
    if ((rc = vnp_seqreader_open(&rd, in_path, NULL))) goto done;
    if (!(of = vnp_outfile_open(out_path))) {
        rc = VNP_ERR_IO;
        goto done;
    }
    wr.fp = vnp_outfile_fp(of);
    wr.tsv = tsv;
    wr.dim = (size_t)vnp_encoder_cfg(enc)->dim;
    if (!(rows = vnp_malloc_array((size_t)WINDOW_SEQS * wr.dim, sizeof(float))) ||
        (tsv && !(wr.ids = vnp_calloc_array(WINDOW_SEQS, sizeof(char *))))) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    double t0 = vnp_time_now();
    for (int eof = 0; !eof;) {
        vnp_seqrecord rec;
        int r = vnp_seqreader_next(rd, &rec);
        if (r < 0) {
            rc = r;
            goto done;
        }
        eof = r == 0;
        if (r == 1) {
            tk.n = 0;
            if (esm) {
                size_t unk = 0;
                if ((rc = vnp_esm_encode(rec.seq, rec.seq_len, &tk, &unk))) goto done;
                esm_unk_chars += unk;
                esm_unk_recs += unk > 0;
                if (tk.n <= 2) empty++;
            } else {
                if ((rc = vnp_bpe_encode(bpe, rec.seq, rec.seq_len, &tk))) goto done;
                size_t u = 0;
                for (size_t i = 0; i < tk.n; i++) u += tk.ids[i] == 0;
                dna_unk += u;
                dna_unk_recs += u > 0;
            }
            if (tsv && !(wr.ids[win.n] = vnp_strdup(rec.id))) {
                rc = VNP_ERR_NOMEM;
                goto done;
            }
            if ((rc = vnp_window_add(&win, tk.ids, (int32_t)tk.n))) goto done;
            total++;
        }
        if (win.n == WINDOW_SEQS || (eof && win.n)) {
            if ((rc = vnp_window_run(enc, &win, budget, rows, (size_t)vnp_encoder_cfg(enc)->dim))) goto done;
            if ((rc = write_rows(&wr, rows, win.n))) {
                wrote_rows_failed = 1;
                goto done;
            }
            if (tsv)
                for (size_t i = 0; i < win.n; i++) {
                    free(wr.ids[i]);
                    wr.ids[i] = NULL;
                }
            vnp_window_clear(&win);
        }
    }
    if (esm_unk_chars)
        vnp_warn("%zu character(s) in %zu protein(s) are not in the ESM-2 alphabet: each run became <unk> (3)",
                 esm_unk_chars, esm_unk_recs);
    if (dna_unk)
        vnp_warn("%zu character(s) in %zu sequence(s) are not A/C/G/T: each became one [UNK] (0) token", dna_unk,
                 dna_unk_recs);
    if (empty) vnp_warn("%zu empty protein(s): no residue to average, their rows are zeros", empty);
    rc = vnp_outfile_commit(of);
    of = NULL;
    if (!rc)
        vnp_info("%zu records, %zu batches, %.2f s, peak RSS %.0f MB", total, win.batches, vnp_time_now() - t0,
                 (double)vnp_peak_rss_bytes() / 1e6);
done:
    vnp_outfile_abort(of);
    if (wr.ids)
        for (size_t i = 0; i < WINDOW_SEQS; i++) free(wr.ids[i]);
    free(wr.ids);
    free(rows);
    free(deftok);
    vnp_window_free(&win);
    vnp_tokens_free(&tk);
    vnp_seqreader_close(rd);
    vnp_encoder_free(enc);
    vnp_backend_free(be);
    vnp_bpe_free(bpe);
    /* every failure above was said where it happened (once); only these two have no message of their own */
    if (rc == VNP_ERR_NOMEM) vnp_error("embed: out of memory");
    if (rc == VNP_ERR_IO && wrote_rows_failed) vnp_error("writing '%s' failed", out_path);
    return vnp_status_exit_code(rc);
}
