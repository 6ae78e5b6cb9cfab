/* Opening model files: a folder is resolved to its weights (single file, sharded index), each file is memory-
 * mapped and read by the reader its magic bytes select, and config.json beside the weights is kept. */
#define _DEFAULT_SOURCE
#include "safetensors.h"
#include "table.h"
#include "torch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SMALL_FILE (64u * 1024 * 1024) /* config.json, index files */
#define MAX_SHARDS 4096

static char *path_join(const char *dir, const char *leaf)
{
    size_t n = strlen(dir) + strlen(leaf) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%s%s", dir, (*dir && dir[strlen(dir) - 1] != '/') ? "/" : "", leaf);
    return p;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return vnp_strdup(".");
    if (slash == path) return vnp_strdup("/");
    char *d = malloc((size_t)(slash - path) + 1);
    if (d) {
        memcpy(d, path, (size_t)(slash - path));
        d[slash - path] = '\0';
    }
    return d;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Maps path read-only; the mapping is owned by w. */
static int map_file(vnp_weights *w, const char *path, const uint8_t **data, size_t *size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        vnp_error("cannot open '%s': %s", path, strerror(errno));
        return errno == ENOENT ? VNP_ERR_NOTFOUND : VNP_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        vnp_error("'%s' is not a regular file", path);
        close(fd);
        return VNP_ERR_IO;
    }
    if (st.st_size == 0 || (uint64_t)st.st_size > SIZE_MAX) {
        vnp_error("%s: the file is empty", path);
        close(fd);
        return VNP_ERR_FORMAT;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd);
    if (p == MAP_FAILED) {
        vnp_error("cannot map '%s': %s", path, strerror(err));
        return VNP_ERR_IO;
    }
    *data = p;
    *size = (size_t)st.st_size;
    return vnp_wt_own(w, p, (size_t)st.st_size, 1);
}

/* Reads a small text file (NUL-terminated): config.json, index files. */
static int read_small(const char *path, char **text, size_t *len)
{
    vnp_buf b = {0};
    int rc = vnp_read_file(path, MAX_SMALL_FILE, &b);
    if (rc) return rc;
    *text = b.data;
    *len = b.len;
    return VNP_OK;
}

static int load_index(vnp_weights *w, const char *path);

