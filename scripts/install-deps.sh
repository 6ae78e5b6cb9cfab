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
  openmpi-bin libopenmpi-dev     # optional: mpirun -n N virnucpro predict (tests/cli/test_scaleout.sh)
  libyaml-dev                    # predict --config (YAML)
  libcurl4-gnutls-dev            # models download (the flavour libhts-dev depends on; the OpenSSL one conflicts with it)
  samtools tabix                 # test-data tools (bgzip, sam <-> bam)
  python3 python3-h5py           # tests: compare outputs, read embeddings.h5
  python3-venv python3-pip       # tests: install the python/ shim offline into a virtualenv (test_broad.sh)
  chromium                       # tests: report.html in a headless browser (tests/cli/test_report_browser.sh)
)
missing=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in "${pkgs[@]}"; do
  found=0
  IFS='|' read -ra alts <<<"$p"   # "a|b": any one of the alternatives will do
  for a in "${alts[@]}"; do installed "$a" && found=1 && break; done
  ((found)) || missing+=("${alts[0]}")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all packages present"
