/* The CUDA backend's op table: each op of vnp/backend.h mapped onto the validated kernels of backend_cuda.h, in
 * FP16 (default) or FP32 elements, with the per-batch attention plan (row -> sequence map, attention tiles) built
 * once per packed batch. Without CUDA in the build, only stubs that say so. */
#include "vnp/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VNP_HAVE_CUDA
#include "vnp/backend_cuda.h"

typedef struct {
    vnp_cuda *c;
    vnp_cuda_dtype dt;
    /* the plan of the last batch seen, rebuilt when cu_seqlens change */
    int32_t *cu_copy;    /* host [cap_seqs+1] */
    int32_t *tiles_host; /* host [2 * cap_tiles] */
    int32_t *row_seq;    /* device [cap_rows] */
    int32_t *tiles_dev;  /* device [2 * cap_tiles] */
    int cap_seqs, cap_rows, cap_tiles;
    int plan_nseq, plan_ntiles;
    const int32_t *plan_cu_dev;
    int prof;             /* per-op timing on (VIRNUCPRO_CUDA_PROFILE) */
    float *conv;          /* device FP32 staging for upload_f32/download_f32 */
    size_t conv_n;
} cuda_be;

#define CB(be) ((cuda_be *)(be)->impl)
#define DT(be) (CB(be)->dt)

static void cb_destroy(vnp_backend *be)
{
    cuda_be *b = CB(be);
    if (b) {
        if (b->c) {
            vnp_cuda_release(b->c, b->row_seq);
            vnp_cuda_release(b->c, b->tiles_dev);
            vnp_cuda_release(b->c, b->conv);
        }
        vnp_cuda_free(b->c);
        free(b->cu_copy);
        free(b->tiles_host);
        free(b);
    }
    free(be);
}

static void *cb_alloc(vnp_backend *be, size_t bytes)
{
    void *p = vnp_cuda_alloc(CB(be)->c, bytes);
    if (!p) vnp_error("GPU: %s", vnp_cuda_error(CB(be)->c));
    return p;
}

static void cb_release(vnp_backend *be, void *p) { vnp_cuda_release(CB(be)->c, p); }

static int cb_status(vnp_backend *be, int rc)
{
    if (rc) vnp_error("GPU: %s", vnp_cuda_error(CB(be)->c));
    return rc;
}

static int cb_upload(vnp_backend *be, void *dst, const void *src, size_t bytes)
{
    return cb_status(be, vnp_cuda_upload(CB(be)->c, dst, src, bytes));
}

static int cb_download(vnp_backend *be, void *dst, const void *src, size_t bytes)
{
    return cb_status(be, vnp_cuda_download(CB(be)->c, dst, src, bytes));
}

static int cb_sync(vnp_backend *be) { return cb_status(be, vnp_cuda_sync(CB(be)->c)); }
static int cb_bind(vnp_backend *be) { return cb_status(be, vnp_cuda_bind(CB(be)->c)); }
static size_t cb_free_memory(vnp_backend *be) { return vnp_cuda_free_bytes(CB(be)->c); }

/* FP32 staging of at most this many floats: conversions go through it chunk by chunk. */
#define CONV_CHUNK ((size_t)1 << 24)

static int conv_ready(cuda_be *b)
{
    if (b->conv) return VNP_OK;
    b->conv = vnp_cuda_alloc(b->c, CONV_CHUNK * sizeof(float));
    return b->conv ? VNP_OK : VNP_ERR_NOMEM;
}

static int cb_upload_f32(vnp_backend *be, void *dst, const float *src, size_t n)
{
    cuda_be *b = CB(be);
    if (b->dt == VNP_CUDA_F32) return cb_upload(be, dst, src, n * sizeof(float));
    if (conv_ready(b)) return cb_status(be, VNP_ERR_NOMEM);
    for (size_t i = 0; i < n; i += CONV_CHUNK) {
        size_t k = n - i < CONV_CHUNK ? n - i : CONV_CHUNK;
        int rc = vnp_cuda_upload(b->c, b->conv, src + i, k * sizeof(float));
        if (rc) return cb_status(be, rc);
        vnp_cuda_convert(b->c, (char *)dst + i * 2, VNP_CUDA_F16, b->conv, VNP_CUDA_F32, k);
    }
    return cb_sync(be);
}

