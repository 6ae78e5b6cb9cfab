/* OUTDIR's guard: the lock that keeps one run (predict, merge, MPI rank 0) per output folder, and the removal of
 * what our runs made there (--force, a finished journal's blocks, stale temporary files), which never follows a
 * symbolic link and never touches a name we do not make.
 *
 * The lock is flock(2) on OUTDIR/.virnucpro/lock, held from before the models load until the process ends; the
 * kernel drops it on any death (kill -9 included), so a killed run can be resumed at once. The file holds
 * "<pid> <start time> <host>" of the holder for the message a second run prints. A holder that tidies away an
 * empty .virnucpro/ unlinks the lock file while still holding it, so whoever locks a file checks afterwards that
 * the name still leads to that very file (else it retries). */
#define _GNU_SOURCE /* O_DIRECTORY, O_NOFOLLOW, flock, fdopendir, dprintf: POSIX.1-2008 and BSD */
#include "pipeline_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vnp/io.h"

struct vnp_outdir_lock {
    char *outdir;
    int fd;          /* the locked file */
    int made_outdir; /* OUTDIR did not exist before: removed again when the run left nothing in it */
};

/* The files of a finished run in OUTDIR (--force removes them; a stale "<name>.tmp.<pid>" of each is ours). */
static const char *const final_files[] = {
    "prediction_results.txt", "prediction_results_highestscore.csv", "sequence_summary.tsv", "run_summary.json",
    "embeddings.h5", "chunked.fa", "identified_nucleotide.fa", "identified_protein.faa",
    "viral_regions.tsv",      "report.html",
};
#define N_FINAL (sizeof final_files / sizeof final_files[0])

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* "<base>.tmp.<digits>": what vnp_outfile and the HDF5 writer leave when killed before renaming. */
static int is_tmp_of(const char *name, const char *base)
{
    size_t n = strlen(base);
    return strncmp(name, base, n) == 0 && strncmp(name + n, ".tmp.", 5) == 0 && all_digits(name + n + 5);
}

static int is_final_tmp(const char *name)
{
    for (size_t i = 0; i < N_FINAL; i++)
        if (is_tmp_of(name, final_files[i])) return 1;
    return 0;
}

static int is_final_or_tmp(const char *name)
{
    for (size_t i = 0; i < N_FINAL; i++)
        if (strcmp(name, final_files[i]) == 0) return 1;
    return is_final_tmp(name);
}

static int is_run_json_tmp(const char *name) { return is_tmp_of(name, "run.json"); }

/* An intermediate file of the consensus merge in blocks/: "merge<pass>_<group>" (report/consensus.c). */
static int is_merge_file(const char *name)
{
    if (strncmp(name, "merge", 5) != 0) return 0;
    const char *p = name + 5, *u = strchr(p, '_');
    if (!u || u == p) return 0;
    for (; p < u; p++)
        if (*p < '0' || *p > '9') return 0;
    return all_digits(u + 1);
}

/* A block entry: "NNNNNNNN." then lowercase letters, digits, '_' and '.' (parts, done markers, their temporary
 * names), or a consensus merge's intermediate file. */
static int is_block_entry(const char *name)
{
    if (is_merge_file(name)) return 1;
    for (int i = 0; i < 8; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    if (name[8] != '.' || !name[9]) return 0;
    for (const char *p = name + 9; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.')) return 0;
    return 1;
}

/* A block entry left by a killed writer: a temporary part, or an intermediate file of the consensus merge. */
static int is_block_stale(const char *name)
{
    return is_merge_file(name) || (is_block_entry(name) && strstr(name, ".tmp."));
}

/* Opens folder `name` under at without following a symbolic link. 1 and *fd when it is a folder, 0 when absent,
 * VNP_ERR_USAGE (logged, naming `shown`) when it is a link or something else. */
static int open_dir_nofollow(int at, const char *name, const char *shown, int *fd)
{
    *fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd >= 0) return 1;
    if (errno == ENOENT) return 0;
    if (errno == ELOOP || errno == ENOTDIR) {
        struct stat st;
        int link = fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
        vnp_error("'%s' is %s; virnucpro neither writes nor deletes through it: remove it yourself or choose "
                  "another OUTDIR", shown, link ? "a symbolic link" : "not a folder");
        return VNP_ERR_USAGE;
    }
    vnp_error("cannot open '%s': %s", shown, strerror(errno));
    return VNP_ERR_IO;
}

static int open_outdir(const char *outdir)
{
    int fd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) vnp_error("cannot open the output folder '%s': %s", outdir, strerror(errno));
    return fd;
}

