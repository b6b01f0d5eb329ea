"""tipline_core near-duplicate API: normalize, signatures (versions 1 to
3), DedupIndex, band_keys, estimate_similarity, verify, match_score."""

import hashlib
import struct
import threading

import pytest

import tipline_core
from tipline_core import DedupIndex, InvalidInput


# --- A pure-Python reading of the documented signature (tipline/minhash.h) ---

M64 = (1 << 64) - 1
P1, P2, P3, P4, P5 = (
    0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
    0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5,
)


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _round(acc, lane):
    return (_rotl((acc + lane * P2) & M64, 31) * P1) & M64


def xxh64(data: bytes, seed: int = 0) -> int:
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M64, (seed + P2) & M64, seed, (seed - P1) & M64]
        while i + 32 <= n:
            for j in range(4):
                v[j] = _round(v[j], int.from_bytes(data[i + 8 * j:i + 8 * j + 8], "little"))
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M64
        for lane in v:
            h = ((h ^ _round(0, lane)) * P1 + P4) & M64
    else:
        h = (seed + P5) & M64
    h = (h + n) & M64
    while i + 8 <= n:
        h ^= _round(0, int.from_bytes(data[i:i + 8], "little"))
        h = (_rotl(h, 27) * P1 + P4) & M64
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i:i + 4], "little") * P1) & M64
        h = (_rotl(h, 23) * P2 + P3) & M64
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M64
        h = (_rotl(h, 11) * P1) & M64
        i += 1
    h ^= h >> 33
    h = (h * P2) & M64
    h ^= h >> 29
    h = (h * P3) & M64
    return h ^ (h >> 32)


def _permutations():
    state, out = 0x5469706C696E6531, []
    def nxt():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)
    for _ in range(128):
        a = nxt() | 1
        out.append((a, nxt()))
    return out


def reference_signature(latin_text: str) -> bytes:
    """The documented version-1 algorithm, for text without CJK characters."""
    tokens = [xxh64(t.encode()) for t in tipline_core.normalize(latin_text, 1).split(" ")]
    if len(tokens) == 1:
        shingles = [xxh64(struct.pack("<Q", tokens[0]))]
    else:
        shingles = [xxh64(struct.pack("<QQ", a, b)) for a, b in zip(tokens, tokens[1:])]
    values = [min((((a * h + b) & M64) >> 32) for h in shingles) for a, b in _permutations()]
    return bytes([1, 0, 128, 0]) + struct.pack("<128I", *values)


SEED_V2 = 0x5469706C696E6532
MISSING = 0x1FFFFF


def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def reference_signature_v2(latin_text: str) -> bytes:
    """The documented version-2 algorithm, for text without CJK characters:
    character 3-grams without spaces, one-permutation MinHash with optimal
    densification, and the verify set."""
    cps = [ord(c) for c in tipline_core.normalize(latin_text) if c != " "]
    if len(cps) >= 3:
        keys = [a | b << 21 | c << 42 for a, b, c in zip(cps, cps[1:], cps[2:])]
    elif len(cps) == 2:
        keys = [cps[0] | cps[1] << 21 | MISSING << 42]
    else:
        keys = [cps[0] | MISSING << 21 | MISSING << 42] if cps else []
    hashes = [_mix64(k ^ SEED_V2) for k in keys]
    bins = {}
    for h in hashes:
        b, v = h >> 57, h & 0xFFFFFFFF
        bins[b] = min(v, bins.get(b, v))
    values = []
    for b in range(128):
        if b in bins or not bins:
            values.append(bins.get(b, 0xFFFFFFFF))
            continue
        attempt = 1
        while _mix64(SEED_V2 ^ (b << 32 | attempt)) & 127 not in bins:
            attempt += 1
        values.append(bins[_mix64(SEED_V2 ^ (b << 32 | attempt)) & 127])
    verify = sorted({h >> 32 for h in hashes})
    return (bytes([2, 0, 128, 0]) + struct.pack("<128I", *values)
            + struct.pack("<II", len(verify), len(verify))
            + struct.pack(f"<{len(verify)}I", *verify))


def reference_signature_v3(latin_text: str) -> bytes:
    """Version 3: version 2's bytes with version byte 3, then the matching
    form (the normalised text without spaces) with its length."""
    form = tipline_core.normalize(latin_text).replace(" ", "").encode()
    return (b"\x03" + reference_signature_v2(latin_text)[1:]
            + struct.pack("<I", len(form)) + form)


