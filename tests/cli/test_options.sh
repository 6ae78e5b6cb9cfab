#!/usr/bin/env bash
# CLI tests of the option tables (src/opt, cli/options.h): every command's --help exits 0 on stdout; the shared
# options have one definition (same help line and default in every command that takes them); a bad value exits 2
# naming the option, the value and what it takes; the README's option tables are the --help of their command
# (scripts/help-options-md.py). Prints "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
VNP=${VIRNUCPRO:-build/virnucpro}
SRC=${VNP_SOURCE_DIR:-.}
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_cli_opt.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

for cmd in predict embed embed-frames bench merge report validate preprocess train tokenize classify devices \
           "models inspect" "models check" "models convert" "models download" "config generate" "config check"; do
  # shellcheck disable=SC2086  # "models download" is two words
  check "$cmd --help: exit 0" $VNP $cmd --help
  # shellcheck disable=SC2086
  $VNP $cmd --help >"$work/h.txt" 2>/dev/null
  check "$cmd --help: usage line first" grep -q "^usage: virnucpro $cmd" "$work/h.txt"
done

# the shared options: the same text (help and default) wherever they appear
for opt in device precision tokens-per-batch threads; do
  : >"$work/$opt.all"
  for cmd in predict embed embed-frames bench; do
    "$VNP" $cmd --help | python3 "$SRC/scripts/help-options-md.py" | grep -E -- "^\| \`(-., )?--$opt " | sed 's/^| `-., /| `/' \
      >>"$work/$opt.all"
  done
  check "--$opt: one definition in predict, embed, embed-frames, bench" test "$(sort -u "$work/$opt.all" | wc -l)" -eq 1
done

# bad values: exit 2, and the message names option, value and range or choices
bad_value() { # bad_value CMD... -- EXPECTED
  local args=() a
  for a in "$@"; do [ "$a" = -- ] && break; args+=("$a"); done
  local want=${*: -1}
  "$VNP" "${args[@]}" >"$work/b.out" 2>"$work/b.err"
  local rc=$?
  check "${args[*]}: exit 2" test "$rc" -eq 2
  check "${args[*]}: message" grep -qF -- "$want" "$work/b.err"
}
for cmd in predict embed embed-frames bench; do
  bad_value $cmd --tokens-per-batch 8 -- "--tokens-per-batch expects an integer in [64, 16777216] or auto, got '8'"
  bad_value $cmd --precision fp4 -- "--precision expects one of auto|fp16|fp32|fp8, got 'fp4'"
  bad_value $cmd --threads 0 -- "--threads expects an integer in [1, 4096] or all, got '0'"
done
bad_value embed --device tpu -- "--device expects auto, cpu, cuda or cuda:N, got 'tpu'"
bad_value predict x.fa -o out -l 400 -- "--length expects 300 or 500, got '400'"
bad_value predict x.fa -o out -l 300 --min-confident-score 0.2 -- "--min-confident-score expects a number in [0.5, 1], got '0.2'"
bad_value predict x.fa -o out -l 300 --output-style new -- "--output-style expects one of broad|original, got 'new'"
bad_value report out --region-window 4 -- "--region-window expects an odd number of chunks, got '4'"
bad_value train --lr 0 -- "--lr expects a number in (0, 10], got '0'"
bad_value embed --bogus -- "unknown option '--bogus'"
bad_value embed --threads -- "option '--threads' needs a value"

# the README's tables are --help
for cmd in predict embed bench; do
  "$VNP" $cmd --help | python3 "$SRC/scripts/help-options-md.py" >"$work/$cmd.md"
  check "README's $cmd option table is its --help (rerun scripts/help-options-md.py)" \
    python3 -c 'import sys; sys.exit(open(sys.argv[1]).read() not in open(sys.argv[2]).read())' "$work/$cmd.md" \
    "$SRC/README.md"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
