/* Unit tests for seq/: the chunk geometry (the spec's table and a brute-force comparison with a literal
 * transcription of the original's list arithmetic) and six-frame translation (codon table, edge cases, and a
 * comparison with a literal transcription of identify_seq on random sequences over odd alphabets). */
#include "vnp/seq.h"
#include "vnp_test.h"

#include <stdint.h>

/* ---- literal transcriptions of the Python reference (bench/ref_preprocess.py), slow and obvious ---- */

/* split_chunks for one sequence: fills off/len, returns the number of chunks. */
static size_t py_split(size_t n, size_t k, size_t *off, size_t *len, size_t cap)
{
    if (n == 0) return 0;
    long num_chunks = (long)((n + k - 1) / k);
    long total = num_chunks * (long)k;
    long repeat_length = total - (long)n;
    double repeat_region = (double)repeat_length / (double)num_chunks;
    long lower_int = (long)repeat_region, upper_int = lower_int + 1;
    long sum_low = lower_int * (num_chunks - 1);
    long need_up = repeat_length - sum_low;
    /* final = [upper]*need_up + [lower]*(num_chunks-1-need_up) + [0]; a negative count gives an empty list */
    long final[20000];
    long nf = 0;
    for (long i = 0; i < need_up; i++) final[nf++] = upper_int;
    for (long i = 0; i < num_chunks - 1 - need_up; i++) final[nf++] = lower_int;
    final[nf++] = 0;
    long move = 0;
    size_t c = 0;
    for (long a = 0, j = 0; a < (long)n && j < nf; a += (long)k, j++) {
        long start = a > 1 ? a - move : a;
        long end = start + (long)k;
        if (end > (long)n) end = (long)n; /* Python slice clamping */
        if (c < cap) {
            off[c] = (size_t)start;
            len[c] = (size_t)(end - start);
        }
        c++;
        move += final[j];
    }
    return c;
}

static const char *CODONS[64][2] = {
    {"TCA", "S"}, {"TCC", "S"}, {"TCG", "S"}, {"TCT", "S"}, {"TTC", "F"}, {"TTT", "F"}, {"TTA", "L"}, {"TTG", "L"},
    {"TAC", "Y"}, {"TAT", "Y"}, {"TAA", "*"}, {"TAG", "*"}, {"TGC", "C"}, {"TGT", "C"}, {"TGA", "*"}, {"TGG", "W"},
    {"CTA", "L"}, {"CTC", "L"}, {"CTG", "L"}, {"CTT", "L"}, {"CCA", "P"}, {"CCC", "P"}, {"CCG", "P"}, {"CCT", "P"},
    {"CAC", "H"}, {"CAT", "H"}, {"CAA", "Q"}, {"CAG", "Q"}, {"CGA", "R"}, {"CGC", "R"}, {"CGG", "R"}, {"CGT", "R"},
    {"ATA", "I"}, {"ATC", "I"}, {"ATT", "I"}, {"ATG", "M"}, {"ACA", "T"}, {"ACC", "T"}, {"ACG", "T"}, {"ACT", "T"},
    {"AAC", "N"}, {"AAT", "N"}, {"AAA", "K"}, {"AAG", "K"}, {"AGC", "S"}, {"AGT", "S"}, {"AGA", "R"}, {"AGG", "R"},
    {"GTA", "V"}, {"GTC", "V"}, {"GTG", "V"}, {"GTT", "V"}, {"GCA", "A"}, {"GCC", "A"}, {"GCG", "A"}, {"GCT", "A"},
    {"GAC", "D"}, {"GAT", "D"}, {"GAA", "E"}, {"GAG", "E"}, {"GGA", "G"}, {"GGC", "G"}, {"GGG", "G"}, {"GGT", "G"},
};

static char py_codon(const char *c)
{
    for (int i = 0; i < 64; i++)
        if (memcmp(CODONS[i][0], c, 3) == 0) return CODONS[i][1][0];
    return 0; /* CODON.get(..., '') */
}

