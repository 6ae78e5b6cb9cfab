#!/usr/bin/env bash
# One run per OUTDIR and nothing deleted that is not ours, with the tiny fixture models:
#  - a second run of any kind (fresh, --force, --resume, merge, MPI) into a live OUTDIR exits 2 at once, naming the
#    process, and touches nothing; the live run's outputs stay byte-identical to a lone run's;
#  - --force never deletes through a symbolic link at any level (.virnucpro, blocks/, a block entry, a part, a
#    final file) and refuses a .virnucpro that is a link or another user's, with a message;
#  - a flipped byte or a truncation in a committed journal block is computed again by --resume and refused by merge;
#  - a run that fails on bad input before committing anything leaves OUTDIR as it found it;
#  - stale temporary files of a killed run are removed (only ours); SIGINT reports the committed blocks.
# "Live" runs read standard input from a FIFO the test holds open: they wait there, holding the lock, for as long as
# the test needs, without sleeps or timing guesses. Their input holds a long record that keeps no frame (TAAT
# repeated has a stop codon in all six frames, so it costs nothing to score): a reader that has its first part and
# waits for the rest has committed the blocks before it, and no later one.
set -u
BIN=${VIRNUCPRO:-build/virnucpro}
DATA=${VNP_TEST_DATA:-tests/data}
T=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

M=(--esm "$DATA/models/esm2-tiny" --dnabert "$DATA/models/dnabert-s-tiny" --classifier "$DATA/models/mlp/mlp_tiny.pth")
OPTS=(-l 300 --block-records 2 --threads 1)
for i in 1 2; do sed "s/^>\([^ ]*\)/>\1_copy$i/" "$DATA/inputs/broad_test_sequences_small.fa"; done >"$T/small.fa"
# in.fa: the first 6 records, a 400 kb record without frames, the others; HEAD: its bytes up to 300 kb into that one
python3 - "$T/small.fa" "$T/in.fa" <<'PY' >"$T/head_bytes"
import sys
recs = open(sys.argv[1]).read().split('>')[1:]
long = 'TAAT' * 100000
body = '\n'.join(long[i:i + 60] for i in range(0, len(long), 60))
text = ''.join('>' + r for r in recs[:6]) + '>no_frames\n' + body + '\n'
head = len(text.encode()) - 100000
open(sys.argv[2], 'w').write(text + ''.join('>' + r for r in recs[6:]))
print(head)
PY
HEAD=$(cat "$T/head_bytes")
FILES="prediction_results.txt prediction_results_highestscore.csv sequence_summary.tsv"

same_as_ref() {
  local d=$1 f
  for f in $FILES; do cmp -s "$d/$f" "$T/ref/$f" || return 1; done
}
# A listing of everything under DIR with sizes, inodes and times: equal listings = nothing touched.
snap() { find "$1" -printf '%P %y %s %i %T@\n' | sort; }
# The input up to the middle of its long record, and the rest of it.
in_head() { head -c "$HEAD" "$T/in.fa"; }
in_tail() { tail -c +"$((HEAD + 1))" "$T/in.fa"; }
# Waits (polling, up to 60 s) until FILE exists.
wait_for() { local i; for i in $(seq 1 1200); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
# Waits until DIR's lock names process PID.
wait_lock() { local i; for i in $(seq 1 1200); do grep -qs "^$2 " "$1/.virnucpro/lock" && return 0; sleep 0.05; done; return 1; }

"$BIN" predict "$T/in.fa" -o "$T/ref" "${M[@]}" "${OPTS[@]}" -q || bad "the lone run failed"

# start_live DIR [options]: a run reading standard input from a FIFO; sets LIVE (its pid) once it holds the lock.
start_live() {
  local d=$1; shift
  rm -f "$T/fifo"; mkfifo "$T/fifo"
  "$BIN" predict - -o "$d" "${M[@]}" "${OPTS[@]}" -q "$@" <"$T/fifo" 2>"$T/live.err" &
  LIVE=$!
  exec 3>"$T/fifo"
  wait_lock "$d" "$LIVE" || bad "the live run into $d never took its lock"
}
# finish_live: feeds the rest of the input, waits; LIVE_RC gets the exit status.
finish_live() {
  in_tail >&3
  exec 3>&-
  wait "$LIVE"
  LIVE_RC=$?
}

# ---- two runs into one OUTDIR ----
# shards for the merge case
for i in 1 2; do
  "$BIN" predict "$T/in.fa" -o "$T/sh$i" --shard "$i/2" "${M[@]}" "${OPTS[@]}" -q || bad "shard $i/2 failed"
done
start_live "$T/live"
in_head >&3 # blocks 0-2 committed, the reader waits for the rest
wait_for "$T/live/.virnucpro/blocks/00000002.done" || bad "the live run committed no block"
before=$(snap "$T/live")
for kind in fresh force resume merge; do
  case $kind in
    fresh) "$BIN" predict "$T/in.fa" -o "$T/live" "${M[@]}" "${OPTS[@]}" 2>"$T/err" ;;
    force) "$BIN" predict "$T/in.fa" -o "$T/live" "${M[@]}" "${OPTS[@]}" --force 2>"$T/err" ;;
    resume) "$BIN" predict - -o "$T/live" "${M[@]}" "${OPTS[@]}" --resume <"$T/in.fa" 2>"$T/err" ;;
    merge) "$BIN" merge -o "$T/live" "$T/sh1" "$T/sh2" --force 2>"$T/err" ;;
  esac
  rc=$?
  check "live + $kind: the second run exits 2 (got $rc)" test "$rc" -eq 2
  check "live + $kind: ... saying which process holds OUTDIR" grep -q "in use by process $LIVE (started " "$T/err"
  check "live + $kind: ... and touches nothing" test "$before" = "$(snap "$T/live")"
