"""Benchmark (not a test) of tipline_core's near-duplicate and scoring code,
against datasketch and rensa (dev requirements only).

    PYTHONPATH=python .venv/bin/python tests/bench/dedup_bench.py [--full]

Prints signatures/s (batch from Python, English and Chinese short texts,
version 3 and version 1; wall clock, and per CPU-second of all threads,
since the machine may be shared), query latency p50/p99 with 100k (and, with
--full, 1M) stored signatures of report-like text (and at 100k, of text
from a 45-word vocabulary, the worst case for character shingles),
and the time to score 1M reports plus top-100. With --full the native
figures of the C++ program tests/bench/dedup_bench.cc (build/tests/dedup_bench:
signatures on one thread and on all cores, the verify step's parts (overlap,
substance check of an English pair and of a short Chinese line), 1M
stored signatures of report-sized and of short texts queried without
Python, scoring's wall and CPU time) follow in the same run.

Peers: datasketch and rensa from PyPI (requirements-bench.txt), and the Go
library github.com/ekzhu/minhash-lsh from Debian (apt-get install golang-go
golang-github-ekzhu-minhash-lsh-dev), through tests/bench/go/minhash_peer.go,
built here on the fly with the same texts. With --full (or --db N) the
database figures of dedup_db_bench.py follow, at 100k reports (or N), in the
same run (--full --no-db leaves them out).
"""

from __future__ import annotations

import array
import itertools
import os
import pathlib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import tipline_core

WORDS = (
    "the a my our their landlord deposit refuses return tenant police "
    "harassment spam fraud account message phone contact data leak report "
    "user posted private address threatening violent repeated photos without "
    "consent group chat every night money scam link please help since weeks "
    "manager shop online order never delivered refund ignored again"
).split()
HAN = ("我的个人信息被泄露了包括电话号码和家庭住址请尽快处理有人在群里每天晚上发布虚假"
       "投资广告骗了很多老人的钱房东押金拒绝退还已经三个月没有回复网店订单从未发货")


def english(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        words, length, target = [], 0, rng.randint(100, 300)
        while length < target:
            words.append(rng.choice(WORDS))
            length += len(words[-1]) + 1
        out.append(" ".join(words))
    return out


def _pseudo_words(count: int) -> list[str]:
    rng = random.Random(1234)
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                    for _ in range(rng.randint(3, 10))) for _ in range(count)]


# A report-like vocabulary: the words above and 3,000 more, drawn with
# Zipf weights (1 / rank). Unrelated texts then share a few character
# 3-grams (mean exact Jaccard about 0.05), as unrelated reports do; with the
# 45 words alone every text shares most of its 3-grams with every other
# (mean 0.20), the worst case for character shingles.
VOCABULARY = list(WORDS) + _pseudo_words(3000)
ZIPF_CUMULATIVE = list(itertools.accumulate(
    1.0 / (rank + 1) for rank in range(len(VOCABULARY))))


def report_like(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        target = rng.randint(100, 300)
        words = rng.choices(VOCABULARY, cum_weights=ZIPF_CUMULATIVE, k=80)
        text = " ".join(words)
        cut = text.find(" ", target)
        out.append(text if cut < 0 else text[:cut])
    return out


def chinese(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(HAN) for _ in range(rng.randint(50, 120))) for _ in range(n)]


