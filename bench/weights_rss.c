/* Peak memory of loading a model file: opens it with vnp_weights_open and converts its tensors in one of several
 * ways, then prints one JSON line (mode, tensors, file bytes, seconds, peak RSS). Built and run by
 * bench/bench_weights_rss.sh against libvnp.a.
 *
 *   weights_rss PATH open            open and close only (headers, pickle)
 *   weights_rss PATH f32             every tensor to f32 in one reused buffer, its mapped pages released after
 *   weights_rss PATH f32-keep-pages  the same without releasing: the mapped file stays resident
 *   weights_rss PATH f16-all         every tensor to f16 in one allocation holding all weights (what a GPU upload
 *                                    stages), pages released after each tensor: one copy of the weights */
#include "vnp/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: weights_rss PATH open|f32|f32-keep-pages|f16-all\n");
        return 2;
    }
    const char *mode = argv[2];
    double t0 = vnp_time_now();
    vnp_weights *w = vnp_weights_open(argv[1]);
    if (!w) return 2;
    double t_open = vnp_time_now() - t0;
    size_t n = vnp_weights_count(w);
    int64_t max_numel = 0, total = 0;
    uint64_t file_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const vnp_tensor *t = vnp_weights_at(w, i);
        if (t->numel > max_numel) max_numel = t->numel;
        total += t->numel;
        file_bytes += (uint64_t)t->numel * vnp_dtype_size(t->dtype);
    }
    double sum = 0;
    t0 = vnp_time_now();
    int rc = 0;
    if (strcmp(mode, "f32") == 0 || strcmp(mode, "f32-keep-pages") == 0) {
        float *buf = malloc((size_t)max_numel * sizeof *buf);
        for (size_t i = 0; buf && i < n && rc == 0; i++) {
            const vnp_tensor *t = vnp_weights_at(w, i);
            rc = vnp_tensor_to_f32(t, buf);
            sum += buf[t->numel / 2];
            if (strcmp(mode, "f32") == 0) vnp_weights_release(w, t);
        }
        if (!buf) rc = 1;
        free(buf);
    } else if (strcmp(mode, "f16-all") == 0) {
        uint16_t *all = malloc((size_t)total * sizeof *all), *p = all;
        for (size_t i = 0; all && i < n && rc == 0; i++) {
            const vnp_tensor *t = vnp_weights_at(w, i);
            rc = vnp_tensor_to_f16(t, p);
            sum += vnp_f16_to_f32(p[t->numel / 2]);
            p += t->numel;
            vnp_weights_release(w, t);
        }
        if (!all) rc = 1;
        free(all);
    } else if (strcmp(mode, "open") != 0) {
        fprintf(stderr, "unknown mode '%s'\n", mode);
        rc = 2;
    }
    double t_conv = vnp_time_now() - t0;
    printf("{\"mode\":\"%s\",\"format\":\"%s\",\"tensors\":%zu,\"params\":%lld,\"tensor_bytes\":%llu,"
           "\"open_s\":%.3f,\"convert_s\":%.3f,\"peak_rss_mb\":%.1f,\"checksum\":%.6g}\n",
           mode, vnp_weights_format(w), n, (long long)total, (unsigned long long)file_bytes, t_open, t_conv,
           vnp_peak_rss_bytes() / 1048576.0, sum);
    vnp_weights_close(w);
    return rc ? 1 : 0;
}
