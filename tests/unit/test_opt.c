/* opt: the option-table parser and help (src/opt/): types, ranges, choices, defaults, bad values (exit 2 with a
 * message naming the option and the value), the help text, and the shared options of cli/options.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "vnp/opt.h"
#include "vnp_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int flag, n, tpb, threads, adds;
    double x;
    const char *s, *choice, *path, *device, *precision;
} args;

static int check_even(const char *v) { return atoi(v) % 2 != 0; }
static int add_one(void *dest, const char *v)
{
    if (strcmp(v, "bad") == 0) return -1;
    ((args *)dest)->adds++;
    return 0;
}

static const vnp_opt opts[] = {
    {.group = "group one:"},
    {.name = "flag", .short_opt = 'f', .type = VNP_OPT_FLAG, .off = offsetof(args, flag), .help = "a flag"},
    {.name = "count", .short_opt = 'n', .type = VNP_OPT_INT, .def = "4", .min = 2, .max = 10,
     .off = offsetof(args, n), .check = check_even, .expects = "an even number", .help = "an even count"},
    {.name = "ratio", .type = VNP_OPT_DOUBLE, .def = "0.5", .min = 0, .max = 1, .flags = VNP_OPT_MIN_OPEN,
     .off = offsetof(args, x), .help = "a ratio"},
    {.name = "word", .type = VNP_OPT_STRING, .arg = "W", .off = offsetof(args, s), .help = "any word"},
    {.name = "colour", .short_opt = 'c', .type = VNP_OPT_CHOICE, .choices = "red|green", .def = "red",
     .off = offsetof(args, choice), .help = "a colour"},
    {.name = "file", .type = VNP_OPT_PATH, .off = offsetof(args, path), .help = "a file"},
    {.name = "alias", .type = VNP_OPT_INT, .min = 2, .max = 10, .off = offsetof(args, n),
     .flags = VNP_OPT_HIDDEN, .help = "hidden"},
    {.name = "add", .type = VNP_OPT_STRING, .apply = add_one, .expects = "anything but bad", .help = "repeatable"},
    VNP_CLI_OPT_TPB(args, tpb, 'b'),
    VNP_CLI_OPT_THREADS(args, threads, 't'),
    VNP_CLI_OPT_DEVICE(args, device, 0),
    VNP_CLI_OPT_PRECISION(args, precision, 0),
};
static const vnp_opt_cmd cmd = {.name = "test", .synopsis = "virnucpro test [options] ARG", .about = "About it.",
                                .epilog = "The end.\n", .opts = opts, .n_opts = VNP_OPT_COUNT(opts)};

/* Parses the NULL-terminated words (after "test") into *a; stderr goes to a file read back into err. */
static int parse(args *a, int *first, char *err, size_t cap, ...)
{
    char *argv[32] = {"test"};
    int argc = 1;
    va_list ap;
    va_start(ap, cap);
    for (char *w; argc < 31 && (w = va_arg(ap, char *));) argv[argc++] = w;
    va_end(ap);
    argv[argc] = NULL;
    memset(a, 0, sizeof *a);
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int rc = vnp_opt_parse(&cmd, argc, argv, a, first);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(err, 1, cap - 1, tmp);
    err[n] = '\0';
    fclose(tmp);
    return rc;
}

static void test_defaults_and_values(void)
{
    args a;
    char err[1024];
    int first;
    CHECK_EQ_INT(parse(&a, &first, err, sizeof err, "x", NULL), 0);
    CHECK_EQ_INT(first, 1);
    CHECK(a.flag == 0 && a.n == 4 && a.x == 0.5 && a.s == NULL && strcmp(a.choice, "red") == 0);
    CHECK(a.tpb == 0 && a.threads == 0 && strcmp(a.device, "auto") == 0 && strcmp(a.precision, "auto") == 0);
    CHECK_EQ_INT(parse(&a, &first, err, sizeof err, "-f", "-n", "6", "--ratio=1", "--word", "w", "-cgreen",
                       "--file", "p", "x", "--tokens-per-batch", "64", "-t", "3", "--device", "cuda:1",
                       "--precision", "fp8", NULL), 0);
    CHECK(a.flag == 1 && a.n == 6 && a.x == 1.0 && strcmp(a.s, "w") == 0 && strcmp(a.choice, "green") == 0);
    CHECK(strcmp(a.path, "p") == 0 && a.tpb == 64 && a.threads == 3 && strcmp(a.device, "cuda:1") == 0);
    CHECK(strcmp(a.precision, "fp8") == 0);
    CHECK_EQ_INT(first, 18); /* getopt_long moved the positional to the end */
    CHECK_EQ_INT(parse(&a, &first, err, sizeof err, "--alias", "8", "-b", "auto", "--threads", "all", NULL), 0);
    CHECK(a.n == 8 && a.tpb == 0 && a.threads == 0);
    CHECK_EQ_INT(parse(&a, &first, err, sizeof err, "--add", "x", "--add=y", NULL), 0);
    CHECK_EQ_INT(a.adds, 2);
    CHECK_EQ_INT(parse(&a, &first, err, sizeof err, "--col", "green", "--", "-f", NULL), 0); /* abbreviation */
    CHECK(strcmp(a.choice, "green") == 0 && a.flag == 0 && first == 4);
}

