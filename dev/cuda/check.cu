/* Validation of every CUDA kernel against a double-precision CPU reference on fresh random inputs of several
 * shapes, in FP16 and FP32, with poisoned outputs so that an unwritten element fails. */
#include "common.h"

int g_pass, g_fail;
static uint64_t g_seed = 1000;

double gelu_ref(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* ---------------------------------------------------------------- GEMM */

static void check_gemm(vnp_cuda *c, vnp_cuda_dtype dt, int m, int n, int k, int epi, int acc)
{
    Rng r(g_seed++);
    double amp = 1.0 / sqrt((double)k);
    auto x = randn(r, (size_t)m * k, 1.0, dt), w = randn(r, (size_t)n * k, amp, dt), b = randn(r, n, 0.5, dt);
    auto y0 = randn(r, (size_t)m * n, 1.0, dt);
    void *dx = dupload(dt, x), *dw = dupload(dt, w), *db = dupload(dt, b), *dy = acc ? dupload(dt, y0) : dalloc((size_t)m * n * esize(dt));
    if (!acc) poison(dy, (size_t)m * n * esize(dt));
    vnp_cuda_gemm(c, dt, dy, dx, dw, epi ? db : nullptr, m, n, k, acc, epi);
    ck_ctx(c, "gemm");
    std::vector<double> ref((size_t)m * n);
    parallel_for(m, [&](size_t i) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int t = 0; t < k; t++) s += (double)x[i * k + t] * w[(size_t)j * k + t];
            if (epi) s += b[j];
            if (acc) s += y0[i * n + j];
            if (epi == VNP_CUDA_EPI_BIAS_GELU) s = gelu_ref(s);
            ref[i * n + j] = s;
        }
    });
    char name[96];
    snprintf(name, sizeof name, "gemm %dx%dx%d epi%d acc%d", m, n, k, epi, acc);
    report(name, dt, compare(ddownload(dt, dy, (size_t)m * n), ref), tol_of(dt));
    cudaFree(dx); cudaFree(dw); cudaFree(db); cudaFree(dy);
}

/* ---------------------------------------------------------------- LayerNorm */

static void check_ln(vnp_cuda *c, vnp_cuda_dtype dt, int rows, int d, int with_r, int in_place, float eps)
{
    Rng r(g_seed++);
    auto x = randn(r, (size_t)rows * d, 2.0, dt), res = randn(r, (size_t)rows * d, 1.0, dt);
    for (int i = 0; i < rows; i++) /* an offset per row: the centred variance matters */
        for (int j = 0; j < d; j++) x[(size_t)i * d + j] = rounded(dt, {x[(size_t)i * d + j] + (float)(i % 7)})[0];
    auto w = randn(r, d, 1.0, dt), b = randn(r, d, 0.5, dt);
    void *dx = dupload(dt, x), *dr = with_r ? dupload(dt, res) : nullptr, *dw = dupload(dt, w), *db = dupload(dt, b);
    size_t bytes = (size_t)rows * d * esize(dt);
    void *dy = in_place ? dx : dalloc(bytes), *dsum = with_r ? dalloc(bytes) : nullptr;
    if (!in_place) poison(dy, bytes);
    if (dsum) poison(dsum, bytes);
    vnp_cuda_layernorm(c, dt, dy, dsum, dx, dr, dw, db, rows, d, eps);
    ck_ctx(c, "layernorm");
    std::vector<double> ref((size_t)rows * d), sref((size_t)rows * d);
    for (int i = 0; i < rows; i++) {
        double s = 0, q = 0;
        for (int j = 0; j < d; j++) {
            size_t o = (size_t)i * d + j;
            sref[o] = (double)x[o] + (with_r ? (double)res[o] : 0.0);
            s += sref[o];
        }
        double mean = s / d;
        for (int j = 0; j < d; j++) q += (sref[(size_t)i * d + j] - mean) * (sref[(size_t)i * d + j] - mean);
        double rstd = 1.0 / sqrt(q / d + eps);
        for (int j = 0; j < d; j++) ref[(size_t)i * d + j] = (sref[(size_t)i * d + j] - mean) * rstd * w[j] + b[j];
    }
    char name[96];
    snprintf(name, sizeof name, "layernorm %dx%d r%d inplace%d eps%.0e", rows, d, with_r, in_place, eps);
    report(name, dt, compare(ddownload(dt, dy, (size_t)rows * d), ref), tol_of(dt));
    if (dsum) {
        snprintf(name, sizeof name, "layernorm-sum %dx%d", rows, d);
        report(name, dt, compare(ddownload(dt, dsum, (size_t)rows * d), sref), tol_of(dt));
    }
    cudaFree(dx); cudaFree(dr); cudaFree(dw); cudaFree(db);
    if (!in_place) cudaFree(dy);
    cudaFree(dsum);
}