static int cb_download_f32(vnp_backend *be, float *dst, const void *src, size_t n)
{
    cuda_be *b = CB(be);
    if (b->dt == VNP_CUDA_F32) return cb_download(be, dst, src, n * sizeof(float));
    if (conv_ready(b)) return cb_status(be, VNP_ERR_NOMEM);
    for (size_t i = 0; i < n; i += CONV_CHUNK) {
        size_t k = n - i < CONV_CHUNK ? n - i : CONV_CHUNK;
        vnp_cuda_convert(b->c, b->conv, VNP_CUDA_F32, (const char *)src + i * 2, VNP_CUDA_F16, k);
        int rc = vnp_cuda_download(b->c, dst + i, b->conv, k * sizeof(float));
        if (rc) return cb_status(be, rc);
    }
    return VNP_OK;
}

static int cb_nonfinite(vnp_backend *be, int reset) { return vnp_cuda_nonfinite(CB(be)->c, reset); }

/* The kernels' view of a packed batch: the row -> sequence map and the attention tiles are rebuilt only when the
 * batch changed (every op of one forward pass sees the same cu_seqlens). A failure is recorded by the context
 * through a launch with no plan (the kernels then search cu themselves). */
static vnp_cuda_varlen cb_varlen(vnp_backend *be, const vnp_varlen *v)
{
    cuda_be *b = CB(be);
    int rows = v->cu_host[v->nseq];
    vnp_cuda_varlen out = {v->nseq, rows, v->max_len, v->cu_dev, NULL, 0, NULL};
    size_t cu_bytes = (size_t)(v->nseq + 1) * sizeof(int32_t);
    if (b->plan_cu_dev == v->cu_dev && b->plan_nseq == v->nseq && memcmp(b->cu_copy, v->cu_host, cu_bytes) == 0) {
        out.row_seq_dev = b->row_seq;
        out.ntiles = b->plan_ntiles;
        out.tiles_dev = b->tiles_dev;
        return out;
    }
    b->plan_cu_dev = NULL;
    int cap_tiles = VNP_CUDA_ATTN_TILES_MAX(rows, v->nseq);
    if (v->nseq > b->cap_seqs) {
        int32_t *p = realloc(b->cu_copy, cu_bytes);
        if (!p) return out;
        b->cu_copy = p;
        b->cap_seqs = v->nseq;
    }
    if (rows > b->cap_rows) {
        vnp_cuda_release(b->c, b->row_seq);
        b->row_seq = vnp_cuda_alloc(b->c, (size_t)rows * sizeof(int32_t));
        b->cap_rows = b->row_seq ? rows : 0;
        if (!b->row_seq) return out;
    }
    if (cap_tiles > b->cap_tiles) {
        vnp_cuda_release(b->c, b->tiles_dev);
        free(b->tiles_host);
        b->tiles_host = malloc((size_t)cap_tiles * 2 * sizeof(int32_t));
        b->tiles_dev = vnp_cuda_alloc(b->c, (size_t)cap_tiles * 2 * sizeof(int32_t));
        b->cap_tiles = b->tiles_host && b->tiles_dev ? cap_tiles : 0;
        if (!b->cap_tiles) return out;
    }
    int nt = vnp_cuda_attention_tiles(v->cu_host, v->nseq, b->tiles_host, b->cap_tiles);
    if (nt < 0 || vnp_cuda_upload(b->c, b->tiles_dev, b->tiles_host, (size_t)nt * 2 * sizeof(int32_t))) return out;
    vnp_cuda_row_seq(b->c, b->row_seq, &out);
    memcpy(b->cu_copy, v->cu_host, cu_bytes);
    b->plan_cu_dev = v->cu_dev;
    b->plan_nseq = v->nseq;
    b->plan_ntiles = nt;
    out.row_seq_dev = b->row_seq;
    out.ntiles = nt;
    out.tiles_dev = b->tiles_dev;
    return out;
}

/* Per-op timing (VIRNUCPRO_CUDA_PROFILE=1): PROF_BEGIN before an op's launches, PROF_END(name, flops) after. */
#define PROF_BEGIN(be) vnp_cuda_prof_begin(CB(be)->c)
#define PROF_END(be, name, flops) vnp_cuda_prof_end(CB(be)->c, (name), (flops))
#define PROFILING(be) (CB(be)->prof)

