/* opt: a command's options declared once, in a table: the parser (getopt_long underneath), the --help text and
 * the config-file keys are all made from it.
 *
 * Each vnp_opt names one option: long name, short letter, type, default, help line, and where its value goes in
 * the command's argument struct (offsetof). Before argv is read every default is parsed into that struct, so a
 * default exists once, as text, and the help prints that same text. Values are checked (range, choices, the
 * option's own check) and a bad one stops the parse with a message naming the option, the value and what it
 * expects (exit status 2). */
#ifndef VNP_OPT_H
#define VNP_OPT_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    VNP_OPT_FLAG = 0, /* no argument; int 1 when given */
    VNP_OPT_INT,      /* int within [min, max]; choices, when set, is a word that means 0 ("auto") */
    VNP_OPT_DOUBLE,   /* double within [min, max] ((min, max] with VNP_OPT_MIN_OPEN) */
    VNP_OPT_STRING,   /* const char * (argv's string or the table's default) */
    VNP_OPT_CHOICE,   /* const char *, one of choices ("a|b|c") */
    VNP_OPT_PATH      /* const char *, a file or folder */
} vnp_opt_type;

enum {
    VNP_OPT_CFG = 1,      /* also a key of the command's config file (the key is the long name) */
    VNP_OPT_HIDDEN = 2,   /* accepted, not listed by --help (an alias) */
    VNP_OPT_MIN_OPEN = 4, /* DOUBLE: min itself is out of range */
};

typedef struct vnp_opt {
    const char *name;    /* long name without "--" */
    char short_opt;      /* short letter or 0 */
    vnp_opt_type type;
    const char *arg;     /* the value's name in --help ("N", "DIR"); NULL: from the type */
    const char *def;     /* the default, as a command-line value ("16384", "auto"); NULL: none */
    const char *help;    /* one sentence; --help wraps it and adds "(default: <def>)" */
    double min, max;     /* INT, DOUBLE: inclusive range */
    const char *choices; /* CHOICE: "a|b|c"; INT: a word read as 0 */
    size_t off;          /* where the value goes in the command's struct */
    /* extra check of a value (after type and range): 0 when good; expects says what is wanted, for the message */
    int (*check)(const char *value);
    const char *expects;
    /* for an option that adds up over repeats (--only a --only b): called with each value instead of storing it;
     * nonzero: a bad value (the message says expects) */
    int (*apply)(void *dest, const char *value);
    const char *group;   /* an entry with only a group is a heading of --help ("models:"), no option */
    unsigned flags;      /* VNP_OPT_CFG, VNP_OPT_HIDDEN, VNP_OPT_MIN_OPEN */
} vnp_opt;

/* Options a command parses itself (virnucpro-broad's, in predict): getopt entries added to the table's, and the
 * function that applies one: 1 applied, 0 not one of them, -1 after printing a usage error. Their getopt values
 * must be letters or >= 2000: the table's options without a short letter are 256 + their index. */
typedef int (*vnp_opt_extra_fn)(void *dest, int c, const char *arg, int longindex, const struct option *table);

typedef struct {
    const char *name;       /* "predict", "models inspect": in messages and help */
    const char *synopsis;   /* the usage line(s), without "usage: " and the trailing newline */
    const char *about;      /* paragraph(s) after the synopsis (may be NULL) */
    const char *epilog;     /* text after the options (may be NULL) */
    const vnp_opt *opts;
    size_t n_opts;
    const char *inputs_help; /* the positional arguments as a config key ("inputs"); NULL: no such key */
    const struct option *extra;
    size_t n_extra;
    const char *extra_short; /* short letters of extra, getopt style ("m:p:") */
    vnp_opt_extra_fn extra_fn;
} vnp_opt_cmd;

#define VNP_OPT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Parses argv (argv[0] is the command name) into dest: the defaults first, then every option. Returns 0 with
 * *first set to the index of the first positional argument; 1 after printing the help on stdout (-h/--help: the
 * caller exits 0); 2 after printing a usage error on stderr (the caller exits 2). */
int vnp_opt_parse(const vnp_opt_cmd *cmd, int argc, char **argv, void *dest, int *first);
/* Sets every default of the table into dest: 0, or 2 after a message when a default does not parse (a table
 * error, caught by tests/unit/test_opt.c). */
int vnp_opt_defaults(const vnp_opt_cmd *cmd, void *dest);
/* Checks value for opt and stores it in dest: 0, or 2 after a message naming cmd, the option and the value. */
int vnp_opt_set(const vnp_opt_cmd *cmd, const vnp_opt *opt, const char *value, void *dest);
/* The option named name (long name; '_' is read as '-'; n bytes, (size_t)-1: to the NUL), or NULL. */
const vnp_opt *vnp_opt_find(const vnp_opt_cmd *cmd, const char *name, size_t n);

/* Prints "virnucpro <cmd>: error: <message>" and a hint to use --help on stderr; returns 2 (the exit status). The
 * one usage-error printer: the parser's messages and the commands' own ("no INPUT given") read alike. */
#ifdef __GNUC__
__attribute__((format(printf, 2, 3)))
#endif
int vnp_opt_usage_error(const char *cmd, const char *fmt, ...);

/* The help text made from the table (help.c): usage line, about, options with their defaults, epilog. */
void vnp_opt_help(const vnp_opt_cmd *cmd, FILE *out);
/* "N", "DIR", "a|b|c": the value's name as --help prints it; "" for a flag. */
const char *vnp_opt_argname(const vnp_opt *opt);

#endif
