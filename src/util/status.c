/* Status codes, their messages and exit codes, and the stderr logger. */
#include "vnp/util.h"

#include <stdarg.h>
#include <stdio.h>

const char *vnp_status_str(int status)
{
    switch (status) {
    case VNP_OK: return "success";
    case VNP_ERR_IO: return "input/output error";
    case VNP_ERR_FORMAT: return "invalid input format";
    case VNP_ERR_NOMEM: return "out of memory";
    case VNP_ERR_USAGE: return "invalid usage";
    case VNP_ERR_NOTFOUND: return "not found";
    case VNP_ERR_UNSUPPORTED: return "unsupported";
    case VNP_ERR_INTERRUPTED: return "interrupted";
    case VNP_ERR_INTERNAL: return "internal error";
    case VNP_ERR_TRUNCATED: return "truncated input";
    default: return "unknown error";
    }
}

int vnp_status_exit_code(int status)
{
    switch (status) {
    case VNP_OK: return 0;
    case VNP_ERR_FORMAT:
    case VNP_ERR_USAGE:
    case VNP_ERR_NOTFOUND:
    case VNP_ERR_UNSUPPORTED: return 2;
    default: return 1;
    }
}

static vnp_log_level g_level = VNP_LOG_WARN;

void vnp_log_set_level(vnp_log_level level) { g_level = level; }
vnp_log_level vnp_log_get_level(void) { return g_level; }

void vnp_log(vnp_log_level level, const char *func, const char *fmt, ...)
{
    static const char *names[] = {"", "error", "warning", "info", "debug"};
    if (level > g_level || level <= VNP_LOG_QUIET) return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One fprintf per line so that lines from threads do not interleave. */
    if (g_level >= VNP_LOG_DEBUG)
        fprintf(stderr, "virnucpro: %s [%s]: %s\n", names[level], func, msg);
    else
        fprintf(stderr, "virnucpro: %s: %s\n", names[level], msg);
}
