/* The CPU backend: construction, memory, the parallel-for helper and GEMM (OpenBLAS SGEMM, or a threaded
 * fallback loop when the library was built without OpenBLAS). */
#include "cpu_internal.h"

#include <stdlib.h>
#include <string.h>

#ifdef VNP_HAVE_OPENBLAS
#include <cblas.h>
#endif

typedef struct {
    vnp_cpu_range_fn fn;
    void *ctx;
    size_t n, chunk;
} par_ctx;

static void par_one(void *p, size_t i)
{
    par_ctx *c = p;
    size_t lo = i * c->chunk, hi = lo + c->chunk < c->n ? lo + c->chunk : c->n;
    if (lo < hi) c->fn(c->ctx, lo, hi);
}

void vnp_cpu_parallel(vnp_cpu *c, size_t n, size_t min_chunk, vnp_cpu_range_fn fn, void *ctx)
{
    if (n == 0) return;
    if (min_chunk < 1) min_chunk = 1;
    size_t want = (size_t)c->nthreads * 4;
    size_t chunk = (n + want - 1) / want;
    if (chunk < min_chunk) chunk = min_chunk;
    size_t nchunks = (n + chunk - 1) / chunk;
    if (nchunks <= 1 || c->nthreads <= 1) {
        fn(ctx, 0, n);
        return;
    }
    par_ctx pc = {fn, ctx, n, chunk};
    vnp_pool_run(c->pool, nchunks, par_one, &pc);
}

static void *cpu_alloc(vnp_backend *be, size_t bytes)
{
    (void)be;
    void *p = vnp_malloc_aligned(bytes ? bytes : 64);
    if (!p) vnp_error("cannot allocate %zu bytes", bytes);
    return p;
}

static void cpu_release(vnp_backend *be, void *p)
{
    (void)be;
    vnp_free_aligned(p);
}

static int cpu_copy(vnp_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes) memmove(dst, src, bytes);
    return VNP_OK;
}

static int cpu_sync(vnp_backend *be)
{
    (void)be;
    return VNP_OK;
}

/* ---- GEMM ---- */

typedef struct {
    vnp_cpu *c;
    float *y;
    const float *x, *w, *b;
    int m, n, k, accumulate;
    size_t per; /* columns per thread */
} gemm_ctx;

/* y rows [lo, hi): fill with the bias (or add it to what is there) so that SGEMM can accumulate onto it. */
static void bias_rows(void *p, size_t lo, size_t hi)
{
    gemm_ctx *g = p;
    for (size_t r = lo; r < hi; r++) {
        float *yr = g->y + r * (size_t)g->n;
        if (g->accumulate)
            for (int j = 0; j < g->n; j++) yr[j] += g->b[j];
        else
            memcpy(yr, g->b, (size_t)g->n * sizeof(float));
    }
}

/* OpenBLAS (0.3.x, SkylakeX-class kernels) sends a GEMM with m*n*k <= 1e6 to a small-matrix kernel that sums k
 * in another order than the blocked kernel, so that whether a row went one way or the other would depend on how
 * many rows share its batch. Such calls run on rows padded with zeros past that size instead (batch invariance,
 * issue 14); the padding rows are dropped. */
#define SMALL_MNK 1e6
#define PAD_MAX_FLOATS ((size_t)1 << 24)

/* Columns [lo, hi) of y: one single-threaded SGEMM on a slice of the weight rows. */
static void gemm_cols(void *p, size_t lo, size_t hi)
{
    gemm_ctx *g = p;
    int nc = (int)(hi - lo);
    float beta = g->accumulate ? 1.0f : 0.0f;
    const float *w = g->w + lo * (size_t)g->k;
    if ((double)g->m * nc * g->k <= SMALL_MNK) {
        size_t mp = (size_t)(SMALL_MNK / ((double)nc * g->k)) + 1, xs = mp * (size_t)g->k, ys = mp * (size_t)nc;
        float *xp = xs + ys <= PAD_MAX_FLOATS ? calloc(xs + ys, sizeof(float)) : NULL;
        if (xp) {
            float *yp = xp + xs;
            memcpy(xp, g->x, (size_t)g->m * g->k * sizeof(float));
            if (g->accumulate)
                for (int r = 0; r < g->m; r++)
                    memcpy(yp + (size_t)r * nc, g->y + (size_t)r * g->n + lo, (size_t)nc * sizeof(float));
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mp, nc, g->k, 1.0f, xp, g->k, w, g->k, beta,
                        yp, nc);
            for (int r = 0; r < g->m; r++)
                memcpy(g->y + (size_t)r * g->n + lo, yp + (size_t)r * nc, (size_t)nc * sizeof(float));
            free(xp);
            return;
        }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->m, nc, g->k, 1.0f, g->x, g->k, w, g->k, beta,
                g->y + lo, g->n);
}

