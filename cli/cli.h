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
int vnp_cmd_predict(int argc, char **argv);    /* cmd_predict.c */
int vnp_cmd_config(int argc, char **argv);     /* cmd_config.c: generate, check */
int vnp_cmd_devices(int argc, char **argv);    /* cmd_devices.c */
/* `models download`, dispatched by vnp_cmd_models (argv[0] = "download"). */
int vnp_cmd_models_download(int argc, char **argv); /* cmd_download.c */

/* Shared option helpers (cli_util.c). */
/* True when argv holds -h or --help (before a "--"). */
int vnp_cli_wants_help(int argc, char **argv);
/* Parses a positive integer option value; prints an error naming the option and returns -1 on failure. */
long vnp_cli_parse_long(const char *opt, const char *value, long min, long max);
/* Prints "virnucpro <cmd>: <message>" plus a hint to use --help, returns 2. */
int vnp_cli_usage_error(const char *cmd, const char *fmt, ...);

#endif
