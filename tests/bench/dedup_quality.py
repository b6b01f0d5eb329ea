"""Quality benchmark (not a test) of tipline_core's near-duplicate detector:
precision, recall and F1 of labelled pairs built from real English and
Chinese text that Debian packages ship.

    PYTHONPATH=python .venv/bin/python tests/bench/dedup_quality.py \
        [--threshold T] [--per-language N] [--seed S] [--details]

Corpora (Debian packages; the program names the missing ones and exits):
  fortunes, fortunes-min   English fortunes, /usr/share/games/fortunes/*
  fortunes-zh              Chinese fortunes, tang300 and song100 poems
  manpages-zh              zh_CN manual pages (roff), /usr/share/man/zh_CN
  debian-reference-zh-cn   the Debian Reference in simplified Chinese (text)
  opencc                   the opencc command, for traditional variants

Originals are report-sized texts (60-600 characters): English fortunes (short
ones joined), Chinese poems and paragraphs, and paragraphs that mix Chinese
with English words and commands. Originals whose exact shingle Jaccard with
another kept original reaches 0.3 are dropped, so that no two originals are
themselves near-duplicates. Every original gets labelled pairs:

  positives (a perturbed copy of the original)
    typo       1-5 % of the words (English) or characters (Chinese), at
               least one, get a swap, deletion, insertion, doubling or
               substitution (Chinese: a wrong character, as from an IME)
    insert     2 to 12 inserted words/characters, in one or two places
    reorder    one sentence (or clause) moved elsewhere
    width_case full-width/half-width forms, case changes, zero-width spaces
    trad       traditional characters (opencc s2t)        [zh, mixed]
    trad_tw    Taiwan wording and characters (opencc s2twp) [zh, mixed]
    combined   light typos + an insertion + width/case or traditional,
               sometimes a moved sentence
  negatives
    unrelated  an original from another source
    same_src   the most similar other original of the same source file or
               document (same topic and layout: two poems by the same
               anthology, two paragraphs of one manual page, two fortunes)
    prefix     the original's first half followed by the second half of
               same_src
    template   both texts wrapped in the same report boilerplate, with
               different bodies (same_src)

Evaluation. The index (DedupIndex(threshold)) holds every original (and the
template-wrapped ones); each pair's probe is queried, and the pair counts as
predicted-duplicate when the query returns the pair's original. The same
pairs are also scored with estimate_similarity(probe, original) >= threshold
(MinHash estimate, no LSH) and with the exact Jaccard of the shingle sets (a
Python re-implementation of the native shingling), which separates LSH
candidate loss from MinHash noise from the choice of threshold. Seeded,
deterministic; about 30 s on two cores.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
import unicodedata

import tipline_core

FORTUNES_DIR = "/usr/share/games/fortunes"
# Files of fortunes-zh in FORTUNES_DIR (everything else there is English).
ZH_FORTUNES = ("chinese", "tang300", "song100")
# ASCII pictures are not text.
EN_SKIP = {"art", "ascii-art"}
MANPAGES_ZH = "/usr/share/man/zh_CN"
DEBIAN_REFERENCE_ZH = "/usr/share/debian-reference/debian-reference.zh-cn.txt.gz"

MIN_CHARS, MAX_CHARS = 60, 600
# Two originals this similar (exact Jaccard) are not both kept.
ORIGINAL_OVERLAP_CUTOFF = 0.3
QUERY_K = 50
SWEEP = [round(0.30 + 0.05 * i, 2) for i in range(11)]
GOAL_PRECISION, GOAL_RECALL = 0.95, 0.92
LANGS = ("en", "zh", "mixed")

ANSI = re.compile(r"\x1b\[[0-9;]*m")
HAN_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
              (0xF900, 0xFAFF), (0x20000, 0x3FFFF))
BOX = re.compile(r"[│┌┐└┘├┤┬┴┼─═║╔╗╚╝|]|^\s*[+]-|^\s*[$#]\s|-{4,}|={4,}")


def is_han(ch: str) -> bool:
    c = ord(ch)
    return any(lo <= c <= hi for lo, hi in HAN_RANGES)


# --- Corpora -----------------------------------------------------------------

def require_corpora() -> None:
    missing = []
    if not os.path.isfile(os.path.join(FORTUNES_DIR, "fortunes")):
        missing.append("fortunes-min")
    if not os.path.isfile(os.path.join(FORTUNES_DIR, "literature")):
        missing.append("fortunes")
    if not all(os.path.isfile(os.path.join(FORTUNES_DIR, f)) for f in ZH_FORTUNES):
        missing.append("fortunes-zh")
    if not os.path.isdir(os.path.join(MANPAGES_ZH, "man1")):
        missing.append("manpages-zh")
    if not os.path.isfile(DEBIAN_REFERENCE_ZH):
        missing.append("debian-reference-zh-cn")
    if shutil.which("opencc") is None:
        missing.append("opencc")
    if missing:
        sys.exit("dedup_quality: the benchmark reads text corpora from Debian packages "
                 "that are not installed: " + ", ".join(missing) + "\n"
                 "  apt-get install " + " ".join(missing))


def wide(ch: str) -> bool:
    return is_han(ch) or ord(ch) >= 0x3000


def join_lines(lines: list[str]) -> str:
    """Joins wrapped lines: no space next to Chinese characters or punctuation."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out and not (wide(out[-1]) or wide(line[0])):
            out += " "
        out += line
    return out


