#!/usr/bin/env python3
"""Writes an ESM-2 checkpoint of a given shape with deterministic pseudo-random fp16 weights, in either layout:

  safetensors  Hugging Face names (esm.encoder.layer.N....), fp16, as one model.safetensors beside a config.json
  fair         a fair-esm torch.save zip: {'model': {'encoder.<fair-esm name>': fp16}, 'cfg': {'model':
               argparse.Namespace}}, written byte for byte as PyTorch's miniz writer lays it out: stored entries under
               one folder, data 64-byte aligned with an "FB" extra field, crc/sizes 0 in the local headers plus a
               data descriptor, zip64 extra fields where a size or offset passes 4 GiB, zip64 end records; the pickle
               (protocol 2) reuses the embedding tensor for the tied lm_head.weight, as torch does.

The default shape is esm2_t36_3B_UR50D (36 layers, D=2560, 40 heads, FFN 10240): 5.29 GiB of fp16, so the fair
layout needs zip64. Only the Python standard library is used (no torch).

  python3 bench/gen_esm2_checkpoint.py --layout safetensors --out /tmp/esm2_3b
  python3 bench/gen_esm2_checkpoint.py --layout fair --out /tmp/esm2_3b/esm2_t36_3B_UR50D.pt
"""
import argparse, json, os, random, struct, zlib

ap = argparse.ArgumentParser()
ap.add_argument('--layout', choices=['safetensors', 'fair'], required=True)
ap.add_argument('--out', required=True, help='folder (safetensors) or .pt file (fair)')
ap.add_argument('--layers', type=int, default=36)
ap.add_argument('--dim', type=int, default=2560)
ap.add_argument('--heads', type=int, default=40)
a = ap.parse_args()
L, D, H = a.layers, a.dim, a.heads
F, V, HD = 4 * D, 33, D // H

# A 4 MiB block of small random fp16 values, cycled through every tensor (fp16 bits of values in +-0.06).
rnd = random.Random(1234)
BLOCK = bytes(b for _ in range(1 << 21) for b in struct.pack('<e', rnd.uniform(-0.06, 0.06)))


