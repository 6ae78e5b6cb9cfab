#!/bin/bash
# On the GPU machine, from the repository root: the CUDA backend unit test, then with random 3B-shape ESM-2 weights
# and random DNABERT-S-shape weights (generated here, fp16 safetensors) the FP16-vs-FP32 cosine of 1,000 protein
# embeddings and `virnucpro predict --device cuda` on N random 150 bp reads (real 3328->512->2 classifier shape).
# Carried binaries as in run_e2e.sh. Logs and run_summary.json go to $OUT.
# usage: run_gpu3.sh DIR [N_READS]
set -u -o pipefail
dir=${1:-.carry/gpu3}
nreads=${2:-10000}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
DATA=${VNP_TEST_DATA:-tests/data}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
L=$(mktemp -d); tar -xJf "$dir/lib.tar.xz" -C "$L"
export LD_LIBRARY_PATH="$L:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
V=$dir/virnucpro
W=/tmp/gpu3; mkdir -p "$W"
t0=$(date +%s)
python3 bench/gen_esm2_checkpoint.py --layout safetensors --out "$W/esm2_3b" >"$OUT/gen.log" 2>&1 &
python3 "$dir/gen_dnabert_s_checkpoint.py" --tokenizer-from "$DATA/models/dnabert-s" --out "$W/dnabert_s" >>"$OUT/gen.log" 2>&1 &
timeout 120 "$dir/test_backend_cuda" 2>&1 | tail -8 | tee "$OUT/unit.log"
python3 - "$W" "$nreads" <<'PY'
import random, sys
w, n = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
with open(w + '/prot.fa', 'w') as f:
    for i in range(1000):
        f.write('>p%d\n%s\n' % (i, ''.join(r.choice('ACDEFGHIKLMNPQRSTVWY') for _ in range(r.randint(30, 60)))))
with open(w + '/reads.fa', 'w') as f:
    for i in range(n):
        f.write('>r%d\n%s\n' % (i, ''.join(r.choice('ACGT') for _ in range(150))))
PY
wait
echo "generation done after $(( $(date +%s) - t0 )) s" | tee -a "$OUT/gen.log"; ls -la "$W"/esm2_3b "$W"/dnabert_s >>"$OUT/gen.log"
for p in fp16 fp32; do
  /usr/bin/time -f "embed $p: %e s wall, %M KB max RSS" timeout 150 "$V" embed "$W/esm2_3b" "$W/prot.fa" \
    -o "$W/prot.$p.f32" --device cuda --precision $p -b 65536 2>&1 | tail -3 | tee -a "$OUT/embed.log"
done
python3 - "$W/prot.fp16.f32" "$W/prot.fp32.f32" <<'PY' 2>&1 | tee -a "$OUT/embed.log"
import struct, sys, math
a, b = (open(p, 'rb').read() for p in sys.argv[1:3])
d = 2560; n = len(b) // 4
X, Y = struct.unpack('<%df' % n, a), struct.unpack('<%df' % n, b)
cs = []
for r in range(n // d):
    u, v = X[r*d:(r+1)*d], Y[r*d:(r+1)*d]
    cs.append(sum(i*j for i, j in zip(u, v)) / (math.sqrt(sum(i*i for i in u) * sum(j*j for j in v)) + 1e-30))
fin = all(math.isfinite(x) for x in X)
print('fp16 vs fp32, %d rows of %d: min cosine %.7f, mean %.7f, all finite %s: %s' % (len(cs), d, min(cs),
      sum(cs) / len(cs), fin, 'PASS' if min(cs) >= 0.999 and fin else 'FAIL'))
PY
/usr/bin/time -f "predict: %e s wall, %M KB max RSS" timeout 300 "$V" predict "$W/reads.fa" -l 300 -o "$W/pred" \
  --esm "$W/esm2_3b" --dnabert "$W/dnabert_s" --classifier "$DATA/models/mlp/mlp_3328.pth" --device cuda -q \
  2>&1 | tail -5 | tee "$OUT/predict.log"
cp "$W/pred/run_summary.json" "$OUT/" 2>/dev/null
head -3 "$W/pred/prediction_results.txt" >>"$OUT/predict.log" 2>/dev/null
echo "gpu3 done"
