#!/usr/bin/env python3
"""Cross-check of `virnucpro tokenize` against Hugging Face on random text (a developer tool, not a test: it
needs `pip install tokenizers transformers`, which the test suite must not).

  python3 bench/xcheck_tok_hf.py build/virnucpro tests/data/models

1. DNABERT-S: 20,000 random strings (ACGT-heavy, IUPAC, lower case, punctuation, Unicode letters and spaces,
   added tokens such as [CLS]) through tokenizers.Tokenizer (no padding/truncation) and our BPE.
2. The same tokenizer.json altered 9 ways (fuse_unk, no pre-tokenizer, merges reversed/shuffled so that the
   general heap queue runs, pair-form merges, ignore_merges, BertProcessing, no post-processor, no unk_token),
   3,000 strings each.
3. ESM-2: 5,010 strings through transformers.EsmTokenizer (vocab.txt of esm2-tiny) and our esm2 encoder.
Prints one line per check; exit status 1 if any differs.
"""
import json, random, subprocess, sys

vnp, models = sys.argv[1], sys.argv[2]
failed = False


def run(mode, seqs, tokenizer=None):
    cmd = [vnp, "tokenize", mode] + (["--tokenizer", tokenizer] if tokenizer else [])
    r = subprocess.run(cmd, input="".join(s + "\n" for s in seqs), capture_output=True, text=True)
    return r.stdout.splitlines()


def report(name, seqs, ours, ref):
    global failed
    bad = [(s, a, b) for s, a, b in zip(seqs, ours, ref) if a != b] + ([("<count>", len(ours), len(ref))] if len(ours) != len(ref) else [])
    failed |= bool(bad)
    print(f"{name}: {len(seqs)} cases, {len(bad)} differ")
    for s, a, b in bad[:5]:
        print(f"  {s!r:.60}  ours: {a!s:.60}  hf: {b!s:.60}")


def bpe_checks():
    from tokenizers import Tokenizer
    path = f"{models}/dnabert-s/tokenizer.json"
    rng = random.Random(7)
    pieces = list("ACGT") * 30 + list("NRYKMSWBDHVUacgtn \t\x0b\x0c-*._!?,;:()[]<>#/\\0123456789_") + \
        ["é", "ß", "\u00a0", "\u2003", "\u3000", "\x85", "\x1c", "\x1f", "\x7f", "\x01", "😀", "д", "漢", "\u0301",
         "\u2028", "[CLS]", "[SEP]", "[UNK]", "[MASK]", "[PAD]", "[CLS", "SEP]"]
    seqs = []
    for _ in range(20000):
        w = [rng.random() for _ in pieces] if rng.random() < 0.5 else None
        seqs.append("".join(rng.choices(pieces, weights=w, k=rng.choice([1, 2, 5, 20, 100, 500, 2000]))))

    def hf(p, ss):
        t = Tokenizer.from_file(p)
        t.no_padding()
        t.no_truncation()
        return [" ".join(map(str, e.ids)) for e in t.encode_batch(ss)]

    report("dnabert-s", seqs, run("dnabert", seqs, path), hf(path, seqs))
    base = json.load(open(path))
    short = seqs[:3000]
    variants = {
        "fuse_unk": lambda j: j["model"].update(fuse_unk=True),
        "no pre_tokenizer": lambda j: j.update(pre_tokenizer=None),
        "merges reversed": lambda j: j["model"].update(merges=j["model"]["merges"][::-1]),
        "merges shuffled": lambda j: random.Random(3).shuffle(j["model"]["merges"]),
        "merges as pairs": lambda j: j["model"].update(merges=[m.split(" ") for m in j["model"]["merges"]]),
        "ignore_merges": lambda j: j["model"].update(ignore_merges=True),
        "BertProcessing": lambda j: j.update(post_processor={"type": "BertProcessing", "sep": ["[SEP]", 2],
                                                             "cls": ["[CLS]", 1]}),
        "no post_processor": lambda j: j.update(post_processor=None),
        "no unk_token": lambda j: j["model"].update(unk_token=None),
    }
    for i, (name, change) in enumerate(variants.items()):
        j = json.loads(json.dumps(base))
        change(j)
        p = f"/tmp/vnp_xcheck_{i}.json"
        json.dump(j, open(p, "w"))
        report(f"dnabert-s, {name}", short, run("dnabert", short, p), hf(p, short))


def esm_checks():
    from transformers import EsmTokenizer
    tok = EsmTokenizer(vocab_file=f"{models}/esm2-tiny/vocab.txt")
    rng = random.Random(5)
    pieces = list("LAGVSERTIDPKQNFYMHWCXBUZO.-") * 8 + list("jJ*1#acdxz_ \t<>é") + \
        ["\u00a0", "\x1f", "漢", "<mask>", "<cls>", "<eos>", "<unk>", "<pad>", "<null_1>", "<mask", "<MASK>", "mask>"]
    seqs = ["MKT", "MKTAYI", "", "MKjjA", "mkta", "MK*A", "jj kk", "<cls>MKT<mask>YIA<eos>", "M\x1fK", "M\u00a0K"]
    seqs += ["".join(rng.choices(pieces, k=rng.choice([1, 3, 10, 50, 300]))) for _ in range(5000)]
    report("esm2", seqs, run("esm2", seqs), [" ".join(map(str, tok(s)["input_ids"])) for s in seqs])


bpe_checks()
esm_checks()
sys.exit(1 if failed else 0)
