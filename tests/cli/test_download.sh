#!/usr/bin/env bash
# CLI tests of `virnucpro models download` against local HTTP servers on 127.0.0.1 serving fixture files in the
# download layout: a full download through redirects, files already present, a SHA-256 mismatch, a 404, a transfer
# interrupted and resumed (206), resumed from a server that ignores ranges (python3 -m http.server: restart), a
# connection dropped mid-file (automatic resume), a .part that is already complete or too long (416), a .part
# locked by another download, the default folder, the progress line on a terminal, usage errors.
# Every server is stopped on exit. Prints "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
VNP=$(realpath "${VIRNUCPRO:-build/virnucpro}")
DATA=$(realpath "${VNP_TEST_DATA:-tests/data}")
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_cli_dl.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$(dirname "$0")/lib.sh"

# start_server NAME ROOT [http_server.py options]: sets $url (http://127.0.0.1:PORT) and $log
start_server() {
  local name=$1 root=$2; shift 2
  log="$work/$name.log"
  : >"$log"
  python3 "$HERE/http_server.py" --root "$root" --port-file "$work/$name.port" --log "$log" "$@" &
  pids+=($!)
  local i
  for i in $(seq 100); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  url="http://127.0.0.1:$(cat "$work/$name.port")"
}
stop_last_server() {
  local p=${pids[-1]}
  kill "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  unset 'pids[-1]'
}

# ---- the fixture folder, laid out as the download layout ----
srv="$work/srv"
mkdir -p "$srv/DNABERT-S"
cp "$DATA/models/esm2-tiny/esm2_tiny_fair.pt" "$srv/esm2_t36_3B_UR50D.pt"
for f in config.json tokenizer.json tokenizer_config.json special_tokens_map.json pytorch_model.bin; do
  cp "$DATA/models/dnabert-s-tiny/$f" "$srv/DNABERT-S/$f"
done
cp "$DATA/models/mlp/mlp_tiny.pth" "$srv/300_model.pth"
cp "$DATA/models/mlp/mlp_tiny.pth" "$srv/500_model.pth"
tiny_sha="DNABERT-S/pytorch_model.bin=$(sha256sum "$srv/DNABERT-S/pytorch_model.bin" | cut -d' ' -f1)"
no_part() { [ -z "$(find "$1" -name '*.part' 2>/dev/null)" ]; }

start_server main "$srv"
main_url=$url
main_log=$log

# ---- everything, through a redirect per file ----
run "$work/a" "$VNP" models download --dir "$work/m" --base-url "$main_url/redirect/" --sha256 "$tiny_sha"
check "full: exit 0 ($(tail -n 2 "$work/a.err"))" test "$rc" -eq 0
check "full: files identical to the server's" diff -r "$srv" "$work/m"
check "full: no .part left" no_part "$work/m"
check "full: redirects followed" grep -q 'GET /redirect/300_model.pth' "$main_log"
check "full: summary" grep -q '8 downloaded' "$work/a.err"
check "full: nothing on stdout" test ! -s "$work/a.out"
"$VNP" validate --models "$work/m" -l 300 >"$work/a.val" 2>&1
check "full: the downloaded folder validates ($(tail -n 1 "$work/a.val"))" test $? -eq 0
n_req=$(wc -l <"$main_log")
run "$work/b" "$VNP" models download --dir "$work/m" --base-url "$main_url" --sha256 "$tiny_sha"
check "again: exit 0" test "$rc" -eq 0
check "again: already present" grep -q '0 downloaded.*8 already present' "$work/b.err"
check "again: no request" test "$(wc -l <"$main_log")" -eq "$n_req"

# ---- --only, $VIRNUCPRO_MODELS and ./models ----
VIRNUCPRO_MODELS="$work/envdir" "$VNP" models download --only classifier --base-url "$main_url" 2>"$work/c.err"
check "VIRNUCPRO_MODELS: exit 0" test $? -eq 0
check "VIRNUCPRO_MODELS: only the classifiers" test "$(ls "$work/envdir" | tr '\n' ' ')" = "300_model.pth 500_model.pth "
mkdir -p "$work/cwd"
(cd "$work/cwd" && env -u VIRNUCPRO_MODELS "$VNP" models download --only esm2,classifier --base-url "$main_url" \
   2>"$work/d.err")
