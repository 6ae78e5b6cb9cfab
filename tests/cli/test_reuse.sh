#!/usr/bin/env bash
# Reuse of repeated frames (issue 14) with the tiny fixture models, on an input whose records repeat (the fixture
# inputs three times over with fresh ids, interleaved, so that repeats fall in other blocks): every output file,
# embeddings.h5 included, is byte-identical with reuse (the default) and with --no-reuse, also with a cache so small
# that it evicts, with several threads, after kill -9 + --resume, as shards joined by merge, and under mpirun (when
# built with MPI); run_summary.json reports the frames run and reused per encoder; option errors exit 2.
set -u
BIN=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$DATA/models/mlp/mlp_tiny.pth")
OPTS=(--block-records 4 --keep-intermediate --save-embeddings -q)
FILES="prediction_results.txt prediction_results_highestscore.csv sequence_summary.tsv chunked.fa
       identified_nucleotide.fa identified_protein.faa embeddings.h5"
same_files() {
  local what=$1 dir=$2 f
  for f in $FILES; do check "$what: $f identical to the run without reuse" cmp "$T/noreuse/$f" "$dir/$f"; done
}
# json FILE EXPR: a Python expression over the run summary `s`
json() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }

for i in 1 2 3; do
  for f in "$DATA"/inputs/*.fa "$DATA"/inputs/*.fasta; do sed "s/^>\([^ ]*\)/>\1_copy$i/" "$f"; done
done >"$T/rep.fa"

"$BIN" predict "$T/rep.fa" -l 300 -o "$T/noreuse" "${M[@]}" "${OPTS[@]}" --no-reuse 2>"$T/err" ||
  bad "run without reuse failed: $(cat "$T/err")"
check "without reuse: run_summary says reuse is off" json "$T/noreuse/run_summary.json" \
  "not s['reuse']['enabled'] and s['reuse']['esm2']['reused'] == 0 and
   s['reuse']['esm2']['computed'] == s['counts']['frames']"

# the default: reuse on
"$BIN" predict "$T/rep.fa" -l 300 -o "$T/reuse" "${M[@]}" "${OPTS[@]}" 2>"$T/err" || bad "reuse run failed: $(cat "$T/err")"
same_files "reuse" "$T/reuse"
if json "$T/reuse/run_summary.json" "s['reuse'].get('off_because')"; then
  # this machine's OpenBLAS kernel is not batch invariant (README): reuse stays off, so only the files are compared
  echo "SKIP: the CPU engine is not batch invariant here (OpenBLAS kernel): reuse is off; only byte identity checked"
  check "reuse off on a non-invariant engine: every frame computed" json "$T/reuse/run_summary.json" \
    "not s['reuse']['enabled'] and s['reuse']['esm2']['computed'] == s['counts']['frames']"
  REUSE_OFF=1
fi
for e in esm2 dnabert_s; do
  [ -n "${REUSE_OFF:-}" ] && break
  check "reuse: $e ran at most a third of the frames, and reused the rest" json "$T/reuse/run_summary.json" \
    "r := s['reuse']['$e'], r['frames'] == s['counts']['frames'] and 3 * r['computed'] <= r['frames'] and
     r['computed'] + r['reused'] == r['frames'] and r['seconds_saved'] >= 0"
done
[ -z "${REUSE_OFF:-}" ] && check "reuse: enabled, within its limit" json "$T/reuse/run_summary.json" \
  "s['reuse']['enabled'] and 0 < s['reuse']['peak_bytes'] <= s['reuse']['memory_limit_bytes']"

# a cache too small for the run: entries are evicted, outputs unchanged
"$BIN" predict "$T/rep.fa" -l 300 -o "$T/small" "${M[@]}" "${OPTS[@]}" --reuse-memory 40K 2>"$T/err" ||
  bad "--reuse-memory 40K failed: $(cat "$T/err")"
same_files "--reuse-memory 40K" "$T/small"
[ -z "${REUSE_OFF:-}" ] && check "--reuse-memory 40K evicts and stays within 40 KiB" json "$T/small/run_summary.json" \
  "s['reuse']['evicted'] > 0 and s['reuse']['peak_bytes'] <= 40 * 1024 and s['reuse']['memory_limit_bytes'] == 40960"

# several threads (a batch-invariant CPU engine gives the same bytes whatever its thread count)
if [ -z "${REUSE_OFF:-}" ]; then
  "$BIN" predict "$T/rep.fa" -l 300 -o "$T/thr" "${M[@]}" "${OPTS[@]}" --threads 3 2>"$T/err" ||
    bad "--threads 3 failed: $(cat "$T/err")"
  same_files "reuse, 3 threads" "$T/thr"
fi

# -v prints what reuse did
"$BIN" predict "$T/rep.fa" -l 300 -o "$T/verbose" "${M[@]}" --block-records 4 -v 2>"$T/err" >/dev/null
[ -z "${REUSE_OFF:-}" ] && check "-v prints the distinct frames of ESM-2" grep -q "reuse: esm2 ran [0-9]* distinct of [0-9]* frames" "$T/err"

# from a config file
printf 'no-reuse: true\n' >"$T/cfg.yaml"
"$BIN" predict "$T/rep.fa" -l 300 -o "$T/cfg" "${M[@]}" "${OPTS[@]}" --config "$T/cfg.yaml" 2>"$T/err" ||
  bad "--config with no-reuse failed: $(cat "$T/err")"
check "config no-reuse: true turns reuse off" json "$T/cfg/run_summary.json" "not s['reuse']['enabled']"
printf 'reuse-memory: "1M"\n' >"$T/cfg2.yaml"
"$BIN" predict "$T/rep.fa" -l 300 -o "$T/cfg2" "${M[@]}" "${OPTS[@]}" --config "$T/cfg2.yaml" 2>"$T/err" ||
  bad "--config with reuse-memory failed: $(cat "$T/err")"
[ -z "${REUSE_OFF:-}" ] && check "config reuse-memory: 1M sets the limit" json "$T/cfg2/run_summary.json" \
  "s['reuse']['memory_limit_bytes'] == 1048576"

# kill -9 mid-run, then --resume with reuse: the same files
for k in 1 2; do
  d="$T/kill$k"
  "$BIN" predict "$T/rep.fa" -l 300 -o "$d" "${M[@]}" "${OPTS[@]}" &
  pid=$!
  # killed once k blocks are committed (a kill before the journal's run.json is written is another matter: the
  # journal's, not reuse's)
  for _ in $(seq 1 600); do
    [ "$(ls "$d/.virnucpro/blocks" 2>/dev/null | grep -c done)" -ge "$k" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  "$BIN" predict "$T/rep.fa" -l 300 -o "$d" "${M[@]}" "${OPTS[@]}" --resume 2>"$T/err"
  check "resume after kill -9 ($k) exits 0" test $? -eq 0
  same_files "kill -9 ($k) + --resume" "$d"
done

# shards (each with a cache of its own) joined by merge
for i in 1 2 3; do
  "$BIN" predict "$T/rep.fa" -l 300 -o "$T/sh$i" --shard "$i/3" "${M[@]}" "${OPTS[@]}" 2>"$T/err" ||
    bad "shard $i/3 failed: $(cat "$T/err")"
done
if "$BIN" merge -o "$T/merged" "$T/sh1" "$T/sh2" "$T/sh3" -q 2>"$T/err"; then
  same_files "3 shards merged" "$T/merged"
else
  bad "merge failed: $(cat "$T/err")"
fi

# MPI (each rank keeps a cache of its own)
if [ -n "${VNP_SANITIZED:-}" ]; then
  echo "SKIP: the sanitizer build: LeakSanitizer reports Open MPI's own allocations; the MPI check with reuse did not run"
elif command -v mpirun >/dev/null 2>&1 && ldd "$BIN" 2>/dev/null | grep -q libmpi; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
  export OMPI_MCA_btl_vader_single_copy_mechanism=none
  if mpirun -n 2 --oversubscribe "$BIN" predict "$T/rep.fa" -l 300 -o "$T/mpi" "${M[@]}" "${OPTS[@]}" \
    >"$T/out" 2>"$T/err"; then
    same_files "mpirun -n 2" "$T/mpi"
  else
    bad "mpirun -n 2 failed: $(tail -5 "$T/err")"
  fi
else
  echo "SKIP: no mpirun or a build without MPI: the MPI check with reuse did not run"
fi

# option errors
for v in abc -1 12Q ""; do
  "$BIN" predict "$T/rep.fa" -l 300 -o "$T/x" "${M[@]}" --reuse-memory "$v" 2>"$T/err"
  check "--reuse-memory '$v' is a usage error (exit 2)" test $? -eq 2
done
check "predict --help names --no-reuse and --reuse-memory" bash -c "'$BIN' predict --help | grep -q -- --no-reuse &&
  '$BIN' predict --help | grep -q -- --reuse-memory"

echo "test_reuse: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