done
if command -v mpirun >/dev/null 2>&1 && ldd "$BIN" 2>/dev/null | grep -q libmpi; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
  export OMPI_MCA_btl_vader_single_copy_mechanism=none
  mpirun -n 2 --oversubscribe "$BIN" predict "$T/in.fa" -o "$T/live" "${M[@]}" "${OPTS[@]}" --force >/dev/null 2>"$T/err"
  check "live + mpirun: refused" test $? -ne 0
  check "live + mpirun: ... by rank 0's lock" grep -q "in use by process $LIVE" "$T/err"
  check "live + mpirun: ... touching nothing" test "$before" = "$(snap "$T/live")"
else
  echo "SKIP: no mpirun or a build without MPI: the MPI lock case did not run"
fi
finish_live
check "the live run finishes (exit $LIVE_RC: $(cat "$T/live.err"))" test "$LIVE_RC" -eq 0
check "the live run's outputs are byte-identical to a lone run's" same_as_ref "$T/live"

# fresh/fresh, started together: one runs, the other is refused (in use, or finds the results), nothing mixed
"$BIN" predict "$T/in.fa" -o "$T/ff" "${M[@]}" "${OPTS[@]}" -q 2>"$T/ff1.err" &
p1=$!
"$BIN" predict "$T/in.fa" -o "$T/ff" "${M[@]}" "${OPTS[@]}" -q 2>"$T/ff2.err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check "fresh/fresh: one exits 0, the other 2 (got $r1, $r2)" test "$((r1 + r2))" -eq 2 -a "$((r1 * r2))" -eq 0
check "fresh/fresh: ... the refused one says why" grep -qE "in use by process [0-9]+ \(started |already holds" \
  "$T/ff1.err" "$T/ff2.err"
check "fresh/fresh: the outputs are a lone run's" same_as_ref "$T/ff"

# the lock dies with its process: kill -9, then --resume at once
start_live "$T/k9"
kill -9 "$LIVE"; exec 3>&-; wait "$LIVE" 2>/dev/null
"$BIN" predict - -o "$T/k9" "${M[@]}" "${OPTS[@]}" -q --resume <"$T/in.fa" 2>"$T/err"
check "after kill -9 the lock is free: --resume runs ($(cat "$T/err"))" test $? -eq 0
check "... byte-identical" same_as_ref "$T/k9"

# ---- --force and symbolic links ----
mkvictim() { rm -rf "$1"; mkdir -p "$1/blocks"; echo keep >"$1/run.json"; echo keep >"$1/blocks/00000000.pred"; echo keep >"$1/blocks/00000000.done"; }
victim_intact() { [ "$(cat "$1/run.json")" = keep ] && [ "$(cat "$1/blocks/00000000.pred")" = keep ] && [ "$(cat "$1/blocks/00000000.done")" = keep ]; }
# .virnucpro is a link
mkdir -p "$T/s1"; mkvictim "$T/v1"; ln -s "$T/v1" "$T/s1/.virnucpro"
for q in "" -q; do
  "$BIN" predict "$T/in.fa" -o "$T/s1" "${M[@]}" "${OPTS[@]}" --force $q 2>"$T/err"
  check "--force $q with .virnucpro a link: exit 2 (got $?)" test $? -eq 2
  check "--force $q ... saying so" grep -q "symbolic link" "$T/err"
  check "--force $q ... deleting nothing behind it" victim_intact "$T/v1"
