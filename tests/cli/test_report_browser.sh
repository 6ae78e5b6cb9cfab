#!/usr/bin/env bash
# report.html in a real browser: headless Chromium loads the report of a fixture run from a file:// path with the
# network cut off (a network namespace where one can be made, a dead proxy in any case, and the page's own
# Content-Security-Policy), the DOM it builds is checked (sections, tracks, table rows, the script ran), a
# screenshot is taken, and the browser must log no console message (a page with a deliberate error shows that the
# check catches one). Without Chromium the test is skipped (exit 77) - except in CI (CI=true), where it fails.
set -u
BIN=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
browser=""
for b in chromium chromium-browser google-chrome; do command -v "$b" >/dev/null && browser=$(command -v "$b") && break; done
if [ -z "$browser" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: chromium is not installed (CI=true); scripts/install-deps.sh installs it" >&2
    exit 1
  fi
  echo "SKIP: chromium is not installed (apt-get install chromium, or bash scripts/install-deps.sh)"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$DATA/models/mlp/mlp_tiny.pth")
d="$T/run"
if ! "$BIN" predict "$DATA"/inputs/*.fa "$DATA"/inputs/*.fna "$DATA"/inputs/*.fasta "$DATA/inputs/lassa_reads_subset.bam" \
  -l 300 -o "$d" "${M[@]}" -q 2>"$T/err"; then
  echo "FAIL: predict: $(cat "$T/err")" >&2
  exit 1
fi
check "report.html names nothing on the network" test -z "$(grep -oE '(https?:)?//[a-z0-9.-]+\.[a-z]{2,}' "$d/report.html")"

# no network: a namespace of our own where possible (root, or user namespaces), and a proxy that goes nowhere
netns=()
if unshare -n true 2>/dev/null; then netns=(unshare -n); elif unshare -rn true 2>/dev/null; then netns=(unshare -rn); fi
flags=(--headless --disable-gpu --no-first-run --no-default-browser-check --disable-extensions --disable-sync
       --disable-background-networking --disable-component-update --disable-default-apps
       --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' --user-data-dir="$T/profile"
       --enable-logging=stderr --v=0 --virtual-time-budget=3000)
[ "$(id -u)" -eq 0 ] && flags+=(--no-sandbox) # Chromium refuses to run as root inside its sandbox
browse() { timeout 120 "${netns[@]}" "$browser" "${flags[@]}" "$@"; }

url="file://$(cd "$d" && pwd)/report.html"
browse --dump-dom "$url" >"$T/dom.html" 2>"$T/dom.err"
check "chromium --dump-dom: exit 0 ($(tail -2 "$T/dom.err"))" test -s "$T/dom.html"
for s in overview scores sequences tracks regions; do check "section #$s" grep -q "<section id=\"$s\"" "$T/dom.html"; done
check "the script ran" grep -q 'data-ready="1"' "$T/dom.html"
want_tracks=$(awk -F'\t' 'NR > 1 && $3 >= 3 && $4 > 0' "$d/sequence_summary.tsv" | wc -l)
[ "$want_tracks" -gt 20 ] && want_tracks=20
got_tracks=$(grep -o '<figure class="track">' "$T/dom.html" | wc -l)
check "$got_tracks tracks, want $want_tracks" test "$got_tracks" -eq "$want_tracks" -a "$want_tracks" -gt 3
records=$(($(wc -l <"$d/sequence_summary.tsv") - 1))
[ "$records" -gt 500 ] && records=500
rows=$(grep -o '<tr><td class="n">' "$T/dom.html" | wc -l)
check "$rows table rows, want $records" test "$rows" -eq "$records"
check "a histogram per score kind" test "$(grep -o '<figure class="hist">' "$T/dom.html" | wc -l)" -eq 2
# console messages of the page (Chromium's own pages, chrome://, log theirs too)
page_console() { grep -E 'CONSOLE|Uncaught' "$1" | grep -F 'source: file://'; }
check "no console message on load: $(page_console "$T/dom.err" | head -3)" test -z "$(page_console "$T/dom.err")"

browse --hide-scrollbars --window-size=1200,1800 --screenshot="$T/shot.png" "$url" >/dev/null 2>"$T/shot.err"
check "screenshot taken" test -s "$T/shot.png"
check "screenshot is a PNG" test "$(head -c 8 "$T/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
check "screenshot is not blank ($(stat -c %s "$T/shot.png" 2>/dev/null) bytes)" test "$(stat -c %s "$T/shot.png" 2>/dev/null || echo 0)" -gt 30000
check "no console message while drawing: $(page_console "$T/shot.err" | head -3)" test -z "$(page_console "$T/shot.err")"
[ -n "${VNP_REPORT_SCREENSHOT:-}" ] && cp "$T/shot.png" "$VNP_REPORT_SCREENSHOT"

# the table's script at work, driven by a probe added to a copy of the page: sorting by length both ways, filtering
cat >"$T/probe.js" <<'JS'
<script>(function(){var t=document.getElementById('seqtable'),h=t.tHead.rows[0].cells,r=t.tBodies[0].rows,ok=r.length>1;
function len(i){return parseFloat(r[i].cells[2].textContent);}
h[2].click();for(var i=1;i<r.length;i++)if(len(i-1)>len(i))ok=false;
h[2].click();for(i=1;i<r.length;i++)if(len(i-1)<len(i))ok=false;
var f=document.getElementById('filter');f.value='G5012';f.dispatchEvent(new Event('input'));
var shown=0;for(i=0;i<r.length;i++)if(r[i].style.display!=='none')shown++;
document.body.setAttribute('data-probe',(ok?'sorted':'unsorted')+' '+shown+' '+document.getElementById('shown').textContent);})();</script>
JS
awk -v probe="$(cat "$T/probe.js")" '{ sub(/<\/body>/, probe "</body>"); print }' "$d/report.html" >"$T/probe.html"
browse --dump-dom "file://$T/probe.html" >"$T/probe.dom" 2>"$T/probe.err"
check "sorting and filtering work ($(grep -o 'data-probe="[^"]*"' "$T/probe.dom"))" grep -q 'data-probe="sorted 1 1"' "$T/probe.dom"
check "no console message while sorting: $(page_console "$T/probe.err" | head -3)" test -z "$(page_console "$T/probe.err")"

# the console check catches a page error and a blocked network request
sed 's|</body>|<script>nosuch();</script><img src="http://example.com/x.png"></body>|' "$d/report.html" >"$T/bad.html"
browse --dump-dom "file://$T/bad.html" >/dev/null 2>"$T/bad.err"
check "a page error is seen" sh -c "grep -F 'source: file://' '$T/bad.err' | grep -q 'Uncaught ReferenceError'"
check "a network request is blocked" sh -c "grep -F 'source: file://' '$T/bad.err' | grep -q 'Content Security Policy'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
