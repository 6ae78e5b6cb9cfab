#!/usr/bin/env bash
# CLI tests of `virnucpro validate`: fixture inputs (FASTA, gzip, BAM, stdin) and the tiny models are usable; a
# models folder in the released layout is found as predict finds it; bad inputs, missing or mismatched models,
# a missing or broken tokenizer.json and incomplete weights are problems (exit 2, one line each); repeated ids,
# bases outside ACGT and empty inputs are warnings (exit 0). Prints "N passed, N failed".
set -uo pipefail
VNP=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
M="$DATA/models"
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_cli_val.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
unset VIRNUCPRO_MODELS
has() { grep -Eq -- "$2" "$1.out" || { echo "  no /$2/ in:" >&2; sed 's/^/    /' "$1.out" >&2; return 1; }; }
problems() { grep -c '^problem' "$1.out"; }
TINY=(--esm "$M/esm2-tiny" --dnabert "$M/dnabert-s-tiny" --classifier "$M/mlp/mlp_tiny.pth")
fa="$DATA/inputs/lassa_G5012.3.fasta"

# ---- usable: inputs and the tiny trio (DNABERT-S 192 + ESM-2 128 = 320 = the classifier's width) ----
gzip -c "$DATA/inputs/mt_human.fa" >"$work/mt.fa.gz"
run "$work/ok" "$VNP" validate "$fa" "$work/mt.fa.gz" "$DATA/inputs/lassa_reads_subset.bam" "${TINY[@]}" -l 300
check "tiny trio: exit 0" test "$rc" -eq 0
check "FASTA reported" has "$work/ok" "^input	$fa: FASTA, 1 records, 18872 bases \(shortest 18872, longest 18872\), 63 chunks of 300"
check "gzip reported" has "$work/ok" "^input	$work/mt.fa.gz: FASTA, 1 records, 16569 bases"
check "BAM reported" has "$work/ok" "lassa_reads_subset.bam: BAM, 200 records, 20200 bases.*3 bases outside ACGT"
check "non-ACGT is a warning" has "$work/ok" "^warning	input .*lassa_reads_subset.bam: 3 bases outside ACGT in 1 records"
check "ESM-2 named" has "$work/ok" "^esm2	.*esm2-tiny: ESM-2 \(3 layers, dim 128, 2 heads, ffn 512, vocab 33\), safetensors"
check "DNABERT-S named" has "$work/ok" "^dnabert	.*dnabert-s-tiny: DNABERT-S \(2 layers, dim 192, 12 heads"
check "tokenizer loaded" has "$work/ok" "^dnabert	.*dnabert-s-tiny/tokenizer.json: BPE tokenizer, 4096 token ids"
check "classifier named" has "$work/ok" "^classifier	.*mlp_tiny.pth: VirNucPro MLP \(input width 320, hidden 32, 2 classes\)"
check "result OK" has "$work/ok" "^result	OK: 3 inputs and 3 models usable, 1 warning$"
check "no problem line" test "$(problems "$work/ok")" -eq 0

run "$work/stdin" "$VNP" validate - -l 500 <"$fa"
check "stdin: exit 0" test "$rc" -eq 0
check "stdin: read" has "$work/stdin" "^input	-: FASTA, 1 records, 18872 bases.*38 chunks of 500"
check "no models: said so" has "$work/stdin" "^models	not checked"

# ---- warnings only: repeated ids, empty records, an empty input ----
printf '>a\nACGT\n>b\nNNNN\n>a\nACGT\n>e\n\n' >"$work/dup.fa"
: >"$work/empty.fa"
run "$work/w" "$VNP" validate "$work/dup.fa" "$work/empty.fa"
check "warnings: exit 0" test "$rc" -eq 0
check "repeated id" has "$work/w" "^warning	input .*dup.fa: 1 records repeat an earlier id \(first: 'a'\)"
check "empty record" has "$work/w" "^warning	input .*dup.fa: 1 empty records"
check "empty input" has "$work/w" "^warning	input .*empty.fa holds no record"
check "result OK with warnings" has "$work/w" "^result	OK: 2 inputs and 0 models usable, 4 warnings"

