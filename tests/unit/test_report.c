#define _GNU_SOURCE
/* Unit tests for report/: numpy float32 and Python float64 printing, the two result files in both output
 * styles, written through the functions predict uses and checked against every fixture pipeline case, and the
 * call and confidence rules of sequence_summary.tsv. */
#include "vnp/report.h"
#include "vnp_test.h"

#include <dirent.h>

static void check_fmt(float x, const char *want)
{
    char buf[VNP_F32_STR_MAX];
    vnp_format_f32(x, buf);
    CHECK_MSG(strcmp(buf, want) == 0, "%.9g printed '%s', want '%s'", (double)x, buf, want);
}

static char *slurp(const char *path, size_t *len)
{
    char *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    FILE *m = open_memstream(&buf, len);
    int c;
    while ((c = fgetc(f)) != EOF) fputc(c, m);
    fclose(m);
    fclose(f);
    return buf;
}

static void check_same_file(const char *got_path, const char *want_path)
{
    size_t gl, wl;
    char *got = slurp(got_path, &gl), *want = slurp(want_path, &wl);
    CHECK_MSG(got && want && gl == wl && memcmp(got, want, gl) == 0, "%s identical to %s", got_path, want_path);
    free(got);
    free(want);
}

typedef struct {
    char *id;
    float s1, s2;
} frame_row;

/* Writes both files of a case in one style through report/, as predict does: prediction rows, per-chunk maxima
 * into journal-like parts (the frames split over two "blocks"), the consensus merge; compares with want_dir. */
static void write_and_compare(const frame_row *rows, size_t n, vnp_output_style st, const char *want_dir,
                              const char *tmp)
{
    char got[2048], want[2048];
    snprintf(got, sizeof got, "%s/prediction_results.txt", tmp);
    FILE *f = fopen(got, "wb");
    CHECK(f && fputs(vnp_pred_header, f) >= 0);
    for (size_t i = 0; f && i < n; i++) CHECK(vnp_pred_row(f, st, rows[i].id, rows[i].s1, rows[i].s2) == 0);
    if (f) fclose(f);
    snprintf(want, sizeof want, "%s/prediction_results.txt", want_dir);
    check_same_file(got, want);

    char p0[2048], p1[2048];
    snprintf(p0, sizeof p0, "%s/part0", tmp);
    snprintf(p1, sizeof p1, "%s/part1", tmp);
    char *parts[2] = {p0, p1};
    size_t half = n / 2;
    for (int part = 0; part < 2; part++) {
        size_t lo = part ? half : 0, hi = part ? n : half, m = 0;
        vnp_chunk_max *cm = calloc(hi - lo + 1, sizeof *cm);
        for (size_t i = lo; i < hi; i++) {
            size_t len = strlen(rows[i].id) - 2;
            if (m && strlen(cm[m - 1].id) == len && memcmp(cm[m - 1].id, rows[i].id, len) == 0) {
                if (rows[i].s1 > cm[m - 1].m1) cm[m - 1].m1 = rows[i].s1;
                if (rows[i].s2 > cm[m - 1].m2) cm[m - 1].m2 = rows[i].s2;
                continue;
            }
            cm[m].id = strndup(rows[i].id, len);
            cm[m].m1 = rows[i].s1;
            cm[m].m2 = rows[i].s2;
            m++;
        }
        f = fopen(parts[part], "wb");
        CHECK(f && vnp_cons_part_write(f, st, cm, m) == 0);
        if (f) fclose(f);
        for (size_t i = 0; i < m; i++) free(cm[i].id);
        free(cm);
    }
    snprintf(got, sizeof got, "%s/prediction_results_highestscore.csv", tmp);
    CHECK(vnp_consensus_write(got, parts, 2, st, tmp) == 0);
    snprintf(want, sizeof want, "%s/prediction_results_highestscore.csv", want_dir);
    check_same_file(got, want);
}

/* Reads a case's (original-layout) prediction_results.txt, re-prints every score, and writes both files in both
 * styles: byte-identical to the original files and to broad/. */
