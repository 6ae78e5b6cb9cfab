/* Unit tests for io/: FASTA/FASTQ parsing (line endings, whitespace, empty records, syntax errors), gzip and BGZF,
 * SAM/BAM/CRAM reads (names with /1 /2, reverse-strand reads, skipped secondary/supplementary), bad and truncated
 * inputs, the duplicate-id set, FASTA writers and output directories. Files are generated into a temporary
 * directory. */
#define _GNU_SOURCE
#include "io/io_internal.h" /* VNP_LINES_BLOCK, for line endings that straddle a block edge */
#include "vnp/io.h"
#include "vnp_test.h"

#include <htslib/bgzf.h>
#include <htslib/cram.h>
#include <htslib/sam.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[] = "/tmp/vnp_test_io_XXXXXX";

static const char *tpath(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, n, f) == n);
    fclose(f);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return (size_t)-1;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void write_gzip(const char *path, const char *data, size_t n)
{
    gzFile g = gzopen(path, "wb");
    CHECK(g != NULL);
    if (!g) return;
    CHECK(gzwrite(g, data, (unsigned)n) == (int)n);
    gzclose(g);
}

static void write_bgzf(const char *path, const char *data, size_t n)
{
    BGZF *b = bgzf_open(path, "w");
    CHECK(b != NULL);
    if (!b) return;
    CHECK(bgzf_write(b, data, n) == (ssize_t)n);
    CHECK(bgzf_close(b) == 0);
}

/* Reads every record of path into "id=seq;" text (at most cap bytes); returns the reader's final status (0 at a
 * clean end) and stores the record count. */
static int slurp(const char *path, char *out, size_t cap, int *nrec)
{
    vnp_seqreader *r = NULL;
    int rc = vnp_seqreader_open(&r, path, NULL);
    *nrec = 0;
    out[0] = '\0';
    if (rc) return rc;
    size_t used = 0;
    int bad = 0;
    vnp_seqrecord rec;
    while ((rc = vnp_seqreader_next(r, &rec)) == 1) {
        bad += rec.index != (uint64_t)*nrec || strlen(rec.id) != rec.id_len || strlen(rec.seq) != rec.seq_len;
        int w = snprintf(out + used, cap - used, "%s=%s;", rec.id, rec.seq);
        if (w > 0 && (size_t)w < cap - used) used += (size_t)w;
        (*nrec)++;
    }
    CHECK_MSG(bad == 0, "%s: %d records with a wrong index or length", path, bad);
    CHECK(vnp_seqreader_next(r, &rec) == rc); /* sticky */
    CHECK_EQ_INT(vnp_seqreader_count(r), *nrec);
    vnp_seqreader_close(r);
    return rc;
}

static void expect_records(const char *name, const char *content, size_t n, const char *want, int want_n)
{
    char got[4096];
    int nrec;
    write_file(tpath(name), content, n);
    int rc = slurp(tpath(name), got, sizeof got, &nrec);
    CHECK_MSG(rc == 0, "%s: status %d", name, rc);
    CHECK_MSG(nrec == want_n, "%s: %d records, want %d", name, nrec, want_n);
    CHECK_MSG(strcmp(got, want) == 0, "%s: got '%s' want '%s'", name, got, want);
}

static void expect_status(const char *name, int want)
{
    char got[4096];
    int nrec;
    vnp_log_level lv = vnp_log_get_level();
    vnp_log_set_level(VNP_LOG_QUIET);
    int rc = slurp(tpath(name), got, sizeof got, &nrec);
    vnp_log_set_level(lv);
    CHECK_MSG(rc == want, "%s: status %d (%s), want %d", name, rc, vnp_status_str(rc), want);
}

