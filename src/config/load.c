/* config: reading a YAML config file (libyaml document API) into "--name=value" arguments, checking every key and
 * value against the key table. Positions in messages are libyaml's marks, printed 1-based as path:line:column. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

/* A config file is a handful of lines; anything bigger is the wrong file given to --config. */
#define CONFIG_MAX_BYTES (1u << 20)

typedef struct {
    const char *name; /* for messages */
    yaml_document_t *doc;
    vnp_config *out;
    const yaml_node_t *seen_key[64]; /* key node per table entry, to catch repeats */
} loader;

static void fail_at(vnp_config *c, const char *name, const yaml_mark_t *m, const char *fmt, ...) VNP_PRINTF(4, 5);

/* Records the message (with the position when m is given) in c->error and logs it. */
static void fail_at(vnp_config *c, const char *name, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m)
        snprintf(c->error, sizeof c->error, "%s:%zu:%zu: %s", name, m->line + 1, m->column + 1, msg);
    else
        snprintf(c->error, sizeof c->error, "%s: %s", name, msg);
    vnp_error("config %s", c->error);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

/* YAML's null: an empty, "~" or "null" plain scalar. */
static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* YAML 1.1 booleans: 1 true, 0 false, -1 neither. */
static int parse_bool(const char *s)
{
    static const char *yes[] = {"true", "yes", "on", "y"}, *no[] = {"false", "no", "off", "n"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) return 1;
        if (!strcasecmp(s, no[i])) return 0;
    }
    return -1;
}

static int is_int(const char *s)
{
    char *end;
    errno = 0;
    (void)strtoll(s, &end, 10);
    return *s && !errno && end != s && !*end;
}

static int is_number(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    return *s && !errno && end != s && !*end && isfinite(v);
}

static int push(char ***arr, size_t *n, char *s)
{
    if (!s) return VNP_ERR_NOMEM;
    char **a = vnp_realloc_array(*arr, *n + 1, sizeof *a);
    if (!a) {
        free(s);
        return VNP_ERR_NOMEM;
    }
    a[(*n)++] = s;
    *arr = a;
    return VNP_OK;
}

static char *join_opt(const char *name, const char *value)
{
    size_t n = strlen(name) + (value ? strlen(value) + 1 : 0) + 3;
    char *s = malloc(n);
    if (!s) return NULL;
    if (value)
        snprintf(s, n, "--%s=%s", name, value);
    else
        snprintf(s, n, "--%s", name);
    return s;
}

static int add_inputs(loader *L, const yaml_node_t *v)
{
    vnp_config *c = L->out;
    if (v->type == YAML_SCALAR_NODE) { /* one path written without brackets */
        if (!*scalar(v)) {
            fail_at(c, L->name, &v->start_mark, "'inputs' expects a list of paths, found an empty string");
            return VNP_ERR_FORMAT;
        }
        return push(&c->inputs, &c->n_inputs, vnp_strdup(scalar(v)));
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        fail_at(c, L->name, &v->start_mark, "'inputs' expects a list of paths, found %s", node_kind(v));
        return VNP_ERR_FORMAT;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        const yaml_node_t *e = yaml_document_get_node(L->doc, *it);
        if (!e || e->type != YAML_SCALAR_NODE || is_null(e) || !*scalar(e)) {
            fail_at(c, L->name, e ? &e->start_mark : &v->start_mark, "each item of 'inputs' must be a path, found %s",
                    !e ? "nothing" : e->type == YAML_SCALAR_NODE ? "an empty value" : node_kind(e));
            return VNP_ERR_FORMAT;
        }
        int rc = push(&c->inputs, &c->n_inputs, vnp_strdup(scalar(e)));
        if (rc) return rc;
    }
    return VNP_OK;
}

/* Turns one value into an option (or nothing, for null and false) after checking its type. */
static int add_value(loader *L, const vnp_config_key *k, const yaml_node_t *v)
{
    static const char *want[] = {"true or false", "a value", "an integer", "a number", "a list of paths"};
    vnp_config *c = L->out;
    if (is_null(v)) return VNP_OK;
    if (k->type == VNP_CFG_LIST) return add_inputs(L, v);
    if (v->type != YAML_SCALAR_NODE) {
        fail_at(c, L->name, &v->start_mark, "'%s' expects %s, found %s", k->name, want[k->type], node_kind(v));
        return VNP_ERR_FORMAT;
    }
    const char *s = scalar(v);
    int ok;
    switch (k->type) {
    case VNP_CFG_FLAG: {
        int b = parse_bool(s);
        if (b == 0) return VNP_OK;
        ok = b == 1;
        break;
    }
    case VNP_CFG_INT: ok = is_int(s) || (k->word && strcmp(s, k->word) == 0); break;
    case VNP_CFG_NUMBER: ok = is_number(s); break;
    default: ok = *s != '\0'; break;
    }
    if (!ok) {
        fail_at(c, L->name, &v->start_mark, "'%s' expects %s, got '%.200s'", k->name, want[k->type], s);
        return VNP_ERR_FORMAT;
    }
    return push(&c->opts, &c->n_opts, join_opt(k->name, k->type == VNP_CFG_FLAG ? NULL : s));
}

static void list_keys(char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < vnp_config_key_count() && at < cap; i++) {
        int n = snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", vnp_config_key_at(i)->name);
        if (n < 0) break;
        at += (size_t)n;
    }
}

