/* `virnucpro models download`: fetches the released model files into the layout predict expects (libcurl),
 * resuming partial downloads, verifying SHA-256 where it is known, and publishing each file only when complete.
 *
 * Each file goes to "<final>.part" (locked while written), is resumed with "Range: bytes=<size>-" (206), restarted
 * when the server ignores the range (200), treated as complete when the server says the range starts at its end
 * (416 with "Content-Range: bytes * /<size>"), and renamed onto its final name once its size and hash check. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "vnp/opt.h"
#include "vnp/io.h"
#include "vnp/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *group;  /* --only name */
    const char *rel;    /* path under --dir */
    const char *url;
    const char *sha256; /* NULL: not published */
} model_file;

static const model_file files[] = {
    {"esm2", "esm2_t36_3B_UR50D.pt", "https://dl.fbaipublicfiles.com/fair-esm/models/esm2_t36_3B_UR50D.pt", NULL},
    {"dnabert", "DNABERT-S/config.json", "https://huggingface.co/zhihan1996/DNABERT-S/resolve/main/config.json",
     NULL},
    {"dnabert", "DNABERT-S/tokenizer.json",
     "https://huggingface.co/zhihan1996/DNABERT-S/resolve/main/tokenizer.json", NULL},
    {"dnabert", "DNABERT-S/tokenizer_config.json",
     "https://huggingface.co/zhihan1996/DNABERT-S/resolve/main/tokenizer_config.json", NULL},
    {"dnabert", "DNABERT-S/special_tokens_map.json",
     "https://huggingface.co/zhihan1996/DNABERT-S/resolve/main/special_tokens_map.json", NULL},
    {"dnabert", "DNABERT-S/pytorch_model.bin",
     "https://huggingface.co/zhihan1996/DNABERT-S/resolve/main/pytorch_model.bin",
     "f3cfc3d0541859df64759e758cc4bc40fe1d5760799a7d098a9f9f09501c1e5f"},
    {"classifier", "300_model.pth", "https://github.com/Li-Jing-1997/VirNucPro/raw/main/300_model.pth", NULL},
    {"classifier", "500_model.pth", "https://github.com/Li-Jing-1997/VirNucPro/raw/main/500_model.pth", NULL},
};
#define N_FILES (sizeof files / sizeof files[0])
#define MAX_ATTEMPTS 4 /* transfers cut by the network are resumed this many times in all */

/* ---- one transfer ---- */

typedef struct {
    const char *url, *part, *label;
    int fd;
    long long offset;         /* .part size when the request was sent (the Range start) */
    long long written;        /* body bytes written by this request */
    int opened;               /* body started: fd positioned for this response */
    int restarted;            /* the server ignored the range: .part was truncated */
    long status;              /* of the latest response header block */
    char reason[96];          /* its reason phrase */
    long long content_length; /* of the latest response, -1 unknown */
    long long cr_start, cr_total; /* its Content-Range, -1 unknown */
    int write_errno;          /* a failed write(): disk full, ... */
    char range_error[160];    /* a 206 that does not continue our bytes */
    int progress;             /* a terminal progress line */
    double t0, last;
} xfer;

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
    xfer *x = ctx;
    size_t len = size * n;
    char line[512];
    size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, buf, l);
    line[l] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "HTTP/", 5) == 0) { /* a new response (after a redirect, or a 100) */
        const char *sp = strchr(line, ' ');
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        const char *rp = sp ? strchr(sp + 1, ' ') : NULL;
        snprintf(x->reason, sizeof x->reason, "%s", rp ? rp + 1 : "");
        x->content_length = x->cr_start = x->cr_total = -1;
    } else if (strncasecmp(line, "content-length:", 15) == 0) {
        x->content_length = strtoll(line + 15, NULL, 10);
    } else if (strncasecmp(line, "content-range:", 14) == 0) {
        const char *p = line + 14;
        while (*p == ' ') p++;
        if (strncasecmp(p, "bytes ", 6) == 0) {
            p += 6;
            if (*p != '*') x->cr_start = strtoll(p, NULL, 10);
            const char *slash = strchr(p, '/');
            if (slash && slash[1] != '*') x->cr_total = strtoll(slash + 1, NULL, 10);
        }
    }
    return len;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ctx)
{
    xfer *x = ctx;
    size_t len = size * n;
    if (x->status < 200 || x->status >= 300) return len; /* a redirect's or an error page's body */
    if (!x->opened) {
        if (x->status == 206) {
            if (x->cr_start != x->offset) {
                snprintf(x->range_error, sizeof x->range_error, "asked for bytes from %lld, got a range from %lld",
                         x->offset, x->cr_start);
                return 0;
            }
            if (lseek(x->fd, 0, SEEK_END) < 0) goto fail;
        } else { /* 200: the whole file, whatever we asked for */
            if (x->offset > 0) x->restarted = 1;
            if (ftruncate(x->fd, 0) != 0 || lseek(x->fd, 0, SEEK_SET) < 0) goto fail;
            x->offset = 0;
        }
        x->opened = 1;
    }
    if (write_all(x->fd, buf, len) != 0) goto fail;
    x->written += (long long)len;
    return len;
fail:
    x->write_errno = errno ? errno : EIO;
    return 0;
}

