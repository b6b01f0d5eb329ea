"""The filing pipeline (filing.py): the SQL it runs, counted the way the
benchmark counts it, against a bare create by the same user over JSON-RPC."""
from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase

from trytond.modules.tipline.tests.tools import (
    RPC, category, counting, make_party, use_throwaway_master_key, writes)

use_throwaway_master_key()

PASSWORD = 'filing-test-password-1'


class FilingTestCase(RouteTestCase):
    "Filing costs about what a bare create costs"
    module = 'tipline'

    @classmethod
    def setUpDatabase(cls):
        User = Pool().get('res.user')
        User.create([{'name': "Filer", 'login': 'filer',
                    'password': PASSWORD, 'email': 'filer@example.com'}])
        cls.party_id = make_party("Filing Target Ltd").id
        cls.category_id = category('fraud').id

    def submit(self, session, anonymous=False, number=0):
        "The statements of the Report wizard's submit call"
        wizard_id, context = session.start_report(self.party_id)
        with counting() as statements:
            session.call('wizard.tipline.report.submit.execute', [wizard_id,
                    {'start': {'category': str(self.category_id),
                            'anonymous': anonymous,
                            'description': "Invoices for deliveries that "
                            "never came, month after month (%d)." % number}},
                    'submit', context])
        session.call('wizard.tipline.report.submit.delete',
            [wizard_id, context])
        return statements

    def create(self, session, number=0):
        with counting() as statements:
            session.call('model.party.party.create',
                [[{'name': 'Bare %d' % number}], {}])
        return statements

    def test_statements_within_half_again_a_bare_create(self):
        """A filing runs at most 1.5x the statements of a bare party
        create, named or anonymous, alone in its case or joining one"""
        session = RPC(self, 'filer', PASSWORD)
        for i in range(2):  # caches warm, as on a running server
            self.create(session, -i), self.submit(session, number=-i)
        bare = len(self.create(session, 1))
        for i, anonymous in enumerate((False, True, False), 2):
            with self.subTest(anonymous=anonymous):
                count = len(self.submit(session, anonymous, i))
                self.assertLessEqual(count, 1.5 * bare,
                    "%d statements against %d" % (count, bare))

    def test_each_row_written_once(self):
        """The report, its signature, its first events and its mail are
        inserted once each and never updated in the filing"""
        session = RPC(self, 'filer', PASSWORD)
        self.submit(session, number=10)  # the case exists from now on
        found = writes(self.submit(session, number=11))
        for table in ('tipline_report', 'tipline_report_signature',
                'tipline_report_band', 'tipline_audit_event',
                'tipline_mail_queue'):
            with self.subTest(table=table):
                self.assertEqual(found[('INSERT', table)], 1, found)
                self.assertEqual(found[('UPDATE', table)], 0, found)
        # The wizard's session row goes, and SMTP is never reached.
        self.assertEqual(found[('DELETE', 'ir_session_wizard')], 1, found)


del RouteTestCase
