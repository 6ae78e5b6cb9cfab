#!/bin/sh
# Builds the standalone CUDA kernel harness (no project dependencies): dev/cuda/build.sh [output]
# Run from the repository root. Hopper (sm_90) and Ampere (sm_80) code; nvcc 12+.
set -e
out=${1:-build-dev/harness}
mkdir -p "$(dirname "$out")"
exec nvcc -O3 -std=c++17 -lineinfo \
  -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
  -Iinclude -Isrc src/backend/cuda/*.cu dev/cuda/*.cu -lcublasLt -lcublas -o "$out"
