/* The one reader of the environment (vnp/env.h): the table of every variable the program honours, the boolean
 * rule, and the process's copy read once. To add a switch: a field in vnp_env, a row below, a row in README's
 * "Environment variables" table; tests/cli/test_env_switches.sh checks the last two agree. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/env.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROW(name, type, field, dflt, doc) {name, type, offsetof(vnp_env, field), dflt, doc}

static const vnp_env_var table[] = {
    ROW("VIRNUCPRO_DISABLE_FP16", VNP_ENV_BOOL, disable_fp16, 0,
        "FP32 instead of FP16 on a GPU, as --precision fp32 (a slower diagnostic mode)"),
    ROW("VIRNUCPRO_DISABLE_PACKING", VNP_ENV_BOOL, disable_packing, 0,
        "padded batches instead of packed ones, for comparison (slower; same results)"),
    ROW("VIRNUCPRO_CUDA_PROFILE", VNP_ENV_BOOL, cuda_profile, 0,
        "per-op GPU times (calls, ms, share, TF/s) on stderr when the program exits"),
    ROW("VIRNUCPRO_CUDA_INVARIANT", VNP_ENV_BOOL, cuda_invariant, 1,
        "0: the GPU kernels before batch invariance (issue 14), to measure what it costs; reuse is then off"),
    ROW("VIRNUCPRO_MODELS", VNP_ENV_PATH, models, 0, "the models folder when --models is not given"),
    ROW("TORCH_HOME", VNP_ENV_PATH, torch_home, 0, "torch hub's cache, searched for ESM-2 (hub/checkpoints/)"),
    ROW("HF_HOME", VNP_ENV_PATH, hf_home, 0, "the Hugging Face home; its hub/ is searched for DNABERT-S"),
    ROW("HF_HUB_CACHE", VNP_ENV_PATH, hf_hub_cache, 0, "the Hugging Face hub cache, searched for DNABERT-S"),
    ROW("XDG_CACHE_HOME", VNP_ENV_PATH, xdg_cache_home, 0,
        "where TORCH_HOME and HF_HOME default to (torch/, huggingface/)"),
    ROW("HOME", VNP_ENV_PATH, home, 0, "XDG_CACHE_HOME defaults to ~/.cache"),
    ROW("TMPDIR", VNP_ENV_PATH, tmpdir, 0, "where MPI ranks other than 0 keep their scratch journals (else /tmp)"),
    ROW("CUDA_VISIBLE_DEVICES", VNP_ENV_STRING, cuda_visible_devices, 0,
        "the GPUs the program sees (read by CUDA); -1 means the CPU for --device auto"),
};

const vnp_env_var *vnp_env_table(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const char *vnp_env_type_name(vnp_env_type t)
{
    switch (t) {
    case VNP_ENV_BOOL: return "bool";
    case VNP_ENV_STRING: return "string";
    case VNP_ENV_PATH: return "path";
    }
    return "?";
}

int vnp_env_parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    if (!v || !*v) return -1;
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return 1;
        if (strcasecmp(v, no[i]) == 0) return 0;
    }
    return -2;
}

int vnp_env_read(vnp_env *env, char *err, size_t errlen)
{
    int rc = VNP_OK;
    memset(env, 0, sizeof *env);
    if (errlen) err[0] = '\0';
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const vnp_env_var *r = &table[i];
        const char *v = getenv(r->name);
        char *field = (char *)env + r->offset;
        if (r->type != VNP_ENV_BOOL) {
            const char *s = v && *v ? v : NULL;
            memcpy(field, &s, sizeof s);
            continue;
        }
        int b = vnp_env_parse_bool(v);
        if (b == -2) {
            if (rc == VNP_OK && errlen)
                snprintf(err, errlen, "environment variable %s='%s': expected 1, true, yes, on or 0, false, no, off "
                         "(any case; empty means unset)", r->name, v);
            rc = VNP_ERR_USAGE;
        }
        if (b < 0) b = r->dflt;
        memcpy(field, &b, sizeof b);
    }
    return rc;
}

static vnp_env g_env;
static int g_rc;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void load(void)
{
    char err[512];
    g_rc = vnp_env_read(&g_env, err, sizeof err);
    if (g_rc) vnp_error("%s", err);
}

int vnp_env_init(void)
{
    pthread_once(&g_once, load);
    return g_rc;
}

const vnp_env *vnp_env_get(void)
{
    pthread_once(&g_once, load);
    return &g_env;
}
