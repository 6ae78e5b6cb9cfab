#!/usr/bin/env bash
# Peak RSS of reading 3B-size ESM-2 checkpoints: generates esm2_t36_3B_UR50D-shaped files (fp16, 5.29 GiB) as a
# Hugging Face safetensors folder and as a fair-esm torch.save zip (zip64, > 4 GiB), then measures
# `virnucpro models inspect`, converting every tensor to f32 one at a time (with and without releasing the
# mapped pages), staging all weights as f16 (one copy), and `virnucpro models convert`. Deletes the files at the end.
#   bash bench/bench_weights_rss.sh [WORKDIR]        (default /tmp/vnp_bench_weights; needs ~17 GB free)
# Environment: BUILD (default build), LAYERS/DIM/HEADS (default 36/2560/40).
set -euo pipefail
BUILD=${BUILD:-build}
WORK=${1:-/tmp/vnp_bench_weights}
LAYERS=${LAYERS:-36} DIM=${DIM:-2560} HEADS=${HEADS:-40}
VNP=$BUILD/virnucpro

need_kb=$((17 * 1024 * 1024))
avail_kb=$(df -Pk "$(dirname "$WORK")" | awk 'NR==2 {print $4}')
if [ "$avail_kb" -lt "$need_kb" ]; then
    echo "bench_weights_rss: only $((avail_kb / 1024 / 1024)) GB free under $(dirname "$WORK"); need 17" >&2
    exit 1
fi
df -h "$(dirname "$WORK")" >&2
make -s BUILD="$BUILD" all >/dev/null
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cc -O2 -std=c11 -Iinclude bench/weights_rss.c "$BUILD/libvnp.a" $(pkg-config --libs jansson htslib) -lz -lm -lpthread \
    $(pkg-config --libs openblas 2>/dev/null || true) -o "$WORK/weights_rss"

t0=$(date +%s)
python3 bench/gen_esm2_checkpoint.py --layout safetensors --out "$WORK/hf" --layers "$LAYERS" --dim "$DIM" --heads "$HEADS"
python3 bench/gen_esm2_checkpoint.py --layout fair --out "$WORK/esm2_t36_3B_UR50D.pt" --layers "$LAYERS" --dim "$DIM" --heads "$HEADS"
echo "generated in $(( $(date +%s) - t0 )) s:" >&2
ls -l "$WORK/hf/model.safetensors" "$WORK/esm2_t36_3B_UR50D.pt" >&2

rss() { # label command... : prints label, peak RSS (MB) and wall seconds from GNU time
    local label=$1
    shift
    /usr/bin/time -f "%M %e" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    read -r kb secs <"$WORK/time"
    printf '{"what":"%s","peak_rss_mb":%.1f,"wall_s":%s}\n' "$label" "$(echo "$kb / 1024" | bc -l)" "$secs"
}
for input in "$WORK/hf" "$WORK/esm2_t36_3B_UR50D.pt"; do
    name=$(basename "$input")
    rss "inspect $name" "$VNP" models inspect "$input"
    tail -n 1 "$WORK/out" >&2
    rss "check $name" "$VNP" models check "$input"
    for mode in open f32 f32-keep-pages f16-all; do
        "$WORK/weights_rss" "$input" "$mode"
    done
done
rss "convert esm2_t36_3B_UR50D.pt -> safetensors" "$VNP" models convert "$WORK/esm2_t36_3B_UR50D.pt" "$WORK/converted.safetensors"
cmp <("$VNP" models inspect "$WORK/converted.safetensors" | head -n -1 | grep -v lm_head.decoder) \
    <("$VNP" models inspect "$WORK/hf" | head -n -1) && echo "converted file inspects like the HF folder" >&2