static void check_case(const char *dir, const char *tmp)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/prediction_results.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "open %s", path);
    if (!f) return;
    char line[512];
    frame_row *rows = calloc(4096, sizeof *rows);
    size_t n = 0;
    int same = 1;
    if (!fgets(line, sizeof line, f)) same = 0; /* header */
    while (fgets(line, sizeof line, f) && n < 4096) {
        char id[256], label[32], s1[64], s2[64];
        if (sscanf(line, "%255s\t%31s\t%63s\t%63s", id, label, s1, s2) != 4) continue;
        rows[n].id = strdup(id);
        rows[n].s1 = strtof(s1, NULL);
        rows[n].s2 = strtof(s2, NULL);
        char b1[VNP_F32_STR_MAX], b2[VNP_F32_STR_MAX];
        vnp_format_f32(rows[n].s1, b1);
        vnp_format_f32(rows[n].s2, b2);
        const char *lab = vnp_score_label(rows[n].s1, rows[n].s2);
        if (strcmp(b1, s1) || strcmp(b2, s2) || strcmp(label, lab)) {
            same = 0;
            fprintf(stderr, "%s: '%s' '%s' '%s' -> '%s' '%s' '%s'\n", dir, label, s1, s2, lab, b1, b2);
        }
        n++;
    }
    fclose(f);
    CHECK_MSG(same, "scores of %s re-printed identically", dir);
    write_and_compare(rows, n, VNP_OUTPUT_ORIGINAL, dir, tmp);
    char broad[2048];
    snprintf(broad, sizeof broad, "%s/broad", dir);
    write_and_compare(rows, n, VNP_OUTPUT_BROAD, broad, tmp);
    for (size_t i = 0; i < n; i++) free(rows[i].id);
    free(rows);
}

static void check_repr(double x, const char *want)
{
    char buf[VNP_F32_STR_MAX];
    vnp_format_f64(x, buf);
    CHECK_MSG(strcmp(buf, want) == 0, "%.17g printed '%s', want '%s'", x, buf, want);
}

/* broad's consensus: first-appearance order, a repeated chunk id (a repeated record name) combined into its first
 * row, also across parts; the original sorts and combines the same way. */
static void check_repeats(const char *tmp)
{
    char p0[2048], p1[2048], out[2048];
    snprintf(p0, sizeof p0, "%s/rep0", tmp);
    snprintf(p1, sizeof p1, "%s/rep1", tmp);
    snprintf(out, sizeof out, "%s/rep.csv", tmp);
    vnp_chunk_max a[] = {{"z_chunk_1", 0.25f, 0.75f}, {"a_chunk_1", 0.5f, 0.5f}, {"z_chunk_2", 0.9f, 0.1f}};
    vnp_chunk_max b[] = {{"m_chunk_1", 0.5f, 0.25f}, {"z_chunk_2", 0.125f, 0.95f}, {"a_chunk_1", 0.625f, 0.25f}};
    char *parts[2] = {p0, p1};
    static const char *want[2] = {
        "Modified_ID\tIs_Virus\tmax_score_0\tmax_score_1\n"
        "z_chunk_1\tTrue\t0.25\t0.75\n"
        "a_chunk_1\tFalse\t0.625\t0.5\n"
        "z_chunk_2\tTrue\t0.8999999761581421\t0.949999988079071\n"
        "m_chunk_1\tFalse\t0.5\t0.25\n",
        "Modified_ID\tIs_Virus\n"
        "a_chunk_1\tFalse\n"
        "m_chunk_1\tFalse\n"
        "z_chunk_1\tTrue\n"
        "z_chunk_2\tTrue\n"};
    for (int st = 0; st < 2; st++) {
        vnp_chunk_max ca[3], cb[3];
        memcpy(ca, a, sizeof a);
        memcpy(cb, b, sizeof b);
        FILE *f = fopen(p0, "wb");
        CHECK(f && vnp_cons_part_write(f, (vnp_output_style)st, ca, 3) == 0);
        if (f) fclose(f);
        f = fopen(p1, "wb");
        CHECK(f && vnp_cons_part_write(f, (vnp_output_style)st, cb, 3) == 0);
        if (f) fclose(f);
        CHECK(vnp_consensus_write(out, parts, 2, (vnp_output_style)st, tmp) == 0);
        size_t len;
        char *got = slurp(out, &len);
        CHECK_MSG(got && strcmp(got, want[st]) == 0, "style %d: got\n%s", st, got ? got : "(none)");
        free(got);
    }
}

