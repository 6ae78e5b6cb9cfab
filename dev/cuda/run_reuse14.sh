#!/bin/bash
# Issue 14 on the GPU machine, from the repository root, with carried binaries (dev/cuda/make_carry.sh DIR, plus
# test_batch_invariance): batch invariance in FP16 and FP32 (test_batch_invariance), the kernel checks
# (test_backend_cuda), what invariance costs (`bench` with the invariant kernels and with VIRNUCPRO_CUDA_INVARIANT=0,
# the kernels before, same call, nvidia-smi power and SM clock sampled), and reuse on vs off end to end at full model
# shapes (random ESM-2 3B and DNABERT-S weights) on real and simulated reads. Logs go to $OUT.
#   usage: run_reuse14.sh DIR [parts: unit,bench,e2e] [reads per e2e input]
set -u -o pipefail
dir=${1:-.carry/r14}
parts=${2:-unit,bench,e2e}
nreads=${3:-20000}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
DATA=${VNP_TEST_DATA:-tests/data}
has() { case ",$parts," in *",$1,"*) return 0 ;; esac; return 1; }
t0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version,power.limit --format=csv | tee "$OUT/gpu.txt"
for f in "$dir"/*.xz; do [ -e "$f" ] && [ "$f" != "$dir/lib.tar.xz" ] && unxz -kf "$f"; done # binaries carried xz'ed
L=$(mktemp -d); tar -xJf "$dir/lib.tar.xz" -C "$L"
export LD_LIBRARY_PATH="$L:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
V=$dir/virnucpro
W=/tmp/r14; mkdir -p "$W"
# power and SM clock every 0.5 s while $1 runs: mean W, mean MHz
sample() { nvidia-smi --query-gpu=power.draw,clocks.sm --format=csv,noheader,nounits -lms 500 >"$W/smi.txt" 2>/dev/null & echo $!; }
smi_mean() { awk -F', ' '$1 > 150 { p += $1; c += $2; n++ } END { if (n) printf "%.0f W, %.0f MHz (%d samples over 150 W)", p/n, c/n, n; else print "no busy samples" }' "$W/smi.txt"; }

if has e2e; then # model files in the background while the tests run
  (python3 bench/gen_esm2_checkpoint.py --layout safetensors --out "$W/esm2_3b" >"$OUT/gen.log" 2>&1;
   python3 "$dir/gen_dnabert_s_checkpoint.py" --tokenizer-from "$DATA/models/dnabert-s" --out "$W/dnabert_s" \
     >>"$OUT/gen.log" 2>&1; echo "models ready after $(( $(date +%s) - t0 )) s" >>"$OUT/gen.log") &
  gen=$!
fi

if has unit; then
  timeout 150 "$dir/test_batch_invariance" 2>&1 | tail -14 | tee "$OUT/invariance.log"
  timeout 150 "$dir/test_backend_cuda" 2>&1 | tail -6 | tee "$OUT/unit.log"
fi

if has bench; then
  for w in chunks500 reads150; do
    for inv in 1 0 1 0; do # interleaved, twice
      mon=$(sample)
      r=$(VIRNUCPRO_CUDA_INVARIANT=$inv timeout 120 "$V" bench --device cuda --model esm2_3b --workload $w --n 6000 2>&1 | tail -1)
      kill "$mon" 2>/dev/null; wait "$mon" 2>/dev/null
      echo "esm2_3b $w invariant=$inv: $r | $(smi_mean)" | tee -a "$OUT/bench.log"
    done
  done
fi

if has e2e; then
  wait "$gen"
  tail -2 "$OUT/gen.log"
  python3 bench/sim_reads.py "$W/sim50.fa" "$nreads" --dup 0.5 | tee -a "$OUT/e2e.log"
  zcat "$dir/SRR12340077.sample.fastq.gz" | head -n $((4 * nreads)) >"$W/srr.fq"
  M="--esm $W/esm2_3b --dnabert $W/dnabert_s --classifier $DATA/models/mlp/mlp_3328.pth"
  mon=$(sample)
  ins=(); for i in ${R14_INPUTS:-srr bam sim}; do  # R14_INPUTS: a subset, for a short call
    case $i in srr) ins+=("$W/srr.fq") ;; bam) ins+=("$dir/lassa_persample.bam") ;; sim) ins+=("$W/sim50.fa") ;; esac
  done
  bash bench/bench_reuse.sh "$V" "$M" "--device cuda" "${ins[@]}" 2>&1 |
    tee -a "$OUT/e2e.log"
  kill "$mon" 2>/dev/null; wait "$mon" 2>/dev/null
  echo "e2e power/clock: $(smi_mean)" | tee -a "$OUT/e2e.log"
fi
echo "run_reuse14 done after $(( $(date +%s) - t0 )) s"
