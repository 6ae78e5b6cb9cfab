#!/usr/bin/env bash
# CLI tests for `virnucpro models inspect|check|convert`: outputs, agreement with the safetensors headers (read
# independently with python3), exit codes, a missing tensor, hostile files.
set -u
VNP=${VIRNUCPRO:?VIRNUCPRO must name the binary}
DATA=${VNP_TEST_DATA:-tests/data}
M=$DATA/models
T=$(mktemp -d /tmp/vnp_test_models.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

# --help and usage errors
expect_rc 0 "models --help" "$T/r" "$VNP" models --help
grep -q "models inspect PATH" "$T/r.out" && ok || bad "help text on stdout"
expect_rc 0 "models inspect --help" "$T/r" "$VNP" models inspect --help
grep -q "^usage: virnucpro models inspect PATH" "$T/r.out" && ok || bad "inspect --help: its own usage line"
expect_rc 0 "models convert --help" "$T/r" "$VNP" models convert --help
grep -q -- "--dtype" "$T/r.out" && ok || bad "convert --help: lists --dtype (from its table)"
expect_rc 2 "models without subcommand" "$T/r" "$VNP" models
expect_rc 2 "unknown subcommand" "$T/r" "$VNP" models frobnicate x
expect_rc 2 "inspect without path" "$T/r" "$VNP" models inspect
expect_rc 2 "convert with one arg" "$T/r" "$VNP" models convert "$M/mlp/mlp_tiny.pth"
expect_rc 2 "convert bad dtype" "$T/r" "$VNP" models convert "$M/mlp/mlp_tiny.pth" "$T/x.safetensors" --dtype f8
expect_rc 2 "missing file" "$T/r" "$VNP" models inspect "$T/nonexistent.pt"

# inspect: every fixture, sorted, with a summary line
for f in esm2-tiny/model.safetensors esm2-tiny/pytorch_model.bin esm2-tiny/esm2_tiny_fair.pt esm2-tiny \
         dnabert-s-tiny/model.safetensors dnabert-s-tiny/pytorch_model.bin dnabert-s-tiny \
         mlp/mlp_tiny.pth mlp/mlp_3328.pth; do
    expect_rc 0 "inspect $f" "$T/r" "$VNP" models inspect "$M/$f"
    tail -n 1 "$T/r.out" | grep -q '^# tensors=' && ok || bad "inspect $f: no summary line"
    head -n -1 "$T/r.out" | cut -f1 | LC_ALL=C sort -c 2>/dev/null && ok || bad "inspect $f: not sorted"
    head -n -1 "$T/r.out" | awk -F'\t' 'NF != 3 { exit 1 }' && ok || bad "inspect $f: not 3 columns"
done
"$VNP" models inspect "$M/esm2-tiny/esm2_tiny_fair.pt" | tail -n 1 | grep -q 'model=esm2 layers=3 dim=128 heads=2' && ok || bad "fair summary"
"$VNP" models inspect "$M/mlp/mlp_3328.pth" | grep -q "^bn1.num_batches_tracked	I64	-$" && ok || bad "scalar shape '-'"
"$VNP" models inspect "$M/mlp/mlp_3328.pth" | grep -q "^hidden_layer.weight	F32	512,3328$" && ok || bad "mlp hidden shape"

# inspect agrees with the safetensors headers, parsed here independently
for f in esm2-tiny/model.safetensors dnabert-s-tiny/model.safetensors; do
    "$VNP" models inspect "$M/$f" | head -n -1 >"$T/inspect.tsv"
    python3 - "$M/$f" >"$T/header.tsv" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
rows = []
for k, v in h.items():
    if k == '__metadata__':
        continue
    name = k
    for p in ('esm.', 'bert.'):
        if name.startswith(p):
            name = name[len(p):]
            break
    for p in ('encoder.sentence_encoder.', 'encoder.'):
        if name.startswith(p):
            name = name[len(p):]
            break
    shape = ','.join(str(d) for d in v['shape']) or '-'
    rows.append((name.encode(), '%s\t%s\t%s' % (name, v['dtype'], shape)))
for _, r in sorted(rows):
    print(r)
PY
    cmp -s "$T/inspect.tsv" "$T/header.tsv" && ok || bad "inspect $f differs from its header: $(diff "$T/inspect.tsv" "$T/header.tsv" | head -5)"
done

# check: complete models exit 0
for f in esm2-tiny esm2-tiny/esm2_tiny_fair.pt esm2-tiny/pytorch_model.bin dnabert-s-tiny dnabert-s-tiny/pytorch_model.bin \
         mlp/mlp_tiny.pth mlp/mlp_3328.pth; do
    expect_rc 0 "check $f" "$T/r" "$VNP" models check "$M/$f"
    grep -q "^result	OK" "$T/r.out" && ok || bad "check $f: no OK line"
done
"$VNP" models check "$M/mlp/mlp_3328.pth" | grep -q "VirNucPro MLP: input width 3328" && ok || bad "check names the MLP"
"$VNP" models check "$M/dnabert-s-tiny" | grep -q "DNABERT-S: 2 layers, dim 192, 12 heads" && ok || bad "check names DNABERT-S"

# check: a file with one tensor removed and one mis-shaped (rewritten by python3) exits 2 and names them
python3 - "$M/esm2-tiny/model.safetensors" "$T/broken.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
data = b[8 + n:]
out, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
for k in sorted(h):
    if k == '__metadata__' or k == 'esm.encoder.layer.1.attention.self.query.weight':
        continue
    v = dict(h[k])
    s, e = v['data_offsets']
    blob = data[s:e]
    if k == 'esm.encoder.layer.0.output.dense.weight':
        v['shape'] = [512, 128]          # transposed
    v['data_offsets'] = [off, off + len(blob)]
    off += len(blob)
    out[k] = v
    blobs.append(blob)
hdr = json.dumps(out).encode()
hdr += b' ' * ((8 - len(hdr) % 8) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(hdr)) + hdr + b''.join(blobs))
PY
expect_rc 2 "check on a file with a missing tensor" "$T/r" "$VNP" models check "$T/broken.safetensors"
grep -q "^missing	layer.1.attention.self.query.weight	128,128$" "$T/r.out" && ok || bad "missing tensor not listed: $(cat "$T/r.out")"
grep -q "^wrong-shape	layer.0.output.dense.weight	128,512	found F32 512,128$" "$T/r.out" && ok || bad "mis-shaped tensor not listed"
grep -q "^result	INCOMPLETE: 2 of" "$T/r.out" && ok || bad "check summary"
# a table that is no known model
python3 -c "
import struct; h=b'{\"foo\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}'
open('$T/foo.safetensors','wb').write(struct.pack('<Q',len(h))+h+b'\0'*4)"
expect_rc 2 "check on an unknown model" "$T/r" "$VNP" models check "$T/foo.safetensors"
expect_rc 0 "inspect on an unknown model" "$T/r" "$VNP" models inspect "$T/foo.safetensors"
grep -q "model=unknown" "$T/r.out" && ok || bad "unknown model summary"

