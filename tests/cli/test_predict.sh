#!/usr/bin/env bash
# `virnucpro predict` end to end with the tiny fixture models: every pipeline case against the reference outputs,
# FASTA and BAM agreeing, sequence_summary.tsv's values recomputed by check_summary.py, resume after kill -9 and
# after SIGINT/SIGTERM, bounded memory, bad inputs.
set -u
BIN=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
CMP="python3 $(dirname "$0")/compare_predictions.py"
SUMMARY="python3 $(dirname "$0")/check_summary.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$DATA/models/mlp/mlp_tiny.pth")

# ---- every fixture case ----
for f in "$DATA"/inputs/*; do
  base=$(basename "$f"); stem=${base%.*}
  for len in 300 500; do
    case_name=${stem}_${len}
    [ "$base" = lassa_reads_subset.bam ] && case_name=lassa_reads_subset.from_bam_${len}
    # the reference's pipeline cases, and those whose input keeps no frame (header lines only)
    case " mt_human_500 human_chr6_5kb_300 human_chr6_5kb_500 " in
      *" $case_name "*) ;;
      *) [ -d "$DATA/pipeline/$case_name" ] || continue ;;
    esac
    out="$T/$case_name"
    if ! "$BIN" predict "$f" -l "$len" -o "$out" "${M[@]}" -q --output-style original 2>"$T/err"; then
      bad "$case_name: predict failed: $(cat "$T/err")"; continue
    fi
    if [ -d "$DATA/pipeline/$case_name" ]; then
      check "$case_name matches the reference" $CMP "$out" "$DATA/pipeline/$case_name"
    else
      check "$case_name gives header lines only" $CMP "$out" --empty
    fi
    for file in sequence_summary.tsv run_summary.json; do check "$case_name/$file written" test -s "$out/$file"; done
    # the default layout, virnucpro-broad v2.0's: its expected files; sequence_summary.tsv does not depend on it
    if ! "$BIN" predict "$f" -l "$len" -o "$out.broad" "${M[@]}" -q 2>"$T/err"; then
      bad "$case_name: predict (broad layout) failed: $(cat "$T/err")"; continue
    fi
    if [ -d "$DATA/pipeline/$case_name" ]; then
      check "$case_name matches the reference in broad's layout" $CMP "$out.broad" "$DATA/pipeline/$case_name/broad"
    else
      check "$case_name gives broad's header lines only" $CMP "$out.broad" --empty broad
    fi
    check "$case_name: sequence_summary.tsv the same in both layouts" cmp "$out/sequence_summary.tsv" \
      "$out.broad/sequence_summary.tsv"
    # its values against an independent computation from the input and prediction_results.txt (a BAM through
    # samtools, as predict reads it: checked below)
    in_fa=$f
    if [ "$base" = lassa_reads_subset.bam ]; then
      in_fa=""
      command -v samtools >/dev/null && samtools fasta -N "$f" 2>/dev/null >"$T/bam.fa" && in_fa=$T/bam.fa
    fi
    [ -z "$in_fa" ] ||
      check "$case_name: sequence_summary.tsv agrees with check_summary.py" $SUMMARY "$out" "$in_fa" "$len"
  done
done

# ---- the confidence tiers: with --min-confident-score 0.53 the tiny models give every tier on the fixture inputs ----
cat "$DATA"/inputs/*.fa "$DATA"/inputs/*.fna "$DATA"/inputs/*.fasta >"$T/all.fa"
if "$BIN" predict "$T/all.fa" -l 300 -o "$T/tiers" "${M[@]}" -q --min-confident-score 0.53 2>"$T/err"; then
  check "--min-confident-score 0.53: sequence_summary.tsv agrees with check_summary.py" \
    $SUMMARY "$T/tiers" "$T/all.fa" 300 --min-confident-score 0.53
  for tier in confident_viral confident_nonviral ambiguous no_orf; do
    check "--min-confident-score 0.53: some record is $tier" grep -q "	$tier$" "$T/tiers/sequence_summary.tsv"
  done
else
  bad "predict --min-confident-score 0.53 failed: $(cat "$T/err")"
fi

# ---- padded batches (VIRNUCPRO_DISABLE_PACKING, for comparison) give the reference's results too ----
for c in phage_podoviridae:300 lassa_G5012.3:500; do
  IFS=: read -r stem len <<<"$c"
  f=$(ls "$DATA/inputs/$stem".* | head -1)
  if VIRNUCPRO_DISABLE_PACKING=1 "$BIN" predict "$f" -l "$len" -o "$T/padded_$stem" "${M[@]}" --tokens-per-batch 512 \
    -q --output-style original 2>"$T/err"; then
    check "${stem}_$len with padded batches matches the reference" $CMP "$T/padded_$stem" "$DATA/pipeline/${stem}_$len"
  else
    bad "${stem}_$len with VIRNUCPRO_DISABLE_PACKING=1 failed: $(cat "$T/err")"
  fi
done

# ---- the BAM and the FASTA made from it give the same files ----
if command -v samtools >/dev/null; then
  samtools fasta -N "$DATA/inputs/lassa_reads_subset.bam" 2>/dev/null >"$T/reads.fa"
  "$BIN" predict "$T/reads.fa" -l 300 -o "$T/from_fa" "${M[@]}" -q
  for file in prediction_results.txt prediction_results_highestscore.csv sequence_summary.tsv; do
    check "BAM and FASTA agree: $file" cmp "$T/from_fa/$file" "$T/lassa_reads_subset.from_bam_300.broad/$file"
  done
fi

# ---- a bigger input for the journal tests: the fixture inputs three times over with fresh ids ----
for i in $(seq 1 3); do
  for f in "$DATA"/inputs/*.fa "$DATA"/inputs/*.fna "$DATA"/inputs/*.fasta; do sed "s/^>\([^ ]*\)/>\1_copy$i/" "$f"; done
done >"$T/big.fa"
"$BIN" predict "$T/big.fa" -l 300 -o "$T/ref" "${M[@]}" --block-records 5 -q --keep-intermediate --save-embeddings
check "uninterrupted run" test -s "$T/ref/prediction_results.txt"
same_as_ref() {
  local d=$1 f
  for f in prediction_results.txt prediction_results_highestscore.csv sequence_summary.tsv chunked.fa \
           identified_nucleotide.fa identified_protein.faa; do cmp -s "$d/$f" "$T/ref/$f" || return 1; done
}

# kill -9 at random moments, then --resume until done: byte-identical outputs
for k in 1 2 3 4; do
  d="$T/kill$k"
  "$BIN" predict "$T/big.fa" -l 300 -o "$d" "${M[@]}" --block-records 5 -q --keep-intermediate --save-embeddings &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  check "after kill -9 ($k) the finished-looking files are complete or absent" \
    bash -c "[ ! -e '$d/prediction_results.txt' ] || cmp -s '$d/prediction_results.txt' '$T/ref/prediction_results.txt'"
  "$BIN" predict "$T/big.fa" -l 300 -o "$d" "${M[@]}" --block-records 5 -q --keep-intermediate --save-embeddings --resume
  check "resume after kill -9 ($k) exits 0" test $? -eq 0
  check "resume after kill -9 ($k) is byte-identical" same_as_ref "$d"
done

# SIGINT and SIGTERM: the current block is committed, exit 130/143, --resume finishes
for sig in INT TERM; do
  d="$T/sig$sig"
  "$BIN" predict "$T/big.fa" -l 300 -o "$d" "${M[@]}" --block-records 5 -q --keep-intermediate --save-embeddings &
  pid=$!
  sleep 0.3
  kill -"$sig" "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  want=130; [ "$sig" = TERM ] && want=143
  if [ "$rc" -eq "$want" ] || [ "$rc" -eq 0 ]; then ok; else bad "SIG$sig exit $rc, want $want"; fi
  "$BIN" predict "$T/big.fa" -l 300 -o "$d" "${M[@]}" --block-records 5 -q --keep-intermediate --save-embeddings --resume
  check "resume after SIG$sig is byte-identical" same_as_ref "$d"
done

# embeddings.h5 is readable with h5py (Debian's python3-h5py, installed by scripts/install-deps.sh) and holds one
# row per frame, in the order of prediction_results.txt
nframes=$(($(wc -l <"$T/ref/prediction_results.txt") - 1))
PYH5=
for py in /usr/bin/python3 python3; do "$py" -c "import h5py" 2>/dev/null && { PYH5=$py; break; }; done
if [ -n "$PYH5" ]; then
  check "embeddings.h5 has one row per frame, ids in order" "$PYH5" -c "
import h5py,sys
f=h5py.File('$T/ref/embeddings.h5','r'); n=$nframes
ids=[x.decode() if isinstance(x,bytes) else x for x in f['frame_id'][:]]
want=[l.split('\t')[0] for l in open('$T/ref/prediction_results.txt').read().splitlines()[1:]]
sys.exit(0 if f['dnabert_s'].shape==(n,192) and f['esm2'].shape==(n,128) and ids==want else 1)"
else
  bad "h5py is not installed (scripts/install-deps.sh installs python3-h5py)"
fi

# ---- memory does not grow with the input: 20x the input, the same peak RSS within 10% ----
# (blocks of 50 records, so that 1x already spans several blocks)
# (AddressSanitizer's quarantine and shadow memory grow with what was freed: not in the sanitizer build)
if [ -n "${VNP_SANITIZED:-}" ]; then
  echo "SKIP: the sanitizer build: peak RSS is AddressSanitizer's, the memory check did not run"
else
  cat "$DATA"/inputs/*.fa "$DATA"/inputs/*.fna "$DATA"/inputs/*.fasta "$T/reads.fa" >"$T/one.fa"
  for i in $(seq 1 20); do sed "s/^>\([^ ]*\)/>\1_x$i/" "$T/one.fa"; done >"$T/one20.fa"
  rss() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['peak_rss_bytes'])" "$1/run_summary.json"; }
  "$BIN" predict "$T/one.fa" -l 300 -o "$T/mem1" "${M[@]}" -q --block-records 50
  "$BIN" predict "$T/one20.fa" -l 300 -o "$T/mem20" "${M[@]}" -q --block-records 50
  r1=$(rss "$T/mem1"); r20=$(rss "$T/mem20")
  check "peak RSS $r1 -> $r20 for 20x the input (within 10%)" python3 -c "import sys; sys.exit(0 if $r20 <= 1.10 * $r1 else 1)"
fi

# ---- bad usage and bad input ----
"$BIN" predict "$T/big.fa" -l 300 -o "$T/ref" "${M[@]}" -q 2>"$T/err"
check "a folder holding another run is refused (exit 2)" test $? -eq 2
check "... with a message naming --resume/--force" grep -q -- "--force" "$T/err"
"$BIN" predict "$DATA/inputs/mt_human.fa" -l 300 -o "$T/ref" "${M[@]}" -q --force
check "--force replaces it" test $? -eq 0
mkdir -p "$T/cls"; cp "$DATA/models/mlp/mlp_tiny.pth" "$T/cls/300_model.pth"
"$BIN" predict "$DATA/inputs/mt_human.fa" -l 500 -o "$T/len" --esm "$DATA/models/esm2-tiny" \
  --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$T/cls/300_model.pth" -q 2>"$T/err"
check "300 bp classifier with -l 500 is refused (exit 2)" test $? -eq 2
check "... naming the classifier" grep -q "300_model.pth" "$T/err"
"$BIN" predict "$DATA/inputs/mt_human.fa" -l 500 -o "$T/len2" --esm "$DATA/models/esm2-tiny" \
  --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$T/cls/300_model.pth" -q --force-length
check "--force-length accepts it" test $? -eq 0
"$BIN" predict "$T/missing.fa" -l 300 -o "$T/x" "${M[@]}" -q 2>"$T/err"
check "missing input: exit 2" test $? -eq 2
check "... naming it" grep -q "missing.fa" "$T/err"
"$BIN" predict "$DATA/inputs/mt_human.fa" -l 300 -o "$T/nomodels" --models "$T/cls" -q 2>"$T/err"
check "missing models: exit 2" test $? -eq 2
check "... listing what is missing" grep -q "DNABERT-S" "$T/err"
"$BIN" predict "$DATA/inputs/mt_human.fa" -l 400 -o "$T/x" "${M[@]}" 2>/dev/null
check "-l 400: exit 2" test $? -eq 2
# an OUTDIR that cannot be created, for root too and whatever is mounted: its parent is a regular file
: >"$T/ro"
ro="$T/ro/out"
"$BIN" predict "$DATA/inputs/mt_human.fa" -l 300 -o "$ro" "${M[@]}" -q 2>"$T/err"
check "unwritable OUTDIR: exit 1" test $? -eq 1
check "... naming it" grep -q "$ro" "$T/err"
# a full disk, emulated with a file-size limit: exit 1 and no finished-looking output
( ulimit -f 40; "$BIN" predict "$T/big.fa" -l 300 -o "$T/full" "${M[@]}" -q --keep-intermediate 2>"$T/err" )
rc=$?
check "full disk: exit 1 (got $rc)" test "$rc" -eq 1
check "... no prediction_results.txt" test ! -e "$T/full/prediction_results.txt"
check "... the message names the file" grep -q "$T/full" "$T/err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