/* ---------------------------------------------------------------- GELU */

static void check_gelu(vnp_cuda *c, vnp_cuda_dtype dt, int rows, int n, int gated)
{
    Rng r(g_seed++);
    int in_cols = gated ? 2 * n : n;
    auto x = randn(r, (size_t)rows * in_cols, 2.0, dt), b = randn(r, n, 0.5, dt);
    void *dx = dupload(dt, x), *db = dupload(dt, b), *du = nullptr;
    std::vector<double> ref((size_t)rows * n);
    if (gated) {
        du = dalloc((size_t)rows * n * esize(dt));
        poison(du, (size_t)rows * n * esize(dt));
        vnp_cuda_gated_gelu(c, dt, du, dx, rows, n);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++)
                ref[(size_t)i * n + j] = gelu_ref(x[(size_t)i * 2 * n + j]) * x[(size_t)i * 2 * n + n + j];
    } else {
        vnp_cuda_bias_gelu(c, dt, dx, db, rows, n);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++) ref[(size_t)i * n + j] = gelu_ref((double)x[(size_t)i * n + j] + b[j]);
    }
    ck_ctx(c, "gelu");
    char name[96];
    snprintf(name, sizeof name, "%s %dx%d", gated ? "gated_gelu" : "bias_gelu", rows, n);
    report(name, dt, compare(ddownload(dt, gated ? du : dx, (size_t)rows * n), ref), tol_of(dt));
    cudaFree(dx); cudaFree(db); cudaFree(du);
}

/* ---------------------------------------------------------------- rotary */

static void check_rope(vnp_cuda *c, vnp_cuda_dtype dt, const std::vector<int> &lens, int heads, int hd, int ld_extra,
                       int use_row_seq = 0)
{
    Rng r(g_seed++);
    auto cu = cu_of(lens);
    int T = cu.back(), half = hd / 2, maxlen = *std::max_element(lens.begin(), lens.end());
    int ld = 3 * heads * hd + ld_extra; /* q and k inside a fused q|k|v row, as the models hold them */
    auto x = randn(r, (size_t)T * ld, 1.0, dt);
    std::vector<float> inv(half);
    for (int j = 0; j < half; j++) /* the fp16-rounded frequencies the checkpoints hold */
        inv[j] = __half2float(__float2half(1.0f / powf(10000.0f, (float)(2 * j) / (float)hd)));
    float *dinv = (float *)dupload(VNP_CUDA_F32, inv);
    float *dcos = (float *)dalloc((size_t)maxlen * half * 4), *dsin = (float *)dalloc((size_t)maxlen * half * 4);
    int32_t *dcu = (int32_t *)dalloc(cu.size() * 4);
    CK(cudaMemcpy(dcu, cu.data(), cu.size() * 4, cudaMemcpyHostToDevice));
    void *dx = dupload(dt, x);
    vnp_cuda_varlen vl = {(int)lens.size(), T, maxlen, dcu, nullptr, 0, nullptr};
    int32_t *drs = (int32_t *)dalloc((size_t)T * 4);
    if (use_row_seq) {
        vnp_cuda_row_seq(c, drs, &vl);
        vl.row_seq_dev = drs;
    }
    vnp_cuda_rope_table(c, dcos, dsin, dinv, maxlen, half);
    float qscale = 1.0f / sqrtf((float)hd);
    vnp_cuda_rope(c, dt, dx, ld, heads, hd, qscale, dcos, dsin, &vl);
    vnp_cuda_rope(c, dt, (char *)dx + (size_t)heads * hd * esize(dt), ld, heads, hd, 1.0f, dcos, dsin, &vl);
    ck_ctx(c, "rope");
    /* the table itself, against the spec's recipe */
    std::vector<double> tref((size_t)maxlen * half);
    for (int p = 0; p < maxlen; p++)
        for (int j = 0; j < half; j++) tref[(size_t)p * half + j] = (float)cos((double)((float)p * inv[j]));
    char name[96];
    snprintf(name, sizeof name, "rope_table %dx%d", maxlen, half);
    report(name, VNP_CUDA_F32, compare(ddownload(VNP_CUDA_F32, dcos, (size_t)maxlen * half), tref), 1e-7);
    std::vector<double> ref(x.begin(), x.end());
    for (size_t s = 0; s + 1 < cu.size(); s++)
        for (int t = cu[s]; t < cu[s + 1]; t++) {
            int p = t - cu[s];
            for (int part = 0; part < 2; part++) {
                double sc = part == 0 ? qscale : 1.0;
                for (int h = 0; h < heads; h++) {
                    size_t o = (size_t)t * ld + (size_t)part * heads * hd + (size_t)h * hd;
                    for (int j = 0; j < half; j++) {
                        float th = (float)p * inv[j];
                        double cc = (float)cos((double)th), ss = (float)sin((double)th);
                        double a = x[o + j] * sc, b = x[o + j + half] * sc;
                        ref[o + j] = a * cc - b * ss;
                        ref[o + j + half] = b * cc + a * ss;
                    }
                }
            }
        }
    snprintf(name, sizeof name, "rope T%d heads%d hd%d ld%d rs%d", T, heads, hd, ld, use_row_seq);
    report(name, dt, compare(ddownload(dt, dx, (size_t)T * ld), ref), tol_of(dt));
    cudaFree(drs);
    cudaFree(dinv); cudaFree(dcos); cudaFree(dsin); cudaFree(dcu); cudaFree(dx);
}

