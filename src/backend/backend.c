/* Backend-independent pieces: releasing a backend, element-type helpers, choosing a backend for a device, the
 * ALiBi slopes and the reference GELU. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/backend.h"
#include "vnp/env.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vnp_backend_free(vnp_backend *be)
{
    if (be && be->ops && be->ops->destroy) be->ops->destroy(be);
}

/* get_slopes_power_of_2(n) of the MosaicBERT code: start = 2^(-2^-(log2 n - 3)), slope_i = start * start^i,
 * evaluated in double as Python does, then rounded to float as torch.tensor does. */
static void slopes_pow2(int n, double *out)
{
    double start = pow(2.0, -pow(2.0, -(log2((double)n) - 3.0)));
    for (int i = 0; i < n; i++) out[i] = start * pow(start, (double)i);
}

void vnp_alibi_slopes(int heads, float *slopes)
{
    if (heads <= 0) return;
    int c = 1;
    while (c * 2 <= heads) c *= 2; /* closest power of two <= heads */
    double tmp[2 * 4096];
    if (heads > 4096) heads = 4096; /* far beyond any real model; keeps tmp bounded */
    slopes_pow2(c, tmp);
    for (int h = 0; h < c; h++) slopes[h] = (float)tmp[h];
    if (c == heads) return;
    slopes_pow2(2 * c, tmp);
    for (int h = c, i = 0; h < heads; h++, i += 2) slopes[h] = (float)tmp[i]; /* [0::2][:heads-c] */
}

float vnp_gelu_ref(float x)
{
    return (x * 0.5f) * (1.0f + erff(x / 1.41421356f));
}

/* ---- element types and choosing a backend ---- */

int vnp_be_upload_f32(vnp_backend *be, void *dst, const float *src, size_t n)
{
    if (be->ops->upload_f32) return be->ops->upload_f32(be, dst, src, n);
    return be->ops->upload(be, dst, src, n * sizeof(float));
}

int vnp_be_download_f32(vnp_backend *be, float *dst, const void *src, size_t n)
{
    if (be->ops->download_f32) return be->ops->download_f32(be, dst, src, n);
    return be->ops->download(be, dst, src, n * sizeof(float));
}

int vnp_device_parse(const char *s, vnp_device *dev, int *gpu)
{
    *gpu = 0;
    if (strcmp(s, "auto") == 0) *dev = VNP_DEVICE_AUTO;
    else if (strcmp(s, "cpu") == 0) *dev = VNP_DEVICE_CPU;
    else if (strcmp(s, "cuda") == 0) *dev = VNP_DEVICE_CUDA;
    else if (strncmp(s, "cuda:", 5) == 0 && s[5] >= '0' && s[5] <= '9' && strlen(s) < 9) {
        char *end;
        long v = strtol(s + 5, &end, 10);
        if (*end) return VNP_ERR_USAGE;
        *dev = VNP_DEVICE_CUDA;
        *gpu = (int)v;
    } else {
        return VNP_ERR_USAGE;
    }
    return VNP_OK;
}

int vnp_precision_fp32(const char *precision)
{
    if (precision && strcmp(precision, "fp32") == 0) return 1;
    return vnp_env_get()->disable_fp16;
}

int vnp_precision_ok(const char *p) { return vnp_word_in_list(VNP_PRECISION_CHOICES, p); }

int vnp_backend_open(vnp_device dev, int gpu, int threads, const char *precision, vnp_backend **out)
{
    *out = NULL;
    if (precision && !vnp_precision_ok(precision)) {
        vnp_error("--precision expects one of " VNP_PRECISION_CHOICES ", got '%s'", precision);
        return VNP_ERR_USAGE;
    }
    int fp8 = precision && strcmp(precision, "fp8") == 0;
    if (dev == VNP_DEVICE_AUTO) dev = vnp_cuda_usable() ? VNP_DEVICE_CUDA : VNP_DEVICE_CPU;
    if (fp8 && dev == VNP_DEVICE_CPU) {
        vnp_error("--precision fp8 needs a GPU with FP8 tensor cores (compute capability 8.9 or newer); %s",
                  vnp_cuda_usable() ? "drop --device cpu" : "no usable CUDA GPU was found");
        return VNP_ERR_UNSUPPORTED;
    }
    if (dev == VNP_DEVICE_CPU) {
        *out = vnp_backend_cpu_create(threads);
        return *out ? VNP_OK : VNP_ERR_NOMEM;
    }
    int rc = vnp_device_check(dev);
    if (rc) return rc;
    const vnp_env *env = vnp_env_get();
    const vnp_cuda_settings cs = {.profile = env->cuda_profile, .invariant = env->cuda_invariant};
    if (fp8) {
        *out = vnp_backend_cuda_create_fp8(gpu, &cs);
        return *out ? VNP_OK : VNP_ERR_UNSUPPORTED;
    }
    int fp32 = vnp_precision_fp32(precision);
    if (fp32) vnp_warn("FP32 on the GPU is a slower diagnostic mode (FP16 is the default; TF32 stays off)");
    *out = vnp_backend_cuda_create(gpu, !fp32, &cs);
    return *out ? VNP_OK : VNP_ERR_UNSUPPORTED;
}

int vnp_device_check(vnp_device dev)
{
    if (dev == VNP_DEVICE_CPU || dev == VNP_DEVICE_AUTO || vnp_cuda_usable()) return VNP_OK;
    vnp_error("--device cuda: no usable CUDA GPU (%s); use --device cpu",
#ifdef VNP_HAVE_CUDA
              "no device or no driver found"
#else
              "this build has no CUDA backend"
#endif
    );
    return VNP_ERR_UNSUPPORTED;
}

const char *vnp_backend_device_name(const vnp_backend *be)
{
    return be->ops->name;
}

const char *vnp_backend_precision(const vnp_backend *be)
{
    return be->fp8 ? "fp8" : vnp_be_elem(be) == 2 ? "fp16" : "fp32";
}

int vnp_backend_open_for(const char *device, int threads, const char *precision, vnp_backend **out)
{
    vnp_device dev = VNP_DEVICE_AUTO;
    int gpu = 0;
    *out = NULL;
    if (device && vnp_device_parse(device, &dev, &gpu)) {
        vnp_error("--device expects auto, cpu, cuda or cuda:N, got '%s'", device);
        return VNP_ERR_USAGE;
    }
    return vnp_backend_open(dev, gpu, threads, precision, out);
}