static void test_fasta(void)
{
    const char a[] = ">r1 some description\nACGT\nacgt\n>r2\n\n>r3\tx\nAC GT \n  NN\t\n";
    expect_records("a.fa", a, sizeof a - 1, "r1=ACGTacgt;r2=;r3=ACGTNN;", 3);
    /* Windows and old Mac line endings (Python universal newlines), no final newline. */
    const char crlf[] = ">r1 d\r\nAC\r\nGT\r>r2\rTT";
    expect_records("crlf.fa", crlf, sizeof crlf - 1, "r1=ACGT;r2=TT;", 2);
    /* An empty header gives an empty id; leading blank lines are skipped; a line " >x" is sequence. */
    const char odd[] = "\n\n>\nAC\n> \t id2 rest\nG >x\n";
    expect_records("odd.fa", odd, sizeof odd - 1, "=AC;id2=G>x;", 2);
    /* Inner tabs survive (str.strip() only trims the ends, then only spaces are removed). */
    const char tab[] = ">t\nA\tC\n";
    expect_records("tab.fa", tab, sizeof tab - 1, "t=A\tC;", 1);
    /* Only a header. */
    expect_records("hdr.fa", ">only", 5, "only=;", 1);
    /* Empty file. */
    expect_records("empty.fa", "", 0, "", 0);
    /* A line longer than the reader's block (1 MiB) crosses block edges. */
    size_t big = (3u << 20) + 17;
    char *s = malloc(big + 16);
    CHECK(s != NULL);
    if (s) {
        memcpy(s, ">big\n", 5);
        for (size_t i = 0; i < big; i++) s[5 + i] = "ACGT"[i % 4];
        memcpy(s + 5 + big, "\r\n>z\nA\n", 7);
        write_file(tpath("big.fa"), s, big + 12);
        vnp_seqreader *r = NULL;
        vnp_seqrecord rec;
        CHECK(vnp_seqreader_open(&r, tpath("big.fa"), NULL) == 0);
        if (r) {
            CHECK(vnp_seqreader_format(r) == VNP_SEQFMT_FASTA);
            CHECK(vnp_seqreader_next(r, &rec) == 1 && rec.seq_len == big && memcmp(rec.seq, s + 5, big) == 0);
            CHECK(vnp_seqreader_next(r, &rec) == 1 && strcmp(rec.id, "z") == 0 && strcmp(rec.seq, "A") == 0);
            CHECK(rec.line == 3);
            CHECK(vnp_seqreader_next(r, &rec) == 0);
        }
        vnp_seqreader_close(r);
        free(s);
    }
}

/* A "\r\n" split across the reader's block edge ends one line, not two (line numbers show it), and a line that
 * crosses the edge is joined. */
static void test_block_edges(void)
{
    size_t B = VNP_LINES_BLOCK;
    char *s = malloc(2 * B + 64);
    CHECK(s != NULL);
    if (!s) return;
    for (int shift = -2; shift <= 1; shift++) {
        size_t n = 0;
        memcpy(s, ">a\r\n", 4);
        n = 4;
        /* Sequence up to the edge, then "\r\n" placed so that the edge falls before, between or after them. */
        size_t upto = (size_t)((long)B - 1 + shift);
        while (n < upto) s[n++] = 'A';
        const char *tail = "\r\n\r\n>b\r\nC\r\n";
        memcpy(s + n, tail, strlen(tail));
        n += strlen(tail);
        write_file(tpath("edge.fa"), s, n);
        vnp_seqreader *r = NULL;
        vnp_seqrecord rec;
        CHECK(vnp_seqreader_open(&r, tpath("edge.fa"), NULL) == 0);
        if (!r) continue;
        CHECK(vnp_seqreader_next(r, &rec) == 1 && rec.seq_len == upto - 4);
        CHECK(vnp_seqreader_next(r, &rec) == 1 && strcmp(rec.id, "b") == 0 && strcmp(rec.seq, "C") == 0);
        CHECK(rec.line == 4); /* ">a", sequence, an empty line, ">b": CRLF counted once */
        CHECK(vnp_seqreader_next(r, &rec) == 0);
        vnp_seqreader_close(r);
    }
    free(s);
}

