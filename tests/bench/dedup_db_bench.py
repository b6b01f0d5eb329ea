"""Benchmark (not a test) of the near-duplicate index in the database, through
the module's own code (tipline.report.signature and tipline.report.band).

    DB_NAME=:memory: .venv/bin/python tests/bench/dedup_db_bench.py
    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        DB_NAME=tipline_bench .venv/bin/python tests/bench/dedup_db_bench.py \\
        --reports 100000

Creates a database with the tipline module, files --reports report rows
(report-like English and Chinese texts, one open case per ten reports), stores each
report's encrypted signature and blinded band keys, then times, per
submission, the candidate query on the band index alone and the whole
lookup a filing does (query + decryption + native similarity, open cases
only), for near-duplicates of stored texts and for new texts.  Prints
figures; nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from dedup_bench import chinese, report_like  # noqa: E402


def percentiles(samples):
    samples = sorted(samples)
    return (samples[len(samples) // 2] * 1e3,
        samples[min(len(samples) - 1, len(samples) * 99 // 100)] * 1e3)


def perturb(rng, text):
    "A near-duplicate: a few words or characters changed"
    if ' ' in text:
        words = text.split()
        for _ in range(max(1, len(words) // 20)):
            words[rng.randrange(len(words))] = rng.choice(
                ['typo', 'teh', 'plz', 'really'])
        return ' '.join(words)
    chars = list(text)
    for _ in range(max(1, len(chars) // 25)):
        chars[rng.randrange(len(chars))] = '的'
    return ''.join(chars)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--reports', type=int, default=20000)
    parser.add_argument('--queries', type=int, default=400)
    parser.add_argument('--seed', type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault('DB_NAME', ':memory:')

    from trytond.modules.tipline.tests.tools import use_throwaway_master_key
    use_throwaway_master_key()
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module
    from trytond.transaction import Transaction, without_check_access
    from trytond import backend
    import tipline_core

    rng = random.Random(args.seed)
    half = args.reports // 2
    texts = report_like(rng, half) + chinese(rng, args.reports - half)
    rng.shuffle(texts)

    started = time.perf_counter()
    activate_module('tipline')
    print("backend %s, database ready in %.1f s" % (
            backend.name, time.perf_counter() - started))

    with Transaction().start(DB_NAME, 0) as transaction, \
            without_check_access():
        pool = Pool()
        Report = pool.get('tipline.report')
        Case = pool.get('tipline.case')
        Category = pool.get('tipline.category')
        Party = pool.get('party.party')
        Signature = pool.get('tipline.report.signature')
        Configuration = pool.get('tipline.configuration')
        category, = Category.search([('code', '=', 'spam')], limit=1)
        parties = Party.create([{'name': 'Target %d' % i}
                for i in range(max(1, args.reports // 10))])
        cases = Case.create([{'state': 'open'} for _ in parties])

        started = time.perf_counter()
        from trytond.modules.tipline.clock import now as utcnow
        now = utcnow().replace(second=0, microsecond=0)
        ids = []
        batch = 1000
        for start in range(0, args.reports, batch):
            rows = []
            for i in range(start, min(start + batch, args.reports)):
                rows.append({
                        'tracking_number': 'BENCH-%08d' % i,
                        'target': str(parties[i // 10]),
                        'target_label': parties[i // 10].name,
                        'category': category.id,
                        'state': 'submitted',
                        'submitted_at': now,
                        'resolve_by': now,
                        'case': cases[i // 10].id,
                        'subject_tokens': '',
                        })
            ids.extend(r.id for r in Report.create(rows))
        print("%d report rows in %.1f s" % (
                len(ids), time.perf_counter() - started))

        started = time.perf_counter()
        signatures = tipline_core.signatures(texts)
        print("signatures: %.0f /s (batch)" % (
                len(texts) / (time.perf_counter() - started)))

        started = time.perf_counter()
        for report_id, signature in zip(ids, signatures):
            Signature.store(Report(report_id), signature)
        elapsed = time.perf_counter() - started
        print("stored %d encrypted signatures + %d blinded band keys: "
            "%.0f reports/s (%.2f ms each)" % (
                len(ids), sum(len(tipline_core.band_keys(s)) for s in signatures),
                len(ids) / elapsed, elapsed / len(ids) * 1e3))
        transaction.commit()
        # As autovacuum would after a bulk load: without statistics the
        # planner of PostgreSQL scans every open case instead of the band
        # index.
        transaction.connection.cursor().execute('ANALYZE')
        transaction.commit()

        threshold = Configuration(1).get_dedup_threshold()
        case_table = Case.__table__()
        open_cases = case_table.select(
            case_table.id, where=case_table.state == 'open')

        def lookup(signature):
            return Signature.similar(signature, threshold,
                where=lambda r: r.case.in_(open_cases))

        def band_query(signature):
            return Signature.candidates(signature)

        picks = [rng.randrange(len(texts)) for _ in range(args.queries)]
        duplicates = tipline_core.signatures(
            [perturb(rng, texts[i]) for i in picks])
        fresh = tipline_core.signatures(
            report_like(rng, args.queries // 2)
            + chinese(rng, args.queries - args.queries // 2))
        for label, queries in (
                ("near-duplicate", duplicates), ("new text", fresh)):
            query_times, lookup_times, found, candidates = [], [], 0, 0
            originals = 0
            for k, signature in enumerate(queries):
                start = time.perf_counter()
                candidates += len(band_query(signature))
                query_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                matches = lookup(signature)
                lookup_times.append(time.perf_counter() - start)
                found += bool(matches)
                if label == "near-duplicate":
                    originals += ids[picks[k]] in {r for r, _ in matches}
            print("%-15s band query p50 %.2f ms p99 %.2f ms | "
                "filing lookup p50 %.2f ms p99 %.2f ms | "
                "%.1f candidates/query, match found %d/%d%s" % (
                    label, *percentiles(query_times),
                    *percentiles(lookup_times),
                    candidates / len(queries), found, len(queries),
                    ", the text it copies found %d/%d" % (
                        originals, len(queries))
                    if label == "near-duplicate" else ""))
        transaction.rollback()


if __name__ == '__main__':
    main()