done
"$BIN" merge -o "$T/s1" "$T/sh1" "$T/sh2" --force 2>"$T/err"
check "merge --force with .virnucpro a link: exit 2, nothing deleted" bash -c "[ $? -eq 2 ] && grep -q 'symbolic link' '$T/err'"
check "merge ... deleting nothing" victim_intact "$T/v1"
# .virnucpro/blocks is a link
cp -r "$T/ref" "$T/s2"; mkvictim "$T/v2"; rm -rf "$T/s2/.virnucpro/blocks"; ln -s "$T/v2/blocks" "$T/s2/.virnucpro/blocks"
"$BIN" predict "$T/in.fa" -o "$T/s2" "${M[@]}" "${OPTS[@]}" --force 2>"$T/err"
check "--force with .virnucpro/blocks a link: exit 2 (got $?)" test $? -eq 2
check "... saying so" grep -q "blocks' is a symbolic link" "$T/err"
check "... deleting nothing behind it" victim_intact "$T/v2"
# a block entry is a link to a folder, a part is a link to a file, a final file is a link to a file
cp -r "$T/ref" "$T/s3"; mkvictim "$T/v3"; mkdir -p "$T/s3/.virnucpro/blocks"
ln -s "$T/v3/blocks" "$T/s3/.virnucpro/blocks/00000007.chunked"
ln -s "$T/v3/blocks/00000000.pred" "$T/s3/.virnucpro/blocks/00000000.pred"
rm "$T/s3/prediction_results.txt"; ln -s "$T/v3/run.json" "$T/s3/prediction_results.txt"
"$BIN" predict "$T/in.fa" -o "$T/s3" "${M[@]}" "${OPTS[@]}" --force -q 2>"$T/err"
check "--force over links to a folder, a part and a final file: exit 0 ($(cat "$T/err"))" test $? -eq 0
check "... nothing behind the links deleted or changed" victim_intact "$T/v3"
check "... the outputs are a lone run's" same_as_ref "$T/s3"
check "... the final file is a file now, not the link" test ! -L "$T/s3/prediction_results.txt"
# a folder under one of our names is not ours: refused with a message
cp -r "$T/ref" "$T/s4"; mkdir -p "$T/s4/.virnucpro/blocks/00000000.pred"; echo keep >"$T/s4/.virnucpro/blocks/00000000.pred/x"
"$BIN" predict "$T/in.fa" -o "$T/s4" "${M[@]}" "${OPTS[@]}" --force -q 2>"$T/err"
rc=$?
check "--force with a folder among the blocks: refused (got $rc)" test "$rc" -ne 0
check "... with a message naming it" grep -q "00000000.pred' is a folder virnucpro did not make" "$T/err"
check "... leaving it" test -e "$T/s4/.virnucpro/blocks/00000000.pred/x"
# another user's .virnucpro (root can make one)
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
  cp -r "$T/ref" "$T/s5"; chown -R nobody "$T/s5/.virnucpro"
  "$BIN" predict "$T/in.fa" -o "$T/s5" "${M[@]}" "${OPTS[@]}" --force 2>"$T/err"
  check "--force with another user's .virnucpro: exit 2" test $? -eq 2
  check "... saying whose it is" grep -q "belongs to user" "$T/err"
  check "... deleting nothing" test -e "$T/s5/prediction_results.txt"
fi

# ---- journal checksums ----
# partial DIR: a run killed (kill -9) after committing blocks 0-2 of the input read from standard input
partial() {
  start_live "$1"
  in_head >&3
  wait_for "$1/.virnucpro/blocks/00000002.done" || bad "$1: block 2 was never committed"
  kill -9 "$LIVE"; exec 3>&-; wait "$LIVE" 2>/dev/null
}
flip() { python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$1"; }
resumed() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['counts']['blocks_resumed'])" "$1/run_summary.json"; }
for damage in flip truncate marker; do
  d="$T/crc_$damage"
  partial "$d"
  case $damage in
    flip) flip "$d/.virnucpro/blocks/00000001.seq" ;;
    truncate) truncate -s -1 "$(ls -S "$d/.virnucpro/blocks/00000001."* | head -1)" ;; # the largest part
    marker) flip "$d/.virnucpro/blocks/00000001.done" ;;
  esac
  "$BIN" predict - -o "$d" "${M[@]}" "${OPTS[@]}" --resume <"$T/in.fa" 2>"$T/err"
  check "resume over a damaged block ($damage): exit 0 ($(cat "$T/err"))" test $? -eq 0
  check "... warning that block 1 is damaged" grep -q "journal block 1 is damaged" "$T/err"
  check "... the outputs are a lone run's" same_as_ref "$d"
  check "... blocks 0 and 2 reused, block 1 computed again (resumed: $(resumed "$d"))" test "$(resumed "$d")" -eq 2
