/* vnp/env.h: the boolean rule (every spelling in any case, empty = unset, anything else refused naming the
 * variable, the value and the spellings), strings and paths (empty = unset), the table, and exit status 2 from a
 * bad value through vnp_env_init in a child process. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/env.h"
#include "vnp_test.h"

#include <sys/wait.h>
#include <unistd.h>

/* Every variable of the table unset. */
static void clear_all(void)
{
    size_t n;
    const vnp_env_var *t = vnp_env_table(&n);
    for (size_t i = 0; i < n; i++) unsetenv(t[i].name);
}

static int bool_field(const vnp_env *e, const vnp_env_var *r)
{
    int v;
    memcpy(&v, (const char *)e + r->offset, sizeof v);
    return v;
}

static const char *str_field(const vnp_env *e, const vnp_env_var *r)
{
    const char *v;
    memcpy(&v, (const char *)e + r->offset, sizeof v);
    return v;
}

static void test_parse_bool(void)
{
    static const char *const yes[] = {"1", "true", "TRUE", "True", "yes", "YES", "Yes", "on", "ON", "On", "tRuE"};
    static const char *const no[] = {"0", "false", "FALSE", "False", "no", "NO", "No", "off", "OFF", "Off", "oFf"};
    static const char *const bad[] = {"2", "-1", "y", "n", "t", "f", "enable", "disabled", " 1", "1 ", "true!",
                                      "01", "onn", "nope", "truee"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) CHECK_MSG(vnp_env_parse_bool(yes[i]) == 1, "%s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) CHECK_MSG(vnp_env_parse_bool(no[i]) == 0, "%s", no[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK_MSG(vnp_env_parse_bool(bad[i]) == -2, "%s", bad[i]);
    CHECK_EQ_INT(vnp_env_parse_bool(NULL), -1);
    CHECK_EQ_INT(vnp_env_parse_bool(""), -1);
}

static void test_table(void)
{
    size_t n;
    const vnp_env_var *t = vnp_env_table(&n);
    CHECK(n >= 12);
    for (size_t i = 0; i < n; i++) {
        CHECK_MSG(t[i].doc && *t[i].doc && !strchr(t[i].doc, '\n'), "%s: one-line description", t[i].name);
        CHECK_MSG(t[i].offset < sizeof(vnp_env), "%s", t[i].name);
        for (size_t j = 0; j < i; j++) CHECK_MSG(strcmp(t[i].name, t[j].name) != 0, "%s twice", t[i].name);
        CHECK_MSG(strcmp(vnp_env_type_name(t[i].type), "?") != 0, "%s", t[i].name);
    }
}

/* Every boolean of the table: defaults when unset or empty, every spelling, a bad value refused with a message
 * naming it. */
static void test_read_bools(void)
{
    size_t n;
    const vnp_env_var *t = vnp_env_table(&n);
    char err[512];
    vnp_env e;
    clear_all();
    CHECK_EQ_INT(vnp_env_read(&e, err, sizeof err), VNP_OK);
    CHECK_EQ_INT(e.cuda_invariant, 1);
    CHECK_EQ_INT(e.disable_fp16, 0);
    for (size_t i = 0; i < n; i++) {
        const vnp_env_var *r = &t[i];
        if (r->type != VNP_ENV_BOOL) continue;
        CHECK_EQ_INT(bool_field(&e, r), r->dflt);
        static const char *const spell[][2] = {{"1", "1"},   {"true", "1"}, {"Yes", "1"},  {"ON", "1"},
                                               {"0", "0"},   {"FALSE", "0"}, {"no", "0"},  {"Off", "0"}};
        for (size_t k = 0; k < sizeof spell / sizeof spell[0]; k++) {
            setenv(r->name, spell[k][0], 1);
            CHECK_EQ_INT(vnp_env_read(&e, err, sizeof err), VNP_OK);
            CHECK_MSG(bool_field(&e, r) == spell[k][1][0] - '0', "%s=%s", r->name, spell[k][0]);
        }
        setenv(r->name, "", 1);
        CHECK_EQ_INT(vnp_env_read(&e, err, sizeof err), VNP_OK);
        CHECK_MSG(bool_field(&e, r) == r->dflt, "%s empty: the default", r->name);
        setenv(r->name, "maybe", 1);
        CHECK_EQ_INT(vnp_env_read(&e, err, sizeof err), VNP_ERR_USAGE);
        CHECK_MSG(strstr(err, r->name) && strstr(err, "'maybe'") && strstr(err, "true") && strstr(err, "off"),
                  "message: %s", err);
        CHECK_MSG(bool_field(&e, r) == r->dflt, "%s bad: the default", r->name);
        unsetenv(r->name);
    }
}

static void test_read_strings(void)
{
    size_t n;
    const vnp_env_var *t = vnp_env_table(&n);
    char err[512];
    vnp_env e;
    clear_all();
    for (size_t i = 0; i < n; i++) {
        const vnp_env_var *r = &t[i];
        if (r->type == VNP_ENV_BOOL) continue;
        CHECK_EQ_INT(vnp_env_read(&e, err, sizeof err), VNP_OK);
        CHECK_MSG(str_field(&e, r) == NULL, "%s unset", r->name);
        setenv(r->name, "", 1);
        CHECK_EQ_INT(vnp_env_read(&e, err, sizeof err), VNP_OK);
        CHECK_MSG(str_field(&e, r) == NULL, "%s empty: unset", r->name);
        setenv(r->name, "/some/where", 1);
        CHECK_EQ_INT(vnp_env_read(&e, err, sizeof err), VNP_OK);
        CHECK_MSG(str_field(&e, r) && strcmp(str_field(&e, r), "/some/where") == 0, "%s", r->name);
        unsetenv(r->name);
    }
    setenv("VIRNUCPRO_MODELS", "/m", 1);
    setenv("CUDA_VISIBLE_DEVICES", "-1", 1);
    CHECK_EQ_INT(vnp_env_read(&e, err, sizeof err), VNP_OK);
    CHECK(e.models && strcmp(e.models, "/m") == 0);
    CHECK(e.cuda_visible_devices && strcmp(e.cuda_visible_devices, "-1") == 0);
    clear_all();
}

/* vnp_env_init in a child: its status, as main would exit with it. */
static int child_exit(const char *name, const char *value)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        clear_all();
        if (name) setenv(name, value, 1);
        int rc = vnp_env_init();
        if (rc == VNP_OK && vnp_env_init() != VNP_OK) _exit(3); /* a second call gives the first result */
        _exit(vnp_status_exit_code(rc));
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

static void test_init_exit(void)
{
    size_t n;
    const vnp_env_var *t = vnp_env_table(&n);
    CHECK_EQ_INT(child_exit(NULL, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        if (t[i].type != VNP_ENV_BOOL) continue;
        CHECK_MSG(child_exit(t[i].name, "sometimes") == 2, "%s=sometimes: exit 2", t[i].name);
        CHECK_MSG(child_exit(t[i].name, "yes") == 0, "%s=yes: exit 0", t[i].name);
        CHECK_MSG(child_exit(t[i].name, "") == 0, "%s empty: exit 0", t[i].name);
    }
}

/* vnp_env_get without vnp_env_init (library code, unit tests): read on first use, never NULL. */
static void test_get_lazily(void)
{
    clear_all();
    setenv("VIRNUCPRO_DISABLE_PACKING", "On", 1);
    const vnp_env *e = vnp_env_get();
    CHECK(e != NULL);
    CHECK_EQ_INT(e->disable_packing, 1);
    CHECK_EQ_INT(e->cuda_invariant, 1);
    CHECK(vnp_env_get() == e);
    CHECK_EQ_INT(vnp_env_init(), VNP_OK);
    unsetenv("VIRNUCPRO_DISABLE_PACKING");
}

int main(void)
{
    test_parse_bool();
    test_table();
    test_read_bools();
    test_read_strings();
    test_init_exit();
    test_get_lazily();
    VNP_TEST_END();
}
