/* GEMMs through cuBLASLt: y = x W^T (+ b) (+ y) in PyTorch Linear layout, FP16 or FP32 operands with FP32
 * accumulation, one cached plan (descriptors + heuristic algorithm) per (n, k) whatever the row count m (batch
 * invariance, the default), or per shape and bucket of row counts (VIRNUCPRO_CUDA_INVARIANT=0, for measuring). */
#include "cuda_internal.cuh"

#include <string.h>

/* Row-major y[m,n] = x[m,k] W[n,k]^T is, read column-major, y^T[n,m] = W^T... : cuBLASLt (column-major) sees
 * A = W as a k x n matrix (ld k) used transposed, B = x as k x m (ld k), and C = D = y as n x m (ld n). The bias
 * epilogue adds b[n] down each column of D, which is each row of y. */

static int ptr_align(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (a % 16 == 0) return 16;
    if (a % 8 == 0) return 8;
    if (a % 4 == 0) return 4;
    return 2;
}

static void plan_destroy(vnp_cuda_plan *p)
{
    if (p->lc) cublasLtMatrixLayoutDestroy(p->lc);
    if (p->lb) cublasLtMatrixLayoutDestroy(p->lb);
    if (p->la) cublasLtMatrixLayoutDestroy(p->la);
    if (p->op) cublasLtMatmulDescDestroy(p->op);
    memset(p, 0, sizeof *p);
}

/* The cuBLASLt epilogue for our epilogue and bias: cuBLASLt's GELU is the tanh form, so the model's exact GELU
 * runs as a separate pass after a bias epilogue. */
static cublasLtEpilogue_t lt_epilogue(int epi, const void *b)
{
    switch (epi) {
    case VNP_CUDA_EPI_BIAS:
    case VNP_CUDA_EPI_BIAS_GELU: return b ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    default: return CUBLASLT_EPILOGUE_DEFAULT;
    }
}

void vnp_cuda_set_gemm_tuning(vnp_cuda *c, int on) { c->tune = on; }
void vnp_cuda_set_gemm_plans(vnp_cuda *c, int mode) { c->plan_mode = mode; }

/* The m a plan is found by: none (batch invariance: one algorithm for every m, so that a row's rounding never
 * depends on how many rows share its batch), m itself, or (bucketed) the power of two at or above it from 1024 rows
 * on, so that the packed batches of one run, whose token counts differ by a few rows, share one plan and kernel. */
static int plan_mkey(const vnp_cuda *c, int m)
{
    if (c->plan_mode == VNP_CUDA_PLANS_INVARIANT) return -1;
    if (c->plan_mode == 0 || m < 1024) return m;
    int b = 1024;
    while (b < m && b < (1 << 30)) b <<= 1;
    return b;
}

/* Points a bucket's plan at m rows; 0 when cuBLASLt accepts its algorithm for them within our workspace. */
static int plan_retarget(vnp_cuda *c, vnp_cuda_plan *p, int m)
{
    uint64_t cols = (uint64_t)m;
    if (cublasLtMatrixLayoutSetAttribute(p->lb, CUBLASLT_MATRIX_LAYOUT_COLS, &cols, sizeof cols) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatrixLayoutSetAttribute(p->lc, CUBLASLT_MATRIX_LAYOUT_COLS, &cols, sizeof cols) != CUBLAS_STATUS_SUCCESS)
        return -1;
    p->m = m;
    cublasLtMatmulHeuristicResult_t r;
    memset(&r, 0, sizeof r);
    if (cublasLtMatmulAlgoCheck(c->lt, p->op, p->la, p->lb, p->lc, p->lc, &p->algo, &r) != CUBLAS_STATUS_SUCCESS ||
        r.workspaceSize > c->workspace_bytes)
        return -1;
    return 0;
}

