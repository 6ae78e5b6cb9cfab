/* config: the YAML configuration file of `virnucpro predict` (libyaml), turned into command-line arguments.
 *
 * A config file is one YAML mapping. Its keys are the long option names of `virnucpro predict` ('-' or '_' between
 * words: tokens-per-batch or tokens_per_batch) plus `inputs`, a list of input paths. Values:
 *   flag options (resume, force, quiet, ...): a YAML boolean (true/false, yes/no, on/off): true adds the flag;
 *   options with a value: a scalar (integers and numbers are checked for syntax here, ranges by predict);
 *   an empty value, ~ or null: the key is ignored (the option stays unset);
 *   inputs: a list of paths (a single path is accepted too).
 * The file becomes arguments ("--name=value", "--flag") that are placed BEFORE the command-line options, so that
 * getopt sees the command line last and its flags win; the config's inputs are used only when the command line
 * names none. The keys are predict's options marked VNP_OPT_CFG in its option table (cli/cmd_predict.c), handed to
 * vnp_config_set_table before any other call: the loader validates against them and `virnucpro config generate`
 * writes them out, with the table's defaults and help. */
#ifndef VNP_CONFIG_H
#define VNP_CONFIG_H

#include "vnp/opt.h"
#include "vnp/util.h"

#include <stddef.h>
#include <stdio.h>

typedef enum {
    VNP_CFG_FLAG = 0, /* boolean: the option takes no argument */
    VNP_CFG_STRING,   /* a path or word */
    VNP_CFG_INT,      /* a decimal integer */
    VNP_CFG_NUMBER,   /* a decimal number */
    VNP_CFG_LIST      /* a list of strings (only `inputs`) */
} vnp_cfg_type;

typedef struct {
    const char *name;       /* the long option name with '-' ("tokens-per-batch"); "inputs" for the positionals */
    char short_opt;         /* the short option letter ('o'), or 0 */
    vnp_cfg_type type;
    const char *def;        /* the default as written into a generated file; NULL: none (the value is left empty) */
    const char *help;       /* one line */
    const char *word;       /* VNP_CFG_INT: a word taken too ("auto"), or NULL */
} vnp_config_key;

/* Takes the keys from cmd's options (VNP_OPT_CFG), `inputs` first when cmd->inputs_help is set; cmd must outlive
 * every later call. VNP_ERR_NOMEM (no keys) when the table cannot be copied. */
int vnp_config_set_table(const vnp_opt_cmd *cmd) VNP_MUST_CHECK;
/* The keys, in the order a generated file lists them. */
size_t vnp_config_key_count(void);
const vnp_config_key *vnp_config_key_at(size_t i);
/* The entry for name, with '_' read as '-' (n bytes of name; n == (size_t)-1: up to its NUL); NULL when none. */
const vnp_config_key *vnp_config_key_find(const char *name, size_t n);

/* A loaded file: owned, NUL-terminated strings. */
typedef struct {
    char **opts;     /* "--name=value" or "--flag", in file order */
    size_t n_opts;
    char **inputs;   /* the `inputs` list, in order */
    size_t n_inputs;
    char error[640]; /* after a failed load: the message that was logged ("path:line:column: ...") */
} vnp_config;

/* Parses the YAML file at path into *out (zeroed first). On error *out holds no strings, one message naming
 * "path:line:column" and what is wrong is logged, and the status is VNP_ERR_NOTFOUND (cannot open),
 * VNP_ERR_FORMAT (not YAML, not a mapping, an unknown key - the message lists the valid ones -, a repeated key,
 * a value of the wrong type), VNP_ERR_IO or VNP_ERR_NOMEM. */
int vnp_config_load(const char *path, vnp_config *out) VNP_MUST_CHECK;
/* The same from len bytes in memory; name is used in messages. */
int vnp_config_load_mem(const char *name, const char *data, size_t len, vnp_config *out) VNP_MUST_CHECK;
void vnp_config_free(vnp_config *c); /* accepts NULL and an already freed config */

/* Writes the commented template of every key with its default (what `virnucpro config generate` prints): a file
 * vnp_config_load reads back without error. Returns 0 or VNP_ERR_IO. */
int vnp_config_write_template(FILE *fp) VNP_MUST_CHECK;

/* Builds the argument vector predict should parse: argv[0], the options of the file named by `--config FILE` (or
 * `--config=FILE`) found in argv before any "--", then argv[1..] without the --config pair, then - only when
 * argv names no positional argument - "--" and the file's inputs. Without --config the result is a copy of argv.
 * *argv_out (NULL-terminated, *argc_out entries) owns copies of every string; release it with
 * vnp_config_argv_free. Errors: VNP_ERR_USAGE (--config without a file, or given twice; logged) or those of
 * vnp_config_load. */
int vnp_config_splice(int argc, char **argv, int *argc_out, char ***argv_out) VNP_MUST_CHECK;
void vnp_config_argv_free(char **argv); /* accepts NULL */

#endif
