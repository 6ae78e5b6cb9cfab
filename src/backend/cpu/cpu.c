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

/* Batch invariance (issue 14): a row's result must not depend on how many rows share its GEMM. OpenBLAS breaks that
 * two ways: with SkylakeX-class kernels a GEMM with m*n*k <= 1e6 goes to a small-matrix kernel that sums k in
 * another order; and the last m % unroll rows of a call go through edge kernels, which on some cores accumulate
 * otherwise than the full-width kernel. So every call here has a row count that is a multiple of ROW_ALIGN (any
 * unroll divides it) and a size past the small-matrix bound: the rows past the last whole group of ROW_ALIGN run in
 * a second call on a zero-padded copy, the padding rows dropped. Column splits are multiples of 64 and the models'
 * widths are too, so no column edge kernel runs either. */
#define SMALL_MNK 1e6
#define ROW_ALIGN 32
#define PAD_MAX_FLOATS ((size_t)1 << 26)

static void sgemm_rows(const gemm_ctx *g, const float *x, float *y, size_t ldy, int m, int nc, const float *w)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nc, g->k, 1.0f, x, g->k, w, g->k,
                g->accumulate ? 1.0f : 0.0f, y, (int)ldy);
}

/* Columns [lo, hi) of y: single-threaded SGEMMs on a slice of the weight rows. */
static void gemm_cols(void *p, size_t lo, size_t hi)
{
    gemm_ctx *g = p;
    int nc = (int)(hi - lo), k = g->k;
    const float *w = g->w + lo * (size_t)k;
    int head = g->m / ROW_ALIGN * ROW_ALIGN;
    if ((double)head * nc * k <= SMALL_MNK) head = 0; /* all rows through the padded call */
    if (head) sgemm_rows(g, g->x, g->y + lo, (size_t)g->n, head, nc, w);
    int tail = g->m - head;
    if (!tail) return;
    size_t small = (size_t)(SMALL_MNK / ((double)nc * k)) + 1, mp = (size_t)tail > small ? (size_t)tail : small;
    mp = (mp + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
    size_t xs = mp * (size_t)k, ys = mp * (size_t)nc;
    float *xp = xs + ys <= PAD_MAX_FLOATS ? calloc(xs + ys, sizeof(float)) : NULL;
    const float *xt = g->x + (size_t)head * k;
    float *yt = g->y + (size_t)head * g->n + lo;
    if (!xp) { /* out of memory: the rows run unpadded (still right, maybe not batch invariant) */
        sgemm_rows(g, xt, yt, (size_t)g->n, tail, nc, w);
        return;
    }
    float *yp = xp + xs;
    memcpy(xp, xt, (size_t)tail * k * sizeof(float));
    if (g->accumulate)
        for (int r = 0; r < tail; r++) memcpy(yp + (size_t)r * nc, yt + (size_t)r * g->n, (size_t)nc * sizeof(float));
    sgemm_rows(g, xp, yp, (size_t)nc, (int)mp, nc, w);
    for (int r = 0; r < tail; r++) memcpy(yt + (size_t)r * g->n, yp + (size_t)r * nc, (size_t)nc * sizeof(float));
    free(xp);
}

/* Whether OpenBLAS's SGEMM kernel gives a row the same bytes wherever it sits in a call, as the GEMMs above call it
 * (row counts multiples of ROW_ALIGN, past the small-matrix bound): one random row at every position of calls of two
 * sizes, the others zero, against the row at position 0. It holds for the SkylakeX-class and Sandy Bridge kernels
 * of OpenBLAS 0.3.21; its Haswell/Zen kernel (AVX2 machines without AVX-512) computes half the columns of each
 * block of 12 in another order, so there it does not, and reuse of repeated frames is turned off on the CPU
 * (pipeline/flow.c). Checked once per process. */
static int blas_invariant(void)
{
    static int known = -1;
    if (known >= 0) return known;
    enum { N = 64, K = 256, M1 = 64, M2 = 128 };
    float *w = malloc(sizeof(float) * N * K), *x = calloc((size_t)M2 * K, sizeof(float));
    float *y = malloc(sizeof(float) * M2 * N), *ref = malloc(sizeof(float) * N);
    int ok = w && x && y && ref;
    uint32_t r = 12345;
    for (int i = 0; ok && i < N * K; i++) w[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int i = 0; ok && i < K; i++) x[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    if (ok) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M1, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
        memcpy(ref, y, sizeof(float) * N);
    }
    for (int m = M1; ok && m <= M2; m += M2 - M1)
        for (int p = 1; ok && p < m; p++) {
            memmove(x + (size_t)p * K, x + (size_t)(p - 1) * K, sizeof(float) * K); /* the row moves down one */
            memset(x + (size_t)(p - 1) * K, 0, sizeof(float) * K);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
            ok = memcmp(y + (size_t)p * N, ref, sizeof(float) * N) == 0;
            if (p == m - 1) { /* back to position 0 for the next size */
                memmove(x, x + (size_t)p * K, sizeof(float) * K);
                memset(x + (size_t)p * K, 0, sizeof(float) * K);
            }
        }
    known = ok;
    free(w);
    free(x);
    free(y);
    free(ref);
    return known;
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
    if ((size_t)n * (size_t)k < 16384) per = (size_t)n; /* too small to be worth a wake-up (never by m: the split
                                                           must not depend on the batch) */
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
    be->batch_invariant = blas_invariant();
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
