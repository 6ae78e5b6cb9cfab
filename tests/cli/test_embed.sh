#!/usr/bin/env bash
# CLI tests for `virnucpro embed | classify | bench`: embed with every weight layout matches the fixture rows
# (within 1e-4, compared with python3's struct), TSV output, classify on the MLP fixture (within 1e-5), exit
# codes for bad inputs.
set -u
VNP=${VIRNUCPRO:?VIRNUCPRO must name the binary}
DATA=${VNP_TEST_DATA:-tests/data}
M=$DATA/models
T=$(mktemp -d /tmp/vnp_test_embed.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
# f32 files a and b hold the same number of floats, all within tol
f32_close() { # a b tol [first-n-floats-of-b]
    python3 - "$@" <<'PY'
import struct, sys
a, b, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
x, y = open(a, 'rb').read(), open(b, 'rb').read()
if len(sys.argv) > 4: y = y[:4 * int(sys.argv[4])]
if len(x) != len(y): sys.exit(f"{a}: {len(x)} bytes, expected {len(y)}")
n = len(x) // 4
d = max((abs(p - q) for p, q in zip(struct.unpack(f'<{n}f', x), struct.unpack(f'<{n}f', y))), default=0)
print(f"max abs diff {d:.3g}", file=sys.stderr)
sys.exit(0 if d <= tol else f"{a}: max abs diff {d} > {tol}")
PY
}
# FASTA of the fixture sequences (ids made unique by their line number), first $3 rows
tsv_to_fasta() { awk -F'\t' -v n="$3" 'NR <= n { print ">s" NR " " $1; print $2 }' "$1" >"$2"; }

N=120 # rows of each fixture used here (the unit test covers them all)
tsv_to_fasta "$DATA/embeddings/esm2.tsv" "$T/esm.fa" $N
tsv_to_fasta "$DATA/embeddings/dnabert.tsv" "$T/dna.fa" $N
printf '>edge_long\n%s\n' "$(tail -1 "$DATA/embeddings/esm2.tsv" | cut -f2)" >"$T/esm_long.fa"

# --help and usage errors
for cmd in embed classify bench; do
    expect_rc 0 "$cmd --help" "$T/r" "$VNP" $cmd --help
    grep -q "usage: virnucpro $cmd" "$T/r.out" && ok || bad "$cmd help text on stdout"
done
expect_rc 2 "embed without args" "$T/r" "$VNP" embed
expect_rc 2 "embed without -o" "$T/r" "$VNP" embed "$M/esm2-tiny" "$T/esm.fa"
expect_rc 2 "embed bad format" "$T/r" "$VNP" embed "$M/esm2-tiny" "$T/esm.fa" -o "$T/x" --format csv
expect_rc 2 "embed bad threads" "$T/r" "$VNP" embed "$M/esm2-tiny" "$T/esm.fa" -o "$T/x" --threads 0
expect_rc 2 "embed bad budget" "$T/r" "$VNP" embed "$M/esm2-tiny" "$T/esm.fa" -o "$T/x" --tokens-per-batch x
expect_rc 2 "embed missing model" "$T/r" "$VNP" embed "$T/nope" "$T/esm.fa" -o "$T/x"
expect_rc 2 "embed missing input" "$T/r" "$VNP" embed "$M/esm2-tiny" "$T/nope.fa" -o "$T/x"
expect_rc 2 "embed with the MLP as model" "$T/r" "$VNP" embed "$M/mlp/mlp_tiny.pth" "$T/esm.fa" -o "$T/x"
[ ! -e "$T/x" ] && ok || bad "no output left behind after a failure"
printf 'not a fasta\n' >"$T/bad.fa"
expect_rc 2 "embed on a non-FASTA input" "$T/r" "$VNP" embed "$M/esm2-tiny" "$T/bad.fa" -o "$T/x"

# every layout gives the fixture rows
for layout in model.safetensors pytorch_model.bin esm2_tiny_fair.pt; do
    expect_rc 0 "embed esm2 $layout" "$T/r" "$VNP" embed --device cpu "$M/esm2-tiny/$layout" "$T/esm.fa" -o "$T/esm_$layout.f32" --threads 2
    f32_close "$T/esm_$layout.f32" "$DATA/embeddings/esm2.f32" 1e-4 $((N * 128)) && ok || bad "esm2 $layout rows"
done
for layout in model.safetensors pytorch_model.bin; do
    expect_rc 0 "embed dnabert $layout" "$T/r" "$VNP" embed --device cpu "$M/dnabert-s-tiny/$layout" "$T/dna.fa" -o "$T/dna_$layout.f32"
    f32_close "$T/dna_$layout.f32" "$DATA/embeddings/dnabert.f32" 1e-4 $((N * 192)) && ok || bad "dnabert $layout rows"
done
# a folder works too, and a small token budget gives the same rows
expect_rc 0 "embed esm2 folder, budget 64" "$T/r" "$VNP" embed --device cpu "$M/esm2-tiny" "$T/esm.fa" -o "$T/esm_dir.f32" --tokens-per-batch 64
f32_close "$T/esm_dir.f32" "$T/esm_model.safetensors.f32" 1e-5 && ok || bad "budget 64 rows differ"
# the 1,100 aa protein (longer than the budget: runs alone; only 1,024 residues averaged)
expect_rc 0 "embed long protein" "$T/r" "$VNP" embed --device cpu "$M/esm2-tiny" "$T/esm_long.fa" -o "$T/long.f32" --tokens-per-batch 256
python3 - "$T/long.f32" "$DATA/embeddings/esm2.f32" <<'PY' && ok || bad "long protein row"
import struct, sys
x = open(sys.argv[1], 'rb').read(); y = open(sys.argv[2], 'rb').read()[-128 * 4:]
d = max(abs(p - q) for p, q in zip(struct.unpack('<128f', x), struct.unpack('<128f', y)))
sys.exit(0 if len(x) == 512 and d <= 1e-4 else f"long protein: {len(x)} bytes, diff {d}")
PY

# TSV: id then D values, same numbers as f32
expect_rc 0 "embed tsv" "$T/r" "$VNP" embed --device cpu "$M/esm2-tiny" "$T/esm.fa" -o "$T/esm.tsv" --format tsv
python3 - "$T/esm.tsv" "$T/esm_model.safetensors.f32" <<'PY' && ok || bad "tsv content"
import struct, sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1])]
f = open(sys.argv[2], 'rb').read()
vals = struct.unpack(f'<{len(f)//4}f', f)
assert len(rows) == len(vals) // 128, (len(rows), len(vals))
for i, r in enumerate(rows):
    assert r[0] == f"s{i+1}" and len(r) == 129, r[:2]
    assert max(abs(float(a) - b) for a, b in zip(r[1:], vals[128*i:128*i+128])) < 1e-6
