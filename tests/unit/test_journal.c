/* The run journal's integrity and OUTDIR's guard: done markers with checksums (written, parsed, damaged), the
 * OUTDIR lock (a second taker is refused, a released lock tidies up), and the progress line's arithmetic. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/pipeline_internal.h"
#include "vnp_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "vnp/io.h"

static char tmp[256];

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static void test_marker(void)
{
    char dir[300], path[512];
    snprintf(dir, sizeof dir, "%s/m", tmp);
    vnp_journal j;
    CHECK_EQ_INT(vnp_journal_open(&j, dir, "{}", 0, 0, NULL), VNP_OK);
    vnp_journal_part(&j, 3, "pred", path, sizeof path);
    put(path, "a\tb\n");
    vnp_journal_part(&j, 3, "seq", path, sizeof path);
    put(path, "row\n");
    vnp_block_counts c = {2, 5, 7, 900};
    CHECK_EQ_INT(vnp_journal_commit_block(&j, 3, &c, "rec_1"), VNP_OK);
    vnp_block_marker m;
    char why[4400];
    CHECK_EQ_INT(vnp_journal_block_check(&j, 3, &m, why, sizeof why), 1);
    CHECK_EQ_INT(m.n_parts, 2);
    CHECK_EQ_STR(m.first_id, "rec_1");
    CHECK_EQ_INT(m.counts.bases, 900);
    CHECK_EQ_INT(vnp_journal_block_done(&j, 3, 2, "rec_1", NULL), 1);
    CHECK_EQ_INT(vnp_journal_block_done(&j, 4, 2, "rec_9", NULL), 0); /* never committed */
    /* a part the marker does not list would be assembled unchecked: damaged */
    char cons[512];
    vnp_journal_part(&j, 3, "cons", cons, sizeof cons);
    put(cons, "x\n");
    CHECK_EQ_INT(vnp_journal_block_check(&j, 3, &m, why, sizeof why), VNP_ERR_FORMAT);
    CHECK(strstr(why, "not recorded") != NULL);
    unlink(cons);
    /* a part changed after the commit: the block is damaged, resume computes it again */
    put(path, "rox\n");
    CHECK_EQ_INT(vnp_journal_block_check(&j, 3, &m, why, sizeof why), VNP_ERR_FORMAT);
    CHECK(strstr(why, "00000003.seq") != NULL);
    vnp_log_set_level(VNP_LOG_QUIET);
    CHECK_EQ_INT(vnp_journal_block_done(&j, 3, 2, "rec_1", NULL), 0);
    vnp_journal_part(&j, 3, "done", path, sizeof path);
    CHECK(access(path, F_OK) != 0); /* its marker went */
    vnp_log_set_level(VNP_LOG_WARN);
    vnp_journal_close(&j);

    const char *why_s;
    const char body[] = "1 x 2 3 4\npart pred 4 0000abcd\n";
    char text[256];
    snprintf(text, sizeof text, "%send %08lx\n", body, crc32(0L, (const Bytef *)body, (uInt)strlen(body)));
    CHECK_EQ_INT(vnp_journal_marker_parse(text, strlen(text), &m, &why_s), VNP_OK);
    CHECK_EQ_INT(m.parts[0].crc, 0xabcd);
    text[0] = '2'; /* a flipped byte */
    CHECK_EQ_INT(vnp_journal_marker_parse(text, strlen(text), &m, &why_s), VNP_ERR_FORMAT);
    CHECK_EQ_INT(vnp_journal_marker_parse(text, strlen(text) - 1, &m, &why_s), VNP_ERR_FORMAT); /* truncated */
    static const char *const bad[] = {"", "1 x 2 3\n", "1 x 2 3 4\n", "1 x 2 3 4\nend 0000000\n",
                                      "-1 x 2 3 4\nend 00000000\n", "1 x 2 3 4\npart PRED 1 00000000\nend 00000000\n",
                                      "99999999999999999999999 x 2 3 4\nend 00000000\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(vnp_journal_marker_parse(bad[i], strlen(bad[i]), &m, &why_s), VNP_ERR_FORMAT);
}