static void human(double b, char *out, size_t cap)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024.0 && u < 4) {
        b /= 1024.0;
        u++;
    }
    snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void draw_progress(xfer *x, int final)
{
    double now = vnp_time_now(), el = now - x->t0;
    long long have = x->offset + x->written;
    long long total = x->opened && x->status == 206 ? x->cr_total
                      : x->content_length >= 0 && x->status >= 200 && x->status < 300 ? x->offset + x->content_length
                                                                                     : -1;
    double rate = el > 0 ? (double)x->written / el : 0;
    char h[32], t[32], r[32], eta[32] = "";
    human((double)have, h, sizeof h);
    human(rate, r, sizeof r);
    if (total > 0) {
        human((double)total, t, sizeof t);
        if (rate > 0 && !final) {
            long s = (long)((double)(total - have) / rate);
            snprintf(eta, sizeof eta, "  ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
        }
        fprintf(stderr, "\r  %s  %s / %s (%.0f%%)  %s/s%s\033[K", x->label, h, t,
                100.0 * (double)have / (double)total, r, eta);
    } else {
        fprintf(stderr, "\r  %s  %s  %s/s\033[K", x->label, h, r);
    }
    if (final) fputc('\n', stderr);
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    xfer *x = ctx;
    double now = vnp_time_now();
    if (x->progress && x->opened && now - x->last >= 0.25) {
        x->last = now;
        draw_progress(x, 0);
    }
    return 0;
}

typedef enum { XF_DONE, XF_RETRY, XF_FAIL } xf_result;

/* One request for the rest of x->part. */
static xf_result transfer_once(CURL *h, xfer *x)
{
    struct stat st;
    if (fstat(x->fd, &st) != 0) {
        fprintf(stderr, "virnucpro models download: error: %s: %s\n", x->part, strerror(errno));
        return XF_FAIL;
    }
    x->offset = (long long)st.st_size;
    x->written = 0;
    x->opened = 0;
    x->status = 0;
    x->reason[0] = x->range_error[0] = '\0';
    x->write_errno = 0;
    x->content_length = x->cr_start = x->cr_total = -1;
    x->t0 = x->last = vnp_time_now();
    curl_easy_setopt(h, CURLOPT_URL, x->url);
    /* CURLOPT_RANGE rather than RESUME_FROM: a server that ignores the range then answers 200, which restarts the
     * file, instead of libcurl failing with CURLE_RANGE_ERROR. */
    char range[32];
    snprintf(range, sizeof range, "%lld-", x->offset);
    curl_easy_setopt(h, CURLOPT_RANGE, x->offset > 0 ? range : NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    if (x->offset > 0) fprintf(stderr, "  %s: resuming from %lld bytes\n", x->label, x->offset);
    CURLcode rc = curl_easy_perform(h);
    if (x->progress && x->opened) draw_progress(x, 1);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (x->write_errno) {
        fprintf(stderr, "virnucpro models download: error: cannot write %s: %s\n", x->part, strerror(x->write_errno));
        return XF_FAIL;
    }
    if (x->range_error[0]) {
        fprintf(stderr, "virnucpro models download: error: %s: %s\n", x->url, x->range_error);
        return XF_FAIL;
    }
    if (code == 416 && x->offset > 0) {
        if (x->cr_total == x->offset) return XF_DONE; /* .part already holds the whole file */
        fprintf(stderr, "  %s: the server refuses to resume from %lld bytes; starting again\n", x->label, x->offset);
        if (ftruncate(x->fd, 0) != 0) {
            fprintf(stderr, "virnucpro models download: error: %s: %s\n", x->part, strerror(errno));
            return XF_FAIL;
        }
        return XF_RETRY;
    }
    if (code >= 300 || (rc == CURLE_OK && code < 200)) {
        fprintf(stderr, "virnucpro models download: error: %s: HTTP %ld%s%s\n", x->url, code, x->reason[0] ? " " : "",
                x->reason);
        return XF_FAIL;
    }
    if (rc != CURLE_OK) {
        int transient = rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
                        rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING || rc == CURLE_HTTP2_STREAM;
        fprintf(stderr, "virnucpro models download: %s: %s: %s (%lld bytes so far)\n", transient ? "warning" : "error",
                x->url, curl_easy_strerror(rc), x->offset + x->written);
        return transient ? XF_RETRY : XF_FAIL;
    }
    if (x->restarted) fprintf(stderr, "  %s: the server ignored the range request; downloaded from the start\n", x->label);
    long long expect = code == 206 ? x->cr_total : x->content_length >= 0 ? x->offset + x->content_length : -1;
    if (fstat(x->fd, &st) != 0) return XF_FAIL;
    if (expect >= 0 && (long long)st.st_size != expect) {
        fprintf(stderr, "virnucpro models download: warning: %s: the transfer ended at %lld of %lld bytes\n", x->url,
                (long long)st.st_size, expect);
        return XF_RETRY;
    }
    return XF_DONE;
}

/* ---- one file ---- */

typedef struct {
    const char *dir, *base_url;
    char **sha_rel, **sha_hex; /* --sha256 overrides */
    int n_sha;
    int quiet;
} dl_opts;

static const char *expected_sha(const dl_opts *o, const model_file *f)
{
    for (int i = o->n_sha - 1; i >= 0; i--)
        if (strcmp(o->sha_rel[i], f->rel) == 0) return o->sha_hex[i];
    return f->sha256;
}

static char *join3(const char *a, const char *sep, const char *b, const char *suffix)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + strlen(suffix) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s%s", a, sep, b, suffix);
    return s;
}

/* Verifies the hash of a complete .part and renames it; a wrong file is removed, so that a rerun starts over. */
static int publish(const char *part, const char *final, const char *want)
{
    if (want) {
        char got[65];
        if (vnp_sha256_file(part, got) != 0) return 1;
        if (strcasecmp(got, want) != 0) {
            fprintf(stderr, "virnucpro models download: error: %s: SHA-256 mismatch: expected %s, got %s; the file "
                            "was removed\n", final, want, got);
            unlink(part);
            return 1;
        }
    }
    if (rename(part, final) != 0) {
        fprintf(stderr, "virnucpro models download: error: cannot rename %s to %s: %s\n", part, final, strerror(errno));
        return 1;
    }
    return 0;
}

/* Returns 0 when the file is now present (downloaded or already there), 1 after a message otherwise. */
static int fetch(CURL *h, const dl_opts *o, const model_file *f, long long *bytes, int *skipped)
{
    int ret = 1, fd = -1;
    char *final = join3(o->dir, "/", f->rel, ""), *part = join3(o->dir, "/", f->rel, ".part");
    char *url = o->base_url ? join3(o->base_url, "/", f->rel, "") : vnp_strdup(f->url);
    char *parent = final ? vnp_strdup(final) : NULL;
    if (!final || !part || !url || !parent) {
        fprintf(stderr, "virnucpro models download: error: out of memory\n");
        goto out;
    }
    struct stat st;
    if (stat(final, &st) == 0) {
        fprintf(stderr, "  %s: already present\n", f->rel);
        *skipped = 1;
        ret = 0;
        goto out;
    }
    *strrchr(parent, '/') = '\0';
    if (vnp_mkdir_p(parent) != 0) goto out;
    fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "virnucpro models download: error: cannot open %s: %s\n", part, strerror(errno));
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "virnucpro models download: error: %s is being written by another download\n", part);
        close(fd);
        fd = -1;
        goto out;
    }
    xfer x = {.url = url, .part = part, .label = f->rel, .fd = fd, .progress = !o->quiet && isatty(STDERR_FILENO)};
    if (!x.progress) fprintf(stderr, "  %s: %s\n", f->rel, url);
    xf_result r = XF_RETRY;
    for (int attempt = 1; attempt <= MAX_ATTEMPTS && r == XF_RETRY; attempt++) {
        if (attempt > 1) sleep((unsigned)(attempt - 1));
        r = transfer_once(h, &x);
    }
    if (r != XF_DONE) {
        if (r == XF_RETRY)
            fprintf(stderr, "virnucpro models download: error: %s: gave up after %d attempts; run the command again to "
                            "resume\n", url, MAX_ATTEMPTS);
        if (fstat(fd, &st) == 0 && st.st_size == 0) unlink(part); /* nothing worth resuming */
        goto out;
    }
    if (fsync(fd) != 0) {
        fprintf(stderr, "virnucpro models download: error: cannot write %s: %s\n", part, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) st.st_size = 0;
    /* The lock is held until the rename is done. */
    if (publish(part, final, expected_sha(o, f)) != 0) goto out;
    *bytes += (long long)st.st_size;
    if (!x.progress) fprintf(stderr, "  %s: done, %lld bytes\n", f->rel, (long long)st.st_size);
    ret = 0;
out:
    if (fd >= 0) close(fd);
    free(final);
    free(part);
    free(url);
    free(parent);
    return ret;
}

