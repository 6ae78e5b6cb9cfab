/* config: the keys a config file may set, read from predict's option table (vnp_config_set_table): every option
 * marked VNP_OPT_CFG is a key with its name, short letter, default and help, plus `inputs` for the positionals. */
#include "vnp/config.h"

#include <stdlib.h>
#include <string.h>

static vnp_config_key *keys; /* sized to the table: one per option, and `inputs` */
static size_t n_keys;

/* The option's type as a config file writes it. */
static vnp_cfg_type key_type(const vnp_opt *o)
{
    switch (o->type) {
    case VNP_OPT_FLAG: return VNP_CFG_FLAG;
    case VNP_OPT_INT: return VNP_CFG_INT;
    case VNP_OPT_DOUBLE: return VNP_CFG_NUMBER;
    default: return VNP_CFG_STRING;
    }
}

int vnp_config_set_table(const vnp_opt_cmd *cmd)
{
    n_keys = 0;
    vnp_config_key *k = realloc(keys, (cmd->n_opts + 1) * sizeof *keys);
    if (!k) return VNP_ERR_NOMEM;
    keys = k;
    if (cmd->inputs_help) keys[n_keys++] = (vnp_config_key){"inputs", 0, VNP_CFG_LIST, "[]", cmd->inputs_help, NULL};
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const vnp_opt *o = &cmd->opts[i];
        if (!o->name || !(o->flags & VNP_OPT_CFG)) continue;
        vnp_cfg_type t = key_type(o);
        keys[n_keys++] = (vnp_config_key){o->name, o->short_opt, t, t == VNP_CFG_FLAG ? "false" : o->def, o->help,
                                          t == VNP_CFG_INT ? o->choices : NULL};
    }
    return VNP_OK;
}

size_t vnp_config_key_count(void) { return n_keys; }

const vnp_config_key *vnp_config_key_at(size_t i) { return i < vnp_config_key_count() ? &keys[i] : NULL; }

const vnp_config_key *vnp_config_key_find(const char *name, size_t n)
{
    if (!name) return NULL;
    if (n == (size_t)-1) n = strlen(name);
    for (size_t i = 0; i < vnp_config_key_count(); i++) {
        const char *k = keys[i].name;
        if (strlen(k) != n) continue;
        size_t j = 0;
        while (j < n && (name[j] == k[j] || (name[j] == '_' && k[j] == '-'))) j++;
        if (j == n) return &keys[i];
    }
    return NULL;
}
