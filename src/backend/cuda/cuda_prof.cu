/* Optional per-op timing of the CUDA backend (VIRNUCPRO_CUDA_PROFILE=1): a pair of events around each op, drained
 * at every sync into per-op totals, with the stream's busy span beside them, printed to stderr when the context is
 * freed. It exists to find where a model's time goes on the device without a system profiler (nsys is not on the
 * lent machines); off, it costs one pointer test per op. */
#include "cuda_internal.cuh"

#include <stdlib.h>
#include <string.h>

typedef struct vnp_cuda_prof vnp_cuda_prof;

#define PROF_PAIRS 4096
#define PROF_KINDS 48

typedef struct {
    char name[64];
    long calls;
    double ms, flops;
} prof_kind;

struct vnp_cuda_prof {
    cudaEvent_t start[PROF_PAIRS], end[PROF_PAIRS];
    int kind[PROF_PAIRS];
    double flops[PROF_PAIRS];
    int n;       /* pairs recorded since the last drain */
    int open;    /* a begin without its end */
    prof_kind k[PROF_KINDS];
    int nk;
    double span_ms; /* first start .. last end of each drained run of ops, summed */
    long drains;
};

int vnp_cuda_prof_enable(vnp_cuda *c)
{
    if (c->prof) return 0;
    vnp_cuda_prof *p = (vnp_cuda_prof *)calloc(1, sizeof *p);
    if (!p) return -1;
    for (int i = 0; i < PROF_PAIRS; i++)
        if (cudaEventCreate(&p->start[i]) != cudaSuccess || cudaEventCreate(&p->end[i]) != cudaSuccess) {
            cudaGetLastError();
            vnp_cuda_fail(c, "profile: cannot create events");
            return -1; /* the events made so far are leaked with p: a diagnostic mode */
        }
    c->prof = p;
    return 0;
}

void vnp_cuda_prof_begin(vnp_cuda *c)
{
    vnp_cuda_prof *p = c->prof;
    if (!p) return;
    if (p->n == PROF_PAIRS) vnp_cuda_prof_drain(c);
    cudaEventRecord(p->start[p->n], c->stream);
    p->open = 1;
}

void vnp_cuda_prof_end(vnp_cuda *c, const char *name, double flops)
{
    vnp_cuda_prof *p = c->prof;
    if (!p || !p->open) return;
    int k = 0;
    while (k < p->nk && strcmp(p->k[k].name, name) != 0) k++;
    if (k == p->nk) {
        if (p->nk == PROF_KINDS) k = PROF_KINDS - 1; /* "other" in effect */
        else snprintf(p->k[p->nk++].name, sizeof p->k[0].name, "%s", name);
    }
    cudaEventRecord(p->end[p->n], c->stream);
    p->kind[p->n] = k;
    p->flops[p->n] = flops;
    p->n++;
    p->open = 0;
}

void vnp_cuda_prof_drain(vnp_cuda *c)
{
    vnp_cuda_prof *p = c->prof;
    if (!p || p->n == 0) return;
    cudaEventSynchronize(p->end[p->n - 1]);
    for (int i = 0; i < p->n; i++) {
        float ms = 0.0f;
        cudaEventElapsedTime(&ms, p->start[i], p->end[i]);
        prof_kind *k = &p->k[p->kind[i]];
        k->calls++;
        k->ms += ms;
        k->flops += p->flops[i];
    }
    float span = 0.0f;
    cudaEventElapsedTime(&span, p->start[0], p->end[p->n - 1]);
    p->span_ms += span;
    p->drains++;
    p->n = 0;
    cudaGetLastError();
}

void vnp_cuda_prof_report(vnp_cuda *c)
{
    vnp_cuda_prof *p = c->prof;
    if (!p) return;
    vnp_cuda_prof_drain(c);
    double total = 0.0;
    for (int i = 0; i < p->nk; i++) total += p->k[i].ms;
    fprintf(stderr, "cuda profile: %ld drains, stream span %.1f ms, ops %.1f ms (%.1f%% of the span)\n", p->drains,
            p->span_ms, total, p->span_ms > 0 ? 100.0 * total / p->span_ms : 0.0);
    for (int i = 0; i < p->nk; i++) {
        const prof_kind *k = &p->k[i];
        fprintf(stderr, "cuda profile: %-40s %7ld calls %10.2f ms %5.1f%% %8.1f us/call", k->name, k->calls, k->ms,
                total > 0 ? 100.0 * k->ms / total : 0.0, k->calls ? 1e3 * k->ms / (double)k->calls : 0.0);
        if (k->flops > 0) fprintf(stderr, " %6.1f TF/s", k->flops / (k->ms * 1e-3) / 1e12);
        fputc('\n', stderr);
    }
}

void vnp_cuda_prof_free(vnp_cuda *c)
{
    vnp_cuda_prof *p = c->prof;
    if (!p) return;
    for (int i = 0; i < PROF_PAIRS; i++) {
        cudaEventDestroy(p->start[i]);
        cudaEventDestroy(p->end[i]);
    }
    free(p);
    c->prof = NULL;
}
