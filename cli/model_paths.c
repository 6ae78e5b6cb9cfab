/* Where the models are: the released layout of a models folder, shared by the commands that need models
 * (predict, validate), so that they find the same files and explain a missing one the same way. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *vnp_cli_models_dir(const char *given)
{
    if (given) return given;
    const char *env = getenv("VIRNUCPRO_MODELS");
    return env && *env ? env : NULL;
}

/* DIR/name when it exists, malloc'ed; NULL otherwise. */
static char *existing(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/%s", dir, name);
    struct stat st;
    if (stat(p, &st) == 0) return p;
    free(p);
    return NULL;
}

char *vnp_cli_model_in_dir(const char *dir, vnp_cli_model what, int length)
{
    char cls[32];
    switch (what) {
    case VNP_CLI_ESM2: {
        char *p = existing(dir, "esm2_t36_3B_UR50D.pt");
        return p ? p : existing(dir, "esm2_t36_3B_UR50D");
    }
    case VNP_CLI_DNABERT: return existing(dir, "DNABERT-S");
    case VNP_CLI_CLASSIFIER:
        snprintf(cls, sizeof cls, "%d_model.pth", length);
        return existing(dir, cls);
    }
    return NULL;
}

int vnp_cli_resolve_models(const char *cmd, const char *dir, int length, vnp_cli_models *m)
{
    dir = vnp_cli_models_dir(dir);
    if (dir && *dir) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "virnucpro %s: error: models folder '%s' does not exist\n", cmd, dir);
            return 2;
        }
        if (!m->esm && (m->owned[0] = vnp_cli_model_in_dir(dir, VNP_CLI_ESM2, 0))) m->esm = m->owned[0];
        if (!m->dnabert && (m->owned[1] = vnp_cli_model_in_dir(dir, VNP_CLI_DNABERT, 0))) m->dnabert = m->owned[1];
        if (length && !m->classifier && (m->owned[2] = vnp_cli_model_in_dir(dir, VNP_CLI_CLASSIFIER, length)))
            m->classifier = m->owned[2];
    }
    if (m->esm && m->dnabert && (m->classifier || !length)) return 0;
    char cls[32];
    snprintf(cls, sizeof cls, "%d_model.pth", length);
    fprintf(stderr, "virnucpro %s: error: missing model%s%s:\n", cmd, dir ? " files in " : "", dir ? dir : "");
    if (!m->esm)
        fprintf(stderr, "  ESM-2 3B: esm2_t36_3B_UR50D.pt (fair-esm) or the Hugging Face folder\n"
                        "            facebook/esm2_t36_3B_UR50D, given with --esm or placed in --models DIR\n");
    if (!m->dnabert)
        fprintf(stderr, "  DNABERT-S: the Hugging Face folder zhihan1996/DNABERT-S (pytorch_model.bin, config.json,\n"
                        "            tokenizer.json), given with --dnabert or as DIR/DNABERT-S\n");
    if (length && !m->classifier)
        fprintf(stderr, "  classifier: %s from github.com/Li-Jing-1997/VirNucPro, given with --classifier or as DIR/%s\n",
                cls, cls);
    fprintf(stderr, "Get them with 'virnucpro models download --dir DIR' (see 'Getting the real models' in the README).\n");
    return 2;
}

void vnp_cli_models_free(vnp_cli_models *m)
{
    if (!m) return;
    for (int i = 0; i < 3; i++) {
        free(m->owned[i]);
        m->owned[i] = NULL;
    }
}

int vnp_cli_length_in_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *p = base; *p; p++) {
        if ((p == base || p[-1] < '0' || p[-1] > '9') && (strncmp(p, "300", 3) == 0 || strncmp(p, "500", 3) == 0) &&
            (p[3] < '0' || p[3] > '9'))
            return p[0] == '3' ? 300 : 500;
    }
    return 0;
}
