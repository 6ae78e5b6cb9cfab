#!/bin/bash
# On the GPU machine, from the repository root: builds the harness if the carried binary does not run there,
# validates and times the kernels, then runs the PyTorch anchors on the same card. Logs go to $OUT.
# usage: run_device.sh DIR ['check bench:15'] [anchors: all|none|esm]
set -o pipefail
dir=${1:-.carry/gpu}; shift
hargs=${1:-check bench:15}; shift
anchors=${1:-all}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv | tee "$OUT/gpu.txt"
nvcc --version | tail -1
h=$dir/harness
if ! "$h" info >/dev/null 2>&1; then
  echo "carried harness does not run here; building"
  (cd "$dir/src" && sh dev/cuda/build.sh ../harness-built) && h=$dir/harness-built || exit 1
fi
t0=$(date +%s)
for a in $hargs; do $h ${a/:/ } 2>&1 | tee -a "$OUT/harness.log"; done   # e.g. "check bench:15"
echo "harness: $(( $(date +%s) - t0 )) s"
export PYTHONUNBUFFERED=1
run() { echo "== torch_anchor $*"; python3 bench/torch_anchor.py "$@" 2>&1 | grep -v Warning | tail -3; }
if [ "$anchors" != none ]; then
  {
    run --model esm2_3b --workload chunks500 --mode packed --n 8000
    run --model esm2_3b --workload reads150 --mode packed --n 20000
    if [ "$anchors" = all ]; then
      run --model esm2_3b --workload chunks500 --mode padded --n 6000
      run --model dnabert_s --workload chunks500 --mode padded
      run --model dnabert_s --workload reads150 --mode padded
    fi
  } 2>&1 | tee "$OUT/anchor.log"
fi
echo "total: $(( $(date +%s) - t0 )) s"
