/* Shared by the CUDA kernel harness: error checks, a seeded RNG, host<->device copies in either element type,
 * error measures against double references, a parallel loop for the references, and event timing. */
#ifndef VNP_DEV_CUDA_COMMON_H
#define VNP_DEV_CUDA_COMMON_H

#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

extern "C" {
#include "vnp/backend_cuda.h"
}

#define CK(call)                                                                                                      \
    do {                                                                                                              \
        cudaError_t e_ = (call);                                                                                      \
        if (e_ != cudaSuccess) {                                                                                      \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));                   \
            exit(1);                                                                                                  \
        }                                                                                                             \
    } while (0)

/* Stops on a recorded backend error: a harness result after one means nothing. */
static inline void ck_ctx(vnp_cuda *c, const char *where)
{
    if (vnp_cuda_sync(c) != VNP_OK) {
        fprintf(stderr, "%s: backend error: %s\n", where, vnp_cuda_error(c));
        exit(1);
    }
}

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 12345) {}
    uint64_t next()
    {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    double uni() { return (double)(next() >> 11) / 9007199254740992.0; } /* [0,1) */
    double normal()
    {
        double u = uni() + 1e-300, v = uni();
        return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
    }
    int range(int lo, int hi) { return lo + (int)(uni() * (hi - lo + 1)); } /* inclusive */
};

static inline size_t esize(vnp_cuda_dtype dt) { return dt == VNP_CUDA_F16 ? 2 : 4; }
static inline const char *dname(vnp_cuda_dtype dt) { return dt == VNP_CUDA_F16 ? "fp16" : "fp32"; }

/* Values as the element type holds them (FP16 inputs are rounded first so the reference sees the same numbers). */
static inline std::vector<float> rounded(vnp_cuda_dtype dt, std::vector<float> v)
{
    if (dt == VNP_CUDA_F16)
        for (auto &x : v) x = __half2float(__float2half(x));
    return v;
}

static inline std::vector<float> randn(Rng &r, size_t n, double amp, vnp_cuda_dtype dt)
{
    std::vector<float> v(n);
    for (auto &x : v) x = (float)(r.normal() * amp);
    return rounded(dt, v);
}

static inline void *dalloc(size_t bytes)
{
    void *p = nullptr;
    CK(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}

static inline void *dupload(vnp_cuda_dtype dt, const std::vector<float> &h)
{
    void *d = dalloc(h.size() * esize(dt));
    if (dt == VNP_CUDA_F16) {
        std::vector<__half> t(h.size());
        for (size_t i = 0; i < h.size(); i++) t[i] = __float2half(h[i]);
        CK(cudaMemcpy(d, t.data(), t.size() * 2, cudaMemcpyHostToDevice));
    } else {
        CK(cudaMemcpy(d, h.data(), h.size() * 4, cudaMemcpyHostToDevice));
    }
    return d;
}

static inline std::vector<float> ddownload(vnp_cuda_dtype dt, const void *d, size_t n)
{
    std::vector<float> h(n);
    if (dt == VNP_CUDA_F16) {
        std::vector<__half> t(n);
        CK(cudaMemcpy(t.data(), d, n * 2, cudaMemcpyDeviceToHost));
        for (size_t i = 0; i < n; i++) h[i] = __half2float(t[i]);
    } else {
        CK(cudaMemcpy(h.data(), d, n * 4, cudaMemcpyDeviceToHost));
    }
    return h;
}

/* NaN in both types: every unwritten element shows up in the comparison. */
static inline void poison(void *d, size_t bytes) { CK(cudaMemset(d, 0xFF, bytes)); }

struct Err {
    double max_abs = 0, rel = 0, max_ref = 0;
    long nonfinite = 0;
};

/* ||out - ref|| / ||ref|| (Frobenius), the largest absolute error and the largest |ref|. */
static inline Err compare(const std::vector<float> &out, const std::vector<double> &ref)
{
    Err e;
    double num = 0, den = 0;
    for (size_t i = 0; i < out.size(); i++) {
        if (!std::isfinite(out[i])) {
            e.nonfinite++;
            continue;
        }
        double d = fabs((double)out[i] - ref[i]);
        e.max_abs = std::max(e.max_abs, d);
        e.max_ref = std::max(e.max_ref, fabs(ref[i]));
        num += d * d;
        den += ref[i] * ref[i];
    }
    e.rel = den > 0 ? sqrt(num / den) : sqrt(num);
    return e;
}

extern int g_pass, g_fail;

/* Passes when nothing is NaN/Inf, the relative error is under tol and no element is off by more than
 * 10 tol of the largest reference value. */
static inline void report(const char *name, vnp_cuda_dtype dt, const Err &e, double tol)
{
    bool ok = e.nonfinite == 0 && e.rel <= tol && e.max_abs <= 10 * tol * std::max(e.max_ref, 1e-30);
    (ok ? g_pass : g_fail)++;
    printf("CHECK %-44s %s  rel %.3e  max_abs %.3e  max|ref| %.3e  nonfinite %ld  tol %.0e  %s\n", name, dname(dt),
           e.rel, e.max_abs, e.max_ref, e.nonfinite, tol, ok ? "ok" : "FAIL");
    fflush(stdout);
}

static inline double tol_of(vnp_cuda_dtype dt) { return dt == VNP_CUDA_F16 ? 5e-3 : 1e-5; }

/* f(i) for i in [0, n) on every hardware thread. */
template <class F> static void parallel_for(size_t n, F f)
{
    unsigned nt = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> th;
    for (unsigned t = 0; t < nt; t++)
        th.emplace_back([=, &f] {
            for (size_t i = t; i < n; i += nt) f(i);
        });
    for (auto &x : th) x.join();
}

/* Median milliseconds of `reps` timed runs of f (each run = inner calls), after `warm` untimed runs. */
template <class F> static double time_ms(cudaStream_t s, F f, int warm, int reps, int inner = 1)
{
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    for (int i = 0; i < warm; i++) f();
    std::vector<float> t;
    for (int r = 0; r < reps; r++) {
        CK(cudaEventRecord(a, s));
        for (int i = 0; i < inner; i++) f();
        CK(cudaEventRecord(b, s));
        CK(cudaEventSynchronize(b));
        float ms;
        CK(cudaEventElapsedTime(&ms, a, b));
        t.push_back(ms / inner);
    }
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

/* Sequence lengths in tokens of the anchor's workloads (bench/torch_anchor.py), packed longest first into
 * at most `budget` tokens. */
std::vector<int> workload_lengths(const char *model, const char *workload, int budget, uint64_t seed);
/* cu_seqlens for lengths. */
static inline std::vector<int32_t> cu_of(const std::vector<int> &lens)
{
    std::vector<int32_t> cu(1, 0);
    for (int l : lens) cu.push_back(cu.back() + l);
    return cu;
}

/* the CPU references (check.cu) */
double gelu_ref(double x);
void attention_ref(std::vector<double> &out, int ld_out, const std::vector<float> &q, const std::vector<float> &k,
                   const std::vector<float> &v, int ld_in, int heads, int hd, double scale, const float *slopes,
                   const std::vector<int32_t> &cu);

int run_checks(vnp_cuda *c);
int run_bench(vnp_cuda *c, int which);

#endif