done
# merge refuses a damaged shard block, naming it, and writes no output
for damage in flip truncate; do
  rm -rf "$T/shd"; cp -r "$T/sh2" "$T/shd"
  part=$(ls -S "$T/shd/.virnucpro/blocks/"*.{pred,cons,seq} | head -1) # the largest part
  if [ $damage = flip ]; then flip "$part"; else truncate -s -3 "$part"; fi
  "$BIN" merge -o "$T/mbad_$damage" "$T/sh1" "$T/shd" 2>"$T/err"
  check "merge with a damaged shard block ($damage): exit 2 (got $?)" test $? -eq 2
  check "... naming the file" grep -q "$part" "$T/err"
  check "... no output written" test ! -e "$T/mbad_$damage/prediction_results.txt"
done
"$BIN" merge -o "$T/mgood" "$T/sh1" "$T/sh2" -q
check "merge of sound shards: byte-identical to a lone run" same_as_ref "$T/mgood"

# ---- smaller points ----
# a run that fails on bad input before committing anything leaves OUTDIR as it found it
printf '>x\nACGT\n\001\002garbage\n' >"$T/garbage.fa"
"$BIN" predict "$T/garbage.fa" -o "$T/g_new" "${M[@]}" "${OPTS[@]}" -q 2>"$T/err"
check "garbage input: exit 2" test $? -eq 2
check "... the OUTDIR it created is gone" test ! -e "$T/g_new"
mkdir "$T/g_old"
"$BIN" predict "$T/garbage.fa" -o "$T/g_old" "${M[@]}" "${OPTS[@]}" -q 2>/dev/null
check "... an existing OUTDIR is left empty" test -z "$(ls -A "$T/g_old")"
"$BIN" predict "$T/in.fa" -o "$T/g_old" "${M[@]}" "${OPTS[@]}" -q 2>"$T/err"
check "... and the next run there is not refused ($(cat "$T/err"))" same_as_ref "$T/g_old"
# a run killed before its first block left a journal with nothing committed: the next run is not refused
mkdir -p "$T/g_k/.virnucpro/blocks"; echo '{"identity":{},"complete":false}' >"$T/g_k/.virnucpro/run.json"
"$BIN" predict "$T/in.fa" -o "$T/g_k" "${M[@]}" "${OPTS[@]}" -q 2>"$T/err"
check "a journal that committed nothing does not refuse the next run ($(cat "$T/err"))" same_as_ref "$T/g_k"

# stale temporaries of a killed run are removed on --resume; only ours, and no link is followed
partial "$T/st"
echo stale >"$T/st/prediction_results.txt.tmp.99999"
echo stale >"$T/st/.virnucpro/run.json.tmp.99999"
echo stale >"$T/st/.virnucpro/blocks/00000009.pred.tmp.99999"
echo stale >"$T/st/.virnucpro/blocks/merge0_3"
echo mine >"$T/st/prediction_results.txt.tmp.notours"
echo keep >"$T/victim_file"; ln -s "$T/victim_file" "$T/st/sequence_summary.tsv.tmp.4242"
"$BIN" predict - -o "$T/st" "${M[@]}" "${OPTS[@]}" -q --resume <"$T/in.fa" 2>"$T/err"
check "resume after a kill: exit 0 ($(cat "$T/err"))" test $? -eq 0
check "... byte-identical" same_as_ref "$T/st"
check "... no stale temporary of ours is left" test -z "$(find "$T/st" -name '*.tmp.[0-9]*' -o -name 'merge*')"
check "... a file that only looks like one stays" test -e "$T/st/prediction_results.txt.tmp.notours"
check "... and a link's target is untouched" test "$(cat "$T/victim_file")" = keep

# SIGINT: the message counts the committed blocks
start_live "$T/int"
in_head >&3
wait_for "$T/int/.virnucpro/blocks/00000002.done"
kill -INT "$LIVE"
exec 3>&-
wait "$LIVE"; rc=$?
ndone=$(ls "$T/int/.virnucpro/blocks" | grep -c 'done$')
check "SIGINT: exit 130 (got $rc)" test "$rc" -eq 130
check "SIGINT: the message counts the $ndone committed blocks ($(cat "$T/live.err"))" \
  grep -q "with $ndone blocks committed" "$T/live.err"
"$BIN" predict - -o "$T/int" "${M[@]}" "${OPTS[@]}" -q --resume <"$T/in.fa"
check "... --resume finishes it byte-identical" same_as_ref "$T/int"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