/* The threads split the output columns (weight rows): each packs the whole x but only its share of W, which is
 * the bigger operand for a Linear layer. OpenBLAS itself runs single-threaded inside our pool, so no second set
 * of spinning threads competes with the pool for the cores between GEMMs. */
void vnp_cpu_gemm(vnp_backend *be, float *y, const float *x, const float *w, const float *b, int m, int n, int k,
                  int accumulate)
{
    vnp_cpu *c = be->impl;
    if (m <= 0 || n <= 0) return;
    gemm_ctx g = {c, y, x, w, b, m, n, k, accumulate, 0};
    if (b) vnp_cpu_parallel(c, (size_t)m, 16, bias_rows, &g);
    g.accumulate = accumulate || b;
    size_t per = ((size_t)n + (size_t)c->nthreads - 1) / (size_t)c->nthreads;
    per = (per + 63) / 64 * 64;
    if ((size_t)m * (size_t)n * (size_t)k < 200000) per = (size_t)n; /* too small to be worth a wake-up */
    g.per = per;
    vnp_cpu_parallel(c, (size_t)n, per, gemm_cols, &g);
}

static void cpu_destroy(vnp_backend *be)
{
    if (!be) return;
    vnp_cpu *c = be->impl;
    if (c) {
        vnp_pool_free(c->pool);
        vnp_free_aligned(c->scratch);
        free(c);
    }
    free(be);
}

static int cpu_bind(vnp_backend *be)
{
    (void)be; /* the pool's threads serve whichever thread calls */
    return VNP_OK;
}

static size_t cpu_free_memory(vnp_backend *be)
{
    (void)be;
    return 0;
}

static const vnp_backend_ops cpu_ops = {
    .name = "cpu",
    .host_visible = 1,
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .upload = cpu_copy,
    .download = cpu_copy,
    .sync = cpu_sync,
    .bind = cpu_bind,
    .free_memory = cpu_free_memory,
    .gemm = vnp_cpu_gemm,
    .layernorm = vnp_cpu_layernorm,
    .bias_gelu = vnp_cpu_bias_gelu,
    .gated_gelu = vnp_cpu_gated_gelu,
    .rope_table = vnp_cpu_rope_table,
    .rope = vnp_cpu_rope,
    .attention = vnp_cpu_attention,
    .mean_pool = vnp_cpu_mean_pool,
    .embed = vnp_cpu_embed,
};

vnp_backend *vnp_backend_cpu_create(int nthreads)
{
    vnp_backend *be = calloc(1, sizeof *be);
    vnp_cpu *c = calloc(1, sizeof *c);
    if (!be || !c) goto fail;
    be->ops = &cpu_ops;
    be->impl = c;
    c->nthreads = nthreads > 0 ? nthreads : vnp_cpu_count();
    c->pool = vnp_pool_create(c->nthreads);
    if (!c->pool) goto fail;
    c->nthreads = vnp_pool_threads(c->pool);
    be->nthreads = c->nthreads;
    /* per thread: a query tile, a transposed key tile, a value tile, scores, output accumulators, row stats */
    c->scratch_floats = (size_t)VNP_ATT_BQ * VNP_ATT_MAX_HD * 2 + (size_t)VNP_ATT_BK * VNP_ATT_MAX_HD * 2 +
                        (size_t)VNP_ATT_BQ * VNP_ATT_BK + 2 * VNP_ATT_BQ + 64;
    c->scratch = vnp_malloc_aligned((size_t)c->nthreads * c->scratch_floats * sizeof(float));
    if (!c->scratch) goto fail;
    openblas_set_num_threads(1); /* our pool splits the GEMMs */
    return be;
fail:
    vnp_error("cannot create the CPU backend (%d threads)", nthreads);
    if (be && c) {
        cpu_destroy(be);
    } else {
        free(be);
        free(c);
    }
    return NULL;
}