static void test_compressed(void)
{
    const char a[] = ">r1 x\nACGT\nAC\n>r2\nGG\n";
    write_gzip(tpath("a.fa.gz"), a, sizeof a - 1);
    write_bgzf(tpath("a.fa.bgz"), a, sizeof a - 1);
    char got[256];
    int nrec;
    CHECK(slurp(tpath("a.fa.gz"), got, sizeof got, &nrec) == 0 && strcmp(got, "r1=ACGTAC;r2=GG;") == 0);
    CHECK(slurp(tpath("a.fa.bgz"), got, sizeof got, &nrec) == 0 && strcmp(got, "r1=ACGTAC;r2=GG;") == 0);
    /* The name does not matter: gzip content under a .txt name. */
    rename(tpath("a.fa.gz"), tpath("gz.txt"));
    CHECK(slurp(tpath("gz.txt"), got, sizeof got, &nrec) == 0 && nrec == 2);
    /* Two gzip members one after the other (`cat a.gz b.gz`). */
    gzFile g = gzopen(tpath("multi.gz"), "wb");
    CHECK(g != NULL);
    if (g) {
        CHECK(gzputs(g, ">m1\nAC\n") > 0);
        gzclose(g);
    }
    FILE *f = fopen(tpath("multi.gz"), "ab");
    char part[512];
    size_t np = 0;
    write_gzip(tpath("part.gz"), ">m2\nGT\n", 7);
    np = read_file(tpath("part.gz"), part, sizeof part);
    if (f) {
        fwrite(part, 1, np, f);
        fclose(f);
    }
    CHECK(slurp(tpath("multi.gz"), got, sizeof got, &nrec) == 0 && strcmp(got, "m1=AC;m2=GT;") == 0);

    /* Truncation: a larger random FASTA, cut in the middle of the compressed data. */
    size_t n = 400000;
    char *fa = malloc(n), *z = malloc(n);
    CHECK(fa && z);
    if (!fa || !z) return;
    size_t used = 0;
    for (int i = 0; used + 200 < n; i++) {
        used += (size_t)snprintf(fa + used, n - used, ">s%d\n", i);
        for (int j = 0; j < 120; j++) fa[used++] = "ACGT"[(i * 7 + j * j) % 4];
        fa[used++] = '\n';
    }
    write_gzip(tpath("t.fa.gz"), fa, used);
    write_bgzf(tpath("t.fa.bgz"), fa, used);
    size_t zn = read_file(tpath("t.fa.gz"), z, n);
    write_file(tpath("cut.fa.gz"), z, zn / 2);
    zn = read_file(tpath("t.fa.bgz"), z, n);
    write_file(tpath("cut.fa.bgz"), z, zn / 2);
    write_file(tpath("noeof.fa.bgz"), z, zn - 28); /* cut exactly at a block edge: only the EOF block is missing */
    expect_status("cut.fa.gz", VNP_ERR_TRUNCATED);
    expect_status("cut.fa.bgz", VNP_ERR_TRUNCATED);
    expect_status("noeof.fa.bgz", VNP_ERR_TRUNCATED);
    free(fa);
    free(z);
}

static void test_fastq(void)
{
    const char q[] = "@r1 desc\nACGT\n+\nIIII\n@r2\nAC\nGT\n+r2\nII\nII\n\n@r3\n\n+\n\n@r4\nA\n+\n@\n";
    expect_records("a.fq", q, sizeof q - 1, "r1=ACGT;r2=ACGT;r3=;r4=A;", 4);
    const char q2[] = "@e\n+\n@f\nAC\n+\nII\n"; /* empty sequence without its empty quality line */
    expect_records("b.fq", q2, sizeof q2 - 1, "e=;f=AC;", 2);
    const char bad1[] = "@r1\nACGT\n+\nIII\n@r2\nA\n+\nI\n";
    write_file(tpath("badq.fq"), bad1, sizeof bad1 - 1);
    expect_status("badq.fq", VNP_ERR_FORMAT);
    const char bad2[] = "@r1\nACGT\n";
    write_file(tpath("noplus.fq"), bad2, sizeof bad2 - 1);
    expect_status("noplus.fq", VNP_ERR_FORMAT);
    const char bad3[] = "@r1\nACGT\n+\nIIII\nr2\nAC\n";
    write_file(tpath("nohdr.fq"), bad3, sizeof bad3 - 1);
    expect_status("nohdr.fq", VNP_ERR_FORMAT);
}

static void test_bad_inputs(void)
{
    expect_status("does-not-exist.fa", VNP_ERR_NOTFOUND);
    mkdir(tpath("adir"), 0755);
    expect_status("adir", VNP_ERR_NOTFOUND);
    const unsigned char bin[] = {0, 1, 2, 3, 0xff, 0xfe, 'x', 'y'};
    write_file(tpath("bin.dat"), bin, sizeof bin);
    expect_status("bin.dat", VNP_ERR_FORMAT);
    write_file(tpath("hello.txt"), "hello world\n", 12);
    expect_status("hello.txt", VNP_ERR_FORMAT);
    /* A NUL byte inside a sequence line: a syntax error naming the line. */
    write_file(tpath("nul.fa"), ">a\nAC\nG\0T\n", 10);
    expect_status("nul.fa", VNP_ERR_FORMAT);
    /* Other formats htslib knows are still not sequences. */
    write_file(tpath("v.vcf"), "##fileformat=VCFv4.2\n", 21);
    expect_status("v.vcf", VNP_ERR_FORMAT);
}

/* ---- SAM / BAM / CRAM ---- */