def paragraphs(text: str) -> list[str]:
    """Prose paragraphs of plain text: blank-line separated, tables and
    command lines dropped."""
    out = []
    for block in re.split(r"\n\s*\n", ANSI.sub("", text)):
        lines = block.split("\n")
        if any(BOX.search(line) for line in lines):
            continue
        para = join_lines(lines)
        if para:
            out.append(para)
    return out


def read_fortunes(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        return [ANSI.sub("", entry).strip()
                for entry in re.split(r"\n%\n", f.read()) if entry.strip()]


def english_sources() -> dict[str, list[str]]:
    sources = {}
    for name in sorted(os.listdir(FORTUNES_DIR)):
        path = os.path.join(FORTUNES_DIR, name)
        if (name in ZH_FORTUNES or name in EN_SKIP or "." in name
                or not os.path.isfile(path) or not os.path.exists(path + ".dat")):
            continue
        texts, pending = [], []
        for fortune in read_fortunes(path):
            if any(is_han(ch) for ch in fortune):
                continue
            if len(fortune) >= MIN_CHARS:
                texts.append(fortune)
                continue
            pending.append(fortune)  # join consecutive short fortunes
            if sum(len(p) + 1 for p in pending) >= MIN_CHARS:
                texts.append("\n".join(pending))
                pending = []
        sources["fortunes/" + name] = texts
    return sources


def roff_paragraphs(text: str) -> list[str]:
    paras, current = [], []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            if re.match(r"[.'](PP|P|LP|TP|IP|SH|SS|HP|br|sp|nf|fi|RS|RE|TH|B |I )", line):
                if current:
                    paras.append(join_lines(current))
                current = []
            continue
        line = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", line)
        line = re.sub(r"\\[-e]", lambda m: "-" if m.group() == "\\-" else "\\", line)
        line = re.sub(r"\\[(][a-z]{2}|\\\*.|\\[&/,|^]", "", line)
        current.append(line)
    if current:
        paras.append(join_lines(current))
    return [p for p in paras if p and not BOX.search(p)]


def chinese_sources() -> dict[str, list[str]]:
    sources = {}
    for name in ZH_FORTUNES:
        entries = read_fortunes(os.path.join(FORTUNES_DIR, name))
        if name == "chinese":  # long entries: take their paragraphs
            sources["fortunes-zh/chinese"] = [p for e in entries for p in paragraphs(e)]
        else:  # poems: keep title, author and lines
            sources["fortunes-zh/" + name] = [join_lines(e.split("\n")) for e in entries]
    with gzip.open(DEBIAN_REFERENCE_ZH, "rt", encoding="utf-8", errors="replace") as f:
        reference = f.read()
    # One source per chapter, so "same source" means the same topic.
    for number, chapter in enumerate(re.split(r"\n第 \d+ 章 ", reference)):
        sources[f"debian-reference/ch{number:02d}"] = paragraphs(chapter)
    for section in sorted(os.listdir(MANPAGES_ZH)):
        folder = os.path.join(MANPAGES_ZH, section)
        if not section.startswith("man") or not os.path.isdir(folder):
            continue
        for page in sorted(os.listdir(folder)):
            path = os.path.join(folder, page)
            if not page.endswith(".gz") or os.path.islink(path):
                continue
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
                sources[f"manpages-zh/{section}/{page[:-3]}"] = roff_paragraphs(f.read())
    return sources


def language_of(text: str, min_words: int = 8, min_han: int = 20,
                mixed_share: tuple[float, float] = (0.06, 0.6),
                mixed_words: int = 4) -> str | None:
    """en, zh or mixed (Chinese with English words), None when unclear; the
    limits are the report-sized defaults of this benchmark."""
    han = sum(1 for ch in text if is_han(ch))
    words = len(re.findall(r"[A-Za-z][A-Za-z0-9_-]+", text))
    if han == 0:
        return "en" if words >= min_words else None
    if han < min_han:
        return None
    share = words / (words + han)
    if share < 0.02:
        return "zh"
    if mixed_share[0] <= share <= mixed_share[1] and words >= mixed_words:
        return "mixed"
    return None


# --- Shingles (exact Jaccard, for curation and as a reference) -----------------

def shingles(text: str) -> frozenset:
    tokens = []
    for run in tipline_core.normalize(text).split():
        word = ""
        for ch in run:
            if is_han(ch) or 0x0E00 <= ord(ch) <= 0x0EFF:
                if word:
                    tokens.append(word)
                    word = ""
                tokens.append(ch)
            else:
                word += ch
        if word:
            tokens.append(word)
    if len(tokens) == 1:
        return frozenset([(tokens[0],)])
    return frozenset(zip(tokens, tokens[1:]))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class ShingleIndex:
    """Exact Jaccard nearest neighbours among kept texts (inverted lists)."""

    def __init__(self) -> None:
        self.sets: list[frozenset] = []
        self.postings: dict = collections.defaultdict(list)

    def overlaps(self, s: frozenset) -> collections.Counter:
        counts: collections.Counter = collections.Counter()
        for sh in s:
            counts.update(self.postings.get(sh, ()))
        return counts

    def best(self, s: frozenset, among=None, exclude=None) -> tuple[int, float]:
        best, best_j = -1, 0.0
        for other, inter in self.overlaps(s).items():
            if other == exclude or (among is not None and other not in among):
                continue
            j = inter / (len(s) + len(self.sets[other]) - inter)
            if j > best_j or (j == best_j and other < best):
                best, best_j = other, j
        return best, best_j

    def add(self, s: frozenset) -> int:
        i = len(self.sets)
        self.sets.append(s)
        for sh in s:
            self.postings[sh].append(i)
        return i


# --- Perturbations -----------------------------------------------------------

QWERTY = "qwertyuiopasdfghjklzxcvbnm"
NEIGHBOURS = {c: "".join(QWERTY[j] for j in (i - 1, i + 1) if 0 <= j < 26)
              for i, c in enumerate(QWERTY)}
EN_INSERTS = ("honestly", "as I said before", "please look at this", "again",
              "this is the second time", "I think", "really", "see below",
              "for the record", "it keeps happening", "copied from the chat",
              "no joke", "just so you know", "once more", "urgent")
ZH_INSERTS = ("我再说一遍", "请注意", "说实话", "真的", "这是第二次举报了", "我觉得",
              "又来了", "请尽快处理", "原文如下", "大家看看", "转发", "紧急")
TEMPLATE = {
    "en": ("Reporting this message from the group chat: ", " Please take a look."),
    "zh": ("举报群聊里的这条消息：", "请处理。"),
}
SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*")
CLAUSE_END = re.compile(r"(?<=[,，、:：])\s*")


def typo_en(rng: random.Random, word: str) -> str:
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    if not letters:
        return word
    i = rng.choice(letters)
    op = rng.randrange(5)
    if op == 0 and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1 and len(word) > 1:
        return word[:i] + word[i + 1:]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    near = NEIGHBOURS.get(word[i].lower(), "e")
    return word[:i] + rng.choice(near) + word[i + (op == 3):]


def typos(rng: random.Random, text: str, lang: str, low: float, high: float,
          han_pool: str) -> str:
    rate = rng.uniform(low, high)
    if lang == "en":
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 2]
        for i in rng.sample(candidates, min(len(candidates),
                                            max(1, round(rate * len(candidates))))):
            words[i] = typo_en(rng, words[i])
        return " ".join(words)
    chars = list(text)
    positions = [i for i, ch in enumerate(chars) if is_han(ch)]
    if lang == "mixed":  # typos in the English words too
        positions += [i for i, ch in enumerate(chars) if ch.isascii() and ch.isalpha()]
    for i in sorted(rng.sample(positions, min(len(positions),
                                              max(1, round(rate * len(positions))))),
                    reverse=True):
        op = rng.randrange(4)
        if chars[i].isascii():
            chars[i] = typo_en(rng, chars[i]) if op else ""
        elif op == 0:
            chars[i] = rng.choice(han_pool)      # wrong IME candidate
        elif op == 1:
            chars[i] = ""
        elif op == 2:
            chars[i] = chars[i] * 2
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def token_count(text: str) -> int:
    return len(shingles(text)) + 1