/* Times each candidate three times on a scratch output (C = y is only read) and returns the fastest's index. */
static int pick_fastest(vnp_cuda *c, vnp_cuda_plan *p, const cublasLtMatmulHeuristicResult_t *r, int n, const void *x,
                        const void *w, const void *b, const void *y)
{
    cudaStreamCaptureStatus cap;
    if (n < 2 || cudaStreamIsCapturing(c->stream, &cap) != cudaSuccess || cap != cudaStreamCaptureStatusNone)
        return 0;
    void *scratch = NULL;
    size_t bytes = (size_t)p->m * p->n * (p->dt == VNP_CUDA_F16 ? 2 : 4);
    cudaEvent_t e0, e1;
    if (cudaMalloc(&scratch, bytes) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    if (p->epi == CUBLASLT_EPILOGUE_BIAS || p->epi == CUBLASLT_EPILOGUE_GELU_BIAS)
        cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b, sizeof b);
    float alpha = 1.0f, beta = p->acc ? 1.0f : 0.0f, best = 1e30f;
    int pick = 0;
    for (int i = 0; i < n; i++) {
        if (r[i].state != CUBLAS_STATUS_SUCCESS) continue;
        float ms = 0.0f;
        int ok = 1;
        for (int rep = 0; rep < 4 && ok; rep++) { /* the first run warms up */
            cudaEventRecord(e0, c->stream);
            ok = cublasLtMatmul(c->lt, p->op, &alpha, w, p->la, x, p->lb, &beta, p->acc ? y : scratch, p->lc, scratch,
                                p->lc, &r[i].algo, c->workspace, c->workspace_bytes, c->stream) == CUBLAS_STATUS_SUCCESS;
            cudaEventRecord(e1, c->stream);
            cudaEventSynchronize(e1);
            float t = 0.0f;
            cudaEventElapsedTime(&t, e0, e1);
            if (rep) ms += t;
        }
        if (ok && ms < best) {
            best = ms;
            pick = i;
        }
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(scratch);
    cudaGetLastError();
    return pick;
}

/* The first heuristic candidate that does not split k: split-K sums partial products in an order of its own, which a
 * fixed algorithm keeps fixed too, but a reduction through the output can add the parts in any order. */
static int first_unsplit(const cublasLtMatmulHeuristicResult_t *r, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t split = 1;
        size_t got = 0;
        if (r[i].state == CUBLAS_STATUS_SUCCESS &&
            cublasLtMatmulAlgoConfigGetAttribute(&r[i].algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &split, sizeof split,
                                                 &got) == CUBLAS_STATUS_SUCCESS &&
            split <= 1)
            return i;
    }
    return 0;
}

/* Builds the descriptors and picks an algorithm (the heuristic's first, or the fastest candidate when tuning);
 * 0 on success. */
static int plan_build(vnp_cuda *c, vnp_cuda_plan *p, const void *x, const void *w, const void *b, const void *y)
{
    cudaDataType_t t = p->dt == VNP_CUDA_F16 ? CUDA_R_16F : CUDA_R_32F;
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cublasLtEpilogue_t epi = (cublasLtEpilogue_t)p->epi;
    cublasStatus_t s = cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->la, t, p->k, p->n, p->k);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->lb, t, p->k, p->m, p->k);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasLtMatrixLayoutCreate(&p->lc, t, p->n, p->m, p->n);
    if (s != CUBLAS_STATUS_SUCCESS) {
        vnp_cuda_fail(c, "cuBLASLt descriptors for %dx%dx%d: status %d", p->m, p->n, p->k, (int)s);
        return -1;
    }
    cublasLtMatmulPreference_t pref;
    s = cublasLtMatmulPreferenceCreate(&pref);
    if (s != CUBLAS_STATUS_SUCCESS) {
        vnp_cuda_fail(c, "cublasLtMatmulPreferenceCreate: status %d", (int)s);
        return -1;
    }
    uint64_t ws = c->workspace_bytes;
    uint32_t al = (uint32_t)p->align;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al, sizeof al);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al, sizeof al);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al, sizeof al);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al, sizeof al);
    cublasLtMatmulHeuristicResult_t r[8];
    int found = 0, inv = p->mkey == -1;
    s = cublasLtMatmulAlgoGetHeuristic(c->lt, p->op, p->la, p->lb, p->lc, p->lc, pref, c->tune || inv ? 8 : 1, r,
                                       &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (s != CUBLAS_STATUS_SUCCESS || found < 1) {
        vnp_cuda_fail(c, "cuBLASLt has no algorithm for %s %dx%dx%d (epilogue %d): status %d",
                      p->dt == VNP_CUDA_F16 ? "fp16" : "fp32", p->m, p->n, p->k, p->epi, (int)s);
        return -1;
    }
    if (inv) { /* no timing (its choice could differ between runs): the first candidate without split-K */
        p->algo = r[first_unsplit(r, found)].algo;
        return 0;
    }
    p->algo = r[c->tune ? pick_fastest(c, p, r, found, x, w, b, y) : 0].algo;
    return 0;
}

/* A new plan in a free slot (the oldest is dropped when all are taken), built for m rows. */
static vnp_cuda_plan *plan_new(vnp_cuda *c, int dt, int mkey, int m, int n, int k, int epi, int acc, int align,
                               const void *x, const void *w, const void *b, const void *y)
{
    if (c->nplans == VNP_CUDA_PLANS) { /* a new batch shape: drop the oldest plan */
        plan_destroy(&c->plans[0]);
        memmove(&c->plans[0], &c->plans[1], (VNP_CUDA_PLANS - 1) * sizeof c->plans[0]);
        memset(&c->plans[VNP_CUDA_PLANS - 1], 0, sizeof c->plans[0]);
        c->nplans--;
    }
    vnp_cuda_plan *p = &c->plans[c->nplans];
    memset(p, 0, sizeof *p);
    p->dt = dt; p->mkey = mkey; p->m = m; p->n = n; p->k = k; p->epi = epi; p->acc = acc; p->align = align;
    if (plan_build(c, p, x, w, b, y)) {
        plan_destroy(p);
        return NULL;
    }
    p->used = 1;
    c->nplans++;
    return p;
}

