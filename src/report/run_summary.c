/* run_summary.json: its name and the members every run's summary has (chunk length, counts, stage seconds, FP32
 * reruns), filled in one place for a run (pipeline/predict.c) and for a merge of shards (pipeline/shard.c), which
 * add their own members (throughput, workers; shards) and write the file atomically. */
#include "vnp/report.h"

const char vnp_run_summary_name[] = "run_summary.json";

int vnp_run_summary_fill(json_t *root, const vnp_run_totals *t)
{
    json_t *counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "records", (json_int_t)t->records, "chunks",
                               (json_int_t)t->chunks, "frames", (json_int_t)t->frames, "bases", (json_int_t)t->bases,
                               "blocks", (json_int_t)t->blocks, "blocks_resumed", (json_int_t)t->blocks_resumed);
    if (!counts || !t->seconds) {
        json_decref(counts);
        json_decref(t->seconds);
        return VNP_ERR_NOMEM;
    }
    json_object_set_new(root, "chunk_length", json_integer(t->chunk_length));
    json_object_set_new(root, "counts", counts);
    /* stage seconds are summed over the threads, GPUs, ranks and shards that ran them: machine time, which may
     * exceed "total" */
    json_object_set_new(root, "seconds", t->seconds);
    /* FP16 batches with NaN/Inf, redone in FP32 (ARCHITECTURE.md, Precision) */
    json_object_set_new(root, "fp32_reruns", json_integer(t->fp32_reruns));
    return VNP_OK;
}