# --- Normalisation ---------------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ｈｅｌｌｏ，　ＷＯＲＬＤ！！", "hello world"),
        ("STRASSE Straße", "strasse strasse"),
        ("  many   spaces\tand\nnewlines  ", "many spaces and newlines"),
        ("don't -- stop!!!", "don t stop"),
        ("這是一個測試：簡體中文。", "这是一个测试 简体中文"),
        ("我的iPhone手機，ＩＤ是ABC-123", "我的iphone手机 id是abc 123"),
        ("sp\u200bam", "spam"),
        ("", ""),
    ],
)
def test_normalize(text, expected):
    assert tipline_core.normalize(text) == expected


def test_normalize_rejects_lone_surrogates_and_non_str():
    with pytest.raises(InvalidInput):
        tipline_core.normalize("bad \ud800 text")
    with pytest.raises(TypeError):
        tipline_core.normalize(b"bytes")


# --- Signatures ------------------------------------------------------------------

GOLDEN_TEXT = "The quick brown fox jumps over the lazy dog"
GOLDEN_PREFIX = bytes.fromhex("01008000" "bab5f91c" "9cbd0405" "0ea5c111")
# Version 2's (set deliberately when version 2 was introduced).
GOLDEN_PREFIX_V2 = bytes.fromhex("02008000" "bc787ee7" "6ab9638d" "83a2de51")


def test_signature_layout_and_golden_prefix():
    signature = DedupIndex(version=1).signature(GOLDEN_TEXT)
    assert len(signature) == tipline_core.SIGNATURE_SIZE == 516
    assert signature[:16] == GOLDEN_PREFIX
    assert tipline_core.NUM_PERMUTATIONS == 128
    assert tipline_core.LSH_BANDS_V1 * 4 == 128
    assert tipline_core.LSH_BANDS * tipline_core.LSH_ROWS <= 128
    signature = tipline_core.signature(GOLDEN_TEXT, version=2)
    assert signature[:16] == GOLDEN_PREFIX_V2
    # 33 3-grams, "the" twice: 32 distinct, all in the verify set.
    assert len(signature) == 516 + 8 + 4 * 32
    assert tipline_core.signature_version(signature) == 2
    assert tipline_core.SIGNATURE_VERSION == 3
    current = DedupIndex().signature(GOLDEN_TEXT)
    assert current == tipline_core.signature(GOLDEN_TEXT)
    assert current[0] == 3 and current[1:16] == GOLDEN_PREFIX_V2[1:]
    # ... and the matching form, 35 letters.
    assert current[len(signature):] == struct.pack("<I", 35) + b"thequickbrownfoxjumpsoverthelazydog"


@pytest.mark.parametrize(
    "text",
    [GOLDEN_TEXT, "one", "Report: user 42 posted my address, twice!", "a b"],
)
def test_signature_matches_the_documented_algorithm(text):
    assert DedupIndex(version=1).signature(text) == reference_signature(text)
    assert tipline_core.signature(text, version=2) == reference_signature_v2(text)
    assert DedupIndex(version=2).signature(text) == reference_signature_v2(text)
    assert DedupIndex().signature(text) == reference_signature_v3(text)


def test_verify_is_exact_and_typos_match():
    a = tipline_core.signature("I want another RE-WRIT on my CEASAR SALAD!!", 2)
    b = tipline_core.signature("I wannt another re-write ｏｎ my ceasar salad!!", 2)
    jaccard, containment = tipline_core.verify(a, b)
    sa = set(struct.unpack_from(f"<{(len(a) - 524) // 4}I", a, 524))
    sb = set(struct.unpack_from(f"<{(len(b) - 524) // 4}I", b, 524))
    assert jaccard == len(sa & sb) / len(sa | sb)
    assert containment == len(sa & sb) / min(len(sa), len(sb))
    assert jaccard > tipline_core.jaccard_threshold(
        tipline_core.DEFAULT_DEDUP_THRESHOLD, min(len(sa), len(sb)), False)
    assert tipline_core.match_score(a, b) == jaccard
    # Versions 2 and 3 compare with each other.
    b3 = tipline_core.signature("I wannt another re-write ｏｎ my ceasar salad!!")
    assert tipline_core.verify(a, b3) == (jaccard, containment)
    assert tipline_core.match_score(a, b3) == jaccard
    old_a = DedupIndex(version=1).signature("I want another RE-WRIT on my CEASAR SALAD!!")
    old_b = DedupIndex(version=1).signature("I wannt another re-write ｏｎ my ceasar salad!!")
    assert tipline_core.match_score(old_a, old_b) == 0.0  # version 1 missed it
    assert tipline_core.match_score(a, old_a) == 0.0  # never across versions
    with pytest.raises(InvalidInput):
        tipline_core.verify(a, old_a)