/* Removes the entries of folder fd (shown as `shown`) whose names `ours` accepts: unlinkat removes a symbolic link
 * itself, never what it points to; a folder under one of our names is not ours and is refused. */
static int remove_matching(int fd, const char *shown, int (*ours)(const char *))
{
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0) close(dfd);
        vnp_error("cannot read '%s': %s", shown, strerror(errno));
        return VNP_ERR_IO;
    }
    int rc = VNP_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (!ours(e->d_name)) continue;
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
            vnp_error("'%s/%s' is a folder virnucpro did not make; remove it yourself", shown, e->d_name);
            rc = VNP_ERR_USAGE;
            continue;
        }
        if (unlinkat(fd, e->d_name, 0) != 0 && errno != ENOENT) {
            vnp_error("cannot remove '%s/%s': %s", shown, e->d_name, strerror(errno));
            if (rc == VNP_OK) rc = VNP_ERR_IO;
        }
    }
    closedir(d);
    return rc;
}

/* Opens OUTDIR (fd), its .virnucpro (vfd, -1 when absent) and blocks/ (bfd, -1 when absent); refuses links. */
typedef struct {
    int fd, vfd, bfd;
    char vshown[4096], bshown[4096];
} outdir_fds;

static void fds_close(outdir_fds *d)
{
    if (d->bfd >= 0) close(d->bfd);
    if (d->vfd >= 0) close(d->vfd);
    if (d->fd >= 0) close(d->fd);
}

static int fds_open(outdir_fds *d, const char *outdir)
{
    d->vfd = d->bfd = -1;
    snprintf(d->vshown, sizeof d->vshown, "%s/.virnucpro", outdir);
    snprintf(d->bshown, sizeof d->bshown, "%s/.virnucpro/blocks", outdir);
    if ((d->fd = open_outdir(outdir)) < 0) return VNP_ERR_IO;
    int rc = open_dir_nofollow(d->fd, ".virnucpro", d->vshown, &d->vfd);
    if (rc == 1) rc = open_dir_nofollow(d->vfd, "blocks", d->bshown, &d->bfd);
    if (rc < 0) fds_close(d);
    return rc < 0 ? rc : VNP_OK;
}

int vnp_outdir_remove_results(const char *outdir)
{
    outdir_fds d;
    int rc = fds_open(&d, outdir);
    if (rc) return rc;
    if (d.bfd >= 0) {
        rc = remove_matching(d.bfd, d.bshown, is_block_entry);
        if (rc == VNP_OK && unlinkat(d.vfd, "blocks", AT_REMOVEDIR) != 0 && errno != ENOENT)
            vnp_warn("'%s' keeps files virnucpro did not make; they were left in place", d.bshown);
    }
    if (d.vfd >= 0) {
        int r2 = remove_matching(d.vfd, d.vshown, is_run_json_tmp);
        if (rc == VNP_OK) rc = r2;
        if (unlinkat(d.vfd, "run.json", 0) != 0 && errno != ENOENT) {
            vnp_error("cannot remove '%s/run.json': %s", d.vshown, strerror(errno));
            if (rc == VNP_OK) rc = VNP_ERR_IO;
        }
    }
    int r3 = remove_matching(d.fd, outdir, is_final_or_tmp);
    if (rc == VNP_OK) rc = r3;
    fds_close(&d);
    return rc;
}

int vnp_outdir_remove_blocks(const char *outdir)
{
    outdir_fds d;
    int rc = fds_open(&d, outdir);
    if (rc) return rc;
    if (d.bfd >= 0) {
        rc = remove_matching(d.bfd, d.bshown, is_block_entry);
        if (rc == VNP_OK && unlinkat(d.vfd, "blocks", AT_REMOVEDIR) != 0 && errno != ENOENT)
            vnp_warn("'%s' keeps files virnucpro did not make; they were left in place", d.bshown);
    }
    fds_close(&d);
    return rc;
}

