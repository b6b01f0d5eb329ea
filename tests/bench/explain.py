"""EXPLAIN ANALYZE of the queries the indexes of docs/indexes.md serve, on
a PostgreSQL database made by generate.py.

    .venv/bin/python tests/bench/explain.py NAME [--only LABEL]

The queries are those trytond runs for the paths (as moderator_bench.py
calls them), with the moderator's record rule; values are taken from the
database: the most reported record, the bands of a report, last month.
"""
import argparse
import sys

import psycopg

OPEN = "('submitted', 'acknowledged', 'triaged', 'investigating', " \
    "'awaiting_reporter')"
# The moderator's record rule: own reports, or not about them.
RULE = ("((COALESCE(a.reporter_token, '') = 'x') OR "
    "(COALESCE(a.subject_tokens, '') NOT LIKE '%%x%%'))")
ORDER = 'ORDER BY a.priority DESC NULLS LAST, a.submitted_at DESC, a.id DESC'


def queries(cursor):
    cursor.execute('SELECT target FROM tipline_report GROUP BY target '
        'ORDER BY COUNT(*) DESC LIMIT 1')
    target, = cursor.fetchone()
    cursor.execute('SELECT report FROM tipline_report_band '
        'ORDER BY report DESC LIMIT 1')
    report, = cursor.fetchone()
    cursor.execute('SELECT band FROM tipline_report_band WHERE report = %s',
        (report,))
    bands = ', '.join(str(b) for b, in cursor)
    return [
        ('queue page, default order',
            'SELECT a.id FROM tipline_report a WHERE %s %s LIMIT 1000'
            % (RULE, ORDER)),
        ('queue page, Open tab',
            'SELECT a.id FROM tipline_report a WHERE a.state IN %s AND %s '
            '%s LIMIT 1000' % (OPEN, RULE, ORDER)),
        ('tab count, Open',
            'SELECT COUNT(*) FROM tipline_report a WHERE a.state IN %s AND '
            '%s' % (OPEN, RULE)),
        ('queue page, Near Due tab',
            'SELECT a.id FROM tipline_report a WHERE a.state IN %s AND '
            '((a.statutory_warning_at <= now() AND a.statutory_due >= now()) '
            'OR (a.resolve_warning_at <= now() AND a.resolve_by >= now())) '
            'AND %s %s LIMIT 1000' % (OPEN, RULE, ORDER)),
        ('least-loaded assignment (each filing)',
            'SELECT assigned_to, COUNT(id) FROM tipline_report WHERE state '
            'IN %s AND assigned_to IS NOT NULL AND assigned_to IN (1, 2, 3, '
            '4, 5, 6, 7, 8) GROUP BY assigned_to' % OPEN),
        ('review of last month (by category)',
            "SELECT category, COUNT(id) FROM tipline_report WHERE "
            "submitted_at >= date_trunc('month', now()) - interval '1 month' "
            "AND submitted_at < date_trunc('month', now()) "
            "GROUP BY category"),
        ("choose_case: the record's open case",
            "SELECT a.case FROM tipline_report a WHERE a.target = '%s' AND "
            "a.case IN (SELECT id FROM tipline_case WHERE state = 'open') "
            "ORDER BY a.case LIMIT 1" % target),
        # Signature.candidates for a stored text: its keys, 16 newest
        # reports a key, the 64 sharing the most, then their signatures and
        # data keys.
        ('near-duplicate band query',
            'SELECT e.id, e.report, e.signature_enc, f.data_key_enc FROM '
            '(SELECT c.report AS report, COUNT(1) AS hits FROM '
            'UNNEST(CAST(ARRAY[%s] AS BIGINT[])) AS b (band) CROSS JOIN '
            'LATERAL (SELECT d.report FROM tipline_report_band AS d WHERE '
            'd.band = b.band ORDER BY d.report DESC LIMIT 16) AS c '
            'GROUP BY c.report ORDER BY COUNT(1) DESC, c.report DESC '
            'LIMIT 64) AS a INNER JOIN tipline_report_signature AS e ON '
            'a.report = e.report INNER JOIN tipline_report AS f ON '
            'f.id = e.report ORDER BY a.hits DESC, e.report DESC' % bands),
        ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('name')
    parser.add_argument('--only')
    args = parser.parse_args()
    with psycopg.connect(host='127.0.0.1', user='postgres',
            dbname=args.name) as connection:
        cursor = connection.cursor()
        for label, sql in queries(cursor):
            if args.only and args.only not in label:
                continue
            cursor.execute(sql)  # warm
            cursor.fetchall()
            cursor.execute('EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ' + sql)
            print('--', label)
            print('\n'.join(r[0] for r in cursor))
            print()


if __name__ == '__main__':
    sys.exit(main())
