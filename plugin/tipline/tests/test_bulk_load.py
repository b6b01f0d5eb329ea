"""The benchmarks' bulk path (tests/bench/bulk.py) writes the rows filing
writes: the same reports filed through Report.file and through the loader
store the same values, up to ids, times, random numbers and nonces, and the
module reads what the loader wrote."""
import datetime as dt
import json
import os
import sys
import unittest

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from trytond.modules.tipline import clock
from trytond.modules.tipline.encrypted import decrypt_values
from trytond.modules.tipline.tests.tools import (
    category, file_report, make_party, use_throwaway_master_key)

use_throwaway_master_key()

BENCH = os.path.join(os.path.dirname(os.path.realpath(__file__)),
    '..', '..', '..', 'tests', 'bench')
TEXTS = [
    ("The supplier notes of this party list the bank account and the home "
        "address of our treasurer, visible to everyone.", False),
    ("Invoices for deliveries that never arrived, sent by this supplier "
        "every month since spring.", True),
    ("Again: invoices for deliveries that never arrived, every month, and "
        "nobody answers the phone.", False),
    ]
# Columns that differ by design: ids, times taken to the second, random
# numbers; encrypted columns are compared by plaintext.
SKIP = {'id', 'create_date', 'write_date', 'create_uid', 'write_uid',
    'tracking_number', 'message_id', 'link_hash', 'timestamp', 'target',
    'report', 'case', 'receipt_hash', 'next_try'}


def bulk():
    if not os.path.isfile(os.path.join(BENCH, 'bulk.py')):
        raise unittest.SkipTest('tests/bench is not beside the module')
    sys.path.insert(0, os.path.abspath(BENCH))
    try:
        import bulk
    finally:
        sys.path.pop(0)
    return bulk


def rows(table, column, value, order='id'):
    cursor = Transaction().connection.cursor()
    cursor.execute('SELECT * FROM "%s" WHERE "%s" = %s ORDER BY %s' % (
            table, column, '%s' if '%s' in Transaction().database.flavor.param
            else '?', order), (value,))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor]


def normal(row, start):
    "row without what differs by design; times relative to start, in minutes"
    result = {}
    for name, value in row.items():
        if name in SKIP or name.endswith('_enc'):
            continue
        if isinstance(value, str) and len(value) >= 19 and value[4] == '-' \
                and value[10] in ' T' and value[13] == ':':
            value = dt.datetime.fromisoformat(value)
        if isinstance(value, dt.datetime):
            value = round((value - start).total_seconds() / 60)
        if name == 'details' and row.get('kind') == 'case_join':
            value = {k: v for k, v in json.loads(value).items()
                if k != 'case'}
        if isinstance(value, float):  # the priority's time used
            value = round(value, 3)
        if name == 'priority_inputs' and value:
            value = {k: round(v, 3) for k, v in json.loads(value).items()}
        if isinstance(value, memoryview):
            value = bytes(value)
        result[name] = value
    return result


