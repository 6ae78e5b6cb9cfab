#!/usr/bin/env bash
# Preprocessing throughput: `virnucpro preprocess` (one thread) against the Python reference port of the original
# (bench/ref_preprocess.py), on inputs generated in the same run:
#   random   10 kbp random records (ACGT, an N run in every tenth record, soft-masked lower case stretches),
#            few stop-free frames: mostly reading, chunking and writing
#   genomes  the real genomes of tests/data/inputs (phages, Lassa, bacteria, human mtDNA) repeated with fresh ids:
#            about 0.4 kept frames per chunk, so translation output matters
# Before timing, C and Python outputs are compared byte for byte on each Python-sized input (k=300 and k=500).
# Usage: bench/bench_preprocess.sh [virnucpro binary] [MB for C] [MB for Python]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/virnucpro}
mb_c=${2:-150}
mb_py=${3:-20}
data=${VNP_TEST_DATA:-$here/../tests/data}
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_bench_pre.XXXXXX")
trap 'rm -rf "$work"' EXIT

gen_random() { # MB OUT
  python3 - "$1" "$2" <<'PY'
import os, random, sys
mb, out = int(sys.argv[1]), sys.argv[2]
random.seed(42)
tr = bytes.maketrans(bytes(range(256)), b"ACGT" * 64)
target, rec, n, i = mb * 1_000_000, 10_000, 0, 0
with open(out, "wb") as f:
    while n < target:
        s = bytearray(os.urandom(rec).translate(tr))
        if i % 10 == 0:
            p = random.randrange(rec - 50); s[p:p + 20] = b"N" * 20
        if i % 7 == 0:
            p = random.randrange(rec - 500); s[p:p + 300] = s[p:p + 300].lower()
        rec_bytes = b">seq%d random record %d\n" % (i, i) + b"\n".join(bytes(s[j:j + 60]) for j in range(0, rec, 60)) + b"\n"
        f.write(rec_bytes)
        n += len(rec_bytes); i += 1
PY
}

gen_genomes() { # MB OUT
  python3 - "$1" "$2" "$data/inputs" <<'PY'
import sys
mb, out, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
names = ["phage_podoviridae.fasta", "phage_autolykiviridae.fna", "lassa_G5012.3.fasta", "bacteria_no_phages.fna", "mt_human.fa"]
blob = "".join(open(f"{d}/{x}").read() for x in names)
with open(out, "w") as o:
    n = i = 0
    while n < mb * 1_000_000:
        o.write(blob.replace(">", f">r{i}_")); n += len(blob); i += 1
PY
}

now() { date +%s.%N; }
best_of_3() { # prints the best wall time of 3 runs of the command
  local best=999999 t0 t1
  for _ in 1 2 3; do
    t0=$(now); "$@"; t1=$(now)
    best=$(python3 -c "print(min($best, $t1 - $t0))")
  done
  echo "$best"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "virnucpro: $("$bin" --version); python: $(python3 --version 2>&1)"
for kind in random genomes; do
  gen_$kind "$mb_c" "$work/$kind.big.fa"
  gen_$kind "$mb_py" "$work/$kind.small.fa"
  for k in 300 500; do
    "$bin" preprocess "$work/$kind.small.fa" -l "$k" -o "$work/c$k" -q
    python3 "$here/ref_preprocess.py" "$work/$kind.small.fa" "$k" "$work/py$k"
    for f in chunked.fa identified_nucleotide.fa identified_protein.faa; do
      cmp -s "$work/c$k/$f" "$work/py$k/$f" || { echo "MISMATCH $kind k=$k $f" >&2; exit 1; }
    done
  done
  sb=$(stat -c %s "$work/$kind.big.fa")
  ss=$(stat -c %s "$work/$kind.small.fa")
  tc=$(best_of_3 "$bin" preprocess "$work/$kind.big.fa" -l 500 -o "$work/cbig" -q)
  tcs=$(best_of_3 "$bin" preprocess "$work/$kind.small.fa" -l 500 -o "$work/csmall" -q)
  t0=$(now); python3 "$here/ref_preprocess.py" "$work/$kind.small.fa" 500 "$work/pysmall"; t1=$(now)
  tpy=$(python3 -c "print($t1 - $t0)")
  frames=$(grep -c '^>' "$work/cbig/identified_protein.faa" || true)
  chunks=$(grep -c '^>' "$work/cbig/chunked.fa" || true)
  python3 - "$kind" "$sb" "$tc" "$ss" "$tcs" "$tpy" "$chunks" "$frames" <<'PY'
import sys
kind, sb, tc, ss, tcs, tpy, ch, fr = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
c, cs, py = sb / tc / 1e6, ss / tcs / 1e6, ss / tpy / 1e6
print(f"[{kind}] outputs identical to ref_preprocess.py on the {ss/1e6:.1f} MB input (k=300, k=500); "
      f"{ch} chunks, {fr} kept frames in the large input")
print(f"[{kind}] virnucpro preprocess -l 500  {sb/1e6:6.1f} MB: {tc:7.3f} s (best of 3) = {c:7.1f} MB/s")
print(f"[{kind}] virnucpro preprocess -l 500  {ss/1e6:6.1f} MB: {tcs:7.3f} s (best of 3) = {cs:7.1f} MB/s")
print(f"[{kind}] ref_preprocess.py 500        {ss/1e6:6.1f} MB: {tpy:7.3f} s              = {py:7.2f} MB/s")
print(f"[{kind}] ratio C/Python: {c/py:.0f}x (large C input), {cs/py:.0f}x (same input)")
PY
  rm -f "$work/$kind.big.fa"
done
