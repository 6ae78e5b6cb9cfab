/* A run's statistics where they are added up across workers and processes: the sum of two (vnp_stats_add), the
 * JSON that carries them out of a process (an MPI rank's "done" message, a shard's manifest) and back in
 * (vnp_stats_add_json), and the members of run_summary.json made from them (stage seconds, the FP8 self-check,
 * reuse), for a run (predict.c) and for a merge of shards (shard.c) alike.
 *
 * The carried JSON: {"seconds": {prepare, tokenize, dnabert_s, esm2, classify, write, total, fp32_reruns},
 *                    "reuse_counts": {frames: [dna, prot], computed: [dna, prot], evicted, limit_bytes, peak_bytes,
 *                                     not_invariant},
 *                    "fp8_check": {frames, min_cos, sum_cos, labeled, flips, confident_flips, failed}  (fp8 only)} */
#include "pipeline_internal.h"

#include <stddef.h>

void vnp_stats_add(vnp_predict_stats *dst, const vnp_predict_stats *src)
{
    vnp_stats_add_block(dst, &(vnp_block_counts){src->records, src->chunks, src->frames, src->bases});
    dst->blocks_resumed += src->blocks_resumed;
    dst->blocks_done += src->blocks_done;
    dst->fp32_reruns += src->fp32_reruns;
    vnp_reuse_stats_add(&dst->reuse, &src->reuse);
    if (src->fp8) {
        if (!dst->fp8) vnp_fp8_check_init(&dst->fp8_check);
        dst->fp8 = 1;
        vnp_fp8_check_add(&dst->fp8_check, &src->fp8_check);
    }
    dst->t_prepare += src->t_prepare;
    dst->t_tokenize += src->t_tokenize;
    dst->t_dna += src->t_dna;
    dst->t_prot += src->t_prot;
    dst->t_classify += src->t_classify;
    dst->t_write += src->t_write;
}

/* The stage seconds, in the order run_summary.json gives them, and where each is held. */
#define STAGE(name, field) {name, offsetof(vnp_predict_stats, field)}
static const struct {
    const char *name;
    size_t off;
} stages[] = {STAGE("prepare", t_prepare), STAGE("tokenize", t_tokenize), STAGE("dnabert_s", t_dna),
              STAGE("esm2", t_prot),       STAGE("classify", t_classify), STAGE("write", t_write),
              STAGE("total", t_total)};
#undef STAGE
enum { N_STAGES = sizeof stages / sizeof stages[0] };

json_t *vnp_stats_seconds_json(const vnp_predict_stats *st)
{
    json_t *o = json_object();
    for (int i = 0; i < N_STAGES && o; i++) {
        const double *t = (const double *)(const void *)((const char *)st + stages[i].off);
        json_object_set_new(o, stages[i].name, json_real(*t));
    }
    return o;
}

json_t *vnp_stats_json(const vnp_predict_stats *st)
{
    json_t *sec = vnp_stats_seconds_json(st);
    if (sec) json_object_set_new(sec, "fp32_reruns", json_integer((json_int_t)st->fp32_reruns));
    const vnp_reuse_stats *r = &st->reuse;
    json_t *o = json_pack("{s:o, s:{s:[I, I], s:[I, I], s:I, s:I, s:I, s:b}}", "seconds", sec ? sec : json_null(),
                          "reuse_counts", "frames", (json_int_t)r->frames[0], (json_int_t)r->frames[1], "computed",
                          (json_int_t)r->computed[0], (json_int_t)r->computed[1], "evicted", (json_int_t)r->evicted,
                          "limit_bytes", (json_int_t)r->limit_bytes, "peak_bytes", (json_int_t)r->peak_bytes,
                          "not_invariant", r->not_invariant);
    if (o && st->fp8) {
        const vnp_fp8_check *k = &st->fp8_check;
        json_object_set_new(o, "fp8_check",
                            json_pack("{s:I, s:f, s:f, s:I, s:I, s:I, s:b}", "frames", (json_int_t)k->frames,
                                      "min_cos", k->min_cos, "sum_cos", k->sum_cos, "labeled", (json_int_t)k->labeled,
                                      "flips", (json_int_t)k->flips, "confident_flips",
                                      (json_int_t)k->confident_flips, "failed", k->failed));
    }
    return o;
}

/* A count member: a non-negative integer. */
static int count_of(const json_t *o, const char *key, uint64_t *v)
{
    const json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < 0) return 0;
    *v = (uint64_t)json_integer_value(x);
    return 1;
}

