#!/usr/bin/env bash
# Every file and folder that docs/architecture.md names in backquotes exists: paths from the repository root
# (src/..., include/..., cli/..., tests/..., dev/..., bench/..., docs/..., python/..., scripts/...), paths relative
# to src/ (`pipeline/flow.c`), and bare file names (`queue.c`: somewhere in the tree). A name with a pattern (`*`)
# must match something; one with a placeholder (`<name>`) is not checked.
set -u
DOC=${VNP_SOURCE_DIR:-.}/docs/architecture.md
cd "$(dirname "$DOC")/.." || exit 1
. tests/cli/lib.sh

names=$(python3 - docs/architecture.md <<'PY'
import re, sys
roots = ("src/", "include/", "cli/", "tests/", "dev/", "bench/", "docs/", "python/", "scripts/")
modules = ("util", "io", "seq", "tok", "weights", "backend", "model", "sched", "pipeline", "report", "config",
           "dist", "train")
seen = []
for tok in re.findall(r"`([^`\s]+)`", open(sys.argv[1]).read()):
    tok = tok.rstrip(",.;:")
    if "<" in tok or tok in seen:
        continue
    if tok.startswith(roots):
        seen.append(tok)
    elif "/" in tok and tok.split("/")[0] in modules and not tok.startswith("/"):
        seen.append("src/" + tok)
    elif "/" not in tok and re.fullmatch(r"[\w*.-]+\.(c|h|cu|cuh|sh|py)", tok):
        seen.append(tok)
print("\n".join(seen))
PY
)
[ -n "$names" ] || bad "no path found in docs/architecture.md"
exists() { # a path, a pattern, or a bare file name found under the source folders
  case $1 in
    */*) compgen -G "$1" >/dev/null ;;
    *) [ -n "$(find src include cli tests dev bench python scripts -name "$1" -print -quit)" ] ;;
  esac
}
while IFS= read -r n; do check "docs/architecture.md names '$n', which does not exist" exists "$n"; done <<<"$names"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
