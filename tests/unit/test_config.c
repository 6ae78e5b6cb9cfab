#define _POSIX_C_SOURCE 200809L
/* Unit tests for config/: YAML values to arguments, every error with its line and column, the generated template
 * read back, and the splice of a config file into predict's command line (command line wins). */
#include "cli.h"
#include "vnp/config.h"
#include "vnp_test.h"

#include <getopt.h>
#include <unistd.h>

static int load(const char *text, vnp_config *c) { return vnp_config_load_mem("t.yaml", text, strlen(text), c); }

/* Loads text that must fail with status want and a message starting with "t.yaml:<pos>:" and holding needle. */
static void expect_error(const char *text, int want, const char *pos, const char *needle)
{
    vnp_config c;
    int rc = load(text, &c);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "t.yaml:%s: ", pos);
    CHECK_MSG(rc == want, "status %d for <<%s>>", rc, text);
    CHECK_MSG(strncmp(c.error, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'", c.error, prefix);
    CHECK_MSG(strstr(c.error, needle) != NULL, "'%s' lacks '%s'", c.error, needle);
    CHECK(c.n_opts == 0 && c.opts == NULL && c.n_inputs == 0 && c.inputs == NULL);
    vnp_config_free(&c);
}

static int has_opt(const vnp_config *c, const char *s)
{
    for (size_t i = 0; i < c->n_opts; i++)
        if (strcmp(c->opts[i], s) == 0) return 1;
    return 0;
}

static void test_values(void)
{
    vnp_config c;
    const char *y = "# a comment\n"
                    "output: results/run1\n"
                    "length: 300\n"
                    "tokens_per_batch: 8192\n"
                    "min-confident-score: 0.9\n"
                    "save_embeddings: yes\n"
                    "resume: false\n"
                    "force: off\n"
                    "quiet: TRUE\n"
                    "models: ~\n"
                    "esm:\n"
                    "device: 'cpu'\n"
                    "reference: \"/ref/with space.fa\"\n"
                    "inputs:\n  - a.fa\n  - \"-x.fa\"\n";
    CHECK_EQ_INT(load(y, &c), 0);
    CHECK_EQ_INT(c.n_opts, 8);
    if (c.n_opts == 8) {
        CHECK_EQ_STR(c.opts[0], "--output=results/run1");
        CHECK_EQ_STR(c.opts[1], "--length=300");
        CHECK_EQ_STR(c.opts[2], "--tokens-per-batch=8192");
        CHECK_EQ_STR(c.opts[3], "--min-confident-score=0.9");
        CHECK_EQ_STR(c.opts[4], "--save-embeddings");
        CHECK_EQ_STR(c.opts[5], "--quiet");
        CHECK_EQ_STR(c.opts[6], "--device=cpu");
        CHECK_EQ_STR(c.opts[7], "--reference=/ref/with space.fa");
    }
    CHECK_EQ_INT(c.n_inputs, 2);
    if (c.n_inputs == 2) {
        CHECK_EQ_STR(c.inputs[0], "a.fa");
        CHECK_EQ_STR(c.inputs[1], "-x.fa");
    }
    vnp_config_free(&c);
    vnp_config_free(&c); /* twice is harmless */

    CHECK_EQ_INT(load("inputs: one.fa\nlength: '500'\n", &c), 0); /* a single path; a quoted integer */
    CHECK(c.n_inputs == 1 && strcmp(c.inputs[0], "one.fa") == 0);
    CHECK(c.n_opts == 1 && strcmp(c.opts[0], "--length=500") == 0);
    vnp_config_free(&c);
    CHECK_EQ_INT(load("inputs: [x.fa, y.bam]\n", &c), 0); /* flow style */
    CHECK(c.n_inputs == 2 && strcmp(c.inputs[1], "y.bam") == 0);
    vnp_config_free(&c);
    CHECK_EQ_INT(load("", &c), 0); /* empty: nothing set */
    CHECK(c.n_opts == 0 && c.n_inputs == 0);
    vnp_config_free(&c);
    CHECK_EQ_INT(load("# only comments\n# output: x\n", &c), 0);
    CHECK(c.n_opts == 0);
    vnp_config_free(&c);
    CHECK_EQ_INT(load("---\nlength: 300\n...\n", &c), 0); /* explicit document markers */
    CHECK(c.n_opts == 1);
    vnp_config_free(&c);
    CHECK_EQ_INT(load("base: &p out\noutput: *p\n", &c), VNP_ERR_FORMAT); /* unknown key even with anchors */
    vnp_config_free(&c);
    CHECK_EQ_INT(load("output: &p out\nreference: *p\n", &c), 0); /* an alias is its anchor's value */
    CHECK(c.n_opts == 2 && strcmp(c.opts[1], "--reference=out") == 0);
    vnp_config_free(&c);
}

static void test_errors(void)
{
    expect_error("- a\n- b\n", VNP_ERR_FORMAT, "1:1", "expected a mapping");
    expect_error("just text\n", VNP_ERR_FORMAT, "1:1", "found a scalar");
    expect_error("length: 300\n\noutptu: x\n", VNP_ERR_FORMAT, "3:1", "unknown key 'outptu'; valid keys: inputs, output, length");
    expect_error("length: 300\noutput:\n  - a\n  - b\n", VNP_ERR_FORMAT, "3:3", "'output' expects a value, found a list");
    expect_error("threads: {a: 1}\n", VNP_ERR_FORMAT, "1:10", "'threads' expects an integer, found a mapping");
    expect_error("threads: four\n", VNP_ERR_FORMAT, "1:10", "'threads' expects an integer, got 'four'");
    expect_error("length: 3.5\n", VNP_ERR_FORMAT, "1:9", "expects an integer");
    expect_error("min_confident_score: high\n", VNP_ERR_FORMAT, "1:22", "expects a number");
    expect_error("min_confident_score: nan\n", VNP_ERR_FORMAT, "1:22", "expects a number");
    expect_error("resume: maybe\n", VNP_ERR_FORMAT, "1:9", "'resume' expects true or false, got 'maybe'");
    expect_error("force: [true]\n", VNP_ERR_FORMAT, "1:8", "expects true or false, found a list");
    expect_error("output: \"\"\n", VNP_ERR_FORMAT, "1:9", "'output' expects a value");
    expect_error("length: 300\nlength: 500\n", VNP_ERR_FORMAT, "2:1", "key 'length' repeats the one on line 1");
    expect_error("block-records: 1\nblock_records: 2\n", VNP_ERR_FORMAT, "2:1", "repeats the one on line 1");
    expect_error("inputs: {a: b}\n", VNP_ERR_FORMAT, "1:9", "'inputs' expects a list of paths, found a mapping");
    expect_error("inputs:\n  - a.fa\n  - [b.fa]\n", VNP_ERR_FORMAT, "3:5", "each item of 'inputs' must be a path");
    expect_error("inputs:\n  - a.fa\n  -\n", VNP_ERR_FORMAT, "3:4", "found an empty value");
    expect_error("? [a, b]\n: 1\n", VNP_ERR_FORMAT, "1:3", "keys must be option names, found a list");
    expect_error("length: 300\n  output: x\n", VNP_ERR_FORMAT, "2:9", "not valid YAML");
    expect_error("output: [a, b\n", VNP_ERR_FORMAT, "2:1", "not valid YAML");
    expect_error("length: 300\n\tquiet: true\n", VNP_ERR_FORMAT, "2:1", "not valid YAML");
    expect_error("length: 300\n---\nlength: 500\n", VNP_ERR_FORMAT, "3:1", "one YAML document");
    expect_error("config: other.yaml\n", VNP_ERR_FORMAT, "1:1", "unknown key 'config'");

    vnp_config c;
    CHECK_EQ_INT(vnp_config_load("/nonexistent/vnp.yaml", &c), VNP_ERR_NOTFOUND);
    CHECK(strstr(c.error, "/nonexistent/vnp.yaml: cannot open") != NULL);
    CHECK_EQ_INT(vnp_config_load("/tmp", &c), VNP_ERR_NOTFOUND);
    CHECK(strstr(c.error, "is a directory") != NULL);
}

static void test_table(void)
{
    CHECK(vnp_config_key_count() == 31); /* predict's long options but help and config */
    CHECK(vnp_config_key_find("tokens_per_batch", (size_t)-1) == vnp_config_key_find("tokens-per-batch", 16));
    CHECK(vnp_config_key_find("tokens-per", (size_t)-1) == NULL);
    CHECK(vnp_config_key_find("output", 3) == NULL);
    const vnp_config_key *k = vnp_config_key_find("output", (size_t)-1);
    CHECK(k && k->short_opt == 'o' && k->type == VNP_CFG_STRING && k->def == NULL);
    for (size_t i = 0; i < vnp_config_key_count(); i++) {
        k = vnp_config_key_at(i);
        CHECK(k->help && *k->help && !strchr(k->help, '\n'));
        CHECK(k->type != VNP_CFG_FLAG || (k->def && strcmp(k->def, "false") == 0));
    }
    CHECK(vnp_config_key_at(vnp_config_key_count()) == NULL);
}

static void test_template_round_trip(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    CHECK(fp != NULL);
    if (!fp) return;
    CHECK_EQ_INT(vnp_config_write_template(fp), 0);
    fclose(fp);
    for (size_t i = 0; i < vnp_config_key_count(); i++) { /* every key, uncommented, at the start of a line */
        char line[64];
        snprintf(line, sizeof line, "\n%s:", vnp_config_key_at(i)->name);
        CHECK_MSG(strstr(text, line) != NULL, "template lacks %s", line + 1);
    }
    vnp_config c;
    CHECK_EQ_INT(vnp_config_load_mem("template", text, len, &c), 0);
    /* The defaults that are values come back as options; flags (false) and keys without default do not. */
    CHECK_EQ_INT(c.n_opts, 11); /* threads, tokens-per-batch, precision: all/auto, written as such */
    CHECK(has_opt(&c, "--device=auto") && has_opt(&c, "--min-confident-score=0.8") &&
          has_opt(&c, "--block-records=2000") && has_opt(&c, "--output-style=broad"));
    CHECK(has_opt(&c, "--region-min-score=0.5") && has_opt(&c, "--region-window=3") &&
          has_opt(&c, "--region-min-chunks=3") && has_opt(&c, "--region-min-seq-chunks=3"));
    CHECK_EQ_INT(c.n_inputs, 0);
    vnp_config_free(&c);

    /* A user fills in the template: the edited file still loads. */
    size_t cap = len + 256;
    char *edited = malloc(cap);
    char *at = strstr(text, "\noutput:\n");
    CHECK(edited && at);
    if (edited && at) {
        size_t head = (size_t)(at - text) + 1;
        snprintf(edited, cap, "%.*soutput: out/dir\n%s", (int)head, text, at + 9);
        CHECK_EQ_INT(vnp_config_load_mem("edited", edited, strlen(edited), &c), 0);
        CHECK(has_opt(&c, "--output=out/dir") && c.n_opts == 12);
        vnp_config_free(&c);
    }
    free(edited);
    free(text);
}

/* Writes text to a temporary file; returns its malloc'ed path. */
static char *temp_config(const char *text)
{
    char *path = strdup("/tmp/vnp_test_config_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return path;
    ssize_t n = write(fd, text, strlen(text));
    (void)n;
    close(fd);
    return path;
}

static int argv_is(int argc, char **argv, const char *const *want)
{
    int n = 0;
    while (want[n]) n++;
    if (argc != n || argv[argc] != NULL) return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(argv[i], want[i]) != 0) {
            fprintf(stderr, "  argv[%d] = '%s', expected '%s'\n", i, argv[i], want[i]);
            return 0;
        }
    return 1;
}

static void test_splice(void)
{
    char *path = temp_config("output: from_config\nlength: 300\nquiet: true\ninputs: [c1.fa, c2.fa]\n");
    char cfgeq[128];
    snprintf(cfgeq, sizeof cfgeq, "--config=%s", path);
    int n;
    char **v;

    /* the command line names an input: the config's inputs are left out; its options come first */
    char *a1[] = {"predict", "--config", path, "-l", "500", "in.fa", NULL};
    CHECK_EQ_INT(vnp_config_splice(6, a1, &n, &v), 0);
    CHECK(argv_is(n, v, (const char *const[]){"predict", "--output=from_config", "--length=300", "--quiet", "-l",
                                              "500", "in.fa", NULL}));
    /* getopt sees the command line's -l last, so it wins */
    static const struct option lo[] = {{"output", required_argument, NULL, 'o'},
                                       {"length", required_argument, NULL, 'l'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {NULL, 0, NULL, 0}};
    const char *out = NULL, *length = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(n, v, "o:l:q", lo, NULL)) != -1) {
        if (c == 'o') out = optarg;
        if (c == 'l') length = optarg;
    }
    CHECK(out && strcmp(out, "from_config") == 0);
    CHECK(length && strcmp(length, "500") == 0);
    CHECK(optind == n - 1 && strcmp(v[optind], "in.fa") == 0);
    vnp_config_argv_free(v);

    /* no input on the command line (option values are not inputs): "--" and the config's inputs are appended */
    char *a2[] = {"predict", "-o", "x", "-qvl", "500", "--thr", "2", "--output=y", cfgeq, NULL};
    CHECK_EQ_INT(vnp_config_splice(9, a2, &n, &v), 0);
    CHECK(argv_is(n, v, (const char *const[]){"predict", "--output=from_config", "--length=300", "--quiet", "-o", "x",
                                              "-qvl", "500", "--thr", "2", "--output=y", "--", "c1.fa", "c2.fa",
                                              NULL}));
    vnp_config_argv_free(v);

    /* "-" (standard input) and anything after "--" are inputs; --config after "--" is an input too */
    char *a3[] = {"predict", "--config", path, "-", NULL};
    CHECK_EQ_INT(vnp_config_splice(4, a3, &n, &v), 0);
    CHECK(n == 5 && strcmp(v[4], "-") == 0);
    vnp_config_argv_free(v);
    char *a4[] = {"predict", "--config", path, "--", NULL};
    CHECK_EQ_INT(vnp_config_splice(4, a4, &n, &v), 0);
    CHECK(argv_is(n, v, (const char *const[]){"predict", "--output=from_config", "--length=300", "--quiet", "--",
                                              "c1.fa", "c2.fa", NULL}));
    vnp_config_argv_free(v);
    char *a5[] = {"predict", "-o", "x", "--", "--config", NULL};
    CHECK_EQ_INT(vnp_config_splice(5, a5, &n, &v), 0);
    CHECK(argv_is(n, v, (const char *const[]){"predict", "-o", "x", "--", "--config", NULL}));
    vnp_config_argv_free(v);
    /* an option value that looks like --config is a value */
    char *a6[] = {"predict", "-o", "--config", "in.fa", NULL};
    CHECK_EQ_INT(vnp_config_splice(4, a6, &n, &v), 0);
    CHECK(argv_is(n, v, (const char *const[]){"predict", "-o", "--config", "in.fa", NULL}));
    vnp_config_argv_free(v);

    /* errors */
    char *e1[] = {"predict", "--config", NULL};
    CHECK_EQ_INT(vnp_config_splice(2, e1, &n, &v), VNP_ERR_USAGE);
    CHECK(v == NULL && n == 0);
    char *e2[] = {"predict", "--config", path, cfgeq, NULL};
    CHECK_EQ_INT(vnp_config_splice(4, e2, &n, &v), VNP_ERR_USAGE);
    char *e3[] = {"predict", "--config=/nonexistent.yaml", NULL};
    CHECK_EQ_INT(vnp_config_splice(2, e3, &n, &v), VNP_ERR_NOTFOUND);
    char *bad = temp_config("length: 300\nbogus: 1\n");
    char *e4[] = {"predict", "--config", bad, NULL};
    CHECK_EQ_INT(vnp_config_splice(3, e4, &n, &v), VNP_ERR_FORMAT);
    CHECK(v == NULL);
    unlink(bad);
    free(bad);
    unlink(path);
    free(path);
}

/* A table of any size gives every key (the copy once stopped at 64 without a word). */
static void test_large_table(void)
{
    enum { N = 150 };
    static vnp_opt opts[N];
    static char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "key-%d", i);
        opts[i] = (vnp_opt){.name = names[i], .type = VNP_OPT_INT, .def = "1", .help = "a key", .flags = VNP_OPT_CFG};
    }
    vnp_opt_cmd cmd = {.name = "big", .opts = opts, .n_opts = N, .inputs_help = "inputs"};
    CHECK_EQ_INT(vnp_config_set_table(&cmd), VNP_OK);
    CHECK_EQ_INT(vnp_config_key_count(), N + 1);
    CHECK(vnp_config_key_find("key-149", (size_t)-1) != NULL);
    CHECK_EQ_INT(vnp_config_set_table(&vnp_cli_predict_cmd), VNP_OK); /* back to predict's for the rest */
}

int main(void)
{
    CHECK_EQ_INT(vnp_config_set_table(&vnp_cli_predict_cmd), VNP_OK);
    test_values();
    test_errors();
    test_table();
    test_large_table();
    test_template_round_trip();
    test_splice();
    VNP_TEST_END();
}
