#!/usr/bin/env bash
# CLI tests of `virnucpro devices`: text and --json agree with /proc, CUDA is reported as not built in a build
# without the GPU engine, usage errors exit 2. Prints "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
VNP=${VIRNUCPRO:-build/virnucpro}
work=$(mktemp -d "${TMPDIR:-/tmp}/vnp_cli_dev.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

"$VNP" devices >"$work/t.out" 2>"$work/t.err"
check "text: exit 0" test $? -eq 0
check "text: nothing on stderr" test ! -s "$work/t.err"
for want in '^CPU: ' '^  cores: [0-9]+ online, [0-9]+ usable' '^memory:  [0-9.]+ GiB total, [0-9.]+ GiB available' \
            '^BLAS: ' '^CUDA: ' '^usable:  cpu'; do
  check "text has /$want/" grep -Eq "$want" "$work/t.out"
done
check "text: cores online = nproc --all online" grep -q "cores: $(getconf _NPROCESSORS_ONLN) online" "$work/t.out"
if [ -z "$(ls "${VNP_SOURCE_DIR:-.}"/src/backend/cuda/*.cu 2>/dev/null)" ]; then # no GPU engine in the tree
  check "text: CUDA not built" grep -q '^CUDA:    not built' "$work/t.out"
fi

"$VNP" devices --json >"$work/j.out" 2>"$work/j.err"
check "json: exit 0" test $? -eq 0
check "json: one object with the documented fields, agreeing with /proc" python3 - "$work/j.out" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["virnucpro_version"]
cpu, mem = d["cpu"], d["memory"]
assert cpu["cores_online"] == os.sysconf("SC_NPROCESSORS_ONLN"), cpu
assert cpu["cores_usable"] == len(os.sched_getaffinity(0)), cpu
assert isinstance(cpu["model"], str) and cpu["model"] and isinstance(cpu["simd"], list)
total = [int(l.split()[1]) * 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal:")][0]
assert mem["total_bytes"] == total, (mem, total)
assert 0 < mem["available_bytes"] <= total
assert d["blas"] is None or d["blas"]["name"] == "OpenBLAS"
assert isinstance(d["cuda"]["built"], bool) and isinstance(d["cuda"]["devices"], list)
assert d["usable"][0] == "cpu" and len(d["usable"]) == 1 + len(d["cuda"]["devices"])
PY

"$VNP" devices --help >"$work/h.out" 2>&1
check "--help: exit 0" test $? -eq 0
check "--help: mentions --json" grep -q -- '--json' "$work/h.out"
"$VNP" devices --bogus >/dev/null 2>"$work/e.err"
check "unknown option: exit 2" test $? -eq 2
"$VNP" devices extra >/dev/null 2>"$work/e.err"
check "extra argument: exit 2" test $? -eq 2
check "extra argument: named" grep -q "unexpected argument 'extra'" "$work/e.err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
