#!/usr/bin/env bash
# Coming from virnucpro-broad: `python -m virnucpro predict ...` (the python/ shim, installed offline into a
# virtualenv) with broad's command line finds the encoders in broad's caches (torch hub, Hugging Face hub) and
# writes broad's layout into DIR/<input stem>_merged/ (FASTA and BAM input); every broad option is accepted;
# unknown options still exit 2; a missing model lists every place looked. Prints "N passed, N failed".
set -u
BIN=$(realpath "${VIRNUCPRO:-build/virnucpro}")
DATA=$(realpath "${VNP_TEST_DATA:-tests/data}")
SRC=$(realpath "${VNP_SOURCE_DIR:-.}")
CMP="python3 $SRC/tests/cli/compare_predictions.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
MLP="$DATA/models/mlp/mlp_tiny.pth"

# ---- broad's users' caches, in a fake home: fair-esm's torch hub checkpoint, transformers' hub snapshot ----
H="$T/home"
mkdir -p "$H/.cache/torch/hub/checkpoints" "$H/hf/hub/models--zhihan1996--DNABERT-S/refs" \
  "$H/hf/hub/models--zhihan1996--DNABERT-S/snapshots/0123abc"
cp "$DATA/models/esm2-tiny/esm2_tiny_fair.pt" "$H/.cache/torch/hub/checkpoints/esm2_t36_3B_UR50D.pt"
for f in config.json pytorch_model.bin tokenizer.json special_tokens_map.json tokenizer_config.json; do
  ln -s "$DATA/models/dnabert-s-tiny/$f" "$H/hf/hub/models--zhihan1996--DNABERT-S/snapshots/0123abc/$f"
done
printf 0123abc >"$H/hf/hub/models--zhihan1996--DNABERT-S/refs/main"
chmod -R a-w "$H" # read only: nothing is written into the caches
CACHES=(env -u VIRNUCPRO_MODELS -u TORCH_HOME -u XDG_CACHE_HOME -u HF_HUB_CACHE HOME="$H" HF_HOME="$H/hf")

# ---- the shim, installed as a workflow image would (no network: no build isolation, no index) ----
PY=python3
if python3 -m venv --system-site-packages "$T/venv" >"$T/venv.log" 2>&1 &&
  "$T/venv/bin/python" -m pip install --no-build-isolation --no-index "$SRC/python" >>"$T/venv.log" 2>&1; then
  ok
  PY="$T/venv/bin/python"
  check "the shim imports from the virtualenv, not the source tree" \
    bash -c "cd '$T' && '$PY' -c 'import virnucpro, sys; sys.exit(0 if \"venv\" in virnucpro.__file__ else 1)'"
else
  bad "pip install ./python into a virtualenv: $(tail -5 "$T/venv.log")"
fi
check "--version names the binary" bash -c "cd '$T' && VIRNUCPRO_BIN='$BIN' '$PY' -m virnucpro --version | grep -q '$BIN'"
check "no binary: exit 2" bash -c "cd '$T' && env PATH=/nonexistent VIRNUCPRO_BIN= '$PY' -m virnucpro --version; test \$? -eq 2"

# ---- broad's command, as viral-pipelines' classify_virnucpro runs it: FASTA and BAM ----
for c in phage_podoviridae.fasta:phage_podoviridae_300 lassa_reads_subset.bam:lassa_reads_subset.from_bam_300; do
  IFS=: read -r in case <<<"$c"
  stem=${in%.*}
  if "${CACHES[@]}" bash -c 'cd "$0" && PATH="$1:$PATH" "$2" -m virnucpro "${@:3}"' "$T" "$(dirname "$BIN")" "$PY" \
    predict "$DATA/inputs/$in" --model-type 300 --model-path "$MLP" --force --no-progress --output-dir "$T/D" \
    --device cpu --threads 2 2>"$T/err"; then
    ok
    check "$in: results in D/${stem}_merged/" test -s "$T/D/${stem}_merged/prediction_results.txt"
    check "$in: four-column consensus" grep -qx $'Modified_ID\tIs_Virus\tmax_score_0\tmax_score_1' \
      "$T/D/${stem}_merged/prediction_results_highestscore.csv"
    check "$in: broad's expected files" $CMP "$T/D/${stem}_merged" "$DATA/pipeline/$case/broad"
  else
    bad "$in: python -m virnucpro predict failed: $(cat "$T/err")"
  fi
