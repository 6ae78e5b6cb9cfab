#!/usr/bin/env python3
"""Recomputes viral_regions.tsv from OUTDIR's prediction_results.txt and sequence_summary.tsv, independently of the C
code (the chunk geometry is spec section 1's pseudo-code as written; the region rules are the README's), and compares
it with OUTDIR/viral_regions.tsv.

usage: check_regions.py OUTDIR CHUNK_LEN [MIN_SCORE WINDOW MIN_CHUNKS MIN_SEQ_CHUNKS]
Exit 0 when they agree (scores within 1e-6), 1 with the first difference otherwise."""
import math
import re
import sys


def split_chunks(n, k):
    """(offset, length) of every chunk, by split_fasta_chunk's arithmetic (spec section 1)."""
    if n == 0:
        return []
    num_chunks = -(-n // k)
    repeat = num_chunks * k - n
    lower = int(repeat / num_chunks)
    extra = repeat - lower * (num_chunks - 1)
    steps = [lower + 1] * extra + [lower] * (num_chunks - 1 - extra) + [0]
    out, move = [], 0
    for c, a in enumerate(range(0, n, k)):
        s = a - move if a > 1 else a
        out.append((s, min(k, n - s)))
        move += steps[c]
    return out


def regions(scores, n_len, k, min_score, window, min_chunks, min_seq):
    """scores: per chunk (best P(virus), best P(others)) or None for a gap."""
    n = len(scores)
    if n < min_seq:
        return []
    h = window // 2
    smooth = []
    for i in range(n):
        vals = [s[0] for s in scores[max(0, i - h):i + h + 1] if s is not None]
        smooth.append(sum(vals) / len(vals) if vals else None)
    geo = split_chunks(n_len, k)
    out, i = [], 0
    while i < n:
        if smooth[i] is None or smooth[i] < min_score:
            i += 1
            continue
        e = i
        while e + 1 < n and smooth[e + 1] is not None and smooth[e + 1] >= min_score:
            e += 1
        a, b = i, e
        while a <= b and scores[a] is None:
            a += 1
        while b > a and scores[b] is None:
            b -= 1
        if a <= b and b - a + 1 >= min_chunks:
            sc = [s for s in scores[a:b + 1] if s is not None]
            start, end = geo[a][0] + 1, geo[b][0] + geo[b][1]
            out.append((start, end, b - a + 1, sum(1 for s in sc if s[0] >= s[1]),
                        sum(s[0] for s in sc) / len(sc), max(s[0] for s in sc), (end - start + 1) / n_len,
                        "whole" if a == 0 and b == n - 1 else "region"))
        i = e + 1
    return out


def main():
    outdir, k = sys.argv[1], int(sys.argv[2])
    min_score, window, min_chunks, min_seq = (float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                                              int(sys.argv[6])) if len(sys.argv) > 3 else (0.5, 3, 3, 3)
    frames = {}
    with open(f"{outdir}/prediction_results.txt") as f:
        next(f)
        for line in f:
            fid, _, s1, s2 = line.rstrip("\n").split("\t")
            m = re.fullmatch(r"(.*)_chunk_(\d+)[FR][123]", fid)
            chunk = frames.setdefault(m.group(1), {}).setdefault(int(m.group(2)), [0.0, 0.0])
            chunk[0] = max(chunk[0], float(s2))
            chunk[1] = max(chunk[1], float(s1))
    want = []
    with open(f"{outdir}/sequence_summary.tsv") as f:
        cols = next(f).rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(cols, line.rstrip("\n").split("\t")))
            sid, n_len, n = row["sequence_id"], int(row["length"]), int(row["chunks"])
            fr = frames.get(sid, {})
            scores = [tuple(fr[c]) if c in fr else None for c in range(1, n + 1)]
            want += [(sid,) + r for r in regions(scores, n_len, k, min_score, window, min_chunks, min_seq)]
    with open(f"{outdir}/viral_regions.tsv") as f:
        head = next(f).rstrip("\n")
        got = [line.rstrip("\n").split("\t") for line in f]
    expect_head = "sequence_id\tstart\tend\tchunks\tviral_chunks\tmean_score\tmax_score\tfraction_of_sequence\tkind"
    if head != expect_head:
        sys.exit(f"header {head!r}, want {expect_head!r}")
    if len(got) != len(want):
        sys.exit(f"{len(got)} regions, want {len(want)}: {want[:5]}")
    for g, w in zip(got, want):
        ok = (g[0] == w[0] and [int(x) for x in g[1:5]] == list(w[1:5]) and abs(float(g[5]) - w[5]) < 1e-6
              and abs(float(g[6]) - w[6]) < 1e-6 and abs(float(g[7]) - w[7]) < 6e-5 and g[8] == w[8])
        if not ok:
            sys.exit(f"row {g} differs from {w}")
    print(f"{len(got)} regions agree")


if __name__ == "__main__":
    main()
