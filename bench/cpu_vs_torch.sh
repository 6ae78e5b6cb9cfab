#!/usr/bin/env bash
# CPU throughput of `virnucpro bench` against bench/torch_anchor.py (--mode padded and --mode original) on the
# same model shapes, workloads, sequence counts and thread count, run back to back so that both see the same
# machine load. Prints the JSON lines of every run and a ratio table.
#   usage: bench/cpu_vs_torch.sh [VIRNUCPRO] [PYTHON]
#   env: THREADS=2 REPEAT=1 CONFIGS="model:workload:n ..." MODES="padded original"; the table keeps the best
#   run of each side (the VM is shared: other jobs only ever slow a run down).
# PYTHON must have torch from PyPI (pip install torch; its CPU kernels are MKL/oneDNN) and transformers.
set -u
VNP=${1:-build/virnucpro}
PY=${2:-python3}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp /tmp/vnp_bench_cpu.XXXXXX)
# model workload n: sized for about a minute per run on a 2-core VM
CONFIGS=${CONFIGS:-"esm2_650m:chunks500:16 esm2_650m:reads150:60 dnabert_s:chunks500:80 dnabert_s:reads150:300"}
MODES=${MODES:-"padded original"}
echo "# $(date -u +%F) $(uname -m) $(nproc) cpus: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for r in $(seq "$REPEAT"); do
    for cfg in $CONFIGS; do
        IFS=: read -r model wl n <<<"$cfg"
        for mode in $MODES; do
            "$PY" "$HERE/torch_anchor.py" --model "$model" --workload "$wl" --mode "$mode" --device cpu \
                --threads "$THREADS" --n "$n" 2>/dev/null | tail -1 | tee -a "$OUT"
        done
        "$VNP" bench --model "$model" --workload "$wl" --device cpu --threads "$THREADS" --n "$n" | tee -a "$OUT"
    done
done
python3 - "$OUT" <<'PY'
import json, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith('{'): continue
    d = json.loads(line)
    runs[(d['model'], d['workload'], d['anchor'] if d['anchor'] != 'pytorch' else 'torch-' + d['mode'])].append(d['tok_per_s'])
print("\n| model | workload | torch original tok/s | torch padded tok/s | virnucpro tok/s | vs padded | vs original |")
print("|---|---|---|---|---|---|---|")
for (m, w) in sorted({(k[0], k[1]) for k in runs}):
    best = lambda k: max(runs.get((m, w, k), [float('nan')]))
    o, p, v = best('torch-original'), best('torch-padded'), best('virnucpro')
    print(f"| {m} | {w} | {o:.1f} | {p:.1f} | {v:.1f} | {v/p:.2f}x | {v/o:.2f}x |")
PY
rm -f "$OUT"