def test_taiwan_vocabulary():
    a = DedupIndex().signature("我的軟體和滑鼠壞了，請幫忙")
    b = DedupIndex().signature("我的软件和鼠标坏了，请帮忙")
    assert tipline_core.verify(a, b)[1] == 1.0
    assert tipline_core.match_score(a, b) > 0


def test_batch_signatures_are_stable_across_kernels():
    # Signatures are stored, and the kernel is picked per CPU (AVX-512, AVX2
    # or baseline): every one must give these bytes, taken from the AVX2 build.
    texts = [GOLDEN_TEXT, "我的个人信息被泄露了包括电话号码和家庭住址",
             "Mixed 中文 and English, ｆｕｌｌ width", "a b"] + [
        f"report {i} about user {i * 7} posting spam links every night"
        for i in range(200)]
    digest = hashlib.sha256(b"".join(
        DedupIndex(version=1).signatures(texts))).hexdigest()
    assert digest == (
        "0a48b2780f149377e9c054a31159b7c50178bd660d46597c6d9e9fea2f8f4367")
    # Version 2 (no kernel clones, but stored all the same).
    digest = hashlib.sha256(b"".join(
        tipline_core.signatures(texts, version=2))).hexdigest()
    assert digest == (
        "6ec582195c82ede969d3fd724cc20b9e2da4090f078abd982d20a69f7646905d")
    # Version 3 (set deliberately when version 3 was introduced).
    digest = hashlib.sha256(b"".join(DedupIndex().signatures(texts))).hexdigest()
    assert digest == (
        "47c2909c2b0d89d327744426c5e20448d12182360a490a53f29fce7ce882b2dc")


def test_band_keys_are_documented_and_fit_bigint():
    signature = DedupIndex(version=1).signature(GOLDEN_TEXT)
    keys = tipline_core.band_keys(signature)
    assert len(keys) == 32 and len(set(keys)) == 32
    assert all(0 <= key < 2**63 for key in keys)
    values = signature[4:]
    for band in (0, 17, 31):
        rows = values[16 * band:16 * band + 16]
        assert keys[band] == xxh64(bytes([band]) + rows) & (2**63 - 1)
    assert tipline_core.band_keys(DedupIndex().signature("?!")) == []
    signature = DedupIndex().signature(GOLDEN_TEXT)
    keys_v3 = tipline_core.band_keys(signature)
    # A short text (32 shingles): the regular bands and the extra windows.
    assert tipline_core.LSH_BANDS == 42 and tipline_core.LSH_EXTRA_BANDS == 86
    assert len(set(keys_v3)) == 128
    assert not set(keys_v3) & set(keys)
    assert keys_v3[:42] == tipline_core.band_keys(
        tipline_core.signature(GOLDEN_TEXT, version=2))
    for band in (0, 20, 41):
        rows = signature[4 + 12 * band:4 + 12 * band + 12]
        assert keys_v3[band] == xxh64(bytes([0x80 | band]) + rows) & (2**63 - 1)
    starts = [w for w in range(128) if not (w % 3 == 0 and w < 126)]
    values = struct.unpack_from("<128I", signature, 4)
    for extra in (0, 40, 85):
        w = starts[extra]
        rows = struct.pack("<3I", *(values[(w + r) % 128] for r in range(3)))
        assert keys_v3[42 + extra] == xxh64(bytes([0xC0, w]) + rows) & (2**63 - 1)
    # A longer text is stored under (and looks up) the regular bands only.
    medium = tipline_core.signature(EN_A)
    assert len(tipline_core.band_keys(medium)) == 42


