# The counters and checks every tests/cli/*.sh script shares; sourced right after its settings:
#   . "$(dirname "$0")/lib.sh"
# ok / bad "WHAT": count a passed / failed check (bad prints FAIL: WHAT on stderr).
# check "WHAT" CMD...: runs CMD and counts its exit status; when it fails, CMD's output (stdout and stderr, its
#   first 20 lines) follows the FAIL line. CMD runs in a subshell, so it cannot set the script's variables.
# run PREFIX CMD...: runs CMD with stdout into PREFIX.out and stderr into PREFIX.err; its exit status into $rc.
# expect_rc RC "WHAT" PREFIX CMD...: run, then counts whether the exit status is RC; when it is not, the FAIL line
#   gives the status and the start of PREFIX.err.
# summary: prints "N passed, N failed" and returns non-zero when a check failed (a script's last line).
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() {
  local what=$1 out status
  shift
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -eq 0 ]; then ok; return; fi
  bad "$what"
  [ -z "$out" ] || printf '%s\n' "$out" | head -n 20 | sed 's/^/  | /' >&2
}
run() {
  local prefix=$1
  shift
  "$@" >"$prefix.out" 2>"$prefix.err"
  rc=$?
}
expect_rc() {
  local want=$1 what=$2 prefix=$3
  shift 3
  run "$prefix" "$@"
  if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, expected $want ($(head -c 300 "$prefix.err"))"; fi
}
summary() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
