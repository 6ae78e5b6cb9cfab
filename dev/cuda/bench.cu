/* Timings: the two ceilings (device copy bandwidth, cuBLASLt FP16 GEMM on the ESM-2 3B and DNABERT-S layer shapes,
 * with a sweep of the heuristic's candidates), the attention kernel on the anchor's workloads, the memory-bound
 * ops against their byte floors, and whole ESM-2 3B / DNABERT-S layers (eager and as a CUDA graph). */
#include "common.h"

#include <functional>
#include <string>

static double g_bw = 0;      /* measured copy bandwidth, GB/s (read + write) */
static double g_tflops = 0;  /* best FP16 GEMM rate seen, TFLOP/s */

std::vector<int> workload_lengths(const char *model, const char *workload, int budget, uint64_t seed)
{
    Rng r(seed);
    std::vector<int> tok;
    bool esm = strcmp(model, "esm2_3b") == 0, chunks = strcmp(workload, "chunks500") == 0;
    for (int i = 0; i < 20000; i++) {
        if (esm)
            tok.push_back((chunks ? (r.uni() < 0.7 ? 166 : r.range(30, 165)) : r.range(20, 50)) + 2);
        else {
            int bp = chunks ? (r.uni() < 0.7 ? 499 : r.range(91, 496)) : r.range(61, 151);
            tok.push_back(std::max(3, (int)lround(bp / 4.6)) + 2);
        }
    }
    std::sort(tok.begin(), tok.end(), std::greater<int>());
    /* packs of at most budget tokens, longest first as the anchor builds them; take the middle pack */
    std::vector<std::vector<int>> packs(1);
    int t = 0;
    for (int l : tok) {
        if (!packs.back().empty() && t + l > budget) {
            packs.emplace_back();
            t = 0;
        }
        packs.back().push_back(l);
        t += l;
    }
    return packs[packs.size() / 2];
}

static void fill_dev(vnp_cuda_dtype dt, void *d, size_t n, double amp, uint64_t seed)
{
    Rng r(seed);
    std::vector<float> h(n);
    for (auto &x : h) x = (float)((r.uni() * 2 - 1) * amp * 1.7320508);
    void *t = dupload(dt, h);
    CK(cudaMemcpy(d, t, n * esize(dt), cudaMemcpyDeviceToDevice));
    cudaFree(t);
}

static void *dev_rand(vnp_cuda_dtype dt, size_t n, double amp, uint64_t seed)
{
    void *d = dalloc(n * esize(dt));
    fill_dev(dt, d, n, amp, seed);
    return d;
}

/* ---------------------------------------------------------------- ceilings */

static void bench_bandwidth(vnp_cuda *c)
{
    size_t bytes = (size_t)1 << 30;
    void *a = dalloc(bytes), *b = dalloc(bytes);
    CK(cudaMemset(a, 1, bytes));
    cudaStream_t s = (cudaStream_t)vnp_cuda_stream(c);
    double ms = time_ms(s, [&] { CK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, s)); }, 3, 10);
    g_bw = 2.0 * bytes / (ms * 1e-3) / 1e9;
    printf("CEIL copy 1 GiB device-to-device: %.3f ms, %.0f GB/s (read + write)\n", ms, g_bw);
    cudaFree(a);
    cudaFree(b);
}

/* Every candidate the heuristic offers for y = x W^T (FP16, no epilogue), timed; returns the best ms. */
static double gemm_sweep(vnp_cuda *c, int m, int n, int k, void *y, const void *x, const void *w, int *best_idx,
                         int *count, double *first_ms)
{
    cublasLtHandle_t lt;
    cublasLtCreate(&lt);
    cublasLtMatmulDesc_t op;
    cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, k, n, k);
    cublasLtMatrixLayoutCreate(&lb, CUDA_R_16F, k, m, k);
    cublasLtMatrixLayoutCreate(&lc, CUDA_R_16F, n, m, n);
    cublasLtMatmulPreference_t pref;
    cublasLtMatmulPreferenceCreate(&pref);
    size_t wsb = 32u << 20;
    void *ws = dalloc(wsb);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb, sizeof wsb);
    cublasLtMatmulHeuristicResult_t res[16];
    int found = 0;
    cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, 16, res, &found);
    cudaStream_t s = (cudaStream_t)vnp_cuda_stream(c);
    double best = 1e30;
    *best_idx = -1;
    *first_ms = 0;
    float alpha = 1, beta = 0;
    for (int i = 0; i < found; i++) {
        if (res[i].state != CUBLAS_STATUS_SUCCESS) continue;
        double ms = time_ms(s, [&] {
            cublasLtMatmul(lt, op, &alpha, w, la, x, lb, &beta, y, lc, y, lc, &res[i].algo, ws, wsb, s);
        }, 2, 7);
        if (i == 0) *first_ms = ms;
        if (ms < best) {
            best = ms;
            *best_idx = i;
        }
    }
    *count = found;
    cudaFree(ws);
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(op);
    cublasLtDestroy(lt);
    return best;
}