def test_batch_signatures_equal_single():
    index = DedupIndex()
    texts = [f"report {i} about spam in group {i % 7} 第{i}号报告" for i in range(3000)]
    batch = index.signatures(texts)
    assert batch[::101] == [index.signature(t) for t in texts[::101]]
    assert index.signatures([]) == []
    assert tipline_core.signatures(texts) == batch
    assert tipline_core.signatures(texts[:50], version=1) == [
        tipline_core.signature(t, version=1) for t in texts[:50]]


def test_signature_errors():
    index = DedupIndex()
    with pytest.raises(InvalidInput, match="text 1"):
        index.signatures(["fine", "bad \udcff"])
    with pytest.raises(TypeError):
        index.signatures("not a list")
    with pytest.raises(InvalidInput, match="text 1"):
        tipline_core.signatures(["fine", "bad \udcff"])
    with pytest.raises(InvalidInput):
        tipline_core.signature("text", version=4)
    good = index.signature(GOLDEN_TEXT)
    for bad in (b"", good[:-1], good + b"\0", b"\x04" + good[1:],
                b"\x02" + good[1:], good[:-3] + b" " + good[-2:],
                good[:2] + b"\x40\x00" + good[4:], good[:1] + b"\x07" + good[2:]):
        with pytest.raises(InvalidInput):
            tipline_core.estimate_similarity(bad, good)
        with pytest.raises(InvalidInput):
            tipline_core.band_keys(bad)
        with pytest.raises(InvalidInput):
            index.add_signature(1, bad)
    with pytest.raises(TypeError):
        tipline_core.band_keys("not bytes")


def test_bytes_like_signatures_are_accepted():
    index = DedupIndex()
    signature = index.signature(GOLDEN_TEXT)
    assert tipline_core.estimate_similarity(memoryview(signature), bytearray(signature)) == 1.0


# --- Similarity ------------------------------------------------------------------

EN_A = ("My landlord has kept the whole deposit for three months and refuses "
        "to answer any of my messages about returning it")
EN_B = ("My landlord has kept the whole deposit for three months and refuses "
        "to answer all of my messages about returning it!")
EN_OTHER = ("Someone keeps posting spam links to a crypto investment scheme in "
            "the football club group chat every night")
ZH_A = "我的个人信息被泄露了，包括电话号码和家庭住址，请尽快处理"
ZH_B = "我的個人信息被洩露了，包括電話號碼和家庭地址，請儘快處理！"
ZH_OTHER = "有人在群里每天晚上发布虚假投资广告，骗了很多老人的钱"


@pytest.mark.parametrize("a, b, other", [(EN_A, EN_B, EN_OTHER), (ZH_A, ZH_B, ZH_OTHER)])
def test_near_duplicates_vs_unrelated(a, b, other):
    index = DedupIndex()
    sa, sb, so = index.signatures([a, b, other])
    assert tipline_core.estimate_similarity(sa, sb) > 0.7
    assert tipline_core.estimate_similarity(sa, so) < 0.1


# --- The index -------------------------------------------------------------------

def test_query_threshold_k_and_order():
    index = DedupIndex(threshold=0.5)
    index.add_many([1, 2, 3, 4], [EN_A, EN_B, EN_OTHER, ZH_A])
    index.add(5, ZH_B)
    assert len(index) == 5 and 1 in index and 9 not in index
    matches = index.query(EN_A)
    assert [key for key, _ in matches] == [1, 2]
    assert matches[0][1] == 1.0 and 0.5 <= matches[1][1] < 1.0
    assert index.query(EN_A, k=1) == matches[:1]
    assert index.query(EN_A, k=0) == []
    assert [key for key, _ in index.query(ZH_B)] == [5, 4]
    assert index.query("nothing like any stored report") == []
    strict = DedupIndex(threshold=0.99, containment=1.0)
    strict.add_many([1, 2], [EN_A, EN_B])
    assert strict.query(EN_A) == [(1, 1.0)]
    assert index.threshold == 0.5 and DedupIndex().threshold == tipline_core.DEFAULT_DEDUP_THRESHOLD
    assert DedupIndex(version=1).threshold == tipline_core.DEFAULT_DEDUP_THRESHOLD_V1
    old = DedupIndex(version=1)
    with pytest.raises(InvalidInput):
        old.add_signature(1, index.signature(EN_A))
    with pytest.raises(InvalidInput):
        DedupIndex(version=4)


