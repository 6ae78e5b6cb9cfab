/* `virnucpro devices`: what this machine offers to predict - CPU, memory, the BLAS library, CUDA GPUs - as text or
 * one JSON object. Reads /proc and /sys; nothing here changes any setting. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT; OpenBLAS's cblas.h uses cpu_set_t */
#include "cli.h"
#include "vnp/opt.h"
#include "vnp/dist.h"
#include "vnp/util.h"

#include <stddef.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#ifdef VNP_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef VNP_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

typedef struct {
    int json;
} devices_args;

static const vnp_opt devices_opts[] = {
    {.name = "json", .type = VNP_OPT_FLAG, .off = offsetof(devices_args, json),
     .help = "print one JSON object instead of text"},
};

static const vnp_opt_cmd devices_cmd = {
    .name = "devices",
    .synopsis = "virnucpro devices [--json]",
    .about =
"Lists what `virnucpro predict` can use here: the CPU (model, cores online and usable by this process, SIMD\n"
"extensions), memory (total, available, a cgroup limit when one is set), the BLAS library, and CUDA GPUs\n"
"(name, compute capability, memory) when this build has the GPU engine.",
    .epilog = "exit status: 0\n",
    .opts = devices_opts,
    .n_opts = VNP_OPT_COUNT(devices_opts),
};

typedef struct {
    char cpu_model[256];
    char arch[80]; /* struct utsname.machine holds up to 65 bytes */
    int cores_online, cores_usable;
    char simd[256];          /* space-separated extensions that matter to the encoders */
    long long mem_total, mem_avail, cgroup_limit; /* bytes; -1 unknown / no limit */
} host_info;

/* The value of the first "key<spaces>: value" line of a /proc text file, or "". */
static void proc_field(const char *path, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    char line[4096];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, key, klen) != 0) continue;
        char *p = line + klen;
        while (*p == ' ' || *p == '\t') p++;
        if (*p != ':') continue;
        p++;
        while (*p == ' ' || *p == '\t') p++;
        p[strcspn(p, "\n")] = '\0';
        snprintf(out, cap, "%s", p);
        break;
    }
    fclose(fp);
}

/* "12345 kB" -> bytes, or -1. */
static long long meminfo_bytes(const char *key)
{
    char v[128];
    proc_field("/proc/meminfo", key, v, sizeof v);
    char *end;
    long long kb = strtoll(v, &end, 10);
    return end == v || kb < 0 ? -1 : kb * 1024;
}

/* The memory limit of this process's cgroup (v2, then v1), or -1 when none is set or it is unknown. */
static long long cgroup_limit(void)
{
    static const char *paths[] = {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (size_t i = 0; i < 2; i++) {
        FILE *fp = fopen(paths[i], "r");
        if (!fp) continue;
        char v[64] = "";
        char *ok = fgets(v, sizeof v, fp);
        fclose(fp);
        if (!ok || strncmp(v, "max", 3) == 0) return -1;
        char *end;
        long long b = strtoll(v, &end, 10);
        /* cgroup v1 writes a huge page-rounded number when unlimited */
        if (end == v || b <= 0 || b >= (1LL << 60)) return -1;
        return b;
    }
    return -1;
}

static void simd_list(char *out, size_t cap)
{
    static const char *want[] = {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
                                 "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile",
                                 "asimd", "asimdhp", "sve", "sve2", "bf16", "i8mm"};
    char flags[8192];
    proc_field("/proc/cpuinfo", "flags", flags, sizeof flags);
    if (!flags[0]) proc_field("/proc/cpuinfo", "Features", flags, sizeof flags); /* aarch64 */
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t n = strlen(want[i]);
        for (char *p = flags; (p = strstr(p, want[i])) != NULL; p += n) {
            if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
                int w = snprintf(out + at, cap - at, "%s%s", at ? " " : "", want[i]);
                if (w > 0 && (size_t)w < cap - at) at += (size_t)w;
                break;
            }
        }
    }
}