def insertion(rng: random.Random, text: str, lang: str) -> str:
    budget = rng.randint(2, max(3, min(12, token_count(text) // 5)))
    places = 1 if budget < 6 else rng.randint(1, 2)
    for part in range(places):
        size = budget if places == 1 else (budget // 2 if part == 0 else budget - budget // 2)
        if lang == "en":
            words = []
            while len(words) < size:
                words += rng.choice(EN_INSERTS).split()
            snippet = " ".join(words[:size])
            spots = [m.start() for m in re.finditer(" ", text)] or [len(text)]
            at = rng.choice(spots + [0, len(text)])
            text = text[:at] + (" " if at else "") + snippet + " " + text[at:].lstrip(" ")
        else:
            snippet = ""
            while len(snippet) < size:
                snippet += rng.choice(ZH_INSERTS)
            snippet = snippet[:size] + "，"
            spots = [m.end() for m in re.finditer(r"[，。！？；、]", text)] or [0]
            at = rng.choice(spots + [0])
            text = text[:at] + snippet + text[at:]
    return text


def reorder(rng: random.Random, text: str) -> str:
    for splitter in (SENTENCE_END, CLAUSE_END):
        parts = [p for p in splitter.split(text) if p]
        if len(parts) >= 2:
            break
    else:
        words = text.split(" ")
        if len(words) >= 2:
            cut = len(words) // 2
            return " ".join(words[cut:] + words[:cut])
        cut = len(text) // 2
        return text[cut:] + text[:cut]
    moved = parts.pop(rng.randrange(len(parts)))
    spots = [i for i in range(len(parts) + 1)]
    at = rng.choice(spots[:-1] if len(parts) == 1 else spots)
    parts.insert(at, moved)
    sep = "" if all(is_han(p[-1]) or ord(p[-1]) > 0x2000 for p in parts if p) else " "
    return sep.join(p.strip() if sep else p for p in parts)


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c)
                   for c in text)


def to_halfwidth(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def width_case(rng: random.Random, text: str, lang: str) -> str:
    mode = rng.randrange(4)
    if mode == 0:
        text = to_fullwidth(text)
    elif mode == 1:
        text = to_halfwidth(text).upper() if lang != "zh" else to_halfwidth(text)
    elif mode == 2:
        text = text.swapcase() if lang != "zh" else to_fullwidth(text)
    else:  # half the text full-width, the rest title case
        cut = len(text) // 2
        text = to_fullwidth(text[:cut]) + text[cut:].title()
    # A few zero-width spaces, as evasion or copy-paste debris.
    for _ in range(rng.randint(0, 3)):
        at = rng.randrange(len(text) + 1)
        text = text[:at] + "\u200b" + text[at:]
    return text


def opencc_batch(texts: list[str], config: str) -> list[str]:
    if not texts:
        return []
    sep = "\n\x1e\n"
    run = subprocess.run(["opencc", "-c", config], input=sep.join(texts), text=True,
                         capture_output=True, check=True)
    out = run.stdout.rstrip("\n").split(sep)
    if len(out) != len(texts):
        raise RuntimeError(f"opencc -c {config} returned {len(out)} texts for {len(texts)}")
    return out


# --- The labelled set --------------------------------------------------------

class Dataset:
    def __init__(self, per_language: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.texts: list[str] = []      # indexed originals; key = position
        self.lang: list[str] = []
        self.source: list[str] = []
        self.sets: list[frozenset] = []
        self.pairs: list[tuple[str, int, bool, str, str]] = []  # probe, key, dup, lang, kind
        self.dropped = collections.Counter()
        self.available = collections.Counter()
        self._pick(per_language)
        self._label()

    def _pick(self, per_language: int) -> None:
        pools: dict[str, dict[str, list[str]]] = {lang: {} for lang in LANGS}
        for src, texts in {**english_sources(), **chinese_sources()}.items():
            for text in texts:
                text = text.strip()
                if not MIN_CHARS <= len(text) <= MAX_CHARS or "\x1e" in text:
                    continue
                lang = language_of(text)
                if lang is None or (lang == "en" and not src.startswith("fortunes/")):
                    continue
                pools[lang].setdefault(src.split("/")[0] if lang != "en" else src, []) \
                    .append((src, text))
        index = ShingleIndex()
        for lang in LANGS:
            # Spread the picks over the families (en: fortune files; zh and
            # mixed: fortunes-zh, debian-reference, manpages-zh).
            families = sorted(pools[lang])
            queues = []
            for fam in families:
                items = sorted(set(pools[lang][fam]))
                self.available[lang] += len(items)
                self.rng.shuffle(items)
                queues.append(items)
            taken = 0
            while taken < per_language and any(queues):
                for queue in queues:
                    while queue and taken < per_language:
                        src, text = queue.pop()
                        s = shingles(text)
                        if len(s) < 8:
                            continue
                        _, overlap = index.best(s)
                        if overlap >= ORIGINAL_OVERLAP_CUTOFF:
                            self.dropped[lang] += 1
                            continue
                        index.add(s)
                        self.texts.append(text)
                        self.lang.append(lang)
                        self.source.append(src)
                        self.sets.append(s)
                        taken += 1
                        break
        self.index = index

    def _label(self) -> None:
        rng = self.rng
        n = len(self.texts)
        by_source = collections.defaultdict(list)
        by_lang = collections.defaultdict(list)
        for i in range(n):
            by_source[self.source[i]].append(i)
            by_lang[self.lang[i]].append(i)
        han_pool = "".join(ch for i in by_lang["zh"] for ch in self.texts[i] if is_han(ch))
        self.template_key: dict[int, int] = {}
        trad_jobs: list[tuple[int, str, str]] = []  # (original, kind, text to convert)

        def same_source(i: int) -> int:
            family = self.source[i].split("/")[0]
            among = set(by_source[self.source[i]]) - {i}
            if not among:  # a one-paragraph manual page: use its family
                among = {j for j in by_lang[self.lang[i]]
                         if j != i and self.source[j].split("/")[0] == family}
            j, _ = self.index.best(self.sets[i], among=among, exclude=i)
            return j if j >= 0 else rng.choice(sorted(among))

        for i in range(n):
            text, lang = self.texts[i], self.lang[i]
            add = lambda probe, dup, kind, key=i: self.pairs.append((probe, key, dup, lang, kind))
            add(typos(rng, text, lang, 0.01, 0.05, han_pool), True, "typo")
            add(insertion(rng, text, lang), True, "insert")
            add(reorder(rng, text), True, "reorder")
            add(width_case(rng, text, lang), True, "width_case")
            combined = insertion(rng, typos(rng, text, lang, 0.01, 0.03, han_pool), lang)
            if rng.random() < 0.3:
                combined = reorder(rng, combined)
            if lang != "en":
                trad_jobs.append((i, "trad", text))
                trad_jobs.append((i, "trad_tw", text))
            if lang != "en" and rng.random() < 0.5:
                trad_jobs.append((i, "combined", combined))
            else:
                add(width_case(rng, combined, lang), True, "combined")

            other = [j for j in by_lang[lang] if self.source[j].split("/")[0]
                     != self.source[i].split("/")[0] or lang == "en"
                     and self.source[j] != self.source[i]]
            add(self.texts[rng.choice(other)], False, "unrelated")
            j = same_source(i)
            add(self.texts[j], False, "same_src")
            cut = self._half(text)
            add(text[:cut] + self.texts[j][self._half(self.texts[j]):], False, "prefix")
            head, tail = TEMPLATE["en" if lang == "en" else "zh"]
            self.template_key[i] = len(self.texts) + len(self.template_key)
            add(head + self.texts[j] + tail, False, "template", self.template_key[i])

        for kind, config in (("trad", "s2t.json"), ("trad_tw", "s2twp.json"),
                             ("combined", "s2t.json")):
            jobs = [(i, t) for i, k, t in trad_jobs if k == kind]
            for (i, _), converted in zip(jobs, opencc_batch([t for _, t in jobs], config)):
                self.pairs.append((converted, i, True, self.lang[i], kind))

        head_tail = {i: TEMPLATE["en" if self.lang[i] == "en" else "zh"]
                     for i in self.template_key}
        self.indexed_keys = list(range(n)) + [self.template_key[i] for i in range(n)]
        self.indexed_texts = self.texts + [head_tail[i][0] + self.texts[i] + head_tail[i][1]
                                           for i in range(n)]

    @staticmethod
    def _half(text: str) -> int:
        mid = len(text) // 2
        if is_han(text[mid]) or " " not in text:
            return mid
        left = text.rfind(" ", 0, mid)
        return left if left > 0 else mid


# --- Evaluation --------------------------------------------------------------

def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def counts(labels, predicted, select) -> tuple[int, int, int, int]:
    tp = fp = fn = tn = 0
    for (dup, group), pred in zip(labels, predicted):
        if not select(group):
            continue
        if dup and pred:
            tp += 1
        elif dup:
            fn += 1
        elif pred:
            fp += 1
        else:
            tn += 1
    return tp, fp, fn, tn


def index_predictions(data: Dataset, threshold: float, probes: list[str]) -> list[bool]:
    idx = tipline_core.DedupIndex(threshold)
    idx.add_many(data.indexed_keys, data.indexed_texts)
    results = idx.query_many(probes, QUERY_K)
    return [any(key == k for k, _ in result) for (_, key, *_), result in zip(data.pairs, results)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=tipline_core.DEFAULT_DEDUP_THRESHOLD)
    parser.add_argument("--per-language", type=int, default=1000,
                        help="originals per language (default 1000)")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--details", action="store_true",
                        help="also print a few missed positives and false positives")
    args = parser.parse_args()
    require_corpora()

    start = time.perf_counter()
    data = Dataset(args.per_language, args.seed)
    built = time.perf_counter() - start
    pairs = data.pairs
    probes = [p for p, *_ in pairs]
    groups = [(dup, (lang, kind)) for _, _, dup, lang, kind in pairs]

    print(f"tipline_core {tipline_core.__version__}: {tipline_core.NUM_PERMUTATIONS} "
          f"permutations, LSH {tipline_core.LSH_BANDS} bands x {tipline_core.LSH_ROWS} rows, "
          f"default threshold {tipline_core.DEFAULT_DEDUP_THRESHOLD}")
    print(f"seed {args.seed}; built in {built:.1f} s")
    for lang in LANGS:
        n = data.lang.count(lang)
        npos = sum(1 for g in groups if g[0] and g[1][0] == lang)
        print(f"  {lang:5s} {n:5d} originals ({data.available[lang]} candidates, "
              f"{data.dropped[lang]} dropped as near-duplicates of another), "
              f"{npos} positive and {sum(1 for g in groups if g[1][0] == lang) - npos} "
              f"negative pairs")
    by_source = collections.Counter(s.split("/")[0] for s in data.source)
    print("  sources: " + ", ".join(f"{k} {v}" for k, v in sorted(by_source.items())))

    # Signatures once; estimate_similarity and exact Jaccard per pair.
    sigger = tipline_core.DedupIndex()
    original_sig = dict(zip(data.indexed_keys, sigger.signatures(data.indexed_texts)))
    probe_sigs = sigger.signatures(probes)
    estimate = [tipline_core.estimate_similarity(s, original_sig[key])
                for s, (_, key, *_) in zip(probe_sigs, pairs)]
    indexed_text = dict(zip(data.indexed_keys, data.indexed_texts))
    exact = [jaccard(shingles(p), shingles(indexed_text[key])) for p, key, *_ in pairs]

    def table(title: str, predicted_by) -> None:
        print(f"\n{title}")
        print(f"  {'':8s} {'pairs':>6s} {'TP':>6s} {'FP':>6s} {'FN':>6s} "
              f"{'precision':>9s} {'recall':>7s} {'F1':>6s} {'FP rate':>8s}")
        for name, select in [(lang, lambda g, l=lang: g[0] == l) for lang in LANGS] + \
                [("overall", lambda g: True)]:
            tp, fp, fn, tn = counts(groups, predicted_by, select)
            p, r, f = prf(tp, fp, fn)
            print(f"  {name:8s} {tp + fp + fn + tn:6d} {tp:6d} {fp:6d} {fn:6d} "
                  f"{p:9.3f} {r:7.3f} {f:6.3f} {fp / max(1, fp + tn):8.3f}")

    t = args.threshold
    chosen = index_predictions(data, t, probes)
    table(f"DedupIndex({t}) queries (k={QUERY_K}): pair predicted duplicate when the "
          f"probe's query returns the original", chosen)
    table(f"estimate_similarity >= {t} over the same pairs (no LSH)",
          [e >= t for e in estimate])
    table(f"exact shingle Jaccard >= {t} (reference: no MinHash error)",
          [e >= t for e in exact])

    print(f"\nBy kind at {t}: recall of positives / false-positive rate of negatives "
          f"(index), and mean estimated similarity")
    kinds = list(dict.fromkeys(kind for *_, kind in pairs))
    print(f"  {'kind':11s} " + " ".join(f"{lang:>17s}" for lang in LANGS))
    for kind in kinds:
        cells = []
        for lang in LANGS:
            sel = [i for i, (_, _, _, l, k) in enumerate(pairs) if l == lang and k == kind]
            if not sel:
                cells.append(f"{'-':>17s}")
                continue
            dup = pairs[sel[0]][2]
            rate = sum(chosen[i] for i in sel) / len(sel)
            mean = sum(estimate[i] for i in sel) / len(sel)
            cells.append(f"{('R ' if dup else 'FP ') + format(rate, '.3f'):>10s} s={mean:.2f}")
        print(f"  {kind:11s} " + " ".join(cells))

    print(f"\nBy length of the original at {t} (index): recall / false-positive rate")
    buckets = ((60, 149), (150, 299), (300, 600))
    length = {i: len(text) for i, text in enumerate(data.texts)}
    for i, key in data.template_key.items():
        length[key] = length[i]
    for lang in LANGS:
        cells = []
        for lo, hi in buckets:
            sel = [i for i, (_, key, _, l, _) in enumerate(pairs)
                   if l == lang and lo <= length[key] <= hi]
            tp, fp, fn, tn = counts([groups[i] for i in sel], [chosen[i] for i in sel],
                                    lambda g: True)
            cells.append(f"{lo}-{hi} chars: R {prf(tp, fp, fn)[1]:.3f} "
                         f"FP {fp / max(1, fp + tn):.3f} ({len(sel)})")
        print(f"  {lang:5s} " + "; ".join(cells))
    errors = [abs(a - b) for a, b in zip(estimate, exact)]
    print(f"  MinHash estimate vs exact Jaccard: mean |error| {sum(errors) / len(errors):.3f}, "
          f"max {max(errors):.3f} (128 permutations: sd <= 0.044)")

    print("\nThreshold sweep, all languages (P/R/F1); per-language F1 for the index")
    print(f"  {'thr':>4s} | {'index P':>7s} {'R':>5s} {'F1':>5s} | {'estimate P':>10s} "
          f"{'R':>5s} {'F1':>5s} | {'exact P':>7s} {'R':>5s} {'F1':>5s} | "
          f"{'F1 en':>5s} {'zh':>5s} {'mixed':>5s} | goal")
    meets = []
    for thr in SWEEP:
        pred = chosen if math.isclose(thr, t) else index_predictions(data, thr, probes)
        row = []
        for predicted in (pred, [e >= thr for e in estimate], [e >= thr for e in exact]):
            row.append(prf(*counts(groups, predicted, lambda g: True)[:3]))
        langs_f1 = [prf(*counts(groups, pred, lambda g, l=lang: g[0] == l)[:3])[2]
                    for lang in LANGS]
        ok = row[0][0] >= GOAL_PRECISION and row[0][1] >= GOAL_RECALL
        if ok:
            meets.append(thr)
        print(f"  {thr:4.2f} | {row[0][0]:7.3f} {row[0][1]:5.3f} {row[0][2]:5.3f} | "
              f"{row[1][0]:10.3f} {row[1][1]:5.3f} {row[1][2]:5.3f} | "
              f"{row[2][0]:7.3f} {row[2][1]:5.3f} {row[2][2]:5.3f} | "
              + " ".join(f"{f:5.3f}" for f in langs_f1) + f" | {'yes' if ok else 'no'}")

    p, r, _ = prf(*counts(groups, chosen, lambda g: True)[:3])
    verdict = "met" if p >= GOAL_PRECISION and r >= GOAL_RECALL else "NOT met"
    print(f"\nGoal (precision >= {GOAL_PRECISION}, recall >= {GOAL_RECALL}) at threshold "
          f"{t}: {verdict} (P {p:.3f}, R {r:.3f}).")
    print("Sweep thresholds meeting it with the index: "
          + (", ".join(f"{x:.2f}" for x in meets) if meets else "none"))

    if args.details:
        rng = random.Random(args.seed)
        for label, want in (("missed positives", True), ("false positives", False)):
            bad = [i for i, (_, _, dup, _, _) in enumerate(pairs)
                   if dup == want and chosen[i] != want]
            print(f"\n{label} ({len(bad)}), a sample:")
            for i in sorted(rng.sample(bad, min(6, len(bad)))):
                probe, key, _, lang, kind = pairs[i]
                print(f"  [{lang} {kind} est {estimate[i]:.2f} exact {exact[i]:.2f}]\n"
                      f"    original: {indexed_text[key][:160]!r}\n"
                      f"    probe:    {probe[:160]!r}")
    print(f"\ntotal {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