static int pair_of(const json_t *o, const char *key, uint64_t v[2])
{
    const json_t *a = json_object_get(o, key);
    if (!json_is_array(a) || json_array_size(a) != 2) return 0;
    for (int i = 0; i < 2; i++) {
        const json_t *x = json_array_get(a, (size_t)i);
        if (!json_is_integer(x) || json_integer_value(x) < 0) return 0;
        v[i] = (uint64_t)json_integer_value(x);
    }
    return 1;
}

static int reuse_of(const json_t *o, vnp_reuse_stats *r)
{
    uint64_t limit = 0, peak = 0;
    const json_t *ni = json_object_get(o, "not_invariant");
    if (!json_is_object(o) || !pair_of(o, "frames", r->frames) || !pair_of(o, "computed", r->computed) ||
        !count_of(o, "evicted", &r->evicted) || !count_of(o, "limit_bytes", &limit) ||
        !count_of(o, "peak_bytes", &peak) || !json_is_boolean(ni))
        return 0;
    r->limit_bytes = (size_t)limit;
    r->peak_bytes = (size_t)peak;
    r->not_invariant = json_is_true(ni);
    return r->computed[0] <= r->frames[0] && r->computed[1] <= r->frames[1];
}

static int fp8_of(const json_t *o, vnp_fp8_check *k)
{
    uint64_t v[4];
    const json_t *mn = json_object_get(o, "min_cos"), *sm = json_object_get(o, "sum_cos"),
                 *failed = json_object_get(o, "failed");
    if (!json_is_object(o) || !count_of(o, "frames", &v[0]) || !count_of(o, "labeled", &v[1]) ||
        !count_of(o, "flips", &v[2]) || !count_of(o, "confident_flips", &v[3]) || !json_is_number(mn) ||
        !json_is_number(sm) || !json_is_boolean(failed))
        return 0;
    k->frames = (long)v[0];
    k->labeled = (long)v[1];
    k->flips = (long)v[2];
    k->confident_flips = (long)v[3];
    k->min_cos = json_number_value(mn);
    k->sum_cos = json_number_value(sm);
    k->failed = json_is_true(failed);
    return 1;
}

int vnp_stats_add_json(vnp_predict_stats *dst, const json_t *o, int *has_reuse)
{
    const json_t *sec = json_object_get(o, "seconds");
    if (!json_is_object(sec)) return VNP_ERR_FORMAT;
    vnp_predict_stats add = {0};
    for (int i = 0; i < N_STAGES; i++)
        *(double *)(void *)((char *)&add + stages[i].off) = json_number_value(json_object_get(sec, stages[i].name));
    add.fp32_reruns = (long)json_integer_value(json_object_get(sec, "fp32_reruns"));
    /* a manifest of an earlier version has no reuse counts: the caller then leaves the sum out */
    const json_t *ru = json_object_get(o, "reuse_counts");
    if (ru && !reuse_of(ru, &add.reuse)) return VNP_ERR_FORMAT;
    if (has_reuse) *has_reuse = ru != NULL;
    const json_t *f8 = json_object_get(o, "fp8_check");
    if (f8 && !fp8_of(f8, &add.fp8_check)) return VNP_ERR_FORMAT;
    add.fp8 = f8 != NULL;
    dst->t_total += add.t_total; /* vnp_stats_add leaves the total alone: a merge sums the shards' */
    vnp_stats_add(dst, &add);
    return VNP_OK;
}

static json_t *fp8_check_json(const vnp_fp8_check *k)
{
    return json_pack("{s:I, s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:b, s:s}", "frames", (json_int_t)k->frames,
                     "min_cosine", k->frames ? k->min_cos : 1.0, "mean_cosine",
                     k->frames ? k->sum_cos / (double)k->frames : 1.0, "labels_compared", (json_int_t)k->labeled,
                     "label_flips", (json_int_t)k->flips, "label_flips_confident", (json_int_t)k->confident_flips,
                     "min_cosine_required", VNP_FP8_MIN_COSINE, "confident_margin", VNP_FP8_LABEL_MARGIN,
                     "fell_back_to_fp16", k->failed, "esm2_precision", k->failed ? "fp16" : "fp8");
}

void vnp_stats_summary_members(json_t *root, const vnp_predict_stats *st, int with_reuse)
{
    if (st->fp8) json_object_set_new(root, "fp8_self_check", fp8_check_json(&st->fp8_check));
    if (with_reuse) json_object_set_new(root, "reuse", vnp_reuse_summary(st));
}