static vnp_cuda_plan *plan_get(vnp_cuda *c, int dt, int m, int n, int k, int epi, int acc, int align, const void *x,
                               const void *w, const void *b, const void *y)
{
    int mkey = plan_mkey(c, m);
    for (int i = 0; i < c->nplans; i++) {
        vnp_cuda_plan *p = &c->plans[i];
        if (p->dt == dt && p->mkey == mkey && p->n == n && p->k == k && p->epi == epi && p->acc == acc &&
            p->align == align) {
            if (p->m == m || plan_retarget(c, p, m) == 0) return p;
            if (mkey == -1) break; /* the invariant algorithm does not take m rows: below */
            /* the bucket's algorithm does not take this m: a fresh plan for it in the same slot */
            plan_destroy(p);
            p->dt = dt; p->mkey = mkey; p->m = m; p->n = n; p->k = k; p->epi = epi; p->acc = acc; p->align = align;
            if (plan_build(c, p, x, w, b, y)) {
                plan_destroy(p);
                memmove(p, p + 1, (size_t)(c->nplans - 1 - i) * sizeof *p);
                memset(&c->plans[c->nplans - 1], 0, sizeof *p);
                c->nplans--;
                return NULL;
            }
            p->used = 1;
            return p;
        }
    }
    if (mkey == -1) {
        /* the algorithm is the heuristic's for a fixed row count, so that it is the same in every run whatever
         * the first batch; should it refuse some m, that m gets a plan of its own and is counted */
        int known = 0;
        for (int i = 0; i < c->nplans && !known; i++)
            known = c->plans[i].mkey == -1 && c->plans[i].dt == dt && c->plans[i].n == n && c->plans[i].k == k &&
                    c->plans[i].epi == epi && c->plans[i].acc == acc && c->plans[i].align == align;
        if (!known) {
            vnp_cuda_plan *p = plan_new(c, dt, -1, VNP_CUDA_PLAN_M, n, k, epi, acc, align, x, w, b, y);
            if (!p) return NULL;
            if (p->m == m || plan_retarget(c, p, m) == 0) return p;
        }
        for (int i = 0; i < c->nplans; i++)
            if (c->plans[i].mkey == -2 && c->plans[i].m == m && c->plans[i].dt == dt && c->plans[i].n == n &&
                c->plans[i].k == k && c->plans[i].epi == epi && c->plans[i].acc == acc && c->plans[i].align == align)
                return &c->plans[i];
        c->variant_plans++;
        return plan_new(c, dt, -2, m, n, k, epi, acc, align, x, w, b, y);
    }
    return plan_new(c, dt, mkey, m, n, k, epi, acc, align, x, w, b, y);
}

long vnp_cuda_variant_plans(const vnp_cuda *c) { return c->variant_plans; }
int vnp_cuda_batch_invariant(const vnp_cuda *c) { return c->plan_mode == VNP_CUDA_PLANS_INVARIANT; }

void vnp_cuda_gemm(vnp_cuda *c, vnp_cuda_dtype dt, void *y, const void *x, const void *w, const void *b, int m,
                   int n, int k, int accumulate, int epilogue)
{
    if (m <= 0 || n <= 0 || k <= 0) {
        if (m < 0 || n < 0 || k < 0) vnp_cuda_fail(c, "gemm: negative shape %dx%dx%d", m, n, k);
        return;
    }
    if (epilogue == VNP_CUDA_EPI_BIAS_GELU && accumulate) {
        vnp_cuda_fail(c, "gemm: a GELU epilogue cannot accumulate");
        return;
    }
    int align = ptr_align(y), a2 = ptr_align(x), a3 = ptr_align(w);
    if (a2 < align) align = a2;
    if (a3 < align) align = a3;
    cublasLtEpilogue_t lt_epi = lt_epilogue(epilogue, b);
    vnp_cuda_plan *p = plan_get(c, dt, m, n, k, (int)lt_epi, accumulate, align, x, w, b, y);
    if (!p) return;
    if (lt_epi == CUBLASLT_EPILOGUE_BIAS || lt_epi == CUBLASLT_EPILOGUE_GELU_BIAS) {
        cublasStatus_t s = cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b, sizeof b);
        if (s != CUBLAS_STATUS_SUCCESS) {
            vnp_cuda_fail(c, "gemm: setting the bias pointer: status %d", (int)s);
            return;
        }
    }
    float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    cublasStatus_t s = cublasLtMatmul(c->lt, p->op, &alpha, w, p->la, x, p->lb, &beta, y, p->lc, y, p->lc, &p->algo,
                                      c->workspace, c->workspace_bytes, c->stream);
    if (s != CUBLAS_STATUS_SUCCESS) {
        vnp_cuda_fail(c, "cublasLtMatmul %dx%dx%d: status %d", m, n, k, (int)s);
        return;
    }
    if (epilogue == VNP_CUDA_EPI_BIAS_GELU) vnp_cuda_bias_gelu(c, dt, y, NULL, m, n);
}