static void bench_gemm(vnp_cuda *c)
{
    struct { const char *what; int n, k; } shapes[] = {
        {"esm3b qkv (fused)", 7680, 2560}, {"esm3b out_proj", 2560, 2560}, {"esm3b fc1", 10240, 2560},
        {"esm3b fc2", 2560, 10240},        {"dnabert Wqkv", 2304, 768},    {"dnabert dense", 768, 768},
        {"dnabert gated", 6144, 768},      {"dnabert wo", 768, 3072},
    };
    const int Ts[] = {16384, 16296};
    cudaStream_t s = (cudaStream_t)vnp_cuda_stream(c);
    for (int T : Ts)
        for (auto &sh : shapes) {
            int m = T, n = sh.n, k = sh.k;
            void *x = dev_rand(VNP_CUDA_F16, (size_t)m * k, 1.0, 1), *w = dev_rand(VNP_CUDA_F16, (size_t)n * k, 0.02, 2);
            void *b = dev_rand(VNP_CUDA_F16, n, 0.1, 3), *y = dalloc((size_t)m * n * 2);
            double fl = 2.0 * m * n * k;
            auto run = [&](int epi, int acc) {
                double ms = time_ms(s, [&] { vnp_cuda_gemm(c, VNP_CUDA_F16, y, x, w, b, m, n, k, acc, epi); }, 3, 15);
                ck_ctx(c, "gemm bench");
                return ms;
            };
            double t0 = run(VNP_CUDA_EPI_NONE, 0), t1 = run(VNP_CUDA_EPI_BIAS, 0), t2 = run(VNP_CUDA_EPI_BIAS, 1);
            double t3 = run(VNP_CUDA_EPI_BIAS_GELU, 0);
            int bi, cnt;
            double first;
            double best = gemm_sweep(c, m, n, k, y, x, w, &bi, &cnt, &first);
            g_tflops = std::max(g_tflops, fl / (std::min(best, t0) * 1e-3) / 1e12);
            printf("CEIL gemm fp16 %-18s T%-6d %5dx%-5d none %.3f ms %.0f TF | bias %.3f | bias+acc %.3f | bias+gelu(erf) "
                   "%.3f | sweep %d algos: #0 %.3f best #%d %.3f ms %.0f TF\n",
                   sh.what, T, n, k, t0, fl / (t0 * 1e-3) / 1e12, t1, t2, t3, cnt, first, bi, best,
                   fl / (best * 1e-3) / 1e12);
            fflush(stdout);
            cudaFree(x); cudaFree(w); cudaFree(b); cudaFree(y);
        }
    /* a large square product: the card's dense FP16 rate */
    int N = 8192;
    void *x = dev_rand(VNP_CUDA_F16, (size_t)N * N, 1.0, 4), *w = dev_rand(VNP_CUDA_F16, (size_t)N * N, 0.01, 5);
    void *y = dalloc((size_t)N * N * 2);
    double ms = time_ms(s, [&] { vnp_cuda_gemm(c, VNP_CUDA_F16, y, x, w, nullptr, N, N, N, 0, 0); }, 3, 10);
    printf("CEIL gemm fp16 8192^3: %.3f ms %.0f TF\n", ms, 2.0 * N * N * (double)N / (ms * 1e-3) / 1e12);
    cudaFree(x); cudaFree(w); cudaFree(y);
}

/* ---------------------------------------------------------------- attention */

struct Packed {
    std::vector<int> lens;
    std::vector<int32_t> cu;
    int32_t *dcu = nullptr, *drs = nullptr, *dtiles = nullptr;
    vnp_cuda_varlen vl{};  /* without the row -> sequence map */
    vnp_cuda_varlen vlm{}; /* with it */
    vnp_cuda_varlen vlt{}; /* with it and the attention tile plan */
    double pairs = 0;      /* sum of L^2 */
};

