#!/usr/bin/env bash
# Owns the list of Debian packages virnucpro builds and tests with, and installs them. Idempotent: packages already
# present are skipped.
#   bash scripts/install-deps.sh           install what is missing
#   bash scripts/install-deps.sh --list    print the package list (first alternatives), one a line
#   bash scripts/install-deps.sh --check   ask apt whether the whole list installs together on a machine that has
#                                          none of it (a simulation: installs nothing; CI runs it every time)
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
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
first_alternatives() { local p; for p in "${pkgs[@]}"; do echo "${p%%|*}"; done; }   # "a|b": a is what we install

# --check: the machine we run on may hold the packages already, so apt is told to start from an empty dpkg status
# (Dir::State::status): it then plans the install a bare machine would get, dependencies and conflicts included.
check() {
  if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
    echo "install-deps --check: no apt package lists here; running apt-get update" >&2
    $SUDO apt-get update -qq
  fi
  local empty out rc=0
  empty=$(mktemp); out=$(mktemp)
  # shellcheck disable=SC2064  # expand now: the names are fixed
  trap "rm -f '$empty' '$out'" EXIT
  mapfile -t list < <(first_alternatives)
  apt-get install -s --no-install-recommends -o Dir::State::status="$empty" "${list[@]}" >"$out" 2>&1 || rc=$?
  if ((rc)); then
    echo "install-deps --check: FAILED: apt cannot install scripts/install-deps.sh's packages together on a machine" >&2
    echo "that has none of them (apt-get install -s exit $rc). apt says:" >&2
    grep -E '^(E:| [^ ].* : )' "$out" | sed 's/^/  /' >&2 || sed 's/^/  /' "$out" >&2
    echo "Fix the list in scripts/install-deps.sh (a conflict above names the two packages that cannot coexist)." >&2
    return 1
  fi
  echo "install-deps --check: OK: the ${#list[@]} packages install together from nothing ($(grep -c '^Inst ' "$out") packages with dependencies)"
}

case "${1:-}" in
  --list) first_alternatives; exit 0 ;;
  --check) check; exit ;;
  "") ;;
  *) echo "usage: bash scripts/install-deps.sh [--list | --check]" >&2; exit 2 ;;
esac

missing=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in "${pkgs[@]}"; do
  found=0
  IFS='|' read -ra alts <<<"$p"   # "a|b": any one of the alternatives will do
  for a in "${alts[@]}"; do installed "$a" && found=1 && break; done
  ((found)) || missing+=("${alts[0]}")
done
if ((${#missing[@]})); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all packages present"
