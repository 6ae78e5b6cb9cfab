/* The CUDA kernel harness: `harness check` validates every kernel against a double CPU reference, `harness bench
 * [mask]` times ceilings (1), attention (2), memory-bound ops (4) and whole layers (8); `harness all` does both.
 * Standalone: built with nvcc from src/backend/cuda/*.cu and this folder (dev/cuda/build.sh). */
#include "common.h"

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all"; /* "info": only the device line */
    int mask = argc > 2 ? atoi(argv[2]) : 15;
    if (vnp_cuda_device_count() == 0) {
        printf("no CUDA device: nothing to run\n");
        return 0;
    }
    char err[256];
    vnp_cuda *c = vnp_cuda_create(0, err, sizeof err);
    if (!c) {
        fprintf(stderr, "vnp_cuda_create: %s\n", err);
        return 1;
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    int clock_khz = 0, mem_khz = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0);
    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
    printf("device: %s, sm_%d%d, %d SMs, %.0f MB L2, %.1f GiB, SM clock %d MHz, memory clock %d MHz\n",
           vnp_cuda_device_name(c), prop.major, prop.minor, prop.multiProcessorCount, prop.l2CacheSize / 1e6,
           prop.totalGlobalMem / 1073741824.0, clock_khz / 1000, mem_khz / 1000);
    int rc = 0;
    if (!strcmp(what, "check") || !strcmp(what, "all")) rc |= run_checks(c);
    if (!strcmp(what, "bench") || !strcmp(what, "all")) rc |= run_bench(c, mask);
    vnp_cuda_free(c);
    return rc;
}