static void host_collect(host_info *h)
{
    memset(h, 0, sizeof *h);
    proc_field("/proc/cpuinfo", "model name", h->cpu_model, sizeof h->cpu_model);
    if (!h->cpu_model[0]) proc_field("/proc/cpuinfo", "Hardware", h->cpu_model, sizeof h->cpu_model);
    if (!h->cpu_model[0]) snprintf(h->cpu_model, sizeof h->cpu_model, "unknown");
    struct utsname u;
    snprintf(h->arch, sizeof h->arch, "%s", uname(&u) == 0 ? u.machine : "unknown");
    h->cores_online = vnp_cpu_count();
    cpu_set_t set;
    CPU_ZERO(&set);
    h->cores_usable = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : h->cores_online;
    simd_list(h->simd, sizeof h->simd);
    h->mem_total = meminfo_bytes("MemTotal");
    h->mem_avail = meminfo_bytes("MemAvailable");
    h->cgroup_limit = cgroup_limit();
}

static double gib(long long b) { return (double)b / (1024.0 * 1024.0 * 1024.0); }

static json_t *jbytes(long long b) { return b < 0 ? json_null() : json_integer(b); }

/* ---- BLAS ---- */
static json_t *blas_json(void)
{
#ifdef VNP_HAVE_OPENBLAS
    return json_pack("{s:s, s:s, s:s, s:i}", "name", "OpenBLAS", "config", openblas_get_config(), "core",
                     openblas_get_corename(), "threads", openblas_get_num_threads());
#else
    return json_null();
#endif
}

static void blas_text(void)
{
#ifdef VNP_HAVE_OPENBLAS
    printf("BLAS:    %s (core %s, %d threads)\n", openblas_get_config(), openblas_get_corename(),
           openblas_get_num_threads());
#else
    printf("BLAS:    none linked (the built-in matrix code is used)\n");
#endif
}

/* ---- CUDA: compiled only with the GPU engine ---- */
static json_t *cuda_json(void)
{
#ifdef VNP_HAVE_CUDA
    json_t *devs = json_array();
    int n = 0, rt = 0, drv = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    (void)cudaRuntimeGetVersion(&rt);
    (void)cudaDriverGetVersion(&drv);
    for (int i = 0; e == cudaSuccess && i < n; i++) {
        struct cudaDeviceProp p;
        size_t free_b = 0, total_b = 0;
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
        if (cudaSetDevice(i) == cudaSuccess) (void)cudaMemGetInfo(&free_b, &total_b);
        char cc[16];
        snprintf(cc, sizeof cc, "%d.%d", p.major, p.minor);
        json_array_append_new(devs, json_pack("{s:i, s:s, s:s, s:I, s:I, s:i}", "index", i, "name", p.name,
                                              "compute_capability", cc, "memory_total_bytes",
                                              (json_int_t)p.totalGlobalMem, "memory_free_bytes", (json_int_t)free_b,
                                              "multiprocessors", p.multiProcessorCount));
    }
    return json_pack("{s:b, s:i, s:i, s:s?, s:o}", "built", 1, "runtime_version", rt, "driver_version", drv, "error",
                     e == cudaSuccess ? NULL : cudaGetErrorString(e), "devices", devs);
#else
    return json_pack("{s:b, s:[]}", "built", 0, "devices");
#endif
}

static int cuda_text(void)
{
#ifdef VNP_HAVE_CUDA
    int n = 0, rt = 0, drv = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    (void)cudaRuntimeGetVersion(&rt);
    (void)cudaDriverGetVersion(&drv);
    if (e != cudaSuccess) {
        printf("CUDA:    built (runtime %d.%d), no usable GPU: %s\n", rt / 1000, rt % 1000 / 10, cudaGetErrorString(e));
        return 0;
    }
    printf("CUDA:    runtime %d.%d, driver %d.%d, %d GPU%s\n", rt / 1000, rt % 1000 / 10, drv / 1000, drv % 1000 / 10, n,
           n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        struct cudaDeviceProp p;
        size_t free_b = 0, total_b = 0;
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
        if (cudaSetDevice(i) == cudaSuccess) (void)cudaMemGetInfo(&free_b, &total_b);
        printf("  cuda:%d %s, compute capability %d.%d, %d SMs, %.1f GiB (%.1f GiB free)\n", i, p.name, p.major,
               p.minor, p.multiProcessorCount, gib((long long)p.totalGlobalMem), gib((long long)free_b));
    }
    return n;
#else
    printf("CUDA:    not built (this build has no GPU engine; predict runs on the CPU)\n");
    return 0;
#endif
}

