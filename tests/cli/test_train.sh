#!/usr/bin/env bash
# `virnucpro embed-frames` and `virnucpro train` with the tiny fixture models: features as HDF5 with chunk_length,
# training on the fixture embeddings labelled by a fixed random hyperplane (validation accuracy >= 0.95, AUROC >=
# 0.98), same seed -> same model bytes (any thread count), predict with the trained model, refusals (exit 2).
set -u
BIN=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
HERE=$(dirname "$0")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
# expect_exit CODE WHAT PATTERN cmd...: exit code CODE and a message matching PATTERN on stderr
expect_exit() {
  local code=$1 what=$2 pat=$3; shift 3
  "$@" >/dev/null 2>"$T/err"; local rc=$?
  if [ "$rc" -eq "$code" ] && grep -qiE -- "$pat" "$T/err"; then ok; else bad "$what: exit $rc, $(head -c 300 "$T/err")"; fi
}
PYH5=""
for py in /usr/bin/python3 python3; do "$py" -c "import h5py, numpy" 2>/dev/null && { PYH5=$py; break; }; done

M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny")

# ---- embed-frames ----
check "embed-frames --help" "$BIN" embed-frames --help
check "embed-frames runs" "$BIN" embed-frames "$DATA/inputs/phage_podoviridae.fasta" -l 300 -o "$T/feat.h5" "${M[@]}" -q --threads 2
"$BIN" embed-frames "$DATA/inputs/phage_podoviridae.fasta" -l 300 -o "$T/featq.h5" "${M[@]}" -q --threads 2 2>"$T/qerr"
check "embed-frames -q prints nothing on success" test ! -s "$T/qerr"
check "no work folder left" bash -c "! ls -d '$T'/feat.h5.work.* 2>/dev/null"
# interrupted: exit 130, no features file and no work folder left behind
mkdir -p "$T/int"
for i in $(seq 1 40); do awk -v i="$i" '/^>/{print $0 "_" i; next}{print}' "$DATA/inputs/phage_podoviridae.fasta"; done >"$T/int/big.fa"
"$BIN" embed-frames "$T/int/big.fa" -l 300 -o "$T/int/f.h5" "${M[@]}" --threads 1 2>/dev/null &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 130 ]; then
  check "embed-frames interrupted leaves nothing behind" test -z "$(ls "$T/int" | grep -v '^big.fa$')"
elif [ "$rc" -eq 0 ]; then
  echo "note: embed-frames finished before the interrupt (a fast machine); the cleanup was not exercised"
else
  bad "embed-frames interrupted: exit $rc, expected 130"
fi
expect_exit 2 "embed-frames without -l" "-l 300" "$BIN" embed-frames "$DATA/inputs/phage_podoviridae.fasta" -o "$T/x.h5" "${M[@]}"
expect_exit 2 "embed-frames missing input" "cannot read" "$BIN" embed-frames "$T/nope.fa" -l 300 -o "$T/x.h5" "${M[@]}"
if [ -n "$PYH5" ]; then
  # one row per kept frame, the same rows and ids predict --save-embeddings gives
  "$BIN" predict "$DATA/inputs/phage_podoviridae.fasta" -l 300 -o "$T/pred" "${M[@]}" \
    --classifier "$DATA/models/mlp/mlp_tiny.pth" --save-embeddings -q
  check "embed-frames = predict --save-embeddings, chunk_length 300" "$PYH5" -c "
import h5py, numpy as np
a = h5py.File('$T/feat.h5', 'r'); b = h5py.File('$T/pred/embeddings.h5', 'r')
assert int(a.attrs['chunk_length']) == 300
assert a['dnabert_s'].shape[1] == 192 and a['esm2'].shape[1] == 128 and a['dnabert_s'].shape[0] > 0
for k in ('frame_id', 'dnabert_s', 'esm2'): assert np.array_equal(a[k][:], b[k][:]), k
"
else
  bad "h5py is not installed (scripts/install-deps.sh installs python3-h5py)"