/* ---------------------------------------------------------------- attention */

void attention_ref(std::vector<double> &out, int ld_out, const std::vector<float> &q, const std::vector<float> &k,
                   const std::vector<float> &v, int ld_in, int heads, int hd, double scale, const float *slopes,
                   const std::vector<int32_t> &cu)
{
    int T = cu.back();
    std::vector<int> seq(T);
    for (size_t s = 0; s + 1 < cu.size(); s++)
        for (int t = cu[s]; t < cu[s + 1]; t++) seq[t] = (int)s;
    parallel_for((size_t)T * heads, [&](size_t idx) {
        int i = (int)(idx / heads), h = (int)(idx % heads), lo = cu[seq[i]], hi = cu[seq[i] + 1];
        std::vector<double> sc(hi - lo);
        double mx = -INFINITY;
        for (int j = lo; j < hi; j++) {
            double d = 0;
            for (int e = 0; e < hd; e++) d += (double)q[(size_t)i * ld_in + h * hd + e] * k[(size_t)j * ld_in + h * hd + e];
            d *= scale;
            if (slopes) d += (double)slopes[h] * -(double)abs(i - j);
            sc[j - lo] = d;
            mx = std::max(mx, d);
        }
        double l = 0;
        for (auto &s : sc) l += (s = exp(s - mx));
        for (int e = 0; e < hd; e++) {
            double o = 0;
            for (int j = lo; j < hi; j++) o += sc[j - lo] * v[(size_t)j * ld_in + h * hd + e];
            out[(size_t)i * ld_out + h * hd + e] = o / l;
        }
    });
}

/* Rotates q (times q_scale) and k of every head in fused rows as vnp_cuda_rope does, in double. */
static std::vector<float> rotated(const std::vector<float> &x, const std::vector<int32_t> &cu, int ld, int col0,
                                  int heads, int hd, double mul)
{
    std::vector<float> y(x);
    int half = hd / 2;
    for (size_t s = 0; s + 1 < cu.size(); s++)
        for (int t = cu[s]; t < cu[s + 1]; t++)
            for (int h = 0; h < heads; h++)
                for (int j = 0; j < half; j++) {
                    float inv = __half2float(__float2half(1.0f / powf(10000.0f, (float)(2 * j) / (float)hd)));
                    float th = (float)(t - cu[s]) * inv;
                    double cc = (float)cos((double)th), ss = (float)sin((double)th);
                    size_t o = (size_t)t * ld + col0 + (size_t)h * hd + j;
                    double a = x[o] * mul, b = x[o + half] * mul;
                    y[o] = (float)(a * cc - b * ss);
                    y[o + half] = (float)(b * cc + a * ss);
                }
    return y;
}

