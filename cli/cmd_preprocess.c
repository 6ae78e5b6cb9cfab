/* `virnucpro preprocess`: chunks every input sequence and keeps its stop-free frames, writing the three FASTA
 * files of VirNucPro's preprocessing (spec §1-2) into an output directory. */
#include "cli.h"
#include "options.h"
#include "vnp/io.h"
#include "vnp/seq.h"
#include "vnp/util.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int length, verbose, quiet;
    const char *outdir, *reference;
} preprocess_args;

#define A(f) offsetof(preprocess_args, f)
static const vnp_opt preprocess_opts[] = {
    VNP_CLI_OPT_LENGTH(preprocess_args, length),
    {.name = "output", .short_opt = 'o', .type = VNP_OPT_PATH, .arg = "DIR", .off = A(outdir),
     .help = "output directory (created if needed); it receives\n"
             "  chunked.fa                 the chunks, FASTA wrapped at 60 columns\n"
             "  identified_nucleotide.fa   kept frames, nucleotide slice, one line each\n"
             "  identified_protein.faa     kept frames, protein, one line each\n"
             "Each file is written under a temporary name and renamed when complete."},
    {.name = "reference", .short_opt = 'T', .type = VNP_OPT_PATH, .arg = "FA", .off = A(reference),
     .help = "reference FASTA for decoding CRAM input"},
    {.name = "verbose", .short_opt = 'v', .type = VNP_OPT_FLAG, .off = A(verbose),
     .help = "report counts and throughput on stderr"},
    {.name = "quiet", .short_opt = 'q', .type = VNP_OPT_FLAG, .off = A(quiet), .help = "report errors only"},
};
#undef A

static const vnp_opt_cmd preprocess_cmd = {
    .name = "preprocess",
    .synopsis = "virnucpro preprocess INPUT -l 300|500 -o DIR [options]",
    .about =
"Cuts every sequence of INPUT into chunks of the model length, translates each chunk in six frames and\n"
"keeps the frames without a stop codon, exactly as VirNucPro does before embedding.\n"
"\n"
"INPUT   FASTA or FASTQ (plain, gzip or bgzip), SAM, BAM or CRAM; '-' reads standard input.\n"
"        The format is recognised from the content. SAM/BAM/CRAM: one record per read, secondary and\n"
"        supplementary alignments skipped, reverse-strand reads restored to their original\n"
"        orientation, '/1' or '/2' appended to paired read names (as `samtools fasta -N`).",
    .epilog =
"Ids: chunk '<id>_chunk_<n>', frame '<id>_chunk_<n>F1'..'F3' (forward) and 'R1'..'R3' (reverse).\n"
"exit status: 0 success (also for an empty input), 1 failure while running (e.g. a truncated\n"
"gzip/BAM file), 2 bad usage or bad input (missing file, not a sequence format).\n",
    .opts = preprocess_opts,
    .n_opts = VNP_OPT_COUNT(preprocess_opts),
};

/* Outputs and scratch of one run. */
typedef struct {
    vnp_fasta_writer *chunks, *nuc, *prot;
    vnp_translator *tr;
    vnp_idset *ids;
    vnp_buf cid; /* the current chunk id, then a frame id */
    uint64_t records, chunks_n, frames, bases;
    uint64_t dup_records, nonacgt_chars, nonacgt_records;
    char first_dup[128];
} run_state;

/* Writes "_chunk_<c>" after the id in s->cid. */
static int make_chunk_id(run_state *s, const vnp_seqrecord *rec, uint64_t c)
{
    char num[32];
    int n = snprintf(num, sizeof num, "_chunk_%llu", (unsigned long long)c);
    s->cid.len = 0;
    /* Room for the frame label too, so that appending it cannot fail. */
    if (vnp_buf_reserve(&s->cid, rec->id_len + (size_t)n + 2)) {
        vnp_error("out of memory");
        return VNP_ERR_NOMEM;
    }
    memcpy(s->cid.data, rec->id, rec->id_len);
    memcpy(s->cid.data + rec->id_len, num, (size_t)n + 1);
    s->cid.len = rec->id_len + (size_t)n;
    return VNP_OK;
}

static int process_record(run_state *s, const vnp_seqrecord *rec, size_t k)
{
    int rc;
    size_t bad = vnp_seq_count_non_acgt(rec->seq, rec->seq_len);
    if (bad) {
        s->nonacgt_chars += bad;
        s->nonacgt_records++;
    }
    if ((rc = vnp_idset_add(s->ids, rec->id, rec->id_len)) < 0) return rc;
    if (rc == 1 && s->dup_records++ == 0) snprintf(s->first_dup, sizeof s->first_dup, "%s", rec->id);
    s->bases += rec->seq_len;
    size_t nc = vnp_chunk_count(rec->seq_len, k);
    for (size_t c = 0; c < nc; c++) {
        vnp_chunk ch = vnp_chunk_get(rec->seq_len, k, c);
        const char *cs = rec->seq + ch.offset;
        if ((rc = make_chunk_id(s, rec, c + 1)) < 0) return rc;
        if ((rc = vnp_fasta_writer_put(s->chunks, s->cid.data, s->cid.len, cs, ch.length)) < 0) return rc;
        vnp_work_item items[VNP_NFRAMES];
        int kept = 0;
        if ((rc = vnp_translate_chunk(s->tr, cs, ch.length, rec->index, c, items, &kept)) < 0) return rc;
        size_t base = s->cid.len;
        for (int i = 0; i < kept; i++) {
            memcpy(s->cid.data + base, vnp_frame_label(items[i].frame), 2);
            s->cid.len = base + 2;
            if ((rc = vnp_fasta_writer_put(s->nuc, s->cid.data, s->cid.len, items[i].nuc, items[i].nuc_len)) < 0 ||
                (rc = vnp_fasta_writer_put(s->prot, s->cid.data, s->cid.len, items[i].prot, items[i].prot_len)) < 0)
                return rc;
        }
        s->frames += (uint64_t)kept;
    }
    s->chunks_n += nc;
    s->records++;
    return VNP_OK;
}

