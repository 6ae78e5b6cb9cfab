/* A run's statistics across processes (pipeline/stats.c): two FP8 self-checks add up (sums, the smaller minimum,
 * failed when either failed); what an MPI rank or a shard sends (vnp_stats_json) is read back and added exactly;
 * what is not that is refused; run_summary.json's "reuse" and "fp8_self_check" come from the sum. */
#include "pipeline/pipeline_internal.h"
#include "vnp_test.h"

#include <math.h>
#include <string.h>

static vnp_predict_stats sample(double t, uint64_t frames, uint64_t computed, double min_cos)
{
    vnp_predict_stats st = {0};
    st.frames = frames;
    st.t_prepare = t;
    st.t_dna = 2 * t;
    st.t_prot = 4 * t;
    st.t_total = 10 * t;
    st.fp32_reruns = 1;
    st.reuse = (vnp_reuse_stats){{frames, frames}, {computed, computed / 2}, 3, 1 << 20, 4096, 0};
    st.fp8 = 1;
    vnp_fp8_check_init(&st.fp8_check);
    st.fp8_check.frames = 10;
    st.fp8_check.min_cos = min_cos;
    st.fp8_check.sum_cos = 9.99;
    st.fp8_check.labeled = 10;
    st.fp8_check.flips = 1;
    return st;
}

static void test_fp8_add(void)
{
    vnp_fp8_check z = {0}, a, b;
    vnp_fp8_check_init(&a);
    vnp_fp8_check_add(&z, &a); /* no frames: the minimum is not taken from an empty check */
    CHECK_EQ_INT(z.frames, 0);
    a.frames = 4;
    a.min_cos = 0.997;
    a.sum_cos = 3.99;
    a.labeled = 4;
    a.flips = 1;
    vnp_fp8_check_add(&z, &a); /* a zeroed sum takes the first minimum as it is */
    CHECK_NEAR(z.min_cos, 0.997, 0);
    vnp_fp8_check_init(&b);
    b.frames = 2;
    b.min_cos = 0.993;
    b.sum_cos = 1.99;
    b.confident_flips = 1;
    b.failed = 1;
    vnp_fp8_check_add(&z, &b);
    CHECK_EQ_INT(z.frames, 6);
    CHECK_NEAR(z.min_cos, 0.993, 0);
    CHECK_NEAR(z.sum_cos, 5.98, 1e-12);
    CHECK_EQ_INT(z.flips, 1);
    CHECK_EQ_INT(z.confident_flips, 1);
    CHECK(z.failed);
}

