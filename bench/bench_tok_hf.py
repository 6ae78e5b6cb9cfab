#!/usr/bin/env python3
"""Hugging Face `tokenizers` anchor for bench_tok.c: the same random DNA (500 bp, 5 kbp, 100 kbp, 20 MB each),
one thread (RAYON_NUM_THREADS=1), no padding or truncation. Prints MB/s per CPU second, best of 3, for
encode_batch (Rust loop) and for a Python loop over encode (what VirNucPro does, one call per sequence).

usage: RAYON_NUM_THREADS=1 python3 bench/bench_tok_hf.py tests/data/models/dnabert-s/tokenizer.json
"""
import random, sys, time
from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
tok.no_padding()
tok.no_truncation()
rng = random.Random(1)
total = 20 << 20
text = "".join(rng.choice("ACGT") for _ in range(total))
print(f"{'case':28} {'MB/s':>10}")
for n in (500, 5000, 100000):
    seqs = [text[i:i + n] for i in range(0, total - n + 1, n)]
    for mode in ("encode_batch", "encode loop"):
        best = 0.0
        for _ in range(3):
            t0 = time.process_time()
            if mode == "encode_batch":
                tok.encode_batch(seqs)
            else:
                for s in seqs:
                    tok.encode(s)
            best = max(best, len(seqs) * n / (time.process_time() - t0) / 1e6)
        print(f"{f'hf {mode} {n} bp':28} {best:10.1f}", flush=True)