def test_the_same_wrapper_around_other_words_is_not_a_duplicate():
    wrap = "Someone forwarded me the following message, see for yourself: "
    first = tipline_core.signature(wrap + "my deposit was kept")
    other = tipline_core.signature(wrap + "fake concert tickets")
    jaccard, _ = tipline_core.verify(first, other)
    assert jaccard > tipline_core.DEFAULT_DEDUP_THRESHOLD
    assert tipline_core.match_score(first, other) == 0.0
    assert tipline_core.match_score(
        first, tipline_core.signature(wrap + "my depsoit was kept!!")) > 0.0
    # A version-2 signature has no matching form to read: Jaccard alone.
    assert tipline_core.match_score(
        tipline_core.signature(wrap + "my deposit was kept", 2), other) == jaccard


def test_a_substituted_identifier_is_not_a_duplicate():
    """Chinese template lines that differ in one identifier, number or run
    of Han characters are different texts; a typo'd identifier, a cut end or
    an affix is not a substitution."""
    journalctl = "表 3.5. 典型的 journalctl 命令片段列表"
    aggregate = "ALTER AGGREGATE - 修改一个聚集函数的定义"
    rejected = [
        (journalctl, "表 3.6. 典型的 systemctl 命令片段列表"),
        (journalctl, "表 3.5. 典型的 systemctl 命令片段列表"),  # the word alone
        (journalctl, "表 3.6. 典型的 journalctl 命令片段列表"),  # the number alone
        (aggregate, "ALTER FUNCTION - 修改一个函数的定义"),
        ("-S 文件 文件存在且为套接字", "-r 文件 文件存在且用户具有读权限"),
        ("迫使一个 IDE 驱动器立即进入最低能耗", "迫使一个 USB 驱动器立即进入最低能耗"),
        ("对于 GUI 版本，在前台运行", "对于 CLI 版本，在前台运行"),
    ]
    index = DedupIndex()
    for a, b in rejected:
        x, y = tipline_core.signature(a), tipline_core.signature(b)
        jaccard, _ = tipline_core.verify(x, y)
        assert jaccard >= tipline_core.jaccard_threshold(
            index.threshold, 10, True), (a, b)  # the overlap alone would match
        assert tipline_core.match_score(x, y) == 0.0, (a, b)
        assert tipline_core.match_score(y, x) == 0.0, (a, b)
    kept = [
        (journalctl, "表 3.5. 典型的 jounralctl 命令片段列表"),  # a typo
        (journalctl, "回复：表 3.5. 典型的 journalctl 命令片段"),  # affix, cut end
        (journalctl, "表 3.5. 典型的 journalctl 命令片段列表 please fix"),
        (aggregate, "Re: ALTER AGGREGATE - 修改一个聚集函数的定义 please fix"),
        (aggregate, "ALTER AGGERGATE - 修改一个聚集函数的定"),  # typo, cut end
        (aggregate, "alter aggregate 修改一个聚集函数的定义"),  # case, punctuation
        ("9.4.1. 系统安全性和完整性检查", "1. 9.4. 系统安全性和完整性检查"),  # reordered
        # one typo in a three-letter word: a letter changed, two swapped
        ("迫使一个 IDE 驱动器立即进入最低能耗", "迫使一个 IDW 驱动器立即进入最低能耗"),
        ("如何解码或创建 web 中的 %-encoding?", "如何解码或创建 wev 中的 %-encoding?"),
        ("对于 GUI 版本，在前台运行", "对于 UGI 版本，在前台运行"),
    ]
    for a, b in kept:
        x, y = tipline_core.signature(a), tipline_core.signature(b)
        assert tipline_core.match_score(x, y) > 0.0, (a, b)
        assert tipline_core.match_score(y, x) > 0.0, (a, b)
    # Through the index, as a filing is checked.
    index.add(1, journalctl)
    assert index.query("表 3.6. 典型的 systemctl 命令片段列表") == []
    assert [key for key, _ in index.query("表 3.5. 典型的 jounralctl 命令片段列表")] == [1]


LONG_REPORT = ("My landlord kept the whole deposit after I moved out in March, although "
               "the flat was cleaned and the inspection found nothing wrong with it.")


