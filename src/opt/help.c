/* opt: the --help text of a command, made from its option table: synopsis, about, one entry per option with its
 * default (the table's own default text), epilog. */
#include "vnp/opt.h"

#include <string.h>

enum { SPEC_COL = 28, WIDTH = 118 };

const char *vnp_opt_argname(const vnp_opt *o)
{
    if (o->arg) return o->arg;
    switch (o->type) {
    case VNP_OPT_FLAG: return "";
    case VNP_OPT_INT: return "N";
    case VNP_OPT_DOUBLE: return "X";
    case VNP_OPT_CHOICE: return o->choices;
    case VNP_OPT_PATH: return "PATH";
    case VNP_OPT_STRING: break;
    }
    return "S";
}

/* Prints text from column col (the cursor is there), wrapped at WIDTH between words; explicit newlines and runs of
 * spaces (a table's alignment) are kept. */
static void wrap(FILE *out, const char *text, int col)
{
    int at = col;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            fprintf(out, "\n%*s", col, "");
            at = col;
            p++;
            continue;
        }
        size_t sp = strspn(p, " ");
        size_t w = strcspn(p + sp, " \n");
        if (at > col && at + (int)(sp + w) > WIDTH) {
            fprintf(out, "\n%*s", col, "");
            at = col;
        } else {
            fprintf(out, "%*s", (int)sp, "");
            at += (int)sp;
        }
        fwrite(p + sp, 1, w, out);
        at += (int)w;
        p += sp + w;
    }
}

static void print_opt(FILE *out, const vnp_opt *o)
{
    char spec[160];
    const char *an = vnp_opt_argname(o);
    if (o->short_opt)
        snprintf(spec, sizeof spec, "  -%c, --%s%s%s", o->short_opt, o->name, *an ? " " : "", an);
    else
        snprintf(spec, sizeof spec, "      --%s%s%s", o->name, *an ? " " : "", an);
    fputs(spec, out);
    int len = (int)strlen(spec);
    if (len + 2 > SPEC_COL)
        fprintf(out, "\n%*s", SPEC_COL, "");
    else
        fprintf(out, "%*s", SPEC_COL - len, "");
    char text[1024];
    if (o->def && o->type != VNP_OPT_FLAG)
        snprintf(text, sizeof text, "%s (default: %s)", o->help ? o->help : "", o->def);
    else
        snprintf(text, sizeof text, "%s", o->help ? o->help : "");
    wrap(out, text, SPEC_COL);
    fputc('\n', out);
}

void vnp_opt_help(const vnp_opt_cmd *cmd, FILE *out)
{
    fprintf(out, "usage: %s\n", cmd->synopsis);
    if (cmd->about) fprintf(out, "\n%s\n", cmd->about);
    fputc('\n', out);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const vnp_opt *o = &cmd->opts[i];
        if (!o->name) {
            if (o->group) fprintf(out, "%s%s\n", i ? "\n" : "", o->group);
            continue;
        }
        if (!(o->flags & VNP_OPT_HIDDEN)) print_opt(out, o);
    }
    fprintf(out, "  -h, --help%*sthis help\n", SPEC_COL - 12, "");
    if (cmd->epilog) fprintf(out, "\n%s", cmd->epilog);
    fflush(out);
}