# ---- bad inputs: exit 2, a problem line each, the exit code predict would give ----
head -c 3000 "$work/mt.fa.gz" >"$work/trunc.fa.gz"
printf '\x00\x01\x02binary junk\n' >"$work/junk.bin"
printf '@r1\nACGT\n+\nII\n' >"$work/badq.fq"
run "$work/bad" "$VNP" validate "$work/trunc.fa.gz" "$work/junk.bin" "$work/nope.fa" "$work" "$work/badq.fq" "$fa"
check "bad inputs: exit 2" test "$rc" -eq 2
check "truncated gzip" has "$work/bad" "^problem	input .*trunc.fa.gz: .*predict would exit 1"
check "binary junk" has "$work/bad" "^problem	input .*junk.bin: .*predict would exit 2"
check "missing file" has "$work/bad" "^problem	input .*nope.fa: .*predict would exit 2"
check "a folder" has "$work/bad" "^problem	input $work: .*predict would exit 2"
check "FASTQ quality length" has "$work/bad" "^problem	input .*badq.fq: .*predict would exit 2"
check "the good input still reported" has "$work/bad" "^input	$fa: FASTA"
check "five problems" test "$(problems "$work/bad")" -eq 5
check "result NOT USABLE" has "$work/bad" "^result	NOT USABLE: 5 problems$"
check "stderr summary" grep -q 'validate: error: 5 problems' "$work/bad.err"
check "stderr names the files" grep -q 'trunc.fa.gz' "$work/bad.err"

# ---- a models folder in the released layout ----
md="$work/models"
mkdir -p "$md"
cp -r "$M/esm2-tiny" "$md/esm2_t36_3B_UR50D"
cp -r "$M/dnabert-s-tiny" "$md/DNABERT-S"
cp "$M/mlp/mlp_tiny.pth" "$md/300_model.pth"
cp "$M/mlp/mlp_3328.pth" "$md/500_model.pth"
run "$work/d300" "$VNP" validate --models "$md" -l 300
check "folder -l 300: exit 0" test "$rc" -eq 0
check "folder: ESM-2 folder found" has "$work/d300" "^esm2	$md/esm2_t36_3B_UR50D: ESM-2"
check "folder: classifier 300" has "$work/d300" "^classifier	$md/300_model.pth: "
VIRNUCPRO_MODELS="$md" "$VNP" validate -l 300 >"$work/env.out" 2>"$work/env.err"
check "VIRNUCPRO_MODELS: exit 0" test $? -eq 0
run "$work/d500" "$VNP" validate --models "$md" -l 500
check "folder -l 500: exit 2 (3328-wide classifier with the tiny encoders)" test "$rc" -eq 2
check "width mismatch named" has "$work/d500" "^problem	classifier $md/500_model.pth: input width 3328, but DNABERT-S width 192 \+ ESM-2 width 128 = 320"
run "$work/dall" "$VNP" validate --models "$md"
check "folder without -l: both classifiers checked, one problem" test "$rc" -eq 2 -a "$(problems "$work/dall")" -eq 1
check "folder without -l: 300 fine" has "$work/dall" "^classifier	$md/300_model.pth: "
cp "$M/esm2-tiny/esm2_tiny_fair.pt" "$md/esm2_t36_3B_UR50D.pt"
run "$work/dpt" "$VNP" validate --models "$md" -l 300
check "the .pt wins over the folder, as in predict" has "$work/dpt" "^esm2	$md/esm2_t36_3B_UR50D.pt: ESM-2 \(3 layers, dim 128"
check "the .pt: exit 0" test "$rc" -eq 0

# ---- missing models ----
md2="$work/models2"
mkdir -p "$md2"
cp "$M/mlp/mlp_tiny.pth" "$md2/300_model.pth"
run "$work/miss" "$VNP" validate --models "$md2" -l 300
check "missing encoders: exit 2" test "$rc" -eq 2
check "missing ESM-2 named" has "$work/miss" "^problem	ESM-2: not found"
check "missing DNABERT-S named" has "$work/miss" "^problem	DNABERT-S: not found"
check "how to get them (stderr)" grep -q 'models download' "$work/miss.err"
run "$work/miss5" "$VNP" validate --models "$md2" -l 500 --esm "$M/esm2-tiny" --dnabert "$M/dnabert-s-tiny"
check "missing 500 classifier" has "$work/miss5" "^problem	classifier: not found \(--classifier, or 500_model.pth in "
run "$work/nodir" "$VNP" validate --models "$work/no_such_dir"
check "no such folder: exit 2" test "$rc" -eq 2
check "no such folder: named" has "$work/nodir" "^problem	models folder .*no_such_dir does not exist"

