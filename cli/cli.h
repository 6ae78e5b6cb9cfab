/* The subcommands of `virnucpro`: each returns the process exit code (0 ok, 1 failure while running,
 * 2 bad usage or bad input). Only cli/ exits. */
#ifndef VNP_CLI_H
#define VNP_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "vnp/opt.h"
#include "vnp/viral_report.h"

/* The help line for that convention, for the commands whose exit statuses mean no more than it says. */
#define VNP_CLI_EXIT_STATUS "exit status: 0 success, 1 failure while running, 2 bad usage or bad input\n"

typedef int (*vnp_cmd_fn)(int argc, char **argv);

int vnp_cmd_preprocess(int argc, char **argv); /* cmd_preprocess.c */
int vnp_cmd_models(int argc, char **argv);     /* cmd_models.c */
int vnp_cmd_tokenize(int argc, char **argv);   /* cmd_tokenize.c */
int vnp_cmd_embed(int argc, char **argv);      /* cmd_embed.c */
int vnp_cmd_classify(int argc, char **argv);   /* cmd_classify.c */
int vnp_cmd_bench(int argc, char **argv);      /* cmd_bench.c */
int vnp_cmd_predict(int argc, char **argv);    /* cmd_predict.c */
int vnp_cmd_config(int argc, char **argv);     /* cmd_config.c: generate, check */
int vnp_cmd_devices(int argc, char **argv);    /* cmd_devices.c */
int vnp_cmd_validate(int argc, char **argv);   /* cmd_validate.c */
int vnp_cmd_embed_frames(int argc, char **argv); /* cmd_embed_frames.c */
int vnp_cmd_train(int argc, char **argv);      /* cmd_train.c */
int vnp_cmd_merge(int argc, char **argv);      /* cmd_merge.c */
int vnp_cmd_report(int argc, char **argv);     /* cmd_report.c */
/* predict's option table: its --help, and the keys of its --config file (src/config/keys.c reads it). */
extern const vnp_opt_cmd vnp_cli_predict_cmd; /* cmd_predict.c (n_extra 0: broad's options are added by predict) */
/* `models download`, dispatched by vnp_cmd_models (argv[0] = "download"). */
int vnp_cmd_models_download(int argc, char **argv); /* cmd_download.c */
extern const vnp_opt_cmd vnp_cli_models_download_cmd; /* its table, for the synopsis in `models --help` */

/* Shared option helpers (cli_util.c). */
/* Parses a positive integer option value; prints an error naming the option and returns -1 on failure. */
long vnp_cli_parse_long(const char *opt, const char *value, long min, long max);
/* A size in bytes: a number with an optional K, M, G or T (powers of 1024; a trailing B is allowed), e.g. "512M";
 * -1 when it is not one (predict's --reuse-memory check says so). */
long long vnp_cli_bytes_value(const char *value);

/* A subcommand (models inspect, config generate, ...): its option table, which makes its --help, and one line that
 * says what it does, for the --help of the command above it. */
typedef struct {
    const vnp_opt_cmd *cmd;
    const char *line;
} vnp_cli_sub;
/* The --help of a command made of subcommands ("models"): each subcommand's synopsis from its table, then its
 * line; no options of its own. */
void vnp_cli_subcommands_help(const char *name, const vnp_cli_sub *subs, size_t n, FILE *out);

/* ---- GPUs (gpus.c) ---- */
enum { VNP_CLI_MAX_GPUS = 64 };
/* The GPUs a command runs on: the --gpus list (NULL: none given), the N of --device cuda:N, or every visible GPU
 * (under MPI, rank k of the n ranks on a host takes GPUs k, k + n, ...). Returns how many were put in gpus (at most
 * cap); 0 when the device is the CPU; -1 after printing a usage error for cmd. */
int vnp_cli_choose_gpus(const char *cmd, const char *device, const char *list, int distributed, int *gpus, int cap);