static Packed make_packed(const std::vector<int> &lens)
{
    Packed p;
    p.lens = lens;
    p.cu = cu_of(lens);
    p.dcu = (int32_t *)dalloc(p.cu.size() * 4);
    CK(cudaMemcpy(p.dcu, p.cu.data(), p.cu.size() * 4, cudaMemcpyHostToDevice));
    p.vl = {(int)lens.size(), p.cu.back(), *std::max_element(lens.begin(), lens.end()), p.dcu, nullptr, 0, nullptr};
    std::vector<int32_t> rs;
    for (size_t s = 0; s < lens.size(); s++)
        for (int i = 0; i < lens[s]; i++) rs.push_back((int32_t)s);
    p.drs = (int32_t *)dalloc(rs.size() * 4);
    CK(cudaMemcpy(p.drs, rs.data(), rs.size() * 4, cudaMemcpyHostToDevice));
    p.vlm = p.vl;
    p.vlm.row_seq_dev = p.drs;
    std::vector<int32_t> tiles(2 * VNP_CUDA_ATTN_TILES_MAX(p.cu.back(), (int)lens.size()));
    int nt = vnp_cuda_attention_tiles(p.cu.data(), (int)lens.size(), tiles.data(), (int)tiles.size() / 2);
    if (nt < 0) {
        fprintf(stderr, "attention tiles: no room\n");
        exit(1);
    }
    p.dtiles = (int32_t *)dalloc((size_t)nt * 8);
    CK(cudaMemcpy(p.dtiles, tiles.data(), (size_t)nt * 8, cudaMemcpyHostToDevice));
    p.vlt = p.vlm;
    p.vlt.ntiles = nt;
    p.vlt.tiles_dev = p.dtiles;
    for (int l : lens) p.pairs += (double)l * l;
    return p;
}

static void free_packed(Packed &p)
{
    cudaFree(p.dcu);
    cudaFree(p.drs);
    cudaFree(p.dtiles);
}

static void bench_attention_case(vnp_cuda *c, const char *name, const Packed &p, int heads, int hd, int alibi,
                                 float scale)
{
    cudaStream_t s = (cudaStream_t)vnp_cuda_stream(c);
    int T = p.vl.rows, ld = 3 * heads * hd, half = hd / 2;
    void *qkv = dev_rand(VNP_CUDA_F16, (size_t)T * ld, 1.0, 7), *out = dalloc((size_t)T * heads * hd * 2);
    std::vector<float> sl(heads);
    for (int h = 0; h < heads; h++) sl[h] = (float)pow(2.0, -8.0 * (h + 1) / heads);
    float *dsl = (float *)dupload(VNP_CUDA_F32, sl);
    float *inv = (float *)dev_rand(VNP_CUDA_F32, half, 0.3, 9);
    float *cs = (float *)dalloc((size_t)p.vl.max_len * half * 4), *sn = (float *)dalloc((size_t)p.vl.max_len * half * 4);
    vnp_cuda_rope_table(c, cs, sn, inv, p.vl.max_len, half);
    double fl = 4.0 * p.pairs * hd * heads, bytes = (double)T * heads * hd * 2 * 4;
    /* the product kernel without and with the per-batch plan; the variants it was chosen against (several heads per
     * block, rotary inside, the simple kernel in FP16) were removed from the program after measuring (gpu-notes.md) */
    struct { const char *v; int map; } vs[] = {{"tc", 0}, {"tc+map", 1}, {"tc+map+tiles", 2}, {"tc+map+tiles", 2}};
    for (auto &v : vs) {
        const vnp_cuda_varlen *vl = v.map == 2 ? &p.vlt : v.map ? &p.vlm : &p.vl;
        double ms = time_ms(s, [&] {
            vnp_cuda_attention(c, VNP_CUDA_F16, out, heads * hd, qkv, (char *)qkv + heads * hd * 2,
                               (char *)qkv + 2 * heads * hd * 2, ld, heads, hd, scale, alibi ? dsl : nullptr, vl);
        }, 5, 20);
        ck_ctx(c, "attention bench");
        printf("ATTN %-20s %-12s T%-6d nseq %-5d maxlen %-5d H%-3d hd%-4d alibi%d: %.4f ms  %.0f TF/s (useful)  "
               "floor: %.4f ms mma@%.0fTF, %.4f ms bytes@%.0fGB/s\n",
               name, v.v, T, p.vl.nseq, p.vl.max_len, heads, hd, alibi, ms, fl / (ms * 1e-3) / 1e12,
               fl / (g_tflops * 1e12) * 1e3, g_tflops, bytes / (g_bw * 1e9) * 1e3, g_bw);
        fflush(stdout);
    }
    cudaFree(qkv); cudaFree(out); cudaFree(dsl); cudaFree(inv); cudaFree(cs); cudaFree(sn);
}

