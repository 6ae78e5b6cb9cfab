#!/bin/bash
# Builds the release binaries with CUDA (and without MPI: the GPU machines have no Open MPI) in build-gpu/, and puts
# them with the non-system shared libraries they load (ldd, packed as lib.tar.xz) into DIR, for `run` calls on a GPU
# machine whose image lacks htslib, jansson, OpenBLAS and the rest.   usage: dev/cuda/make_carry.sh DIR
set -euo pipefail
dir=${1:?usage: make_carry.sh DIR}
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DVNP_MPI=OFF >/dev/null
cmake --build build-gpu -j2 --target virnucpro test_backend_cuda >/dev/null
mkdir -p "$dir"
cp build-gpu/virnucpro build-gpu/test_backend_cuda bench/gen_dnabert_s_checkpoint.py "$dir/"
L=$(mktemp -d)
ldd build-gpu/virnucpro build-gpu/test_backend_cuda | awk '/=> \//{print $3}' | sort -u |
  grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*|libgcc_s|libstdc\+\+|libcuda|libcublas[^/]*)\.so' |
  while read -r f; do cp -L "$f" "$L/"; done
tar -cJf "$dir/lib.tar.xz" -C "$L" .
rm -rf "$L"
ls -la "$dir"
