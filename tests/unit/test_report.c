#define _GNU_SOURCE
/* Unit tests for report/: numpy float32 printing and the two VirNucPro result files, checked against the
 * spec's examples and every fixture pipeline case. */
#include "vnp/report.h"
#include "vnp_test.h"

#include <dirent.h>

static void check_fmt(float x, const char *want)
{
    char buf[VNP_F32_STR_MAX];
    vnp_format_f32(x, buf);
    CHECK_MSG(strcmp(buf, want) == 0, "%.9g printed '%s', want '%s'", (double)x, buf, want);
}

/* Reads a prediction_results.txt, re-prints every score and re-derives the consensus file. */
static void check_case(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/prediction_results.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "open %s", path);
    if (!f) return;
    char line[512];
    vnp_frame_score rows[4096];
    char *ids[4096];
    size_t n = 0;
    int same = 1;
    fgets(line, sizeof line, f); /* header */
    while (fgets(line, sizeof line, f) && n < 4096) {
        char id[256], label[32], s1[64], s2[64];
        if (sscanf(line, "%255s\t%31s\t%63s\t%63s", id, label, s1, s2) != 4) continue;
        ids[n] = strdup(id);
        rows[n].id = ids[n];
        rows[n].score1 = strtof(s1, NULL);
        rows[n].score2 = strtof(s2, NULL);
        char b1[VNP_F32_STR_MAX], b2[VNP_F32_STR_MAX];
        vnp_format_f32(rows[n].score1, b1);
        vnp_format_f32(rows[n].score2, b2);
        if (strcmp(b1, s1) || strcmp(b2, s2) || strcmp(label, vnp_score_label(&rows[n]))) {
            same = 0;
            fprintf(stderr, "%s: '%s' '%s' '%s' -> '%s' '%s' '%s'\n", dir, label, s1, s2, vnp_score_label(&rows[n]), b1, b2);
        }
        n++;
    }
    fclose(f);
    CHECK_MSG(same, "scores of %s re-printed identically", dir);

    char *got = NULL, *want = NULL;
    size_t gl = 0, wl = 0;
    FILE *m = open_memstream(&got, &gl);
    CHECK(vnp_write_prediction_results(m, rows, n) == 0);
    fclose(m);
    f = fopen(path, "rb");
    m = open_memstream(&want, &wl);
    int c;
    while ((c = fgetc(f)) != EOF) fputc(c, m);
    fclose(m);
    fclose(f);
    CHECK_MSG(gl == wl && memcmp(got, want, gl) == 0, "%s/prediction_results.txt identical", dir);
    free(got);
    free(want);

    m = open_memstream(&got, &gl);
    CHECK(vnp_write_highestscore(m, rows, n) == 0);
    fclose(m);
    snprintf(path, sizeof path, "%s/prediction_results_highestscore.csv", dir);
    f = fopen(path, "rb");
    m = open_memstream(&want, &wl);
    while ((c = fgetc(f)) != EOF) fputc(c, m);
    fclose(m);
    fclose(f);
    CHECK_MSG(gl == wl && memcmp(got, want, gl) == 0, "%s consensus identical", path);
    free(got);
    free(want);
    for (size_t i = 0; i < n; i++) free(ids[i]);
}

int main(void)
{
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

    /* Ties go to "others" (class 0). */
    vnp_frame_score tie = {"x_chunk_1F1", 0.5f, 0.5f};
    CHECK_EQ_STR(vnp_score_label(&tie), "others");

    char dir[1024];
    snprintf(dir, sizeof dir, "%s/pipeline", vnp_test_data());
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int cases = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char sub[1400];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        check_case(sub);
        cases++;
    }
    if (d) closedir(d);
    CHECK(cases == 11);
    VNP_TEST_END();
}