static void bench_attention(vnp_cuda *c)
{
    Packed e1 = make_packed(workload_lengths("esm2_3b", "chunks500", 16384, 11));
    Packed e2 = make_packed(workload_lengths("esm2_3b", "reads150", 16384, 12));
    Packed d1 = make_packed(workload_lengths("dnabert_s", "chunks500", 16384, 13));
    Packed d2 = make_packed(workload_lengths("dnabert_s", "reads150", 16384, 14));
    Packed lg = make_packed(std::vector<int>(8, 2048));
    bench_attention_case(c, "esm3b chunks500", e1, 40, 64, 0, 1.0f);
    bench_attention_case(c, "esm3b reads150", e2, 40, 64, 0, 1.0f);
    bench_attention_case(c, "dnabert chunks500", d1, 12, 64, 1, 0.125f);
    bench_attention_case(c, "dnabert reads150", d2, 12, 64, 1, 0.125f);
    bench_attention_case(c, "long 8x2048", lg, 16, 64, 0, 0.125f);
    bench_attention_case(c, "long 8x2048", lg, 16, 128, 0, 0.0884f);
    for (Packed *p : {&e1, &e2, &d1, &d2, &lg}) free_packed(*p);
}

/* ---------------------------------------------------------------- memory-bound ops */

static void bench_ops(vnp_cuda *c)
{
    cudaStream_t s = (cudaStream_t)vnp_cuda_stream(c);
    Packed p = make_packed(workload_lengths("esm2_3b", "chunks500", 16384, 11));
    int T = p.vl.rows, D = 2560, F = 10240, H = 40, hd = 64;
    vnp_cuda_dtype h = VNP_CUDA_F16;
    void *x = dev_rand(h, (size_t)T * D, 1.0, 1), *r = dev_rand(h, (size_t)T * D, 1.0, 2), *y = dalloc((size_t)T * D * 2);
    void *w = dev_rand(h, D, 1.0, 3), *b = dev_rand(h, D, 0.1, 4), *qkv = dev_rand(h, (size_t)T * 3 * D, 1.0, 5);
    void *ff = dev_rand(h, (size_t)T * F, 1.0, 6), *fb = dev_rand(h, F, 0.1, 7);
    float *cs = (float *)dalloc((size_t)2048 * 32 * 4), *sn = (float *)dalloc((size_t)2048 * 32 * 4);
    float *inv = (float *)dev_rand(VNP_CUDA_F32, 32, 0.5, 8), *pool = (float *)dalloc((size_t)p.vl.nseq * D * 4);
    vnp_cuda_rope_table(c, cs, sn, inv, 2048, 32);
    auto line = [&](const char *name, double bytes, double ms) {
        printf("OPS %-40s T%-6d %.4f ms  %.0f GB/s  floor %.4f ms (%.0f%% of copy bandwidth)\n", name, T, ms,
               bytes / (ms * 1e-3) / 1e9, bytes / (g_bw * 1e9) * 1e3, 100.0 * bytes / (ms * 1e-3) / 1e9 / g_bw);
        fflush(stdout);
    };
    double td = (double)T * D * 2;
    line("layernorm 2560", 2 * td, time_ms(s, [&] { vnp_cuda_layernorm(c, h, y, nullptr, x, nullptr, w, b, T, D, 1e-5f); }, 3, 20));
    line("add+layernorm 2560 (+sum out)", 4 * td, time_ms(s, [&] { vnp_cuda_layernorm(c, h, y, y, x, r, w, b, T, D, 1e-5f); }, 3, 20));
    line("rope q (40x64 in fused qkv)", 2 * td, time_ms(s, [&] { vnp_cuda_rope(c, h, qkv, 3 * D, H, hd, 0.125f, cs, sn, &p.vl); }, 3, 20));
    line("bias_gelu 10240 (A&S erfc)", 2.0 * T * F * 2, time_ms(s, [&] { vnp_cuda_bias_gelu(c, h, ff, fb, T, F); }, 3, 20));
    line("gated_gelu 3072 (dnabert)", 3.0 * T * 3072 * 2, time_ms(s, [&] { vnp_cuda_gated_gelu(c, h, qkv, ff, T, 3072); }, 3, 20));
    line("rope q with row->seq map", 2 * td, time_ms(s, [&] { vnp_cuda_rope(c, h, qkv, 3 * D, H, hd, 0.125f, cs, sn, &p.vlm); }, 3, 20));
    line("mean_pool 2560 -> fp32", td, time_ms(s, [&] { vnp_cuda_mean_pool(c, h, pool, x, D, 1, 1, -1, &p.vl); }, 3, 20));
    line("check_finite 2560", td, time_ms(s, [&] { vnp_cuda_check_finite(c, h, x, (size_t)T * D); }, 3, 20));
    ck_ctx(c, "ops bench");
    for (void *q : {x, r, y, w, b, qkv, ff, fb}) cudaFree(q);
    cudaFree(cs); cudaFree(sn); cudaFree(inv); cudaFree(pool);
    free_packed(p);
}