static const char SAM_TEXT[] =
    "@HD\tVN:1.6\tSO:unsorted\n"
    "@SQ\tSN:c\tLN:100\n"
    "fwd\t0\tc\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
    "rev\t16\tc\t1\t60\t5M\t*\t0\t0\tAACGN\tIIIII\n"
    "pair\t65\tc\t1\t60\t4M\t*\t0\t0\tACGA\tIIII\n"
    "pair\t145\tc\t1\t60\t4M\t*\t0\t0\tACGG\tIIII\n"
    "sec\t256\tc\t1\t60\t4M\t*\t0\t0\tACGG\tIIII\n"
    "supp\t2048\tc\t1\t60\t4M\t*\t0\t0\tACGG\tIIII\n"
    "both\t193\tc\t1\t60\t4M\t*\t0\t0\tACGG\tIIII\n"
    "unpaired1\t68\t*\t0\t0\t*\t*\t0\t0\tACGT\t*\n"
    "noseq\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\n"
    "iupac\t20\t*\t0\t0\t*\t*\t0\t0\tAMRWSYKVHDBN\t*\n";
/* What `samtools fasta -N` (1.16) prints for it. */
static const char SAM_WANT[] = "fwd=ACGT;rev=NCGTT;pair/1=ACGA;pair/2=CCGT;both=ACGG;unpaired1=ACGT;"
                               "iupac=NVHDBMRSWYKT;";

/* Converts the SAM file to BAM or CRAM with htslib (mode "wb" or "wc"). */
static int convert(const char *in, const char *out, const char *mode)
{
    samFile *fi = sam_open(in, "r"), *fo = sam_open(out, mode);
    if (!fi || !fo) return -1;
    if (mode[1] == 'c' && hts_set_opt(fo, CRAM_OPT_NO_REF, 1) != 0) return -1;
    sam_hdr_t *h = sam_hdr_read(fi);
    bam1_t *b = bam_init1();
    int ok = h && b && sam_hdr_write(fo, h) == 0;
    int ret;
    while (ok && (ret = sam_read1(fi, h, b)) >= 0) ok = sam_write1(fo, h, b) >= 0;
    bam_destroy1(b);
    sam_hdr_destroy(h);
    ok = (sam_close(fi) == 0) & ok;
    ok = (sam_close(fo) == 0) & ok;
    return ok ? 0 : -1;
}

static void test_sam_bam_cram(void)
{
    write_file(tpath("a.sam"), SAM_TEXT, sizeof SAM_TEXT - 1);
    CHECK(convert(tpath("a.sam"), tpath("a.bam"), "wb") == 0);
    CHECK(convert(tpath("a.sam"), tpath("a.cram"), "wc") == 0);
    const char *files[] = {"a.sam", "a.bam", "a.cram"};
    const vnp_seqformat fmts[] = {VNP_SEQFMT_SAM, VNP_SEQFMT_BAM, VNP_SEQFMT_CRAM};
    for (int i = 0; i < 3; i++) {
        char got[1024];
        int nrec;
        int rc = slurp(tpath(files[i]), got, sizeof got, &nrec);
        CHECK_MSG(rc == 0 && strcmp(got, SAM_WANT) == 0, "%s: rc %d got '%s'", files[i], rc, got);
        vnp_seqreader *r = NULL;
        CHECK(vnp_seqreader_open(&r, tpath(files[i]), NULL) == 0);
        if (r) CHECK_EQ_INT(vnp_seqreader_format(r), fmts[i]);
        vnp_seqreader_close(r);
    }
    /* A BAM cut in the middle of its records, and one whose last (EOF) block is missing. Many reads so that the
     * records span several BGZF blocks. */
    FILE *f = fopen(tpath("many.sam"), "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "@HD\tVN:1.6\n");
    for (int i = 0; i < 6000; i++) {
        fprintf(f, "read%d\t4\t*\t0\t0\t*\t*\t0\t0\t", i);
        for (int j = 0; j < 100; j++) fputc("ACGT"[(i + j * j) % 4], f);
        fprintf(f, "\t*\n");
    }
    fclose(f);
    CHECK(convert(tpath("many.sam"), tpath("many.bam"), "wb") == 0);
    static char z[1 << 20];
    size_t zn = read_file(tpath("many.bam"), z, sizeof z);
    CHECK(zn > 20000 && zn < sizeof z);
    write_file(tpath("cut.bam"), z, zn * 2 / 3);
    write_file(tpath("noeof.bam"), z, zn - 28);
    char got[64];
    int nrec;
    vnp_log_set_level(VNP_LOG_QUIET);
    CHECK(slurp(tpath("many.bam"), got, sizeof got, &nrec) == 0 && nrec == 6000);
    CHECK(slurp(tpath("cut.bam"), got, sizeof got, &nrec) == VNP_ERR_TRUNCATED && nrec > 0 && nrec < 6000);
    CHECK(slurp(tpath("noeof.bam"), got, sizeof got, &nrec) == VNP_ERR_TRUNCATED);
    vnp_log_set_level(VNP_LOG_WARN);
}

/* ---- ids, writers, directories ---- */

static void test_idset(void)
{
    vnp_idset *s = vnp_idset_create();
    CHECK(s != NULL);
    if (!s) return;
    char id[32];
    int dups = 0;
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(id, sizeof id, "read%d", i);
        dups += vnp_idset_add(s, id, (size_t)n);
    }
    CHECK_EQ_INT(dups, 0);
    CHECK(vnp_idset_add(s, "read5", 5) == 1);
    CHECK(vnp_idset_add(s, "read99999", 9) == 1);
    CHECK(vnp_idset_add(s, "read100000", 10) == 0);
    CHECK(vnp_idset_add(s, "", 0) == 0 && vnp_idset_add(s, "", 0) == 1);
    CHECK(!vnp_idset_full(s));
    vnp_idset_free(s);
    vnp_idset_free(NULL);
}