/* One record's sequence_summary.tsv row from its chunks' (frames, max score1, max score2). */
static void check_summary(const char *what, const float (*chunks)[3], size_t n, double t, const char *want)
{
    vnp_record_tally tally = {0};
    for (size_t i = 0; i < n; i++) vnp_tally_chunk(&tally, (size_t)chunks[i][0], chunks[i][1], chunks[i][2]);
    char *got = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&got, &len);
    CHECK_EQ_INT(vnp_summary_row(m, "r", 1000, 4, &tally, t), VNP_OK);
    fclose(m);
    CHECK_MSG(got && strcmp(got, want) == 0, "%s: got '%s', want '%s'", what, got ? got : "", want);
    free(got);
}

/* The summary's rules (report/summary.c): the call by majority of the chunks with frames, the confidence from the
 * mean chunk virus score against T and 1 - T, no_orf without frames. */
static void test_summary_rules(void)
{
    check_summary("no frames", NULL, 0, 0.8, "r\t1000\t4\t0\t0\t0\tNA\tNA\tno_orf\tno_orf\n");
    const float one_viral[][3] = {{2, 0.3f, 0.7f}};
    check_summary("one viral chunk under T", one_viral, 1, 0.8,
                  "r\t1000\t4\t1\t2\t1\t0.7\t0.7\tvirus\tambiguous\n");
    const float two_viral[][3] = {{1, 0.1f, 0.9f}, {3, 0.2f, 0.85f}};
    check_summary("two viral chunks over T", two_viral, 2, 0.8,
                  "r\t1000\t4\t2\t4\t2\t0.9\t0.875\tvirus\tconfident_viral\n");
    const float tie[][3] = {{1, 0.375f, 0.625f}, {1, 0.875f, 0.125f}}; /* one of two: not more than half */
    check_summary("half the chunks viral", tie, 2, 0.8,
                  "r\t1000\t4\t2\t2\t1\t0.625\t0.375\tnot_virus\tambiguous\n");
    const float low[][3] = {{6, 0.9f, 0.1f}, {6, 0.95f, 0.05f}, {2, 0.3f, 0.7f}};
    check_summary("mostly not viral, mean low", low, 3, 0.8,
                  "r\t1000\t4\t3\t14\t1\t0.7\t0.28333333\tnot_virus\tambiguous\n");
    check_summary("... with T = 0.7", low, 3, 0.7,
                  "r\t1000\t4\t3\t14\t1\t0.7\t0.28333333\tnot_virus\tconfident_nonviral\n");
    const float even[][3] = {{1, 0.5f, 0.5f}}; /* score2 >= score1: viral, as VirNucPro's consensus says */
    check_summary("a 0.5/0.5 chunk is viral", even, 1, 0.5,
                  "r\t1000\t4\t1\t1\t1\t0.5\t0.5\tvirus\tconfident_viral\n");
    const float at_t[][3] = {{1, 0.25f, 0.75f}, {1, 0.25f, 0.75f}}; /* mean exactly T: confident */
    check_summary("mean = T", at_t, 2, 0.75, "r\t1000\t4\t2\t2\t2\t0.75\t0.75\tvirus\tconfident_viral\n");
    const float at_1mt[][3] = {{1, 0.75f, 0.25f}}; /* mean exactly 1 - T: confident */
    check_summary("mean = 1 - T", at_1mt, 1, 0.75,
                  "r\t1000\t4\t1\t1\t0\t0.25\t0.25\tnot_virus\tconfident_nonviral\n");
}

