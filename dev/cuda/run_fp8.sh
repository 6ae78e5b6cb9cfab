#!/bin/bash
# On the GPU machine, from the repository root: --precision fp8 (issue 14, part 3) with carried binaries
# (dev/cuda/make_carry.sh DIR, plus test_cuda_fp8): the FP8 unit test; fidelity on the fixture models (ESM-2 feature
# cosine FP8 vs FP32 per frame, labels of every fixture pipeline case split by |FP32 score - 0.5|); ESM-2 3B bench
# FP16 vs FP8 beside the packed PyTorch anchor with nvidia-smi sampled; then with random 3B-shape weights (generated
# here) the FP8/FP16 vs FP32 cosine of 1,000 proteins and `predict` on N random 150 bp reads in FP16 and FP8.
# usage: run_fp8.sh DIR [parts: unit,fixtures,bench,big,startup] [N_READS]   (startup needs big's models)
set -u -o pipefail
dir=${1:-.carry/fp8}
parts=${2:-unit,fixtures,bench,big}
nreads=${3:-100000}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
DATA=${VNP_TEST_DATA:-tests/data}
has() { case ",$parts," in *",$1,"*) return 0 ;; esac; return 1; }
log() { tee -a "$OUT/summary.log"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,power.limit,compute_cap --format=csv | log
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,utilization.gpu --format=csv,noheader,nounits -lms 500 \
  >"$OUT/smi.csv" 2>/dev/null &
smi=$!
L=$(mktemp -d); tar -xJf "$dir/lib.tar.xz" -C "$L"
[ -f "$dir/bin.tar.xz" ] && tar -xJf "$dir/bin.tar.xz" -C "$dir"
export LD_LIBRARY_PATH="$L:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
V=$dir/virnucpro
T=$(mktemp -d)
W=${W:-/tmp/fp8w}; mkdir -p "$W"
# mean SM clock and power of the smi samples since line $1 of smi.csv, busy samples (utilization > 50%) only
mark() { wc -l <"$OUT/smi.csv"; }
window() { awk -F', ' -v a="$1" 'NR > a && $4 + 0 > 50 { n++; c += $2; p += $3 }
  END { if (n) printf "%d samples, SM %.0f MHz, %.0f W", n, c / n, p / n; else printf "no samples" }' "$OUT/smi.csv"; }

cosines=$(cat <<'PY'
import struct, sys, math
a, b, d, what = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
x, y = open(a, 'rb').read(), open(b, 'rb').read()
n = len(y) // 4
if len(x) != len(y): sys.exit(f"{what}: {len(x)} bytes, expected {len(y)}")
X, Y = struct.unpack(f'<{n}f', x), struct.unpack(f'<{n}f', y)
cs = []
for r in range(n // d):
    u, v = X[r*d:(r+1)*d], Y[r*d:(r+1)*d]
    cs.append(sum(i*j for i, j in zip(u, v)) / (math.sqrt(sum(i*i for i in u) * sum(j*j for j in v)) + 1e-30))
cs.sort()
print(f"{what}: {len(cs)} rows, cosine min {cs[0]:.6f} p1 {cs[max(0, len(cs)//100 - 1)]:.6f} mean {sum(cs)/len(cs):.6f}")
PY
)

if has unit; then
  timeout 200 "$dir/test_cuda_fp8" 2>&1 | tail -12 | log
  timeout 200 "$dir/test_backend_cuda" 2>&1 | tail -3 | log
fi

if has fixtures; then
  awk -F'\t' '{ print ">s" NR; print $2 }' "$DATA/embeddings/esm2.tsv" >"$T/esm2.fa"
  for p in fp32 fp16 fp8; do
    "$V" embed "$DATA/models/esm2-tiny" "$T/esm2.fa" -o "$T/esm2.$p.f32" --device cuda --precision $p 2>>"$OUT/embed.err"
  done
  for p in fp16 fp8; do python3 -c "$cosines" "$T/esm2.$p.f32" "$T/esm2.fp32.f32" 128 "fixture esm2-tiny $p vs fp32" | log; done
  M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$DATA/models/mlp/mlp_tiny.pth")
  for f in "$DATA"/inputs/*; do
    base=$(basename "$f"); stem=${base%.*}
    for len in 300 500; do
      c=${stem}_${len}
      [ "$base" = lassa_reads_subset.bam ] && c=lassa_reads_subset.from_bam_${len}
      [ -d "$DATA/pipeline/$c" ] || continue
      for p in fp32 fp8; do
        "$V" predict "$f" -l "$len" -o "$T/p_${c}_$p" "${M[@]}" --device cuda --precision $p -q 2>>"$OUT/predict_$p.err" ||
          echo "predict $c $p: FAILED" | log
      done
      python3 - "$T/p_${c}_fp32" "$T/p_${c}_fp8" "$c" <<'PY' 2>&1 | tee -a "$OUT/labels.log"
import sys, json
a, b, c = sys.argv[1:4]
rows = lambda p: [l.rstrip('\n').split('\t') for l in open(p + '/prediction_results.txt')][1:]
A, B = rows(a), rows(b)
bins = [0.02, 0.05, 1.0]; n = [0, 0, 0]; ch = [0, 0, 0]; worst = 0.0
for x, y in zip(A, B):
    d = abs(float(x[3]) - 0.5); k = 0 if d <= 0.02 else 1 if d <= 0.05 else 2
    n[k] += 1; ch[k] += x[1] != y[1]; worst = max(worst, abs(float(x[3]) - float(y[3])))
s = json.load(open(b + '/run_summary.json')).get('fp8_self_check', {})
print(f"labels {c}: {len(A)} frames; changed fp8 vs fp32 where |score-0.5| <=0.02: {ch[0]}/{n[0]}, 0.02-0.05: "
      f"{ch[1]}/{n[1]}, >0.05: {ch[2]}/{n[2]}; max score diff {worst:.4f}; self-check min cos "
      f"{s.get('min_cosine', float('nan')):.5f} flips {s.get('label_flips')} fell back {s.get('fell_back_to_fp16')}")
PY
    done
  done
  python3 - "$OUT/labels.log" <<'PY' | log
import re, sys
t = [0]*6
for l in open(sys.argv[1]):
    m = re.findall(r'(\d+)/(\d+)', l)
    if len(m) == 3:
        for i, (a, b) in enumerate(m): t[2*i] += int(a); t[2*i+1] += int(b)
print(f"labels, every fixture case: changed <=0.02: {t[0]}/{t[1]}, 0.02-0.05: {t[2]}/{t[3]}, >0.05: {t[4]}/{t[5]}")
PY
fi

if has bench; then
  anchor() {
    PYTHONUNBUFFERED=1 timeout 200 python3 bench/torch_anchor.py --model esm2_3b --workload "$1" --mode packed \
      --n "$2" 2>>"$OUT/anchor.err" | grep '^{' | tee -a "$OUT/anchor.jsonl" |
      python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print('anchor   %-9s %9.0f tok/s' % (d['workload'], d['tok_per_s']))" | tr -d '\n' | log
    echo "  ($(window "$t0"))" | log
  }
  ours() {
    VIRNUCPRO_CUDA_PROFILE=${PROF:-0} timeout 200 "$V" bench --device cuda --model esm2_3b --workload "$2" --n "$3" \
      --precision "$1" 2>"$OUT/bench_$1_$2.err" | tee -a "$OUT/bench.jsonl" |
      python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print('%-8s %-9s %9.0f tok/s %.2f s' % (d['precision'], d['workload'], d['tok_per_s'], d['seconds']))" | tr -d '\n' | log
    echo "  ($(window "$t0"))" | log
  }
  for w in "chunks500 4000" "reads150 10000"; do
    read -r wl n <<<"$w"
    t0=$(mark); anchor "$wl" "$n"
    t0=$(mark); ours fp16 "$wl" "$n"
    t0=$(mark); ours fp8 "$wl" "$n"
    t0=$(mark); PROF=1 ours fp8 "$wl" "$n"
    grep 'cuda profile' "$OUT/bench_fp8_$wl.err" | cut -c15- | head -20 >>"$OUT/summary.log"
    [ -n "${ANCHOR_TWICE:-}" ] && { t0=$(mark); anchor "$wl" "$n"; }
  done
fi

if has big; then
  t0=$(date +%s)
  gens=() # waited for by pid: a bare `wait` would also wait for the nvidia-smi sampler, which never ends
  [ -d "$W/esm2_3b" ] || { python3 bench/gen_esm2_checkpoint.py --layout safetensors --out "$W/esm2_3b" >"$OUT/gen.log" 2>&1 &
    gens+=($!); }
  [ -d "$W/dnabert_s" ] || { python3 "$dir/gen_dnabert_s_checkpoint.py" --tokenizer-from "$DATA/models/dnabert-s" \
    --out "$W/dnabert_s" >>"$OUT/gen.log" 2>&1 & gens+=($!); }
  python3 - "$W" "$nreads" <<'PY'
import random, sys
w, n = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
with open(w + '/prot.fa', 'w') as f:
    for i in range(1000):
        f.write('>p%d\n%s\n' % (i, ''.join(r.choice('ACDEFGHIKLMNPQRSTVWY') for _ in range(r.randint(30, 160)))))
with open(w + '/reads.fa', 'w') as f:
    for i in range(n):
        f.write('>r%d\n%s\n' % (i, ''.join(r.choice('ACGT') for _ in range(150))))
PY
  for g in "${gens[@]}"; do wait "$g"; done
  echo "inputs ready after $(( $(date +%s) - t0 )) s" | log
  for p in fp32 fp16 fp8; do
    /usr/bin/time -f "embed 3B $p: %e s wall" timeout 200 "$V" embed "$W/esm2_3b" "$W/prot.fa" -o "$W/prot.$p.f32" \
      --device cuda --precision $p -b 65536 2>&1 | tail -1 | log
  done
  for p in fp16 fp8; do python3 -c "$cosines" "$W/prot.$p.f32" "$W/prot.fp32.f32" 2560 "random 3B $p vs fp32" | log; done
  for p in fp16 fp8; do
    rm -rf "$W/pred_$p"
    s0=$(date +%s)
    /usr/bin/time -f "predict $nreads reads $p: %e s wall" timeout 280 "$V" predict "$W/reads.fa" -l 300 -o "$W/pred_$p" \
      --esm "$W/esm2_3b" --dnabert "$W/dnabert_s" --classifier "$DATA/models/mlp/mlp_3328.pth" --device cuda \
      --precision $p 2>"$OUT/predict_big_$p.err"; tail -1 "$OUT/predict_big_$p.err" | log
    grep -i "self-check\|first batch\|loaded\|fp8" "$OUT/predict_big_$p.err" | head -5 >>"$OUT/summary.log"
    cp "$W/pred_$p/run_summary.json" "$OUT/summary_big_$p.json" 2>/dev/null
    python3 - "$OUT/summary_big_$p.json" "$p" <<'PY' 2>&1 | log
import json, sys
s = json.load(open(sys.argv[1])); c, t = s['counts'], s['seconds']
print('predict %s: %d reads %d frames in %.2f s: %.0f reads/s; esm2 %.2f s dnabert %.2f s; fp8 check %s' % (
    sys.argv[2], c['records'], c['frames'], t['total'], c['records'] / t['total'], t['esm2'], t['dnabert_s'],
    json.dumps(s.get('fp8_self_check'))))
PY
  done
  python3 - "$W/pred_fp16/prediction_results.txt" "$W/pred_fp8/prediction_results.txt" <<'PY' 2>&1 | log
import sys
a = [l.split('\t') for l in open(sys.argv[1])][1:]; b = [l.split('\t') for l in open(sys.argv[2])][1:]
ch = sum(x[1] != y[1] for x, y in zip(a, b)); far = sum(x[1] != y[1] and abs(float(x[3]) - 0.5) > 0.05 for x, y in zip(a, b))
print('predict 3B fp8 vs fp16: %d frames, %d labels differ (%d where |fp16 score - 0.5| > 0.05)' % (len(a), ch, far))
PY
fi
if has startup; then # the start-up cost: a one-read predict with the 3B-shape models, cold (the model files' pages
  # evicted with posix_fadvise DONTNEED, which needs no root) and warm; startup_seconds from run_summary.json
  [ -f "$W/esm2_fair/esm2_t36_3B_UR50D.pt" ] || { mkdir -p "$W/esm2_fair"; s0=$(date +%s)
    python3 bench/gen_esm2_checkpoint.py --layout fair --out "$W/esm2_fair/esm2_t36_3B_UR50D.pt" >>"$OUT/gen.log" 2>&1
    echo "fair-esm .pt written in $(( $(date +%s) - s0 )) s" | log; }
  printf '>r1\n%s\n' "$(head -2 "$W/reads.fa" | tail -1)" >"$W/one.fa"
  evict() { python3 - "$@" <<'PY'
import os, sys
for top in sys.argv[1:]:
    for d, _, fs in os.walk(top) if os.path.isdir(top) else [(os.path.dirname(top), None, [os.path.basename(top)])]:
        for f in fs:
            fd = os.open(os.path.join(d, f), os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)
PY
  }
  for esm in esm2_3b esm2_fair/esm2_t36_3B_UR50D.pt; do
    for run in cold warm warm; do
      for p in fp16 fp8; do
        [ $run = cold ] && evict "$W/$esm" "$W/dnabert_s"
        rm -rf "$W/one_$p"
        s0=$(date +%s.%N)
        "$V" predict "$W/one.fa" -l 300 -o "$W/one_$p" --esm "$W/$esm" --dnabert "$W/dnabert_s" \
          --classifier "$DATA/models/mlp/mlp_3328.pth" --device cuda --precision $p --tokens-per-batch 4096 -v \
          2>"$OUT/startup_${run}_$p.err"
        s1=$(date +%s.%N)
        python3 - "$W/one_$p/run_summary.json" "$esm" "$run" "$p" "$s0" "$s1" <<'PY' 2>&1 | log
import json, sys
s = json.load(open(sys.argv[1]))['startup_seconds']
print('start-up %-32s %-4s %-4s: models ready %.2f s after start (%.2f s loading); whole one-read run %.2f s' % (
    sys.argv[2], sys.argv[3], sys.argv[4], s['start_to_models_ready'], s['load_models'],
    float(sys.argv[6]) - float(sys.argv[5])))
PY
      done
    done
  done
fi
kill $smi 2>/dev/null; wait $smi 2>/dev/null
(cd "$OUT" && tar -czf /tmp/logs.tar.gz --exclude=summary.log . ; find . -type f ! -name summary.log -delete; mv /tmp/logs.tar.gz .)
echo "fp8 done"