typedef struct {
    int frame;
    char nuc[256];
    char prot[128];
} py_item;

/* identify(seqid, sequence.upper()) with the `p != ''` filter of the caller. */
static int py_identify(const char *raw, size_t n, py_item *out)
{
    char s[256], r[256];
    for (size_t i = 0; i < n; i++) s[i] = (char)(raw[i] >= 'a' && raw[i] <= 'z' ? raw[i] - 32 : raw[i]);
    for (size_t i = 0; i < n; i++) {
        char c = s[n - 1 - i];
        r[i] = c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : c == 'T' ? 'A' : c;
    }
    int k = 0;
    for (int num = 1; num <= 6; num++) {
        const char *x = num <= 3 ? s : r;
        size_t fr = (size_t)((num - 1) % 3);
        char prot[128];
        size_t pl = 0;
        for (size_t i = fr; (long)i < (long)n - 2; i += 3) {
            char aa = py_codon(x + i);
            if (aa) prot[pl++] = aa;
        }
        if (memchr(prot, '*', pl) || pl == 0) continue;
        size_t seq_len = pl * 3;
        size_t start = fr, end = fr + 1 + seq_len; /* num-1 : num+seq_len, and num-4 : num-3+seq_len */
        if (end > n) end = n;
        out[k].frame = num;
        memcpy(out[k].nuc, x + start, end - start);
        out[k].nuc[end - start] = '\0';
        memcpy(out[k].prot, prot, pl);
        out[k].prot[pl] = '\0';
        k++;
    }
    return k;
}

/* ---- tests ---- */

static void test_chunk_table(void)
{
    /* The spec's table, k = 500. */
    CHECK_EQ_INT(vnp_chunk_count(0, 500), 0);
    CHECK_EQ_INT(vnp_chunk_count(1, 500), 1);
    CHECK_EQ_INT(vnp_chunk_count(500, 500), 1);
    vnp_chunk c = vnp_chunk_get(300, 500, 0);
    CHECK(c.offset == 0 && c.length == 300);
    c = vnp_chunk_get(500, 500, 0);
    CHECK(c.offset == 0 && c.length == 500);
    CHECK_EQ_INT(vnp_chunk_count(501, 500), 2);
    c = vnp_chunk_get(501, 500, 0);
    CHECK(c.offset == 0 && c.length == 500);
    c = vnp_chunk_get(501, 500, 1);
    CHECK(c.offset == 250 && c.length == 251);
    CHECK_EQ_INT(vnp_chunk_count(1001, 500), 3);
    size_t l1001[3] = {500, 500, 335};
    for (size_t i = 0; i < 3; i++) CHECK_EQ_INT(vnp_chunk_get(1001, 500, i).length, l1001[i]);
    CHECK_EQ_INT(vnp_chunk_count(2345, 500), 5);
    for (size_t i = 0; i < 4; i++) CHECK_EQ_INT(vnp_chunk_get(2345, 500, i).length, 500);
    CHECK_EQ_INT(vnp_chunk_get(2345, 500, 4).length, 473);
    /* Every chunk ends at or before the sequence end, the last one exactly there. */
    c = vnp_chunk_get(2345, 500, 4);
    CHECK_EQ_INT(c.offset + c.length, 2345);
    /* Out of range. */
    c = vnp_chunk_get(501, 500, 2);
    CHECK(c.offset == 0 && c.length == 0);
    c = vnp_chunk_get(10, 0, 0);
    CHECK(c.length == 0 && vnp_chunk_count(10, 0) == 0);
    /* k = 300 examples computed by the reference. */
    CHECK_EQ_INT(vnp_chunk_get(301, 300, 1).length, 151);
    CHECK_EQ_INT(vnp_chunk_get(301, 300, 1).offset, 150);
}

