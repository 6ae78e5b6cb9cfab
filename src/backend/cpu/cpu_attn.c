/* Varlen attention on the CPU: one task per (sequence, head), pulled dynamically by the threads; inside a task
 * query blocks of VNP_ATT_BQ rows stream over key blocks of VNP_ATT_BK rows with an online softmax, so memory
 * is a fixed per-thread tile whatever the sequence length. Scores and softmax are FP32. */
#include "cpu_internal.h"
#include "cpu_math.h"

#include <math.h>
#include <string.h>

/* The inner loops are written for auto-vectorisation (fixed-width key blocks, restrict pointers); the file is
 * compiled at O3 with clones for AVX-512 and AVX2 picked at run time, since the release build targets baseline
 * x86-64. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

typedef struct {
    vnp_cpu *c;
    float *out;
    const float *q, *k, *v;
    int ld_out, ld_in, heads, hd;
    float scale;
    const float *slopes;
    const vnp_varlen *vl;
    size_t ntasks;
} att_ctx;

/* One query block [i0, i0+nq) of sequence rows starting at base, head h. Key blocks are always VNP_ATT_BK
 * wide: the columns past the sequence end get zero keys and a score of -inf. */
VNP_CLONES
static void att_block(const att_ctx *a, float *scr, int32_t base, int len, int i0, int nq, int h)
{
    enum { BK = VNP_ATT_BK };
    int hd = a->hd;
    float *restrict kt = scr;                                     /* [hd][BK] keys of the block, transposed */
    float *restrict s = kt + (size_t)VNP_ATT_MAX_HD * BK;         /* [BQ][BK] scores, then probabilities */
    float *restrict o = s + (size_t)VNP_ATT_BQ * BK;              /* [BQ][hd] unnormalised output */
    float *restrict m = o + (size_t)VNP_ATT_BQ * VNP_ATT_MAX_HD;  /* [BQ] running max */
    float *restrict l = m + VNP_ATT_BQ;                           /* [BQ] running sum */
    float slope = a->slopes ? a->slopes[h] : 0.0f, scale = a->scale;
    const float *qh = a->q + (size_t)h * hd, *khd = a->k + (size_t)h * hd, *vh = a->v + (size_t)h * hd;

    for (int i = 0; i < nq; i++) {
        m[i] = -INFINITY;
        l[i] = 0.0f;
        memset(o + (size_t)i * hd, 0, (size_t)hd * sizeof(float));
    }
    for (int j0 = 0; j0 < len; j0 += BK) {
        int nk = len - j0 < BK ? len - j0 : BK;
        int nw = (nk + 15) & ~15; /* columns computed: nk rounded up to 16 */
        for (int j = 0; j < nk; j++) {
            const float *kr = khd + (size_t)(base + j0 + j) * a->ld_in;
            for (int d = 0; d < hd; d++) kt[(size_t)d * BK + j] = kr[d];
        }
        for (int j = nk; j < nw; j++)
            for (int d = 0; d < hd; d++) kt[(size_t)d * BK + j] = 0.0f;
        for (int i = 0; i < nq; i++) {
            const float *restrict qr = qh + (size_t)(base + i0 + i) * a->ld_in;
            float *restrict sr = s + (size_t)i * BK;
            float acc[BK];
            for (int j = 0; j < nw; j++) acc[j] = 0.0f;
            for (int d = 0; d < hd; d++) {
                float qd = qr[d];
                const float *restrict kd = kt + (size_t)d * BK;
                for (int j = 0; j < nw; j++) acc[j] += qd * kd[j];
            }
            if (a->slopes) {
                float dist0 = (float)(i0 + i - j0);
                for (int j = 0; j < nw; j++) {
                    float dist = dist0 - (float)j; /* exact: small integers */
                    sr[j] = acc[j] * scale + slope * (dist < 0.0f ? dist : -dist);
                }
            } else {
                for (int j = 0; j < nw; j++) sr[j] = acc[j] * scale;
            }
            for (int j = nk; j < nw; j++) sr[j] = -INFINITY;
            float mx = m[i];
            for (int j = 0; j < nw; j++) mx = sr[j] > mx ? sr[j] : mx;
            float alpha = vnp_expf(m[i] - mx); /* 0 on the first block (m = -inf) */
            float sum = 0.0f;
            for (int j = 0; j < nw; j++) {
                sr[j] = vnp_expf(sr[j] - mx);
                sum += sr[j];
            }
            l[i] = l[i] * alpha + sum;
            m[i] = mx;
            float *restrict orow = o + (size_t)i * hd;
            if (alpha != 1.0f)
                for (int d = 0; d < hd; d++) orow[d] *= alpha;
            for (int j = 0; j < nk; j++) {
                float p = sr[j];
                const float *restrict vr = vh + (size_t)(base + j0 + j) * a->ld_in;
                for (int d = 0; d < hd; d++) orow[d] += p * vr[d];
            }
        }
    }
    for (int i = 0; i < nq; i++) {
        float inv = 1.0f / l[i];
        float *dst = a->out + (size_t)(base + i0 + i) * a->ld_out + (size_t)h * hd;
        const float *orow = o + (size_t)i * hd;
        for (int d = 0; d < hd; d++) dst[d] = orow[d] * inv;
    }
}

static void att_worker(void *p, size_t t)
{
    att_ctx *a = p;
    float *scr = a->c->scratch + t * a->c->scratch_floats;
    for (;;) {
        size_t task = atomic_fetch_add(&a->c->next, 1);
        if (task >= a->ntasks) break;
        int sq = (int)(task / (size_t)a->heads), h = (int)(task % (size_t)a->heads);
        int32_t base = a->vl->cu_host[sq];
        int len = a->vl->cu_host[sq + 1] - base;
        for (int i0 = 0; i0 < len; i0 += VNP_ATT_BQ)
            att_block(a, scr, base, len, i0, len - i0 < VNP_ATT_BQ ? len - i0 : VNP_ATT_BQ, h);
    }
}

void vnp_cpu_attention(vnp_backend *be, float *out, int ld_out, const float *q, const float *k, const float *v,
                       int ld_in, int heads, int hd, float scale, const float *slopes, const vnp_varlen *vl)
{
    vnp_cpu *c = be->impl;
    if (hd > VNP_ATT_MAX_HD || hd <= 0 || vl->nseq <= 0) {
        vnp_error("attention head dimension %d outside 1..%d", hd, VNP_ATT_MAX_HD);
        return;
    }
    att_ctx a = {c, out, q, k, v, ld_out, ld_in, heads, hd, scale, slopes, vl, (size_t)vl->nseq * (size_t)heads};
    atomic_store(&c->next, 0);
    vnp_pool_run(c->pool, (size_t)c->nthreads, att_worker, &a);
}