/* ---------------------------------------------------------------- whole layers */

struct EsmLayer {
    int D, H, hd, F;
    void *ln1w, *ln1b, *qkvw, *qkvb, *ow, *ob, *ln2w, *ln2b, *fc1w, *fc1b, *fc2w, *fc2b;
};

static EsmLayer esm_layer(int D, int H, int F)
{
    vnp_cuda_dtype h = VNP_CUDA_F16;
    EsmLayer L{D, H, D / H, F};
    L.ln1w = dev_rand(h, D, 0.1, 21); L.ln1b = dev_rand(h, D, 0.02, 22);
    L.qkvw = dev_rand(h, (size_t)3 * D * D, 0.5 / sqrt(D), 23); L.qkvb = dev_rand(h, 3 * D, 0.02, 24);
    L.ow = dev_rand(h, (size_t)D * D, 0.5 / sqrt(D), 25); L.ob = dev_rand(h, D, 0.02, 26);
    L.ln2w = dev_rand(h, D, 0.1, 27); L.ln2b = dev_rand(h, D, 0.02, 28);
    L.fc1w = dev_rand(h, (size_t)F * D, 0.5 / sqrt(D), 29); L.fc1b = dev_rand(h, F, 0.02, 30);
    L.fc2w = dev_rand(h, (size_t)D * F, 0.5 / sqrt(F), 31); L.fc2b = dev_rand(h, D, 0.02, 32);
    /* LayerNorm gains around 1 */
    std::vector<float> ones(D, 1.0f);
    void *o = dupload(h, ones);
    CK(cudaMemcpy(L.ln1w, o, D * 2, cudaMemcpyDeviceToDevice));
    CK(cudaMemcpy(L.ln2w, o, D * 2, cudaMemcpyDeviceToDevice));
    cudaFree(o);
    return L;
}

struct EsmActs {
    void *x, *hb, *qkv, *ctx, *ff;
};

static EsmActs esm_acts(int T, int D, int F, uint64_t seed)
{
    EsmActs A;
    A.x = dev_rand(VNP_CUDA_F16, (size_t)T * D, 1.0, seed);
    A.hb = dalloc((size_t)T * D * 2);
    A.qkv = dalloc((size_t)T * 3 * D * 2);
    A.ctx = dalloc((size_t)T * D * 2);
    A.ff = dalloc((size_t)T * F * 2);
    return A;
}

static void esm_acts_free(EsmActs &A)
{
    for (void *v : {A.x, A.hb, A.qkv, A.ctx, A.ff}) cudaFree(v);
}

/* The layer as the model runs it (esm2.md §3.2), FP16. */
static void esm_layer_run(vnp_cuda *c, const EsmLayer &L, const EsmActs &A, int T, const vnp_cuda_varlen *vl,
                          const float *cs, const float *sn)
{
    const vnp_cuda_dtype h = VNP_CUDA_F16;
    const int D = L.D, H = L.H, hd = L.hd, F = L.F;
    char *q = (char *)A.qkv;
    vnp_cuda_layernorm(c, h, A.hb, nullptr, A.x, nullptr, L.ln1w, L.ln1b, T, D, 1e-5f);
    vnp_cuda_gemm(c, h, A.qkv, A.hb, L.qkvw, L.qkvb, T, 3 * D, D, 0, VNP_CUDA_EPI_BIAS);
    vnp_cuda_rope(c, h, q, 3 * D, H, hd, 0.125f, cs, sn, vl);
    vnp_cuda_rope(c, h, q + (size_t)D * 2, 3 * D, H, hd, 1.0f, cs, sn, vl);
    vnp_cuda_attention(c, h, A.ctx, D, q, q + (size_t)D * 2, q + (size_t)2 * D * 2, 3 * D, H, hd, 1.0f, nullptr, vl);
    vnp_cuda_gemm(c, h, A.x, A.ctx, L.ow, L.ob, T, D, D, 1, VNP_CUDA_EPI_BIAS);
    vnp_cuda_layernorm(c, h, A.hb, nullptr, A.x, nullptr, L.ln2w, L.ln2b, T, D, 1e-5f);
    vnp_cuda_gemm(c, h, A.ff, A.hb, L.fc1w, L.fc1b, T, F, D, 0, VNP_CUDA_EPI_BIAS_GELU);
    vnp_cuda_gemm(c, h, A.x, A.ff, L.fc2w, L.fc2b, T, D, F, 1, VNP_CUDA_EPI_BIAS);
}