/* ---- model paths (model_paths.c): the released layout of a models folder ----
 *   esm2_t36_3B_UR50D.pt (fair-esm) or esm2_t36_3B_UR50D/ (Hugging Face folder), DNABERT-S/, <length>_model.pth */
typedef enum { VNP_CLI_ESM2, VNP_CLI_DNABERT, VNP_CLI_CLASSIFIER } vnp_cli_model;
typedef struct {
    const char *esm, *dnabert, *classifier; /* in: given by flags (NULL: not given); out: the paths to use */
    char *owned[3];                         /* the ones found in the folder; released by vnp_cli_models_free */
} vnp_cli_models;
/* The models folder: given (--models), else $VIRNUCPRO_MODELS when set and not empty, else NULL. */
const char *vnp_cli_models_dir(const char *given);
/* The path of a model in folder dir by the layout above (length: the classifier's), malloc'ed; NULL when absent. */
char *vnp_cli_model_in_dir(const char *dir, vnp_cli_model what, int length);
/* Fills the paths the flags left NULL from vnp_cli_models_dir(dir); length 300/500 picks the classifier, 0 leaves
 * it alone. Returns 0 when ESM-2, DNABERT-S (and the classifier when length != 0) are set; otherwise 2 after
 * printing "virnucpro <cmd>: error: ..." that the folder does not exist, or which models are missing and where to
 * get them. Call vnp_cli_models_free in every case. */
int vnp_cli_resolve_models(const char *cmd, const char *dir, int length, vnp_cli_models *m);
void vnp_cli_models_free(vnp_cli_models *m); /* accepts NULL */
/* The chunk length a classifier's file name names ("300_model.pth" -> 300), or 0. */
int vnp_cli_length_in_name(const char *path);

/* ---- virnucpro-broad's predict options (broad_compat.c) ----
 * Short flags -m -p -e -b -w are broad's; -d -k -f -t are broad's names for predict's --device, --keep-intermediate,
 * --force, --threads. broad's -o (--output-dir) clashes with predict's -o (--output): -o keeps predict's meaning. */
#define VNP_BROAD_OPT_BASE 2000
#define VNP_BROAD_SHORTOPTS "m:p:e:b:w:"
extern const struct option vnp_broad_longopts[];
extern const size_t vnp_broad_n_longopts;
typedef struct {
    const char *model_type;    /* "300", "500", "custom" or NULL */
    const char *model_path;    /* the classifier */
    int expected_length;       /* chunk length (0: from model_type) */
    const char *output_dir;    /* results go to output_dir/<input stem>_merged */
    int parallel, no_progress;
    int esm_tokens, dna_tokens; /* token budgets of the ESM-2 and DNABERT-S batches (0: predict's) */
    const char *ignored[32];   /* the Python-internals options given, by long name */
    int n_ignored;
} vnp_broad_args;
/* Applies option c (getopt_long's return, longindex into table) when it is one of broad's: 1 when applied, 0 when
 * not broad's, -1 after printing a usage error. */
int vnp_broad_option(int c, const char *arg, int longindex, const struct option *table, vnp_broad_args *b);
/* One info line (shown under -v) for each option accepted and ignored. */
void vnp_broad_log_ignored(const vnp_broad_args *b);
/* The chunk length broad's options name (--expected-length, else --model-type 300|500), or 0. */
int vnp_broad_length(const vnp_broad_args *b);
/* dir/<Path(input).stem>_merged, malloc'ed. */
char *vnp_broad_output_dir(const char *dir, const char *input);
/* broad's --device N (a bare GPU number) as "cuda:N" in buf; any other value is returned as it is. */
const char *vnp_broad_device(const char *device, char *buf, size_t size);

/* ---- viral regions and report.html (report_opts.c; their options: options.h), for predict, merge and report ---- */
/* Writes viral_regions.tsv and report.html into outdir; on failure prints why for cmd and returns the exit code. */
int vnp_cli_report_write(const char *cmd, const char *outdir, const vnp_report_opts *o);

#endif