static void test_round_trip(void)
{
    vnp_predict_stats a = sample(1.0, 100, 60, 0.995), b = sample(0.5, 50, 50, 0.992), sum = {0};
    json_t *ja = vnp_stats_json(&a), *jb = vnp_stats_json(&b);
    CHECK(ja && jb);
    int has_reuse = -1;
    CHECK_EQ_INT(vnp_stats_add_json(&sum, ja, &has_reuse), VNP_OK);
    CHECK_EQ_INT(has_reuse, 1);
    CHECK_EQ_INT(vnp_stats_add_json(&sum, jb, NULL), VNP_OK);
    CHECK_NEAR(sum.t_prepare, 1.5, 1e-12);
    CHECK_NEAR(sum.t_dna, 3.0, 1e-12);
    CHECK_NEAR(sum.t_prot, 6.0, 1e-12);
    CHECK_NEAR(sum.t_total, 15.0, 1e-12); /* shards' totals are summed by a merge */
    CHECK_EQ_INT(sum.fp32_reruns, 2);
    CHECK_EQ_INT(sum.reuse.frames[0], 150);
    CHECK_EQ_INT(sum.reuse.computed[0], 110);
    CHECK_EQ_INT(sum.reuse.computed[1], 55);
    CHECK_EQ_INT(sum.reuse.evicted, 6);
    CHECK_EQ_INT(sum.reuse.limit_bytes, 1 << 20);
    CHECK(sum.fp8);
    CHECK_EQ_INT(sum.fp8_check.frames, 20);
    CHECK_NEAR(sum.fp8_check.min_cos, 0.992, 0);
    CHECK_EQ_INT(sum.fp8_check.flips, 2);

    /* the summary members from the sum */
    sum.frames = 150;
    json_t *root = json_object();
    vnp_stats_summary_members(root, &sum, 1);
    json_t *e = json_object_get(json_object_get(root, "reuse"), "esm2");
    CHECK_EQ_INT(json_integer_value(json_object_get(e, "frames")), 150);
    CHECK_EQ_INT(json_integer_value(json_object_get(e, "reused")), 150 - 55);
    json_t *f = json_object_get(root, "fp8_self_check");
    CHECK_NEAR(json_real_value(json_object_get(f, "mean_cosine")), 19.98 / 20, 1e-12);
    CHECK_EQ_STR(json_string_value(json_object_get(f, "esm2_precision")), "fp8");
    json_decref(root);
    root = json_object();
    vnp_stats_summary_members(root, &sum, 0); /* a merge of shards that carry no reuse counts */
    CHECK(!json_object_get(root, "reuse"));
    json_decref(root);

    /* without --precision fp8 nothing about FP8 travels */
    a.fp8 = 0;
    json_t *j0 = vnp_stats_json(&a);
    CHECK(!json_object_get(j0, "fp8_check"));
    vnp_predict_stats s0 = {0};
    CHECK_EQ_INT(vnp_stats_add_json(&s0, j0, NULL), VNP_OK);
    CHECK(!s0.fp8);
    json_decref(j0);
    json_decref(ja);
    json_decref(jb);
}

/* Each text is refused as statistics. */
static void test_refused(void)
{
    static const char *const bad[] = {
        "{}",
        "[]",
        "{\"seconds\": 3}",
        "{\"seconds\": {}, \"reuse_counts\": {\"frames\": [1], \"computed\": [1, 1], \"evicted\": 0, "
        "\"limit_bytes\": 0, \"peak_bytes\": 0, \"not_invariant\": false}}",
        "{\"seconds\": {}, \"reuse_counts\": {\"frames\": [1, 1], \"computed\": [2, 1], \"evicted\": 0, "
        "\"limit_bytes\": 0, \"peak_bytes\": 0, \"not_invariant\": false}}", /* more run than embedded */
        "{\"seconds\": {}, \"reuse_counts\": {\"frames\": [1, 1], \"computed\": [1, 1], \"evicted\": -1, "
        "\"limit_bytes\": 0, \"peak_bytes\": 0, \"not_invariant\": false}}",
        "{\"seconds\": {}, \"fp8_check\": {\"frames\": 1}}",
        "{\"seconds\": {}, \"fp8_check\": {\"frames\": 1, \"labeled\": 0, \"flips\": 0, \"confident_flips\": 0, "
        "\"min_cos\": \"x\", \"sum_cos\": 1, \"failed\": false}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t err;
        json_t *o = json_loads(bad[i], 0, &err);
        CHECK_MSG(o != NULL, "test text %zu is not JSON: %s", i, err.text);
        vnp_predict_stats st = {0};
        CHECK_MSG(vnp_stats_add_json(&st, o, NULL) == VNP_ERR_FORMAT, "text %zu was taken", i);
        json_decref(o);
    }
    /* a manifest of an earlier version: seconds only */
    json_t *o = json_loads("{\"seconds\": {\"esm2\": 2.5, \"fp32_reruns\": 3}}", 0, NULL);
    vnp_predict_stats st = {0};
    int has_reuse = -1;
    CHECK_EQ_INT(vnp_stats_add_json(&st, o, &has_reuse), VNP_OK);
    CHECK_EQ_INT(has_reuse, 0);
    CHECK_NEAR(st.t_prot, 2.5, 0);
    CHECK_EQ_INT(st.fp32_reruns, 3);
    json_decref(o);
}

int main(void)
{
    test_fp8_add();
    test_round_trip();
    test_refused();
    VNP_TEST_END();
}