static void test_writer(void)
{
    char seq[200];
    for (int i = 0; i < 200; i++) seq[i] = "ACGT"[i % 4];
    vnp_fasta_writer *w = vnp_fasta_writer_open(tpath("w60.fa"), 60);
    CHECK(w != NULL);
    if (!w) return;
    const size_t lens[] = {0, 1, 59, 60, 61, 120, 121};
    for (size_t i = 0; i < 7; i++) CHECK(vnp_fasta_writer_put(w, "x", 1, seq, lens[i]) == 0);
    /* Not visible under its final name until committed. */
    struct stat st;
    CHECK(stat(tpath("w60.fa"), &st) != 0);
    CHECK(vnp_fasta_writer_commit(w) == 0);
    char got[2048];
    size_t n = read_file(tpath("w60.fa"), got, sizeof got);
    /* Expected, built as ref_preprocess.write_fasta(width=60) builds it. */
    char want[2048];
    size_t m = 0;
    for (size_t i = 0; i < 7; i++) {
        m += (size_t)snprintf(want + m, sizeof want - m, ">x\n");
        for (size_t j = 0; j < lens[i]; j += 60) {
            size_t k = lens[i] - j < 60 ? lens[i] - j : 60;
            memcpy(want + m, seq + j, k);
            m += k;
            want[m++] = '\n';
        }
        if (lens[i] == 0) want[m++] = '\n';
    }
    CHECK(n == m && memcmp(got, want, m) == 0);

    w = vnp_fasta_writer_open(tpath("w0.fa"), 0);
    CHECK(w != NULL);
    if (!w) return;
    CHECK(vnp_fasta_writer_put(w, "a", 1, seq, 150) == 0 && vnp_fasta_writer_put(w, "b", 1, "", 0) == 0);
    CHECK(vnp_fasta_writer_commit(w) == 0);
    n = read_file(tpath("w0.fa"), got, sizeof got);
    CHECK(n == 3 + 151 + 4 && memcmp(got, ">a\nACGTACGT", 11) == 0 && memcmp(got + n - 4, ">b\n\n", 4) == 0);

    /* Abort leaves nothing behind. */
    w = vnp_fasta_writer_open(tpath("gone.fa"), 60);
    CHECK(w != NULL);
    CHECK(vnp_fasta_writer_put(w, "x", 1, "AC", 2) == 0);
    vnp_fasta_writer_abort(w);
    vnp_fasta_writer_abort(NULL);
    CHECK(stat(tpath("gone.fa"), &st) != 0);
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", tpath("gone.fa"), (long)getpid());
    CHECK(stat(tmpname, &st) != 0);
}

static void test_mkdir(void)
{
    CHECK(vnp_mkdir_p(tpath("d1/d2/d3")) == 0);
    struct stat st;
    CHECK(stat(tpath("d1/d2/d3"), &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(vnp_mkdir_p(tpath("d1/d2/d3/")) == 0); /* exists already; trailing slash */
    write_file(tpath("afile"), "x", 1);
    vnp_log_set_level(VNP_LOG_QUIET);
    CHECK(vnp_mkdir_p(tpath("afile")) == VNP_ERR_NOTFOUND);
    CHECK(vnp_mkdir_p(tpath("afile/sub")) == VNP_ERR_NOTFOUND);
    vnp_log_set_level(VNP_LOG_WARN);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_fasta();
    test_block_edges();
    test_compressed();
    test_fastq();
    test_bad_inputs();
    test_sam_bam_cram();
    test_idset();
    test_writer();
    test_mkdir();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    VNP_TEST_END();
}
