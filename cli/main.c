/* main: finds the subcommand and hands it argv; prints the version and the command list. */
#include "cli.h"
#include "vnp/dist.h"
#include "vnp/env.h"
#include "vnp/util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    vnp_cmd_fn fn;
    const char *summary;
} commands[] = {
    {"predict", vnp_cmd_predict, "score sequences as viral or not (VirNucPro end to end)"},
    {"validate", vnp_cmd_validate, "check inputs and models without running the models"},
    {"devices", vnp_cmd_devices, "list the CPU, memory, BLAS library and GPUs predict can use"},
    {"config", vnp_cmd_config, "write a commented YAML config for predict --config, or check one"},
    {"preprocess", vnp_cmd_preprocess, "chunk sequences and keep their stop-free frames (VirNucPro steps 1-2)"},
    {"tokenize", vnp_cmd_tokenize, "print ESM-2 or DNABERT-S token ids, one line per input line"},
    {"models", vnp_cmd_models, "inspect, check and convert model files (safetensors, PyTorch .pt/.bin/.pth)"},
    {"embed", vnp_cmd_embed, "pooled ESM-2 or DNABERT-S features for a FASTA file"},
    {"classify", vnp_cmd_classify, "run the VirNucPro MLP classifier on feature rows"},
    {"embed-frames", vnp_cmd_embed_frames, "features of every kept frame as HDF5, for training"},
    {"train", vnp_cmd_train, "train the VirNucPro classifier on viral and other feature files"},
    {"merge", vnp_cmd_merge, "join the output folders of `predict --shard I/N` runs into the final outputs"},
    {"report", vnp_cmd_report, "rebuild viral_regions.tsv and report.html from a finished run's output folder"},
    {"bench", vnp_cmd_bench, "throughput with random weights of the real model shapes (JSON line)"},
};

static void print_help(FILE *out)
{
    fprintf(out,
            "virnucpro %s - identify viral short sequences (VirNucPro, reimplemented in C)\n\n"
            "usage: virnucpro <command> [options]\n"
            "       virnucpro <command> --help\n"
            "       virnucpro --version\n\ncommands:\n",
            VNP_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n" VNP_CLI_EXIT_STATUS);
}

int main(int argc, char **argv)
{
    /* every environment switch is read here, once: a bad value stops the program before it does anything */
    if (vnp_env_init()) return 2;
    /* A file-size limit must make writes fail (EFBIG), reported like a full disk, not kill the process. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("virnucpro %s\n", VNP_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        /* under an MPI launcher, every command runs inside MPI; only predict shares its work among the ranks */
        int rc = vnp_dist_init(&argc, &argv);
        if (rc) return vnp_status_exit_code(rc);
        int ret = commands[i].fn(argc - 1, argv + 1);
        vnp_dist_finalize();
        return ret;
    }
    fprintf(stderr, "virnucpro: error: unknown command '%s'\n\n", argv[1]);
    print_help(stderr);
    return 2;
}
