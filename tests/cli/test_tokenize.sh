#!/usr/bin/env bash
# CLI tests of `virnucpro tokenize`: ids against the Hugging Face reference (dnabert_tokens.tsv), the ESM-2
# examples of the spec, input from a file and from stdin, and the exit codes of bad usage.
set -u
VNP=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
TOKJ=$DATA/models/dnabert-s/tokenizer.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
same() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi; } # same WHAT GOT WANT

# 1. dnabert: the first 40 cases and the last 60 (odd alphabets, spaces) of the tsv, and all of it by folder
grep -v '^#' "$DATA/dnabert_tokens.tsv" | { head -40; tail -60; } > "$tmp/cases.tsv"
cut -f2 "$tmp/cases.tsv" > "$tmp/seqs.txt"
cut -f3 "$tmp/cases.tsv" > "$tmp/expected.txt"
expect_rc 0 "dnabert file" "$tmp/got" "$VNP" tokenize dnabert --tokenizer "$TOKJ" "$tmp/seqs.txt"
check "dnabert ids" diff "$tmp/got.out" "$tmp/expected.txt"
grep -v '^#' "$DATA/dnabert_tokens.tsv" | cut -f2 > "$tmp/all.txt"
grep -v '^#' "$DATA/dnabert_tokens.tsv" | cut -f3 > "$tmp/all_expected.txt"
expect_rc 0 "dnabert folder+stdin" "$tmp/all_got" "$VNP" tokenize dnabert -t "$DATA/models/dnabert-s-tiny" < "$tmp/all.txt"
check "dnabert (all 1198, stdin) ids" cmp "$tmp/all_got.out" "$tmp/all_expected.txt"

# 2. line handling: CRLF, empty line, last line without newline
same "crlf/empty/no-newline" "$(printf 'ACGT\r\n\nN' | "$VNP" tokenize dnabert --tokenizer "$TOKJ" | tr '\n' '|')" "1 5 6 1049 2|1 2|1 0 2|"
same "empty input" "$(printf '' | "$VNP" tokenize dnabert --tokenizer "$TOKJ" | wc -c | tr -d ' ')" 0

# 3. esm2: the spec's examples, unknowns with one warning
same "esm2 MKT" "$(echo MKT | "$VNP" tokenize esm2)" "0 20 15 11 2"
same "esm2 two lines" "$(printf 'MKTAYI\n\n' | "$VNP" tokenize esm2 | tr '\n' '|')" "0 20 15 11 5 19 12 2|0 2|"
out=$(printf 'MKjjA\nmkta\n' | "$VNP" tokenize esm2 2> "$tmp/err.txt")
same "esm2 unknown ids" "$(echo "$out" | tr '\n' '|')" "0 20 15 3 5 2|0 3 2|"
same "esm2 one warning" "$(grep -c 'outside the ESM-2 alphabet' "$tmp/err.txt")" 1
same "esm2 warning counts" "$(grep -c '6 characters.*2 of 2 lines' "$tmp/err.txt")" 1
echo "MKT" > "$tmp/prot.txt"
same "esm2 file" "$("$VNP" tokenize esm2 "$tmp/prot.txt")" "0 20 15 11 2"

# 4. help and exit codes
expect_rc 0 "help" "$tmp/help" "$VNP" tokenize --help
same "help text" "$(grep -c 'usage: virnucpro tokenize' "$tmp/help.out")" 1
expect_rc 2 "missing tokenizer" "$tmp/e" "$VNP" tokenize dnabert --tokenizer "$tmp/missing.json" <<< A
same "missing tokenizer message" "$(grep -c "cannot open '.*missing.json': No such file" "$tmp/e.err")" 1
echo '{"model": {"vocab": {}, "merges": ["A C"]}}' > "$tmp/bad.json"
expect_rc 2 "bad tokenizer" "$tmp/e" "$VNP" tokenize dnabert --tokenizer "$tmp/bad.json" <<< A
same "bad tokenizer message" "$(grep -c 'bad.json: model.merges\[0\]' "$tmp/e.err")" 1
expect_rc 2 "dnabert without --tokenizer" "$tmp/e" "$VNP" tokenize dnabert <<< A
expect_rc 2 "esm2 with --tokenizer" "$tmp/e" "$VNP" tokenize esm2 --tokenizer "$TOKJ" <<< A
expect_rc 2 "no mode" "$tmp/e" "$VNP" tokenize
expect_rc 2 "unknown mode" "$tmp/e" "$VNP" tokenize protbert < /dev/null
expect_rc 2 "unknown option" "$tmp/e" "$VNP" tokenize esm2 --bogus < /dev/null
expect_rc 2 "missing input" "$tmp/e" "$VNP" tokenize esm2 "$tmp/none.txt"
expect_rc 2 "too many args" "$tmp/e" "$VNP" tokenize esm2 a b c
if [ -w /dev/full ]; then
  echo MKT | "$VNP" tokenize esm2 > /dev/full 2>/dev/null; same "write error exit" "$?" 1
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
