/* Varlen attention on the CPU: one task per (sequence, head), pulled dynamically by the threads; inside a task
 * query blocks of VNP_ATT_BQ rows stream over key blocks of VNP_ATT_BK rows with an online softmax, so memory
 * is a fixed per-thread tile whatever the sequence length. Scores and softmax are FP32. */
#include "cpu_internal.h"

#include <math.h>
#include <string.h>

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

/* One query block [i0, i0+nq) of sequence rows starting at base, head h. */
static void att_block(const att_ctx *a, float *scr, int32_t base, int len, int i0, int nq, int h)
{
    int hd = a->hd;
    float *kt = scr;                             /* [hd][BK] keys of the block, transposed */
    float *s = kt + (size_t)VNP_ATT_MAX_HD * VNP_ATT_BK; /* [BQ][BK] scores, then probabilities */
    float *o = s + (size_t)VNP_ATT_BQ * VNP_ATT_BK;      /* [BQ][hd] unnormalised output */
    float *m = o + (size_t)VNP_ATT_BQ * VNP_ATT_MAX_HD;  /* [BQ] running max */
    float *l = m + VNP_ATT_BQ;                           /* [BQ] running sum */
    float slope = a->slopes ? a->slopes[h] : 0.0f;
    const float *qh = a->q + (size_t)h * hd, *khd = a->k + (size_t)h * hd, *vh = a->v + (size_t)h * hd;

    for (int i = 0; i < nq; i++) {
        m[i] = -INFINITY;
        l[i] = 0.0f;
        memset(o + (size_t)i * hd, 0, (size_t)hd * sizeof(float));
    }
    for (int j0 = 0; j0 < len; j0 += VNP_ATT_BK) {
        int nk = len - j0 < VNP_ATT_BK ? len - j0 : VNP_ATT_BK;
        for (int j = 0; j < nk; j++) {
            const float *kr = khd + (size_t)(base + j0 + j) * a->ld_in;
            for (int d = 0; d < hd; d++) kt[(size_t)d * VNP_ATT_BK + j] = kr[d];
        }
        for (int i = 0; i < nq; i++) {
            const float *qr = qh + (size_t)(base + i0 + i) * a->ld_in;
            float *sr = s + (size_t)i * VNP_ATT_BK;
            for (int j = 0; j < nk; j++) sr[j] = 0.0f;
            for (int d = 0; d < hd; d++) {
                float qd = qr[d];
                const float *kd = kt + (size_t)d * VNP_ATT_BK;
                for (int j = 0; j < nk; j++) sr[j] += qd * kd[j];
            }
            float mx = m[i];
            if (a->slopes) {
                int qi = i0 + i;
                for (int j = 0; j < nk; j++) {
                    int dist = qi - (j0 + j);
                    float bias = slope * (float)(dist < 0 ? dist : -dist);
                    sr[j] = sr[j] * a->scale + bias;
                }
            } else {
                for (int j = 0; j < nk; j++) sr[j] *= a->scale;
            }
            for (int j = 0; j < nk; j++) mx = sr[j] > mx ? sr[j] : mx;
            float alpha = expf(m[i] - mx); /* 0 on the first block (m = -inf) */
            float sum = 0.0f;
            for (int j = 0; j < nk; j++) {
                sr[j] = expf(sr[j] - mx);
                sum += sr[j];
            }
            l[i] = l[i] * alpha + sum;
            m[i] = mx;
            float *orow = o + (size_t)i * hd;
            if (alpha != 1.0f)
                for (int d = 0; d < hd; d++) orow[d] *= alpha;
            for (int j = 0; j < nk; j++) {
                float p = sr[j];
                const float *vr = vh + (size_t)(base + j0 + j) * a->ld_in;
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
