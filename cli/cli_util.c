/* Option helpers shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long vnp_cli_parse_long(const char *opt, const char *value, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || !end || end == value || *end || v < min || v > max) {
        fprintf(stderr, "virnucpro: error: %s expects an integer in [%ld, %ld], got '%s'\n", opt, min, max, value);
        return -1;
    }
    return v;
}

long long vnp_cli_bytes_value(const char *value)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    double mul = 1;
    if (end && *end) {
        const char *units = "KMGT";
        const char *u = strchr(units, *end >= 'a' ? *end - 32 : *end);
        if (u && *end) {
            for (const char *p = units; p <= u; p++) mul *= 1024;
            end++;
            if (*end == 'B' || *end == 'b') end++;
        }
    }
    if (errno || !end || end == value || *end || !(v >= 0) || v * mul > 9e18) return -1;
    return (long long)(v * mul);
}

void vnp_cli_subcommands_help(const char *name, const vnp_cli_sub *subs, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) fprintf(out, "%s%s\n", i ? "       " : "usage: ", subs[i].cmd->synopsis);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        const char *sp = strchr(subs[i].cmd->name, ' '), *sub = sp ? sp + 1 : subs[i].cmd->name;
        fprintf(out, "  %-10s %s\n", sub, subs[i].line);
    }
    fprintf(out, "\n`virnucpro %s SUBCOMMAND --help` describes a subcommand and its options.\n", name);
    fflush(out);
}
