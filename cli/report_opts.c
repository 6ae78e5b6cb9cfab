/* Writing viral_regions.tsv and report.html for predict, merge and report (their options: options.h). */
#include "cli.h"

#include <stdio.h>

int vnp_cli_report_write(const char *cmd, const char *outdir, const vnp_report_opts *o)
{
    int rc = vnp_report_build(outdir, o);
    if (rc == VNP_OK) return 0;
    fprintf(stderr, "virnucpro %s: error: writing viral_regions.tsv%s in '%s' failed (see above)%s\n", cmd,
            o->html ? " or report.html" : "", outdir,
            cmd[0] == 'r' ? "" : "; the run's other outputs are complete: retry with `virnucpro report OUTDIR`");
    return vnp_status_exit_code(rc);
}
