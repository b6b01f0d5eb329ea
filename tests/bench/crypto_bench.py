"""Field-encryption benchmark (not a test): encrypt+decrypt round trips of
256 B, 1 KiB and 16 KiB from C++ (tests/bench/crypto_bench.cc) and from
Python (tipline_core.FieldCipher), beside cryptography's AESGCM and
``openssl speed -evp aes-256-gcm``; plus receipt hashing and blind indexes.

    PYTHONPATH=python .venv/bin/python tests/bench/crypto_bench.py \
        [--cpp-bench build/tests/crypto_bench] [--seconds 0.5]

Latency is per round trip (one encrypt and one decrypt); throughput counts
the plaintext bytes through both (2 x size / latency). Needs the
``cryptography`` package for the comparison (skipped with a note if absent).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time
import timeit

import tipline_core

SIZES = (256, 1024, 16384)
AAD = b"tipline.report|description|123456"
ROOT = pathlib.Path(__file__).resolve().parents[2]


def per_call_ns(function, seconds: float) -> float:
    """Best of 5 timing runs, each about seconds/5 long."""
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    runs = max(1, int(number * (seconds / 5) / 0.2))
    return min(timer.repeat(repeat=5, number=runs)) / runs * 1e9


def row(label: str, size: int, ns: float) -> None:
    mb_per_s = 2 * size / ns * 1e3 if size else 0.0
    print(f"  {label:<34} {size:>6} B  {ns / 1000:>8.2f} us  {mb_per_s:>8.0f} MB/s")


def bench_cpp(path: pathlib.Path | None, seconds: float) -> dict[int, float]:
    candidates = [path] if path else [
        ROOT / "build-crypto" / "tests" / "crypto_bench",
        ROOT / "build" / "tests" / "crypto_bench",
    ]
    executable = next((p for p in candidates if p and p.exists()), None)
    if executable is None:
        print("  (no crypto_bench executable: build with TIPLINE_BUILD_TESTS)")
        return {}
    output = subprocess.run(
        [str(executable), str(seconds)], check=True, capture_output=True, text=True
    ).stdout
    results = {}
    for line in output.splitlines():
        name, size, ns, _ = line.split()
        if name == "cpp_receipt_hash":
            print(f"  {'C++ HashReceipt (default params)':<34} {'':>8}  "
                  f"{float(ns) / 1e6:>8.1f} ms")
            continue
        label = {"cpp_field_cipher": "C++ FieldCipher",
                 "cpp_aes_gcm_raw": "C++ AES-256-GCM (explicit IV)"}[name]
        row(label, int(size), float(ns))
        if name == "cpp_field_cipher":
            results[int(size)] = float(ns)
    return results


def bench_python(seconds: float) -> dict[int, float]:
    cipher = tipline_core.FieldCipher(tipline_core.Keyset.generate())
    results = {}
    for size in SIZES:
        plaintext = os.urandom(size)
        encrypt, decrypt = cipher.encrypt, cipher.decrypt
        ns = per_call_ns(lambda: decrypt(encrypt(plaintext, AAD), AAD), seconds)
        row("Python tipline_core.FieldCipher", size, ns)
        results[size] = ns
    return results


def bench_cryptography(seconds: float) -> dict[int, float]:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        print("  (cryptography not installed: pip install cryptography)")
        return {}
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    results = {}
    for size in SIZES:
        plaintext = os.urandom(size)

        def round_trip():
            iv = os.urandom(12)  # like FieldCipher: a fresh random IV each time
            aead.decrypt(iv, aead.encrypt(iv, plaintext, AAD), AAD)

        ns = per_call_ns(round_trip, seconds)
        row("Python cryptography AESGCM", size, ns)
        results[size] = ns
    return results


def bench_openssl_speed() -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        print("  (no openssl command)")
        return
    result = subprocess.run(
        [openssl, "speed", "-evp", "aes-256-gcm", "-seconds", "1"],
        capture_output=True, text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    # The last two lines: the header of block sizes and the 1000s of bytes/s.
    for line in lines[-2:]:
        print("  " + line)
    print("  (encryption only, 1000s of bytes per second, per block size)")


def bench_other(seconds: float) -> None:
    master = tipline_core.new_master_key()
    indexer = tipline_core.BlindIndexer(master)
    value = b"alice@example.org"
    ns = per_call_ns(lambda: indexer.index(value), seconds)
    print(f"  {'BlindIndexer.index (17 B)':<34} {'':>8}  {ns / 1000:>8.2f} us")
    receipt = tipline_core.new_receipt()
    start = time.perf_counter()
    stored = tipline_core.hash_receipt(receipt)
    hashed = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(5):
        assert tipline_core.verify_receipt(receipt, stored)
    verified = (time.perf_counter() - start) / 5
    print(f"  {'hash_receipt (N=2^%d, r=%d, p=%d)' % tuple(stored[1:4]):<34} "
          f"{'':>8}  {hashed * 1e3:>8.1f} ms")
    print(f"  {'verify_receipt':<34} {'':>8}  {verified * 1e3:>8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpp-bench", type=pathlib.Path)
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="measuring time per case (default 0.5)")
    args = parser.parse_args()

    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print("encrypt+decrypt round trips:")
    cpp = bench_cpp(args.cpp_bench, args.seconds)
    ours = bench_python(args.seconds)
    theirs = bench_cryptography(args.seconds)
    if theirs:
        print("speed-up of tipline_core over cryptography (Python, round trip):")
        for size in SIZES:
            print(f"  {size:>6} B  {theirs[size] / ours[size]:.2f}x")
    if cpp:
        print("Python overhead over C++ per round trip:")
        for size in SIZES:
            print(f"  {size:>6} B  {(ours[size] - cpp[size]) / 1000:.2f} us")
    print("openssl speed -evp aes-256-gcm -seconds 1:")
    bench_openssl_speed()
    print("other:")
    bench_other(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
