/* config: the commented template written by `virnucpro config generate`, one entry per key of the table. */
#include "vnp/config.h"

#include <stdio.h>

static const char *header =
    "# virnucpro predict configuration (written by `virnucpro config generate`, virnucpro " VNP_VERSION ").\n"
    "# Use it with:  virnucpro predict --config THIS_FILE [INPUT...] [options]\n"
    "# Options given on the command line win over this file; `inputs` is used only when the command line names\n"
    "# no INPUT. Keys are the long options of `virnucpro predict` ('-' or '_' between words). An empty value\n"
    "# leaves the option unset (its default applies); flags take true or false. Relative paths are relative to\n"
    "# the directory virnucpro runs in, not to this file.\n";

int vnp_config_write_template(FILE *fp)
{
    fputs(header, fp);
    for (size_t i = 0; i < vnp_config_key_count(); i++) {
        const vnp_config_key *k = vnp_config_key_at(i);
        fputc('\n', fp);
        if (k->type == VNP_CFG_LIST)
            fprintf(fp, "# INPUT...: %s\n", k->help);
        else if (k->short_opt)
            fprintf(fp, "# -%c, --%s: %s\n", k->short_opt, k->name, k->help);
        else
            fprintf(fp, "# --%s: %s\n", k->name, k->help);
        if (k->def)
            fprintf(fp, "%s: %s\n", k->name, k->def);
        else
            fprintf(fp, "%s:\n", k->name);
    }
    if (fflush(fp) || ferror(fp)) {
        vnp_error("cannot write the config template");
        return VNP_ERR_IO;
    }
    return VNP_OK;
}