/* ---- options ---- */

static int parse_only(const char *arg, unsigned *mask)
{
    char *s = vnp_strdup(arg), *save = NULL;
    if (!s) return -1;
    int rc = 0;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "esm2") || !strcmp(t, "esm"))
            *mask |= 1u;
        else if (!strcmp(t, "dnabert") || !strcasecmp(t, "dnabert-s") || !strcasecmp(t, "dnabert_s"))
            *mask |= 2u;
        else if (!strcmp(t, "classifier"))
            *mask |= 4u;
        else
            rc = -1;
    }
    free(s);
    return rc;
}

static unsigned group_bit(const char *g) { return !strcmp(g, "esm2") ? 1u : !strcmp(g, "dnabert") ? 2u : 4u; }

static int parse_sha(dl_opts *o, char *arg)
{
    char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || strlen(eq + 1) != 64 || strspn(eq + 1, "0123456789abcdefABCDEF") != 64) return -1;
    int known = 0;
    for (size_t i = 0; i < N_FILES; i++)
        if (strlen(files[i].rel) == (size_t)(eq - arg) && !strncmp(files[i].rel, arg, (size_t)(eq - arg))) known = 1;
    if (!known) return -2;
    char **r = vnp_realloc_array(o->sha_rel, (size_t)o->n_sha + 1, sizeof *r);
    if (!r) return -1;
    o->sha_rel = r;
    char **hx = vnp_realloc_array(o->sha_hex, (size_t)o->n_sha + 1, sizeof *hx);
    if (!hx) return -1;
    o->sha_hex = hx;
    *eq = '\0'; /* argv strings are ours to split */
    o->sha_rel[o->n_sha] = arg;
    o->sha_hex[o->n_sha++] = eq + 1;
    return 0;
}

