#!/bin/sh
# Builds, with no project dependencies, the CUDA kernel harness and the CUDA unit test (tests/unit/
# test_backend_cuda.c linked against the kernels alone): dev/cuda/build.sh [outdir]   (run from the repository root)
# Hopper (sm_90) and Ampere (sm_80) code; nvcc 12 or newer and a C compiler.
set -e
out=${1:-build-dev}
mkdir -p "$out/obj"
flags="-O3 -std=c++17 -lineinfo -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -Iinclude -Isrc"
for f in src/backend/cuda/*.cu; do
  nvcc $flags -c "$f" -o "$out/obj/$(basename "$f" .cu).o" &
done
wait
nvcc $flags dev/cuda/*.cu "$out"/obj/cuda_*.o -lcublasLt -o "$out/harness"
${CC:-cc} -std=c11 -O2 -Wall -Wextra -DVNP_HAVE_CUDA -Iinclude -Itests/unit -c tests/unit/test_backend_cuda.c \
  -o "$out/obj/test_backend_cuda.o"
nvcc "$out/obj/test_backend_cuda.o" "$out"/obj/cuda_*.o -lcublasLt -lm -o "$out/test_backend_cuda"
