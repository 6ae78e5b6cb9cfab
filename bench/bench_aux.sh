#!/usr/bin/env bash
# Benchmarks of the auxiliary commands (docs/benchmarks.md, "Auxiliary commands"):
#  1. `models download` of a 512 MiB file from a 127.0.0.1 server (tests/cli/http_server.py), against the curl
#     command-line tool on the same URL, and the cost of the SHA-256 check;
#  2. `validate` reading a 200 MB FASTA of 500 bp records, against `preprocess -l 500` of the same file and `cat`.
# Usage: bash bench/bench_aux.sh [build/virnucpro]. Best of 3 wall-clock runs each.
set -euo pipefail
VNP=$(realpath "${1:-build/virnucpro}")
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_bench_aux.XXXXXX")
srv_pid=
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"' EXIT
best() { # best N CMD...: the smallest wall time of N runs, in seconds
  local n=$1 b= t0 t1 t; shift
  for _ in $(seq "$n"); do
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
  done
  printf '%.3f' "$b"
}

# ---- 1. download ----
mkdir -p "$work/srv"
head -c $((512 * 1024 * 1024)) /dev/urandom >"$work/srv/esm2_t36_3B_UR50D.pt"
sha=$(sha256sum "$work/srv/esm2_t36_3B_UR50D.pt" | cut -d' ' -f1)
python3 "$HERE/../tests/cli/http_server.py" --root "$work/srv" --port-file "$work/port" --log /dev/null &
srv_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$work/port")"
dl() { rm -rf "$work/dl"; "$VNP" models download -q --dir "$work/dl" --only esm2 --base-url "$url" "$@"; }
t_vnp=$(best 3 dl)
t_vnp_sha=$(best 3 dl --sha256 "esm2_t36_3B_UR50D.pt=$sha")
t_curl=$(best 3 curl -s -o "$work/curl.out" "$url/esm2_t36_3B_UR50D.pt")
t_sha=$(best 3 sha256sum "$work/srv/esm2_t36_3B_UR50D.pt")
mb=$((512 * 1024 * 1024))
echo "download 512 MiB: virnucpro ${t_vnp} s ($(echo "$mb / $t_vnp / 1048576" | bc) MiB/s); with --sha256 ${t_vnp_sha} s;" \
     "curl CLI ${t_curl} s ($(echo "$mb / $t_curl / 1048576" | bc) MiB/s); sha256sum alone ${t_sha} s"
kill "$srv_pid"; srv_pid=
rm -rf "$work/srv" "$work/dl" "$work/curl.out"

# ---- 2. validate ----
python3 - "$work/in.fa" <<'PY'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    for i in range(400000):
        f.write(f">r{i}\n{''.join(random.choices('ACGT', k=500))}\n")
PY
bytes=$(stat -c %s "$work/in.fa")
t_val=$(best 3 "$VNP" validate "$work/in.fa" -l 500)
t_pre=$(best 3 "$VNP" preprocess "$work/in.fa" -l 500 -o "$work/pre")
t_cat=$(best 3 cat "$work/in.fa")
echo "validate $((bytes / 1000000)) MB FASTA (400k x 500 bp): ${t_val} s ($(echo "$bytes / $t_val / 1000000" | bc) MB/s);" \
     "preprocess -l 500 ${t_pre} s; cat ${t_cat} s"
