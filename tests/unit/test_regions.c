#define _POSIX_C_SOURCE 200809L
/* Unit tests for the viral region caller (report/regions.c) on hand-made score tracks: a prophage-like run inside a
 * non-viral contig, a run at each end, a whole-viral contig, gaps, sequences shorter than the minimum, both chunk
 * lengths; coordinates checked against a literal transcription of split_fasta_chunk (spec §1), short last chunk
 * included. */
#include "vnp/seq.h"
#include "vnp/viral_report.h"
#include "vnp_test.h"

#include <stdint.h>

/* spec §1 as written (Python list arithmetic, negative repeat counts give empty lists): chunk c's first base
 * (0-based) and length. */
static void py_chunk(size_t n, size_t k, size_t want, size_t *off, size_t *len)
{
    long nc = (long)((n + k - 1) / k), repeat = nc * (long)k - (long)n;
    long lower = (long)((double)repeat / (double)nc), extra = repeat - lower * (nc - 1);
    long steps[4096], ns = 0;
    for (long i = 0; i < extra; i++) steps[ns++] = lower + 1;
    for (long i = 0; i < nc - 1 - extra; i++) steps[ns++] = lower;
    steps[ns++] = 0;
    long move = 0;
    size_t c = 0;
    for (long a = 0; a < (long)n; a += (long)k, c++) {
        long s = a > 1 ? a - move : a, e = s + (long)k < (long)n ? s + (long)k : (long)n;
        if (c == want) {
            *off = (size_t)s;
            *len = (size_t)(e - s);
            return;
        }
        move += steps[c];
    }
}

/* 1-based inclusive coordinates of chunks first..last by the transcription. */
static void py_span(size_t n, size_t k, size_t first, size_t last, uint64_t *start, uint64_t *end)
{
    size_t o, l;
    py_chunk(n, k, first, &o, &l);
    *start = o + 1;
    py_chunk(n, k, last, &o, &l);
    *end = o + l;
}

enum { MAXC = 256 };
static vnp_chunk_score track[MAXC];
static vnp_region regs[MAXC];

/* A track of n chunks: every chunk `lo` except those listed in [a, b) ranges which get `hi`. */
static void fill(size_t n, float lo)
{
    for (size_t i = 0; i < n; i++) track[i] = (vnp_chunk_score){lo, 1.0f - lo, 2};
}
static void set(size_t a, size_t b, float s)
{
    for (size_t i = a; i < b; i++) track[i] = (vnp_chunk_score){s, 1.0f - s, 1};
}
static void gap(size_t a, size_t b)
{
    for (size_t i = a; i < b; i++) track[i] = (vnp_chunk_score){0, 0, 0};
}

static size_t call(size_t n, uint64_t len, int k, const vnp_region_opts *o)
{
    size_t nr = 99;
    int rc = vnp_regions_call(track, n, len, k, o, regs, &nr, NULL);
    CHECK_EQ_INT(rc, 0);
    return rc ? 0 : nr;
}

static void check_region(const vnp_region *r, size_t n, int k, size_t first, size_t last)
{
    CHECK_EQ_INT(r->first, first);
    CHECK_EQ_INT(r->last, last);
    uint64_t s, e;
    py_span(n, (size_t)k, first, last, &s, &e);
    CHECK_EQ_INT(r->start, s);
    CHECK_EQ_INT(r->end, e);
    CHECK_EQ_INT(r->chunks, last - first + 1);
    CHECK_NEAR(r->fraction, (double)(e - s + 1) / (double)n, 1e-12);
}