check "./models: exit 0" test $? -eq 0
check "./models: files" test -f "$work/cwd/models/esm2_t36_3B_UR50D.pt" -a -f "$work/cwd/models/500_model.pth" \
  -a ! -e "$work/cwd/models/DNABERT-S"

# ---- SHA-256 mismatch (the built-in hash of the real DNABERT-S): exit 1, no final file, no .part ----
run "$work/e" "$VNP" models download --dir "$work/sha" --only dnabert --base-url "$main_url"
check "sha mismatch: exit 1" test "$rc" -eq 1
check "sha mismatch: message" grep -q 'pytorch_model.bin: SHA-256 mismatch: expected f3cfc3d0' "$work/e.err"
check "sha mismatch: no final file" test ! -e "$work/sha/DNABERT-S/pytorch_model.bin"
check "sha mismatch: no .part" no_part "$work/sha"
check "sha mismatch: the other files are there" test -f "$work/sha/DNABERT-S/tokenizer.json"

# ---- 404 and a refused connection: exit 1 naming the URL ----
run "$work/f" "$VNP" models download --dir "$work/nf" --only classifier --base-url "$main_url/missing"
check "404: exit 1" test "$rc" -eq 1
check "404: names the URL and the status" grep -q "error: $main_url/missing/300_model.pth: HTTP 404" "$work/f.err"
check "404: no file" test -z "$(ls -A "$work/nf" 2>/dev/null)"
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run "$work/g" "$VNP" models download --dir "$work/cr" --only classifier --base-url "http://127.0.0.1:$closed_port"
check "refused: exit 1" test "$rc" -eq 1
check "refused: names the URL" grep -q "error: http://127.0.0.1:$closed_port/300_model.pth: " "$work/g.err"

# ---- interrupted, then resumed with a range request ----
big="$work/big"
mkdir -p "$big"
head -c 6000000 /dev/urandom >"$big/esm2_t36_3B_UR50D.pt"
start_server slow "$big" --rate 2000000
timeout -s INT 1.2 "$VNP" models download --dir "$work/r" --only esm2 --base-url "$url" 2>"$work/h.err"
check "interrupted: killed by the timeout" test $? -eq 124
stop_last_server
part="$work/r/esm2_t36_3B_UR50D.pt.part"
psize=$(stat -c %s "$part" 2>/dev/null || echo 0)
check "interrupted: a partial .part ($psize bytes)" test "$psize" -gt 0 -a "$psize" -lt 6000000
check "interrupted: no final file" test ! -e "$work/r/esm2_t36_3B_UR50D.pt"
start_server fast "$big"
run "$work/i" "$VNP" models download --dir "$work/r" --only esm2 --base-url "$url"
check "resume: exit 0" test "$rc" -eq 0
check "resume: identical" cmp -s "$big/esm2_t36_3B_UR50D.pt" "$work/r/esm2_t36_3B_UR50D.pt"
check "resume: asked for the rest" grep -q "range=bytes=$psize-" "$log"
check "resume: said so" grep -q "resuming from $psize bytes" "$work/i.err"
check "resume: no .part" no_part "$work/r"

# ---- a .part already complete, or longer than the file: 416 ----
mkdir -p "$work/full"
cp "$big/esm2_t36_3B_UR50D.pt" "$work/full/esm2_t36_3B_UR50D.pt.part"
run "$work/j" "$VNP" models download --dir "$work/full" --only esm2 --base-url "$url"
check "complete .part: exit 0" test "$rc" -eq 0
check "complete .part: published" cmp -s "$big/esm2_t36_3B_UR50D.pt" "$work/full/esm2_t36_3B_UR50D.pt"
mkdir -p "$work/long"
head -c 7000000 /dev/zero >"$work/long/esm2_t36_3B_UR50D.pt.part"
run "$work/k" "$VNP" models download --dir "$work/long" --only esm2 --base-url "$url"
check "too long .part: exit 0" test "$rc" -eq 0
check "too long .part: downloaded again" cmp -s "$big/esm2_t36_3B_UR50D.pt" "$work/long/esm2_t36_3B_UR50D.pt"
stop_last_server