def inv_freq():
    return b''.join(struct.pack('<e', 1.0 / (10000 ** (2 * j / HD))) for j in range(HD // 2))


def fair_tensors():
    """(fair-esm name without 'encoder.', shape); data comes from BLOCK except inv_freq."""
    t = [('embed_tokens.weight', (V, D))]
    for i in range(L):
        p = 'layers.%d.' % i
        for n in ('k_proj', 'v_proj', 'q_proj', 'out_proj'):
            t += [(p + 'self_attn.%s.weight' % n, (D, D)), (p + 'self_attn.%s.bias' % n, (D,))]
        t += [(p + 'self_attn.rot_emb.inv_freq', (HD // 2,)),
              (p + 'self_attn_layer_norm.weight', (D,)), (p + 'self_attn_layer_norm.bias', (D,)),
              (p + 'fc1.weight', (F, D)), (p + 'fc1.bias', (F,)), (p + 'fc2.weight', (D, F)), (p + 'fc2.bias', (D,)),
              (p + 'final_layer_norm.weight', (D,)), (p + 'final_layer_norm.bias', (D,))]
    t += [('emb_layer_norm_after.weight', (D,)), ('emb_layer_norm_after.bias', (D,)),
          ('lm_head.dense.weight', (D, D)), ('lm_head.dense.bias', (D,)),
          ('lm_head.layer_norm.weight', (D,)), ('lm_head.layer_norm.bias', (D,)), ('lm_head.bias', (V,))]
    return t


HF = {'self_attn.q_proj': 'attention.self.query', 'self_attn.k_proj': 'attention.self.key',
      'self_attn.v_proj': 'attention.self.value', 'self_attn.out_proj': 'attention.output.dense',
      'self_attn.rot_emb': 'attention.self.rotary_embeddings', 'self_attn_layer_norm': 'attention.LayerNorm',
      'fc1': 'intermediate.dense', 'fc2': 'output.dense', 'final_layer_norm': 'LayerNorm'}


def hf_name(n):
    if n == 'embed_tokens.weight':
        return 'esm.embeddings.word_embeddings.weight'
    if n.startswith('layers.'):
        _, i, rest = n.split('.', 2)
        for k, v in HF.items():
            if rest.startswith(k + '.'):
                rest = v + rest[len(k):]
                break
        return 'esm.encoder.layer.%s.%s' % (i, rest)
    if n.startswith('emb_layer_norm_after'):
        return 'esm.encoder.' + n
    return n


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def write_data(f, name, shape, crc=None):
    """Writes the tensor's fp16 bytes; returns (size, crc32)."""
    if name.endswith('inv_freq'):
        b = inv_freq()
        f.write(b)
        return len(b), zlib.crc32(b, crc or 0)
    left, c = numel(shape) * 2, crc or 0
    size = left
    while left:
        chunk = BLOCK[:min(left, len(BLOCK))]
        f.write(chunk)
        c = zlib.crc32(chunk, c)
        left -= len(chunk)
    return size, c


def write_safetensors(folder):
    os.makedirs(folder, exist_ok=True)
    tensors = sorted((hf_name(n), n, s) for n, s in fair_tensors() if n != 'lm_head.weight')
    hdr, off = {'__metadata__': {'format': 'pt'}}, 0
    for hn, _, s in tensors:
        size = numel(s) * 2
        hdr[hn] = {'dtype': 'F16', 'shape': list(s), 'data_offsets': [off, off + size]}
        off += size
    h = json.dumps(hdr, sort_keys=True, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(os.path.join(folder, 'model.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        for hn, n, s in tensors:
            write_data(f, n, s)
    cfg = {'model_type': 'esm', 'architectures': ['EsmForMaskedLM'], 'hidden_size': D, 'num_hidden_layers': L,
           'num_attention_heads': H, 'intermediate_size': F, 'vocab_size': V, 'layer_norm_eps': 1e-05,
           'position_embedding_type': 'rotary', 'token_dropout': True, 'torch_dtype': 'float16'}
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)


# ---- fair-esm torch.save zip ----
def pk_str(s):
    s = s.encode()
    return (b'\x8c' + bytes([len(s)]) if len(s) < 256 else b'X' + struct.pack('<I', len(s))) + s


def pk_int(v):
    return b'K' + bytes([v]) if v < 256 else b'M' + struct.pack('<H', v) if v < 65536 else \
        b'J' + struct.pack('<i', v) if v < 2 ** 31 else b'\x8a\x08' + struct.pack('<q', v)


def pk_tuple(items):
    return b'(' + b''.join(items) + b't'


def fair_pickle(tensors):
    out = [b'\x80\x02}(' + pk_str('model') + b'}(']
    memo = 0
    emb_memo = None
    for key, (n, s) in enumerate(tensors):
        if n == 'lm_head.weight':
            continue
        out.append(pk_str('encoder.' + n))
        out.append(b'ctorch._utils\n_rebuild_tensor_v2\n(')
        out.append(pk_tuple([pk_str('storage'), b'ctorch\nHalfStorage\n', pk_str(str(key)), pk_str('cuda:0'),
                             pk_int(numel(s))]) + b'Q')
        stride, acc = [], 1
        for d in reversed(s):
            stride.insert(0, acc)
            acc *= d
        out.append(pk_int(0) + pk_tuple([pk_int(d) for d in s]) + pk_tuple([pk_int(d) for d in stride]))
        out.append(b'\x89ccollections\nOrderedDict\n)Rt' + b'R')
        if n == 'embed_tokens.weight':
            out.append(b'r' + struct.pack('<I', memo))
            emb_memo = memo
            memo += 1
            # the tied decoder: the same tensor object again
            out.append(pk_str('encoder.lm_head.weight') + b'j' + struct.pack('<I', emb_memo))
    out.append(b'u' + pk_str('cfg') + b'}' + pk_str('model') + b'cargparse\nNamespace\n)\x81}(')
    for k, v in (('arch', None), ('encoder_layers', L), ('encoder_embed_dim', D), ('encoder_attention_heads', H)):
        out.append(pk_str(k) + (pk_str('ESM2') if v is None else pk_int(v)))
    out.append(pk_str('token_dropout') + b'\x88ubsu.')
    return b''.join(out)


class ZipWriter:
    def __init__(self, path, folder):
        self.f = open(path, 'wb')
        self.folder = folder
        self.central = []

    def entry(self, name, write):
        name = (self.folder + '/' + name).encode()
        off = self.f.tell()
        pad = (-(off + 30 + len(name) + 4)) % 64
        extra = b'FB' + struct.pack('<H', pad) + b'Z' * pad
        self.f.write(struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0x0808, 0, 0, 0x21, 0, 0, 0, len(name), len(extra)))
        self.f.write(name + extra)
        assert self.f.tell() % 64 == 0
        size, crc = write(self.f)
        self.f.write(struct.pack('<IIQQ', 0x08074b50, crc, size, size))  # zip64 data descriptor
        self.central.append((name, off, size, crc))

    def close(self):
        cd = self.f.tell()
        for name, off, size, crc in self.central:
            big = [v for v in (size, size, off) if v >= 0xFFFFFFFF]
            z64 = [size] * (size >= 0xFFFFFFFF) * 2 + [off] * (off >= 0xFFFFFFFF)
            extra = struct.pack('<HH', 1, 8 * len(z64)) + b''.join(struct.pack('<Q', v) for v in z64) if big else b''
            s32 = min(size, 0xFFFFFFFF)
            self.f.write(struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0x0808, 0, 0, 0x21, crc, s32, s32,
                                     len(name), len(extra), 0, 0, 0, 0, min(off, 0xFFFFFFFF)))
            self.f.write(name + extra)
        cd_size, n = self.f.tell() - cd, len(self.central)
        z64 = self.f.tell()
        self.f.write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, n, n, cd_size, cd))
        self.f.write(struct.pack('<IIQI', 0x07064b50, 0, z64, 1))
        self.f.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                                 min(cd_size, 0xFFFFFFFF), min(cd, 0xFFFFFFFF), 0))
        self.f.close()


def bytes_writer(b):
    def w(f):
        f.write(b)
        return len(b), zlib.crc32(b)
    return w


def write_fair(path):
    tensors = fair_tensors()
    folder = os.path.splitext(os.path.basename(path))[0]
    z = ZipWriter(path, folder)
    z.entry('data.pkl', bytes_writer(fair_pickle(tensors)))
    z.entry('byteorder', bytes_writer(b'little'))
    for key in sorted(range(len(tensors)), key=str):  # keys in string order, as torch writes them
        n, s = tensors[key]
        if n != 'lm_head.weight':
            z.entry('data/%d' % key, lambda f, n=n, s=s: write_data(f, n, s))
    z.entry('version', bytes_writer(b'3\n'))
    z.close()


if a.layout == 'safetensors':
    write_safetensors(a.out)
else:
    write_fair(a.out)