typedef struct {
    dl_opts o;
    unsigned only;
} download_args;

static int apply_only(void *dest, const char *v) { return parse_only(v, &((download_args *)dest)->only); }
/* the value is split at its '=' in place: argv strings are ours */
static int apply_sha(void *dest, const char *v) { return parse_sha(&((download_args *)dest)->o, (char *)(uintptr_t)v); }

#define D(f) offsetof(download_args, f)
static const vnp_opt download_opts[] = {
    {.name = "dir", .type = VNP_OPT_PATH, .arg = "DIR", .off = D(o.dir),
     .help = "where to put the files (default: $VIRNUCPRO_MODELS, else ./models)"},
    {.name = "only", .type = VNP_OPT_STRING, .arg = "GROUP", .apply = apply_only,
     .expects = "esm2, dnabert or classifier", .help = "only esm2, dnabert or classifier (repeat, or separate with commas)"},
    {.name = "base-url", .type = VNP_OPT_STRING, .arg = "URL", .off = D(o.base_url),
     .help = "fetch every file from URL/<path in the layout above> (a mirror, or a test server)"},
    {.name = "sha256", .type = VNP_OPT_STRING, .arg = "PATH=HEX", .apply = apply_sha,
     .expects = "PATH=<64 hex digits> with PATH a file of the layout",
     .help = "expect this SHA-256 for PATH (a layout path as above); replaces the built-in value (pins a file whose "
             "hash is not built in, or accepts a mirror's own file)"},
    {.name = "quiet", .short_opt = 'q', .type = VNP_OPT_FLAG, .off = D(o.quiet), .help = "no progress line"},
};
#undef D