class BulkLoadTestCase(unittest.TestCase):
    "The bulk path writes the rows filing writes"
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        activate_module('tipline')

    def stored(self, report_id):
        "Every row of the report, normalised, and its plaintexts"
        pool = Pool()
        Report = pool.get('tipline.report')
        Mail = pool.get('tipline.mail_queue')
        Signature = pool.get('tipline.report.signature')
        Keyset = pool.get('tipline.keyset')
        report, = rows('tipline_report', 'id', report_id)
        start = report['submitted_at']
        if isinstance(start, str):
            start = dt.datetime.fromisoformat(start)
        record = Report(report_id)
        mails = rows('tipline_mail_queue', 'report', report_id)
        signature, = rows('tipline_report_signature', 'report', report_id)
        key = Keyset.data_keys([report_id])[report_id]
        case, = rows('tipline_case', 'id', report['case'])
        return {
            'report': normal(report, start),
            'description': record.description,
            'identity': record.reporter_identity(),
            'receipt': report['receipt_hash'] is not None,
            'target': record.target,
            'case': normal(case, start),
            'signature': (normal(signature, start), Keyset.decrypt(
                    Signature.__name__, 'signature', signature['id'],
                    signature['signature_enc'], data_key=key)),
            'bands': sorted(r['band'] for r in rows(
                    'tipline_report_band', 'report', report_id)),
            'events': [normal(e, start) for e in rows(
                    'tipline_audit_event', 'report', report_id,
                    'sequence')],
            'mail': [normal(m, start) for m in mails],
            'recipients': sorted(decrypt_values(
                    Mail.browse([m['id'] for m in mails]),
                    'recipient').values()),
            'history': pool.get('tipline.audit_event').verify([report_id]),
            }

    @with_transaction()
    def test_rows_as_filing_writes_them(self):
        "Each row a report's filing writes, and the case it opens or joins"
        pool = Pool()
        User = pool.get('res.user')
        Report = pool.get('tipline.report')
        loader_module = bulk()
        user, = User.create([{'name': "Bulk Filer", 'login': 'bulk_filer',
                    'email': 'bulk-filer@example.com'}])
        User.write([user], {'create_date': dt.datetime(2020, 1, 1)})
        fraud = category('fraud')
        # Two records of one name: same label, two sets of rows to compare.
        filed, loaded = make_party("Acme Bulk"), make_party("Acme Bulk")
        start = clock.real_now().replace(second=0, microsecond=0) + (
            dt.timedelta(minutes=1, seconds=5))
        ids = []
        for i, (text, anonymous) in enumerate(TEXTS):
            with clock.travelled(start + dt.timedelta(minutes=10 * i)
                    - clock.real_now()):
                report, _ = file_report(user, filed, fraud, text,
                    anonymous=anonymous)
            ids.append(report.id)
        loader = loader_module.BulkLoader()
        bulk_ids = []
        for i, (text, anonymous) in enumerate(TEXTS):
            row = loader.file(user.id, loaded, fraud, text, anonymous,
                start + dt.timedelta(minutes=10 * i))
            bulk_ids.append(row['id'])
        loader.finish()
        for filed_id, bulk_id in zip(ids, bulk_ids):
            expected, got = self.stored(filed_id), self.stored(bulk_id)
            self.assertEqual(got['target'], loaded)
            del expected['target'], got['target']
            self.assertEqual(got['history'], {bulk_id: None})
            del expected['history'], got['history']
            self.assertEqual(got, expected)
        self.assertEqual(len({Report(i).case for i in bulk_ids}), 1)

    @with_transaction()
    def test_moderated_history_verifies(self):
        "The loader's moderation steps keep the history's chain intact"
        pool = Pool()
        User = pool.get('res.user')
        Report = pool.get('tipline.report')
        Event = pool.get('tipline.audit_event')
        loader_module = bulk()
        moderator, = User.create([{'name': "Bulk Moderator",
                    'login': 'bulk_moderator'}])
        party = make_party("Bulk Moderated")
        loader = loader_module.BulkLoader()
        start = clock.real_now() - dt.timedelta(days=40)
        ids = []
        for i, state in enumerate(['triaged', 'investigating', 'resolved',
                    'closed']):
            row = loader.file(moderator.id, party, category('spam'),
                TEXTS[0][0] + ' (%d)' % i, True, start)
            loader.moderate(row, state, moderator.id, moderator.login,
                [start + dt.timedelta(days=d) for d in range(1, 5)],
                outcome='not_upheld')
            ids.append(row['id'])
        loader.finish()
        self.assertEqual(Event.verify(ids), {i: None for i in ids})
        self.assertEqual([r.state for r in Report.browse(ids)],
            ['triaged', 'investigating', 'resolved', 'closed'])
        self.assertTrue(Report(ids[0]).assigned_to)
        resolved, closed = Report(ids[2]), Report(ids[3])
        self.assertTrue(resolved.appeal_deadline)
        # As Resolve saves them: the explanation given, the survey invited.
        self.assertTrue(resolved.outcome_explanation)
        self.assertEqual(resolved.outcome_explanation,
            resolved.explain('not_upheld'))
        self.assertTrue(resolved.survey_invited)
        # A closed report waits for the retention cron's expiry.
        self.assertTrue(closed.expiry_pending)
        self.assertFalse(closed.expires_at)

