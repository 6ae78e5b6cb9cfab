#!/usr/bin/env bash
# CLI tests of `virnucpro preprocess`: byte-identical golden outputs for every fixture case, the same output from
# gzip, bgzip, standard input, SAM, CRAM and FASTQ, and every bad input of issue 2 (exit codes, messages, no
# finished-looking partial outputs). Prints "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
VNP=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_cli_pre.XXXXXX")
trap 'chmod -R u+rwx "$work" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
OUTS="chunked.fa identified_nucleotide.fa identified_protein.faa"

same_as() { # same_as OUTDIR GOLDENDIR
  local f
  for f in $OUTS; do cmp -s "$1/$f" "$2/$f" || { echo "  $1/$f differs from $2/$f" >&2; return 1; }; done
}
no_outputs() { # no file of DIR looks finished and no temporary is left
  local f
  for f in $OUTS; do [ ! -e "$1/$f" ] || { echo "  $1/$f exists" >&2; return 1; }; done
  ! ls "$1" 2>/dev/null | grep -q '\.tmp\.'
}

# ---- golden outputs: every case folder ----
for dir in "$DATA"/preprocess/*/; do
  case_name=$(basename "$dir")
  len=${case_name##*_}
  base=${case_name%_*}
  if [[ $base == *.from_bam ]]; then
    input="$DATA/inputs/${base%.from_bam}.bam"
  else
    input=$(ls "$DATA"/inputs/"$base".* 2>/dev/null | grep -v '\.bam$' | head -n 1)
  fi
  if [ -z "$input" ] || [ ! -f "$input" ]; then bad "$case_name: no input found"; continue; fi
  run "$work/g" "$VNP" preprocess "$input" -l "$len" -o "$work/golden/$case_name"
  check "$case_name: exit 0 (got $rc: $(cat "$work/g.err"))" test "$rc" -eq 0
  check "$case_name: byte-identical" same_as "$work/golden/$case_name" "$dir"
done

# ---- the same FASTA through gzip, bgzip, a misleading name and standard input ----
fa="$DATA/inputs/lassa_G5012.3.fasta"
gold="$DATA/preprocess/lassa_G5012.3_500"
gzip -c "$fa" >"$work/in.fa.gz"
bgzip -c "$fa" >"$work/in.fa.bgz"
cp "$work/in.fa.gz" "$work/in.txt"
for v in in.fa.gz in.fa.bgz in.txt; do
  run "$work/v" "$VNP" preprocess "$work/$v" -l 500 -o "$work/o_$v"
  check "$v: exit 0" test "$rc" -eq 0
  check "$v: same as the plain FASTA" same_as "$work/o_$v" "$gold"
done
"$VNP" preprocess - -l 500 -o "$work/o_stdin" <"$fa" 2>/dev/null
check "stdin FASTA" same_as "$work/o_stdin" "$gold"
"$VNP" preprocess - -l 500 -o "$work/o_stdin_gz" <"$work/in.fa.bgz" 2>/dev/null
check "stdin bgzip FASTA" same_as "$work/o_stdin_gz" "$gold"
# Windows line endings give the same result.
sed 's/$/\r/' "$fa" >"$work/crlf.fa"
"$VNP" preprocess "$work/crlf.fa" -l 500 -o "$work/o_crlf" 2>/dev/null
check "CRLF FASTA" same_as "$work/o_crlf" "$gold"

# ---- reads: BAM, BAM on stdin, SAM, CRAM, FASTQ give the from_bam case ----
bam="$DATA/inputs/lassa_reads_subset.bam"
bgold="$DATA/preprocess/lassa_reads_subset.from_bam_300"
"$VNP" preprocess - -l 300 -o "$work/o_bam_stdin" <"$bam" 2>/dev/null
check "stdin BAM" same_as "$work/o_bam_stdin" "$bgold"
if command -v samtools >/dev/null; then
  samtools view -h -o "$work/r.sam" "$bam"
  samtools view -C -o "$work/r.cram" "$bam"
  samtools fastq -N "$bam" 2>/dev/null | gzip -c >"$work/r.fq.gz"
  for v in r.sam r.cram r.fq.gz; do
    run "$work/v" "$VNP" preprocess "$work/$v" -l 300 -o "$work/o_$v"
    check "$v: exit 0 ($(cat "$work/v.err"))" test "$rc" -eq 0
    check "$v: same as the BAM" same_as "$work/o_$v" "$bgold"
  done
else
  echo "samtools not found: SAM/CRAM/FASTQ variants skipped" >&2
fi

# ---- bad input ----
run "$work/e" "$VNP" preprocess "$work/missing.fa" -l 500 -o "$work/o_missing"
check "missing file: exit 2" test "$rc" -eq 2
check "missing file: named" grep -q "missing.fa" "$work/e.err"

run "$work/e" "$VNP" preprocess "$work" -l 500 -o "$work/o_dir"
check "directory as input: exit 2" test "$rc" -eq 2

cp "$fa" "$work/noread.fa"
chmod 000 "$work/noread.fa"
if ! cat "$work/noread.fa" >/dev/null 2>&1; then
  run "$work/e" "$VNP" preprocess "$work/noread.fa" -l 500 -o "$work/o_noread"
  check "unreadable file: exit 2" test "$rc" -eq 2
  check "unreadable file: named" grep -q "noread.fa" "$work/e.err"
else
  echo "running as root: the unreadable-file case is covered by the directory case only" >&2
fi

printf 'hello world\nthis is not a sequence file\n' >"$work/text.txt"
run "$work/e" "$VNP" preprocess "$work/text.txt" -l 500 -o "$work/o_text"
check "text: exit 2" test "$rc" -eq 2
check "text: says what it saw" grep -q "hello world" "$work/e.err"
check "text: no outputs" no_outputs "$work/o_text"

head -c 3000 /dev/urandom >"$work/random.bin"
printf '\x01\x02\x03' | cat - "$work/random.bin" >"$work/junk.bin"
run "$work/e" "$VNP" preprocess "$work/junk.bin" -l 500 -o "$work/o_junk"
check "binary junk: exit 2" test "$rc" -eq 2
check "binary junk: shows the first bytes" grep -q 'x01' "$work/e.err"

# Truncated gzip and BGZF: enough records that some were processed before the data breaks off.
for i in $(seq 1 40); do sed "s/^>/>c${i}_/" "$DATA/inputs/phage_podoviridae.fasta" "$DATA/inputs/bacteria_no_phages.fna"; done >"$work/many.fa"
gzip -c "$work/many.fa" >"$work/many.fa.gz"
bgzip -c "$work/many.fa" >"$work/many.fa.bgz"
for v in many.fa.gz many.fa.bgz; do
  sz=$(stat -c %s "$work/$v")
  head -c $((sz * 2 / 3)) "$work/$v" >"$work/cut_$v"
  run "$work/e" "$VNP" preprocess "$work/cut_$v" -l 500 -o "$work/o_cut_$v"
  check "truncated $v: exit 1" test "$rc" -eq 1
  check "truncated $v: names the file and the records reached" grep -q "cut_$v.*truncated.*after [0-9]* complete records" "$work/e.err"
  check "truncated $v: no finished-looking outputs" no_outputs "$work/o_cut_$v"
done
# A bgzip file cut exactly before its end-of-file block.
sz=$(stat -c %s "$work/many.fa.bgz")
head -c $((sz - 28)) "$work/many.fa.bgz" >"$work/noeof.fa.bgz"
run "$work/e" "$VNP" preprocess "$work/noeof.fa.bgz" -l 500 -o "$work/o_noeof"
check "BGZF without EOF block: exit 1" test "$rc" -eq 1
check "BGZF without EOF block: no outputs" no_outputs "$work/o_noeof"

# Truncated BAM: many reads so that the records span several BGZF blocks.
if command -v samtools >/dev/null; then
  { samtools view -H "$bam"; for i in $(seq 1 60); do samtools view "$bam" | sed "s/^/b${i}_/"; done; } |
    samtools view -b -o "$work/many.bam" -
  sz=$(stat -c %s "$work/many.bam")
  head -c $((sz / 2)) "$work/many.bam" >"$work/cut.bam"
  run "$work/e" "$VNP" preprocess "$work/cut.bam" -l 500 -o "$work/o_cutbam"
  check "truncated BAM: exit 1" test "$rc" -eq 1
  check "truncated BAM: names the file and the reads reached" grep -q "cut.bam.*truncated.*after [0-9]* reads" "$work/e.err"
  check "truncated BAM: no finished-looking outputs" no_outputs "$work/o_cutbam"
fi
head -c 10000 "$bam" >"$work/cuthdr.bam"
run "$work/e" "$VNP" preprocess "$work/cuthdr.bam" -l 500 -o "$work/o_cuthdr"
check "BAM cut inside its first block: exit 1" test "$rc" -eq 1
check "BAM cut inside its first block: no outputs" no_outputs "$work/o_cuthdr"

# An earlier run's complete outputs are not replaced by a failing run's partial ones.
cp -r "$work/golden/lassa_G5012.3_500" "$work/o_keep"
run "$work/e" "$VNP" preprocess "$work/cut_many.fa.gz" -l 500 -o "$work/o_keep"
check "failing run keeps the old complete outputs" same_as "$work/o_keep" "$gold"

# Empty input: empty outputs, exit 0 (plain, gzip and standard input).
: >"$work/empty.fa"
gzip -c "$work/empty.fa" >"$work/empty.fa.gz"
for v in empty.fa empty.fa.gz; do
  run "$work/e" "$VNP" preprocess "$work/$v" -l 300 -o "$work/o_$v"
  check "empty $v: exit 0" test "$rc" -eq 0
  for f in $OUTS; do check "empty $v: $f empty" test -f "$work/o_$v/$f" -a ! -s "$work/o_$v/$f"; done
done
"$VNP" preprocess - -l 300 -o "$work/o_empty_stdin" </dev/null 2>/dev/null
check "empty stdin: exit 0" test $? -eq 0
check "empty stdin: empty chunked.fa" test -f "$work/o_empty_stdin/chunked.fa" -a ! -s "$work/o_empty_stdin/chunked.fa"

# Duplicate ids: processed as separate records, one warning.
printf '>a x\nATGAAACCCGGG\n>b\nATGAAA\n>a y\nATGAAACCCGGG\n>a\nATG\n' >"$work/dup.fa"
run "$work/e" "$VNP" preprocess "$work/dup.fa" -l 300 -o "$work/o_dup"
check "duplicates: exit 0" test "$rc" -eq 0
check "duplicates: one warning" test "$(grep -c 'repeat an earlier id' "$work/e.err")" -eq 1
check "duplicates: count 2 in the warning" grep -q '^virnucpro: warning: 2 record' "$work/e.err"
check "duplicates: all records chunked" test "$(grep -c '^>a_chunk_1$' "$work/o_dup/chunked.fa")" -eq 3

# Characters outside ACGT: handled as the original (codon dropped), counted in one warning.
printf '>n1\nATGNNNAAA\n>n2\nATGRYKaaa\n>n3\nATGAAA\n' >"$work/nonacgt.fa"
run "$work/e" "$VNP" preprocess "$work/nonacgt.fa" -l 300 -o "$work/o_nonacgt"
check "non-ACGT: exit 0" test "$rc" -eq 0
check "non-ACGT: one warning" test "$(grep -c 'outside ACGT' "$work/e.err")" -eq 1
check "non-ACGT: counted (6 in 2 records)" grep -q '6 character(s) outside ACGT in 2 record' "$work/e.err"
check "non-ACGT: N codon dropped" grep -qx 'MK' <(sed -n '2p' "$work/o_nonacgt/identified_protein.faa")
if command -v python3 >/dev/null && [ -f bench/ref_preprocess.py ]; then
  python3 bench/ref_preprocess.py "$work/nonacgt.fa" 300 "$work/py_nonacgt"
  check "non-ACGT: same as ref_preprocess.py" same_as "$work/o_nonacgt" "$work/py_nonacgt"
fi

# ---- usage ----
run "$work/u" "$VNP" preprocess "$fa" -l 400 -o "$work/o_u"
check "-l 400: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" preprocess "$fa" -l abc -o "$work/o_u"
check "-l abc: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" preprocess "$fa" -o "$work/o_u"
check "no -l: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" preprocess "$fa" -l 500
check "no -o: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" preprocess -l 500 -o "$work/o_u"
check "no INPUT: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" preprocess "$fa" "$fa" -l 500 -o "$work/o_u"
check "two INPUTs: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" preprocess --bogus
check "unknown option: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" preprocess --help
check "--help: exit 0" test "$rc" -eq 0
check "--help: usage on stdout" grep -q "usage: virnucpro preprocess" "$work/u.out"
: >"$work/afile"
run "$work/u" "$VNP" preprocess "$fa" -l 500 -o "$work/afile"
check "output path is a file: exit 2" test "$rc" -eq 2
run "$work/u" "$VNP" preprocess "$fa" -l 500 -o "$work/new/nested/dir"
check "nested output directory created" same_as "$work/new/nested/dir" "$gold"
check "stdout stays empty" test ! -s "$work/u.out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
