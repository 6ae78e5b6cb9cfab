/* The help text and value checks of the options several commands share (options.h defines the entries). */
#include "options.h"

#include <string.h>

const char vnp_cli_help_device[] =
    "where the encoders run: auto (a GPU when one is usable, else the CPU), cpu, or cuda[:N] (exit status 2 when "
    "no GPU is usable)";
const char vnp_cli_help_precision[] =
    "on CUDA: auto or fp16 (FP16 activations), fp32 (slower diagnostic mode; also VIRNUCPRO_DISABLE_FP16=1, README: Environment variables) "
    "or fp8 (ESM-2's layer GEMMs in FP8 on GPUs of compute capability 8.9+, checked against FP16 on the first "
    "1,024 frames; README: --precision fp8); the CPU always runs fp32";
const char vnp_cli_help_tpb[] =
    "packing budget of an encoder batch, in tokens (a longer sequence runs alone); auto: 16384 on the CPU, on a GPU "
    "what half of the memory left after loading the models holds, at most 65536 (on a GPU, -v prints the choice)";
const char vnp_cli_help_threads[] = "CPU threads; all: every online CPU";
const char vnp_cli_help_gpus[] =
    "with --device cuda: the GPUs to use, e.g. 0,2 (default: every visible GPU; under MPI, the ranks of one host "
    "share them out). One worker per GPU takes the next block from one queue, so a slower GPU takes less work";
const char vnp_cli_help_models[] =
    "folder holding the released files (default: $VIRNUCPRO_MODELS): esm2_t36_3B_UR50D.pt or esm2_t36_3B_UR50D/ "
    "(Hugging Face folder), DNABERT-S/ (Hugging Face folder with tokenizer.json), 300_model.pth, 500_model.pth; "
    "see `virnucpro models download`";
const char vnp_cli_help_esm[] = "ESM-2 file or folder (default: the one in --models)";
const char vnp_cli_help_dnabert[] =
    "DNABERT-S folder, or weights file with tokenizer.json beside it (default: <models>/DNABERT-S)";
const char vnp_cli_help_classifier[] =
    "VirNucPro classifier for this chunk length (default: <models>/<length>_model.pth)";
const char vnp_cli_help_length[] = "chunk length, 300 or 500 (must match the classifier)";

int vnp_cli_check_device(const char *v)
{
    vnp_device d;
    int gpu;
    return vnp_device_parse(v, &d, &gpu) != VNP_OK;
}

int vnp_cli_check_length(const char *v) { return strcmp(v, "300") != 0 && strcmp(v, "500") != 0; }

const char vnp_cli_help_no_report[] = "do not write report.html (`virnucpro report OUTDIR` can, later)";
const char vnp_cli_help_region_score[] =
    "viral_regions.tsv: smoothed chunk score at or above which a chunk is inside a viral region, in (0, 1]";
const char vnp_cli_help_region_window[] =
    "viral_regions.tsv: chunks averaged around each chunk before regions are called, odd (1: no smoothing)";
const char vnp_cli_help_region_chunks[] = "viral_regions.tsv: shortest region, in chunks";
const char vnp_cli_help_region_seq_chunks[] = "viral_regions.tsv: sequences with fewer chunks get no regions";

int vnp_cli_check_odd(const char *v) { return (v[strlen(v) - 1] - '0') % 2 == 0; }
