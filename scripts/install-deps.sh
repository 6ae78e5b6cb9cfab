#!/usr/bin/env bash
# Installs the Debian packages virnucpro builds and tests with. Idempotent: packages already present are skipped.
set -euo pipefail
pkgs=(
  build-essential cmake clang libclang-rt-14-dev pkg-config
  libhts-dev zlib1g-dev          # sequence input (FASTA/FASTQ/SAM/BAM/CRAM, gzip/BGZF)
  libjansson-dev                 # JSON: tokenizer.json, config.json, safetensors headers
  libopenblas-dev                # CPU GEMM
  libssl-dev                     # SHA-256 of model files (libcrypto)
  libhdf5-dev                    # embeddings.h5
  samtools tabix                 # test-data tools (bgzip, sam <-> bam)
  python3
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all packages present"
