# The counters and checks every tests/cli/*.sh script shares; sourced right after its settings:
#   . "$(dirname "$0")/lib.sh"
# ok / bad "WHAT" count a passed / failed check (bad prints FAIL: WHAT on stderr); check "WHAT" CMD... runs CMD
# quietly and counts its exit status.
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi; }