done
# resume, as the workflow's retry does
check "--resume continues the finished run" "${CACHES[@]}" "$BIN" predict "$DATA/inputs/phage_podoviridae.fasta" \
  -m 300 -p "$MLP" --no-progress --output-dir "$T/D" -d cpu -t 2 --resume
check "... same results" $CMP "$T/D/phage_podoviridae_merged" "$DATA/pipeline/phage_podoviridae_300/broad"
# broad's workflows pass --force always and --resume on retries: the same run is continued, not replaced
ino=$(stat -c %i "$T/D/phage_podoviridae_merged/prediction_results.txt")
check "--force --resume continues the same run" "${CACHES[@]}" "$BIN" predict "$DATA/inputs/phage_podoviridae.fasta" \
  -m 300 -p "$MLP" --no-progress --output-dir "$T/D" -d cpu -t 2 --resume --force -q
check "... leaving the finished files in place" test "$ino" = "$(stat -c %i "$T/D/phage_podoviridae_merged/prediction_results.txt")"
check "... same results" $CMP "$T/D/phage_podoviridae_merged" "$DATA/pipeline/phage_podoviridae_300/broad"
# the original layout on request: byte for byte the original's consensus
check "--output-style original" "${CACHES[@]}" "$BIN" predict "$DATA/inputs/phage_podoviridae.fasta" -m 300 -p "$MLP" \
  --output-dir "$T/O" -d cpu -q --output-style original
check "... the original's files" $CMP "$T/O/phage_podoviridae_merged" "$DATA/pipeline/phage_podoviridae_300"
"${CACHES[@]}" "$BIN" predict "$DATA/inputs/phage_podoviridae.fasta" -m 300 -p "$MLP" --output-dir "$T/O" -d cpu -q \
  --resume 2>/dev/null
check "--resume in the other style: refused (exit 2)" test $? -eq 2
check "--force --resume of another run replaces it" "${CACHES[@]}" "$BIN" predict "$DATA/inputs/phage_podoviridae.fasta" \
  -m 300 -p "$MLP" --output-dir "$T/O" -d cpu -q --resume --force
check "... now in broad's layout" $CMP "$T/O/phage_podoviridae_merged" "$DATA/pipeline/phage_podoviridae_300/broad"

# ---- every broad option is accepted (the Python-internals ones with a note under -v) ----
ALL=(-m 300 -p "$MLP" -e 300 -d cpu -b 64 -w 2 -k -f --no-progress --dnabert-batch-size 2048 --esm-batch-size 4096
  -t 2 --verbose --persistent-models --no-persistent-models --v1-fallback --v1-attention --skip-checkpoint-validation
  --force-resume --dataloader-workers 2 --pin-memory --expandable-segments --cache-clear-interval 100 --cuda-streams
  --no-cuda-streams --model-type 300 --model-path "$MLP" --expected-length 300 --device cpu --batch-size 8
  --num-workers 1 --keep-intermediate --force --threads 2 --merge-threads 2 --resume)
if "${CACHES[@]}" "$BIN" predict "$DATA/inputs/mt_human.fa" "${ALL[@]}" --output-dir "$T/all" 2>"$T/err"; then
  ok
  for o in batch-size num-workers persistent-models no-persistent-models v1-fallback v1-attention \
    skip-checkpoint-validation force-resume dataloader-workers pin-memory expandable-segments cache-clear-interval \
    cuda-streams no-cuda-streams; do
    check "--$o: one line under -v" grep -q -- "--$o: tunes virnucpro-broad's Python internals; accepted and ignored" \
      "$T/err"
  done
  check "-k keeps the intermediate files" test -s "$T/all/mt_human_merged/chunked.fa"
