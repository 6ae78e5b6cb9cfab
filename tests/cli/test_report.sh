#!/usr/bin/env bash
# viral_regions.tsv and report.html: written by predict and merge, rebuilt by `virnucpro report` (also from either
# number style and for folders made before they existed), regions checked against an independent re-implementation
# (check_regions.py), bad folders refused with the file and line, and report.html bounded in size for many reads.
set -u
BIN=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
HERE=$(dirname "$0")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$DATA/models/mlp/mlp_tiny.pth")
IN=("$DATA"/inputs/*.fa "$DATA"/inputs/*.fna "$DATA"/inputs/*.fasta)

# ---- predict writes both; the regions agree with the independent re-implementation ----
for len in 300 500; do
  d="$T/run$len"
  if ! "$BIN" predict "${IN[@]}" -l $len -o "$d" "${M[@]}" -q 2>"$T/err"; then bad "predict -l $len: $(cat "$T/err")"; continue; fi
  check "predict -l $len: viral_regions.tsv" test -s "$d/viral_regions.tsv"
  check "predict -l $len: report.html" test -s "$d/report.html"
  check "predict -l $len: regions agree with check_regions.py" python3 "$HERE/check_regions.py" "$d" $len
  # other options: no smoothing, single-chunk regions (many more rows)
  "$BIN" report "$d" --region-window 1 --region-min-chunks 1 --region-min-score 0.55 -q
  check "report -l $len with other options agrees" python3 "$HERE/check_regions.py" "$d" $len 0.55 1 1 3
done
check "the fixture run has regions" test "$(wc -l <"$T/run300/viral_regions.tsv")" -gt 1
check "no temporary files left" test -z "$(ls "$T/run300" | grep tmp)"

# ---- virnucpro report rebuilds the same files ----
d="$T/run300"
"$BIN" report "$d" -q # back to the defaults
cp "$d/viral_regions.tsv" "$T/regions.ref"
cp "$d/report.html" "$T/report.ref"
rm "$d/viral_regions.tsv" "$d/report.html" # a folder from before this change
check "report: exit 0" "$BIN" report "$d" -q
check "report: same viral_regions.tsv" cmp "$d/viral_regions.tsv" "$T/regions.ref"
check "report: same report.html" cmp "$d/report.html" "$T/report.ref"
rm "$d/report.html"
check "report --no-html" "$BIN" report "$d" -q --no-html
check "report --no-html: no report.html" test ! -e "$d/report.html"

# ---- both output styles (broad: float64 repr of the float32 scores, the default; original: numpy's float32
# printing) give the same regions ----
check "the default style prints float64 reprs" grep -qE $'\t0\\.[0-9]{12,}' "$d/prediction_results.txt"
"$BIN" predict "${IN[@]}" -l 300 -o "$T/original" "${M[@]}" -q --output-style original
check "original style: numpy float32 printing" test -z "$(grep -E $'\t0\\.[0-9]{12,}' "$T/original/prediction_results.txt")"
check "original style: same viral_regions.tsv" cmp "$T/original/viral_regions.tsv" "$T/regions.ref"
check "original style: report" "$BIN" report "$T/original" -q
check "original style: same viral_regions.tsv from report" cmp "$T/original/viral_regions.tsv" "$T/regions.ref"

# ---- --no-report: the regions but no HTML; merge of shards gives what one run gives ----
# (blocks of 3 records: the batches, hence the last bits of the scores, are those of the shards)
"$BIN" predict "${IN[@]}" -l 300 -o "$T/nohtml" "${M[@]}" -q --no-report --block-records 3
check "predict --no-report: no report.html" test ! -e "$T/nohtml/report.html"
check "predict --no-report: viral_regions.tsv" python3 "$HERE/check_regions.py" "$T/nohtml" 300
for i in 1 2; do "$BIN" predict "${IN[@]}" -l 300 -o "$T/shard$i" "${M[@]}" -q --shard $i/2 --block-records 3; done
check "a shard has no report" test ! -e "$T/shard1/report.html"
check "merge: exit 0" "$BIN" merge -o "$T/merged" "$T/shard1" "$T/shard2" -q
check "merge: same viral_regions.tsv" cmp "$T/merged/viral_regions.tsv" "$T/nohtml/viral_regions.tsv"
check "merge: report.html" grep -q 'id="tracks"' "$T/merged/report.html"
check "merge: the report names the shards" grep -q 'shards merged</th><td class="n">2<' "$T/merged/report.html"
check "report after merge: exit 0" "$BIN" report "$T/merged" -q

# ---- options and bad folders ----
run "$T/u1" "$BIN" report
check "report without OUTDIR: exit 2" test "$rc" -eq 2
run "$T/u2" "$BIN" report "$d" --region-window 4
check "even window: exit 2" test "$rc" -eq 2
check "even window: says odd" grep -q odd "$T/u2.err"
run "$T/u3" "$BIN" report "$d" --region-min-score 1.5
check "score > 1: exit 2" test "$rc" -eq 2
run "$T/u4" "$BIN" predict "$DATA/inputs/mt_human.fa" -l 300 -o "$T/x" "${M[@]}" --region-min-chunks 0
check "predict --region-min-chunks 0: exit 2" test "$rc" -eq 2
check "report --help" "$BIN" report --help
mkdir "$T/empty"
run "$T/e1" "$BIN" report "$T/empty"
check "empty folder: exit 2" test "$rc" -eq 2
check "empty folder: names the file" grep -q "sequence_summary.tsv" "$T/e1.err"
check "empty folder: nothing written" test -z "$(ls "$T/empty")"
c="$T/corrupt"
cp -r "$d" "$c"
sed -i '5s/\t0\.[0-9]*$/\tabc/' "$c/prediction_results.txt"
run "$T/e2" "$BIN" report "$c"
check "bad score: exit 2" test "$rc" -eq 2
check "bad score: names the line" grep -q "prediction_results.txt' line 5" "$T/e2.err"
check "bad score: the old regions are kept" cmp "$c/viral_regions.tsv" "$T/regions.ref"
cp "$d/prediction_results.txt" "$c/"
sed -i '2d' "$c/sequence_summary.tsv"
run "$T/e3" "$BIN" report "$c"
check "files of two runs: exit 2" test "$rc" -eq 2
check "files of two runs: says so" grep -q "of no record" "$T/e3.err"
cp "$d/sequence_summary.tsv" "$c/"
sed -i 's/"chunk_length": 300/"chunk_length": 500/' "$c/run_summary.json"
run "$T/e4" "$BIN" report "$c"
check "wrong chunk length: exit 2" test "$rc" -eq 2
check "wrong chunk length: names the line" grep -q "sequence_summary.tsv' line 2" "$T/e4.err"
cp "$d/run_summary.json" "$c/"
sed -i 's/"complete": true/"complete": false/' "$c/.virnucpro/run.json"
run "$T/e5" "$BIN" report "$c"
check "unfinished run: exit 2" test "$rc" -eq 2
check "unfinished run: says --resume" grep -q -- "--resume" "$T/e5.err"

# ---- many reads: report.html stays bounded (scores from the tiny models, then replicated) ----
python3 - "$DATA/inputs/lassa_G5012.3.fasta" "$T/reads.fa" <<'EOF'
import random, sys
seq = "".join(l.strip() for l in open(sys.argv[1]) if not l.startswith(">"))
rng = random.Random(7)
with open(sys.argv[2], "w") as o:
    for i in range(3000):
        a = rng.randrange(0, len(seq) - 150)
        o.write(f">read{i}/1\n{seq[a:a + 150]}\n")
EOF
if "$BIN" predict "$T/reads.fa" "$DATA/inputs/lassa_G5012.3.fasta" -l 300 -o "$T/many" "${M[@]}" -q 2>"$T/err"; then
  check "3,000 reads: table of 500 rows" test "$(grep -c '^<tr><td class="n">' "$T/many/report.html")" -eq 500
  check "3,000 reads: the total is shown" grep -q "<b>3001</b> sequences" "$T/many/report.html"
  # 400,000 records, 25 long contigs of many regions and a 3 Mb contig: the report stays under 2.5 MB and takes
  # seconds
  python3 - "$T/many" "$T/huge" <<'EOF'
import json, os, sys
src, dst = sys.argv[1:]
os.makedirs(dst)
pred = [l.rstrip("\n").split("\t") for l in open(f"{src}/prediction_results.txt")][1:]
summ = [l.rstrip("\n").split("\t") for l in open(f"{src}/sequence_summary.tsv")]
reads = [r for r in summ[1:] if r[0].startswith("read")]
by = {}
for p in pred:
    by.setdefault(p[0].rsplit("_chunk_", 1)[0], []).append(p)
with open(f"{dst}/prediction_results.txt", "w") as P, open(f"{dst}/sequence_summary.tsv", "w") as S:
    P.write("Sequence_ID\tPrediction\tscore1\tscore2\n")
    S.write("\t".join(summ[0]) + "\n")
    for copy in range(134):
        for r in reads:
            rid = f"{r[0]}_x{copy}"
            S.write("\t".join([rid] + r[1:]) + "\n")
            for p in by.get(r[0], []):
                P.write(f"{rid}_chunk_1{p[0][-2:]}\t{p[1]}\t{p[2]}\t{p[3]}\n")
    # the worst case for the tracks and the table: 25 long contigs with long ids full of HTML characters, each
    # with hundreds of regions (two frames per chunk, viral for 4 chunks, then not for 4)
    for i in range(25):
        cid, n = "&<>" * 60 + f"_contig{i}", 2000
        S.write(f"{cid}\t{n * 300}\t{n}\t{n}\t{2 * n}\t0\t0.95\t0.5\tvirus\tambiguous\n")
        for c in range(n):
            v = 0.95 if (c // 4) % 2 == 0 else 0.05
            P.write(f"{cid}_chunk_{c + 1}F1\tvirus\t{1 - v:.6g}\t{v:.6g}\n{cid}_chunk_{c + 1}R3\tothers\t0.9\t0.1\n")
    g = by["G5012.3"]
    n = 10000  # chunks of a 3 Mb contig, scores cycled from the genome's frames
    S.write(f"contig_big\t{n * 300}\t{n}\t{n}\t{n}\t0\t0.5\t0.5\tvirus\tambiguous\n")
    for c in range(n):
        p = g[c % len(g)]
        P.write(f"contig_big_chunk_{c + 1}{p[0][-2:]}\t{p[1]}\t{p[2]}\t{p[3]}\n")
json.dump({"chunk_length": 300}, open(f"{dst}/run_summary.json", "w"))
EOF
  start=$(date +%s)
  check "400,000 records: report" "$BIN" report "$T/huge" -q
  size=$(stat -c %s "$T/huge/report.html" 2>/dev/null || echo 0)
  check "400,000 records: report.html is $size bytes, under 2.5 MB" test "$size" -gt 10000 -a "$size" -lt 2500000
  check "400,000 records: 500 table rows" test "$(grep -c '^<tr><td class="n">' "$T/huge/report.html")" -eq 500
  check "400,000 records: 20 tracks" test "$(grep -c '<figure class="track">' "$T/huge/report.html")" -eq 20
  check "the 3 Mb contig is drawn per bin" grep -q "drawn per bin" "$T/huge/report.html"
  check "400,000 records in under 60 s" test $(($(date +%s) - start)) -lt 60
else
  bad "predict of 3,000 reads: $(cat "$T/err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