int main(void)
{
    vnp_region_opts o;
    vnp_region_opts_init(&o);
    CHECK(vnp_region_opts_check(&o) == NULL);
    CHECK_NEAR(o.min_score, 0.5, 0);
    CHECK_EQ_INT(o.window, 3);
    CHECK_EQ_INT(o.min_chunks, 3);
    CHECK_EQ_INT(o.min_seq_chunks, 3);

    for (int k = 300; k <= 500; k += 200) {
        /* ---- a prophage-like run inside a non-viral contig (the last chunk is short: 20 chunks, 5,900 or 9,801 bp) */
        uint64_t len = 20 * (uint64_t)k - (k == 300 ? 100 : 199);
        CHECK_EQ_INT(vnp_chunk_count(len, (size_t)k), 20);
        fill(20, 0.05f);
        set(7, 13, 0.95f);
        size_t nr = call(20, len, k, &o);
        CHECK_EQ_INT(nr, 1);
        if (nr == 1) {
            check_region(&regs[0], len, k, 7, 12);
            CHECK_EQ_INT(regs[0].viral_chunks, 6);
            CHECK_NEAR(regs[0].mean_score, 0.95, 1e-6);
            CHECK_NEAR(regs[0].max_score, 0.95, 1e-6);
            CHECK(!regs[0].whole);
        }
        /* the smoothed track the regions came from: chunk 6 has (0.05 + 0.05 + 0.95) / 3 */
        float sm[20];
        size_t nr2;
        CHECK_EQ_INT(vnp_regions_call(track, 20, len, k, &o, regs, &nr2, sm), 0);
        CHECK_NEAR(sm[6], (0.05 + 0.05 + 0.95) / 3, 1e-6);
        CHECK_NEAR(sm[0], 0.05, 1e-6); /* the window is cut at the ends */

        /* ---- a run at each end: the second ends at the last base, through the short last chunk ---- */
        fill(20, 0.1f);
        set(0, 4, 0.9f);
        set(15, 20, 0.8f);
        nr = call(20, len, k, &o);
        CHECK_EQ_INT(nr, 2);
        if (nr == 2) {
            check_region(&regs[0], len, k, 0, 3);
            CHECK_EQ_INT(regs[0].start, 1);
            check_region(&regs[1], len, k, 15, 19);
            CHECK_EQ_INT(regs[1].end, len);
            CHECK_NEAR(regs[1].mean_score, 0.8, 1e-6);
            CHECK(!regs[0].whole && !regs[1].whole);
        }

        /* ---- a whole-viral contig ---- */
        fill(20, 0.9f);
        track[10].score = 0.99f;
        nr = call(20, len, k, &o);
        CHECK_EQ_INT(nr, 1);
        if (nr == 1) {
            check_region(&regs[0], len, k, 0, 19);
            CHECK(regs[0].whole);
            CHECK_EQ_INT(regs[0].start, 1);
            CHECK_EQ_INT(regs[0].end, len);
            CHECK_NEAR(regs[0].fraction, 1.0, 0);
            CHECK_NEAR(regs[0].max_score, 0.99, 1e-6);
            CHECK_EQ_INT(regs[0].viral_chunks, 20);
        }
    }

    /* ---- the spec's short last chunks: k = 500, n = 1001 gives 500, 500, 335 ---- */
    fill(3, 0.9f);
    size_t nr = call(3, 1001, 500, &o);
    CHECK_EQ_INT(nr, 1);
    if (nr == 1) {
        CHECK_EQ_INT(regs[0].start, 1);
        CHECK_EQ_INT(regs[0].end, 1001);
        CHECK(regs[0].whole);
    }
    /* n = 2345: four of 500 and one of 473; a region over the last two chunks only */
    vnp_region_opts o1 = o;
    o1.min_chunks = 2;
    fill(5, 0.1f);
    set(3, 5, 0.95f);
    nr = call(5, 2345, 500, &o1);
    CHECK_EQ_INT(nr, 1);
    if (nr == 1) {
        check_region(&regs[0], 2345, 500, 3, 4);
        CHECK_EQ_INT(regs[0].end, 2345);
        size_t off, l;
        py_chunk(2345, 500, 4, &off, &l);
        CHECK_EQ_INT(l, 473);
    }

    /* ---- gaps: one gap inside a run is bridged (it counts in chunks, not in viral_chunks or the mean) ---- */
    fill(20, 0.05f);
    set(5, 12, 0.9f);
    gap(8, 9);
    nr = call(20, 20 * 300, 300, &o);
    CHECK_EQ_INT(nr, 1);
    if (nr == 1) {
        check_region(&regs[0], 6000, 300, 5, 11);
        CHECK_EQ_INT(regs[0].viral_chunks, 6);
        CHECK_NEAR(regs[0].mean_score, 0.9, 1e-6);
    }
    /* a run of gaps as long as the window splits the run; gaps at a run's edge are trimmed off */
    fill(24, 0.05f);
    set(2, 8, 0.9f);
    gap(8, 11);
    set(11, 16, 0.9f);
    nr = call(24, 24 * 300, 300, &o);
    CHECK_EQ_INT(nr, 2);
    if (nr == 2) {
        check_region(&regs[0], 7200, 300, 2, 7);
        check_region(&regs[1], 7200, 300, 11, 15);
    }
    /* a sequence of gaps only, and gaps before a run at the start */
    gap(0, 10);
    CHECK_EQ_INT(call(10, 3000, 300, &o), 0);
    fill(10, 0.05f);
    gap(0, 2);
    set(2, 6, 0.9f);
    nr = call(10, 3000, 300, &o);
    CHECK_EQ_INT(nr, 1);
    if (nr == 1) check_region(&regs[0], 3000, 300, 2, 5);

    /* ---- a lone viral chunk is smoothed away; two make a run, kept only when min_chunks allows ---- */
    fill(20, 0.05f);
    set(9, 10, 0.99f);
    CHECK_EQ_INT(call(20, 6000, 300, &o), 0);
    fill(20, 0.05f);
    set(9, 11, 0.95f);
    CHECK_EQ_INT(call(20, 6000, 300, &o), 0);
    CHECK_EQ_INT(call(20, 6000, 300, &o1), 1);
    /* window 1: no smoothing, a single chunk is a region with min_chunks 1 */
    vnp_region_opts w1 = o;
    w1.window = 1;
    w1.min_chunks = 1;
    fill(20, 0.05f);
    set(9, 10, 0.99f);
    nr = call(20, 6000, 300, &w1);
    CHECK_EQ_INT(nr, 1);
    if (nr == 1) check_region(&regs[0], 6000, 300, 9, 9);
    /* a chunk with P(virus) below P(others) inside a region counts in chunks but not in viral_chunks */
    fill(20, 0.05f);
    set(4, 10, 0.9f);
    track[6] = (vnp_chunk_score){0.45f, 0.55f, 1};
    nr = call(20, 6000, 300, &o);
    CHECK_EQ_INT(nr, 1);
    if (nr == 1) {
        CHECK_EQ_INT(regs[0].chunks, 6);
        CHECK_EQ_INT(regs[0].viral_chunks, 5);
    }

    /* ---- sequences shorter than the minimum get no regions ---- */
    fill(2, 0.99f);
    CHECK_EQ_INT(call(2, 600, 300, &o), 0);
    CHECK_EQ_INT(call(1, 300, 300, &o), 0);
    vnp_region_opts any = o;
    any.min_seq_chunks = 1;
    any.min_chunks = 1;
    nr = call(2, 501, 300, &any);
    CHECK_EQ_INT(nr, 1);
    if (nr == 1) {
        CHECK(regs[0].whole);
        CHECK_EQ_INT(regs[0].end, 501);
    }

    /* ---- bad calls ---- */
    size_t nb;
    CHECK_EQ_INT(vnp_regions_call(track, 3, 300, 300, &o, regs, &nb, NULL), VNP_ERR_USAGE); /* 300 bp = 1 chunk */
    vnp_region_opts bad = o;
    bad.window = 2;
    CHECK(vnp_region_opts_check(&bad) != NULL);
    bad = o;
    bad.min_score = 0;
    CHECK(vnp_region_opts_check(&bad) != NULL);

    /* ---- the TSV row ---- */
    fill(20, 0.05f);
    set(7, 13, 0.95f);
    nr = call(20, 5900, 300, &o);
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    CHECK(f != NULL);
    if (f && nr == 1) {
        CHECK_EQ_INT(vnp_regions_write_row(f, "contig_1", &regs[0]), 0);
        fclose(f);
        uint64_t s, e;
        py_span(5900, 300, 7, 12, &s, &e);
        char want[256];
        snprintf(want, sizeof want, "contig_1\t%llu\t%llu\t6\t6\t0.95\t0.95\t%.4f\tregion\n", (unsigned long long)s,
                 (unsigned long long)e, (double)(e - s + 1) / 5900.0);
        CHECK_EQ_STR(text, want);
    } else if (f) {
        fclose(f);
    }
    free(text);
    CHECK(strncmp(vnp_regions_header, "sequence_id\tstart\tend\tchunks\tviral_chunks\tmean_score\tmax_score\t"
                                      "fraction_of_sequence\tkind\n", 200) == 0);
    VNP_TEST_END();
}
