/* `virnucpro config generate|check`: writes the commented YAML template of predict's options, and checks a config
 * file. Each subcommand's --help comes from its table; `config --help` lists them. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "vnp/opt.h"
#include "vnp/config.h"
#include "vnp/util.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

#define EXIT_STATUS "exit status: 0 ok, 1 cannot write, 2 bad usage or a bad config file\n"

static const vnp_opt_cmd generate_cmd = {
    .name = "config generate",
    .synopsis = "virnucpro config generate [-o FILE] [--force]",
    .about =
"Writes a commented YAML config listing every option of `virnucpro predict` with its default, to standard\n"
"output or to FILE (written under a temporary name, then renamed; an existing FILE is kept unless --force).\n"
"Use the file with `virnucpro predict --config FILE`: command-line options win over the file, and its `inputs`\n"
"list is used only when the command line names no INPUT.",
    .epilog = EXIT_STATUS,
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
    if (first < argc) return vnp_opt_usage_error("config generate", "unexpected argument '%s'", argv[first]);
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

static const vnp_opt_cmd check_cmd = {
    .name = "config check",
    .synopsis = "virnucpro config check FILE",
    .about =
"Reads FILE as predict would and prints the arguments it stands for, one line:\n"
"predict --name=value ... [-- INPUT...]; errors name the line and column.",
    .epilog = EXIT_STATUS,
};

static int check(int argc, char **argv)
{
    char none;
    int first, prc = vnp_opt_parse(&check_cmd, argc, argv, &none, &first);
    if (prc) return prc == 1 ? 0 : 2;
    if (argc - first != 1) return vnp_opt_usage_error("config check", "expects exactly one FILE");
    char *args[] = {"predict", "--config", argv[first], NULL};
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

static void usage(FILE *out)
{
    const vnp_cli_sub subs[] = {
        {&generate_cmd, "write a commented YAML template of predict's options and their defaults"},
        {&check_cmd, "print the predict arguments a config file stands for"},
    };
    vnp_cli_subcommands_help("config", subs, VNP_OPT_COUNT(subs), out);
}

int vnp_cmd_config(int argc, char **argv)
{
    if (vnp_config_set_table(&vnp_cli_predict_cmd)) return vnp_status_exit_code(VNP_ERR_NOMEM);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "generate") == 0) return generate(argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0) return check(argc - 1, argv + 1);
    return vnp_opt_usage_error("config", "unknown subcommand '%s' (generate or check)", argv[1]);
}
