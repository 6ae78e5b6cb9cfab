/* config: the one table of `virnucpro predict` options a config file may set (names, types, defaults, help). */
#include "vnp/config.h"
#include "vnp/viral_report.h"

#include <string.h>

/* Keep in step with the longopts of cli/cmd_predict.c: tests/cli/test_config.sh checks that predict --help names
 * every key. Defaults are the ones predict applies when the option is absent; NULL where predict has none or
 * computes one (threads: all CPUs, models: $VIRNUCPRO_MODELS). */
static const vnp_config_key keys[] = {
    {"inputs", 0, VNP_CFG_LIST, "[]",
     "input files (FASTA/FASTQ plain/gzip/bgzip, SAM/BAM/CRAM, '-' = stdin), read in order; used only when the "
     "command line names none"},
    {"output", 'o', VNP_CFG_STRING, NULL, "output folder (created if needed); required"},
    {"length", 'l', VNP_CFG_INT, NULL, "chunk length, 300 or 500 (must match the classifier); required"},
    {"models", 0, VNP_CFG_STRING, NULL,
     "folder holding the released model files (default: $VIRNUCPRO_MODELS); see `virnucpro models download`"},
    {"esm", 0, VNP_CFG_STRING, NULL, "ESM-2 file or folder (default: <models>/esm2_t36_3B_UR50D.pt or folder)"},
    {"dnabert", 0, VNP_CFG_STRING, NULL, "DNABERT-S folder, or weights file with tokenizer.json beside it "
                                         "(default: <models>/DNABERT-S)"},
    {"classifier", 0, VNP_CFG_STRING, NULL, "VirNucPro classifier for this length (default: "
                                            "<models>/<length>_model.pth)"},
    {"force-length", 0, VNP_CFG_FLAG, "false", "accept a classifier whose file name names the other chunk length"},
    {"device", 0, VNP_CFG_STRING, "auto", "where the encoders run: auto, cpu or cuda"},
    {"precision", 0, VNP_CFG_STRING, NULL, "on CUDA: fp16 (default), fp32 (slower diagnostic mode) or fp8 "
                                           "(ESM-2 layer GEMMs in FP8, compute capability 8.9+); the CPU "
                                           "always runs fp32"},
    {"threads", 0, VNP_CFG_INT, NULL, "CPU threads (default: all online CPUs)"},
    {"gpus", 0, VNP_CFG_STRING, NULL, "with device cuda: the GPUs to use, e.g. \"0,2\" (default: every visible GPU)"},
    {"tokens-per-batch", 0, VNP_CFG_INT, NULL, "packing budget of an encoder batch, in tokens (default: 16384 on "
                                               "the CPU; on a GPU, from its free memory, at most 65536)"},
    {"shard", 0, VNP_CFG_STRING, NULL, "score only shard I/N (e.g. \"2/8\"); join the shards with `virnucpro merge`"},
    {"resume", 0, VNP_CFG_FLAG, "false", "continue the run journaled in the output folder"},
    {"force", 0, VNP_CFG_FLAG, "false", "replace another run's results in the output folder"},
    {"save-embeddings", 0, VNP_CFG_FLAG, "false", "also write embeddings.h5 (frame ids, DNABERT-S and ESM-2 "
                                                  "features, fp32)"},
    {"keep-intermediate", 0, VNP_CFG_FLAG, "false", "also write chunked.fa, identified_nucleotide.fa, "
                                                    "identified_protein.faa"},
    {"output-style", 0, VNP_CFG_STRING, "broad", "layout of the two result files: broad (virnucpro-broad v2.0's, "
                                                 "four-column consensus) or original (VirNucPro's, byte for byte)"},
    {"min-confident-score", 0, VNP_CFG_NUMBER, "0.8", "confidence tier threshold of sequence_summary.tsv, in "
                                                      "[0.5, 1]"},
    {"block-records", 0, VNP_CFG_INT, "2000", "records per journal block (the unit of --resume)"},
    {"no-report", 0, VNP_CFG_FLAG, "false", "do not write report.html (viral_regions.tsv is always written)"},
    {"region-min-score", 0, VNP_CFG_NUMBER, VNP_XSTR(VNP_REGION_DEFAULT_MIN_SCORE),
     "viral_regions.tsv: smoothed chunk score at or above which a chunk is inside a region, in (0, 1]"},
    {"region-window", 0, VNP_CFG_INT, VNP_XSTR(VNP_REGION_DEFAULT_WINDOW),
     "viral_regions.tsv: chunks averaged around each chunk before regions are called (odd; 1: none)"},
    {"region-min-chunks", 0, VNP_CFG_INT, VNP_XSTR(VNP_REGION_DEFAULT_MIN_CHUNKS),
     "viral_regions.tsv: shortest region, in chunks"},
    {"region-min-seq-chunks", 0, VNP_CFG_INT, VNP_XSTR(VNP_REGION_DEFAULT_MIN_SEQ_CHUNKS),
     "viral_regions.tsv: sequences with fewer chunks get no regions"},
    {"reference", 'T', VNP_CFG_STRING, NULL, "reference FASTA for CRAM input"},
    {"no-reuse", 0, VNP_CFG_FLAG, "false", "run every frame through the encoders, repeated ones included (same "
                                           "outputs, slower)"},
    {"reuse-memory", 0, VNP_CFG_STRING, NULL, "memory for the features of the sequences seen, e.g. \"512M\" or "
                                              "\"4G\" (default: the smaller of 2G and an eighth of RAM; \"0\": off)"},
    {"quiet", 'q', VNP_CFG_FLAG, "false", "errors only, no progress bar"},
    {"verbose", 'v', VNP_CFG_FLAG, "false", "more detail on stderr"},
};

size_t vnp_config_key_count(void) { return sizeof keys / sizeof keys[0]; }

const vnp_config_key *vnp_config_key_at(size_t i) { return i < vnp_config_key_count() ? &keys[i] : NULL; }

const vnp_config_key *vnp_config_key_find(const char *name, size_t n)
{
    if (!name) return NULL;
    if (n == (size_t)-1) n = strlen(name);
    for (size_t i = 0; i < vnp_config_key_count(); i++) {
        const char *k = keys[i].name;
        if (strlen(k) != n) continue;
        size_t j = 0;
        while (j < n && (name[j] == k[j] || (name[j] == '_' && k[j] == '-'))) j++;
        if (j == n) return &keys[i];
    }
    return NULL;
}
