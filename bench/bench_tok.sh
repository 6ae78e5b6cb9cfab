#!/usr/bin/env bash
# Builds bench/bench_tok.c against the release library (make first) and runs it on the DNABERT-S tokenizer.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -f "$BUILD/libvnp.a" ] || make >/dev/null
cc -O2 -std=c11 -Wall -Wextra -Iinclude -Isrc bench/bench_tok.c "$BUILD/libvnp.a" $(pkg-config --libs jansson) -lpthread -lm \
  -o "$BUILD/bench_tok"
"$BUILD/bench_tok" "${1:-tests/data/models/dnabert-s/tokenizer.json}"
