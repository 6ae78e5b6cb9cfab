/* The options of viral region calling and report.html, shared by predict, merge and report. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

const char vnp_cli_region_help[] =
"  --region-min-score X   smoothed chunk score at or above which a chunk is inside a viral region\n"
"                         (default " VNP_XSTR(VNP_REGION_DEFAULT_MIN_SCORE) ")\n"
"  --region-window N      chunks averaged around each chunk before regions are called, odd\n"
"                         (default " VNP_XSTR(VNP_REGION_DEFAULT_WINDOW) "; 1: no smoothing)\n"
"  --region-min-chunks N  shortest region, in chunks (default " VNP_XSTR(VNP_REGION_DEFAULT_MIN_CHUNKS) ")\n"
"  --region-min-seq-chunks N  sequences with fewer chunks get no regions (default "
VNP_XSTR(VNP_REGION_DEFAULT_MIN_SEQ_CHUNKS) ")\n";

int vnp_cli_report_option(const char *cmd, int c, const char *arg, vnp_report_opts *o)
{
    long v;
    switch (c) {
    case VNP_CLI_OPT_NO_REPORT: o->html = 0; return 1;
    case VNP_CLI_OPT_REGION_SCORE: {
        char *end;
        errno = 0;
        double x = strtod(arg, &end);
        if (errno || end == arg || *end || !(x > 0 && x <= 1)) {
            vnp_cli_usage_error(cmd, "--region-min-score expects a number in (0, 1], got '%s'", arg);
            return -1;
        }
        o->regions.min_score = x;
        return 1;
    }
    case VNP_CLI_OPT_REGION_WINDOW:
        if ((v = vnp_cli_parse_long("--region-window", arg, 1, 1001)) < 0) return -1;
        if (v % 2 == 0) {
            vnp_cli_usage_error(cmd, "--region-window expects an odd number of chunks, got %ld", v);
            return -1;
        }
        o->regions.window = (int)v;
        return 1;
    case VNP_CLI_OPT_REGION_CHUNKS:
        if ((v = vnp_cli_parse_long("--region-min-chunks", arg, 1, 1000000)) < 0) return -1;
        o->regions.min_chunks = (int)v;
        return 1;
    case VNP_CLI_OPT_REGION_SEQ_CHUNKS:
        if ((v = vnp_cli_parse_long("--region-min-seq-chunks", arg, 1, 1000000)) < 0) return -1;
        o->regions.min_seq_chunks = (int)v;
        return 1;
    default: return 0;
    }
}

int vnp_cli_report_write(const char *cmd, const char *outdir, const vnp_report_opts *o)
{
    int rc = vnp_report_build(outdir, o);
    if (rc == VNP_OK) return 0;
    fprintf(stderr, "virnucpro %s: error: writing viral_regions.tsv%s in '%s' failed (see above)%s\n", cmd,
            o->html ? " or report.html" : "", outdir,
            cmd[0] == 'r' ? "" : "; the run's other outputs are complete: retry with `virnucpro report OUTDIR`");
    return vnp_status_exit_code(rc);
}
