#!/usr/bin/env bash
# Reuse of repeated frames (issue 14), on vs off in one call: `predict` over each input with reuse (the default) and
# with --no-reuse, printing reads/s, frames/s, the frames each encoder ran and whether every output file is
# byte-identical between the two runs.
#   usage: bench/bench_reuse.sh VIRNUCPRO "MODEL OPTIONS" "PREDICT OPTIONS" INPUT...
#   e.g.   bench/bench_reuse.sh build/virnucpro "--esm tests/data/models/esm2-tiny --dnabert
#            tests/data/models/dnabert-s-tiny --classifier tests/data/models/mlp/mlp_tiny.pth" "--device cpu" reads.fq
# Simulated inputs with a known duplication rate: bench/sim_reads.py.
set -u -o pipefail
V=$1 MODELS=$2 PRED=$3
shift 3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf '| input | reuse | reads | frames | run (s) | reads/s | frames/s | DNABERT-S ran | ESM-2 ran | ESM-2 s | saved (s) | outputs identical |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for in in "$@"; do
  name=$(basename "$in")
  for mode in off on; do
    flag=; [ $mode = off ] && flag=--no-reuse
    # shellcheck disable=SC2086
    "$V" predict "$in" -l 300 -o "$W/$mode" $MODELS $PRED $flag --save-embeddings --force -q 2>"$W/err" ||
      { echo "| $name | $mode | failed: $(tail -1 "$W/err") |"; continue; }
  done
  same=yes
  for f in prediction_results.txt prediction_results_highestscore.csv sequence_summary.tsv embeddings.h5; do
    cmp -s "$W/off/$f" "$W/on/$f" || same="no ($f differs)"
  done
  for mode in off on; do
    python3 - "$W/$mode/run_summary.json" "$name" "$mode" "$same" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); c, t, r = s['counts'], s['seconds'], s['reuse']
d, e = r['dnabert_s'], r['esm2']
pct = lambda x: '%d (%.1f%%)' % (x['computed'], 100.0 * x['computed'] / max(1, x['frames']))
saved = d['seconds_saved'] + e['seconds_saved']
print('| %s | %s | %d | %d | %.2f | %.0f | %.0f | %s | %s | %.2f | %.2f | %s |' % (
    sys.argv[2], sys.argv[3], c['records'], c['frames'], t['total'], c['records'] / t['total'],
    c['frames'] / t['total'], pct(d), pct(e), t['esm2'], saved, sys.argv[4]))
PY
  done
done