static void cb_gemm(vnp_backend *be, float *y, const float *x, const float *w, const float *bias, int m, int n,
                    int k, int accumulate)
{
    PROF_BEGIN(be);
    vnp_cuda_gemm(CB(be)->c, DT(be), y, x, w, bias, m, n, k, accumulate,
                  bias ? VNP_CUDA_EPI_BIAS : VNP_CUDA_EPI_NONE);
    if (PROFILING(be)) {
        char name[64];
        snprintf(name, sizeof name, "gemm n%d k%d%s%s", n, k, bias ? " +bias" : "", accumulate ? " +acc" : "");
        PROF_END(be, name, 2.0 * m * (double)n * (double)k);
    }
}

static void cb_layernorm(vnp_backend *be, float *y, const float *x, const float *w, const float *bias, int rows,
                         int d, float eps)
{
    PROF_BEGIN(be);
    vnp_cuda_layernorm(CB(be)->c, DT(be), y, NULL, x, NULL, w, bias, rows, d, eps);
    PROF_END(be, "layernorm", 0);
}

static void cb_bias_gelu(vnp_backend *be, float *x, const float *bias, int rows, int n)
{
    PROF_BEGIN(be);
    vnp_cuda_bias_gelu(CB(be)->c, DT(be), x, bias, rows, n);
    PROF_END(be, "bias_gelu", 0);
}

static void cb_gated_gelu(vnp_backend *be, float *u, const float *g, int rows, int f)
{
    PROF_BEGIN(be);
    vnp_cuda_gated_gelu(CB(be)->c, DT(be), u, g, rows, f);
    PROF_END(be, "gated_gelu", 0);
}

static void cb_rope_table(vnp_backend *be, float *cos_t, float *sin_t, const float *inv_freq, int npos, int half)
{
    /* inv_freq is a host array in the op table; the kernel reads it on the device */
    cuda_be *b = CB(be);
    float *d = vnp_cuda_alloc(b->c, (size_t)half * sizeof(float));
    if (!d) return;
    if (vnp_cuda_upload(b->c, d, inv_freq, (size_t)half * sizeof(float)) == VNP_OK)
        vnp_cuda_rope_table(b->c, cos_t, sin_t, d, npos, half);
    if (vnp_cuda_sync(b->c) == VNP_OK) vnp_cuda_release(b->c, d);
}

static void cb_rope(vnp_backend *be, float *x, int ld, int heads, int hd, float scale, const float *cos_t,
                    const float *sin_t, const vnp_varlen *v)
{
    PROF_BEGIN(be);
    vnp_cuda_varlen vl = cb_varlen(be, v);
    vnp_cuda_rope(CB(be)->c, DT(be), x, ld, heads, hd, scale, cos_t, sin_t, &vl);
    PROF_END(be, "rope (incl. plan)", 0);
}

static void cb_attention(vnp_backend *be, float *out, int ld_out, const float *q, const float *k, const float *v,
                         int ld_in, int heads, int hd, float scale, const float *slopes, const vnp_varlen *vl)
{
    PROF_BEGIN(be);
    vnp_cuda_varlen cv = cb_varlen(be, vl);
    vnp_cuda_attention(CB(be)->c, DT(be), out, ld_out, q, k, v, ld_in, heads, hd, scale, slopes, &cv);
    if (PROFILING(be)) {
        double f = 0.0; /* useful FLOPs: QK^T and PV over each sequence's own keys */
        for (int s = 0; s < vl->nseq; s++) {
            double len = (double)(vl->cu_host[s + 1] - vl->cu_host[s]);
            f += 4.0 * len * len * (double)hd * (double)heads;
        }
        PROF_END(be, "attention", f);
    }
}

static void cb_mean_pool(vnp_backend *be, float *out, const float *x, int d, int skip_first, int skip_last,
                         int max_rows, const vnp_varlen *v)
{
    PROF_BEGIN(be);
    vnp_cuda_varlen vl = cb_varlen(be, v);
    vnp_cuda_mean_pool(CB(be)->c, DT(be), out, x, d, skip_first, skip_last, max_rows, &vl);
    /* the pooled rows are checked here as well: a NaN that escaped every LayerNorm still counts */
    vnp_cuda_check_finite(CB(be)->c, VNP_CUDA_F32, out, (size_t)v->nseq * (size_t)d);
    PROF_END(be, "mean_pool + check", 0);
}