PY

# characters a model cannot take: warned about, never dropped silently
printf '>lower\nmktayiak\n>empty\n\n>ok\nMKTAYIAK\n' >"$T/odd.fa"
expect_rc 0 "embed odd proteins" "$T/r" "$VNP" embed --device cpu "$M/esm2-tiny" "$T/odd.fa" -o "$T/odd.f32"
grep -q "not in the ESM-2 alphabet" "$T/r.err" && ok || bad "warning about unknown protein characters"
grep -q "empty protein" "$T/r.err" && ok || bad "warning about an empty protein"
[ "$(stat -c %s "$T/odd.f32")" -eq $((3 * 128 * 4)) ] && ok || bad "one row per record, empty included"
printf '>n\nACGTNNNNACGT\n' >"$T/n.fa"
expect_rc 0 "embed DNA with N" "$T/r" "$VNP" embed --device cpu "$M/dnabert-s-tiny" "$T/n.fa" -o "$T/n.f32"
grep -q "4 character(s) in 1 sequence(s) are not A/C/G/T" "$T/r.err" && ok || bad "warning about N"
# DNABERT-S without its tokenizer
cp "$M/dnabert-s-tiny/model.safetensors" "$T/alone.safetensors"
expect_rc 2 "dnabert without tokenizer.json" "$T/r" "$VNP" embed "$T/alone.safetensors" "$T/dna.fa" -o "$T/x"
expect_rc 0 "dnabert with --tokenizer" "$T/r" "$VNP" embed --device cpu "$T/alone.safetensors" "$T/dna.fa" -o "$T/x" \
    --tokenizer "$M/dnabert-s-tiny/tokenizer.json"
