/* opt: parsing a command line by the command's option table (include/vnp/opt.h). getopt_long does the scanning
 * (permutation, "--", abbreviations, "-oVALUE", "--name=value"); this file builds its tables from ours and checks
 * and stores each value. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/opt.h"
#include "vnp/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int vnp_opt_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "virnucpro %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'virnucpro %s --help'.\n", cmd);
    return 2;
}

int vnp_opt_set(const vnp_opt_cmd *cmd, const vnp_opt *o, const char *value, void *dest)
{
    char *p = (char *)dest + o->off, *end = NULL;
    if (o->apply) {
        if ((o->check && o->check(value)) || o->apply(dest, value))
            return vnp_opt_usage_error(cmd->name, "--%s expects %s, got '%s'", o->name, o->expects ? o->expects : "another value",
                               value);
        return 0;
    }
    switch (o->type) {
    case VNP_OPT_FLAG: *(int *)(void *)p = 1; return 0;
    case VNP_OPT_INT: {
        if (o->choices && strcmp(value, o->choices) == 0) {
            *(int *)(void *)p = 0;
            break;
        }
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || (double)v < o->min || (double)v > o->max)
            return vnp_opt_usage_error(cmd->name, "--%s expects an integer in [%.0f, %.0f]%s%s, got '%s'", o->name, o->min,
                               o->max, o->choices ? " or " : "", o->choices ? o->choices : "", value);
        *(int *)(void *)p = (int)v;
        break;
    }
    case VNP_OPT_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        int low = (o->flags & VNP_OPT_MIN_OPEN) ? v > o->min : v >= o->min;
        if (errno || end == value || *end || !low || !(v <= o->max))
            return vnp_opt_usage_error(cmd->name, "--%s expects a number in %c%g, %g], got '%s'", o->name,
                               (o->flags & VNP_OPT_MIN_OPEN) ? '(' : '[', o->min, o->max, value);
        *(double *)(void *)p = v;
        break;
    }
    case VNP_OPT_CHOICE:
        if (!vnp_word_in_list(o->choices, value))
            return vnp_opt_usage_error(cmd->name, "--%s expects one of %s, got '%s'", o->name, o->choices, value);
        *(const char **)(void *)p = value;
        break;
    case VNP_OPT_STRING:
    case VNP_OPT_PATH: *(const char **)(void *)p = value; break;
    }
    if (o->check && o->check(value))
        return vnp_opt_usage_error(cmd->name, "--%s expects %s, got '%s'", o->name, o->expects ? o->expects : "another value",
                           value);
    return 0;
}

int vnp_opt_defaults(const vnp_opt_cmd *cmd, void *dest)
{
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const vnp_opt *o = &cmd->opts[i];
        if (o->name && o->def && o->type != VNP_OPT_FLAG && !(o->flags & VNP_OPT_HIDDEN) && vnp_opt_set(cmd, o, o->def, dest))
            return 2;
    }
    return 0;
}

const vnp_opt *vnp_opt_find(const vnp_opt_cmd *cmd, const char *name, size_t n)
{
    if (!name) return NULL;
    if (n == (size_t)-1) n = strlen(name);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const char *k = cmd->opts[i].name;
        if (!k || strlen(k) != n) continue;
        size_t j = 0;
        while (j < n && (name[j] == k[j] || (name[j] == '_' && k[j] == '-'))) j++;
        if (j == n) return &cmd->opts[i];
    }
    return NULL;
}

/* getopt's value for option i: its short letter, else one past the byte range. */
static int opt_val(const vnp_opt_cmd *cmd, size_t i) { return cmd->opts[i].short_opt ? cmd->opts[i].short_opt : 256 + (int)i; }

/* -h or --help before any "--": the help wins over every other argument, good or bad. */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}

int vnp_opt_parse(const vnp_opt_cmd *cmd, int argc, char **argv, void *dest, int *first)
{
    *first = argc;
    if (wants_help(argc, argv)) {
        vnp_opt_help(cmd, stdout);
        return 1;
    }
    if (vnp_opt_defaults(cmd, dest)) return 2;
    size_t n = cmd->n_opts + cmd->n_extra + 2;
    struct option *lo = calloc(n, sizeof *lo);
    size_t extra_short = cmd->extra_short ? strlen(cmd->extra_short) : 0;
    char *so = malloc(3 * cmd->n_opts + extra_short + 8);
    if (!lo || !so) {
        free(lo);
        free(so);
        fprintf(stderr, "virnucpro %s: error: out of memory\n", cmd->name);
        return 2;
    }
    size_t k = 0, s = 0;
    so[s++] = ':'; /* a missing value is ':' rather than '?', so that the two get their own messages */
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const vnp_opt *o = &cmd->opts[i];
        if (!o->name) continue;
        int has_arg = o->type == VNP_OPT_FLAG ? no_argument : required_argument;
        lo[k++] = (struct option){o->name, has_arg, NULL, opt_val(cmd, i)};
        if (o->short_opt) {
            so[s++] = o->short_opt;
            if (has_arg) so[s++] = ':';
        }
    }
    for (size_t i = 0; i < cmd->n_extra; i++) lo[k++] = cmd->extra[i];
    lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
    if (extra_short) memcpy(so + s, cmd->extra_short, extra_short);
    s += extra_short;
    so[s++] = 'h';
    so[s] = '\0';
    int rc = 0, c, li = -1;
#ifdef __GLIBC__
    optind = 0; /* glibc: start afresh (a process may parse several command lines) */
#else
    optind = 1;
#endif
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, so, lo, &li)) != -1) {
        const char *arg = argv[optind - 1];
        if (c == '?') {
            if (optopt && optopt < 256 && strncmp(arg, "--", 2) != 0)
                rc = vnp_opt_usage_error(cmd->name, "unknown option '-%c'", optopt);
            else
                rc = vnp_opt_usage_error(cmd->name, "unknown option '%s'", arg);
            break;
        }
        if (c == ':') {
            rc = vnp_opt_usage_error(cmd->name, "option '%s' needs a value", arg);
            break;
        }
        const vnp_opt *o = NULL;
        for (size_t i = 0; i < cmd->n_opts && !o; i++)
            if (cmd->opts[i].name && opt_val(cmd, i) == c) o = &cmd->opts[i];
        if (o) {
            rc = vnp_opt_set(cmd, o, optarg, dest);
        } else if (cmd->extra_fn) {
            int r = cmd->extra_fn(dest, c, optarg, li, lo);
            if (r < 0) rc = 2;
            else if (r == 0) rc = vnp_opt_usage_error(cmd->name, "unknown option '%s'", arg);
        } else {
            rc = vnp_opt_usage_error(cmd->name, "unknown option '%s'", arg);
        }
        li = -1;
    }
    if (!rc) *first = optind;
    free(lo);
    free(so);
    return rc;
}