static void check_attention(vnp_cuda *c, vnp_cuda_dtype dt, const std::vector<int> &lens, int heads,
                            int hd, int alibi, int ld_extra, double amp, int rope = 0, int use_row_seq = 0)
{
    Rng r(g_seed++);
    auto cu = cu_of(lens);
    int T = cu.back(), ld_in = 3 * heads * hd + ld_extra, ld_out = heads * hd + ld_extra;
    int maxlen = *std::max_element(lens.begin(), lens.end()), half = hd / 2;
    auto qkv = randn(r, (size_t)T * ld_in, amp, dt);
    std::vector<float> slopes(heads);
    for (int h = 0; h < heads; h++) slopes[h] = (float)pow(2.0, -8.0 * (h + 1) / heads) * (h % 2 ? 1.7f : 1.0f);
    int32_t *dcu = (int32_t *)dalloc(cu.size() * 4), *drs = (int32_t *)dalloc((size_t)T * 4);
    CK(cudaMemcpy(dcu, cu.data(), cu.size() * 4, cudaMemcpyHostToDevice));
    float *dsl = (float *)dupload(VNP_CUDA_F32, slopes);
    void *dqkv = dupload(dt, qkv), *dout = dalloc((size_t)T * ld_out * esize(dt));
    poison(dout, (size_t)T * ld_out * esize(dt));
    vnp_cuda_varlen vl = {(int)lens.size(), T, maxlen, dcu, nullptr, 0, nullptr};
    if (use_row_seq) {
        vnp_cuda_row_seq(c, drs, &vl);
        vl.row_seq_dev = drs;
    }
    int32_t *dtiles = nullptr;
    if (use_row_seq == 2) { /* and the attention tile plan */
        std::vector<int32_t> tiles(2 * VNP_CUDA_ATTN_TILES_MAX(T, (int)lens.size()));
        int nt = vnp_cuda_attention_tiles(cu.data(), (int)lens.size(), tiles.data(), (int)tiles.size() / 2);
        dtiles = (int32_t *)dalloc((size_t)std::max(nt, 1) * 8);
        CK(cudaMemcpy(dtiles, tiles.data(), (size_t)nt * 8, cudaMemcpyHostToDevice));
        vl.ntiles = nt;
        vl.tiles_dev = dtiles;
    }
    std::vector<float> inv(std::max(half, 1));
    for (int j = 0; j < half; j++) inv[j] = __half2float(__float2half(1.0f / powf(10000.0f, (float)(2 * j) / (float)hd)));
    float *dinv = (float *)dupload(VNP_CUDA_F32, inv);
    float *dcos = (float *)dalloc((size_t)maxlen * half * 4 + 4), *dsin = (float *)dalloc((size_t)maxlen * half * 4 + 4);
    if (rope) vnp_cuda_rope_table(c, dcos, dsin, dinv, maxlen, half);
    double scale = 1.0 / sqrt((double)hd), q_scale = rope ? 0.5 : 1.0;
    size_t es = esize(dt);
    if (rope) { /* as the model does: q (scaled) and k rotated in place, then attention */
        vnp_cuda_rope(c, dt, dqkv, ld_in, heads, hd, (float)q_scale, dcos, dsin, &vl);
        vnp_cuda_rope(c, dt, (char *)dqkv + (size_t)heads * hd * es, ld_in, heads, hd, 1.0f, dcos, dsin, &vl);
    }
    vnp_cuda_attention(c, dt, dout, ld_out, dqkv, (char *)dqkv + (size_t)heads * hd * es,
                       (char *)dqkv + (size_t)2 * heads * hd * es, ld_in, heads, hd, (float)scale,
                       alibi ? dsl : nullptr, &vl);
    ck_ctx(c, "attention");
    /* the reference reads q, k, v out of the same fused rows (rotated first when asked) */
    std::vector<float> qq = rope ? rotated(qkv, cu, ld_in, 0, heads, hd, q_scale) : qkv;
    std::vector<float> kr = rope ? rotated(qkv, cu, ld_in, heads * hd, heads, hd, 1.0) : qkv;
    std::vector<float> kk(kr.begin() + heads * hd, kr.end()), vv(qkv.begin() + 2 * heads * hd, qkv.end());
    kk.resize(qkv.size()); vv.resize(qkv.size());
    std::vector<double> ref((size_t)T * ld_out, 0.0);
    attention_ref(ref, ld_out, qq, kk, vv, ld_in, heads, hd, scale, alibi ? slopes.data() : nullptr, cu);
    auto out = ddownload(dt, dout, (size_t)T * ld_out);
    std::vector<float> o2;
    std::vector<double> r2;
    for (int t = 0; t < T; t++)
        for (int e = 0; e < heads * hd; e++) {
            o2.push_back(out[(size_t)t * ld_out + e]);
            r2.push_back(ref[(size_t)t * ld_out + e]);
        }
    char name[128];
    snprintf(name, sizeof name, "attn n%zu T%d H%d hd%d alibi%d ld+%d amp%.0f rope%d rs%d", lens.size(),
             T, heads, hd, alibi, ld_extra, amp, rope, use_row_seq);
    report(name, dt, compare(o2, r2), dt == VNP_CUDA_F16 ? 1e-2 : 1e-5);
    cudaFree(dcu); cudaFree(drs); cudaFree(dsl); cudaFree(dqkv); cudaFree(dout);
    cudaFree(dinv); cudaFree(dcos); cudaFree(dsin); cudaFree(dtiles);
}

