/* The run's signal state: the SIGINT/SIGTERM flag, its handlers, and the reads of it that predict.c (between
 * blocks) and flow.c (before a job starts) share, so that neither of those files owns state the other reads. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_internal.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t g_signal;

static void on_signal(int sig) { g_signal = sig; }

void vnp_pipeline_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int vnp_pipeline_signal(void) { return (int)g_signal; }

void vnp_pipeline_signal_reset(void) { g_signal = 0; }
