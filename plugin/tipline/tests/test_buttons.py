"""The moderator's hot paths over JSON-RPC, as the web client calls them:
pressing Triage and Resolve, and opening a report's form.  Their SQL is
counted the way tests/bench/button_bench.py counts it, against a bare write
and a bare read of a party by the same user on the same server."""
import os

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase

from trytond.modules.tipline.tests.tools import (
    RPC, category, counting, file_report, form_fields,
    in_committed_transaction, make_party, moderator_group,
    use_throwaway_master_key, writes)

use_throwaway_master_key()

PASSWORD = 'buttons-test-password-1'

# The statements of each call, caches warm, counted over JSON-RPC with the
# session's own: {backend: (Triage, Resolve, opening the form)}.  Before
# the buttons saved in one UPDATE and wrote their history in one INSERT,
# Triage and Resolve each ran 50 (SQLite); then 18 and 20 (SQLite), 20 and
# 22 (PostgreSQL), before the assignee's domain was checked only when
# written, the reporter's mail was queued without its address, Triage left
# the case's figures alone and the chain's head came with the actor.  The
# bare write of a party runs 16 (SQLite) and 18 (PostgreSQL); the bare read
# of a party's form 9 and 13.
CEILINGS = {
    'sqlite': (12, 14, 23),
    'postgresql': (14, 16, 27),
    }


class ButtonsTestCase(RouteTestCase):
    "A moderator's button or form costs about what a bare write or read does"
    module = 'tipline'

    @classmethod
    def setUpDatabase(cls):
        User = Pool().get('res.user')
        reporter, _ = User.create([
                {'name': "Teller", 'login': 'teller',
                    'email': 'teller@example.com'},
                {'name': "Keeper", 'login': 'keeper', 'password': PASSWORD,
                    'email': 'keeper@example.com',
                    'groups': [('add', [moderator_group()])]},
                ])
        cls.reporter_id = reporter.id
        cls.party_id = make_party("Buttons Target Ltd").id

    def file(self, number):
        "A report filed and committed, ready for Triage: its id"
        def file_():
            User = Pool().get('res.user')
            report, _ = file_report(User(self.reporter_id),
                make_party("Target %d" % number), category('fraud'),
                "Invoices for deliveries that never came (%d)." % number)
            return report.id
        return in_committed_transaction(self.db_name, file_)

    def press(self, session, button, report_id):
        "The statements of the button's call, with sao's context"
        with counting() as statements:
            session.call('model.tipline.report.%s' % button,
                [[report_id], {'_timestamp': {}}])
        if os.environ.get('TIPLINE_TRACE'):
            print('\n== %s: %d' % (button, len(statements)))
            for statement in statements:
                print('  ', statement[:300])
        return statements

    def decide(self, session, number):
        """A report taken through Triage and Resolve as a moderator does:
        (Triage's statements, Resolve's statements)"""
        report_id = self.file(number)
        session.call('model.tipline.report.write', [[report_id],
                {'severity_assessment': 'high'}, {}])
        triage = self.press(session, 'triage', report_id)
        session.call('model.tipline.report.write', [[report_id],
                {'outcome': 'upheld', 'truthfulness': 'confirmed'}, {}])
        resolve = self.press(session, 'resolve', report_id)
        state, = session.call('model.tipline.report.read',
            [[report_id], ['state'], {}])
        self.assertEqual(state['state'], 'resolved')
        return triage, resolve

    def bare_write(self, session, number):
        with counting() as statements:
            session.call('model.party.party.write',
                [[self.party_id], {'name': 'Bare %d' % number}, {}])
        return statements

    def test_buttons_statements(self):
        "Triage and Resolve each run a bounded number of statements"
        session = RPC(self, 'keeper', PASSWORD)
        for i in range(2):  # caches warm, as on a running server
            self.bare_write(session, -i), self.decide(session, -i)
        bare = len(self.bare_write(session, 1))
        triage, resolve = self.decide(session, 1)
        if os.environ.get('TIPLINE_TRACE'):
            print('bare write', bare, 'triage', len(triage),
                'resolve', len(resolve))
        triage_ceiling, resolve_ceiling, _ = CEILINGS[backend.name]
        self.assertLessEqual(len(triage), triage_ceiling, triage)
        self.assertLessEqual(len(resolve), resolve_ceiling, resolve)
        # Each button writes the report's row once, its history once and
        # the reporter's mail once, with no address (so no id reserved).
        for statements in (triage, resolve):
            found = writes(statements)
            self.assertEqual(found[('UPDATE', 'tipline_report')], 1, found)
            self.assertEqual(found[('INSERT', 'tipline_audit_event')], 1,
                found)
            self.assertEqual(found[('UPDATE', 'tipline_audit_event')], 0,
                found)
            self.assertEqual(found[('INSERT', 'tipline_mail_queue')], 1,
                found)
            self.assertFalse([s for s in statements
                    if 'reporter_identity_enc' in s], statements)
        # Triage keeps the report open: its case's figures are not read.
        self.assertFalse([s for s in triage if 'tipline_case' in s], triage)
        # Resolve settles the case with its figures, in one UPDATE.
        self.assertEqual(writes(resolve)[('UPDATE', 'tipline_case')], 1,
            resolve)

    def test_form_read_statements(self):
        "Opening a report's form reads it in a bounded number of statements"
        session = RPC(self, 'keeper', PASSWORD)
        report_id = self.file(100)
        fields = form_fields(session.call, 'tipline.report')
        party_fields = form_fields(session.call, 'party.party')
        for _ in range(2):
            session.call('model.tipline.report.read',
                [[report_id], fields, {}])
            session.call('model.party.party.read',
                [[self.party_id], party_fields, {}])
        with counting() as bare:
            session.call('model.party.party.read',
                [[self.party_id], party_fields, {}])
        with counting() as form:
            session.call('model.tipline.report.read',
                [[report_id], fields, {}])
        if os.environ.get('TIPLINE_TRACE'):
            print('\n== form read: %d (party %d)' % (len(form), len(bare)))
            for statement in form:
                print('  ', statement[:300])
        self.assertLessEqual(len(form), CEILINGS[backend.name][2], form)


del RouteTestCase