/* One weights file, by its magic bytes. */
static int load_file(vnp_weights *w, const char *path, int allow_index)
{
    if (allow_index && ends_with(path, ".json")) return load_index(w, path);
    const uint8_t *d;
    size_t n;
    int rc = map_file(w, path, &d, &n);
    if (rc) return rc;
    if (n >= 4 && memcmp(d, "PK\3\4", 4) == 0) {
        w->format = "pytorch-zip";
        return vnp_torch_parse_mem(w, d, n, path);
    }
    if (n >= 9 && d[8] == '{') {
        w->format = "safetensors";
        return vnp_safetensors_parse_mem(w, d, n, path);
    }
    if (n >= 2 && d[0] == 0x80 && d[1] <= 5) {
        vnp_error("%s: a legacy (before PyTorch 1.6) pickle checkpoint; load it in Python and re-save it with "
                  "torch.save(obj, path) to get the zip format",
                  path);
        return VNP_ERR_UNSUPPORTED;
    }
    vnp_error("%s: byte 0: neither a safetensors file nor a PyTorch zip checkpoint (first bytes %02x %02x %02x %02x)",
              path, d[0], n > 1 ? d[1] : 0, n > 2 ? d[2] : 0, n > 3 ? d[3] : 0);
    return VNP_ERR_FORMAT;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Checks that every name the index puts in shard `file` is among the raw names w->t[first..n). */
static int check_shard_names(vnp_weights *w, json_t *map, const char *file, size_t first, const char *path)
{
    size_t cnt = w->n - first;
    const char **names = vnp_malloc_array(cnt ? cnt : 1, sizeof *names);
    if (!names) return VNP_ERR_NOMEM;
    for (size_t i = 0; i < cnt; i++) names[i] = w->t[first + i].name;
    qsort(names, cnt, sizeof *names, cmp_str);
    const char *key;
    json_t *v;
    int rc = VNP_OK;
    json_object_foreach(map, key, v) {
        if (strcmp(json_string_value(v), file) != 0) continue;
        if (!bsearch(&key, names, cnt, sizeof *names, cmp_str)) {
            vnp_error("%s: weight_map puts '%s' in '%s', which does not hold it", path, key, file);
            rc = VNP_ERR_FORMAT;
            break;
        }
    }
    free(names);
    return rc;
}

/* A sharded checkpoint: {"weight_map": {"name": "shard file", ...}} beside the shards. */
static int load_index(vnp_weights *w, const char *path)
{
    char *text = NULL, *dir = NULL;
    size_t len;
    const char **files = NULL;
    int rc = read_small(path, &text, &len);
    if (rc) return rc;
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err), *map;
    if (!root) {
        vnp_error("%s: byte %d: %s", path, err.position, err.text);
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    map = json_object_get(root, "weight_map");
    if (!json_is_object(map) || json_object_size(map) == 0) {
        vnp_error("%s: no \"weight_map\" object with entries (not a sharded checkpoint index)", path);
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    size_t nfiles = 0, cap = json_object_size(map) < MAX_SHARDS ? json_object_size(map) : MAX_SHARDS;
    files = vnp_malloc_array(cap, sizeof *files);
    dir = dir_of(path);
    rc = VNP_ERR_NOMEM;
    if (!files || !dir) goto done;
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v) {
        const char *f = json_string_value(v);
        if (!f || !*f || strchr(f, '/') || strcmp(f, "..") == 0 || strcmp(f, ".") == 0) {
            vnp_error("%s: weight_map entry '%s' is not a plain file name in the index's folder", path, key);
            rc = VNP_ERR_FORMAT;
            goto done;
        }
        size_t i = 0;
        while (i < nfiles && strcmp(files[i], f) != 0) i++;
        if (i < nfiles) continue;
        if (nfiles == cap) {
            vnp_error("%s: more than %d shard files", path, MAX_SHARDS);
            rc = VNP_ERR_FORMAT;
            goto done;
        }
        files[nfiles++] = f;
    }
    for (size_t i = 0; i < nfiles; i++) {
        char *shard = path_join(dir, files[i]);
        if (!shard) {
            rc = VNP_ERR_NOMEM;
            goto done;
        }
        size_t first = w->n;
        rc = load_file(w, shard, 0);
        if (rc == VNP_OK) rc = check_shard_names(w, map, files[i], first, path);
        free(shard);
        if (rc) goto done;
    }
    w->format = strcmp(w->format, "safetensors") == 0 ? "safetensors-sharded" : "pytorch-zip-sharded";
    rc = VNP_OK;
done:
    json_decref(root);
    free(files);
    free(dir);
    free(text);
    return rc;
}

/* The weights file of a folder, in order of preference; NULL (after a message) when none or several. */
static char *resolve_dir(const char *dir)
{
    static const char *known[] = {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                                  "pytorch_model.bin.index.json"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        char *p = path_join(dir, known[i]);
        if (!p || is_file(p)) return p;
        free(p);
    }
    /* Otherwise exactly one candidate of a kind: an index, a .safetensors, or a .pt/.pth/.bin. */
    static const char *kinds[][3] = {{".safetensors.index.json", ".bin.index.json", NULL},
                                     {".safetensors", NULL, NULL},
                                     {".pt", ".pth", ".bin"}};
    for (size_t k = 0; k < 3; k++) {
        DIR *d = opendir(dir);
        if (!d) {
            vnp_error("cannot read folder '%s': %s", dir, strerror(errno));
            return NULL;
        }
        char *found = NULL;
        int count = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int match = 0;
            for (int s = 0; s < 3 && kinds[k][s]; s++) match |= ends_with(e->d_name, kinds[k][s]);
            char *p = match ? path_join(dir, e->d_name) : NULL;
            if (p && is_file(p) && count++ == 0) {
                found = p;
                continue;
            }
            free(p);
        }
        closedir(d);
        if (count == 1) return found;
        free(found);
        if (count > 1) {
            vnp_error("folder '%s' holds several candidate weights files (%s...); name the file to use", dir,
                      kinds[k][0]);
            return NULL;
        }
    }
    vnp_error("folder '%s' holds no model weights (model.safetensors, *.safetensors.index.json, pytorch_model.bin, "
              "*.safetensors, *.pt, *.pth)",
              dir);
    return NULL;
}

/* config.json in dir, when there: must be a JSON object when `strict`, else ignored with a warning. */
static int load_config(vnp_weights *w, const char *dir, int strict)
{
    char *p = path_join(dir, "config.json");
    if (!p) return VNP_ERR_NOMEM;
    int rc = VNP_OK;
    if (is_file(p)) {
        char *text;
        size_t len;
        rc = read_small(p, &text, &len);
        if (rc == VNP_OK) {
            json_error_t err;
            json_t *j = json_loadb(text, len, 0, &err);
            if (!json_is_object(j)) {
                if (strict) {
                    vnp_error("%s: byte %d: not a JSON object: %s", p, err.position, j ? "" : err.text);
                    rc = VNP_ERR_FORMAT;
                } else {
                    vnp_warn("%s: ignored (not a JSON object)", p);
                }
                free(text);
            } else {
                w->config = text;
            }
            json_decref(j);
        }
        if (!strict && rc != VNP_OK && rc != VNP_ERR_FORMAT) rc = VNP_OK;
    }
    free(p);
    return rc;
}

vnp_weights *vnp_weights_open(const char *path)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    vnp_error("%s: model files are little-endian; big-endian machines are not supported", path);
    return NULL;
#endif
    struct stat st;
    if (!path || stat(path, &st) != 0) {
        vnp_error("cannot open '%s': %s", path ? path : "(null)", strerror(errno));
        return NULL;
    }
    vnp_weights *w = vnp_wt_new(path);
    if (!w) return NULL;
    char *file = NULL, *dir = NULL;
    int rc;
    if (S_ISDIR(st.st_mode)) {
        file = resolve_dir(path);
        dir = vnp_strdup(path);
        rc = file && dir ? load_config(w, dir, 1) : VNP_ERR_NOTFOUND;
    } else {
        file = vnp_strdup(path);
        dir = dir_of(path);
        rc = file && dir ? load_config(w, dir, 0) : VNP_ERR_NOMEM;
    }
    if (rc == VNP_OK) rc = load_file(w, file, 1);
    if (rc == VNP_OK) rc = vnp_wt_finish(w, file);
    free(file);
    free(dir);
    if (rc) {
        vnp_weights_close(w);
        return NULL;
    }
    return w;
}