static int load_mapping(loader *L, const yaml_node_t *root)
{
    vnp_config *c = L->out;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
        const yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
        if (!kn || !vn) {
            fail_at(c, L->name, &root->start_mark, "broken mapping");
            return VNP_ERR_FORMAT;
        }
        if (kn->type != YAML_SCALAR_NODE) {
            fail_at(c, L->name, &kn->start_mark, "keys must be option names, found %s", node_kind(kn));
            return VNP_ERR_FORMAT;
        }
        const vnp_config_key *k = vnp_config_key_find(scalar(kn), kn->data.scalar.length);
        if (!k || strlen(scalar(kn)) != kn->data.scalar.length) {
            char valid[400];
            list_keys(valid, sizeof valid);
            fail_at(c, L->name, &kn->start_mark, "unknown key '%.100s'; valid keys: %s", scalar(kn), valid);
            return VNP_ERR_FORMAT;
        }
        size_t ki = (size_t)(k - vnp_config_key_at(0));
        if (ki < sizeof L->seen_key / sizeof L->seen_key[0]) {
            if (L->seen_key[ki]) {
                fail_at(c, L->name, &kn->start_mark, "key '%s' repeats the one on line %zu", k->name,
                        L->seen_key[ki]->start_mark.line + 1);
                return VNP_ERR_FORMAT;
            }
            L->seen_key[ki] = kn;
        }
        int rc = add_value(L, k, vn);
        if (rc) {
            if (rc == VNP_ERR_NOMEM) fail_at(c, L->name, NULL, "out of memory");
            return rc;
        }
    }
    return VNP_OK;
}

static int load_document(loader *L, yaml_parser_t *parser)
{
    vnp_config *c = L->out;
    const yaml_node_t *root = yaml_document_get_root_node(L->doc);
    if (!root || is_null(root)) return VNP_OK; /* an empty file, or every line commented out */
    if (root->type != YAML_MAPPING_NODE) {
        fail_at(c, L->name, &root->start_mark,
                "expected a mapping of option names to values (e.g. 'length: 300'), found %s", node_kind(root));
        return VNP_ERR_FORMAT;
    }
    int rc = load_mapping(L, root);
    if (rc) return rc;
    yaml_document_t next;
    if (!yaml_parser_load(parser, &next)) {
        fail_at(c, L->name, &parser->problem_mark, "not valid YAML: %s", parser->problem ? parser->problem : "?");
        return VNP_ERR_FORMAT;
    }
    const yaml_node_t *more = yaml_document_get_root_node(&next);
    yaml_mark_t m = more ? more->start_mark : next.start_mark;
    yaml_document_delete(&next);
    if (more) {
        fail_at(c, L->name, &m, "a config file holds one YAML document; found a second one");
        return VNP_ERR_FORMAT;
    }
    return VNP_OK;
}

int vnp_config_load_mem(const char *name, const char *data, size_t len, vnp_config *out)
{
    memset(out, 0, sizeof *out);
    loader L = {.name = name, .out = out};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fail_at(out, name, NULL, "out of memory");
        return VNP_ERR_NOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    yaml_document_t doc;
    int rc;
    if (!yaml_parser_load(&parser, &doc)) {
        if (parser.error == YAML_MEMORY_ERROR) {
            fail_at(out, name, NULL, "out of memory");
            rc = VNP_ERR_NOMEM;
        } else if (parser.context) {
            fail_at(out, name, &parser.problem_mark, "not valid YAML: %s (%s at line %zu, column %zu)", parser.problem,
                    parser.context, parser.context_mark.line + 1, parser.context_mark.column + 1);
            rc = VNP_ERR_FORMAT;
        } else {
            fail_at(out, name, &parser.problem_mark, "not valid YAML: %s",
                    parser.problem ? parser.problem : "unknown error");
            rc = VNP_ERR_FORMAT;
        }
        yaml_parser_delete(&parser);
        return rc;
    }
    L.doc = &doc;
    rc = load_document(&L, &parser);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc) {
        char keep[sizeof out->error];
        memcpy(keep, out->error, sizeof keep);
        vnp_config_free(out);
        memcpy(out->error, keep, sizeof keep);
    }
    return rc;
}

int vnp_config_load(const char *path, vnp_config *out)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) {
        fail_at(out, path, NULL, "cannot open config file: %s", strerror(errno));
        return VNP_ERR_NOTFOUND;
    }
    if (S_ISDIR(st.st_mode)) {
        fail_at(out, path, NULL, "is a directory, not a config file");
        return VNP_ERR_NOTFOUND;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fail_at(out, path, NULL, "cannot open config file: %s", strerror(errno));
        return VNP_ERR_NOTFOUND;
    }
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    if (!buf) {
        fclose(fp);
        fail_at(out, path, NULL, "out of memory");
        return VNP_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, fp);
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        fail_at(out, path, NULL, "read error");
        return VNP_ERR_IO;
    }
    if (n > CONFIG_MAX_BYTES) {
        free(buf);
        fail_at(out, path, NULL, "larger than %u bytes: not a config file", CONFIG_MAX_BYTES);
        return VNP_ERR_FORMAT;
    }
    int rc = vnp_config_load_mem(path, buf, n, out);
    free(buf);
    return rc;
}

void vnp_config_free(vnp_config *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_opts; i++) free(c->opts[i]);
    for (size_t i = 0; i < c->n_inputs; i++) free(c->inputs[i]);
    free(c->opts);
    free(c->inputs);
    memset(c, 0, sizeof *c);
}
