#!/usr/bin/env bash
# CLI tests of `virnucpro config`: the generated template (stdout and -o, atomic, not overwritten without --force)
# reads back through `config check`; the keys match predict's options; bad files exit 2 naming line and column;
# and, once predict takes --config, the command line wins over the file. Prints "N passed, N failed".
set -uo pipefail
VNP=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_cli_cfg.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

# ---- generate ----
run "$work/g" "$VNP" config generate
check "generate: exit 0" test "$rc" -eq 0
check "generate: commented" grep -q '^# virnucpro predict configuration' "$work/g.out"
run "$work/g2" "$VNP" config generate -o "$work/c.yaml"
check "generate -o: exit 0" test "$rc" -eq 0
check "generate -o: same text as stdout" cmp -s "$work/g.out" "$work/c.yaml"
check "generate -o: no temporary left" test -z "$(ls "$work" | grep '\.tmp\.')"
echo "# mine" >"$work/mine.yaml"
run "$work/g3" "$VNP" config generate -o "$work/mine.yaml"
check "generate -o EXISTING: exit 2" test "$rc" -eq 2
check "generate -o EXISTING: kept" grep -qx '# mine' "$work/mine.yaml"
check "generate -o EXISTING: says --force" grep -q -- '--force' "$work/g3.err"
run "$work/g4" "$VNP" config generate -o "$work/mine.yaml" --force
check "generate --force: replaced" cmp -s "$work/g.out" "$work/mine.yaml"
run "$work/g5" "$VNP" config generate -o "$work/no/such/dir/c.yaml"
check "generate into a missing folder: exit 1" test "$rc" -eq 1

# ---- round trip: the template reads back ----
run "$work/k" "$VNP" config check "$work/c.yaml"
check "check template: exit 0 ($(cat "$work/k.err"))" test "$rc" -eq 0
check "check template: the defaults" grep -qx \
  'predict --device=auto --precision=auto --threads=all --tokens-per-batch=auto --output-style=broad --min-confident-score=0.8 --block-records=2000 --region-min-score=0.5 --region-window=3 --region-min-chunks=3 --region-min-seq-chunks=3' "$work/k.out"

# ---- every key is an option of predict, and every option of predict is a key ----
keys=$(grep -E '^[a-z][a-z-]*:' "$work/c.yaml" | cut -d: -f1 | grep -v '^inputs$' | sort)
# (the help's section on virnucpro-broad's command line lists broad's options, which are no config keys)
opts=$("$VNP" predict --help | sed '/^virnucpro-broad/,/^$/d' | grep -oE -- '--[a-z][a-z-]+' | sed 's/^--//' |
  grep -vx -e config -e help | sort -u)
check "template keys = predict's long options (keys: $(echo $keys); options: $(echo $opts))" test "$keys" = "$opts"

# ---- a filled-in file ----
cat >"$work/f.yaml" <<'Y'
output: "out dir"
length: 300
tokens_per_batch: 4096
save-embeddings: yes
quiet: false
inputs:
  - a.fa
  - b.bam
Y
run "$work/f" "$VNP" config check "$work/f.yaml"
check "check filled: exit 0" test "$rc" -eq 0
check "check filled: arguments" grep -qx \
  "predict '--output=out dir' --length=300 --tokens-per-batch=4096 --save-embeddings -- a.fa b.bam" "$work/f.out"

# ---- bad files: exit 2, file:line:column ----
bad_case() { # bad_case NAME YAML EXPECTED-MESSAGE-REGEX
  printf '%s' "$2" >"$work/$1.yaml"
  run "$work/$1" "$VNP" config check "$work/$1.yaml"
  check "$1: exit 2 (got $rc)" test "$rc" -eq 2
  check "$1: message /$3/ (got: $(cat "$work/$1.err"))" grep -Eq "$work/$1.yaml:$3" "$work/$1.err"
  check "$1: nothing on stdout" test ! -s "$work/$1.out"
}
bad_case unknown_key $'length: 300\nthreds: 4\n' "2:1: unknown key 'threds'; valid keys: inputs, output,"
bad_case list_for_scalar $'output:\n  - a\n' "2:3: 'output' expects a value, found a list"
bad_case bad_int $'length: three hundred\n' "1:9: 'length' expects an integer"
bad_case bad_bool $'resume: sometimes\n' "1:9: 'resume' expects true or false"
bad_case not_mapping $'- length: 300\n' "1:1: expected a mapping"
bad_case syntax $'length: 300\n output: x\n' "2:8: not valid YAML"
bad_case repeated $'quiet: true\nquiet: false\n' "2:1: key 'quiet' repeats the one on line 1"
run "$work/m" "$VNP" config check "$work/missing.yaml"
check "missing file: exit 2" test "$rc" -eq 2
check "missing file: named" grep -q "missing.yaml: cannot open" "$work/m.err"
run "$work/u" "$VNP" config
check "config without subcommand: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" config frobnicate
check "unknown subcommand: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" config --help
check "config --help: exit 0" test "$rc" -eq 0
check "config --help: on stdout" grep -q 'config generate' "$work/u.out"

# ---- predict --config (active once predict takes --config) ----
if "$VNP" predict --help | grep -q -- '--config'; then
  in="$DATA/inputs/lassa_G5012.3.fasta"
  printf 'length: 300\noutput: %s\nmodels: %s\ninputs: [%s]\n' "$work/p_out" "$work/cfg_models" "$in" >"$work/p.yaml"
  run "$work/p1" "$VNP" predict --config "$work/p.yaml"
  check "predict --config: exit 2 (no models)" test "$rc" -eq 2
  check "predict --config: the file's models folder is used" grep -q "cfg_models' does not exist" "$work/p1.err"
  run "$work/p2" "$VNP" predict --config "$work/p.yaml" --models "$work/cli_models"
  check "predict --config: the command line's --models wins" grep -q "cli_models' does not exist" "$work/p2.err"
  run "$work/p3" "$VNP" predict --config "$work/unknown_key.yaml"
  check "predict --config BAD: exit 2" test "$rc" -eq 2
  check "predict --config BAD: line and column" grep -q "unknown_key.yaml:2:1" "$work/p3.err"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
