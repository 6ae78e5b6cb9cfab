/* Where the models are: the released layout of a models folder, then the caches where virnucpro-broad's users
 * already have them; shared by the commands that need models (predict, validate, embed-frames), so that they find
 * the same files and explain a missing one the same way (listing every place looked). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "vnp/env.h"
#include "vnp/util.h"

const char *vnp_cli_models_dir(const char *given)
{
    return given ? given : vnp_env_get()->models;
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

/* ---- the caches where virnucpro-broad's users already have the encoders (read only) ----
 * fair-esm keeps ESM-2 in torch hub's cache: $TORCH_HOME/hub/checkpoints/ (TORCH_HOME defaults to
 * $XDG_CACHE_HOME/torch, that to ~/.cache/torch); transformers keeps DNABERT-S in the Hugging Face hub cache:
 * $HF_HUB_CACHE, else $HF_HOME/hub (HF_HOME defaults to $XDG_CACHE_HOME/huggingface, that to ~/.cache/huggingface),
 * as models--<org>--<name>/snapshots/<revision>/ with refs/main naming the revision. */

/* v (TORCH_HOME or HF_HOME, NULL when unset), else $XDG_CACHE_HOME/under_xdg, else ~/.cache/under_xdg. */
static int cache_home(char *buf, size_t size, const char *v, const char *under_xdg)
{
    const vnp_env *env = vnp_env_get();
    if (v) return snprintf(buf, size, "%s", v) < (int)size;
    if (env->xdg_cache_home) return snprintf(buf, size, "%s/%s", env->xdg_cache_home, under_xdg) < (int)size;
    if (env->home) return snprintf(buf, size, "%s/.cache/%s", env->home, under_xdg) < (int)size;
    return 0;
}

static int torch_checkpoint(char *buf, size_t size)
{
    char home[3072];
    return cache_home(home, sizeof home, vnp_env_get()->torch_home, "torch") &&
           snprintf(buf, size, "%s/hub/checkpoints/esm2_t36_3B_UR50D.pt", home) < (int)size;
}

/* The snapshot folder of repo ("zhihan1996--DNABERT-S") in the Hugging Face cache: the revision refs/main names,
 * else the last snapshot in byte order; "<cache>/models--<repo>/snapshots/<revision>" when none is there yet. */
static int hf_snapshot(const char *repo, char *buf, size_t size)
{
    char hub[3072];
    const char *hc = vnp_env_get()->hf_hub_cache;
    if (hc) snprintf(hub, sizeof hub, "%s", hc);
    else if (cache_home(hub, sizeof hub - 4, vnp_env_get()->hf_home, "huggingface")) strcat(hub, "/hub");
    else return 0;
    char ref[4096], rev[128] = "<revision>";
    snprintf(ref, sizeof ref, "%s/models--%s/refs/main", hub, repo);
    FILE *f = fopen(ref, "r");
    if (f) {
        if (!fgets(rev, sizeof rev, f)) snprintf(rev, sizeof rev, "<revision>");
        rev[strcspn(rev, "\r\n")] = '\0';
        fclose(f);
    }
    if (strcmp(rev, "<revision>") == 0 || strchr(rev, '/')) {
        snprintf(ref, sizeof ref, "%s/models--%s/snapshots", hub, repo);
        DIR *d = opendir(ref);
        for (struct dirent *e; d && (e = readdir(d));)
            if (e->d_name[0] != '.' && strlen(e->d_name) < sizeof rev &&
                (rev[0] == '<' || strcmp(e->d_name, rev) > 0))
                snprintf(rev, sizeof rev, "%s", e->d_name);
        if (d) closedir(d);
    }
    return snprintf(buf, size, "%s/models--%s/snapshots/%s", hub, repo, rev) < (int)size;
}

/* The places model what is looked for, in order, into places (malloc'ed paths); returns how many. dir: the models
 * folder (or NULL); cdir: the given classifier's folder (or NULL). */