static void test_lock(void)
{
    char dir[300], path[512];
    snprintf(dir, sizeof dir, "%s/l/out", tmp);
    vnp_outdir_lock *a = NULL, *b = NULL;
    CHECK_EQ_INT(vnp_outdir_lock_take(dir, &a), VNP_OK);
    vnp_log_set_level(VNP_LOG_QUIET);
    CHECK_EQ_INT(vnp_outdir_lock_take(dir, &b), VNP_ERR_USAGE); /* flock: another open file, another owner */
    vnp_log_set_level(VNP_LOG_WARN);
    CHECK(b == NULL);
    vnp_outdir_lock_release(a);
    struct stat st;
    CHECK(stat(dir, &st) != 0); /* nothing was written: the folder it made is gone */
    CHECK_EQ_INT(vnp_outdir_lock_take(dir, &a), VNP_OK);
    snprintf(path, sizeof path, "%s/.virnucpro/run.json", dir);
    put(path, "{}");
    vnp_outdir_lock_release(a);
    CHECK(stat(path, &st) == 0); /* a journal stays */
    /* a .virnucpro that is a symbolic link is refused */
    snprintf(dir, sizeof dir, "%s/l/linked", tmp);
    CHECK_EQ_INT(vnp_mkdir_p(dir), VNP_OK);
    snprintf(path, sizeof path, "%s/.virnucpro", dir);
    CHECK_EQ_INT(symlink(tmp, path), 0);
    vnp_log_set_level(VNP_LOG_QUIET);
    CHECK_EQ_INT(vnp_outdir_lock_take(dir, &a), VNP_ERR_USAGE);
    CHECK_EQ_INT(vnp_outdir_remove_results(dir), VNP_ERR_USAGE);
    vnp_log_set_level(VNP_LOG_WARN);
}

static const char *line(const vnp_progress *p, int final)
{
    static char buf[512];
    vnp_progress_format(buf, sizeof buf, p, final);
    return buf;
}

static void test_progress(void)
{
    /* half the input read, a quarter of the expected bases committed: 25% and 30 s left at 50 bases/s */
    vnp_progress p = {100, 300, 500, 0, 1000, 50, 100, 0, 10.0};
    CHECK_MSG(strstr(line(&p, 0), "  25% done  ETA 00:00:30  (input 50% read)") != NULL, "%s", line(&p, 0));
    /* the run: everything read, 12,000 of 18,710 bases scored after 34 s: 64%, not 100% */
    p = (vnp_progress){12000, 0, 12000, 0, 18710, 1000, 1000, 1, 34.0};
    CHECK_MSG(strstr(line(&p, 0), "  64% done  ETA 00:00:19") != NULL, "%s", line(&p, 0));
    CHECK(strstr(line(&p, 0), "read") == NULL);
    /* resumed blocks count as done but took no time: the rate is this run's own */
    p = (vnp_progress){0, 0, 600, 500, 1000, 1, 1, 1, 10.0};
    CHECK_MSG(strstr(line(&p, 0), "  60% done  ETA 00:00:40") != NULL, "%s", line(&p, 0));
    /* standard input: no total, no percentage */
    p = (vnp_progress){5, 5, 500, 0, 1000, 50, 0, 0, 10.0};
    CHECK(strstr(line(&p, 0), "%") == NULL);
    /* the last line: no ETA */
    p = (vnp_progress){5, 5, 1000, 0, 1000, 1, 1, 1, 10.0};
    CHECK(strstr(line(&p, 1), "100% done") != NULL);
    CHECK(strstr(line(&p, 1), "ETA") == NULL);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/vnp_test_journal_XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    test_marker();
    test_lock();
    test_progress();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    VNP_TEST_END();
}
