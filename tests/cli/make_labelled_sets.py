#!/usr/bin/python3
"""Labelled feature sets for test_train.sh: the rows of the fixture embeddings (tests/data/pipeline/*/merged.f32,
[N, 320] = DNABERT-S-tiny 192 + ESM-2-tiny 128) labelled by the side of a fixed random hyperplane through their
median, written as viral.h5 / other.h5 in the embed-frames layout, plus an empty set and a set of another width."""
import glob
import sys

import h5py
import numpy as np

data, out = sys.argv[1], sys.argv[2]
rows = np.concatenate([np.fromfile(f, dtype='<f4').reshape(-1, 320)
                       for f in sorted(glob.glob(data + '/pipeline/*/merged.f32'))])
w = np.random.default_rng(12345).standard_normal(320)
s = rows.astype(np.float64) @ w
y = s > np.median(s)


def write(path, x, dna=192):
    with h5py.File(path, 'w') as f:
        f.attrs['chunk_length'] = np.int32(300)
        f['frame_id'] = np.array(['row%d' % i for i in range(len(x))], dtype=h5py.string_dtype())
        f['dnabert_s'] = x[:, :dna].astype('<f4')
        f['esm2'] = x[:, dna:].astype('<f4')


write(out + '/viral.h5', rows[y])
write(out + '/other.h5', rows[~y])
write(out + '/empty.h5', rows[:0])
write(out + '/wide.h5', np.concatenate([rows[~y], rows[~y][:, :8]], axis=1))
print(len(rows), int(y.sum()))
