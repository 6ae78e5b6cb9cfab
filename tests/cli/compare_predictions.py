#!/usr/bin/env python3
"""Compares virnucpro's prediction files with the reference's: the same ids and labels in the same order, scores
within a tolerance (1e-5 by default), the consensus file identical (the original layout) or, for broad's layout
(four columns), the same ids and Is_Virus in the same order with max scores within the tolerance. Exit 0 when they
agree, 1 otherwise.

usage: compare_predictions.py GOT_DIR WANT_DIR [TOL]
       compare_predictions.py GOT_DIR --empty [broad|original]   (header lines only; default original)
"""
import sys


def rows(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f]


def main():
    got = sys.argv[1]
    if sys.argv[2] == "--empty":
        cons = ["Modified_ID", "Is_Virus"]
        if len(sys.argv) > 3 and sys.argv[3] == "broad":
            cons += ["max_score_0", "max_score_1"]
        ok = rows(got + "/prediction_results.txt") == [["Sequence_ID", "Prediction", "score1", "score2"]] and \
            rows(got + "/prediction_results_highestscore.csv") == [cons]
        print("header lines only" if ok else "expected header lines only")
        return 0 if ok else 1
    want = sys.argv[2]
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5
    g, w = rows(got + "/prediction_results.txt"), rows(want + "/prediction_results.txt")
    if len(g) != len(w):
        print(f"row count {len(g)} != {len(w)}")
        return 1
    worst = 0.0
    for i, (a, b) in enumerate(zip(g, w)):
        if a[:2] != b[:2]:
            print(f"row {i}: {a[:2]} != {b[:2]}")
            return 1
        if i:
            worst = max(worst, abs(float(a[2]) - float(b[2])), abs(float(a[3]) - float(b[3])))
    gc, wc = rows(got + "/prediction_results_highestscore.csv"), rows(want + "/prediction_results_highestscore.csv")
    if len(wc[0]) == 2 or len(gc) != len(wc):
        with open(got + "/prediction_results_highestscore.csv", "rb") as f1, \
                open(want + "/prediction_results_highestscore.csv", "rb") as f2:
            if f1.read() != f2.read():
                print("consensus files differ")
                return 1
    for i, (a, b) in enumerate(zip(gc, wc)):
        if a[:2] != b[:2] or len(a) != len(b):
            print(f"consensus row {i}: {a} != {b}")
            return 1
        if i and len(a) == 4:
            worst = max(worst, abs(float(a[2]) - float(b[2])), abs(float(a[3]) - float(b[3])))
    print(f"{len(g) - 1} rows, max score difference {worst:.3g}")
    return 0 if worst <= tol else 1


sys.exit(main())