static void test_chunk_brute_force(void)
{
    static size_t off[20000], len[20000];
    const size_t ks[] = {1, 2, 3, 7, 300, 500};
    long mismatches = 0, cases = 0;
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        size_t k = ks[ki];
        size_t nmax = k < 10 ? 200 : 5000;
        for (size_t n = 0; n <= nmax; n++) {
            size_t m = py_split(n, k, off, len, 20000);
            cases++;
            if (m != vnp_chunk_count(n, k)) {
                mismatches++;
                continue;
            }
            for (size_t c = 0; c < m; c++) {
                vnp_chunk ch = vnp_chunk_get(n, k, c);
                if (ch.offset != off[c] || ch.length != len[c]) mismatches++;
            }
        }
    }
    /* A few long sequences (a bacterial contig, a chromosome arm's worth of chunks). */
    const size_t big[] = {99999, 1000000, 3456789};
    for (size_t i = 0; i < 3; i++)
        for (size_t ki = 4; ki < 6; ki++) {
            size_t m = py_split(big[i], ks[ki], off, len, 20000);
            cases++;
            if (m != vnp_chunk_count(big[i], ks[ki])) mismatches++;
            for (size_t c = 0; c < m && c < 20000; c++) {
                vnp_chunk ch = vnp_chunk_get(big[i], ks[ki], c);
                if (ch.offset != off[c] || ch.length != len[c]) mismatches++;
            }
        }
    CHECK_MSG(mismatches == 0, "%ld mismatching chunks over %ld sequence lengths", mismatches, cases);
}

static void test_codons(void)
{
    for (int i = 0; i < 64; i++) CHECK_MSG(vnp_codon_translate(CODONS[i][0]) == CODONS[i][1][0], "%s", CODONS[i][0]);
    CHECK(vnp_codon_translate("ANG") == 0);
    CHECK(vnp_codon_translate("atg") == 0); /* the table is upper-case; callers upper-case first */
    CHECK(vnp_codon_translate("AT-") == 0);
    CHECK_EQ_INT(vnp_seq_count_non_acgt("ACGTacgtNnRY- ", 14), 6);
    char rc[16];
    vnp_seq_revcomp(rc, "AcgTNrY-", 8);
    CHECK(memcmp(rc, "-YrNAcgT", 8) == 0);
    CHECK_EQ_STR(vnp_frame_label(1), "F1");
    CHECK_EQ_STR(vnp_frame_label(6), "R3");
    CHECK_EQ_STR(vnp_frame_label(0), "");
}

/* Translates s and compares every kept frame with the transcription; returns the number of differences. */
static int compare_frames(vnp_translator *t, const char *s, size_t n)
{
    py_item want[6];
    int nw = py_identify(s, n, want);
    vnp_work_item got[VNP_NFRAMES];
    int ng = -1;
    if (vnp_translate_chunk(t, s, n, 7, 3, got, &ng) != 0) return 1;
    if (ng != nw) return 1;
    int bad = 0;
    for (int i = 0; i < ng; i++) {
        bad += got[i].frame != want[i].frame || got[i].record != 7 || got[i].chunk != 3;
        bad += got[i].nuc_len != strlen(want[i].nuc) || memcmp(got[i].nuc, want[i].nuc, got[i].nuc_len) != 0;
        bad += got[i].prot_len != strlen(want[i].prot) || memcmp(got[i].prot, want[i].prot, got[i].prot_len) != 0;
    }
    return bad;
}