/* One ESM-2 3B layer on a packed batch of ~16K tokens. opt: 0 = row map; 1 = row map + attention tile plan;
 * 2 = as 1 with GEMM tuning. Parts for opt 2. (cuBLASLt's tanh-GELU epilogue on fc1 and the rotary inside the
 * attention were measured here and dropped: docs/gpu-notes.md.)
 * (Two batches in flight on two streams, interleaved layer by layer, measured 2026-11-26: 4.68 ms per layer against
 * 4.24 ms serial on chunks500, so the variant was dropped.) */
static void bench_esm_layer(vnp_cuda *c, const char *workload, double anchor, int opt)
{
    static const char *opt_name[] = {"map", "map+tiles", "map+tiles+tuned"};
    cudaStream_t s = (cudaStream_t)vnp_cuda_stream(c);
    vnp_cuda_dtype h = VNP_CUDA_F16;
    Packed p = make_packed(workload_lengths("esm2_3b", workload, 16384, 11));
    const vnp_cuda_varlen *vl = opt ? &p.vlt : &p.vlm;
    const int D = 2560, H = 40, hd = 64, F = 10240, T = p.vl.rows;
    vnp_cuda_set_gemm_tuning(c, opt >= 2);
    EsmLayer L = esm_layer(D, H, F);
    EsmActs A = esm_acts(T, D, F, 40);
    std::vector<float> inv(hd / 2);
    for (int j = 0; j < hd / 2; j++) inv[j] = __half2float(__float2half(1.0f / powf(10000.0f, 2.0f * j / hd)));
    float *dinv = (float *)dupload(VNP_CUDA_F32, inv), *cs = (float *)dalloc((size_t)p.vl.max_len * 32 * 4);
    float *sn = (float *)dalloc((size_t)p.vl.max_len * 32 * 4);
    vnp_cuda_rope_table(c, cs, sn, dinv, p.vl.max_len, hd / 2);
    char *q = (char *)A.qkv;
    auto ln1 = [&] { vnp_cuda_layernorm(c, h, A.hb, nullptr, A.x, nullptr, L.ln1w, L.ln1b, T, D, 1e-5f); };
    auto g_qkv = [&] { vnp_cuda_gemm(c, h, A.qkv, A.hb, L.qkvw, L.qkvb, T, 3 * D, D, 0, VNP_CUDA_EPI_BIAS); };
    auto rope = [&] {
        vnp_cuda_rope(c, h, q, 3 * D, H, hd, 0.125f, cs, sn, vl);
        vnp_cuda_rope(c, h, q + (size_t)D * 2, 3 * D, H, hd, 1.0f, cs, sn, vl);
    };
    auto attn = [&] {
        vnp_cuda_attention(c, h, A.ctx, D, q, q + (size_t)D * 2, q + (size_t)2 * D * 2, 3 * D, H, hd, 1.0f, nullptr, vl);
    };
    auto g_o = [&] { vnp_cuda_gemm(c, h, A.x, A.ctx, L.ow, L.ob, T, D, D, 1, VNP_CUDA_EPI_BIAS); };
    auto ln2 = [&] { vnp_cuda_layernorm(c, h, A.hb, nullptr, A.x, nullptr, L.ln2w, L.ln2b, T, D, 1e-5f); };
    auto g_fc1 = [&] { vnp_cuda_gemm(c, h, A.ff, A.hb, L.fc1w, L.fc1b, T, F, D, 0, VNP_CUDA_EPI_BIAS_GELU); };
    auto g_fc1_plain = [&] { vnp_cuda_gemm(c, h, A.ff, A.hb, L.fc1w, L.fc1b, T, F, D, 0, VNP_CUDA_EPI_BIAS); };
    auto g_fc2 = [&] { vnp_cuda_gemm(c, h, A.x, A.ff, L.fc2w, L.fc2b, T, D, F, 1, VNP_CUDA_EPI_BIAS); };
    auto layer = [&] { esm_layer_run(c, L, A, T, vl, cs, sn); };
    double gemm = 0;
    /* in_layer: part of the layer's sequence; is_gemm: counts toward the cuBLAS ceiling */
    struct Part { const char *n; std::function<void()> f; int in_layer, is_gemm; };
    Part parts[] = {
        {"ln1", ln1, 1, 0}, {"gemm qkv+bias", g_qkv, 1, 1}, {"rope q,k (pass)", rope, 1, 0},
        {"attention", attn, 1, 0}, {"gemm out+bias+res", g_o, 1, 1}, {"ln2", ln2, 1, 0},
        {"gemm fc1+bias, gelu", g_fc1, 1, 0}, {"  gemm fc1+bias alone", g_fc1_plain, 0, 1},
        {"gemm fc2+bias+res", g_fc2, 1, 1}};
    double sum = 0;
    for (auto &pt : parts) {
        double ms = time_ms(s, pt.f, 2, 10);
        if (pt.in_layer) sum += ms;
        if (pt.is_gemm) gemm += ms;
        if (opt == 2) printf("LAYER esm3b %-10s part %-30s %.4f ms\n", workload, pt.n, ms);
    }
    ck_ctx(c, "esm layer parts");
    double eager = time_ms(s, layer, 2, 10);
    double eager2 = time_ms(s, layer, 0, 10);
    double best;
    char extra[160] = "";
    {
        /* the same layer captured once and replayed */
        cudaGraph_t gr;
        cudaGraphExec_t ge;
        CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
        layer();
        CK(cudaStreamEndCapture(s, &gr));
        CK(cudaGraphInstantiate(&ge, gr, 0));
        double graph = time_ms(s, [&] { CK(cudaGraphLaunch(ge, s)); }, 2, 10);
        cudaGraphExecDestroy(ge);
        cudaGraphDestroy(gr);
        best = std::min(std::min(eager, eager2), graph);
        snprintf(extra, sizeof extra, "; graph %.3f ms", graph);
    }
    ck_ctx(c, "esm layer");
    vnp_cuda_check_finite(c, h, A.x, (size_t)T * D);
    int bad = vnp_cuda_nonfinite(c, 1);
    double tps_layer = T / (best * 1e-3), tps_model = tps_layer / 36;
    double ceil_model = T / (gemm * 1e-3) / 36;
    printf("LAYER esm3b %-10s [%s] T%d nseq %d: parts sum %.3f ms, eager %.3f / %.3f ms%s; GEMMs alone %.3f ms\n",
           workload, opt_name[opt], T, p.vl.nseq, sum, eager, eager2, extra, gemm);
    printf("RESULT esm3b %-10s [%s] %.0f tok/s per layer -> %.0f tok/s per model (36 layers); GEMM ceiling %.0f tok/s; "
           "%.1f%% of ceiling; vs packed anchor %.1fK: %.2fx%s\n",
           workload, opt_name[opt], tps_layer, tps_model, ceil_model, 100.0 * tps_model / ceil_model, anchor / 1e3,
           tps_model / anchor, bad ? "  (NON-FINITE residual!)" : "");
    fflush(stdout);
    for (void *v : {L.ln1w, L.ln1b, L.qkvw, L.qkvb, L.ow, L.ob, L.ln2w, L.ln2b, L.fc1w, L.fc1b, L.fc2w, L.fc2b}) cudaFree(v);
    esm_acts_free(A);
    cudaFree(dinv); cudaFree(cs); cudaFree(sn);
    free_packed(p);
    vnp_cuda_set_gemm_tuning(c, 0);
}

