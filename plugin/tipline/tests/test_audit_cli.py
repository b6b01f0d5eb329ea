import hashlib
import io
import os
import tempfile
import unittest
from unittest import mock

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.tipline import audit_cli
from trytond.modules.tipline.tests.tools import (
    category, make_party, use_throwaway_master_key)

use_throwaway_master_key()


def run(*argv):
    "main(argv): (exit status, stdout, stderr)"
    out, err = io.StringIO(), io.StringIO()
    with mock.patch('sys.stderr', err):
        status = audit_cli.main(list(argv), out=out)
    return status, out.getvalue(), err.getvalue()


class AuditCliTestCase(unittest.TestCase):
    "tipline-audit verify checks every report and names broken events"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['tipline'])
        cls.addClassCleanup(drop_db)
        with Transaction().start(DB_NAME, 1) as transaction:
            Report = Pool().get('tipline.report')
            party, spam = make_party("Audited Ltd"), category('spam')
            cls.numbers = []
            for text in ("Adverts pasted into forty records.",
                    "More adverts pasted into other records."):
                report, _ = Report.file(party, spam, text)
                Report.write([report], {'severity_assessment': 'low'})
                Report.triage([report])
                cls.numbers.append(report.tracking_number)
            transaction.commit()

    def test_intact_then_tampered(self):
        status, out, _ = run('verify', '-d', DB_NAME, '--batch-size', '1')
        self.assertEqual(status, 0, out)
        self.assertIn('2 reports checked, every history intact', out)

        with Transaction().start(DB_NAME, 0) as transaction:
            Event = Pool().get('tipline.audit_event')
            Report = Pool().get('tipline.report')
            report, = Report.search(
                [('tracking_number', '=', self.numbers[1])])
            table = Event.__table__()
            transaction.connection.cursor().execute(*table.update(
                    [table.actor], ['someone-else'],
                    where=(table.report == report.id)
                    & (table.sequence == 2)))
            transaction.commit()
        status, out, _ = run('verify', '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn('%s: history broken at event #2' % self.numbers[1],
            out)
        self.assertNotIn(self.numbers[0], out)
        self.assertIn('1 with a broken history', out)

    def test_anchor_catches_a_cut_tail(self):
        "A chain proves its links; only an anchor proves its last events"
        status, text, _ = run('anchor', '-d', DB_NAME)
        self.assertEqual(status, 0)
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith('tipline-audit anchor 1 %s '
                % DB_NAME))
        self.assertTrue(lines[-1].startswith('digest '))
        heads = {l.split()[0]: l.split()[1] for l in lines[1:-1]}
        self.assertEqual(set(heads), set(self.numbers))
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, 'heads.anchor')
        status, _, err = run('anchor', '-d', DB_NAME, '-o', path)
        self.assertEqual(status, 0, err)
        status, _, err = run('anchor', '-d', DB_NAME, '-o', path)
        self.assertEqual(status, 2)  # an anchor is never overwritten
        self.assertIn('cannot write', err)

        status, out, _ = run('verify', '-d', DB_NAME, '--anchor', path)
        self.assertEqual(status, 0, out)
        self.assertIn('2 anchored events, all present', out)

        # Someone with write access to the database cuts the first
        # report's last event: its chain still verifies on its own.
        number = self.numbers[0]
        with Transaction().start(DB_NAME, 0) as transaction:
            Event = Pool().get('tipline.audit_event')
            Report = Pool().get('tipline.report')
            report, = Report.search([('tracking_number', '=', number)])
            table = Event.__table__()
            transaction.connection.cursor().execute(*table.delete(
                    where=(table.report == report.id)
                    & (table.sequence == int(heads[number]))))
            transaction.commit()
        status, out, _ = run('verify', '-d', DB_NAME)
        self.assertNotIn(number, out)
        status, out, _ = run('verify', '-d', DB_NAME, '--anchor', path)
        self.assertEqual(status, 1)
        self.assertIn('%s: history cut, anchored event #%s is gone'
            % (number, heads[number]), out)
        self.assertIn('1 missing or changed', out)

        # The anchor itself is checked: here its first head is dropped.
        with open(path, encoding='ascii') as file:
            lines = file.read().splitlines(keepends=True)
        with open(path, 'w', encoding='ascii') as file:
            file.write(''.join(lines[:1] + lines[2:]))
        status, _, err = run('verify', '-d', DB_NAME, '--anchor', path)
        self.assertEqual(status, 2)
        self.assertIn('does not match its digest', err)
        status, _, err = run('verify', '-d', DB_NAME, '--anchor', __file__)
        self.assertEqual(status, 2)
        self.assertIn('is not a tipline-audit anchor', err)
        # A malformed line under a matching digest is named, not a crash.
        body = lines[0] + 'TL-XXXX two 00\n'
        with open(path, 'w', encoding='ascii') as file:
            file.write(body + 'digest %s\n' % hashlib.sha256(
                    body.encode('ascii')).hexdigest())
        status, _, err = run('verify', '-d', DB_NAME, '--anchor', path)
        self.assertEqual(status, 2)
        self.assertIn('line 2 is not', err)

    def test_unknown_database(self):
        status, _, err = run('verify', '-d', 'no_such_database_xyz')
        self.assertEqual(status, 2)
        self.assertIn('tipline-audit: error:', err)