/* ---------------------------------------------------------------- pooling, embedding, conversion, flags */

static void check_pool(vnp_cuda *c, vnp_cuda_dtype dt, int d, int skip_first, int skip_last, int max_rows)
{
    Rng r(g_seed++);
    std::vector<int> lens = {1, 2, 3, 40, 170, 7, 1200};
    auto cu = cu_of(lens);
    int T = cu.back();
    auto x = randn(r, (size_t)T * d, 1.0, dt);
    int32_t *dcu = (int32_t *)dalloc(cu.size() * 4);
    CK(cudaMemcpy(dcu, cu.data(), cu.size() * 4, cudaMemcpyHostToDevice));
    void *dx = dupload(dt, x);
    float *dout = (float *)dalloc(lens.size() * (size_t)d * 4);
    poison(dout, lens.size() * (size_t)d * 4);
    vnp_cuda_varlen vl = {(int)lens.size(), T, 1200, dcu, nullptr, 0, nullptr};
    vnp_cuda_mean_pool(c, dt, dout, dx, d, skip_first, skip_last, max_rows, &vl);
    ck_ctx(c, "mean_pool");
    std::vector<double> ref(lens.size() * (size_t)d, 0.0);
    for (size_t s = 0; s < lens.size(); s++) {
        int n = lens[s] - skip_first - skip_last;
        if (max_rows >= 0 && n > max_rows) n = max_rows;
        for (int j = 0; j < d && n > 0; j++) {
            double a = 0;
            for (int t = 0; t < n; t++) a += x[(size_t)(cu[s] + skip_first + t) * d + j];
            ref[s * d + j] = a / n;
        }
    }
    char name[96];
    snprintf(name, sizeof name, "mean_pool d%d skip%d,%d max%d", d, skip_first, skip_last, max_rows);
    report(name, dt, compare(ddownload(VNP_CUDA_F32, dout, lens.size() * (size_t)d), ref), 1e-5);
    cudaFree(dcu); cudaFree(dx); cudaFree(dout);
}

static void check_embed(vnp_cuda *c, vnp_cuda_dtype dt, int rows, int d, int vocab, int with_add, int with_div)
{
    Rng r(g_seed++);
    auto table = randn(r, (size_t)vocab * d, 1.0, dt), add = randn(r, d, 0.3, dt);
    std::vector<int32_t> ids(rows);
    std::vector<float> div(rows);
    for (int i = 0; i < rows; i++) {
        ids[i] = r.range(0, vocab - 1);
        div[i] = (float)(0.5 + r.uni());
    }
    int zero_id = vocab - 1;
    ids[0] = zero_id;
    int32_t *dids = (int32_t *)dalloc(rows * 4);
    CK(cudaMemcpy(dids, ids.data(), rows * 4, cudaMemcpyHostToDevice));
    void *dt_ = dupload(dt, table), *dadd = dupload(dt, add);
    float *ddiv = (float *)dupload(VNP_CUDA_F32, div);
    void *dx = dalloc((size_t)rows * d * esize(dt));
    poison(dx, (size_t)rows * d * esize(dt));
    vnp_cuda_embed(c, dt, dx, dt_, dids, rows, d, with_add ? dadd : nullptr, 0.88f, with_div ? ddiv : nullptr, zero_id);
    ck_ctx(c, "embed");
    std::vector<double> ref((size_t)rows * d);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < d; j++) {
            double v = table[(size_t)ids[i] * d + j] + (with_add ? add[j] : 0.0f);
            v = (float)v * 0.88f;
            if (with_div) v /= div[i];
            ref[(size_t)i * d + j] = ids[i] == zero_id ? 0.0 : v;
        }
    char name[96];
    snprintf(name, sizeof name, "embed %dx%d add%d div%d", rows, d, with_add, with_div);
    report(name, dt, compare(ddownload(dt, dx, (size_t)rows * d), ref), tol_of(dt));
    cudaFree(dids); cudaFree(dt_); cudaFree(dadd); cudaFree(ddiv); cudaFree(dx);
}