else
  bad "every broad option: $(cat "$T/err")"
fi
check "--quiet" "${CACHES[@]}" "$BIN" predict "$DATA/inputs/mt_human.fa" -m 300 -p "$MLP" --output-dir "$T/q" --quiet \
  --parallel -d cpu
check "-m custom -e 300" "${CACHES[@]}" "$BIN" predict "$DATA/inputs/mt_human.fa" -m custom -p "$MLP" -e 300 \
  --output-dir "$T/c" -q -d cpu
check "CUDA_VISIBLE_DEVICES=-1 runs on the CPU" bash -c "CUDA_VISIBLE_DEVICES=-1 ${CACHES[*]@Q} '$BIN' predict \
  '$DATA/inputs/mt_human.fa' -m 300 -p '$MLP' --output-dir '$T/cvd' -q && grep -q '\"device\": \"cpu\"' \
  '$T/cvd/mt_human_merged/run_summary.json'"
expect2() { local what=$1; shift; "${CACHES[@]}" "$BIN" predict "$@" >/dev/null 2>"$T/err"; local rc=$?;
  if [ $rc -eq 2 ]; then ok; else bad "$what: exit $rc, want 2"; fi; }
expect2 "an unknown option" "$DATA/inputs/mt_human.fa" -m 300 -p "$MLP" --output-dir "$T/u" --no-such-option
expect2 "-m custom without --model-path" "$DATA/inputs/mt_human.fa" -m custom --output-dir "$T/u"
expect2 "-m 700" "$DATA/inputs/mt_human.fa" -m 700 -p "$MLP" --output-dir "$T/u"
expect2 "-l 500 with -m 300" "$DATA/inputs/mt_human.fa" -l 500 -m 300 -p "$MLP" --output-dir "$T/u"
expect2 "-o with --output-dir" "$DATA/inputs/mt_human.fa" -m 300 -p "$MLP" --output-dir "$T/u" -o "$T/u2"
expect2 "--output-style fancy" "$DATA/inputs/mt_human.fa" -m 300 -p "$MLP" --output-dir "$T/u" --output-style fancy

# ---- a missing model lists every place looked ----
E="$T/empty"
mkdir -p "$E"
env -u VIRNUCPRO_MODELS -u TORCH_HOME -u XDG_CACHE_HOME -u HF_HUB_CACHE HOME="$E" HF_HOME="$E/hf" "$BIN" predict \
  "$DATA/inputs/mt_human.fa" -m 300 -p "$MLP" --output-dir "$T/m" 2>"$T/err"
check "missing encoders: exit 2" test $? -eq 2
check "... names torch hub's checkpoint" grep -q "looked in $E/.cache/torch/hub/checkpoints/esm2_t36_3B_UR50D.pt" "$T/err"
check "... names the Hugging Face snapshot" grep -q "looked in $E/hf/hub/models--zhihan1996--DNABERT-S/snapshots/" "$T/err"
check "... names the folder beside --model-path" grep -q "looked in $DATA/models/mlp/DNABERT-S" "$T/err"
check "TORCH_HOME is honoured" bash -c "env -u VIRNUCPRO_MODELS HOME='$E' TORCH_HOME='$H/.cache/torch' \
  HF_HOME='$H/hf' '$BIN' predict '$DATA/inputs/mt_human.fa' -m 300 -p '$MLP' --output-dir '$T/th' -q -d cpu"

# ---- pathlib's stem ----
check "stem of a.fasta.gz is a.fasta" bash -c "cp '$DATA/inputs/mt_human.fa' '$T/a.fasta' && gzip '$T/a.fasta' && \
  ${CACHES[*]@Q} '$BIN' predict '$T/a.fasta.gz' -m 300 -p '$MLP' --output-dir '$T/gz' -q -d cpu && \
  test -s '$T/gz/a.fasta_merged/prediction_results.txt'"

chmod -R u+w "$H"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