static void cb_embed(vnp_backend *be, float *x, const float *table, const int32_t *ids, int rows, int d,
                     const float *add_row, float mul, const float *row_div, int zero_id)
{
    PROF_BEGIN(be);
    vnp_cuda_embed(CB(be)->c, DT(be), x, table, ids, rows, d, add_row, mul, row_div, zero_id);
    PROF_END(be, "embed", 0);
}

/* ---- FP8 (cuda_fp8.cu): ESM-2's layer GEMMs under --precision fp8 ---- */

static vnp_cuda_q8out q8out(const vnp_q8out *g)
{
    vnp_cuda_q8out o = {g->z, g->zs, g->ws, g->b};
    return o;
}

static void cb_quant_rows(vnp_backend *be, void *y8, float *ys, const float *x, int rows, int d, int ldx)
{
    PROF_BEGIN(be);
    vnp_cuda_fp8_quant_rows(CB(be)->c, DT(be), y8, ys, x, rows, d, (size_t)ldx);
    PROF_END(be, "fp8 quantize rows", 0);
}

static void cb_layernorm_q8(vnp_backend *be, void *y8, float *ys, float *x, const vnp_q8out *res, const float *w,
                            const float *b, int rows, int d, float eps)
{
    PROF_BEGIN(be);
    vnp_cuda_q8out r = res ? q8out(res) : (vnp_cuda_q8out){0};
    vnp_cuda_fp8_layernorm(CB(be)->c, DT(be), y8, ys, x, res ? &r : NULL, w, b, rows, d, eps);
    PROF_END(be, res ? "fp8 residual + layernorm" : "fp8 layernorm", 0);
}

static void cb_gelu_q8(vnp_backend *be, void *y8, float *ys, const vnp_q8out *g, int rows, int n)
{
    PROF_BEGIN(be);
    vnp_cuda_q8out o = q8out(g);
    vnp_cuda_fp8_gelu(CB(be)->c, DT(be), y8, ys, &o, rows, n);
    PROF_END(be, "fp8 bias + gelu", 0);
}

static void cb_dequant_q8(vnp_backend *be, float *y, const vnp_q8out *g, int rows, int n, int add)
{
    PROF_BEGIN(be);
    vnp_cuda_q8out o = q8out(g);
    vnp_cuda_fp8_dequant(CB(be)->c, DT(be), y, &o, rows, n, add);
    PROF_END(be, add ? "fp8 dequantize + residual" : "fp8 dequantize + bias", 0);
}

static void cb_gemm_q8(vnp_backend *be, float *z, const void *x8, const void *w8, int m, int n, int k)
{
    PROF_BEGIN(be);
    vnp_cuda_fp8_gemm(CB(be)->c, DT(be), z, x8, w8, m, n, k);
    if (PROFILING(be)) {
        char name[64];
        snprintf(name, sizeof name, "fp8 gemm n%d k%d", n, k);
        PROF_END(be, name, 2.0 * m * (double)n * (double)k);
    }
}

static const vnp_backend_ops cuda_ops = {
    .name = "cuda",
    .host_visible = 0,
    .destroy = cb_destroy,
    .alloc = cb_alloc,
    .release = cb_release,
    .upload = cb_upload,
    .download = cb_download,
    .sync = cb_sync,
    .bind = cb_bind,
    .free_memory = cb_free_memory,
    .gemm = cb_gemm,
    .layernorm = cb_layernorm,
    .bias_gelu = cb_bias_gelu,
    .gated_gelu = cb_gated_gelu,
    .rope_table = cb_rope_table,
    .rope = cb_rope,
    .attention = cb_attention,
    .mean_pool = cb_mean_pool,
    .embed = cb_embed,
    .upload_f32 = cb_upload_f32,
    .download_f32 = cb_download_f32,
    .nonfinite = cb_nonfinite,
    .quant_rows = cb_quant_rows,
    .layernorm_q8 = cb_layernorm_q8,
    .gelu_q8 = cb_gelu_q8,
    .dequant_q8 = cb_dequant_q8,
    .gemm_q8 = cb_gemm_q8,
};

