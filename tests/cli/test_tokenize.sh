#!/usr/bin/env bash
# CLI tests of `virnucpro tokenize`: ids against the Hugging Face reference (dnabert_tokens.tsv), the ESM-2
# examples of the spec, input from a file and from stdin, and the exit codes of bad usage.
set -u
VNP=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
TOKJ=$DATA/models/dnabert-s/tokenizer.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi; }

# 1. dnabert: the first 40 cases and the last 60 (odd alphabets, spaces) of the tsv, and all of it by folder
grep -v '^#' "$DATA/dnabert_tokens.tsv" | { head -40; tail -60; } > "$tmp/cases.tsv"
cut -f2 "$tmp/cases.tsv" > "$tmp/seqs.txt"
cut -f3 "$tmp/cases.tsv" > "$tmp/expected.txt"
"$VNP" tokenize dnabert --tokenizer "$TOKJ" "$tmp/seqs.txt" > "$tmp/got.txt"
check "dnabert file exit" "$?" 0
if cmp -s "$tmp/got.txt" "$tmp/expected.txt"; then ok; else bad "dnabert ids differ: $(diff "$tmp/got.txt" "$tmp/expected.txt" | head -4)"; fi
grep -v '^#' "$DATA/dnabert_tokens.tsv" | cut -f2 > "$tmp/all.txt"
grep -v '^#' "$DATA/dnabert_tokens.tsv" | cut -f3 > "$tmp/all_expected.txt"
"$VNP" tokenize dnabert -t "$DATA/models/dnabert-s-tiny" < "$tmp/all.txt" > "$tmp/all_got.txt"
check "dnabert folder+stdin exit" "$?" 0
if cmp -s "$tmp/all_got.txt" "$tmp/all_expected.txt"; then ok; else bad "dnabert (all 1198, stdin) ids differ"; fi

# 2. line handling: CRLF, empty line, last line without newline
check "crlf/empty/no-newline" "$(printf 'ACGT\r\n\nN' | "$VNP" tokenize dnabert --tokenizer "$TOKJ" | tr '\n' '|')" "1 5 6 1049 2|1 2|1 0 2|"
check "empty input" "$(printf '' | "$VNP" tokenize dnabert --tokenizer "$TOKJ" | wc -c | tr -d ' ')" 0

# 3. esm2: the spec's examples, unknowns with one warning
check "esm2 MKT" "$(echo MKT | "$VNP" tokenize esm2)" "0 20 15 11 2"
check "esm2 two lines" "$(printf 'MKTAYI\n\n' | "$VNP" tokenize esm2 | tr '\n' '|')" "0 20 15 11 5 19 12 2|0 2|"
out=$(printf 'MKjjA\nmkta\n' | "$VNP" tokenize esm2 2> "$tmp/err.txt")
check "esm2 unknown ids" "$(echo "$out" | tr '\n' '|')" "0 20 15 3 5 2|0 3 2|"
check "esm2 one warning" "$(grep -c 'outside the ESM-2 alphabet' "$tmp/err.txt")" 1
check "esm2 warning counts" "$(grep -c '6 characters.*2 of 2 lines' "$tmp/err.txt")" 1
echo "MKT" > "$tmp/prot.txt"
check "esm2 file" "$("$VNP" tokenize esm2 "$tmp/prot.txt")" "0 20 15 11 2"

# 4. help and exit codes
"$VNP" tokenize --help > "$tmp/help.txt"; check "help exit" "$?" 0
check "help text" "$(grep -c 'usage: virnucpro tokenize' "$tmp/help.txt")" 1
echo A | "$VNP" tokenize dnabert --tokenizer "$tmp/missing.json" > /dev/null 2> "$tmp/err.txt"
check "missing tokenizer exit" "$?" 2
check "missing tokenizer message" "$(grep -c "cannot open '.*missing.json': No such file" "$tmp/err.txt")" 1
echo '{"model": {"vocab": {}, "merges": ["A C"]}}' > "$tmp/bad.json"
echo A | "$VNP" tokenize dnabert --tokenizer "$tmp/bad.json" > /dev/null 2> "$tmp/err.txt"
check "bad tokenizer exit" "$?" 2
check "bad tokenizer message" "$(grep -c 'bad.json: model.merges\[0\]' "$tmp/err.txt")" 1
echo A | "$VNP" tokenize dnabert > /dev/null 2>&1; check "dnabert without --tokenizer" "$?" 2
echo A | "$VNP" tokenize esm2 --tokenizer "$TOKJ" > /dev/null 2>&1; check "esm2 with --tokenizer" "$?" 2
"$VNP" tokenize > /dev/null 2>&1; check "no mode" "$?" 2
"$VNP" tokenize protbert < /dev/null > /dev/null 2>&1; check "unknown mode" "$?" 2
"$VNP" tokenize esm2 --bogus < /dev/null > /dev/null 2>&1; check "unknown option" "$?" 2
"$VNP" tokenize esm2 "$tmp/none.txt" > /dev/null 2>&1; check "missing input" "$?" 2
"$VNP" tokenize esm2 a b c > /dev/null 2>&1; check "too many args" "$?" 2
if [ -w /dev/full ]; then
  echo MKT | "$VNP" tokenize esm2 > /dev/full 2>/dev/null; check "write error exit" "$?" 1
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
