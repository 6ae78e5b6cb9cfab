/* The options several commands share, each defined once (cli/options.c holds the help text and checks): a
 * command's table lists VNP_CLI_OPT_xxx(struct, field, short letter), so the name, type, default, range and help
 * of --device, --precision, --tokens-per-batch, --threads, --gpus, --length and the model paths are the same in
 * every command. The short letter is the command's (kept as each command had it). */
#ifndef VNP_CLI_OPTIONS_H
#define VNP_CLI_OPTIONS_H

#include <stddef.h>

#include "vnp/backend.h"
#include "vnp/opt.h"
#include "vnp/viral_report.h"

extern const char vnp_cli_help_device[], vnp_cli_help_precision[], vnp_cli_help_tpb[], vnp_cli_help_threads[],
    vnp_cli_help_gpus[], vnp_cli_help_models[], vnp_cli_help_esm[], vnp_cli_help_dnabert[],
    vnp_cli_help_classifier[], vnp_cli_help_length[];
int vnp_cli_check_device(const char *v);  /* 0 when vnp_device_parse takes v */
int vnp_cli_check_length(const char *v);  /* 0 for 300 and 500 */

/* The token budget of one packed encoder batch: "auto" (0) lets the model loader choose for the device. */
#define VNP_CLI_TPB_MIN 64
#define VNP_CLI_TPB_MAX (1 << 24)

#define VNP_CLI_OPT_DEVICE(T, f, s) VNP_CLI_OPT_DEVICE_CHECKED(T, f, s, vnp_cli_check_device)
/* predict checks its --device after virnucpro-broad's bare GPU number (-d N) is read as cuda:N */
#define VNP_CLI_OPT_DEVICE_CHECKED(T, f, s, chk)                                                                      \
    {.name = "device", .short_opt = (s), .type = VNP_OPT_STRING, .arg = "auto|cpu|cuda[:N]", .def = "auto",           \
     .help = vnp_cli_help_device, .off = offsetof(T, f), .check = (chk), .expects = "auto, cpu, cuda or cuda:N",     \
     .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_PRECISION(T, f, s)                                                                                \
    {.name = "precision", .short_opt = (s), .type = VNP_OPT_CHOICE, .def = "auto", .choices = VNP_PRECISION_CHOICES,  \
     .help = vnp_cli_help_precision, .off = offsetof(T, f), .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_TPB(T, f, s)                                                                                      \
    {.name = "tokens-per-batch", .short_opt = (s), .type = VNP_OPT_INT, .def = "auto", .choices = "auto",            \
     .min = VNP_CLI_TPB_MIN, .max = VNP_CLI_TPB_MAX, .help = vnp_cli_help_tpb, .off = offsetof(T, f),                \
     .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_THREADS(T, f, s)                                                                                  \
    {.name = "threads", .short_opt = (s), .type = VNP_OPT_INT, .def = "all", .choices = "all", .min = 1,             \
     .max = 4096, .help = vnp_cli_help_threads, .off = offsetof(T, f), .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_GPUS(T, f)                                                                                        \
    {.name = "gpus", .type = VNP_OPT_STRING, .arg = "LIST", .help = vnp_cli_help_gpus, .off = offsetof(T, f),         \
     .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_LENGTH(T, f)                                                                                      \
    {.name = "length", .short_opt = 'l', .type = VNP_OPT_INT, .min = 1, .max = 100000, .help = vnp_cli_help_length,  \
     .off = offsetof(T, f), .check = vnp_cli_check_length, .expects = "300 or 500", .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_MODELS(T, f)                                                                                      \
    {.name = "models", .type = VNP_OPT_PATH, .arg = "DIR", .help = vnp_cli_help_models, .off = offsetof(T, f),        \
     .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_ESM(T, f)                                                                                         \
    {.name = "esm", .type = VNP_OPT_PATH, .help = vnp_cli_help_esm, .off = offsetof(T, f), .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_DNABERT(T, f)                                                                                     \
    {.name = "dnabert", .type = VNP_OPT_PATH, .help = vnp_cli_help_dnabert, .off = offsetof(T, f),                    \
     .flags = VNP_OPT_CFG}
#define VNP_CLI_OPT_CLASSIFIER(T, f)                                                                                  \
    {.name = "classifier", .type = VNP_OPT_PATH, .arg = "FILE", .help = vnp_cli_help_classifier,                      \
     .off = offsetof(T, f), .flags = VNP_OPT_CFG}

/* viral_regions.tsv and report.html (predict, merge, report): r is the vnp_report_opts member of T */
extern const char vnp_cli_help_no_report[], vnp_cli_help_region_score[], vnp_cli_help_region_window[],
    vnp_cli_help_region_chunks[], vnp_cli_help_region_seq_chunks[];
int vnp_cli_check_odd(const char *v);
#define VNP_CLI_OPT_NO_REPORT(T, f)                                                                                   \
    {.name = "no-report", .type = VNP_OPT_FLAG, .help = vnp_cli_help_no_report, .off = offsetof(T, f),               \
     .flags = VNP_OPT_CFG}
#define VNP_CLI_OPTS_REGIONS(T, r)                                                                                    \
    {.name = "region-min-score", .type = VNP_OPT_DOUBLE, .def = VNP_XSTR(VNP_REGION_DEFAULT_MIN_SCORE), .min = 0,    \
     .max = 1, .help = vnp_cli_help_region_score, .off = offsetof(T, r.regions.min_score),                          \
     .flags = VNP_OPT_CFG | VNP_OPT_MIN_OPEN},                                                                       \
    {.name = "region-window", .type = VNP_OPT_INT, .def = VNP_XSTR(VNP_REGION_DEFAULT_WINDOW), .min = 1, .max = 1001, \
     .help = vnp_cli_help_region_window, .off = offsetof(T, r.regions.window), .check = vnp_cli_check_odd,          \
     .expects = "an odd number of chunks", .flags = VNP_OPT_CFG},                                                     \
    {.name = "region-min-chunks", .type = VNP_OPT_INT, .def = VNP_XSTR(VNP_REGION_DEFAULT_MIN_CHUNKS), .min = 1,     \
     .max = 1000000, .help = vnp_cli_help_region_chunks, .off = offsetof(T, r.regions.min_chunks),                  \
     .flags = VNP_OPT_CFG},                                                                                          \
    {.name = "region-min-seq-chunks", .type = VNP_OPT_INT, .def = VNP_XSTR(VNP_REGION_DEFAULT_MIN_SEQ_CHUNKS),       \
     .min = 1, .max = 1000000, .help = vnp_cli_help_region_seq_chunks,                                               \
     .off = offsetof(T, r.regions.min_seq_chunks), .flags = VNP_OPT_CFG}

#endif