static void test_translation_edges(vnp_translator *t)
{
    vnp_work_item it[VNP_NFRAMES];
    int n = -1;
    /* Lengths 0..2: no codon, nothing kept. */
    CHECK(vnp_translate_chunk(t, "", 0, 0, 0, it, &n) == 0 && n == 0);
    CHECK(vnp_translate_chunk(t, "AT", 2, 0, 0, it, &n) == 0 && n == 0);
    /* "ATG": F1 = M (slice clamped at the end), R1 = revcomp CAT = H; frames 2,3 have no codon. */
    CHECK(vnp_translate_chunk(t, "atg", 3, 0, 0, it, &n) == 0 && n == 2);
    CHECK(it[0].frame == 1 && it[0].prot_len == 1 && it[0].prot[0] == 'M');
    CHECK(it[0].nuc_len == 3 && memcmp(it[0].nuc, "ATG", 3) == 0); /* upper-cased */
    CHECK(it[1].frame == 4 && it[1].prot[0] == 'H' && it[1].nuc_len == 3 && memcmp(it[1].nuc, "CAT", 3) == 0);
    /* "ATGAAAC": F1 = MK and the slice runs one base past the codons: all 7 bases. */
    CHECK(vnp_translate_chunk(t, "ATGAAAC", 7, 0, 0, it, &n) == 0);
    CHECK(n >= 1 && it[0].frame == 1 && it[0].prot_len == 2 && memcmp(it[0].prot, "MK", 2) == 0);
    CHECK(it[0].nuc_len == 7 && memcmp(it[0].nuc, "ATGAAAC", 7) == 0);
    /* A stop codon discards the frame: "TAA" forward is '*'; its reverse complement TTA = L is kept. */
    CHECK(vnp_translate_chunk(t, "TAA", 3, 0, 0, it, &n) == 0 && n == 1 && it[0].frame == 4 && it[0].prot[0] == 'L');
    /* A codon with N is dropped, shortening the protein but not the slice start: "NNNATG" F1 = M, slice 0..4. */
    CHECK(vnp_translate_chunk(t, "NNNATG", 6, 0, 0, it, &n) == 0);
    CHECK(n >= 1 && it[0].frame == 1 && it[0].prot_len == 1 && it[0].prot[0] == 'M');
    CHECK(it[0].nuc_len == 4 && memcmp(it[0].nuc, "NNNA", 4) == 0);
    /* All-N: every codon dropped, every protein empty, nothing kept. */
    CHECK(vnp_translate_chunk(t, "NNNNNNNNN", 9, 0, 0, it, &n) == 0 && n == 0);
    /* IUPAC codes are not expanded (the original's table has ACGT codons only). */
    CHECK(vnp_translate_chunk(t, "RYK", 3, 0, 0, it, &n) == 0 && n == 0);
    /* Every sequence of length 0..5 over {A, C, G, T, N, a, -} against the transcription. */
    const char alpha[] = "ACGTNa-";
    long bad = 0, cases = 0;
    char s[8];
    for (size_t len = 0; len <= 5; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++) total *= 7;
        for (size_t v = 0; v < total; v++) {
            size_t x = v;
            for (size_t i = 0; i < len; i++, x /= 7) s[i] = alpha[x % 7];
            bad += compare_frames(t, s, len);
            cases++;
        }
    }
    CHECK_MSG(bad == 0, "%ld differences over %ld short sequences", bad, cases);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static void test_translation_random(vnp_translator *t)
{
    /* Mostly ACGT (so that stop-free frames occur), with lower case, N, IUPAC and junk mixed in. */
    const char *alphabets[] = {"ACGT", "ACGTACGTACGTACGTacgtN", "ACGTNRYKMSWBDHV", "acgtnACGT-*. "};
    long bad = 0, kept = 0;
    char s[200];
    for (int iter = 0; iter < 20000; iter++) {
        const char *a = alphabets[iter % 4];
        size_t na = strlen(a);
        size_t len = next_rand() % 121;
        for (size_t i = 0; i < len; i++) s[i] = a[next_rand() % na];
        bad += compare_frames(t, s, len);
        vnp_work_item it[VNP_NFRAMES];
        int n = 0;
        if (vnp_translate_chunk(t, s, len, 0, 0, it, &n) == 0) kept += n;
    }
    CHECK_MSG(bad == 0, "%ld differences over 20000 random sequences", bad);
    CHECK(kept > 1000); /* the comparison did see kept frames */
}

int main(void)
{
    test_chunk_table();
    test_chunk_brute_force();
    test_codons();
    vnp_translator *t = vnp_translator_create();
    CHECK(t != NULL);
    if (t) {
        test_translation_edges(t);
        test_translation_random(t);
    }
    vnp_translator_free(t);
    vnp_translator_free(NULL);
    VNP_TEST_END();
}