int vnp_outdir_remove_stale(const char *outdir)
{
    outdir_fds d;
    int rc = fds_open(&d, outdir);
    if (rc) return rc;
    rc = remove_matching(d.fd, outdir, is_final_tmp);
    if (rc == VNP_OK && d.vfd >= 0) rc = remove_matching(d.vfd, d.vshown, is_run_json_tmp);
    if (rc == VNP_OK && d.bfd >= 0) rc = remove_matching(d.bfd, d.bshown, is_block_stale);
    fds_close(&d);
    return rc;
}

int vnp_outdir_has_final(const char *outdir)
{
    int fd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    int found = 0;
    struct stat st;
    for (size_t i = 0; i < N_FINAL && !found; i++)
        found = fstatat(fd, final_files[i], &st, AT_SYMLINK_NOFOLLOW) == 0;
    close(fd);
    return found;
}

int vnp_outdir_has_committed_block(const char *outdir)
{
    outdir_fds d;
    if (fds_open(&d, outdir)) return 0;
    if (d.bfd < 0) {
        fds_close(&d);
        return 0;
    }
    int dfd = dup(d.bfd), found = 0;
    DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
    for (struct dirent *e; dir && !found && (e = readdir(dir));) {
        size_t n = strlen(e->d_name);
        found = is_block_entry(e->d_name) && n == 13 && strcmp(e->d_name + 8, ".done") == 0;
    }
    if (dir)
        closedir(dir);
    else if (dfd >= 0)
        close(dfd);
    fds_close(&d);
    return found;
}

/* ---- the lock ---- */