# ---- mismatched or broken models ----
run "$work/swap" "$VNP" validate --esm "$M/dnabert-s-tiny" --dnabert "$M/esm2-tiny"
check "swapped: exit 2" test "$rc" -eq 2
check "swapped: ESM-2 flag holds DNABERT-S" has "$work/swap" "^problem	esm2 .*dnabert-s-tiny: holds a DNABERT-S model, not ESM-2"
check "swapped: DNABERT-S flag holds ESM-2" has "$work/swap" "^problem	dnabert .*esm2-tiny: holds an ESM-2 model, not DNABERT-S"
run "$work/len" "$VNP" validate --classifier "$md/300_model.pth" -l 500
check "classifier named for 300 with -l 500: problem" has "$work/len" "named for 300 bp chunks but -l 500"
run "$work/lenf" "$VNP" validate --classifier "$md/300_model.pth" -l 500 --force-length
check "--force-length: exit 0" test "$rc" -eq 0
printf 'not a model' >"$work/junk.pth"
run "$work/junkm" "$VNP" validate --classifier "$work/junk.pth"
check "junk model: exit 2" test "$rc" -eq 2
check "junk model: named" has "$work/junkm" "^problem	classifier .*junk.pth: cannot be read"
mkdir -p "$work/dn_notok"
cp "$M/dnabert-s-tiny/model.safetensors" "$M/dnabert-s-tiny/config.json" "$work/dn_notok/"
run "$work/notok" "$VNP" validate --dnabert "$work/dn_notok"
check "no tokenizer.json: exit 2" test "$rc" -eq 2
check "no tokenizer.json: named" has "$work/notok" "^problem	dnabert .*dn_notok: no tokenizer.json beside it"
mkdir -p "$work/dn_badtok"
cp "$M/dnabert-s-tiny/model.safetensors" "$M/dnabert-s-tiny/config.json" "$work/dn_badtok/"
printf '{"model": {"vocab": {"A": 0,\n  oops}}' >"$work/dn_badtok/tokenizer.json"
run "$work/badtok" "$VNP" validate --dnabert "$work/dn_badtok/model.safetensors"
check "broken tokenizer.json beside a weights file: exit 2" test "$rc" -eq 2
check "broken tokenizer.json: problem" has "$work/badtok" "^problem	dnabert .*dn_badtok/tokenizer.json: the tokenizer cannot be loaded"
check "broken tokenizer.json: line named on stderr" grep -q "dn_badtok/tokenizer.json.*line 2" "$work/badtok.err"
python3 - "$work/mlp_partial.safetensors" <<'PY'
import json, struct, sys
shapes = {"hidden_layer.weight": [32, 320], "hidden_layer.bias": [32], "output_layer.weight": [2, 32]}
hdr, off = {}, 0
for k, s in shapes.items():
    n = 4 * eval("*".join(map(str, s)))
    hdr[k] = {"dtype": "F32", "shape": s, "data_offsets": [off, off + n]}
    off += n
h = json.dumps(hdr).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + bytes(off))
PY
run "$work/part" "$VNP" validate --classifier "$work/mlp_partial.safetensors"
check "incomplete weights: exit 2" test "$rc" -eq 2
check "incomplete weights: a missing tensor named" has "$work/part" "^problem	classifier .*mlp_partial.safetensors: tensor output_layer.bias \[2\] is missing"

# ---- usage ----
run "$work/u1" "$VNP" validate
check "nothing to check: exit 2" test "$rc" -eq 2
run "$work/u2" "$VNP" validate "$fa" -l 400
check "-l 400: exit 2" test "$rc" -eq 2
run "$work/u3" "$VNP" validate "$fa" --bogus
check "unknown option: exit 2" test "$rc" -eq 2
"$VNP" validate --help >"$work/h.out" 2>&1
check "--help: exit 0" test $? -eq 0
check "--help: layout" grep -q 'esm2_t36_3B_UR50D.pt' "$work/h.out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