static void check_convert_and_flag(vnp_cuda *c)
{
    Rng r(g_seed++);
    size_t n = 100003;
    auto x = randn(r, n, 100.0, VNP_CUDA_F32);
    float *d32 = (float *)dupload(VNP_CUDA_F32, x);
    void *d16 = dalloc(n * 2);
    float *back = (float *)dalloc(n * 4);
    poison(d16, n * 2);
    poison(back, n * 4);
    vnp_cuda_convert(c, d16, VNP_CUDA_F16, d32, VNP_CUDA_F32, n);
    vnp_cuda_convert(c, back, VNP_CUDA_F32, d16, VNP_CUDA_F16, n);
    ck_ctx(c, "convert");
    std::vector<double> ref(n);
    for (size_t i = 0; i < n; i++) ref[i] = __half2float(__float2half(x[i]));
    report("convert f32->f16->f32 (exact rounding)", VNP_CUDA_F16, compare(ddownload(VNP_CUDA_F32, back, n), ref), 1e-12);
    int clean0 = vnp_cuda_nonfinite(c, 1);
    vnp_cuda_check_finite(c, VNP_CUDA_F16, d16, n);
    int clean = vnp_cuda_nonfinite(c, 1);
    float inf = INFINITY;
    CK(cudaMemcpy(d32 + 77777, &inf, 4, cudaMemcpyHostToDevice));
    vnp_cuda_check_finite(c, VNP_CUDA_F32, d32, n);
    int dirty = vnp_cuda_nonfinite(c, 1);
    int after_reset = vnp_cuda_nonfinite(c, 0);
    /* the LayerNorm raises it too */
    std::vector<float> w(256, 1.0f), b(256, 0.0f);
    float *dw = (float *)dupload(VNP_CUDA_F32, w), *db = (float *)dupload(VNP_CUDA_F32, b);
    vnp_cuda_layernorm(c, VNP_CUDA_F32, back, nullptr, d32 + 77777 - 5, nullptr, dw, db, 1, 256, 1e-5f);
    int ln_flag = vnp_cuda_nonfinite(c, 1);
    ck_ctx(c, "flags");
    bool ok = !clean0 && !clean && dirty && !after_reset && ln_flag;
    (ok ? g_pass : g_fail)++;
    printf("CHECK %-44s clean %d/%d dirty %d reset %d layernorm %d  %s\n", "non-finite flag", clean0, clean, dirty,
           after_reset, ln_flag, ok ? "ok" : "FAIL");
    cudaFree(d32); cudaFree(d16); cudaFree(back); cudaFree(dw); cudaFree(db);
}

