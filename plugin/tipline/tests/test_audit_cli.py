import io
import unittest
from unittest import mock

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.tipline import audit_cli
from trytond.modules.tipline.tests.tools import (
    use_throwaway_master_key)

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
            pool = Pool()
            Party = pool.get('party.party')
            Category = pool.get('tipline.category')
            Report = pool.get('tipline.report')
            party = Party(name="Audited Ltd")
            party.save()
            spam, = Category.search([('code', '=', 'spam')])
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

    def test_unknown_database(self):
        status, _, err = run('verify', '-d', 'no_such_database_xyz')
        self.assertEqual(status, 2)
        self.assertIn('tipline-audit: error:', err)
