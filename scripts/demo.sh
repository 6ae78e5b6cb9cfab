#!/usr/bin/env bash
# `make demo`: runs `virnucpro predict` on the bundled example (a Lassa virus genome and 200 reads of it) with the
# bundled tiny models, into demo-out/, report.html and viral_regions.tsv included. The tiny models have random weights: their scores are meaningless; see
# "Getting the real models" in the README for the real ones.
set -euo pipefail
bin=${1:-build/virnucpro}
cd "$(dirname "$0")/.."
m=tests/data/models
out=demo-out
rm -rf "$out"
set -x
"$bin" predict tests/data/inputs/lassa_G5012.3.fasta tests/data/inputs/lassa_reads_subset.bam -l 300 -o "$out" \
  --esm $m/esm2-tiny --dnabert $m/dnabert-s-tiny --classifier $m/mlp/mlp_tiny.pth --force
set +x
echo
echo "== $out/prediction_results.txt (first rows)"
head -5 "$out/prediction_results.txt"
echo "== $out/prediction_results_highestscore.csv (first rows)"
head -5 "$out/prediction_results_highestscore.csv"
echo "== $out/sequence_summary.tsv (first rows)"
head -5 "$out/sequence_summary.tsv" | cut -f1-10
echo "== $out/viral_regions.tsv (first rows)"
head -5 "$out/viral_regions.tsv"
echo "== $out/report.html: open it in any browser (it works offline), e.g. xdg-open $out/report.html"
echo
echo "(tiny random-weight models: the scores are meaningless; see the README for the real models)"
