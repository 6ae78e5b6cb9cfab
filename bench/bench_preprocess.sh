#!/usr/bin/env bash
# Preprocessing throughput: `virnucpro preprocess` (one thread) against the Python reference port of the original
# (bench/ref_preprocess.py) on random FASTA generated in the same run, both lengths checked byte-identical on the
# shared input. Usage: bench/bench_preprocess.sh [virnucpro binary] [MB for C] [MB for Python]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/virnucpro}
mb_c=${2:-150}
mb_py=${3:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_bench_pre.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Random genome-like FASTA: 10 kbp records in 60-column lines, ACGT with a short run of N in every tenth record and
# a few lower-case stretches (soft-masking), so that the non-ACGT and case paths are exercised.
gen() { # gen MB OUT
  python3 - "$1" "$2" <<'PY'
import os, random, sys
mb, out = int(sys.argv[1]), sys.argv[2]
random.seed(42)
tr = bytes.maketrans(bytes(range(256)), b"ACGT" * 64)
target, rec, n = mb * 1_000_000, 10_000, 0
with open(out, "wb") as f:
    i = 0
    while n < target:
        s = bytearray(os.urandom(rec).translate(tr))
        if i % 10 == 0:
            p = random.randrange(rec - 50); s[p:p + 20] = b"N" * 20
        if i % 7 == 0:
            p = random.randrange(rec - 500); s[p:p + 300] = s[p:p + 300].lower()
        f.write(b">seq%d random record %d\n" % (i, i))
        f.write(b"\n".join(bytes(s[j:j + 60]) for j in range(0, rec, 60)) + b"\n")
        n += rec; i += 1
PY
}

secs() { date +%s.%N; }

gen "$mb_c" "$work/big.fa"
gen "$mb_py" "$work/small.fa"
size_big=$(stat -c %s "$work/big.fa")
size_small=$(stat -c %s "$work/small.fa")

# Same-input correctness first: C and Python must agree byte for byte on the small input.
for k in 300 500; do
  "$bin" preprocess "$work/small.fa" -l "$k" -o "$work/c$k" -q
  python3 "$here/ref_preprocess.py" "$work/small.fa" "$k" "$work/py$k"
  for f in chunked.fa identified_nucleotide.fa identified_protein.faa; do
    cmp -s "$work/c$k/$f" "$work/py$k/$f" || { echo "MISMATCH k=$k $f" >&2; exit 1; }
  done
done
echo "outputs identical to ref_preprocess.py on the ${mb_py} MB input (k=300 and k=500)"

best_c=999999; best_cs=999999
for rep in 1 2 3; do
  t0=$(secs); "$bin" preprocess "$work/big.fa" -l 500 -o "$work/cbig" -q; t1=$(secs)
  t=$(python3 -c "print($t1-$t0)"); best_c=$(python3 -c "print(min($best_c,$t))")
  t0=$(secs); "$bin" preprocess "$work/small.fa" -l 500 -o "$work/csmall" -q; t1=$(secs)
  t=$(python3 -c "print($t1-$t0)"); best_cs=$(python3 -c "print(min($best_cs,$t))")
done
t0=$(secs); python3 "$here/ref_preprocess.py" "$work/small.fa" 500 "$work/pysmall"; t1=$(secs)
t_py=$(python3 -c "print($t1-$t0)")

python3 - "$size_big" "$best_c" "$size_small" "$best_cs" "$t_py" <<'PY'
import sys
sb, tc, ss, tcs, tpy = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
c, cs, py = sb / tc / 1e6, ss / tcs / 1e6, ss / tpy / 1e6
print(f"virnucpro preprocess -l 500, {sb/1e6:.1f} MB FASTA: {tc:.3f} s best of 3 = {c:.1f} MB/s (1 thread)")
print(f"virnucpro preprocess -l 500, {ss/1e6:.1f} MB FASTA: {tcs:.3f} s best of 3 = {cs:.1f} MB/s")
print(f"ref_preprocess.py    500,   {ss/1e6:.1f} MB FASTA: {tpy:.3f} s = {py:.2f} MB/s")
print(f"ratio (C large input / Python): {c/py:.0f}x; same input: {cs/py:.0f}x")
PY
