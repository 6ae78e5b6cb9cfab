#!/bin/bash
# Builds the release binaries with CUDA (and without MPI: the GPU machines have no Open MPI) in build-gpu/, and puts
# them with the non-system shared libraries they load (ldd, packed as lib.tar.xz) into DIR, for `run` calls on a GPU
# machine whose image lacks htslib, jansson, OpenBLAS and the rest, beside the CUDA unit tests that check_merged.sh
# runs. Pack the binaries (tar -cJf DIR/bin.tar.xz ...) to stay within what a call carries.
#   usage: dev/cuda/make_carry.sh DIR
set -euo pipefail
dir=${1:?usage: make_carry.sh DIR}
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DVNP_MPI=OFF >/dev/null
tests="test_backend_cuda test_cuda_fp8 test_ops test_batch_invariance" # what check_merged.sh and run_fp8.sh run
cmake --build build-gpu -j2 --target virnucpro $tests >/dev/null
mkdir -p "$dir"
for t in virnucpro $tests; do cp "build-gpu/$t" "$dir/"; done
cp bench/gen_dnabert_s_checkpoint.py "$dir/"
L=$(mktemp -d)
(cd build-gpu && ldd virnucpro $tests) | awk '/=> \//{print $3}' | sort -u |
  grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*|libgcc_s|libstdc\+\+|libcuda|libcublas[^/]*)\.so' |
  while read -r f; do cp -L "$f" "$L/"; done
tar -cJf "$dir/lib.tar.xz" -C "$L" .
rm -rf "$L"
ls -la "$dir"
