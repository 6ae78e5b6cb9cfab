#!/usr/bin/env bash
# `make demo`: runs the main job on the bundled example (a Lassa virus genome) into demo-out/.
set -euo pipefail
bin=${1:-build/virnucpro}
cd "$(dirname "$0")/.."
in=tests/data/inputs/lassa_G5012.3.fasta
out=demo-out
rm -rf "$out"
echo "+ $bin preprocess $in -l 300 -o $out"
"$bin" preprocess "$in" -l 300 -o "$out"
echo
echo "chunks:          $(grep -c '>' "$out/chunked.fa")"
echo "kept frames:     $(grep -c '>' "$out/identified_protein.faa")"
echo "first kept frame:"
head -2 "$out/identified_protein.faa"