static void test_bad_values(void)
{
    static const struct {
        const char *opt, *value, *msg;
    } bad[] = {
        {"--count", "12", "--count expects an integer in [2, 10], got '12'"},
        {"--count", "x", "--count expects an integer in [2, 10], got 'x'"},
        {"--count", "5", "--count expects an even number, got '5'"},
        {"--ratio", "0", "--ratio expects a number in (0, 1], got '0'"},
        {"--ratio", "1.5", "--ratio expects a number in (0, 1], got '1.5'"},
        {"--colour", "blue", "--colour expects one of red|green, got 'blue'"},
        {"--tokens-per-batch", "63", "--tokens-per-batch expects an integer in [64, 16777216] or auto, got '63'"},
        {"--threads", "0", "--threads expects an integer in [1, 4096] or all, got '0'"},
        {"--device", "gpu", "--device expects auto, cpu, cuda or cuda:N, got 'gpu'"},
        {"--add", "bad", "--add expects anything but bad, got 'bad'"},
        {"--precision", "bf16", "--precision expects one of " VNP_PRECISION_CHOICES ", got 'bf16'"},
    };
    args a;
    char err[1024];
    int first;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(&a, &first, err, sizeof err, bad[i].opt, bad[i].value, NULL);
        CHECK_MSG(rc == 2, "%s %s: rc %d", bad[i].opt, bad[i].value, rc);
        CHECK_MSG(strstr(err, bad[i].msg) != NULL, "'%s' lacks '%s'", err, bad[i].msg);
        CHECK(strstr(err, "virnucpro test: error: ") == err && strstr(err, "Try 'virnucpro test --help'."));
    }
    CHECK_EQ_INT(parse(&a, &first, err, sizeof err, "--nope", NULL), 2);
    CHECK(strstr(err, "unknown option '--nope'") != NULL);
    CHECK_EQ_INT(parse(&a, &first, err, sizeof err, "-z", NULL), 2);
    CHECK(strstr(err, "unknown option '-z'") != NULL);
    CHECK_EQ_INT(parse(&a, &first, err, sizeof err, "--count", NULL), 2);
    CHECK(strstr(err, "'--count' needs a value") != NULL);
}

static void test_help(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    CHECK(fp != NULL);
    if (!fp) return;
    vnp_opt_help(&cmd, fp);
    fclose(fp);
    CHECK(strncmp(text, "usage: virnucpro test [options] ARG\n\nAbout it.\n", 46) == 0);
    CHECK(strstr(text, "group one:\n") && strstr(text, "The end.\n"));
    for (size_t i = 0; i < cmd.n_opts; i++) { /* every visible option with its default */
        const vnp_opt *o = &opts[i];
        if (!o->name) continue;
        char want[128];
        snprintf(want, sizeof want, "--%s", o->name);
        CHECK_MSG((strstr(text, want) != NULL) == !(o->flags & VNP_OPT_HIDDEN), "help and %s", want);
        if (o->def) {
            snprintf(want, sizeof want, "(default: %s)", o->def);
            CHECK_MSG(strstr(text, want) != NULL, "help lacks %s of --%s", want, o->name);
        }
    }
    CHECK(strstr(text, "  -c, --colour red|green") && strstr(text, "      --word W"));
    free(text);
    /* -h anywhere before "--" prints the help on stdout and returns 1 */
    args a;
    char err[64];
    int first;
    fflush(stdout);
    int fd = dup(1);
    FILE *null = fopen("/dev/null", "w");
    dup2(fileno(null), 1);
    int rc = parse(&a, &first, err, sizeof err, "--bogus", "-h", NULL);
    fflush(stdout);
    dup2(fd, 1);
    close(fd);
    fclose(null);
    CHECK_EQ_INT(rc, 1);
}

/* predict's table: each option once, short letters unique, every default parses. */
static void test_predict_table(void)
{
    const vnp_opt_cmd *p = &vnp_cli_predict_cmd;
    for (size_t i = 0; i < p->n_opts; i++) {
        const vnp_opt *o = &p->opts[i];
        if (!o->name) continue;
        CHECK_MSG(vnp_opt_find(p, o->name, (size_t)-1) == o, "--%s twice", o->name);
        for (size_t j = i + 1; j < p->n_opts; j++)
            CHECK_MSG(!o->short_opt || o->short_opt != p->opts[j].short_opt, "-%c twice", o->short_opt);
    }
    CHECK(vnp_opt_find(p, "tokens_per_batch", (size_t)-1) == vnp_opt_find(p, "tokens-per-batch", (size_t)-1));
    static max_align_t buf[256]; /* room for predict_args */
    CHECK_EQ_INT(vnp_opt_defaults(p, buf), 0);
}

int main(void)
{
    test_defaults_and_values();
    test_bad_values();
    test_help();
    test_predict_table();
    VNP_TEST_END();
}
