#!/bin/bash
# On a GPU machine, from the repository root: `virnucpro predict --device cuda` end to end on N random 150 bp reads
# with random ESM-2 3B-shape and DNABERT-S-shape weights (generated here) and the 3328->512->2 classifier, once per
# GPU set (e.g. "0 0,1 0,1,2,3"), the same input each time; then the labels of every run against the first's.
# Carried binaries as dev/cuda/make_carry.sh makes them. Logs and each run's run_summary.json go to $OUT.
# usage: run_scale.sh DIR N_READS "GPU_SETS" [extra predict options]
set -u -o pipefail
dir=${1:-.carry/scale}
nreads=${2:-100000}
sets=${3:-0}
extra=${4:-}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
DATA=${VNP_TEST_DATA:-tests/data}
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
nproc | tee -a "$OUT/gpu.txt"
L=$(mktemp -d); tar -xJf "$dir/lib.tar.xz" -C "$L"
export LD_LIBRARY_PATH="$L:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
V=$dir/virnucpro
W=/tmp/scale; mkdir -p "$W"
t0=$(date +%s)
[ -d "$W/esm2_3b" ] || python3 bench/gen_esm2_checkpoint.py --layout safetensors --out "$W/esm2_3b" >"$OUT/gen.log" 2>&1 &
[ -d "$W/dnabert_s" ] || python3 "$dir/gen_dnabert_s_checkpoint.py" --tokenizer-from "$DATA/models/dnabert-s" \
  --out "$W/dnabert_s" >>"$OUT/gen.log" 2>&1 &
[ -s "$W/reads_$nreads.fa" ] || python3 - "$W/reads_$nreads.fa" "$nreads" <<'PY'
import random, sys
r = random.Random(7)
with open(sys.argv[1], 'w') as f:
    for i in range(int(sys.argv[2])):
        f.write('>r%d\n%s\n' % (i, ''.join(r.choice('ACGT') for _ in range(150))))
PY
wait
echo "inputs ready after $(( $(date +%s) - t0 )) s" | tee -a "$OUT/gen.log"
first=
for g in $sets; do
  tag=${g//,/_}
  # peak GPU memory of the run (every GPU, sampled every 0.5 s): what a smaller card would need
  (while sleep 0.5; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; done) >"$W/mem_$tag.txt" 2>/dev/null &
  mon=$!
  /usr/bin/time -f "gpus $g: %e s wall, %M KB max RSS" timeout 400 "$V" predict "$W/reads_$nreads.fa" -l 300 \
    -o "$W/pred_$tag" --force --esm "$W/esm2_3b" --dnabert "$W/dnabert_s" \
    --classifier "$DATA/models/mlp/mlp_3328.pth" --device cuda --gpus "$g" -q $extra 2>&1 | tail -3 | tee -a "$OUT/predict.log"
  kill $mon 2>/dev/null; wait $mon 2>/dev/null
  echo "gpus $g: peak GPU memory used $(sort -n "$W/mem_$tag.txt" | tail -1) MiB on the busiest card" | tee -a "$OUT/predict.log"
  cp "$W/pred_$tag/run_summary.json" "$OUT/summary_${nreads}_$tag.json" 2>/dev/null
  python3 - "$OUT/summary_${nreads}_$tag.json" "$g" <<'PY' 2>&1 | tee -a "$OUT/predict.log"
import json, sys
s = json.load(open(sys.argv[1])); c, t = s['counts'], s['seconds']
print('gpus %s: %d reads, %d frames in %.2f s: %.0f reads/s; esm2 %.2f s summed over GPUs = %.1f%% of %d GPU x wall; '
      'dnabert_s %.2f s, tokenize %.2f s, classify %.2f s, write %.2f s, prepare %.2f s' % (
      sys.argv[2], c['records'], c['frames'], t['total'], c['records'] / t['total'], t['esm2'],
      100 * t['esm2'] / (t['total'] * len(sys.argv[2].split(','))), len(sys.argv[2].split(',')), t['dnabert_s'],
      t['tokenize'], t['classify'], t['write'], t['prepare']))
PY
  if [ -z "$first" ]; then first=$tag; continue; fi
  python3 - "$W/pred_$first/prediction_results.txt" "$W/pred_$tag/prediction_results.txt" "$g" <<'PY' 2>&1 | tee -a "$OUT/predict.log"
import sys
a = [l.split('\t') for l in open(sys.argv[1])]; b = [l.split('\t') for l in open(sys.argv[2])]
same_ids = len(a) == len(b) and all(x[0] == y[0] for x, y in zip(a, b))
labels = sum(x[1] != y[1] for x, y in zip(a, b))
scores = max((abs(float(x[3]) - float(y[3])) for x, y in zip(a[1:], b[1:])), default=0)
print('gpus %s vs first: %d rows, same ids in order %s, %d label differences, max score difference %.3g, byte-identical %s' % (
      sys.argv[3], len(b), same_ids, labels, scores, open(sys.argv[1]).read() == open(sys.argv[2]).read()))
PY
done
echo "scale done after $(( $(date +%s) - t0 )) s"