# convert: fair-esm .pt -> safetensors (f16 and as stored); loads and inspects the same
expect_rc 0 "convert fair .pt" "$T/r" "$VNP" models convert "$M/esm2-tiny/esm2_tiny_fair.pt" "$T/fair.safetensors"
"$VNP" models inspect "$M/esm2-tiny/esm2_tiny_fair.pt" | head -n -1 >"$T/a.tsv"
"$VNP" models inspect "$T/fair.safetensors" | head -n -1 >"$T/b.tsv"
cmp -s "$T/a.tsv" "$T/b.tsv" && ok || bad "converted file inspects differently"
expect_rc 0 "check converted" "$T/r" "$VNP" models check "$T/fair.safetensors"
expect_rc 0 "convert mlp --dtype f16" "$T/r" "$VNP" models convert "$M/mlp/mlp_3328.pth" "$T/mlp16.safetensors" --dtype f16
"$VNP" models inspect "$T/mlp16.safetensors" | grep -q "^hidden_layer.weight	F16	512,3328$" && ok || bad "f16 convert dtype"
"$VNP" models inspect "$T/mlp16.safetensors" | grep -q "^bn1.num_batches_tracked	I64	-$" && ok || bad "f16 convert keeps ints"
expect_rc 0 "convert dnabert --dtype f32" "$T/r" "$VNP" models convert "$M/dnabert-s-tiny/pytorch_model.bin" "$T/d.safetensors" --dtype f32
"$VNP" models inspect "$M/dnabert-s-tiny/model.safetensors" | head -n -1 >"$T/a.tsv"
"$VNP" models inspect "$T/d.safetensors" | head -n -1 >"$T/b.tsv"
cmp -s "$T/a.tsv" "$T/b.tsv" && ok || bad "dnabert convert differs"
# the header layout differs; the bytes of every tensor must not
python3 - "$T/d.safetensors" "$M/dnabert-s-tiny/model.safetensors" <<'PY' && ok || bad "dnabert converted values differ"
import json, struct, sys
def load(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    strip = lambda k: k[len('encoder.'):] if k.startswith('encoder.') else k
    return {strip(k): b[8 + n + v['data_offsets'][0]: 8 + n + v['data_offsets'][1]] for k, v in h.items() if k != '__metadata__'}
a, b = load(sys.argv[1]), load(sys.argv[2])
sys.exit(0 if a == b and len(a) == 28 else 1)
PY
expect_rc 1 "convert into a missing folder" "$T/r" "$VNP" models convert "$M/mlp/mlp_tiny.pth" "$T/no/such/dir/x.safetensors"

# hostile files: exit 2 with the file and a byte offset in the message
printf 'definitely not a model' >"$T/junk.pt"
expect_rc 2 "bad magic" "$T/r" "$VNP" models inspect "$T/junk.pt"
grep -q "$T/junk.pt: byte 0" "$T/r.err" && ok || bad "bad magic message: $(cat "$T/r.err")"
head -c 40000 "$M/mlp/mlp_tiny.pth" >"$T/truncated.pth"
expect_rc 2 "truncated zip" "$T/r" "$VNP" models inspect "$T/truncated.pth"
grep -q "$T/truncated.pth" "$T/r.err" && ok || bad "truncated zip message"
python3 -c "
import struct; h=b'{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}'
open('$T/overlap.safetensors','wb').write(struct.pack('<Q',len(h))+h+b'\0'*24)"
expect_rc 2 "overlapping tensors" "$T/r" "$VNP" models check "$T/overlap.safetensors"
grep -q "overlap at file byte" "$T/r.err" && ok || bad "overlap message"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
