#!/usr/bin/env bash
# Scale-out with the tiny fixture models: `predict --shard I/N` + `merge`, and `mpirun -n N virnucpro predict`, give
# files byte-identical to one single-process run on the fixture cases; a rank killed mid-run fails the job with a
# message and `--resume` completes it; shard sets that do not belong together are refused. The MPI part needs
# mpirun and a build with MPI (CI installs Open MPI); without them it says so and skips. The output layout is
# $VNP_OUTPUT_STYLE (default broad).
set -u
BIN=${VIRNUCPRO:-build/virnucpro}
FAULTS=${VIRNUCPRO_FAULTS:-$(dirname "$BIN")/virnucpro_faults} # the program with its test hooks (a rank that dies)
DATA=${VNP_TEST_DATA:-tests/data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$DATA/models/mlp/mlp_tiny.pth")
FILES="prediction_results.txt prediction_results_highestscore.csv sequence_summary.tsv chunked.fa
       identified_nucleotide.fa identified_protein.faa embeddings.h5"
# small blocks, so that every case has several of them to share out
OPTS=(--block-records 5 --keep-intermediate --save-embeddings -q --threads 1) # CPU sums depend on the thread count
# both output layouts (CTest runs this file once per style: VNP_OUTPUT_STYLE=broad|original)
OPTS+=(--output-style "${VNP_OUTPUT_STYLE:-broad}")

# same_files WHAT REF DIR: every output file byte-identical
same_files() {
  local what=$1 ref=$2 dir=$3 f
  for f in $FILES; do check "$what: $f identical to the single run" cmp "$ref/$f" "$dir/$f"; done
}

CASES="lassa_reads_subset.bam:500 phage_podoviridae.fasta:300 lassa_G5012.3.fasta:300 bacteria_no_phages.fna:500"

# reuse_summed WHAT REF DIR: DIR's run_summary.json reports reuse over every frame of the run (each shard or rank
# has a cache of its own, so it runs at least as many distinct frames as the single run), and the counts add up
reuse_summed() {
  check "$1: run_summary's reuse counts are every shard's or rank's, summed" python3 - "$2" "$3" <<'PY'
import json, sys
a, b = (json.load(open(p + '/run_summary.json')) for p in sys.argv[1:3])
for e in ('dnabert_s', 'esm2'):
    x, y = a['reuse'][e], b['reuse'][e]
    assert y['frames'] == b['counts']['frames'] == a['counts']['frames'], (e, y, b['counts'])
    assert y['computed'] + y['reused'] == y['frames'] and y['computed'] >= x['computed'], (e, x, y)
assert b['reuse']['enabled'] and b['reuse']['memory_limit_bytes'] == a['reuse']['memory_limit_bytes']
PY
}

# ---- the single-process runs everything is compared with ----
for c in $CASES; do
  IFS=: read -r in len <<<"$c"
  "$BIN" predict "$DATA/inputs/$in" -l "$len" -o "$T/ref_$in" "${M[@]}" "${OPTS[@]}" 2>"$T/err" ||
    bad "$in: single run failed: $(cat "$T/err")"
done

# ---- shards + merge ----
for c in $CASES; do
  IFS=: read -r in len <<<"$c"
  for n in 2 3; do
    dirs=()
    for i in $(seq 1 $n); do
      "$BIN" predict "$DATA/inputs/$in" -l "$len" -o "$T/sh_${in}_${n}_$i" --shard "$i/$n" "${M[@]}" "${OPTS[@]}" \
        2>"$T/err" || bad "$in: shard $i/$n failed: $(cat "$T/err")"
      dirs=("$T/sh_${in}_${n}_$i" "${dirs[@]}") # given in reverse order: merge does not care
    done
    check "$in: a shard writes no final file" test ! -e "$T/sh_${in}_${n}_1/prediction_results.txt"
    if "$BIN" merge -o "$T/merged_$in" --force "${dirs[@]}" -q 2>"$T/err"; then
      same_files "$in, $n shards merged" "$T/ref_$in" "$T/merged_$in"
      reuse_summed "$in, $n shards merged" "$T/ref_$in" "$T/merged_$in"
      check "$in: merged run_summary counts every record" \
        python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); \
sys.exit(a['counts']['records'] != b['counts']['records'] or a['counts']['frames'] != b['counts']['frames'])" \
        "$T/ref_$in/run_summary.json" "$T/merged_$in/run_summary.json"
    else
      bad "$in: merge of $n shards failed: $(cat "$T/err")"
    fi
  done
done