static int print_json(const host_info *h)
{
    char *simd = strdup(h->simd), *save = NULL;
    json_t *jsimd = json_array();
    for (char *t = simd ? strtok_r(simd, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save))
        json_array_append_new(jsimd, json_string(t));
    free(simd);
    json_t *cuda = cuda_json();
    json_t *usable = json_pack("[s]", "cpu");
    json_t *devs = cuda ? json_object_get(cuda, "devices") : NULL;
    for (size_t i = 0; devs && i < json_array_size(devs); i++) {
        char name[32];
        snprintf(name, sizeof name, "cuda:%d", (int)json_integer_value(json_object_get(json_array_get(devs, i), "index")));
        json_array_append_new(usable, json_string(name));
    }
    json_t *root = json_pack("{s:s, s:{s:s, s:s, s:i, s:i, s:o}, s:{s:o, s:o, s:o}, s:o, s:o, s:o}",
                             "virnucpro_version", VNP_VERSION,
                             "cpu", "model", h->cpu_model, "arch", h->arch, "cores_online", h->cores_online,
                             "cores_usable", h->cores_usable, "simd", jsimd,
                             "memory", "total_bytes", jbytes(h->mem_total), "available_bytes", jbytes(h->mem_avail),
                             "cgroup_limit_bytes", jbytes(h->cgroup_limit),
                             "blas", blas_json(), "cuda", cuda ? cuda : json_null(), "usable", usable);
    if (root)
        json_object_set_new(root, "mpi", json_pack("{s:b, s:i, s:i}", "built", vnp_dist_built(), "rank",
                                                   vnp_dist_rank(), "ranks", vnp_dist_size()));
    if (!root) {
        fprintf(stderr, "virnucpro devices: error: cannot build the JSON object\n");
        return 1;
    }
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    putchar('\n');
    return rc || fflush(stdout) ? 1 : 0;
}

static int print_text(const host_info *h)
{
    printf("CPU:     %s (%s)\n", h->cpu_model, h->arch);
    printf("  cores: %d online, %d usable by this process\n", h->cores_online, h->cores_usable);
    printf("  SIMD:  %s\n", h->simd[0] ? h->simd : "none of note");
    if (h->mem_total >= 0)
        printf("memory:  %.1f GiB total, %.1f GiB available", gib(h->mem_total), h->mem_avail >= 0 ? gib(h->mem_avail) : 0.0);
    else
        printf("memory:  unknown");
    if (h->cgroup_limit >= 0) printf(" (cgroup limit %.1f GiB)", gib(h->cgroup_limit));
    putchar('\n');
    blas_text();
    printf("MPI:     %s\n", vnp_dist_built() ? vnp_dist_size() > 1 ? "built; this is one of several ranks"
                                                                  : "built (mpirun -n N virnucpro predict ...)"
                                             : "not built (install libopenmpi-dev and rebuild for mpirun)");
    int gpus = cuda_text();
    printf("usable:  cpu");
    for (int i = 0; i < gpus; i++) printf(", cuda:%d", i);
    putchar('\n');
    return fflush(stdout) ? 1 : 0;
}

int vnp_cmd_devices(int argc, char **argv)
{
    devices_args a = {0};
    int first, prc = vnp_opt_parse(&devices_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    int json = a.json;
    if (first < argc) return vnp_opt_usage_error("devices", "unexpected argument '%s'", argv[first]);
    host_info h;
    host_collect(&h);
    return json ? print_json(&h) : print_text(&h);
}