def test_pair_features_are_the_models_inputs():
    """pair_features gives the verify model's inputs (dedup_model.h), the
    same whichever text comes first; nothing for signatures without a
    matching form."""
    a = tipline_core.signature("I want another RE-WRIT on my CEASAR SALAD!!")
    b = tipline_core.signature("I wannt another re-write ｏｎ my ceasar salad!!")
    features = tipline_core.pair_features(a, b)
    assert len(features) == 26
    assert features == tipline_core.pair_features(b, a)
    jaccard, containment = tipline_core.verify(a, b)
    assert features[:2] == (jaccard, containment)
    assert features[8:10] == (2.0, 2.0)  # two one-sided gaps: "n" and "e"
    assert features[10] == 0.0  # nothing substituted
    assert tipline_core.pair_features(tipline_core.signature("the same words", 2), a) is None
    with pytest.raises(InvalidInput):
        tipline_core.pair_features(b"not a signature", a)
    # The example is one report twice; a stricter index narrows the
    # model's region: at 1.0, a long report with one typo is out of it.
    assert tipline_core.match_score(a, b) > 0.0
    long_a = tipline_core.signature(LONG_REPORT)
    long_b = tipline_core.signature(LONG_REPORT.replace("deposit", "depsoit"))
    assert tipline_core.match_score(long_a, long_b) > 0.0
    assert tipline_core.match_score(long_a, long_b, threshold=1.0, containment=1.0) == 0.0
    assert tipline_core.match_score(long_a, long_a, threshold=1.0, containment=1.0) == 1.0
    index = DedupIndex()
    index.add(1, "I want another RE-WRIT on my CEASAR SALAD!!")
    assert [key for key, _ in index.query("I wannt another re-write ｏｎ my ceasar salad!!")] == [1]


def test_short_texts_need_less_overlap():
    t = tipline_core.DEFAULT_DEDUP_THRESHOLD
    assert tipline_core.jaccard_threshold(t, 1000, False) == t
    assert abs(tipline_core.jaccard_threshold(t, 10, False) - 0.26) < 1e-9
    assert abs(tipline_core.jaccard_threshold(t, 10, True) - 0.24) < 1e-9
    assert abs(tipline_core.jaccard_threshold(t, 1000, True) - 0.36) < 1e-9


def test_query_many_and_query_signature():
    index = DedupIndex()
    index.add_many([1, 2, 3], [EN_A, EN_OTHER, ZH_A])
    results = index.query_many([EN_B, ZH_B, "unrelated words entirely here"], k=5)
    assert [r[0][0] for r in results[:2]] == [1, 3] and results[2] == []
    assert index.query_signature(index.signature(EN_B)) == index.query(EN_B)


def test_add_signature_round_trip_through_bytes():
    source = DedupIndex()
    stored = {key: source.signature(text) for key, text in [(10, EN_A), (20, ZH_A)]}
    restored = DedupIndex()
    for key, signature in stored.items():
        restored.add_signature(key, signature)
    assert restored.query(EN_B)[0][0] == 10
    assert restored.query(ZH_B)[0][0] == 20


def test_remove_and_replace():
    index = DedupIndex()
    index.add(1, EN_A)
    index.add(2, EN_A)
    assert index.remove(1) is True
    assert index.remove(1) is False
    assert index.query(EN_A) == [(2, 1.0)]
    index.add(2, EN_OTHER)  # replaces
    assert len(index) == 1 and index.query(EN_A) == []


def test_bad_arguments():
    for bad in (0, -1, 1.5, float("nan")):
        with pytest.raises(InvalidInput):
            DedupIndex(threshold=bad)
    index = DedupIndex()
    with pytest.raises(InvalidInput):
        index.add_many([1, 2], ["only one"])
    with pytest.raises(TypeError):
        index.add("key", "text")
    with pytest.raises(InvalidInput):
        index.add(1, "lone \ud800")


def test_threads_share_an_index():
    index = DedupIndex()
    texts = [f"report {i} says user {i * 31} leaked {i % 5} phone numbers in group {i}" for i in range(2000)]
    index.add_many(list(range(2000)), texts)
    errors = []

    def reader(offset):
        for i in range(offset, 2000, 4):
            if index.query(texts[i], k=1)[:1] != [(i, 1.0)]:
                errors.append(i)

    def writer():
        for i in range(2000, 2400):
            index.add(i, f"new report {i} with other words entirely")
        for i in range(2000, 2400, 2):
            index.remove(i)

    threads = [threading.Thread(target=reader, args=(o,)) for o in range(3)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(index) == 2200
