/* The subcommands of `virnucpro`: each returns the process exit code (0 ok, 1 failure while running,
 * 2 bad usage or bad input). Only cli/ exits. */
#ifndef VNP_CLI_H
#define VNP_CLI_H

typedef int (*vnp_cmd_fn)(int argc, char **argv);

int vnp_cmd_preprocess(int argc, char **argv); /* cmd_preprocess.c */
int vnp_cmd_models(int argc, char **argv);     /* cmd_models.c */
int vnp_cmd_tokenize(int argc, char **argv);   /* cmd_tokenize.c */
int vnp_cmd_embed(int argc, char **argv);      /* cmd_embed.c */
int vnp_cmd_classify(int argc, char **argv);   /* cmd_classify.c */
int vnp_cmd_bench(int argc, char **argv);      /* cmd_bench.c */

/* Shared option helpers (cli_util.c). */
/* True when argv holds -h or --help (before a "--"). */
int vnp_cli_wants_help(int argc, char **argv);
/* Parses a positive integer option value; prints an error naming the option and returns -1 on failure. */
long vnp_cli_parse_long(const char *opt, const char *value, long min, long max);
/* Prints "virnucpro <cmd>: <message>" plus a hint to use --help, returns 2. */
int vnp_cli_usage_error(const char *cmd, const char *fmt, ...);

/* ---- running an encoder over a window of sequences (cli_encode.c) ---- */
#include "vnp/model.h"
#include "vnp/sched.h"

/* Tokenized sequences laid end to end, plus the buffers of the batches packed from them. Zero-initialise. */
typedef struct {
    int32_t *ids;   /* all tokens of the window */
    size_t *start;  /* [n] offset of each sequence in ids */
    int32_t *len;   /* [n] tokens of each sequence */
    size_t n, ntok, cap_seqs, cap_tok;
    int32_t max_len;
    vnp_packing pack;
    int32_t *batch_ids, *cu; /* one packed batch */
    float *pooled;
    size_t cap_batch, cap_batch_seqs;
    size_t batches; /* batches run so far */
} vnp_cli_window;

int vnp_cli_window_add(vnp_cli_window *w, const int32_t *ids, int32_t n) VNP_MUST_CHECK;
/* Packs the window (FFD, `budget` tokens per batch; longer sequences run alone), runs every batch and writes the
 * pooled row of sequence i to out[i*D ..]. */
int vnp_cli_window_run(vnp_encoder *e, vnp_cli_window *w, size_t budget, float *out) VNP_MUST_CHECK;
void vnp_cli_window_clear(vnp_cli_window *w); /* forgets the sequences, keeps the buffers */
void vnp_cli_window_free(vnp_cli_window *w);

#endif
