/* `virnucpro report OUTDIR`: rebuilds viral_regions.tsv and report.html from a finished run's outputs. */
#include "cli.h"
#include "options.h"
#include "vnp/util.h"

#include <stddef.h>
#include <stdio.h>

typedef struct {
    vnp_report_opts ro;
    int no_html, quiet, verbose;
} report_args;

static const vnp_opt report_opts[] = {
    VNP_CLI_OPTS_REGIONS(report_args, ro),
    {.name = "no-html", .type = VNP_OPT_FLAG, .off = offsetof(report_args, no_html),
     .help = "write viral_regions.tsv only"},
    {.name = "quiet", .short_opt = 'q', .type = VNP_OPT_FLAG, .off = offsetof(report_args, quiet),
     .help = "errors only"},
    {.name = "verbose", .short_opt = 'v', .type = VNP_OPT_FLAG, .off = offsetof(report_args, verbose),
     .help = "say what was written"},
};

static const vnp_opt_cmd report_cmd = {
    .name = "report",
    .synopsis = "virnucpro report OUTDIR [options]",
    .about =
"Rebuilds OUTDIR/viral_regions.tsv and OUTDIR/report.html from the outputs of a finished `virnucpro predict`\n"
"or `virnucpro merge` (prediction_results.txt in either --output-style, sequence_summary.tsv and\n"
"run_summary.json), also for runs made before these files existed. predict and merge write both (report.html\n"
"unless --no-report); use this to redo them with other region options, or after --no-report.\n"
"\n"
"Regions are a heuristic over VirNucPro's chunk calls, not a separate model: each chunk's score (its best\n"
"frame's P(virus)) is averaged over a window of chunks, and runs of high smoothed score become regions.",
    .epilog = "exit status: 0 done; 1 failure while writing; 2 bad usage or a folder that does not hold a finished "
              "run\n",
    .opts = report_opts,
    .n_opts = VNP_OPT_COUNT(report_opts),
};

int vnp_cmd_report(int argc, char **argv)
{
    report_args a = {0};
    vnp_report_opts_init(&a.ro);
    int first, prc = vnp_opt_parse(&report_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    a.ro.html = !a.no_html;
    if (argc - first != 1) return vnp_opt_usage_error("report", "expected one OUTDIR, got %d", argc - first);
    vnp_log_set_level(a.quiet ? VNP_LOG_ERROR : a.verbose ? VNP_LOG_INFO : VNP_LOG_WARN);
    return vnp_cli_report_write("report", argv[first], &a.ro);
}
