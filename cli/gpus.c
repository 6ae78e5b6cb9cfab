/* Which GPUs a command uses: --gpus, the N of cuda:N, or every visible one (shared out among the MPI ranks of a
 * host). */
#include "cli.h"
#include "vnp/backend.h"
#include "vnp/dist.h"

#include <stdlib.h>
#include <string.h>

/* "0,2,3" into gpus; -1 after a usage error naming the command. */
static int parse_list(const char *cmd, const char *list, int visible, int *gpus, int cap)
{
    int n = 0;
    for (const char *p = list; *p;) {
        char *end;
        long g = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || g < 0 || g >= visible || n == cap) {
            vnp_opt_usage_error(cmd, "--gpus expects GPU numbers below %d separated by commas, got '%s'", visible,
                                list);
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (gpus[i] == g) {
                vnp_opt_usage_error(cmd, "--gpus names GPU %ld twice", g);
                return -1;
            }
        gpus[n++] = (int)g;
        p = *end ? end + 1 : end;
    }
    return n;
}

int vnp_cli_choose_gpus(const char *cmd, const char *device, const char *list, int distributed, int *gpus, int cap)
{
    vnp_device dev;
    int gpu = 0;
    if (vnp_device_parse(device, &dev, &gpu)) return 0; /* the caller reports a bad --device */
    int cuda = dev == VNP_DEVICE_CUDA || (dev == VNP_DEVICE_AUTO && vnp_cuda_usable());
    if (!cuda) {
        if (list) vnp_opt_usage_error(cmd, "--gpus needs --device cuda (or auto with a usable GPU)");
        return list ? -1 : 0;
    }
    if (list && strchr(device, ':')) {
        vnp_opt_usage_error(cmd, "give the GPUs either as --device cuda:N or as --gpus, not both");
        return -1;
    }
    int visible = vnp_cuda_count();
    if (list) return parse_list(cmd, list, visible, gpus, cap);
    if (strchr(device, ':')) {
        gpus[0] = gpu;
        return 1;
    }
    int lr = 0, ls = 1, n = 0;
    if (distributed) vnp_dist_local(&lr, &ls);
    for (int g = 0; g < visible && n < cap; g++)
        if (g % ls == lr) gpus[n++] = g;
    if (n == 0) gpus[n++] = lr % visible; /* more ranks than GPUs on this host: they share */
    return n;
}