# ---- a connection dropped mid-file: resumed in the same run ----
start_server drop "$big" --drop-after 1000000
run "$work/l" "$VNP" models download --dir "$work/dr" --only esm2 --base-url "$url"
check "dropped: exit 0 ($(tail -n 1 "$work/l.err"))" test "$rc" -eq 0
check "dropped: identical" cmp -s "$big/esm2_t36_3B_UR50D.pt" "$work/dr/esm2_t36_3B_UR50D.pt"
check "dropped: second request resumed at 1000000" grep -q "range=bytes=1000000-" "$log"
stop_last_server

# ---- resumed from python3 -m http.server, which ignores Range: the download restarts ----
start_server slow2 "$big" --rate 2000000
timeout -s INT 1 "$VNP" models download --dir "$work/nr" --only esm2 --base-url "$url" 2>/dev/null
stop_last_server
check "no-range: a partial .part" test -s "$work/nr/esm2_t36_3B_UR50D.pt.part"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$big" && exec python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
pids+=($!)
for i in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
run "$work/m2" "$VNP" models download --dir "$work/nr" --only esm2 --base-url "http://127.0.0.1:$port"
check "no-range: exit 0 ($(cat "$work/m2.err"))" test "$rc" -eq 0
check "no-range: identical" cmp -s "$big/esm2_t36_3B_UR50D.pt" "$work/nr/esm2_t36_3B_UR50D.pt"
check "no-range: said it restarted" grep -q "ignored the range request" "$work/m2.err"
stop_last_server

# ---- a .part locked by another download ----
mkdir -p "$work/lk"
: >"$work/lk/300_model.pth.part"
flock "$work/lk/300_model.pth.part" "$VNP" models download --dir "$work/lk" --only classifier \
  --base-url "$main_url" 2>"$work/n.err"
check "locked: exit 1" test $? -eq 1
check "locked: message" grep -q "300_model.pth.part is being written by another download" "$work/n.err"
check "locked: the other file still came" test -f "$work/lk/500_model.pth"

# ---- progress line on a terminal ----
if script -qec true /dev/null >/dev/null 2>&1; then
  start_server slow3 "$big" --rate 4000000
  script -qec "'$VNP' models download --dir '$work/tty' --only esm2 --base-url '$url'" "$work/tty.log" >/dev/null
  check "terminal: exit 0" test $? -eq 0
  check "terminal: progress with size, rate and ETA" grep -aEq 'esm2_t36_3B_UR50D.pt  [0-9.]+ [KM]iB / 5.7 MiB \([0-9]+%\)  [0-9.]+ [KM]iB/s  ETA 0:00:0[0-9]' "$work/tty.log"
  stop_last_server
fi

# ---- usage ----
run "$work/u1" "$VNP" models download --only bogus
check "--only bogus: exit 2" test "$rc" -eq 2
run "$work/u2" "$VNP" models download --sha256 300_model.pth=abc
check "--sha256 short: exit 2" test "$rc" -eq 2
run "$work/u3" "$VNP" models download --sha256 "nosuch.bin=$(printf '0%.0s' $(seq 64))"
check "--sha256 unknown path: exit 2" test "$rc" -eq 2
run "$work/u4" "$VNP" models download --base-url ftp-less
check "--base-url without scheme: exit 2" test "$rc" -eq 2
run "$work/u5" "$VNP" models download extra
check "extra argument: exit 2" test "$rc" -eq 2
"$VNP" models download --help >"$work/u6.out" 2>&1
check "--help: exit 0" test $? -eq 0
check "--help: layout" grep -q 'DNABERT-S/' "$work/u6.out"
mkdir -p "$work/ro" && chmod 555 "$work/ro"
if [ ! -w "$work/ro" ]; then # (root writes anywhere)
  run "$work/u7" "$VNP" models download --dir "$work/ro/sub" --only classifier --base-url "$main_url"
  check "unwritable folder: exit 1" test "$rc" -eq 1
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
