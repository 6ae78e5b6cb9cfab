/* `virnucpro merge`: joins the output folders of `predict --shard I/N` runs into the outputs of one run. */
#include "cli.h"
#include "vnp/pipeline.h"
#include "vnp/util.h"

#include <getopt.h>
#include <stdio.h>

static void usage(FILE *out)
{
    fprintf(out,
"usage: virnucpro merge -o OUTDIR SHARD_DIR... [--force]\n"
"\n"
"Joins the folders written by `virnucpro predict --shard I/N -o SHARD_DIR` (N runs of the same command, each\n"
"finished) into OUTDIR: prediction_results.txt, prediction_results_highestscore.csv, sequence_summary.tsv and,\n"
"when the shards were run with them, the intermediate FASTA files and embeddings.h5, identical to the files of\n"
"one run over all the input. run_summary.json sums the shards' counts and times. viral_regions.tsv and\n"
"report.html are then made from the merged files, as predict makes them. The shard folders are left\n"
"as they are (their blocks are hard-linked where OUTDIR is on the same file system, else copied).\n"
"\n"
"  -o, --output DIR   output folder (created if needed)\n"
"  --force            replace another run's results in OUTDIR\n"
"  --no-report        do not write report.html (`virnucpro report OUTDIR` can, later)\n"
"%s"
"  -q, --quiet        errors only\n"
"\n"
"The shards must be of the same inputs (same paths and sizes), models and options, each shard 1..N given once;\n"
"otherwise merge says which folder differs and exits with status 2.\n"
"\n"
"exit status: 0 done; 1 failure while writing; 2 bad usage or shards that do not belong together\n",
            vnp_cli_region_help);
}

int vnp_cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"no-report", no_argument, NULL, VNP_CLI_OPT_NO_REPORT},
                                             VNP_CLI_REGION_LONGOPTS,
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    if (vnp_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *out = NULL;
    int force = 0, quiet = 0, c;
    vnp_report_opts ro;
    vnp_report_opts_init(&ro);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        int r = vnp_cli_report_option("merge", c, optarg, &ro);
        if (r < 0) return 2;
        if (r > 0) continue;
        switch (c) {
        case 'o': out = optarg; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        default: return vnp_cli_usage_error("merge", "unknown option");
        }
    }
    if (!out) return vnp_cli_usage_error("merge", "-o OUTDIR is required");
    int n = argc - optind;
    if (n < 1) return vnp_cli_usage_error("merge", "no SHARD_DIR given");
    vnp_log_set_level(quiet ? VNP_LOG_ERROR : VNP_LOG_WARN);
    double t0 = vnp_time_now();
    int rc = vnp_merge_run(out, (const char *const *)(argv + optind), n, force);
    if (rc) return vnp_status_exit_code(rc);
    int ret = vnp_cli_report_write("merge", out, &ro);
    if (ret) return ret;
    if (!quiet) fprintf(stderr, "virnucpro merge: %d shards -> %s (%.2f s)\n", n, out, vnp_time_now() - t0);
    return 0;
}
