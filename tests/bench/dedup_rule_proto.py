"""Prototype pairwise verify rules on the benchmarks' predicted pairs (not a
test). Each set is run once through DedupIndex with its defaults; the pairs it
predicts (with their texts and labels) are cached, and a rule given in Python
rejects some of them: the precision and recall that result are what the rule
would give natively (up to the query's k, which a rejected pair could free).

    PYTHONPATH=DIR .venv/bin/python tests/bench/dedup_rule_proto.py \
        --sets outside-exact:1,outside-exact:2,dev:1601,quality:20240611 \
        [--cache DIR] [--rule substitution]

DIR holds the tipline_core build whose decision the rule is added to (the
cache is per set and seed, so clear it when that build changes). --rule
substitution rescores with substitution(), the Python reading the substitution
rule of DifferentSubstanceOf (minhash.h) was prototyped with: run against a
build from before that rule it gives the native figures to the third decimal
(replica --curate exact seeds 1-3, the development split).
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import pickle
import re
import struct
import sys

import tipline_core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dedup_holdout as dh  # noqa: E402
import dedup_outside as do  # noqa: E402
import dedup_quality as dq  # noqa: E402


def collect(name: str, seed: int):
    """(pairs, totals): pairs = [(text_a, text_b, lang, true)] predicted by
    DedupIndex(); totals = true pairs per language."""
    if name.startswith("outside"):
        s = do.Stream(seed, 20000, "exact" if name == "outside-exact" else "near")
        pred, _, _ = do.run(s)
        lang = lambda p: do.pair_lang(s, p)  # noqa: E731
        pairs = [(s.texts[a], s.texts[b], lang((a, b)), (a, b) in s.true_pairs)
                 for a, b in sorted(pred)]
        totals = collections.Counter(lang(p) for p in s.true_pairs)
        return pairs, totals
    if name in ("dev", "holdout"):
        s = dh.Stream(name, 2000, seed)
        pred, _ = dh.run_stream(s, tipline_core.DedupIndex)
        lang = lambda p: dh.pair_lang(s, p)  # noqa: E731
        pairs = [(s.texts[a], s.texts[b], lang((a, b)), (a, b) in s.true_pairs)
                 for a, b in sorted(pred)]
        totals = collections.Counter(lang(p) for p in s.true_pairs)
        return pairs, totals
    if name == "quality":
        data = dq.Dataset(1000, seed)
        probes = [p for p, *_ in data.pairs]
        chosen = dq.index_predictions(data, tipline_core.DEFAULT_DEDUP_THRESHOLD, probes)
        text = dict(zip(data.indexed_keys, data.indexed_texts))
        pairs = [(probe, text[key], lang, dup)
                 for (probe, key, dup, lang, _), c in zip(data.pairs, chosen) if c]
        totals = collections.Counter(lang for _, _, dup, lang, _ in data.pairs if dup)
        return pairs, totals
    raise ValueError(name)


def load(spec: str, cache: str):
    name, seed = spec.split(":")
    path = os.path.join(cache, f"{name}-{seed}.pkl")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    out = collect(name, int(seed))
    os.makedirs(cache, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(out, f)
    return out


def score(pairs, totals, reject=None):
    out = {}
    for lang in sorted(totals):
        tp = fp = 0
        for a, b, l, true in pairs:
            if l != lang or (reject is not None and reject(a, b)):
                continue
            tp += true
            fp += not true
        out[lang] = (tp / (tp + fp) if tp + fp else 1.0, tp / totals[lang], tp, fp)
    return out


# --- The substitution rule, in Python ----------------------------------------

WORD = re.compile(r"[a-z]+|[0-9]+")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                       r"\U00020000-\U0003ffff]")
SEED_V2 = 0x5469706C696E6532
M64 = (1 << 64) - 1
MISSING = 0x1FFFFF
LATIN_CHARS, HAN_CHARS, HAN_POSITIONS, TYPO_SHARE, MIN_LETTERS, CONTEXT = 60, 20, 3, 0.7, 3, 2


@functools.lru_cache(maxsize=200000)
def form(text):
    return tipline_core.normalize(text).replace(" ", "")


@functools.lru_cache(maxsize=200000)
def verify_set(text):
    sig = tipline_core.signature(text)
    n = struct.unpack_from("<I", sig, 520)[0]
    return frozenset(struct.unpack_from(f"<{n}I", sig, 524))


def _value(key):
    z = key ^ SEED_V2
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return (z ^ (z >> 31)) >> 32


def _unshared(f, common):
    cps = [ord(c) for c in f]
    tok = [bool(NO_SPACES.match(c)) for c in f]
    out = []
    for i in range(len(cps)):
        has = shared = False
        if i + 2 < len(cps):
            has, shared = True, _value(cps[i] | cps[i + 1] << 21 | cps[i + 2] << 42) in common
        if not shared and i + 1 < len(cps) and tok[i] and tok[i + 1]:
            has, shared = True, _value(cps[i] | cps[i + 1] << 21 | MISSING << 42) in common
        out.append(has and not shared)
    return out


def _lcs(a, b):
    row = [0] * (len(b) + 1)
    for ca in a:
        diagonal = 0
        for j, cb in enumerate(b):
            above = row[j + 1]
            row[j + 1] = diagonal + 1 if ca == cb else max(above, row[j])
            diagonal = above
    return row[-1]


def _counterparts(a, a_end, b, b_end):
    if a == b or a_end and b.startswith(a) or b_end and a.startswith(b):
        return True
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    d = len(long_) - len(short)
    if 1 <= d <= 3 and any(long_[:i] + long_[i + d:] == short for i in range(len(short) + 1)):
        return True
    if a[0].isdigit():
        return sorted(a) == sorted(b)
    if len(a) == len(b):  # one letter changed, or two neighbours swapped
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1 or len(diff) == 2 and diff[1] == diff[0] + 1 \
                and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return True
    return _lcs(a, b) >= TYPO_SHARE * min(len(a), len(b))


def _unmatched(x, fx, y, fy):
    cands = [(t, e == len(fy)) for t, s, e in y]
    cands += [(t1 + t2, e2 == len(fy)) for (t1, s1, e1), (t2, s2, e2) in zip(y, y[1:])
              if s2 - e1 <= 4 and t1[0].isdigit() == t2[0].isdigit()]
    out = []
    for t, s, e in x:
        if not t[0].isdigit() and len(t) < MIN_LETTERS:
            continue
        if any(c[0].isdigit() == t[0].isdigit() and _counterparts(t, e == len(fx), c, ce)
               for c, ce in cands):
            continue
        if len(t) >= 3 and any(t in c for c, _ in cands):
            continue
        out.append((t, s, e))
    return out


def _latin(fa, fb):
    xa = [(m.group(), m.start(), m.end()) for m in WORD.finditer(fa)]
    xb = [(m.group(), m.start(), m.end()) for m in WORD.finditer(fb)]
    ua = _unmatched(xa, fa, xb, fb) if xa and xb else []
    ub = _unmatched(xb, fb, xa, fa) if ua else []
    for t, s, e in ua:
        for u, s2, e2 in ub:
            if t[0].isdigit() != u[0].isdigit():
                continue
            if t[0].isdigit() or fa[max(0, s - CONTEXT):s] == fb[max(0, s2 - CONTEXT):s2] \
                    or fa[e:e + CONTEXT] == fb[e2:e2 + CONTEXT]:
                return True
    return False


def _gaps(a, b):
    n, m = len(a), len(b)
    L = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            L[i][j] = L[i + 1][j + 1] + 1 if a[i] == b[j] else max(L[i + 1][j], L[i][j + 1])
    i = j = gi = gj = 0
    while i < n and j < m:
        if a[i] == b[j]:
            if i > gi and j > gj:
                yield gi, i, gj, j
            i, j = i + 1, j + 1
            gi, gj = i, j
        elif L[i + 1][j] >= L[i][j + 1]:
            i += 1
        else:
            j += 1
    if n > gi and m > gj:
        yield gi, n, gj, m


def _han(ta, tb, fa, fb):
    common = verify_set(ta) & verify_set(tb)
    sa, sb = _unshared(fa, common), _unshared(fb, common)
    for i1, i2, j1, j2 in _gaps(fa, fb):
        x, y = fa[i1:i2], fb[j1:j2]
        if min(len(x), len(y)) < 2 or not (HAN.search(x) and HAN.search(y)) \
                or sorted(x) == sorted(y):
            continue
        if sum(sa[max(0, i1 - 2):i2]) >= HAN_POSITIONS \
                and sum(sb[max(0, j1 - 2):j2]) >= HAN_POSITIONS:
            return True
    return False


def substitution(ta, tb):
    "True when the rule rejects the pair (shorter text first, as natively)"
    fa, fb = form(ta), form(tb)
    if len(fb) < len(fa):
        ta, tb, fa, fb = tb, ta, fb, fa
    if not (HAN.search(fa) and HAN.search(fb)):
        return False
    return (len(fa) < LATIN_CHARS and _latin(fa, fb)) or \
        (len(fa) < HAN_CHARS and _han(ta, tb, fa, fb))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="outside-exact:1,outside-exact:2,outside-exact:3,"
                        "dev:1601,quality:20240611")
    parser.add_argument("--cache", default="/tmp/dedup-rule-cache")
    parser.add_argument("--rule", choices=("none", "substitution"), default="none")
    args = parser.parse_args()
    reject = substitution if args.rule == "substitution" else None
    for spec in args.sets.split(","):
        pairs, totals = load(spec, args.cache)
        base, new = score(pairs, totals), score(pairs, totals, reject)
        print(f"{spec:22s} " + "  ".join(
            f"{lang} P {base[lang][0]:.3f}" + (f"->{new[lang][0]:.3f}" if reject else "")
            + f" R {base[lang][1]:.3f}" + (f"->{new[lang][1]:.3f}" if reject else "")
            for lang in base), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