/* Says who holds the lock file fd. */
static void describe_holder(int fd, const char *outdir)
{
    char buf[512] = "";
    long pid = 0;
    long long t = 0;
    char host[256] = "", me[256] = "", when[64] = "an unknown time";
    int k = 0;
    /* a holder writes who it is right after locking: give it a moment (at most 0.2 s) */
    for (int i = 0; i < 40 && k < 3; i++) {
        if (i) nanosleep(&(struct timespec){0, 5000000}, NULL);
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        k = n > 0 && buf[n - 1] == '\n' ? sscanf(buf, "%ld %lld %255s", &pid, &t, host) : 0;
    }
    if (k >= 2) {
        time_t tt = (time_t)t;
        struct tm tm;
        if (localtime_r(&tt, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
    }
    gethostname(me, sizeof me - 1);
    char where[300] = "";
    if (k == 3 && strcmp(host, me) != 0) snprintf(where, sizeof where, " on host %s", host);
    if (k >= 2)
        vnp_error("'%s' is in use by process %ld%s (started %s): one run at a time per output folder; wait for it "
                  "to finish, or stop it and rerun with --resume", outdir, pid, where, when);
    else
        vnp_error("'%s' is in use by another virnucpro process (just starting): one run at a time per output "
                  "folder", outdir);
}

/* Creates OUTDIR (as the run would) and checks that it can be written. *made: it did not exist. */
static int make_outdir(const char *outdir, int *made)
{
    struct stat st;
    *made = stat(outdir, &st) != 0;
    /* An OUTDIR that cannot be made is a failure while running (exit 1), whatever errno said. */
    int rc = vnp_mkdir_p(outdir);
    if (rc) return rc == VNP_ERR_NOMEM ? rc : VNP_ERR_IO;
    if (access(outdir, W_OK) != 0) {
        vnp_error("output directory '%s' is not writable: %s", outdir, strerror(errno));
        return VNP_ERR_IO;
    }
    return VNP_OK;
}

/* One attempt: 1 locked (*lfd), 0 the file was replaced meanwhile (try again), < 0 refused or failed. */
static int try_lock(int odfd, const char *outdir, int *lfd)
{
    char vshown[4096];
    snprintf(vshown, sizeof vshown, "%s/.virnucpro", outdir);
    if (mkdirat(odfd, ".virnucpro", 0777) != 0 && errno != EEXIST) {
        vnp_error("cannot create '%s': %s", vshown, strerror(errno));
        return VNP_ERR_IO;
    }
    int vfd;
    int rc = open_dir_nofollow(odfd, ".virnucpro", vshown, &vfd);
    if (rc == 0) return 0; /* removed meanwhile by a holder tidying up */
    if (rc < 0) return rc;
    struct stat vst, a, b;
    if (fstat(vfd, &vst) != 0 || vst.st_uid != geteuid()) {
        vnp_error("'%s' belongs to user %ld, not to this user (%ld): virnucpro will not use it; choose another "
                  "OUTDIR", vshown, (long)vst.st_uid, (long)geteuid());
        close(vfd);
        return VNP_ERR_USAGE;
    }
    int fd = openat(vfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        vnp_error("cannot open the lock file '%s/lock': %s", vshown,
                  errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        close(vfd);
        return errno == ELOOP ? VNP_ERR_USAGE : VNP_ERR_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            describe_holder(fd, outdir);
        else
            vnp_error("cannot lock '%s/lock': %s", vshown, strerror(e));
        close(fd);
        close(vfd);
        return e == EWOULDBLOCK ? VNP_ERR_USAGE : VNP_ERR_IO;
    }
    struct stat v2;
    int same = fstat(fd, &a) == 0 && fstatat(vfd, "lock", &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
               a.st_dev == b.st_dev && fstatat(odfd, ".virnucpro", &v2, AT_SYMLINK_NOFOLLOW) == 0 &&
               v2.st_ino == vst.st_ino && v2.st_dev == vst.st_dev;
    close(vfd);
    if (!same) {
        close(fd);
        return 0;
    }
    *lfd = fd;
    return 1;
}

int vnp_outdir_lock_take(const char *outdir, vnp_outdir_lock **out)
{
    *out = NULL;
    int made = 0;
    int rc = make_outdir(outdir, &made);
    if (rc) return rc;
    int odfd = open_outdir(outdir);
    if (odfd < 0) return VNP_ERR_IO;
    int fd = -1;
    for (int attempt = 0; attempt < 1000 && (rc = try_lock(odfd, outdir, &fd)) == 0; attempt++) continue;
    close(odfd);
    if (rc == 0) {
        vnp_error("cannot lock '%s/.virnucpro/lock': it keeps being replaced", outdir);
        return VNP_ERR_IO;
    }
    if (rc < 0) return rc;
    char me[256] = "";
    gethostname(me, sizeof me - 1);
    if (ftruncate(fd, 0) != 0 || dprintf(fd, "%ld %lld %s\n", (long)getpid(), (long long)time(NULL), me) < 0)
        vnp_warn("cannot record this process in '%s/.virnucpro/lock': %s", outdir, strerror(errno));
    vnp_outdir_lock *l = calloc(1, sizeof *l);
    if (l) l->outdir = vnp_strdup(outdir);
    if (!l || !l->outdir) {
        free(l);
        close(fd);
        return VNP_ERR_NOMEM;
    }
    l->fd = fd;
    l->made_outdir = made;
    *out = l;
    return VNP_OK;
}

void vnp_outdir_lock_release(vnp_outdir_lock *l)
{
    if (!l) return;
    /* A run that left no journal (it failed before committing anything) leaves OUTDIR as it found it. */
    int odfd = open(l->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), vfd = -1;
    struct stat st;
    if (odfd >= 0 && (vfd = openat(odfd, ".virnucpro", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
        fstatat(vfd, "run.json", &st, AT_SYMLINK_NOFOLLOW) != 0 &&
        (unlinkat(vfd, "blocks", AT_REMOVEDIR) == 0 || errno == ENOENT)) {
        unlinkat(vfd, "lock", 0);
        if (unlinkat(odfd, ".virnucpro", AT_REMOVEDIR) == 0 && l->made_outdir) rmdir(l->outdir);
    }
    if (vfd >= 0) close(vfd);
    if (odfd >= 0) close(odfd);
    close(l->fd); /* releases the lock */
    free(l->outdir);
    free(l);
}
