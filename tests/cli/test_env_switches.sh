#!/usr/bin/env bash
# The environment switches have one reader (src/util/env.c, vnp/env.h): a bad value of every boolean stops the
# program with exit status 2 and a message naming the variable, the value and the spellings; good spellings and
# empty values run; README's "Environment variables" table lists exactly the variables of env.c's table; no other
# source file reads the environment (src/dist/mpi.c reads the MPI launcher's variables, see vnp/env.h); the
# product binary carries no test hook (VIRNUCPRO_TEST_RANK_DIES lives in the test build virnucpro_faults).
set -u
BIN=${VIRNUCPRO:-build/virnucpro}
SRC=${VNP_SOURCE_DIR:-.}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

# the table's rows: ROW("NAME", VNP_ENV_TYPE, ...
grep -o 'ROW("[A-Z_0-9]*", VNP_ENV_[A-Z]*' "$SRC/src/util/env.c" | sed 's/ROW("\([^"]*\)", VNP_ENV_\(.*\)/\1 \2/' \
  >"$T/table"
check "env.c's table has rows" test "$(wc -l <"$T/table")" -ge 12
cut -d' ' -f1 "$T/table" | sort >"$T/table_names"
grep ' BOOL$' "$T/table" | cut -d' ' -f1 >"$T/bools"
check "env.c's table has booleans" test -s "$T/bools"

# README: the rows of the table under "## Environment variables" (up to the next heading)
awk '/^## Environment variables/{on=1; next} on && /^#/{exit} on' "$SRC/README.md" |
  grep -o '^| `[A-Z_0-9]*`' | sed 's/^| `\(.*\)`/\1/' | sort >"$T/readme_names"
check "README has an Environment variables table" test -s "$T/readme_names"
for v in $(comm -23 "$T/table_names" "$T/readme_names"); do bad "$v is in env.c's table but not in README"; done
for v in $(comm -13 "$T/table_names" "$T/readme_names"); do bad "$v is in README but not in env.c's table"; done
[ "$(comm -3 "$T/table_names" "$T/readme_names" | wc -l)" -eq 0 ] && ok

# a bad value of each boolean: exit 2 naming the variable and the value, before any work (--version included)
for v in $(cat "$T/bools"); do
  env "$v=maybe" "$BIN" --version >"$T/out" 2>"$T/err"
  rc=$?
  check "$v=maybe: exit 2 (got $rc)" test "$rc" -eq 2
  check "$v=maybe: the message names it" grep -q "$v='maybe'" "$T/err"
  check "$v=maybe: the message gives the spellings" grep -q "1, true, yes, on or 0, false, no, off" "$T/err"
  check "$v=maybe: nothing on stdout" test ! -s "$T/out"
  for good in 1 0 TRUE off Yes no ""; do
    check "$v='$good' runs" env "$v=$good" "$BIN" --version
  done
done
env VIRNUCPRO_DISABLE_PACKING=2 "$BIN" tokenize esm2 </dev/null >/dev/null 2>"$T/err"
check "a bad value stops a command too (exit 2)" test $? -eq 2

# one reader: getenv appears only in env.c (and mpi.c, the launcher's variables)
grep -rln 'getenv' "$SRC/src" "$SRC/cli" | sed "s|^$SRC/||" | sort >"$T/readers"
printf '%s\n' src/dist/mpi.c src/util/env.c >"$T/allowed"
for f in $(comm -23 "$T/readers" "$T/allowed"); do bad "$f reads the environment (use vnp_env_get, vnp/env.h)"; done
[ "$(comm -23 "$T/readers" "$T/allowed" | wc -l)" -eq 0 ] && ok
check "env.c reads the environment" grep -q getenv "$SRC/src/util/env.c"

# the test hook is only in the test build
if grep -q VIRNUCPRO_TEST_RANK_DIES "$BIN"; then bad "the product binary carries VIRNUCPRO_TEST_RANK_DIES"; else ok; fi
FAULTS=${VIRNUCPRO_FAULTS:-$(dirname "$BIN")/virnucpro_faults}
if [ -x "$FAULTS" ]; then
  check "virnucpro_faults carries the test hook" grep -q VIRNUCPRO_TEST_RANK_DIES "$FAULTS"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
