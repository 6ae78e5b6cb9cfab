/* The CUDA context: device selection, its stream, cuBLASLt handle and workspace, device memory, copies, error
 * recording and the non-finite flag. */
#include "cuda_internal.cuh"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WORKSPACE_BYTES (32u << 20) /* what cuBLASLt's Hopper kernels ask for */

void vnp_cuda_fail(vnp_cuda *c, const char *fmt, ...)
{
    if (c->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

int vnp_cuda_check_launch(vnp_cuda *c, const char *what)
{
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) return 0;
    vnp_cuda_fail(c, "%s: %s", what, cudaGetErrorString(e));
    return 1;
}

int vnp_cuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); /* "no device" / "no driver" is an answer, not a sticky error */
        return 0;
    }
    return n;
}

void vnp_cuda_free(vnp_cuda *c)
{
    if (!c) return;
    cudaSetDevice(c->device);
    if (c->stream) cudaStreamSynchronize(c->stream);
    vnp_cuda_prof_report(c);
    vnp_cuda_prof_free(c);
    vnp_cuda_fp8_free(c);
    for (int i = 0; i < c->nplans; i++) {
        vnp_cuda_plan *p = &c->plans[i];
        if (p->lc) cublasLtMatrixLayoutDestroy(p->lc);
        if (p->lb) cublasLtMatrixLayoutDestroy(p->lb);
        if (p->la) cublasLtMatrixLayoutDestroy(p->la);
        if (p->op) cublasLtMatmulDescDestroy(p->op);
    }
    if (c->lt) cublasLtDestroy(c->lt);
    cudaFree(c->workspace);
    cudaFree(c->flag);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
}

vnp_cuda *vnp_cuda_create(int device, char *err, size_t errlen)
{
    const char *why = NULL;
    cudaError_t e = cudaSuccess;
    vnp_cuda *c = (vnp_cuda *)calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of host memory");
        return NULL;
    }
    c->device = device;
    cudaDeviceProp prop;
    if ((e = cudaSetDevice(device)) != cudaSuccess) why = "cudaSetDevice";
    /* a thread waiting for its GPU sleeps instead of spinning: with one worker per GPU, spinning threads took the
     * cores the classifier's BLAS threads needed (4 GPUs: 8x slower classifier, the run CPU-bound). Only a hint:
     * a driver that refuses it leaves the default. */
    else if (cudaSetDeviceFlags(cudaDeviceScheduleBlockingSync) != cudaSuccess) cudaGetLastError();
    else if ((e = cudaGetDeviceProperties(&prop, device)) != cudaSuccess) why = "cudaGetDeviceProperties";
    else if ((e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) != cudaSuccess) why = "cudaStreamCreate";
    else if ((e = cudaMalloc(&c->workspace, WORKSPACE_BYTES)) != cudaSuccess) why = "cudaMalloc(workspace)";
    else if ((e = cudaMalloc(&c->flag, sizeof(int))) != cudaSuccess) why = "cudaMalloc(flag)";
    else if ((e = cudaMemset(c->flag, 0, sizeof(int))) != cudaSuccess) why = "cudaMemset(flag)";
    if (why) {
        snprintf(err, errlen, "device %d: %s: %s", device, why, cudaGetErrorString(e));
        cudaGetLastError();
        vnp_cuda_free(c);
        return NULL;
    }
    if (prop.major < 8) {
        snprintf(err, errlen, "device %d (%s) has compute capability %d.%d; the kernels need 8.0 or newer", device,
                 prop.name, prop.major, prop.minor);
        vnp_cuda_free(c);
        return NULL;
    }
    cublasStatus_t s = cublasLtCreate(&c->lt);
    if (s != CUBLAS_STATUS_SUCCESS) {
        snprintf(err, errlen, "device %d: cublasLtCreate failed (status %d)", device, (int)s);
        vnp_cuda_free(c);
        return NULL;
    }
    c->workspace_bytes = WORKSPACE_BYTES;
    c->plan_mode = VNP_CUDA_PLANS_INVARIANT;
    snprintf(c->name, sizeof c->name, "%s", prop.name);
    return c;
}

const char *vnp_cuda_device_name(const vnp_cuda *c) { return c->name; }
const char *vnp_cuda_error(const vnp_cuda *c) { return c->err; }
void *vnp_cuda_stream(vnp_cuda *c) { return (void *)c->stream; }

void *vnp_cuda_alloc(vnp_cuda *c, size_t bytes)
{
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        cudaGetLastError();
        vnp_cuda_fail(c, "cudaMalloc(%zu bytes): %s", bytes, cudaGetErrorString(e));
        return NULL;
    }
    return p;
}

void vnp_cuda_release(vnp_cuda *c, void *p)
{
    (void)c;
    if (p) cudaFree(p);
}

int vnp_cuda_upload(vnp_cuda *c, void *dst, const void *src_host, size_t bytes)
{
    cudaError_t e = cudaMemcpyAsync(dst, src_host, bytes, cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(c->stream); /* the host buffer may be reused at once */
    if (e != cudaSuccess) {
        vnp_cuda_fail(c, "upload of %zu bytes: %s", bytes, cudaGetErrorString(e));
        return VNP_ERR_INTERNAL;
    }
    return VNP_OK;
}

int vnp_cuda_download(vnp_cuda *c, void *dst_host, const void *src, size_t bytes)
{
    cudaError_t e = cudaMemcpyAsync(dst_host, src, bytes, cudaMemcpyDeviceToHost, c->stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) {
        vnp_cuda_fail(c, "download of %zu bytes: %s", bytes, cudaGetErrorString(e));
        return VNP_ERR_INTERNAL;
    }
    return VNP_OK;
}

int vnp_cuda_sync(vnp_cuda *c)
{
    cudaError_t e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) vnp_cuda_fail(c, "stream: %s", cudaGetErrorString(e));
    vnp_cuda_prof_drain(c);
    if (!c->err[0]) return VNP_OK;
    return VNP_ERR_INTERNAL;
}

int vnp_cuda_bind(vnp_cuda *c)
{
    cudaError_t e = cudaSetDevice(c->device);
    if (e != cudaSuccess) {
        vnp_cuda_fail(c, "cudaSetDevice(%d): %s", c->device, cudaGetErrorString(e));
        return VNP_ERR_INTERNAL;
    }
    return VNP_OK;
}

size_t vnp_cuda_free_bytes(vnp_cuda *c)
{
    size_t free_b = 0, total = 0;
    if (cudaSetDevice(c->device) != cudaSuccess || cudaMemGetInfo(&free_b, &total) != cudaSuccess) return 0;
    return free_b;
}

int vnp_cuda_nonfinite(vnp_cuda *c, int reset)
{
    int v = 0;
    if (cudaMemcpyAsync(&v, c->flag, sizeof v, cudaMemcpyDeviceToHost, c->stream) != cudaSuccess ||
        cudaStreamSynchronize(c->stream) != cudaSuccess) {
        vnp_cuda_fail(c, "reading the non-finite flag: %s", cudaGetErrorString(cudaGetLastError()));
        return 1; /* unknown counts as bad: the caller redoes the batch */
    }
    if (reset && v) cudaMemsetAsync(c->flag, 0, sizeof(int), c->stream);
    return v != 0;
}
