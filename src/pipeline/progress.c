/* The progress line of a run. Its percentage and ETA follow the work done, the bases of the blocks scored and
 * committed, never the reading, which runs far ahead of the scoring (the reader only waits for a free block). The
 * total is known once every input was read; before that it is extrapolated from the bases read so far and the
 * share of the input bytes they came from. The read position is shown apart while reading goes on. */
#include "pipeline_internal.h"

#include <stdio.h>

static void hms(char *buf, size_t size, double s)
{
    if (s < 0) s = 0;
    if (s > 359999) s = 359999;
    int t = (int)(s + 0.5);
    snprintf(buf, size, "%02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
}

int vnp_progress_format(char *buf, size_t size, const vnp_progress *p, int final)
{
    double el = p->elapsed > 0 ? p->elapsed : 0;
    int n = snprintf(buf, size, "  %llu records  %llu frames  %.0f records/s  %.0f frames/s  %.0fs elapsed",
                     (unsigned long long)p->records, (unsigned long long)p->frames,
                     el > 0 ? (double)p->records / el : 0.0, el > 0 ? (double)p->frames / el : 0.0, el);
    if (n < 0 || (size_t)n >= size) return n;
    /* the bases this process will have committed at the end */
    double total = 0;
    if (p->reading_done)
        total = (double)p->bases_expected;
    else if (p->bytes_total && p->bytes_read)
        total = (double)p->bases_expected * ((double)p->bytes_total / (double)p->bytes_read);
    if (total > 0 && (double)p->bases > total) total = (double)p->bases;
    if (total > 0) {
        double frac = (double)p->bases / total;
        n += snprintf(buf + n, size - (size_t)n, "  %3.0f%% done", 100.0 * frac);
        /* the rate of this run's own work: blocks an earlier run committed took no time now */
        double rate = el > 0 ? (double)(p->bases - p->bases_resumed) / el : 0;
        if (!final && el > 1.0 && rate > 0 && (size_t)n < size) {
            char eta[16];
            hms(eta, sizeof eta, (total - (double)p->bases) / rate);
            n += snprintf(buf + n, size - (size_t)n, "  ETA %s", eta);
        }
    }
    if (!final && !p->reading_done && p->bytes_total && (size_t)n < size) {
        double r = (double)p->bytes_read / (double)p->bytes_total;
        n += snprintf(buf + n, size - (size_t)n, "  (input %.0f%% read)", 100.0 * (r > 1 ? 1 : r));
    }
    return n;
}
