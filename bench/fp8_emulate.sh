#!/usr/bin/env bash
# FP8 emulated on the CPU (bench/fp8_emulate.c): the per-protein cosine of ESM-2 features with E4M3 operands in the
# four layer GEMMs against FP32.
#  1. the fixture model (tests/data/models/esm2-tiny) on the 896 fixture proteins, to set beside the same cosine
#     measured on an H200 (docs/benchmarks.md, FP8): that checks the emulation;
#  2. the random 3B-shape ESM-2 of bench/gen_esm2_checkpoint.py on the first N of the 1,000 proteins that
#     dev/cuda/run_fp8.sh uses on the GPU (same generator, same seed).
# usage: bench/fp8_emulate.sh [WORKDIR] [N] [THREADS]   (WORKDIR default /tmp/fp8emu: 5.7 GB of disk; about 13 GB of
# memory; N default 100, about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/fp8emu}
N=${2:-100}
T=${3:-0}
BUILD=${BUILD:-build}
mkdir -p "$W"
cmake --build "$BUILD" --target fp8_emulate >/dev/null
awk -F'\t' '{ print ">s" NR; print $2 }' tests/data/embeddings/esm2.tsv >"$W/fixture.fa"
"$BUILD/fp8_emulate" tests/data/models/esm2-tiny "$W/fixture.fa" "$T"
[ -f "$W/esm2_3b/model.safetensors" ] || python3 bench/gen_esm2_checkpoint.py --layout safetensors --out "$W/esm2_3b" >/dev/null
python3 - "$W/prot.fa" "$N" <<'PY'
import random, sys
r = random.Random(7)  # dev/cuda/run_fp8.sh's proteins
with open(sys.argv[1], 'w') as f:
    for i in range(1000):
        s = ''.join(r.choice('ACDEFGHIKLMNPQRSTVWY') for _ in range(r.randint(30, 160)))
        if i < int(sys.argv[2]):
            f.write('>p%d\n%s\n' % (i, s))
PY
"$BUILD/fp8_emulate" "$W/esm2_3b" "$W/prot.fa" "$T"
