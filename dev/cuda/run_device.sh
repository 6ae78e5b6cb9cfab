#!/bin/bash
# On the GPU machine, from the repository root: uses the carried binaries (or builds them there when they do not
# run), runs the CUDA unit test, validates and times the kernels with the harness, runs the PyTorch anchors on the
# same card, and the unit test under compute-sanitizer last. Logs go to $OUT.
# usage: run_device.sh DIR ['check bench:15'] [anchors: all|esm|none] [sanitize: 1|0]
set -o pipefail
dir=${1:-.carry/gpu}
hargs=${2:-check bench:15}
anchors=${3:-all}
sanitize=${4:-1}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv | tee "$OUT/gpu.txt"
nvcc --version | tail -1
b=$dir
if ! "$b/harness" info >/dev/null 2>&1; then
  echo "carried binaries do not run here; building"
  (cd "$dir/src" && sh dev/cuda/build.sh ../b) || exit 1
  b=$dir/b
fi
t0=$(date +%s)
"$b/test_backend_cuda" 2>&1 | tee "$OUT/unit.log"
for a in $hargs; do "$b/harness" ${a/:/ } 2>&1 | tee -a "$OUT/harness.log"; done   # e.g. "check bench:15"
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
if [ "$sanitize" = 1 ]; then
  timeout 240 compute-sanitizer --tool memcheck --error-exitcode 3 "$b/test_backend_cuda" 2>&1 | tail -5 | tee "$OUT/sanitize.log"
  echo "compute-sanitizer rc=$?"
fi
echo "total: $(( $(date +%s) - t0 )) s"
