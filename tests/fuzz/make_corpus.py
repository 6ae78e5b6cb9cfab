#!/usr/bin/env python3
"""Writes the fuzz seed corpora from the test fixtures (run from the repository root):
   tests/fuzz/corpus/safetensors/  small safetensors files (HF ESM-2 / DNABERT-S names, every dtype, metadata)
   tests/fuzz/corpus/zip/          mlp_tiny.pth as saved by torch, a tiny state dict in a python zipfile, and the
                                   same with zip64 records forced
   tests/fuzz/corpus/pickle/       data.pkl of mlp_tiny.pth (whole nn.Module) and of esm2_tiny_fair.pt (fair-esm
                                   dict with argparse.Namespace), plus a minimal state-dict pickle
   tests/fuzz/corpus/model_config/ the fixtures' config.json files (hand-written edited ones sit beside them)
Files named regress_* are inputs that fuzzing once found (kept for replay); this script leaves them alone.
Only the standard library is used; no torch."""
import io, json, os, struct, zipfile

root = os.path.join('tests', 'fuzz', 'corpus')
models = os.path.join('tests', 'data', 'models')


def write(sub, name, data):
    os.makedirs(os.path.join(root, sub), exist_ok=True)
    with open(os.path.join(root, sub, name), 'wb') as f:
        f.write(data)


def safetensors(tensors, meta=None):
    """tensors: list of (name, dtype, shape, bytes)"""
    hdr, off, blobs = {}, 0, []
    if meta is not None:
        hdr['__metadata__'] = meta
    for name, dt, shape, blob in tensors:
        hdr[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [off, off + len(blob)]}
        off += len(blob)
        blobs.append(blob)
    h = json.dumps(hdr, sort_keys=True).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


f32 = lambda *v: struct.pack('<%df' % len(v), *v)
write('safetensors', 'esm_names.safetensors', safetensors([
    ('esm.embeddings.word_embeddings.weight', 'F32', [2, 2], f32(1, 2, 3, 4)),
    ('esm.encoder.layer.0.attention.self.query.weight', 'F32', [2, 2], f32(1, 0, 0, 1)),
    ('esm.encoder.layer.0.attention.self.rotary_embeddings.inv_freq', 'F16', [1], b'\x00\x3c'),
    ('esm.encoder.emb_layer_norm_after.bias', 'BF16', [2], b'\x80\x3f\x00\x40'),
], {'format': 'pt'}))
write('safetensors', 'dtypes.safetensors', safetensors([
    ('a.f64', 'F64', [1], struct.pack('<d', 0.5)),
    ('b.i64', 'I64', [], struct.pack('<q', 7)),
    ('c.i32', 'I32', [2], struct.pack('<2i', -1, 1)),
    ('d.i16', 'I16', [1], struct.pack('<h', 3)),
    ('e.i8', 'I8', [1], b'\xff'),
    ('f.u8', 'U8', [1], b'\x01'),
    ('g.bool', 'BOOL', [1], b'\x01'),
    ('h.empty', 'F32', [0, 3], b''),
], {'format': 'pt', 'chunk_length': '500'}))
write('safetensors', 'mlp_names.safetensors', safetensors([
    ('hidden_layer.weight', 'F32', [1, 2], f32(1, 2)), ('hidden_layer.bias', 'F32', [1], f32(0)),
    ('bn1.running_var', 'F32', [1], f32(1)), ('output_layer.weight', 'F32', [2, 1], f32(1, -1)),
]))
# The real esm2-tiny header with its data cut to the first tensor: the header parse sees every real key.
b = open(os.path.join(models, 'esm2-tiny', 'model.safetensors'), 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
write('safetensors', 'esm2_tiny_header.safetensors', b[:8 + n + 64])

# zip: the torch-written file itself, and python zipfile archives (classic and zip64) of a tiny state dict
pth = open(os.path.join(models, 'mlp', 'mlp_tiny.pth'), 'rb').read()
write('zip', 'mlp_tiny.pth', pth)
z = zipfile.ZipFile(io.BytesIO(pth))
pkl_mlp = z.read('mlp_tiny/data.pkl')
pkl_fair = zipfile.ZipFile(os.path.join(models, 'esm2-tiny', 'esm2_tiny_fair.pt')).read('esm2_tiny_fair/data.pkl')


def pk_str(s):
    s = s.encode()
    return b'X' + struct.pack('<I', len(s)) + s


def pk_global(mod, name):
    return b'c' + mod.encode() + b'\n' + name.encode() + b'\n'


def state_dict(entries):
    """entries: (name, storage class, key, numel, offset, size tuple, stride tuple)"""
    out = b'\x80\x02}q\x00('
    for name, cls, key, numel, off, size, stride in entries:
        out += pk_str(name) + pk_global('torch._utils', '_rebuild_tensor_v2') + b'(('
        out += pk_str('storage') + pk_global('torch', cls) + pk_str(key) + pk_str('cpu') + b'J' + struct.pack('<i', numel)
        out += b'tQJ' + struct.pack('<i', off) + b'(' + b''.join(b'J' + struct.pack('<i', d) for d in size) + b't('
        out += b''.join(b'J' + struct.pack('<i', d) for d in stride) + b't\x89' + pk_global('collections', 'OrderedDict') + b')RtR'
    return out + b'u.'


sd = state_dict([('esm.encoder.layer.0.LayerNorm.weight', 'FloatStorage', '0', 4, 0, (2, 2), (1, 2)),
                 ('encoder.lm_head.weight', 'HalfStorage', '1', 2, 1, (1,), (1,))])
write('pickle', 'mlp_tiny.pkl', pkl_mlp)
write('pickle', 'esm2_tiny_fair.pkl', pkl_fair)
write('pickle', 'state_dict.pkl', sd)
for force64, name in ((False, 'state_dict.zip'), (True, 'state_dict_zip64.zip')):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as zf:
        zf.writestr('archive/data.pkl', sd)
        with zf.open('archive/data/0', 'w', force_zip64=force64) as f:
            f.write(f32(1, 2, 3, 4))
        zf.writestr('archive/data/1', b'\x00\x3c\x00\x40')
        zf.writestr('archive/version', b'3\n')
    write('zip', name, buf.getvalue())

# tests/fuzz/corpus/model_config/: the fixtures' config.json files (the hand-written seeds beside them are kept)
for name, src in (('esm2_tiny.json', 'esm2-tiny'), ('dnabert_s_tiny.json', 'dnabert-s-tiny'),
                  ('dnabert_s.json', 'dnabert-s')):
    with open(os.path.join(models, src, 'config.json'), 'rb') as f:
        write('model_config', name, f.read())