int run_checks(vnp_cuda *c)
{
    const vnp_cuda_dtype dts[2] = {VNP_CUDA_F16, VNP_CUDA_F32};
    for (vnp_cuda_dtype dt : dts) {
        check_gemm(c, dt, 1, 96, 80, VNP_CUDA_EPI_NONE, 0);
        check_gemm(c, dt, 37, 130, 72, VNP_CUDA_EPI_BIAS, 0);
        check_gemm(c, dt, 300, 768, 256, VNP_CUDA_EPI_BIAS, 1);
        check_gemm(c, dt, 257, 1024, 512, VNP_CUDA_EPI_BIAS_GELU, 0);
        check_gemm(c, dt, 129, 512, 2048, VNP_CUDA_EPI_NONE, 1);
        check_ln(c, dt, 33, 2560, 0, 0, 1e-5f);
        check_ln(c, dt, 40, 768, 1, 0, 1e-12f);
        check_ln(c, dt, 17, 768, 1, 1, 1e-12f);
        check_ln(c, dt, 9, 100, 1, 0, 1e-5f);
        check_ln(c, dt, 5, 5120, 0, 1, 1e-5f);
        check_ln(c, dt, 3, 8192, 1, 0, 1e-5f);
        check_gelu(c, dt, 65, 10240, 0);
        check_gelu(c, dt, 7, 30, 0);
        check_gelu(c, dt, 65, 3072, 1);
        check_gelu(c, dt, 5, 13, 1);
        check_rope(c, dt, {1, 17, 200, 3, 1100}, 4, 64, 0);
        check_rope(c, dt, {5, 300}, 2, 128, 0);
        check_rope(c, dt, {9, 31}, 3, 24, 2);
        check_rope(c, dt, {1, 17, 200, 3, 1100}, 4, 64, 0, 1);
        check_pool(c, dt, 2560, 1, 1, -1);
        check_pool(c, dt, 768, 1, 1, 3);
        check_pool(c, dt, 100, 0, 0, -1);
        check_embed(c, dt, 300, 2560, 33, 0, 1);
        check_embed(c, dt, 50, 768, 4096, 1, 0);
    }
    const std::vector<int> mix = {1, 17, 64, 65, 130, 1100, 3, 500, 2, 63, 129};
    const std::vector<int> shorts = {22, 40, 51, 30, 1, 47, 35, 52, 20, 44, 38, 29, 50, 33, 41, 27, 49, 23};
    for (vnp_cuda_dtype dt : dts) {
        for (int alibi = 0; alibi < 2; alibi++) {
            check_attention(c, dt, mix, 4, 64, alibi, 0, 1.0);
            check_attention(c, dt, {1, 200, 1300, 7}, 2, 128, alibi, 0, 1.0);
            check_attention(c, dt, shorts, 3, 64, alibi, 0, 1.0);
        }
        check_attention(c, dt, {33, 1, 257, 2000}, 3, 80, 0, 0, 1.0);
        check_attention(c, dt, {33, 1, 257}, 2, 32, 1, 0, 1.0);
        check_attention(c, dt, {33, 1, 257}, 2, 24, 0, 2, 1.0);
        check_attention(c, dt, {100, 31}, 2, 64, 0, 6, 1.0);   /* ld not a multiple of 8: scalar loads */
        check_attention(c, dt, {300, 45, 1}, 2, 64, 1, 0, 4.0); /* peaked softmax */
        check_attention(c, dt, {17, 300}, 1, 160, 0, 0, 1.0);   /* over 128: the simple kernel */
    }
    for (vnp_cuda_dtype dt : dts) { /* rotary (vnp_cuda_rope) then attention, with and without the row -> sequence map */
        check_attention(c, dt, mix, 4, 64, 0, 0, 1.0, 1, 0);
        check_attention(c, dt, mix, 4, 64, 1, 0, 1.0, 1, 1);
        check_attention(c, dt, shorts, 3, 64, 0, 0, 1.0, 0, 1);
        check_attention(c, dt, {1, 200, 1300, 7}, 2, 128, 0, 0, 1.0, 1, 1);
        check_attention(c, dt, {33, 1, 257}, 2, 24, 0, 2, 1.0, 1, 0);
        check_attention(c, dt, {33, 1, 257}, 3, 80, 1, 0, 1.0, 1, 1);
    }
    for (vnp_cuda_dtype dt : dts) { /* the attention tile plan (sequence-aligned blocks) */
        const std::vector<int> zl = {0, 5, 0, 70, 64, 1, 63, 2, 200, 0, 3};
        check_attention(c, dt, mix, 4, 64, 0, 0, 1.0, 0, 2);
        check_attention(c, dt, shorts, 3, 64, 1, 0, 1.0, 1, 2);
        check_attention(c, dt, zl, 2, 64, 1, 0, 1.0, 0, 2);
        check_attention(c, dt, {1, 200, 1300, 7}, 2, 128, 0, 0, 1.0, 1, 2);
        check_attention(c, dt, {33, 1, 257}, 3, 80, 1, 0, 1.0, 0, 2);
    }
    check_convert_and_flag(c);
    printf("checks: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
