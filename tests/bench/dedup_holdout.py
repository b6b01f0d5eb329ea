"""The harder near-duplicate benchmark (not a test): a stream of noisy texts
built from Debian corpora, with a development split (to tune on) and a
held-out split (never tuned on: another seed and other source files).

    PYTHONPATH=python .venv/bin/python tests/bench/dedup_holdout.py \
        [--split dev|holdout|both] [--groups N] [--matcher v1|v2|v3|all] \
        [--threshold T] [--containment C] [--seed S] [--details] [--no-existing]

Corpora: the Debian packages fortunes, fortunes-min, fortunes-zh,
manpages-zh, debian-reference-zh-cn and opencc (dedup_quality.py reads them
and names what is missing).

Splits. Every source file goes to one split by a keyed CRC of its name (a
fortune file, a manual page, a chapter of the Debian Reference; of the three
fortunes-zh files, chinese and tang300 are development and song100
held-out), so the held-out texts come from files the development split never
saw, and are drawn and perturbed with another seed.

The set. Per language (en, zh, mixed Chinese with English words) it draws
originals of three lengths: short (15-59 characters, 30 %), medium
(60-299, 50 %) and long (300-1500, joined paragraphs or fortunes, 20 %). No
two originals are near-duplicates of each other: none has an exact character-
shingle Jaccard of 0.3 or a containment of 0.6 with another (tipline_core.verify
on the candidates of a permissive index), nor the same first 30 normalised
characters. Each original starts a
group with 0 to 3 variants; each variant carries one to four perturbations
applied together:

  typo        character swaps, drops, doublings, neighbour keys (en); wrong
              IME characters, drops, doublings, swaps (zh); 1-3 in a short
              text, 2-6 % of the words / 1-4 % of the characters in longer
  insert      inserted words or characters, in one or two places
  delete      deleted words or characters, one or two runs
  reorder     two clauses or sentences swapped
  truncate    one text a prefix (55-90 %) of the other
  affix       text added before or after ("Re:", "please fix", "转发：")
  contained   the text quoted inside a longer message
  case        case changes (en, mixed)
  punct       punctuation added, dropped or changed
  space       whitespace changes (doubled, dropped, newlines, spaces
              between Chinese characters)
  fullwidth   full-width forms of some or all Latin letters and digits
  trad        traditional characters (opencc s2t, or s2twp for Taiwan
              vocabulary)                                     (zh, mixed)

Hard negatives: a fifth of the medium originals (bodies of 60-299
characters) are wrapped in one of a few shared templates (the same greeting
and signature around a different body), and
originals of one source file (two fortunes of one file, two paragraphs of
one manual page) sit in the same stream. The variants of an original are
perturbed independently, so a variant with heavy noise meets other
originals too.

Protocol (the issue's): the texts are shuffled; each is queried against all
earlier ones (DedupIndex.query, k=20) and then added. A returned earlier key
is a predicted pair; the true pairs are all pairs within a group. The program
prints precision, recall and F1 per language, recall per perturbation (a pair
carries the perturbations of both its texts) and per length, and the false
positives by what the two texts share; v1 (the old word signatures), v2
(version-2 signatures under today's decision: no extra windows, no
substance check) and v3 (the default) side by side, and, unless
--no-existing, the existing benchmark's summary (dedup_quality.py) for each.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import os
import random
import re
import sys
import time
import zlib

import tipline_core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dedup_quality as dq  # noqa: E402  (the corpora readers)

LANGS = ("en", "zh", "mixed")
PERTURBATIONS = ("typo", "insert", "delete", "reorder", "truncate", "affix",
                 "contained", "case", "punct", "space", "fullwidth", "trad")
NOT_FOR = {"en": {"trad"}, "zh": {"case"}, "mixed": set()}
SEEDS = {"dev": 1601, "holdout": 77016}
QUERY_K = 20
GOAL_PRECISION, GOAL_RECALL = 0.95, 0.92
SHORT, MEDIUM, LONG = (15, 59), (60, 299), (300, 1500)

TEMPLATES = {
    "en": [("Hello moderators, I want to report this. ", " Thanks, a worried user"),
           ("Hi team,\n", "\n\nBest regards,\nSent from my iPhone"),
           ("REPORT: ", " -- please look into it as soon as possible")],
    "zh": [("管理员你好，我要举报以下内容：", "谢谢！一名用户"),
           ("您好，", "\n\n此致敬礼\n发自我的手机"),
           ("【举报】", "——请尽快核实处理")],
}
AFFIXES = {
    "en": (["Re: ", "Fwd: ", "FYI ", "Again: ", "URGENT ", "see below: "],
           [" please fix", " thanks", " !!!", " (again)", " pls check", " - sent twice"]),
    "zh": (["回复：", "转发：", "紧急：", "又是这个：", "请看："],
           ["请处理", "谢谢", "！！！", "（又来了）", "请尽快"]),
}
CONTEXT = {
    "en": (["I saw this in the group chat yesterday and it is not the first time: ",
            "Someone forwarded me the following message, see for yourself. ",
            "Copying what was posted so you can read it: "],
           [" This needs to stop, it keeps coming back every week.",
            " Please take it down before more people see it.",
            " I have screenshots if you need them."]),
    "zh": (["昨天在群里看到这条，已经不是第一次了：", "有人转发给我下面这段话，大家看看：",
            "把原帖复制过来给你们看："],
           ["这种事每周都在发生，请管管。", "请在更多人看到之前删掉。", "我有截图，需要的话可以提供。"]),
}
EN_INSERTS = dq.EN_INSERTS
ZH_INSERTS = dq.ZH_INSERTS


# --- Sources and splits ------------------------------------------------------

def split_of(source: str) -> str:
    family, _, rest = source.partition("/")
    if family == "fortunes-zh":
        return "holdout" if rest == "song100" else "dev"
    return "holdout" if zlib.crc32(("tipline-split:" + source).encode()) % 3 == 0 else "dev"


def english_fortunes() -> dict[str, list[str]]:
    out = {}
    for name in sorted(os.listdir(dq.FORTUNES_DIR)):
        path = os.path.join(dq.FORTUNES_DIR, name)
        if (name in dq.ZH_FORTUNES or name in dq.EN_SKIP or "." in name
                or not os.path.isfile(path) or not os.path.exists(path + ".dat")):
            continue
        out["fortunes/" + name] = [f for f in dq.read_fortunes(path)
                                   if not any(dq.is_han(c) for c in f)
                                   and not dq.BOX.search(f)]
    return out


def chinese_texts() -> dict[str, list[str]]:
    sources = {k: v for k, v in dq.chinese_sources().items()
               if not k.startswith("debian-reference")}
    with gzip.open(dq.DEBIAN_REFERENCE_ZH, "rt", encoding="utf-8", errors="replace") as f:
        reference = f.read()
    for number, chapter in enumerate(re.split(r"\n第\s*\d+\s*章\s", reference)):
        sources[f"debian-reference/ch{number:02d}"] = dq.paragraphs(chapter)
    return sources


def lang_of(text: str) -> str | None:
    "dedup_quality's languages, with limits low enough for short texts"
    return dq.language_of(text, min_words=3, min_han=8, mixed_share=(0.05, 0.7),
                          mixed_words=2)


def length_class(text: str) -> str | None:
    n = len(text)
    for name, (lo, hi) in (("short", SHORT), ("medium", MEDIUM), ("long", LONG)):
        if lo <= n <= hi:
            return name
    return None


def pools_for(split: str) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """pools[lang][length class] = [(source, text)], the split's files only;
    long texts also from joining consecutive ones of one file."""
    pools = {lang: collections.defaultdict(list) for lang in LANGS}
    for src, texts in {**english_fortunes(), **chinese_texts()}.items():
        if split_of(src) != split:
            continue
        texts = [t.strip() for t in texts if t.strip() and "\x1e" not in t]
        for t in texts:
            lang, cls = lang_of(t), length_class(t)
            if lang and cls and not (lang == "en" and not src.startswith("fortunes/")):
                pools[lang][cls].append((src, t))
        # Long texts: consecutive entries of one file joined.
        i = 0
        while i + 2 < len(texts):
            joined = texts[i]
            j = i + 1
            while len(joined) < 400 and j < len(texts):
                joined += ("\n" if src.startswith("fortunes/") else "") + texts[j]
                j += 1
            lang = lang_of(joined)
            if lang and length_class(joined) == "long" and not (
                    lang == "en" and not src.startswith("fortunes/")):
                pools[lang]["long"].append((src, joined))
            i = j
    return pools


# --- Perturbations -----------------------------------------------------------

def is_short(text: str) -> bool:
    return len(text) < 60


def typo(rng, text, lang, han_pool):
    if lang == "en" or (lang == "mixed" and rng.random() < 0.5):
        words = text.split(" ")
        cand = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 2]
        if not cand:
            return text
        n = rng.randint(1, 3) if is_short(text) else max(1, round(rng.uniform(0.02, 0.06) * len(cand)))
        for i in rng.sample(cand, min(n, len(cand))):
            words[i] = dq.typo_en(rng, words[i])
        return " ".join(words)
    chars = list(text)
    pos = [i for i, c in enumerate(chars) if dq.is_han(c)]
    if not pos:
        return text
    n = rng.randint(1, 2) if is_short(text) else max(1, round(rng.uniform(0.01, 0.04) * len(pos)))
    for i in sorted(rng.sample(pos, min(n, len(pos))), reverse=True):
        op = rng.randrange(4)
        if op == 0:
            chars[i] = rng.choice(han_pool)
        elif op == 1:
            chars[i] = ""
        elif op == 2:
            chars[i] = chars[i] * 2
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def insert(rng, text, lang, han_pool):
    places = 1 if is_short(text) or rng.random() < 0.6 else 2
    for _ in range(places):
        if lang == "en" or (lang == "mixed" and rng.random() < 0.3):
            size = rng.randint(1, 2) if is_short(text) else rng.randint(2, 8)
            words = []
            while len(words) < size:
                words += rng.choice(EN_INSERTS).split()
            spots = [m.start() for m in re.finditer(" ", text)] or [len(text)]
            at = rng.choice(spots)
            text = text[:at] + " " + " ".join(words[:size]) + text[at:]
        else:
            size = rng.randint(2, 4) if is_short(text) else rng.randint(2, 10)
            snippet = ""
            while len(snippet) < size:
                snippet += rng.choice(ZH_INSERTS)
            at = rng.randrange(len(text) + 1)
            text = text[:at] + snippet[:size] + text[at:]
    return text


def delete(rng, text, lang, han_pool):
    runs = 1 if is_short(text) or rng.random() < 0.6 else 2
    for _ in range(runs):
        if lang == "en":
            words = text.split(" ")
            if len(words) < 4:
                return text
            size = 1 if is_short(text) else rng.randint(1, max(1, len(words) // 12))
            at = rng.randrange(len(words) - size)
            del words[at:at + size]
            text = " ".join(words)
        else:
            if len(text) < 12:
                return text
            size = rng.randint(1, 3) if is_short(text) else rng.randint(2, max(2, len(text) // 25))
            at = rng.randrange(len(text) - size)
            text = text[:at] + text[at + size:]
    return text


def reorder(rng, text, lang, han_pool):
    return dq.reorder(rng, text)


def truncate(rng, text, lang, han_pool):
    keep = rng.uniform(0.55, 0.9)
    cut = int(len(text) * keep)
    if lang == "en":
        space = text.rfind(" ", 0, cut)
        cut = space if space > len(text) // 3 else cut
    return text[:cut].rstrip()


def affix(rng, text, lang, han_pool):
    before, after = AFFIXES["en" if lang == "en" else "zh"]
    mode = rng.randrange(3)
    if mode != 1:
        text = rng.choice(before) + text
    if mode != 0:
        text = text + rng.choice(after)
    return text


def contained(rng, text, lang, han_pool):
    before, after = CONTEXT["en" if lang == "en" else "zh"]
    mode = rng.randrange(3)
    if mode != 1:
        text = rng.choice(before) + ("\n" if rng.random() < 0.5 else "") + text
    if mode != 0:
        text = text + rng.choice(after)
    return text


def case(rng, text, lang, han_pool):
    mode = rng.randrange(4)
    if mode == 0:
        return text.lower()
    if mode == 1:
        return text.upper()
    if mode == 2:
        return text.swapcase()
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, len(words) // 3)):
        words[i] = words[i].upper() if rng.random() < 0.5 else words[i].capitalize()
    return " ".join(words)


PUNCT_SWAP = {",": ";", ".": "!", "!": "!!", "?": "?!", "，": ",", "。": ".", "！": "!",
              "？": "?", "：": ":", "、": ","}


def punct(rng, text, lang, han_pool):
    chars = list(text)
    marks = [i for i, c in enumerate(chars) if c in PUNCT_SWAP or c in "\"'()《》“”"]
    for i in rng.sample(marks, min(len(marks), rng.randint(1, 4))):
        chars[i] = rng.choice([PUNCT_SWAP.get(chars[i], ""), ""])
    text = "".join(chars)
    if rng.random() < 0.5:
        text += rng.choice(["!!", "...", "?!", "。。。", "！！"])
    return text


def space(rng, text, lang, han_pool):
    mode = rng.randrange(3)
    if mode == 0 and lang != "en":  # spaces between Chinese characters
        return "".join(c + (" " if dq.is_han(c) and rng.random() < 0.3 else "") for c in text)
    if mode == 1:
        return re.sub(r"\s+", lambda m: rng.choice(["  ", "\n", " \t", "   "]) if rng.random() < 0.4 else m.group(), text)
    return re.sub(r"(?<=[,.;:!?，。])\s+", "", text).replace("\n", " ")


def fullwidth(rng, text, lang, han_pool):
    if rng.random() < 0.4:
        return dq.to_fullwidth(text)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, len(words) // 3)):
        words[i] = dq.to_fullwidth(words[i])
    return " ".join(words)


APPLY = {"typo": typo, "insert": insert, "delete": delete, "reorder": reorder,
         "truncate": truncate, "affix": affix, "contained": contained, "case": case,
         "punct": punct, "space": space, "fullwidth": fullwidth}
# Content edits before surface ones; traditional characters last (opencc).
ORDER = ("truncate", "delete", "reorder", "insert", "typo", "affix", "contained",
         "punct", "case", "space", "fullwidth", "trad")
WEIGHTS = {"typo": 3, "insert": 2, "delete": 2, "reorder": 1.5, "truncate": 1.2,
           "affix": 1.5, "contained": 0.8, "case": 1.5, "punct": 2, "space": 1.5,
           "fullwidth": 1.2, "trad": 2}


# --- The set -----------------------------------------------------------------

class Stream:
    def __init__(self, split: str, groups_per_lang: int, seed: int | None = None) -> None:
        self.split = split
        rng = self.rng = random.Random(SEEDS[split] if seed is None else seed)
        self.texts: list[str] = []
        self.group: list[int] = []
        self.lang: list[str] = []
        self.length: list[str] = []
        self.perturbed: list[frozenset] = []
        self.template: list[int] = []   # template number, or -1
        self.source: list[str] = []
        pools = pools_for(split)
        trad_jobs = []  # (text index, config)
        # Curation: exact Jaccard and containment of the character-shingle
        # sets (tipline_core.verify) against the kept originals that LSH
        # finds at a permissive setting.
        checker = tipline_core.DedupIndex(0.2, version=2, containment=0.4)
        seen_heads = set()
        kept_sig = {}
        group_id = 0
        for lang in LANGS:
            han_pool = "".join(ch for _, t in pools["zh"]["medium"][:3000] for ch in t if dq.is_han(ch)) \
                or "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家"
            queues = {}
            for cls in ("short", "medium", "long"):
                items = sorted(set(pools[lang][cls]))
                rng.shuffle(items)
                queues[cls] = items
            made = 0
            while made < groups_per_lang:
                cls = rng.choices(("short", "medium", "long"), (0.3, 0.5, 0.2))[0]
                if not queues[cls]:
                    if not any(queues.values()):
                        break
                    continue
                src, text = queues[cls].pop()
                head = re.sub(r"\W", "", tipline_core.normalize(text))[:30]
                if head in seen_heads or len(head) < 8:
                    continue
                if any(j >= 0.3 or c >= 0.6 for j, c in (
                        tipline_core.verify(checker.signature(text), kept_sig[key])
                        for key, _ in checker.query(text, 50))):
                    continue
                kept_sig[group_id] = checker.signature(text)
                seen_heads.add(head)
                checker.add(group_id, text)
                tpl = -1
                if rng.random() < 0.2 and cls == "medium":
                    tpl = rng.randrange(3)
                    pre, post = TEMPLATES["en" if lang == "en" else "zh"][tpl]
                    text = pre + text + post
                self._add(text, group_id, lang, cls, frozenset(), tpl, src)
                for _ in range(rng.choices((0, 1, 2, 3), (0.2, 0.55, 0.2, 0.05))[0]):
                    kinds = [k for k in PERTURBATIONS if k not in NOT_FOR[lang]]
                    n = rng.choices((1, 2, 3, 4), (0.2, 0.35, 0.3, 0.15))[0]
                    chosen = set()
                    while len(chosen) < n:
                        chosen.add(rng.choices(kinds, [WEIGHTS[k] for k in kinds])[0])
                    if "truncate" in chosen and "contained" in chosen:
                        chosen.discard("contained")
                    variant = text
                    for kind in ORDER:
                        if kind in chosen and kind != "trad":
                            variant = APPLY[kind](rng, variant, lang, han_pool)
                    self._add(variant, group_id, lang, cls, frozenset(chosen), tpl, src)
                    if "trad" in chosen:
                        trad_jobs.append((len(self.texts) - 1,
                                          rng.choice(("s2t.json", "s2twp.json"))))
                group_id += 1
                made += 1
        for config in ("s2t.json", "s2twp.json"):
            jobs = [i for i, c in trad_jobs if c == config]
            for i, converted in zip(jobs, dq.opencc_batch([self.texts[i] for i in jobs], config)):
                self.texts[i] = converted
        self.order = list(range(len(self.texts)))
        rng.shuffle(self.order)
        members = collections.defaultdict(list)
        for i, g in enumerate(self.group):
            members[g].append(i)
        self.true_pairs = {(min(a, b), max(a, b)) for m in members.values()
                           for x, a in enumerate(m) for b in m[x + 1:]}

    def _add(self, text, group, lang, cls, perturbed, tpl, src):
        self.texts.append(text)
        self.group.append(group)
        self.lang.append(lang)
        self.length.append(cls)
        self.perturbed.append(perturbed)
        self.template.append(tpl)
        self.source.append(src)


# --- Evaluation --------------------------------------------------------------

def run_stream(stream: Stream, make_index) -> tuple[set, float]:
    """The issue's protocol: each text queried against the earlier ones, then
    added. Returns the predicted pairs and the seconds spent."""
    index = make_index()
    predicted = set()
    start = time.perf_counter()
    for i in stream.order:
        for key, _ in index.query(stream.texts[i], QUERY_K):
            predicted.add((min(key, i), max(key, i)))
        index.add(i, stream.texts[i])
    return predicted, time.perf_counter() - start


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pair_lang(stream, pair):
    a, b = pair
    la, lb = stream.lang[a], stream.lang[b]
    return la if la == lb else ("mixed" if "mixed" in (la, lb) else lb)


def summary(stream: Stream, predicted: set) -> dict:
    out = {}
    for lang in LANGS + ("all",):
        sel = (lambda p: True) if lang == "all" else (lambda p, l=lang: pair_lang(stream, p) == l)
        true = {p for p in stream.true_pairs if sel(p)}
        pred = {p for p in predicted if sel(p)}
        tp = len(true & pred)
        out[lang] = (len(true), tp, len(pred) - tp, len(true) - tp, *prf(tp, len(pred) - tp, len(true) - tp))
    return out


def print_summary(title, rows):
    print(f"\n{title}")
    print(f"  {'':26s} {'lang':6s} {'true':>6s} {'TP':>6s} {'FP':>5s} {'FN':>5s} "
          f"{'P':>6s} {'R':>6s} {'F1':>6s}  goal")
    for name, res in rows:
        for lang in LANGS + ("all",):
            n, tp, fp, fn, p, r, f = res[lang]
            ok = "yes" if p >= GOAL_PRECISION and r >= GOAL_RECALL else "no"
            print(f"  {name:26s} {lang:6s} {n:6d} {tp:6d} {fp:5d} {fn:5d} "
                  f"{p:6.3f} {r:6.3f} {f:6.3f}  {ok if lang != 'all' else ''}")


def by_perturbation(stream, results):
    """Share of true pairs missed, by perturbation and language, per matcher."""
    names = [n for n, _ in results]
    print("\nMissed true pairs by perturbation (share missed; a pair carries both texts' "
          "perturbations; pairs with it)")
    head = "  ".join(f"{n + ' ' + lang:>16s}" for lang in LANGS for n in names)
    print(f"  {'perturbation':12s} {head}")
    rows = [("(none)", lambda p: not (stream.perturbed[p[0]] | stream.perturbed[p[1]]))] + \
        [(k, lambda p, k=k: k in (stream.perturbed[p[0]] | stream.perturbed[p[1]]))
         for k in PERTURBATIONS] + \
        [(f"{c} text", lambda p, c=c: stream.length[p[0]] == c) for c in ("short", "medium", "long")] + \
        [("template", lambda p: stream.template[p[0]] >= 0)]
    for label, sel in rows:
        cells = []
        for lang in LANGS:
            pairs = [p for p in stream.true_pairs if pair_lang(stream, p) == lang and sel(p)]
            for _, predicted in results:
                if not pairs:
                    cells.append(f"{'-':>16s}")
                    continue
                missed = sum(1 for p in pairs if p not in predicted)
                cells.append(f"{100 * missed / len(pairs):5.1f}% of {len(pairs):5d}")
        print(f"  {label:12s} " + "  ".join(cells))


def false_positives(stream, results):
    print("\nFalse positives by what the two texts share")
    for name, predicted in results:
        kinds = collections.Counter()
        for p in predicted - stream.true_pairs:
            a, b = p
            if stream.template[a] >= 0 and stream.template[a] == stream.template[b] \
                    and stream.lang[a] == stream.lang[b]:
                kinds["same template"] += 1
            elif stream.source[a] == stream.source[b]:
                kinds["same source file"] += 1
            else:
                kinds["other"] += 1
        print(f"  {name:26s} " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
              if kinds else f"  {name:26s} none")


def existing_benchmark(matchers) -> list:
    """dedup_quality.py's set (originals indexed, each probe queried), for
    each matcher: its per-language summary."""
    data = dq.Dataset(1000, 20240611)
    probes = [p for p, *_ in data.pairs]
    rows = []
    for name, make in matchers:
        idx = make()
        idx.add_many(data.indexed_keys, data.indexed_texts)
        results = idx.query_many(probes, 50)
        pred = [any(key == k for k, _ in r) for (_, key, *_), r in zip(data.pairs, results)]
        res = {}
        for lang in LANGS + ("all",):
            tp = fp = fn = n = 0
            for (_, _, dup, l, _), hit in zip(data.pairs, pred):
                if lang != "all" and l != lang:
                    continue
                n += dup
                tp += dup and hit
                fp += (not dup) and hit
                fn += dup and not hit
            res[lang] = (n, tp, fp, fn, *prf(tp, fp, fn))
        rows.append((f"existing set, {name}", res))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "holdout", "both"), default="both")
    parser.add_argument("--groups", type=int, default=2000, help="groups per language")
    parser.add_argument("--matcher", choices=("v1", "v2", "v3", "all"), default="all")
    parser.add_argument("--threshold", type=float, default=None,
                        help="Jaccard threshold of v2 and v3 (default: the library's)")
    parser.add_argument("--containment", type=float, default=None,
                        help="containment threshold of v2 and v3 (default: the library's)")
    parser.add_argument("--seed", type=int, default=None, help="override the split's seed")
    parser.add_argument("--details", action="store_true")
    parser.add_argument("--no-existing", action="store_true")
    args = parser.parse_args()
    dq.require_corpora()

    kwargs = {}
    if args.threshold is not None:
        kwargs["threshold"] = args.threshold
    if args.containment is not None:
        kwargs["containment"] = args.containment
    matchers = []
    if args.matcher in ("v1", "all"):
        matchers.append(("v1 (0.5)", lambda: tipline_core.DedupIndex(0.5, version=1)))
    if args.matcher in ("v2", "all"):
        matchers.append(("v2 signatures", lambda: tipline_core.DedupIndex(version=2, **kwargs)))
    if args.matcher in ("v3", "all"):
        matchers.append(("v3 (default)", lambda: tipline_core.DedupIndex(**kwargs)))
    current = tipline_core.DedupIndex()
    print(f"tipline_core {tipline_core.__version__}: signature version "
          f"{tipline_core.SIGNATURE_VERSION}; defaults: threshold {current.threshold} "
          f"(Jaccard {tipline_core.jaccard_threshold(current.threshold, 10, False):.2f} "
          f"for short Latin pairs), containment {current.containment}")

    splits = ("dev", "holdout") if args.split == "both" else (args.split,)
    all_rows = []
    for split in splits:
        start = time.perf_counter()
        stream = Stream(split, args.groups, args.seed)
        counts = collections.Counter(stream.lang)
        print(f"\n=== {split} split (seed {stream.rng and (args.seed or SEEDS[split])}): "
              f"{len(stream.texts)} texts, {len(stream.true_pairs)} true pairs "
              f"({', '.join(f'{l} {counts[l]}' for l in LANGS)} texts; "
              f"{len(set(stream.source))} source files), built in "
              f"{time.perf_counter() - start:.0f} s")
        results, rows = [], []
        for name, make in matchers:
            predicted, seconds = run_stream(stream, make)
            print(f"  {name}: {len(stream.texts)} queries + adds in {seconds:.1f} s")
            results.append((name, predicted))
            rows.append((f"{split}, {name}", summary(stream, predicted)))
        print_summary(f"{split}: precision / recall / F1 by language", rows)
        by_perturbation(stream, results)
        false_positives(stream, results)
        all_rows += rows
        if args.details:
            name, predicted = results[-1]
            rng = random.Random(5)
            for label, items in (("missed", sorted(stream.true_pairs - predicted)),
                                 ("false positives", sorted(predicted - stream.true_pairs))):
                print(f"\n{name} {label} ({len(items)}), a sample:")
                for a, b in rng.sample(items, min(8, len(items))):
                    print(f"  [{stream.lang[a]} {sorted(stream.perturbed[a] | stream.perturbed[b])}]"
                          f"\n    {stream.texts[a][:150]!r}\n    {stream.texts[b][:150]!r}")
    if not args.no_existing:
        all_rows = existing_benchmark(matchers) + all_rows
    print_summary("Side by side: the existing set and the harder splits", all_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
