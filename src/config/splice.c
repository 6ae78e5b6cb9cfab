/* config: merging a config file's arguments with predict's command line (--config FILE), so that the command line
 * wins. getopt_long keeps the last value of a repeated option, hence the file's options go first. */
#include "vnp/config.h"

#include <stdlib.h>
#include <string.h>

/* Whether the long option written as arg ("--name" without "=value", possibly abbreviated as getopt_long allows)
 * takes its value from the next argument. Unknown names take none: getopt reports them later. */
static int long_takes_next(const char *arg)
{
    const char *name = arg + 2;
    if (strchr(name, '=')) return 0;
    size_t n = strlen(name);
    const vnp_config_key *exact = vnp_config_key_find(name, n), *prefix = NULL;
    int matches = 0;
    if (!exact) {
        for (size_t i = 0; i < vnp_config_key_count(); i++) {
            const vnp_config_key *k = vnp_config_key_at(i);
            if (k->type != VNP_CFG_LIST && strncmp(k->name, name, n) == 0) {
                prefix = k;
                matches++;
            }
        }
    }
    const vnp_config_key *k = exact ? exact : matches == 1 ? prefix : NULL;
    return k && k->type != VNP_CFG_FLAG && k->type != VNP_CFG_LIST;
}

/* Whether a cluster of short options ("-qvo", "-oDIR") ends by taking the next argument as a value. */
static int short_takes_next(const char *arg)
{
    for (const char *p = arg + 1; *p; p++) {
        for (size_t i = 0; i < vnp_config_key_count(); i++) {
            const vnp_config_key *k = vnp_config_key_at(i);
            if (k->short_opt == *p && k->type != VNP_CFG_FLAG) return p[1] == '\0';
        }
    }
    return 0;
}

static int is_config_opt(const char *a) { return strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0; }

static int add(char **v, int *n, const char *s)
{
    if (!(v[*n] = vnp_strdup(s))) return VNP_ERR_NOMEM;
    (*n)++;
    return VNP_OK;
}

int vnp_config_splice(int argc, char **argv, int *argc_out, char ***argv_out)
{
    *argc_out = 0;
    *argv_out = NULL;
    const char *path = NULL;
    int positional = 0, dashdash = 0, cfg_at = 0, cfg_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || strcmp(a, "-") == 0 || a[0] != '-') {
            positional++;
        } else if (strcmp(a, "--") == 0) {
            dashdash = 1;
        } else if (is_config_opt(a)) {
            if (path) {
                vnp_error("--config may be given once");
                return VNP_ERR_USAGE;
            }
            cfg_at = i;
            cfg_args = a[8] == '=' ? 1 : 2;
            if (a[8] == '=') {
                path = a + 9;
            } else if (i + 1 < argc) {
                path = argv[++i];
            } else {
                vnp_error("--config needs a file name");
                return VNP_ERR_USAGE;
            }
            if (!*path) {
                vnp_error("--config needs a file name");
                return VNP_ERR_USAGE;
            }
        } else if (a[1] == '-' ? long_takes_next(a) : short_takes_next(a)) {
            i++; /* the value, whatever it looks like */
        }
    }
    vnp_config c = {0};
    if (path) {
        int rc = vnp_config_load(path, &c);
        if (rc) return rc;
    }
    size_t add_inputs = positional ? 0 : c.n_inputs;
    size_t total = (size_t)argc + c.n_opts + add_inputs + 2;
    char **v = vnp_calloc_array(total, sizeof *v);
    int n = 0, rc = v ? VNP_OK : VNP_ERR_NOMEM;
    if (!rc && argc > 0) rc = add(v, &n, argv[0]);
    for (size_t i = 0; !rc && i < c.n_opts; i++) rc = add(v, &n, c.opts[i]);
    for (int i = 1; !rc && i < argc; i++)
        if (!cfg_at || i < cfg_at || i >= cfg_at + cfg_args) rc = add(v, &n, argv[i]);
    if (!rc && add_inputs && !dashdash) rc = add(v, &n, "--"); /* inputs named "-x" stay inputs */
    for (size_t i = 0; !rc && i < add_inputs; i++) rc = add(v, &n, c.inputs[i]);
    vnp_config_free(&c);
    if (rc) {
        vnp_error("out of memory");
        vnp_config_argv_free(v);
        return rc;
    }
    *argc_out = n;
    *argv_out = v;
    return VNP_OK;
}

void vnp_config_argv_free(char **argv)
{
    if (!argv) return;
    for (char **p = argv; *p; p++) free(*p);
    free(argv);
}
