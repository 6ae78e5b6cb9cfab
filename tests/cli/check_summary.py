#!/usr/bin/env python3
"""Recompute a run's sequence_summary.tsv from its input and prediction_results.txt, independently of the C code,
and compare it with the run's file.

usage: check_summary.py OUTDIR INPUT.fa[.gz] LENGTH [--min-confident-score T]

The rules come from the spec (/work/shared/spec/virnucpro.md: chunking in section 1, frame selection in section 2,
the chunk consensus in section 4, the tiers and the 0.8 default in section 7) and the column table of README.md:
  sequence_id, length    the record's id (the header's first word) and its length in bases
  chunks, chunks_scored  chunks cut from it (section 1); chunks with at least one kept frame
  frames                 kept frames (section 2) = its rows of prediction_results.txt
  viral_chunks           chunks whose consensus is True: max score2 >= max score1 over the chunk's frames
  max_virus_score        the highest score2 of any frame (NA without frames)
  mean_chunk_virus_score the mean over scored chunks of each chunk's highest score2 (NA without frames)
  call                   virus when viral_chunks > chunks_scored / 2, not_virus otherwise, no_orf without frames
  confidence             confident_viral (virus and mean >= T), confident_nonviral (not_virus and mean <= 1 - T),
                         ambiguous otherwise, no_orf without frames
The frames of each record are found by translating its chunks here, so that the rows of prediction_results.txt are
assigned to records by count and checked by id, whatever the ids look like. Numbers are compared as numbers (the
file's printing is not specified), to 1e-6. Exit 0 when every row agrees, 1 with the differences otherwise.
"""
import gzip
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_regions import split_chunks  # noqa: E402

CODE = {}
_b = "TCAG"
_aa = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
for i, a in enumerate(_b):
    for j, b in enumerate(_b):
        for k, c in enumerate(_b):
            CODE[a + b + c] = _aa[16 * i + 4 * j + k]
COMP = str.maketrans("ACGTacgt", "TGCAtgca")


def records(path):
    """(id, sequence) of a FASTA file, plain or gzip."""
    op = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    rid, parts = None, []
    with op(path, "rt") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith(">"):
                if rid is not None:
                    yield rid, "".join(parts)
                words = line[1:].split()
                rid, parts = (words[0] if words else ""), []
            elif rid is not None:
                parts.append(line.strip())
    if rid is not None:
        yield rid, "".join(parts)


def chunks(seq, k):
    """Section 1's chunks of seq (the arithmetic is check_regions.py's, the other checker of the same spec)."""
    return [seq[o:o + n] for o, n in split_chunks(len(seq), k)]


def kept_frames(chunk):
    """Section 2: the names (F1..R3) of the frames without a stop codon and not empty, in frame order."""
    s = chunk.upper()
    r = s.translate(COMP)[::-1]
    names = []
    for num in range(1, 7):
        t, f = (s, num - 1) if num <= 3 else (r, num - 4)
        prot = "".join(CODE.get(t[i:i + 3], "") for i in range(f, len(t) - 2, 3))
        if prot and "*" not in prot:
            names.append(("F%d" % num) if num <= 3 else ("R%d" % (num - 3)))
    return names


def expected(outdir, inp, k, t):
    rows = [l.rstrip("\n").split("\t") for l in open(outdir + "/prediction_results.txt")][1:]
    pos, out = 0, []
    for rid, seq in records(inp):
        cs = chunks(seq, k)
        best = []  # per scored chunk: (max score1, max score2)
        frames, vmax = 0, None
        for c, chunk in enumerate(cs, 1):
            m1 = m2 = None
            for name in kept_frames(chunk):
                if pos >= len(rows):
                    sys.exit("prediction_results.txt ends before %s_chunk_%d%s" % (rid, c, name))
                want = "%s_chunk_%d%s" % (rid, c, name)
                if rows[pos][0] != want:
                    sys.exit("prediction_results.txt row %d is %s, expected %s" % (pos + 2, rows[pos][0], want))
                s1, s2 = float(rows[pos][2]), float(rows[pos][3])
                pos += 1
                frames += 1
                m1 = s1 if m1 is None else max(m1, s1)
                m2 = s2 if m2 is None else max(m2, s2)
            if m1 is not None:
                best.append((m1, m2))
                vmax = m2 if vmax is None else max(vmax, m2)
        scored = len(best)
        viral = sum(1 for m1, m2 in best if m2 >= m1)
        if frames == 0:
            mean, call, conf = None, "no_orf", "no_orf"
        else:
            mean = sum(m2 for _, m2 in best) / scored
            call = "virus" if viral > scored / 2 else "not_virus"
            if call == "virus" and mean >= t:
                conf = "confident_viral"
            elif call == "not_virus" and mean <= 1 - t:
                conf = "confident_nonviral"
            else:
                conf = "ambiguous"
        out.append([rid, len(seq), len(cs), scored, frames, viral, vmax, mean, call, conf])
    if pos != len(rows):
        sys.exit("prediction_results.txt has %d rows after the input's last frame (row %d: %s)"
                 % (len(rows) - pos, pos + 2, rows[pos][0]))
    return out


COLUMNS = ["sequence_id", "length", "chunks", "chunks_scored", "frames", "viral_chunks", "max_virus_score",
           "mean_chunk_virus_score", "call", "confidence"]


def main():
    args = sys.argv[1:]
    t = 0.8
    if "--min-confident-score" in args:
        i = args.index("--min-confident-score")
        t = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    outdir, inp, k = args[0], args[1], int(args[2])
    want = expected(outdir, inp, k, t)
    got = [l.rstrip("\n").split("\t") for l in open(outdir + "/sequence_summary.tsv")]
    errors = []
    if not got or got[0] != COLUMNS:
        errors.append("header %s, expected %s" % (got[0] if got else None, COLUMNS))
    got = got[1:]
    if len(got) != len(want):
        errors.append("%d rows, expected %d (one per input record)" % (len(got), len(want)))
    for line, (g, w) in enumerate(zip(got, want), 2):
        if len(g) != len(COLUMNS):
            errors.append("line %d: %d columns" % (line, len(g)))
            continue
        for col, a, b in zip(COLUMNS, g, w):
            if isinstance(b, float) or (b is None and col.endswith("score")):
                same = a == "NA" if b is None else (a != "NA" and abs(float(a) - b) <= 1e-6)
            else:
                same = a == str(b)
            if not same:
                errors.append("line %d (%s): %s is %s, expected %s" % (line, w[0], col, a, "NA" if b is None else b))
    for e in errors[:20]:
        print(e, file=sys.stderr)
    if errors:
        print("sequence_summary.tsv: %d differences" % len(errors), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