fi

# ---- train ----
check "train --help" "$BIN" train --help
if [ -n "$PYH5" ] && "$PYH5" "$HERE/make_labelled_sets.py" "$DATA" "$T" >/dev/null; then
  TR=(--viral "$T/viral.h5" --other "$T/other.h5" --lr 0.002 --epochs 40 --patience 10 --seed 7)
  if "$BIN" train "${TR[@]}" -o "$T/m1.safetensors" --metrics "$T/m1.json" --threads 2 2>"$T/train.err"; then
    ok
    check "per-epoch lines" grep -qE "^epoch +1 +lr .*val loss .*AUROC" "$T/train.err"
    check "val accuracy >= 0.95, AUROC >= 0.98" "$PYH5" -c "
import json; m = json.load(open('$T/m1.json'))
f = m['final']; print(f)
assert f['accuracy'] >= 0.95 and f['auroc'] >= 0.98, f
assert len(m['epochs']) == m['epochs_run'] and m['chunk_length'] == 300
"
    check "safetensors metadata" "$PYH5" -c "
import json, struct
b = open('$T/m1.safetensors', 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
md = h['__metadata__']
assert md['chunk_length'] == '300' and md['feature_layout'] == 'dnabert_s:192,esm2:128' and md['seed'] == '7', md
assert h['hidden_layer.weight']['shape'] == [512, 320] and h['output_layer.weight']['shape'] == [2, 512]
"
  else
    bad "train failed: $(tail -3 "$T/train.err")"
  fi
  "$BIN" train "${TR[@]}" -o "$T/m2.safetensors" --threads 2 -q 2>/dev/null
  "$BIN" train "${TR[@]}" -o "$T/m3.safetensors" --threads 1 -q 2>/dev/null
  check "same seed, same bytes" cmp "$T/m1.safetensors" "$T/m2.safetensors"
  check "same seed, 1 thread, same bytes" cmp "$T/m1.safetensors" "$T/m3.safetensors"
  check "predict with the trained model" "$BIN" predict "$DATA/inputs/phage_podoviridae.fasta" -l 300 -o "$T/p2" \
    "${M[@]}" --classifier "$T/m1.safetensors" -q
  check "predict wrote results" test -s "$T/p2/prediction_results.txt"
  expect_exit 2 "a model trained on 300 bp chunks with -l 500" "trained on 300 bp chunks" "$BIN" predict \
    "$DATA/inputs/phage_podoviridae.fasta" -l 500 -o "$T/p3" "${M[@]}" --classifier "$T/m1.safetensors" -q
  expect_exit 2 "one class only" "no feature rows.*both" "$BIN" train --viral "$T/viral.h5" --other "$T/empty.h5" -o "$T/x.safetensors"
  expect_exit 2 "wrong width" "widths differ" "$BIN" train --viral "$T/viral.h5" --other "$T/wide.h5" -o "$T/x.safetensors"
  check "nothing written on refusal" test ! -e "$T/x.safetensors"
else
  bad "cannot build the labelled sets (h5py)"
fi
expect_exit 2 "not HDF5" "not a readable HDF5" "$BIN" train --viral "$DATA/models/mlp/mlp_tiny.pth" --other "$T/feat.h5" -o "$T/x.safetensors"
expect_exit 2 "no --other" "required" "$BIN" train --viral "$T/feat.h5" -o "$T/x.safetensors"
expect_exit 2 "bad --val-fraction" "val-fraction" "$BIN" train --viral "$T/feat.h5" --other "$T/feat.h5" -o "$T/x.safetensors" --val-fraction 0.9
expect_exit 2 "bad --batch-size" "batch-size" "$BIN" train --viral "$T/feat.h5" --other "$T/feat.h5" -o "$T/x.safetensors" --batch-size 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
