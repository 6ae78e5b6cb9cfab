#!/usr/bin/env bash
# Adding a model is cheap: `virnucpro_toy` is the program plus one file (tests/toy/toy_model.c) describing "Toy-ESM",
# an ESM-2-like encoder under other tensor names. Its weights here are two layers of the tiny ESM-2 fixture renamed;
# `models check`, `models inspect` and `embed` take it with no other edit, and its features equal those of the
# same two layers read as ESM-2.
set -u
VNP=${VIRNUCPRO:?VIRNUCPRO must name the binary}
TOY=${VIRNUCPRO_TOY:-$(dirname "$VNP")/virnucpro_toy}
DATA=${VNP_TEST_DATA:-tests/data}
M=$DATA/models
IN=$DATA/inputs/broad_test_with_orfs.fa
T=$(mktemp -d /tmp/vnp_test_toy.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

# Two layers of esm2-tiny: once under the ESM-2 names (with its config.json), once under the toy names.
mkdir -p "$T/esm2" "$T/toy"
python3 - "$M/esm2-tiny" "$T/esm2" "$T/toy" <<'PY'
import json, os, re, struct, sys
src, esm_dir, toy_dir = sys.argv[1:4]
b = open(os.path.join(src, 'model.safetensors'), 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
head = json.loads(b[8:8 + n])
data = b[8 + n:]

def norm(k):
    for p in ('esm.', 'encoder.'):
        if k.startswith(p):
            k = k[len(p):]
    return k

toy_names = [(r'^embeddings\.word_embeddings\.weight$', 'tok_embed.weight'),
             (r'^layer\.(\d+)\.attention\.self\.(query|key|value)\.(weight|bias)$',
              lambda m: 'blocks.%s.attn.%s.%s' % (m[1], m[2][0], m[3])),
             (r'^layer\.(\d+)\.attention\.self\.rotary_embeddings\.inv_freq$', r'blocks.\1.attn.inv_freq'),
             (r'^layer\.(\d+)\.attention\.output\.dense\.(weight|bias)$', r'blocks.\1.attn.out.\2'),
             (r'^layer\.(\d+)\.attention\.LayerNorm\.(weight|bias)$', r'blocks.\1.norm1.\2'),
             (r'^layer\.(\d+)\.intermediate\.dense\.(weight|bias)$', r'blocks.\1.ffn.up.\2'),
             (r'^layer\.(\d+)\.output\.dense\.(weight|bias)$', r'blocks.\1.ffn.down.\2'),
             (r'^layer\.(\d+)\.LayerNorm\.(weight|bias)$', r'blocks.\1.norm2.\2'),
             (r'^emb_layer_norm_after\.(weight|bias)$', r'final_norm.\1')]

def write(path, tensors):
    hdr, blob = {}, b''
    for name, (dtype, shape, raw) in tensors.items():
        hdr[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(hdr).encode()
    h += b' ' * (-len(h) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + blob)

esm, toy = {}, {}
for k, v in head.items():
    if k == '__metadata__':
        continue
    name = norm(k)
    m = re.match(r'^layer\.(\d+)\.', name)
    if m and int(m[1]) >= 2:
        continue
    t = (v['dtype'], v['shape'], data[v['data_offsets'][0]:v['data_offsets'][1]])
    for pat, rep in toy_names:
        if re.match(pat, name):
            esm[name] = t
            toy[re.sub(pat, rep, name)] = t
            break
write(os.path.join(esm_dir, 'model.safetensors'), esm)
write(os.path.join(toy_dir, 'model.safetensors'), toy)
cfg = json.load(open(os.path.join(src, 'config.json')))
cfg['num_hidden_layers'] = 2
json.dump(cfg, open(os.path.join(esm_dir, 'config.json'), 'w'))
json.dump({'model_type': 'toy_esm', 'num_hidden_layers': 2, 'hidden_size': 128, 'num_attention_heads': 2,
           'intermediate_size': 512}, open(os.path.join(toy_dir, 'config.json'), 'w'))
PY
[ -s "$T/toy/model.safetensors" ] && ok || bad "could not write the toy weights"

# models check / inspect know it by its description alone
"$TOY" models check "$T/toy" >"$T/out" 2>"$T/err" && ok || bad "toy models check: $(cat "$T/out" "$T/err")"
grep -q "^model	Toy-ESM: 2 layers, dim 128, 2 heads (from config.json), ffn 512, vocab 33$" "$T/out" && ok ||
    bad "toy check names the model: $(cat "$T/out")"
grep -q "^result	OK" "$T/out" && ok || bad "toy check result: $(cat "$T/out")"
"$TOY" models inspect "$T/toy" | tail -n 1 | grep -q "model=toy_esm layers=2 dim=128 heads=2" && ok ||
    bad "toy inspect summary"
# its config.json is checked like any other
python3 -c "import json; c = json.load(open('$T/toy/config.json')); c['hidden_size'] = 64; json.dump(c, open('$T/bad.json', 'w'))"
mkdir "$T/toybad" && cp "$T/toy/model.safetensors" "$T/toybad/" && mv "$T/bad.json" "$T/toybad/config.json"
"$TOY" models check "$T/toybad" >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "config.json: hidden_size = 64, but the tensors say 128" "$T/err" && ok ||
    bad "toy config contradiction: $(cat "$T/err")"
# the program without the toy does not know it
"$VNP" models check "$T/toy" >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "match no known model" "$T/err" && ok || bad "virnucpro knows the toy model: $(cat "$T/err")"

# embed: the toy's features are those of the same two layers read as ESM-2, byte for byte
"$TOY" embed "$T/toy" "$IN" -o "$T/toy.f32" -t 1 2>"$T/err" && ok || bad "toy embed: $(cat "$T/err")"
"$VNP" embed "$T/esm2" "$IN" -o "$T/esm2.f32" -t 1 2>"$T/err" && ok || bad "2-layer esm2 embed: $(cat "$T/err")"
[ -s "$T/toy.f32" ] && cmp -s "$T/toy.f32" "$T/esm2.f32" && ok || bad "toy and 2-layer ESM-2 features differ"

echo "toy model: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