static void report(const run_state *s, const char *input, double secs)
{
    if (s->dup_records)
        vnp_warn("%llu record(s) of '%s' repeat an earlier id (first: '%s'); each is processed as a separate "
                 "record, so their chunk and frame ids repeat too",
                 (unsigned long long)s->dup_records, input, s->first_dup);
    if (s->ids && vnp_idset_full(s->ids))
        vnp_info("more than %u records: ids after that many were not checked for repeats", VNP_IDSET_MAX_IDS);
    if (s->nonacgt_chars)
        vnp_warn("%llu character(s) outside ACGT in %llu record(s) of '%s'; as in VirNucPro, every codon "
                 "containing one is dropped from the translations",
                 (unsigned long long)s->nonacgt_chars, (unsigned long long)s->nonacgt_records, input);
    vnp_info("%llu records, %llu bases, %llu chunks, %llu frames kept in %.2f s (%.1f MB/s of sequence)",
             (unsigned long long)s->records, (unsigned long long)s->bases, (unsigned long long)s->chunks_n,
             (unsigned long long)s->frames, secs, secs > 0 ? (double)s->bases / secs / 1e6 : 0.0);
}

static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int run(const char *input, size_t k, const char *outdir, const vnp_seqreader_opts *opts)
{
    double t0 = vnp_time_now();
    run_state s;
    memset(&s, 0, sizeof s);
    vnp_seqreader *r = NULL;
    int rc = vnp_seqreader_open(&r, input, opts);
    if (rc) return rc;
    if ((rc = vnp_mkdir_p(outdir)) != VNP_OK) goto done;
    char p1[4096], p2[4096], p3[4096];
    if (join_path(p1, sizeof p1, outdir, "chunked.fa") || join_path(p2, sizeof p2, outdir, "identified_nucleotide.fa") ||
        join_path(p3, sizeof p3, outdir, "identified_protein.faa")) {
        vnp_error("output directory name too long: '%s'", outdir);
        rc = VNP_ERR_USAGE;
        goto done;
    }
    s.chunks = vnp_fasta_writer_open(p1, 60);
    s.nuc = vnp_fasta_writer_open(p2, 0);
    s.prot = vnp_fasta_writer_open(p3, 0);
    s.tr = vnp_translator_create();
    s.ids = vnp_idset_create();
    if (!s.chunks || !s.nuc || !s.prot || !s.tr || !s.ids) {
        rc = s.tr && s.ids ? VNP_ERR_IO : VNP_ERR_NOMEM;
        goto done;
    }
    vnp_seqrecord rec;
    while ((rc = vnp_seqreader_next(r, &rec)) == 1)
        if ((rc = process_record(&s, &rec, k)) < 0) break;
    if (rc == 0) {
        /* Commit each file; on a failure the ones not yet committed are removed. */
        rc = vnp_fasta_writer_commit(s.chunks);
        s.chunks = NULL;
        if (rc == 0) rc = vnp_fasta_writer_commit(s.nuc);
        s.nuc = NULL;
        if (rc == 0) rc = vnp_fasta_writer_commit(s.prot);
        s.prot = NULL;
    }
done:
    vnp_fasta_writer_abort(s.chunks);
    vnp_fasta_writer_abort(s.nuc);
    vnp_fasta_writer_abort(s.prot);
    report(&s, vnp_seqreader_name(r), vnp_time_now() - t0);
    vnp_translator_free(s.tr);
    vnp_idset_free(s.ids);
    vnp_buf_free(&s.cid);
    vnp_seqreader_close(r);
    return rc;
}

int vnp_cmd_preprocess(int argc, char **argv)
{
    preprocess_args a = {0};
    int first, prc = vnp_opt_parse(&preprocess_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    if (a.verbose) vnp_log_set_level(VNP_LOG_INFO);
    if (a.quiet) vnp_log_set_level(VNP_LOG_ERROR);
    long k = a.length;
    const char *outdir = a.outdir;
    vnp_seqreader_opts opts = {0};
    opts.reference = a.reference;
    if (first >= argc) return vnp_opt_usage_error("preprocess", "missing INPUT (a file, or '-' for standard input)");
    if (argc - first > 1) return vnp_opt_usage_error("preprocess", "one INPUT expected, got %d", argc - first);
    if (!k) return vnp_opt_usage_error("preprocess", "missing -l/--length (300 or 500)");
    if (!outdir || !*outdir) return vnp_opt_usage_error("preprocess", "missing -o/--output DIR");
    int rc = run(argv[first], (size_t)k, outdir, &opts);
    return vnp_status_exit_code(rc);
}
