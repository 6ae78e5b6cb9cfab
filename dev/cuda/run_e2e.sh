#!/bin/bash
# On the GPU machine, from the repository root: the CUDA backend end to end with carried binaries (built on a machine
# without a GPU, with the non-CUDA shared libraries they need in DIR/lib.tar.xz): the unit test, fixture embeddings
# through `embed --device cuda` in FP32 and FP16, every fixture pipeline case through `predict --device cuda`, then
# `bench --device cuda` beside the PyTorch anchor on the same card. Logs go to $OUT.
# usage: run_e2e.sh DIR [parts: unit,embed,predict,bench,anchor]
set -u -o pipefail
dir=${1:-.carry/gpu2}
parts=${2:-unit,embed,predict,bench,anchor}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
DATA=${VNP_TEST_DATA:-tests/data}
has() { case ",$parts," in *",$1,"*) return 0 ;; esac; return 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
L=$(mktemp -d)
tar -xJf "$dir/lib.tar.xz" -C "$L"
export LD_LIBRARY_PATH="$L:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
V=$dir/virnucpro
ldd "$V" | grep "not found" | tee "$OUT/ldd_missing.txt"
T=$(mktemp -d)

if has unit; then
  timeout 120 "$dir/test_backend_cuda" 2>&1 | tail -8 | tee "$OUT/unit.log"
fi

if has embed; then
  # fixture rows: FASTA in tsv order; FP32 within 1e-4, FP16 cosine >= 0.999 per row
  for m in esm2:esm2-tiny:128 dnabert:dnabert-s-tiny:192; do
    IFS=: read -r name model dim <<<"$m"
    awk -F'\t' '{ print ">s" NR; print $2 }' "$DATA/embeddings/$name.tsv" >"$T/$name.fa"
    for p in fp32 fp16; do
      "$V" embed "$DATA/models/$model" "$T/$name.fa" -o "$T/$name.$p.f32" --device cuda --precision $p 2>>"$OUT/embed.err"
      python3 - "$T/$name.$p.f32" "$DATA/embeddings/$name.f32" "$dim" "$p" "$name" <<'PY' 2>&1 | tee -a "$OUT/embed.log"
import struct, sys, math
a, b, d, p, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
x, y = open(a, 'rb').read(), open(b, 'rb').read()
n = len(y) // 4
if len(x) != len(y): sys.exit(f"{name} {p}: {len(x)} bytes, expected {len(y)}")
X, Y = struct.unpack(f'<{n}f', x), struct.unpack(f'<{n}f', y)
mad = max(abs(u - v) for u, v in zip(X, Y))
cmin = 1.0
for r in range(n // d):
    u, v = X[r*d:(r+1)*d], Y[r*d:(r+1)*d]
    cmin = min(cmin, sum(i*j for i, j in zip(u, v)) / (math.sqrt(sum(i*i for i in u) * sum(j*j for j in v)) + 1e-30))
ok = mad <= 1e-4 if p == 'fp32' else cmin >= 0.999
print(f"embed {name} {p}: {n // d} rows, max abs diff {mad:.3g}, min row cosine {cmin:.7f}: {'PASS' if ok else 'FAIL'}")
PY
    done
  done
fi

if has predict; then
  M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$DATA/models/mlp/mlp_tiny.pth")
  for f in "$DATA"/inputs/*; do
    base=$(basename "$f"); stem=${base%.*}
    for len in 300 500; do
      c=${stem}_${len}
      [ "$base" = lassa_reads_subset.bam ] && c=lassa_reads_subset.from_bam_${len}
      [ -d "$DATA/pipeline/$c" ] || continue
      for p in fp16 fp32; do
        "$V" predict "$f" -l "$len" -o "$T/p_${c}_$p" "${M[@]}" --device cuda --precision $p -q 2>>"$OUT/predict.err" ||
          { echo "predict $c $p: FAILED" | tee -a "$OUT/predict.log"; continue; }
        python3 - "$T/p_${c}_$p" "$DATA/pipeline/$c" "$c $p" <<'PY' 2>&1 | tee -a "$OUT/predict.log"
import sys
got, want, what = sys.argv[1:4]
rows = lambda p: [l.rstrip("\n").split("\t") for l in open(p)]
g, w = rows(got + "/prediction_results.txt"), rows(want + "/prediction_results.txt")
bad, near, worst = 0, 0, 0.0
if len(g) != len(w): sys.exit(f"predict {what}: {len(g)} rows, expected {len(w)}: FAIL")
for a, b in list(zip(g, w))[1:]:
    worst = max(worst, abs(float(a[2]) - float(b[2])))
    if a[:2] != b[:2]:
        if abs(max(float(b[2]), float(b[3])) - 0.5) <= 1e-3: near += 1
        else: bad += 1
print(f"predict {what}: {len(g)-1} rows, label differences {bad} (+{near} at 0.5±1e-3), max score diff {worst:.3g}: "
      f"{'PASS' if bad == 0 else 'FAIL'}")
PY
      done
    done
  done
  grep -h '"device"\|"precision"' "$T"/p_mt_human_300_fp16/run_summary.json | head -3 >>"$OUT/predict.log"
fi

if has bench; then
  for w in "esm2_3b chunks500 4000" "esm2_3b reads150 10000" "dnabert_s chunks500 20000" "dnabert_s reads150 20000"; do
    read -r m wl n <<<"$w"
    timeout 100 "$V" bench --device cuda --model $m --workload $wl --n $n 2>>"$OUT/bench.err" | tee -a "$OUT/bench.jsonl"
  done
fi

if has anchor; then
  export PYTHONUNBUFFERED=1
  a() { timeout 100 python3 bench/torch_anchor.py "$@" 2>>"$OUT/anchor.err" | grep '^{' | tee -a "$OUT/anchor.jsonl"; }
  a --model esm2_3b --workload chunks500 --mode packed --n 4000
  a --model esm2_3b --workload reads150 --mode packed --n 10000
  a --model dnabert_s --workload chunks500 --mode padded --n 20000
  a --model dnabert_s --workload reads150 --mode padded --n 20000
fi
echo "e2e done"
