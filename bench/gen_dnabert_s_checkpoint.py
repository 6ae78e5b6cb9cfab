#!/usr/bin/env python3
"""Writes a DNABERT-S model folder of the real shape (12 layers, D=768, 12 heads, FFN 3072, vocab 4096) with
deterministic pseudo-random fp16 weights: model.safetensors (the tensor names of DNABERT-2's bert_layers) plus the
real config.json and tokenizer files copied from a folder that has them. For GPU benchmarks of `virnucpro predict`
where the real weights are not available. Only the Python standard library is used.

  python3 bench/gen_dnabert_s_checkpoint.py --tokenizer-from tests/data/models/dnabert-s --out /tmp/dnabert_s
"""
import argparse, json, os, random, shutil, struct

ap = argparse.ArgumentParser()
ap.add_argument('--tokenizer-from', required=True, help='folder with config.json, tokenizer.json, ...')
ap.add_argument('--out', required=True)
a = ap.parse_args()
cfg = json.load(open(os.path.join(a.tokenizer_from, 'config.json')))
D, L, F, V = cfg['hidden_size'], cfg['num_hidden_layers'], cfg['intermediate_size'], cfg['vocab_size']

rnd = random.Random(4321)
# small random values (+-0.04) for matrices and biases; LayerNorm weights near 1 so activations keep their scale
SMALL = b''.join(struct.pack('<e', rnd.uniform(-0.04, 0.04)) for _ in range(1 << 20))
ONES = b''.join(struct.pack('<e', 1.0 + rnd.uniform(-0.05, 0.05)) for _ in range(D))

t = [('embeddings.word_embeddings.weight', (V, D)), ('embeddings.token_type_embeddings.weight', (2, D)),
     ('embeddings.LayerNorm.weight', (D,)), ('embeddings.LayerNorm.bias', (D,))]
for i in range(L):
    p = 'encoder.layer.%d.' % i
    t += [(p + 'attention.self.Wqkv.weight', (3 * D, D)), (p + 'attention.self.Wqkv.bias', (3 * D,)),
          (p + 'attention.output.dense.weight', (D, D)), (p + 'attention.output.dense.bias', (D,)),
          (p + 'attention.output.LayerNorm.weight', (D,)), (p + 'attention.output.LayerNorm.bias', (D,)),
          (p + 'mlp.gated_layers.weight', (2 * F, D)), (p + 'mlp.wo.weight', (D, F)), (p + 'mlp.wo.bias', (D,)),
          (p + 'mlp.layernorm.weight', (D,)), (p + 'mlp.layernorm.bias', (D,))]
t += [('pooler.dense.weight', (D, D)), ('pooler.dense.bias', (D,))]

hdr, off = {'__metadata__': {'format': 'pt'}}, 0
for name, shape in t:
    n = 2
    for d in shape:
        n *= d
    hdr[name] = {'dtype': 'F16', 'shape': list(shape), 'data_offsets': [off, off + n]}
    off += n
h = json.dumps(hdr, separators=(',', ':')).encode()
h += b' ' * (-len(h) % 8)
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, 'model.safetensors'), 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h)
    for name, shape in t:
        n = hdr[name]['data_offsets'][1] - hdr[name]['data_offsets'][0]
        src = ONES if name.endswith('LayerNorm.weight') or name.endswith('layernorm.weight') else SMALL
        while n > 0:
            k = min(n, len(src))
            f.write(src[:k])
            n -= k
for fn in ('config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'):
    if os.path.exists(os.path.join(a.tokenizer_from, fn)):
        shutil.copy(os.path.join(a.tokenizer_from, fn), a.out)
print('wrote %s: %d tensors, %.1f MB fp16' % (a.out, len(t), off / 1e6))