int vnp_cuda_usable(void) { return vnp_cuda_device_count() > 0; }
int vnp_cuda_count(void) { return vnp_cuda_device_count(); }

/* The kernels are the measured best (docs/gpu-notes.md): batch-invariant GEMM plans, one per (n, k) whatever the
 * row count (issue 14: untuned plans measured as fast as tuned ones in run 16), the branch-free FP16 GELU pass, one
 * attention head per block. The settings, from the environment (vnp_env, read by backend.c): profile (per-op times
 * on stderr at exit) and invariant = 0 (bucket plans, tuned, and attention key tiles from each block's start: the
 * kernels before issue 14, to measure what invariance costs). */
static void apply_settings(cuda_be *b, const vnp_cuda_settings *s)
{
    if (s->profile && vnp_cuda_prof_enable(b->c) == 0) b->prof = 1;
    if (!s->invariant) {
        vnp_cuda_set_gemm_plans(b->c, 1);
        vnp_cuda_set_gemm_tuning(b->c, 1);
    }
}

vnp_backend *vnp_backend_cuda_create(int device, int fp16, const vnp_cuda_settings *settings)
{
    static const vnp_cuda_settings defaults = VNP_CUDA_SETTINGS_DEFAULT;
    vnp_backend *be = calloc(1, sizeof *be);
    cuda_be *b = calloc(1, sizeof *b);
    char err[256] = "";
    if (!be || !b) {
        free(be);
        free(b);
        vnp_error("cannot create the CUDA backend: out of memory");
        return NULL;
    }
    be->ops = &cuda_ops;
    be->impl = b;
    be->nthreads = 1;
    be->elem_bytes = fp16 ? 2 : 4;
    b->dt = fp16 ? VNP_CUDA_F16 : VNP_CUDA_F32;
    if (device < 0 || device >= vnp_cuda_device_count()) {
        vnp_error("CUDA device %d does not exist (%d usable)", device, vnp_cuda_device_count());
        cb_destroy(be);
        return NULL;
    }
    if (!(b->c = vnp_cuda_create(device, err, sizeof err))) {
        vnp_error("cannot use CUDA device %d: %s", device, err);
        cb_destroy(be);
        return NULL;
    }
    apply_settings(b, settings ? settings : &defaults);
    be->batch_invariant = vnp_cuda_batch_invariant(b->c);
    vnp_info("CUDA backend on device %d (%s), %s", device, vnp_cuda_device_name(b->c), fp16 ? "FP16" : "FP32");
    return be;
}

vnp_backend *vnp_backend_cuda_create_fp8(int device, const vnp_cuda_settings *settings)
{
    vnp_backend *be = vnp_backend_cuda_create(device, 1, settings);
    if (!be) return NULL;
    int major, minor;
    if (!vnp_cuda_fp8_capable(CB(be)->c, &major, &minor) || !vnp_fp8_cc_ok(major, minor)) {
        vnp_error("--precision fp8 needs a GPU with FP8 tensor cores (compute capability 8.9 or newer: Ada, Hopper, "
                  "Blackwell); GPU %d (%s) has compute capability %d.%d: use --precision fp16", device,
                  vnp_cuda_device_name(CB(be)->c), major, minor);
        cb_destroy(be);
        return NULL;
    }
    be->fp8 = 1;
    vnp_info("FP8 (E4M3) layer GEMMs for ESM-2 on GPU %d (%s, compute capability %d.%d)", device,
             vnp_cuda_device_name(CB(be)->c), major, minor);
    return be;
}

#else /* no CUDA in this build */

int vnp_cuda_usable(void) { return 0; }
int vnp_cuda_count(void) { return 0; }

vnp_backend *vnp_backend_cuda_create(int device, int fp16, const vnp_cuda_settings *settings)
{
    (void)device;
    (void)fp16;
    (void)settings;
    vnp_error("this build has no CUDA backend (nvcc was not found at configure time)");
    return NULL;
}

vnp_backend *vnp_backend_cuda_create_fp8(int device, const vnp_cuda_settings *settings)
{
    (void)device;
    (void)settings;
    vnp_error("--precision fp8 needs a GPU with FP8 tensor cores, and this build has no CUDA backend");
    return NULL;
}

#endif