# ---- merge refuses what does not belong together ----
in=lassa_reads_subset.bam
S="$T/sh_${in}_3"
"$BIN" merge -o "$T/bad" "${S}_1" "${S}_2" 2>"$T/err"
check "merge: a missing shard is refused (exit 2)" test $? -eq 2
check "merge: ... saying how many shards there are" grep -q "of 3" "$T/err"
"$BIN" merge -o "$T/bad" "${S}_1" "${S}_1" "${S}_3" 2>"$T/err"
check "merge: a shard given twice is refused (exit 2)" test $? -eq 2
"$BIN" merge -o "$T/bad" "${S}_1" "$T/sh_phage_podoviridae.fasta_3_2" "${S}_3" 2>"$T/err"
check "merge: a shard of another run is refused (exit 2)" test $? -eq 2
check "merge: ... naming both folders" grep -q "different runs" "$T/err"
"$BIN" merge -o "$T/bad" "$T/ref_$in" 2>"$T/err"
check "merge: a folder that is no shard is refused (exit 2)" test $? -eq 2
other=original
[ "${VNP_OUTPUT_STYLE:-broad}" = original ] && other=broad
"$BIN" predict "$DATA/inputs/$in" -l 500 -o "$T/sh_other_2" --shard 2/3 "${M[@]}" "${OPTS[@]}" --output-style $other
"$BIN" merge -o "$T/bad" "${S}_1" "$T/sh_other_2" "${S}_3" 2>"$T/err"
check "merge: a shard of the other output style is refused (exit 2)" test $? -eq 2
for bad_shard in 0/2 3/2 a/b 1/0 1; do
  "$BIN" predict "$DATA/inputs/$in" -l 500 -o "$T/x" --shard "$bad_shard" "${M[@]}" 2>"$T/err"
  check "--shard $bad_shard is a usage error (exit 2)" test $? -eq 2
done
"$BIN" predict "$DATA/inputs/$in" -l 500 -o "$T/x" --device cpu --gpus 0 "${M[@]}" 2>"$T/err"
check "--gpus with --device cpu is a usage error (exit 2)" test $? -eq 2

# ---- MPI ----
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIP: mpirun not found (install openmpi-bin); the MPI checks did not run"
elif ! ldd "$BIN" 2>/dev/null | grep -q libmpi; then
  echo "SKIP: $BIN was built without MPI (install libopenmpi-dev and rebuild); the MPI checks did not run"
else
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
  export OMPI_MCA_btl_vader_single_copy_mechanism=none # containers often forbid the cross-process copy
  for c in $CASES; do
    IFS=: read -r in len <<<"$c"
    for n in 2 3; do
      if mpirun -n $n --oversubscribe "$BIN" predict "$DATA/inputs/$in" -l "$len" -o "$T/mpi_${in}_$n" "${M[@]}" \
        "${OPTS[@]}" >"$T/out" 2>"$T/err"; then
        same_files "$in, mpirun -n $n" "$T/ref_$in" "$T/mpi_${in}_$n"
        check "$in, mpirun -n $n: run_summary says $n ranks" grep -q "\"mpi_ranks\": $n" "$T/mpi_${in}_$n/run_summary.json"
        reuse_summed "$in, mpirun -n $n" "$T/ref_$in" "$T/mpi_${in}_$n"
      else
        bad "$in: mpirun -n $n failed: $(tail -5 "$T/err")"
      fi
    done
  done
  # a rank dies (SIGKILL after sending 2 blocks; the test build virnucpro_faults): the job fails with a message; --resume completes it
  in=lassa_reads_subset.bam
  VIRNUCPRO_TEST_RANK_DIES=1:2 mpirun -n 3 --oversubscribe "$FAULTS" predict "$DATA/inputs/$in" -l 500 \
    -o "$T/mpi_dies" "${M[@]}" "${OPTS[@]}" >"$T/out" 2>"$T/err"
  check "a rank killed mid-run fails the job" test $? -ne 0
  check "... with a message naming the rank" grep -q "rank 1" "$T/err"
  check "... and no final files" test ! -e "$T/mpi_dies/prediction_results.txt"
  check "... keeping the blocks rank 0 had committed" \
    bash -c "ls '$T/mpi_dies/.virnucpro/blocks' | grep -q 'done$'"
  if mpirun -n 3 --oversubscribe "$BIN" predict "$DATA/inputs/$in" -l 500 -o "$T/mpi_dies" "${M[@]}" "${OPTS[@]}" \
    --resume >"$T/out" 2>"$T/err"; then
    same_files "$in, MPI run resumed after a rank died" "$T/ref_$in" "$T/mpi_dies"
    check "the resumed MPI run counts resumed blocks" \
      python3 -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))['counts']['blocks_resumed'] < 1)" \
      "$T/mpi_dies/run_summary.json"
  else
    bad "resuming the MPI run failed: $(tail -5 "$T/err")"
  fi
  # a resumed MPI run may use another number of ranks
  VIRNUCPRO_TEST_RANK_DIES=1:1 mpirun -n 2 --oversubscribe "$FAULTS" predict "$DATA/inputs/$in" -l 500 \
    -o "$T/mpi_dies2" "${M[@]}" "${OPTS[@]}" >/dev/null 2>&1
  if mpirun -n 3 --oversubscribe "$BIN" predict "$DATA/inputs/$in" -l 500 -o "$T/mpi_dies2" "${M[@]}" "${OPTS[@]}" \
    --resume >"$T/out" 2>"$T/err"; then
    same_files "$in, MPI run resumed with more ranks" "$T/ref_$in" "$T/mpi_dies2"
  else
    bad "resuming the MPI run with 3 ranks failed: $(tail -5 "$T/err")"
  fi
  mpirun -n 2 --oversubscribe "$BIN" predict "$DATA/inputs/$in" -l 500 -o "$T/x2" --shard 1/2 "${M[@]}" \
    >/dev/null 2>"$T/err"
  check "--shard under MPI is a usage error" test $? -ne 0
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
