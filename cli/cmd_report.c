/* `virnucpro report OUTDIR`: rebuilds viral_regions.tsv and report.html from a finished run's outputs. */
#include "cli.h"
#include "vnp/util.h"

#include <getopt.h>
#include <stdio.h>

static void usage(FILE *out)
{
    fprintf(out,
"usage: virnucpro report OUTDIR [options]\n"
"\n"
"Rebuilds OUTDIR/viral_regions.tsv and OUTDIR/report.html from the outputs of a finished `virnucpro predict`\n"
"or `virnucpro merge` (prediction_results.txt in either --output-style, sequence_summary.tsv and\n"
"run_summary.json), also for runs made before these files existed. predict and merge write both (report.html\n"
"unless --no-report); use this to redo them with other region options, or after --no-report.\n"
"\n"
"Regions are a heuristic over VirNucPro's chunk calls, not a separate model: each chunk's score (its best\n"
"frame's P(virus)) is averaged over a window of chunks, and runs of high smoothed score become regions.\n"
"\n"
"%s"
"  --no-html              write viral_regions.tsv only\n"
"  -q, --quiet            errors only\n"
"  -v, --verbose          say what was written\n"
"\n"
"exit status: 0 done; 1 failure while writing; 2 bad usage or a folder that does not hold a finished run\n",
            vnp_cli_region_help);
}

int vnp_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {VNP_CLI_REGION_LONGOPTS,
                                             {"no-html", no_argument, NULL, VNP_CLI_OPT_NO_REPORT},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    if (vnp_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    vnp_report_opts ro;
    vnp_report_opts_init(&ro);
    int quiet = 0, verbose = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
        int r = vnp_cli_report_option("report", c, optarg, &ro);
        if (r < 0) return 2;
        if (r > 0) continue;
        switch (c) {
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        default: return vnp_cli_usage_error("report", "unknown option");
        }
    }
    if (argc - optind != 1) return vnp_cli_usage_error("report", "expected one OUTDIR, got %d", argc - optind);
    vnp_log_set_level(quiet ? VNP_LOG_ERROR : verbose ? VNP_LOG_INFO : VNP_LOG_WARN);
    return vnp_cli_report_write("report", argv[optind], &ro);
}