static void bench_dnabert_layer(vnp_cuda *c, const char *workload, double anchor_hint)
{
    cudaStream_t s = (cudaStream_t)vnp_cuda_stream(c);
    vnp_cuda_dtype h = VNP_CUDA_F16;
    Packed p = make_packed(workload_lengths("dnabert_s", workload, 16384, 13));
    const int D = 768, H = 12, hd = 64, F = 3072, T = p.vl.rows;
    const vnp_cuda_varlen *vl = &p.vlt;
    void *wqkv = dev_rand(h, (size_t)3 * D * D, 0.5 / sqrt(D), 1), *bqkv = dev_rand(h, 3 * D, 0.02, 2);
    void *wd = dev_rand(h, (size_t)D * D, 0.5 / sqrt(D), 3), *bd = dev_rand(h, D, 0.02, 4);
    void *wg = dev_rand(h, (size_t)2 * F * D, 0.5 / sqrt(D), 5), *wo = dev_rand(h, (size_t)D * F, 0.5 / sqrt(F), 6);
    void *bo = dev_rand(h, D, 0.02, 7), *lnw = dev_rand(h, D, 0.1, 8), *lnb = dev_rand(h, D, 0.02, 9);
    void *x = dev_rand(h, (size_t)T * D, 1.0, 10), *x1 = dalloc((size_t)T * D * 2), *a = dalloc((size_t)T * D * 2);
    void *qkv = dalloc((size_t)T * 3 * D * 2), *ctx = dalloc((size_t)T * D * 2), *g = dalloc((size_t)T * 2 * F * 2);
    void *u = dalloc((size_t)T * F * 2);
    std::vector<float> sl(H);
    for (int i = 0; i < H; i++) sl[i] = (float)pow(2.0, -8.0 * (i + 1) / H);
    float *dsl = (float *)dupload(VNP_CUDA_F32, sl);
    char *q = (char *)qkv;
    auto layer = [&] {
        vnp_cuda_gemm(c, h, qkv, x, wqkv, bqkv, T, 3 * D, D, 0, VNP_CUDA_EPI_BIAS);
        vnp_cuda_attention(c, h, ctx, D, q, q + D * 2, q + 2 * D * 2, 3 * D, H, hd, 0.125f, dsl, vl);
        vnp_cuda_gemm(c, h, a, ctx, wd, bd, T, D, D, 0, VNP_CUDA_EPI_BIAS);
        vnp_cuda_layernorm(c, h, x1, nullptr, a, x, lnw, lnb, T, D, 1e-12f);
        vnp_cuda_gemm(c, h, g, x1, wg, nullptr, T, 2 * F, D, 0, VNP_CUDA_EPI_NONE);
        vnp_cuda_gated_gelu(c, h, u, g, T, F);
        vnp_cuda_gemm(c, h, a, u, wo, bo, T, D, F, 0, VNP_CUDA_EPI_BIAS);
        vnp_cuda_layernorm(c, h, x, nullptr, a, x1, lnw, lnb, T, D, 1e-12f);
    };
    auto gemms = [&] {
        vnp_cuda_gemm(c, h, qkv, x, wqkv, bqkv, T, 3 * D, D, 0, VNP_CUDA_EPI_BIAS);
        vnp_cuda_gemm(c, h, a, ctx, wd, bd, T, D, D, 0, VNP_CUDA_EPI_BIAS);
        vnp_cuda_gemm(c, h, g, x1, wg, nullptr, T, 2 * F, D, 0, VNP_CUDA_EPI_NONE);
        vnp_cuda_gemm(c, h, a, u, wo, bo, T, D, F, 0, VNP_CUDA_EPI_BIAS);
    };
    auto attn = [&] { vnp_cuda_attention(c, h, ctx, D, q, q + D * 2, q + 2 * D * 2, 3 * D, H, hd, 0.125f, dsl, vl); };
    double eager = time_ms(s, layer, 3, 20), tg = time_ms(s, gemms, 2, 10), ta = time_ms(s, attn, 2, 10);
    cudaGraph_t gr;
    cudaGraphExec_t ge;
    CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    layer();
    CK(cudaStreamEndCapture(s, &gr));
    CK(cudaGraphInstantiate(&ge, gr, 0));
    double graph = time_ms(s, [&] { CK(cudaGraphLaunch(ge, s)); }, 3, 20);
    ck_ctx(c, "dnabert layer");
    double best = std::min(eager, graph), tps_model = T / (best * 1e-3) / 12;
    printf("LAYER dnabert %-10s T%d nseq %d: eager %.3f ms, graph %.3f ms (GEMMs %.3f, attention %.3f)\n", workload, T,
           p.vl.nseq, eager, graph, tg, ta);
    printf("RESULT dnabert %-10s %.0f tok/s per model (12 layers, layers only); vs padded anchor %.0fK: "
           "%.2fx\n", workload, tps_model, anchor_hint / 1e3, tps_model / anchor_hint);
    fflush(stdout);
    cudaGraphExecDestroy(ge);
    cudaGraphDestroy(gr);
    for (void *v : {wqkv, bqkv, wd, bd, wg, wo, bo, lnw, lnb, x, x1, a, qkv, ctx, g, u}) cudaFree(v);
    cudaFree(dsl);
    free_packed(p);
}

int run_bench(vnp_cuda *c, int which)
{
    bench_bandwidth(c);
    if (which & 1) bench_gemm(c);
    if (!g_tflops) g_tflops = 600;
    if (which & 2) bench_attention(c);
    if (which & 4) bench_ops(c);
    if (which & 8) {
        /* the anchors measured on an H100 80GB HBM3, 2026-11-26 (docs/benchmarks.md, GPU section) */
        /* same-card anchors of 2026-11-26 (docs/benchmarks.md, GPU section); the run script prints this call's own */
        for (int opt : {1, 2}) bench_esm_layer(c, "chunks500", 78.5e3, opt);
        for (int opt : {2}) bench_esm_layer(c, "reads150", 75.6e3, opt);
        bench_dnabert_layer(c, "chunks500", 635.9e3);
        bench_dnabert_layer(c, "reads150", 311.5e3);
    }
    return 0;
}