def rates(function, count: int, repeat: int = 3) -> str:
    """Items per second of wall clock, and per CPU-second of all the
    process's threads (best of repeat each): on a machine other work shares,
    the second is the steadier figure."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return f"{count / best_wall:>10,.0f} /s ({count / best_cpu:,.0f} per CPU-second)"


def percentiles(samples_ns: list[int]) -> str:
    samples = sorted(samples_ns)
    p50 = samples[len(samples) // 2] / 1000
    p99 = samples[len(samples) * 99 // 100] / 1000
    return f"p50 {p50:.1f} us, p99 {p99:.1f} us"


def bench_signatures(rng: random.Random) -> None:
    texts = english(rng, 100_000)
    zh = chinese(rng, 20_000)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"mean length: English {statistics.mean(map(len, texts)):.0f} chars, "
          f"Chinese {statistics.mean(map(len, zh)):.0f} chars")
    print("tipline signatures (batch, English):  "
          + rates(lambda: tipline_core.signatures(texts), len(texts)))
    print("tipline version-1 signatures (batch, English): "
          + rates(lambda: tipline_core.signatures(texts, version=1), len(texts)))
    print("tipline signatures (batch, Chinese):  "
          + rates(lambda: tipline_core.signatures(zh), len(zh)))
    traditional = [t.replace("个", "個").replace("电", "電") for t in zh]
    print("tipline signatures (batch, trad. Chinese, through OpenCC): "
          + rates(lambda: tipline_core.signatures(traditional), len(traditional)))

    try:
        from rensa import RMinHash
    except ImportError:
        print("rensa not installed")
    else:
        def rensa_batch():
            RMinHash.digests_from_token_sets([t.split() for t in texts], num_perm=128, seed=42)
        print("rensa digests_from_token_sets (words): " + rates(rensa_batch, len(texts)))

    try:
        from datasketch import MinHash
    except ImportError:
        print("datasketch not installed")
    else:
        sample = texts[:5000]
        def datasketch_batch():
            MinHash.bulk([[w.encode() for w in t.split()] for t in sample], num_perm=128)
        print("datasketch MinHash.bulk (words):      "
              + rates(datasketch_batch, len(sample), repeat=1))


def bench_queries(rng: random.Random, stored: int, words=report_like,
                  label: str = "report-like vocabulary") -> None:
    texts = words(rng, stored)
    index = tipline_core.DedupIndex()
    start = time.perf_counter()
    for begin in range(0, stored, 100_000):
        index.add_many(range(begin, min(stored, begin + 100_000)), texts[begin:begin + 100_000])
    print(f"stored {stored:,} ({label}): built in {time.perf_counter() - start:.1f} s")
    near = [t + " again" for t in rng.sample(texts, 1000)]
    other = words(random.Random(99), 1000)
    queries = near + other
    signatures = index.signatures(queries)
    for item_label, function, items in (
        ("query(text)", index.query, queries),
        ("query_signature(bytes)", index.query_signature, signatures),
    ):
        samples = []
        for item in items:
            t0 = time.perf_counter_ns()
            function(item)
            samples.append(time.perf_counter_ns() - t0)
        print(f"  tipline {item_label:<24} from Python: {percentiles(samples)}")
    hits = sum(1 for r in index.query_many(near, k=1) if r)
    print(f"  near-duplicates found: {hits}/{len(near)}")
    if words is not report_like:
        return

    if stored <= 100_000:
        try:
            from rensa import RMinHash, RMinHashLSH
        except ImportError:
            return
        lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=32)
        for key, minhash in enumerate(RMinHash.from_token_sets([t.split() for t in texts], num_perm=128, seed=42)):
            lsh.insert(key, minhash)
        query_hashes = RMinHash.from_token_sets([q.split() for q in queries], num_perm=128, seed=42)
        samples = []
        for minhash in query_hashes:
            t0 = time.perf_counter_ns()
            lsh.query(minhash)
            samples.append(time.perf_counter_ns() - t0)
        print(f"  rensa RMinHashLSH.query (unranked candidates): {percentiles(samples)}")
        bench_go(texts, queries)


GO_LIBRARY = pathlib.Path("/usr/share/gocode/src/github.com/ekzhu/minhash-lsh")


def bench_go(texts: list[str], queries: list[str]) -> None:
    "The Go peer on the same stored texts and queries"
    go = shutil.which("go")
    if not go or not GO_LIBRARY.is_dir():
        print("  Go peer skipped: apt-get install golang-go "
              "golang-github-ekzhu-minhash-lsh-dev")
        return
    source = pathlib.Path(__file__).with_name("go") / "minhash_peer.go"
    with tempfile.TemporaryDirectory() as directory:
        work = pathlib.Path(directory)
        shutil.copy(source, work / "minhash_peer.go")
        env = dict(os.environ, GOPATH="/usr/share/gocode", GO111MODULE="off",
                   GOCACHE=str(work / "cache"), GOFLAGS="")
        subprocess.run([go, "build", "-o", "minhash_peer", "."], cwd=work,
                       env=env, check=True)
        (work / "stored.txt").write_text("\n".join(texts) + "\n")
        (work / "queries.txt").write_text("\n".join(queries) + "\n")
        output = subprocess.run(
            [str(work / "minhash_peer"), "stored.txt", "queries.txt"],
            cwd=work, check=True, capture_output=True, text=True).stdout
    figures = dict(line.split(" ", 1) for line in output.splitlines())
    print(f"  Go ekzhu/minhash-lsh signatures (words, one by one): "
          f"{float(figures['go_signatures_per_s']):>10,.0f} /s")
    print(f"  Go ekzhu/minhash-lsh query(text) (unranked candidates): "
          f"p50 {figures['go_query_p50_us']} us, p99 {figures['go_query_p99_us']} us")


def bench_scoring(rng: random.Random) -> None:
    n = 1_000_000
    columns = (
        array.array("d", (rng.random() for _ in range(n))),
        array.array("d", (float(rng.randint(1, 20)) for _ in range(n))),
        array.array("d", (float(rng.randint(0, 40)) for _ in range(n))),
        array.array("d", (float(rng.randint(0, 40)) for _ in range(n))),
        array.array("d", (float(rng.randint(0, 5)) for _ in range(n))),
        array.array("d", (float(rng.randint(0, 3)) for _ in range(n))),
        array.array("d", (rng.random() * 1.2 for _ in range(n))),
    )
    weights = tipline_core.ScoreWeights()

    def best_of(repeat, **kwargs):
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            result = tipline_core.score_batch(*columns, weights, **kwargs)
            best = min(best, time.perf_counter() - start)
        return best, result

    fresh, scores = best_of(5)
    reused, _ = best_of(5, out=array.array("d", bytes(8 * n)))
    start = time.perf_counter()
    top = tipline_core.top_k(scores, 100)
    top_time = time.perf_counter() - start
    print(f"score_batch 1M (float64 columns, best of 5): {reused * 1e3:.1f} ms "
          f"into a reused out= buffer, {fresh * 1e3:.1f} ms with a new array; "
          f"top_k 100: {top_time * 1e3:.1f} ms; best score {top[0][1]:.1f}")
    # The same reports in the columns' natural widths, read in place: 18
    # bytes a report instead of 56.
    float64 = columns
    columns = (array.array("f", float64[0]),
               *(array.array("H", map(int, c)) for c in float64[1:6]),
               array.array("f", float64[6]))
    fresh, _ = best_of(5)
    reused, _ = best_of(5, out=array.array("d", bytes(8 * n)))
    print(f"score_batch 1M (float32 and uint16 columns, best of 5): "
          f"{reused * 1e3:.1f} ms into a reused out= buffer, "
          f"{fresh * 1e3:.1f} ms with a new array")


def bench_native() -> None:
    "The C++ program's figures (1M stored signatures, scoring without Python)"
    program = (pathlib.Path(__file__).resolve().parents[2]
               / "build" / "tests" / "dedup_bench")
    print("natively (tests/bench/dedup_bench.cc):", flush=True)
    if not program.exists():
        print("  not built: cmake --build build --target dedup_bench")
        return
    output = subprocess.run([str(program)], check=True, capture_output=True,
                            text=True).stdout
    for line in output.splitlines():
        print("  " + line)


def bench_database(reports: int) -> None:
    "dedup_db_bench.py in a throwaway SQLite database, in this run"
    print(f"through the database ({reports:,} reports, SQLite in memory):",
          flush=True)
    env = dict(os.environ, DB_NAME=os.environ.get("DB_NAME", ":memory:"))
    subprocess.run([sys.executable, str(pathlib.Path(__file__).with_name(
        "dedup_db_bench.py")), "--reports", str(reports)], env=env, check=True)


def main() -> None:
    rng = random.Random(2024)
    bench_signatures(rng)
    bench_queries(rng, 100_000)
    bench_queries(rng, 100_000, english,
                  "the 45-word vocabulary, the worst case for character shingles")
    if "--full" in sys.argv:
        bench_queries(rng, 1_000_000)
    bench_scoring(rng)
    if "--full" in sys.argv:
        bench_native()
    if "--db" in sys.argv:
        bench_database(int(sys.argv[sys.argv.index("--db") + 1]))
    elif "--full" in sys.argv and "--no-db" not in sys.argv:
        bench_database(100_000)


if __name__ == "__main__":
    main()
