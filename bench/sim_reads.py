#!/usr/bin/env python3
"""Simulated reads with a known duplication rate, for the reuse benchmark (bench/bench_reuse.sh).

Each of N reads is, with probability DUP, an exact copy of an earlier read chosen uniformly (a PCR or optical
duplicate, or high depth over a small genome), else a fresh uniform random ACGT read of LEN bases. Copies get ids
of their own, so the pipeline treats them as separate records; repeats are spread through the file.

usage: sim_reads.py OUT.fa N [--len 150] [--dup 0.5] [--seed 7]
"""
import argparse
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('out')
    ap.add_argument('n', type=int)
    ap.add_argument('--len', type=int, default=150)
    ap.add_argument('--dup', type=float, default=0.5)
    ap.add_argument('--seed', type=int, default=7)
    a = ap.parse_args()
    r = random.Random(a.seed)
    reads = []
    copies = 0
    with open(a.out, 'w') as f:
        for i in range(a.n):
            if reads and r.random() < a.dup:
                s = reads[r.randrange(len(reads))]
                copies += 1
            else:
                s = ''.join(r.choice('ACGT') for _ in range(a.len))
                reads.append(s)
            f.write('>sim%d\n%s\n' % (i, s))
    print('%s: %d reads, %d exact copies of earlier reads (%.1f%%), %d distinct' % (
        a.out, a.n, copies, 100.0 * copies / max(1, a.n), len(reads)))


if __name__ == '__main__':
    main()