enum { MAX_PLACES = 8 };
static int places_of(vnp_cli_model what, int length, const char *dir, const char *cdir, char **places)
{
    int n = 0;
    char buf[4096];
    const char *folders[2] = {dir, cdir};
    for (int k = 0; k < 2; k++) {
        if (!folders[k] || (k == 1 && dir && strcmp(dir, cdir) == 0)) continue;
        if (what == VNP_CLI_ESM2) {
            snprintf(buf, sizeof buf, "%s/esm2_t36_3B_UR50D.pt", folders[k]);
            places[n++] = vnp_strdup(buf);
            snprintf(buf, sizeof buf, "%s/esm2_t36_3B_UR50D", folders[k]);
            places[n++] = vnp_strdup(buf);
        } else if (what == VNP_CLI_DNABERT) {
            snprintf(buf, sizeof buf, "%s/DNABERT-S", folders[k]);
            places[n++] = vnp_strdup(buf);
        } else if (k == 0) {
            snprintf(buf, sizeof buf, "%s/%d_model.pth", folders[k], length);
            places[n++] = vnp_strdup(buf);
        }
    }
    if (what == VNP_CLI_ESM2 && torch_checkpoint(buf, sizeof buf)) places[n++] = vnp_strdup(buf);
    if (what == VNP_CLI_ESM2 && hf_snapshot("facebook--esm2_t36_3B_UR50D", buf, sizeof buf))
        places[n++] = vnp_strdup(buf);
    if (what == VNP_CLI_DNABERT && hf_snapshot("zhihan1996--DNABERT-S", buf, sizeof buf))
        places[n++] = vnp_strdup(buf);
    if (what == VNP_CLI_CLASSIFIER) { /* virnucpro-broad's default: <length>_model.pth in the working folder */
        snprintf(buf, sizeof buf, "%d_model.pth", length);
        places[n++] = vnp_strdup(buf);
    }
    return n;
}

static void free_places(char **places, int n)
{
    for (int i = 0; i < n; i++) free(places[i]);
}

/* The first of the places that exists (malloc'ed), or NULL; with report, prints every place looked. */
static char *find_model(vnp_cli_model what, int length, const char *dir, const char *cdir, int report)
{
    char *places[MAX_PLACES] = {0};
    int n = places_of(what, length, dir, cdir, places);
    char *hit = NULL;
    for (int i = 0; i < n && !hit; i++) {
        struct stat st;
        if (places[i] && stat(places[i], &st) == 0) {
            hit = places[i];
            places[i] = NULL;
        }
    }
    for (int i = 0; report && i < n; i++)
        if (places[i]) fprintf(stderr, "            looked in %s\n", places[i]);
    free_places(places, n);
    return hit;
}

int vnp_cli_resolve_models(const char *cmd, const char *dir, int length, vnp_cli_models *m)
{
    dir = vnp_cli_models_dir(dir);
    if (dir && !*dir) dir = NULL;
    if (dir) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "virnucpro %s: error: models folder '%s' does not exist\n", cmd, dir);
            return 2;
        }
    }
    /* a classifier given by path: the encoders may sit beside it, as in a models folder */
    char *cdir = m->classifier ? vnp_strdup(m->classifier) : NULL;
    if (cdir) {
        char *slash = strrchr(cdir, '/');
        if (slash) *slash = '\0';
        else snprintf(cdir, strlen(cdir) + 1, ".");
    }
    if (!m->esm && (m->owned[0] = find_model(VNP_CLI_ESM2, 0, dir, cdir, 0))) m->esm = m->owned[0];
    if (!m->dnabert && (m->owned[1] = find_model(VNP_CLI_DNABERT, 0, dir, cdir, 0))) m->dnabert = m->owned[1];
    if (length && !m->classifier && (m->owned[2] = find_model(VNP_CLI_CLASSIFIER, length, dir, NULL, 0)))
        m->classifier = m->owned[2];
    if (m->esm && m->dnabert && (m->classifier || !length)) {
        free(cdir);
        return 0;
    }
    char cls[32];
    snprintf(cls, sizeof cls, "%d_model.pth", length);
    fprintf(stderr, "virnucpro %s: error: missing model%s%s:\n", cmd, dir ? " files in " : "", dir ? dir : "");
    if (!m->esm) {
        fprintf(stderr, "  ESM-2 3B: esm2_t36_3B_UR50D.pt (fair-esm) or the Hugging Face folder\n"
                        "            facebook/esm2_t36_3B_UR50D, given with --esm or placed in --models DIR\n");
        free(find_model(VNP_CLI_ESM2, 0, dir, cdir, 1));
    }
    if (!m->dnabert) {
        fprintf(stderr, "  DNABERT-S: the Hugging Face folder zhihan1996/DNABERT-S (pytorch_model.bin, config.json,\n"
                        "            tokenizer.json), given with --dnabert or as DIR/DNABERT-S\n");
        free(find_model(VNP_CLI_DNABERT, 0, dir, cdir, 1));
    }
    if (length && !m->classifier) {
        fprintf(stderr, "  classifier: %s from github.com/Li-Jing-1997/VirNucPro, given with --classifier or as DIR/%s\n",
                cls, cls);
        free(find_model(VNP_CLI_CLASSIFIER, length, dir, NULL, 1));
    }
    fprintf(stderr, "Get them with 'virnucpro models download --dir DIR' (see 'Getting the real models' in the README).\n");
    free(cdir);
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
