#define _POSIX_C_SOURCE 200809L
/* Unit tests for vnp_report_build (report/build.c, html.c) on hand-written run folders: the order join of
 * sequence_summary.tsv and prediction_results.txt with awkward ids (underscores, "_chunk_" inside an id, HTML
 * characters, a repeated id, records without frames), either number style, the HTML escaped and bounded, and
 * malformed folders refused without touching the previous outputs. Runs under ASan in `make test-asan`. */
#include "vnp/viral_report.h"
#include "vnp_test.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void put(const char *name, const char *fmt, ...)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

static const char sum_head[] = "sequence_id\tlength\tchunks\tchunks_scored\tframes\tviral_chunks\tmax_virus_score\t"
                               "mean_chunk_virus_score\tcall\tconfidence\n";

/* Frames of a record: chunk scores given as P(virus) per chunk, < 0 for a gap; two frames per scored chunk. */
static void frames(FILE *f, const char *id, const double *s, int n, int broad)
{
    for (int c = 0; c < n; c++) {
        if (s[c] < 0) continue;
        if (broad) fprintf(f, "%s_chunk_%dF1\tvirus\t%.17g\t%.17g\n", id, c + 1, 1 - s[c], s[c]);
        else fprintf(f, "%s_chunk_%dF1\tvirus\t%.6g\t%.6g\n", id, c + 1, 1 - s[c], s[c]);
        fprintf(f, "%s_chunk_%dR2\tothers\t0.9\t0.1\n", id, c + 1);
    }
}

