/* `virnucpro merge`: joins the output folders of `predict --shard I/N` runs into the outputs of one run. */
#include "cli.h"
#include "options.h"
#include "vnp/pipeline.h"
#include "vnp/util.h"

#include <stddef.h>
#include <stdio.h>

typedef struct {
    const char *out;
    int force, quiet, no_report;
    vnp_report_opts ro;
} merge_args;

#define M(f) offsetof(merge_args, f)
static const vnp_opt merge_opts[] = {
    {.name = "output", .short_opt = 'o', .type = VNP_OPT_PATH, .arg = "DIR", .off = M(out),
     .help = "output folder (created if needed); required"},
    {.name = "force", .type = VNP_OPT_FLAG, .off = M(force), .help = "replace another run's results in OUTDIR"},
    VNP_CLI_OPT_NO_REPORT(merge_args, no_report),
    VNP_CLI_OPTS_REGIONS(merge_args, ro),
    {.name = "quiet", .short_opt = 'q', .type = VNP_OPT_FLAG, .off = M(quiet), .help = "errors only"},
};
#undef M

static const vnp_opt_cmd merge_cmd = {
    .name = "merge",
    .synopsis = "virnucpro merge -o OUTDIR SHARD_DIR... [--force]",
    .about =
"Joins the folders written by `virnucpro predict --shard I/N -o SHARD_DIR` (N runs of the same command, each\n"
"finished) into OUTDIR: prediction_results.txt, prediction_results_highestscore.csv, sequence_summary.tsv and,\n"
"when the shards were run with them, the intermediate FASTA files and embeddings.h5, identical to the files of\n"
"one run over all the input. run_summary.json sums the shards' counts and times. viral_regions.tsv and\n"
"report.html are then made from the merged files, as predict makes them. The shard folders are left\n"
"as they are (their blocks are hard-linked where OUTDIR is on the same file system, else copied).",
    .epilog =
"The shards must be of the same inputs (same paths and sizes), models and options, each shard 1..N given once;\n"
"otherwise merge says which folder differs and exits with status 2.\n"
"\n"
"exit status: 0 done; 1 failure while writing; 2 bad usage or shards that do not belong together\n",
    .opts = merge_opts,
    .n_opts = VNP_OPT_COUNT(merge_opts),
};

int vnp_cmd_merge(int argc, char **argv)
{
    merge_args a = {0};
    vnp_report_opts_init(&a.ro);
    int first, prc = vnp_opt_parse(&merge_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    a.ro.html = !a.no_report;
    const char *out = a.out;
    int force = a.force, quiet = a.quiet;
    vnp_report_opts ro = a.ro;
    if (!out) return vnp_opt_usage_error("merge", "-o OUTDIR is required");
    int n = argc - first;
    if (n < 1) return vnp_opt_usage_error("merge", "no SHARD_DIR given");
    vnp_log_set_level(quiet ? VNP_LOG_ERROR : VNP_LOG_WARN);
    double t0 = vnp_time_now();
    int rc = vnp_merge_run(out, (const char *const *)(argv + first), n, force);
    if (rc) return vnp_status_exit_code(rc);
    int ret = vnp_cli_report_write("merge", out, &ro);
    if (ret) return ret;
    if (!quiet) fprintf(stderr, "virnucpro merge: %d shards -> %s (%.2f s)\n", n, out, vnp_time_now() - t0);
    return 0;
}