const vnp_opt_cmd vnp_cli_models_download_cmd = {
    .name = "models download",
    .synopsis = "virnucpro models download [--dir DIR] [--only esm2|dnabert|classifier]... [options]",
    .about =
"Downloads the released model files into DIR (default: $VIRNUCPRO_MODELS, else ./models) with the layout\n"
"`virnucpro predict --models DIR` reads:\n"
"  esm2_t36_3B_UR50D.pt     ESM-2 3B (fair-esm), 5.7 GB     dl.fbaipublicfiles.com/fair-esm/models/\n"
"  DNABERT-S/               config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,\n"
"                           pytorch_model.bin               huggingface.co/zhihan1996/DNABERT-S\n"
"  300_model.pth, 500_model.pth  VirNucPro classifiers      github.com/Li-Jing-1997/VirNucPro\n"
"Files already present are skipped. A file is written as <name>.part and renamed when complete and verified\n"
"(SHA-256 where known), so an interrupted download is resumed by running the same command again.",
    .epilog =
"Proxies are taken from the usual environment variables (https_proxy, ...).\n"
"exit status: 0 every file present; 1 a download failed (message names the URL and the HTTP status);\n"
"2 bad usage\n",
    .opts = download_opts,
    .n_opts = VNP_OPT_COUNT(download_opts),
};

int vnp_cmd_models_download(int argc, char **argv)
{
    download_args a = {0};
    int ret = 2, first, prc = vnp_opt_parse(&vnp_cli_models_download_cmd, argc, argv, &a, &first);
    dl_opts o = a.o;
    unsigned only = a.only;
    char *base = NULL;
    if (prc) {
        ret = prc == 1 ? 0 : 2;
        goto out;
    }
    if (first < argc) {
        vnp_opt_usage_error("models download", "unexpected argument '%s'", argv[first]);
        goto out;
    }
    if (!o.dir && !(o.dir = vnp_cli_models_dir(NULL))) o.dir = "models";
    if (o.base_url) { /* without the trailing slashes: URL/<path> */
        if (!(base = vnp_strdup(o.base_url))) goto out;
        size_t n = strlen(base);
        while (n > 0 && base[n - 1] == '/') base[--n] = '\0';
        if (!n || !strstr(base, "://")) {
            vnp_opt_usage_error("models download", "--base-url expects a URL such as https://host/path, got '%s'",
                                o.base_url);
            goto out;
        }
        o.base_url = base;
    }
    if (!only) only = 7u;
    ret = 1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "virnucpro models download: error: cannot initialise libcurl\n");
        goto out;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        fprintf(stderr, "virnucpro models download: error: cannot initialise libcurl\n");
        curl_global_cleanup();
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "virnucpro/" VNP_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled connection gives up after a minute... */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L); /* ...and is resumed */
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024); /* fewer, larger write() calls */
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    fprintf(stderr, "virnucpro models download: into %s\n", o.dir);
    double t0 = vnp_time_now();
    long long bytes = 0;
    int failed = 0, present = 0, fetched = 0;
    for (size_t i = 0; i < N_FILES; i++) {
        if (!(only & group_bit(files[i].group))) continue;
        int skipped = 0;
        if (fetch(h, &o, &files[i], &bytes, &skipped) != 0)
            failed++;
        else if (skipped)
            present++;
        else
            fetched++;
    }
    curl_easy_cleanup(h);
    curl_global_cleanup();
    double dt = vnp_time_now() - t0;
    char hb[32], hr[32];
    human((double)bytes, hb, sizeof hb);
    human(dt > 0 ? (double)bytes / dt : 0, hr, sizeof hr);
    fprintf(stderr, "virnucpro models download: %d downloaded (%s in %.1f s, %s/s), %d already present, %d failed\n",
            fetched, hb, dt, hr, present, failed);
    ret = failed ? 1 : 0;
out:
    free(base);
    free(o.sha_rel);
    free(o.sha_hex);
    return ret;
}