# a model with a missing tensor is refused with its name and shape
if "$VNP" models convert "$M/esm2-tiny/model.safetensors" "$T/full.safetensors" >/dev/null 2>&1; then
    python3 - "$T/full.safetensors" "$T/broken.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
del h['layer.1.output.dense.weight']
j = json.dumps(h).encode(); j += b' ' * ((8 - (8 + len(j)) % 8) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(j)) + j + b[8 + n:])
PY
    expect_rc 2 "embed with a missing tensor" "$T/r" "$VNP" embed "$T/broken.safetensors" "$T/esm.fa" -o "$T/x"
    grep -q "missing tensor 'layer.1.output.dense.weight' (expected shape \[128, 512\])" "$T/r.err" && ok ||
        bad "missing tensor message: $(cat "$T/r.err")"
else
    bad "models convert failed"
fi

# classify
expect_rc 0 "classify mlp_3328" "$T/r" "$VNP" classify "$M/mlp/mlp_3328.pth" "$M/mlp/mlp_3328_inputs.f32" -o "$T/p.tsv"
head -1 "$T/p.tsv" | grep -qx "$(printf 'score1\tscore2')" && ok || bad "classify header"
python3 - "$T/p.tsv" "$M/mlp/mlp_3328_probs.f32" <<'PY' && ok || bad "classify probabilities"
import struct, sys
rows = [list(map(float, l.split('\t'))) for l in open(sys.argv[1]).read().splitlines()[1:]]
b = open(sys.argv[2], 'rb').read(); want = struct.unpack(f'<{len(b)//4}f', b)
got = [v for r in rows for v in r]
assert len(got) == len(want), (len(got), len(want))
d = max(abs(p - q) for p, q in zip(got, want)); print(f"max abs diff {d:.3g}", file=sys.stderr)
assert d <= 1e-5
PY
expect_rc 2 "classify width mismatch" "$T/r" "$VNP" classify "$M/mlp/mlp_tiny.pth" "$M/mlp/mlp_3328_inputs.f32" -o "$T/x"
grep -q "851968 bytes is not a whole number of rows of 320 float32" "$T/r.err" && ok || bad "width message"
expect_rc 2 "classify with an encoder" "$T/r" "$VNP" classify "$M/esm2-tiny" "$M/mlp/mlp_3328_inputs.f32" -o "$T/x"
expect_rc 2 "classify missing features" "$T/r" "$VNP" classify "$M/mlp/mlp_3328.pth" "$T/nope.f32" -o "$T/x"
expect_rc 2 "classify without -o" "$T/r" "$VNP" classify "$M/mlp/mlp_3328.pth" "$M/mlp/mlp_3328_inputs.f32"
: >"$T/empty.f32"
expect_rc 0 "classify no rows" "$T/r" "$VNP" classify "$M/mlp/mlp_3328.pth" "$T/empty.f32" -o "$T/e.tsv"
[ "$(wc -l <"$T/e.tsv")" -eq 1 ] && ok || bad "header only for no rows"

# bench: a small shape, JSON keys of the anchor
expect_rc 0 "bench esm2_8m" "$T/r" "$VNP" bench --model esm2_8m --workload reads150 --n 40 --threads 2
python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read()); assert d['sequences']==40 and d['tokens']>0 and d['seconds']>0 and all(k in d for k in ('seq_per_s','tok_per_s','device'))" "$T/r.out" && ok || bad "bench JSON"
expect_rc 2 "bench bad model" "$T/r" "$VNP" bench --model gpt2 --workload reads150
expect_rc 2 "bench bad workload" "$T/r" "$VNP" bench --model esm2_8m --workload x
expect_rc 2 "bench bad device" "$T/r" "$VNP" bench --model esm2_8m --device tpu
if ! ls /dev/nvidia0 >/dev/null 2>&1; then # no GPU here: --device cuda fails fast with status 2
    expect_rc 2 "bench cuda without GPU" "$T/r" "$VNP" bench --model esm2_8m --device cuda
    expect_rc 2 "embed cuda without GPU" "$T/r" "$VNP" embed "$M/esm2-tiny" "$T/esm.fa" -o "$T/x.f32" --device cuda
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
