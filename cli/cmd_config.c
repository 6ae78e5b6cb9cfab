/* `virnucpro config`: writes the commented YAML template of predict's options, and checks a config file. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "vnp/opt.h"
#include "vnp/config.h"
#include "vnp/util.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
    fprintf(out,
"usage: virnucpro config generate [-o FILE] [--force]\n"
"       virnucpro config check FILE\n"
"\n"
"generate  writes a commented YAML config listing every option of `virnucpro predict` with its default, to\n"
"          standard output or to FILE (written under a temporary name, then renamed; an existing FILE is kept\n"
"          unless --force). Use the file with `virnucpro predict --config FILE`: command-line options win over\n"
"          the file, and its `inputs` list is used only when the command line names no INPUT.\n"
"check     reads FILE as predict would and prints the arguments it stands for, one line:\n"
"          predict --name=value ... [-- INPUT...]; errors name the line and column.\n"
"\n"
"exit status: 0 ok, 1 cannot write, 2 bad usage or a bad config file\n");
}

typedef struct {
    const char *path;
    int force;
} generate_args;

static const vnp_opt generate_opts[] = {
    {.name = "output", .short_opt = 'o', .type = VNP_OPT_PATH, .arg = "FILE", .off = offsetof(generate_args, path),
     .help = "write the template to FILE ('-': standard output, the default)"},
    {.name = "force", .short_opt = 'f', .type = VNP_OPT_FLAG, .off = offsetof(generate_args, force),
     .help = "replace an existing FILE"},
};

/* `config --help` describes both subcommands (usage above); this table parses generate's options */
static const vnp_opt_cmd generate_cmd = {
    .name = "config generate",
    .synopsis = "virnucpro config generate [-o FILE] [--force]",
    .opts = generate_opts,
    .n_opts = VNP_OPT_COUNT(generate_opts),
};

static int generate(int argc, char **argv)
{
    generate_args a = {0};
    int first, prc = vnp_opt_parse(&generate_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    const char *path = a.path;
    int force = a.force;
    if (first < argc) return vnp_cli_usage_error("config generate", "unexpected argument '%s'", argv[first]);
    if (!path || strcmp(path, "-") == 0) return vnp_config_write_template(stdout) ? 1 : 0;
    struct stat st;
    if (!force && stat(path, &st) == 0) {
        fprintf(stderr, "virnucpro config generate: error: '%s' exists; use --force to replace it\n", path);
        return 2;
    }
    vnp_outfile *o = vnp_outfile_open(path);
    if (!o) return 1;
    if (vnp_config_write_template(vnp_outfile_fp(o))) {
        vnp_outfile_abort(o);
        return 1;
    }
    if (vnp_outfile_commit(o)) return 1;
    fprintf(stderr, "virnucpro config generate: wrote %s\n", path);
    return 0;
}

/* Prints s so that a POSIX shell reads it back as one word. */
static void print_word(const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@%") == strlen(s)) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*s);
    }
    putchar('\'');
}

static int check(int argc, char **argv)
{
    if (argc != 2) return vnp_cli_usage_error("config check", "expects exactly one FILE");
    char *args[] = {"predict", "--config", argv[1], NULL};
    int n;
    char **v;
    int rc = vnp_config_splice(3, args, &n, &v);
    if (rc) return vnp_status_exit_code(rc);
    for (int i = 0; i < n; i++) {
        if (i) putchar(' ');
        print_word(v[i]);
    }
    putchar('\n');
    vnp_config_argv_free(v);
    return fflush(stdout) ? 1 : 0;
}

int vnp_cmd_config(int argc, char **argv)
{
    vnp_config_set_table(&vnp_cli_predict_cmd);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (vnp_cli_wants_help(argc - 1, argv + 1)) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "generate") == 0) return generate(argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0) return check(argc - 1, argv + 1);
    return vnp_cli_usage_error("config", "unknown subcommand '%s' (generate or check)", argv[1]);
}