int main(void)
{
    test_summary_rules();
    /* The spec's examples (str(np.float32(x))). */
    check_fmt(0.12100612f, "0.12100612");
    check_fmt(1.0f, "1.0");
    check_fmt(0.0f, "0.0");
    check_fmt(0.5f, "0.5");
    check_fmt(0.99999994f, "0.99999994");
    check_fmt(0.9999f, "0.9999");
    check_fmt(1e-4f, "1e-04");
    check_fmt(9.99e-05f, "9.99e-05");
    check_fmt(1.2e-05f, "1.2e-05");
    check_fmt(3.0517578e-05f, "3.0517578e-05");
    check_fmt(1.1920929e-07f, "1.1920929e-07");
    check_fmt(1e-45f, "1e-45");
    /* More of numpy's output, for layout. */
    check_fmt(100.0f, "100.0");
    check_fmt(123.5f, "123.5");
    check_fmt(0.001f, "0.001");
    check_fmt(0.00012345f, "0.00012345");
    check_fmt(1e16f, "1e+16");
    check_fmt(16777216.0f, "1.6777216e+07");
    check_fmt(999999.9f, "999999.9");
    check_fmt(1000000.0f, "1e+06");
    check_fmt(123456.0f, "123456.0");
    check_fmt(0.1f, "0.1");
    check_fmt(0.3f, "0.3");
    check_fmt(2.0f / 3.0f, "0.6666667");
    check_fmt(-0.25f, "-0.25");
    check_fmt(0.000244140625f, "0.00024414062"); /* 2^-12: lopsided interval, tie to even */
    check_fmt(480076.375f, "480076.38");         /* exact ties go to the even digit */
    check_fmt(192957.625f, "192957.62");

    /* Every float32 of a stride through [1e-7, 1]: printing must read back exactly and be no longer than %.9g. */
    int roundtrip = 1;
    for (unsigned u = 0x33d6bf95u; u <= 0x3f800000u; u += 9973) {
        float x;
        memcpy(&x, &u, 4);
        char buf[VNP_F32_STR_MAX];
        vnp_format_f32(x, buf);
        if (strtof(buf, NULL) != x) {
            roundtrip = 0;
            fprintf(stderr, "%08x: %s\n", u, buf);
            break;
        }
    }
    CHECK(roundtrip);

    /* Python's repr of the float32 scores widened to float64 (broad's text), and repr's layout. */
    check_repr((double)0.44779178f, "0.44779178500175476");
    check_repr((double)0.5894417f, "0.58944171667099");
    check_repr(1.0, "1.0");
    check_repr(0.0, "0.0");
    check_repr(0.5, "0.5");
    check_repr(1e-4, "0.0001");
    check_repr((double)1e-4f, "9.999999747378752e-05");
    check_repr(1e-5, "1e-05");
    check_repr(1.5e-7, "1.5e-07");
    check_repr(1e16, "1e+16");
    check_repr(123456789012345678.0, "1.2345678901234568e+17");
    check_repr(1234567890123456.0, "1234567890123456.0");
    check_repr(0.1, "0.1");
    check_repr(-2.5, "-2.5");
    check_repr(5e-324, "5e-324");
    check_repr(1.7976931348623157e308, "1.7976931348623157e+308");
    /* Every float32 of a stride through [1e-7, 1], widened: the text reads back as the same float64. */
    int roundtrip64 = 1;
    for (unsigned u = 0x33d6bf95u; u <= 0x3f800000u; u += 99991) {
        float x;
        memcpy(&x, &u, 4);
        char buf[VNP_F32_STR_MAX];
        vnp_format_f64((double)x, buf);
        if (strtod(buf, NULL) != (double)x) {
            roundtrip64 = 0;
            fprintf(stderr, "%08x: %s\n", u, buf);
            break;
        }
    }
    CHECK(roundtrip64);

    /* Ties go to "others" (class 0). */
    CHECK_EQ_STR(vnp_score_label(0.5f, 0.5f), "others");
    vnp_output_style st;
    CHECK(vnp_output_style_parse("broad", &st) == 0 && st == VNP_OUTPUT_BROAD);
    CHECK(vnp_output_style_parse("original", &st) == 0 && st == VNP_OUTPUT_ORIGINAL);
    CHECK(vnp_output_style_parse("Broad", &st) == VNP_ERR_USAGE);

    char tmp[] = "/tmp/vnp_report_XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    check_repeats(tmp);

    char dir[1024];
    snprintf(dir, sizeof dir, "%s/pipeline", vnp_test_data());
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int cases = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char sub[1400];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        check_case(sub, tmp);
        cases++;
    }
    if (d) closedir(d);
    CHECK(cases == 11);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
    VNP_TEST_END();
}