static void write_run(int broad)
{
    put("run_summary.json", "{\"virnucpro_version\": \"t\", \"chunk_length\": 300, \"models\": {\"classifier\": "
                            "{\"path\": \"m<1>.pth\", \"sha256\": \"abc\"}}, \"seconds\": {\"total\": 2.0}, "
                            "\"counts\": {\"records\": 5, \"bases\": 9000}}");
    /* a contig with "_chunk_" and underscores in its id, a read without frames, the same id twice, an HTML id */
    static const double a[] = {0.1, 0.1, 0.9, 0.95, 0.9, -1, 0.9, 0.1, 0.1, 0.2};
    static const double b[] = {0.99, 0.98, 0.97};
    static const double c[] = {0.1, 0.1, 0.1, 0.1};
    put("sequence_summary.tsv", "%sctg_chunk_1_x\t2900\t10\t9\t18\t5\t0.95\t0.5\tvirus\tambiguous\n"
                                "read_1/1\t101\t1\t0\t0\t0\tNA\tNA\tno_orf\tno_orf\n"
                                "dup\t801\t3\t3\t6\t3\t0.99\t0.98\tvirus\tconfident_viral\n"
                                "dup\t1200\t4\t4\t8\t0\t0.1\t0.1\tnot_virus\tconfident_nonviral\n"
                                "<b>&x\t801\t3\t3\t6\t3\t0.99\t0.98\tvirus\tconfident_viral\n", sum_head);
    char path[512];
    snprintf(path, sizeof path, "%s/prediction_results.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs("Sequence_ID\tPrediction\tscore1\tscore2\n", f);
    frames(f, "ctg_chunk_1_x", a, 10, broad);
    frames(f, "dup", b, 3, broad);
    frames(f, "dup", c, 4, broad);
    frames(f, "<b>&x", b, 3, broad);
    fclose(f);
}

static const char want_regions[] =
    "sequence_id\tstart\tend\tchunks\tviral_chunks\tmean_score\tmax_score\tfraction_of_sequence\tkind\n"
    "ctg_chunk_1_x\t%s\t5\t4\t0.91249996\t0.95\t%s\tregion\n"
    "dup\t1\t801\t3\t3\t0.98\t0.99\t1.0000\twhole\n"
    "<b>&x\t1\t801\t3\t3\t0.98\t0.99\t1.0000\twhole\n";

int main(void)
{
    snprintf(dir, sizeof dir, "%s/vnp_test_report_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    vnp_report_opts o;
    vnp_report_opts_init(&o);
    CHECK_EQ_INT(o.html, 1);
    CHECK_EQ_INT(o.tracks, VNP_REPORT_MAX_TRACKS);

    /* chunks 2..6 of the 2,900 bp contig (0-based; chunk 5 is a gap): 10 chunks of 300, every later one moved back
     * by 10 bases (repeat 100, lower 10, every step 11): chunk c starts at 300c - 11c. */
    char want[1024], span[64];
    snprintf(span, sizeof span, "%d\t%d", 2 * 300 - 2 * 11 + 1, 6 * 300 - 6 * 11 + 300);
    snprintf(want, sizeof want, want_regions, span, "0.5021"); /* 1,456 of 2,900 bases */
    for (int broad = 0; broad <= 1; broad++) {
        write_run(broad);
        CHECK_EQ_INT(vnp_report_build(dir, &o), 0);
        char *got = slurp("viral_regions.tsv");
        CHECK_MSG(got && strcmp(got, want) == 0, "style %d:\n%s\nwant:\n%s", broad, got ? got : "(none)", want);
        free(got);
        char *html = slurp("report.html");
        CHECK(html != NULL);
        if (html) {
            CHECK(strstr(html, "&lt;b&gt;&amp;x") != NULL); /* ids are escaped ... */
            CHECK(strstr(html, "<b>&x") == NULL);
            CHECK(strstr(html, "m&lt;1&gt;.pth") != NULL); /* ... and so are paths */
            CHECK(strstr(html, "<b>5</b> most viral of <b>5</b> sequences") != NULL);
            CHECK(strstr(html, "<figure class=\"track\">") != NULL);
            CHECK(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
            CHECK(strstr(html, "</html>\n") != NULL);
        }
        free(html);
    }

    /* no HTML, and other options: every chunk of the contig with a score >= 0.9 is a region of its own */
    o.html = 0;
    o.regions.window = 1;
    o.regions.min_chunks = 1;
    o.regions.min_score = 0.9;
    char path[512];
    snprintf(path, sizeof path, "%s/report.html", dir);
    unlink(path);
    CHECK_EQ_INT(vnp_report_build(dir, &o), 0);
    CHECK(access(path, F_OK) != 0);
    char *got = slurp("viral_regions.tsv");
    size_t rows = 0;
    for (char *p = got; p && *p; p++) rows += *p == '\n';
    CHECK_EQ_INT(rows, 1 + 2 + 1 + 1); /* header; chunks 2-4 and 6 (the gap splits); the two 0.97+ sequences whole */
    free(got);
    vnp_report_opts_init(&o);

    /* malformed folders: an error, and viral_regions.tsv as it was */
    write_run(0);
    CHECK_EQ_INT(vnp_report_build(dir, &o), 0);
    char *before = slurp("viral_regions.tsv");
    put("prediction_results.txt", "Sequence_ID\tPrediction\tscore1\tscore2\nctg_chunk_1_x_chunk_1F1\tvirus\t0.5\t1.5\n");
    CHECK_EQ_INT(vnp_report_build(dir, &o), VNP_ERR_FORMAT); /* a score above 1 */
    put("prediction_results.txt", "Sequence_ID\tPrediction\tscore1\tscore2\nnobody_chunk_1F1\tvirus\t0.5\t0.5\n");
    CHECK_EQ_INT(vnp_report_build(dir, &o), VNP_ERR_FORMAT); /* a frame of no record */
    put("prediction_results.txt", "Sequence_ID\tPrediction\tscore1\tscore2\nctg_chunk_1_x_chunk_11F1\tvirus\t0.5\t0.5\n");
    CHECK_EQ_INT(vnp_report_build(dir, &o), VNP_ERR_FORMAT); /* chunk 11 of a 10-chunk record */
    put("prediction_results.txt", "Sequence_ID\tscore\n");
    CHECK_EQ_INT(vnp_report_build(dir, &o), VNP_ERR_FORMAT); /* not VirNucPro's header */
    write_run(0);
    put("sequence_summary.tsv", "%sctg\t2900\t9\t0\t0\t0\tNA\tNA\tno_orf\tno_orf\n", sum_head);
    CHECK_EQ_INT(vnp_report_build(dir, &o), VNP_ERR_FORMAT); /* 2,900 bp are 10 chunks of 300 */
    put("sequence_summary.tsv", "id\tlen\n");
    CHECK_EQ_INT(vnp_report_build(dir, &o), VNP_ERR_FORMAT); /* no length/chunks columns */
    write_run(0);
    put("run_summary.json", "{\"chunk_length\": 400}");
    CHECK_EQ_INT(vnp_report_build(dir, &o), VNP_ERR_FORMAT);
    put("run_summary.json", "{\"chunk_length\": ");
    CHECK_EQ_INT(vnp_report_build(dir, &o), VNP_ERR_FORMAT);
    char *after = slurp("viral_regions.tsv");
    CHECK(before && after && strcmp(before, after) == 0);
    free(before);
    free(after);
    vnp_report_opts bad;
    vnp_report_opts_init(&bad);
    bad.regions.window = 0;
    CHECK_EQ_INT(vnp_report_build(dir, &bad), VNP_ERR_USAGE);

    /* an empty run: header lines only */
    put("run_summary.json", "{\"chunk_length\": 500}");
    put("sequence_summary.tsv", "%s", sum_head);
    put("prediction_results.txt", "Sequence_ID\tPrediction\tscore1\tscore2\n");
    CHECK_EQ_INT(vnp_report_build(dir, &o), 0);
    got = slurp("viral_regions.tsv");
    CHECK(got && strcmp(got, vnp_regions_header) == 0);
    free(got);
    snprintf(path, sizeof path, "%s/report.html", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size > 1000);

    /* a folder without the files */
    snprintf(path, sizeof path, "%s/none", dir);
    mkdir(path, 0700);
    CHECK_EQ_INT(vnp_report_build(path, &o), VNP_ERR_NOTFOUND);
    rmdir(path);
    static const char *const files[] = {"run_summary.json", "sequence_summary.tsv", "prediction_results.txt",
                                        "viral_regions.tsv", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    VNP_TEST_END();
}
