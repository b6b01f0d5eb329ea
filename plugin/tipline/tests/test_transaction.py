"""Every button is all or nothing: a transaction that fails after a button
changed a report's state leaves no trace of it, so the retry that trytond
makes (or the moderator's second press) finds the report as it was.

Run with ``[cache] clean_timeout = 0`` too: on SQLite, trytond's cache
synchronisation switched the connection of the running transaction to
autocommit, so each statement of a button committed on its own (the state
changed, then the retry answered "You can not call ..." and the history
event, the appeal deadline and the survey flag were lost)."""
import unittest

import trytond.config as config
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.tipline.tests.tools import (
    category, file_report, make_party, moderator_group,
    use_throwaway_master_key)

use_throwaway_master_key()

LOCK = {'_lock_tables': ['tipline_report']}


class Failure(Exception):
    "What fails after the button: a locked database, a lost connection"


class ButtonAtomicityTestCase(unittest.TestCase):
    "A button's state change, history, deadline and flags land together"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['tipline'])
        cls.addClassCleanup(drop_db)
        with Transaction().start(DB_NAME, 0) as transaction:
            User = Pool().get('res.user')
            reporter, moderator = User.create([{
                        'login': 'atomic_reporter', 'name': "Ray Reporter",
                        }, {
                        'login': 'atomic_moderator', 'name': "Mo Moderator",
                        'groups': [('add', [moderator_group()])],
                        }])
            cls.moderator = moderator.id
            report, _ = file_report(reporter, make_party("Atomic Ltd"),
                category('fraud'), "Invoices re-addressed to a private "
                "account after the supplier's bank details changed.")
            cls.report = report.id
            transaction.commit()

    def setUp(self):
        super().setUp()
        saved = config.get('cache', 'clean_timeout')
        self.addCleanup(config.set, 'cache', 'clean_timeout', saved)
        # Every transaction synchronises the cache, as with several
        # processes on one SQLite file.
        config.set('cache', 'clean_timeout', '0')

    def snapshot(self):
        "What a button changes, read in a transaction of its own"
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Report = pool.get('tipline.report')
            Event = pool.get('tipline.audit_event')
            report = Report(self.report)
            return {
                'state': report.state,
                'triaged_at': report.triaged_at,
                'resolved_at': report.resolved_at,
                'assigned_to': report.assigned_to,
                'appeal_deadline': report.appeal_deadline,
                'survey_invited': report.survey_invited,
                'events': [(e.kind, e.details) for e in Event.search(
                        [('report', '=', self.report)])],
                'mail': Pool().get('tipline.mail_queue').search_count(
                    [('report', '=', self.report)]),
                }

    def press(self, button, values=None, fail=False):
        "Press button as the moderator; fail after it, as a lost lock would"
        with Transaction().start(
                DB_NAME, self.moderator, **LOCK) as transaction:
            Report = Pool().get('tipline.report')
            report = Report(self.report)
            if values:
                Report.write([report], values)
            getattr(Report, button)([report])
            if fail:
                raise Failure
            transaction.commit()

    def assertNothingChanged(self, button, values):
        before = self.snapshot()
        with self.assertRaises(Failure):
            self.press(button, values, fail=True)
        self.assertEqual(self.snapshot(), before)
        # The retry finds the report as it was: no "You can not call".
        self.press(button, values)
        after = self.snapshot()
        self.assertNotEqual(after['state'], before['state'])
        self.assertGreater(len(after['events']), len(before['events']))
        return after

    def test_buttons_are_all_or_nothing(self):
        "Triage, Investigate and Resolve fail whole, then succeed whole"
        after = self.assertNothingChanged(
            'triage', {'severity_assessment': 'high'})
        self.assertEqual(after['state'], 'triaged')
        self.assertTrue(after['triaged_at'])
        self.assertTrue(after['assigned_to'])

        after = self.assertNothingChanged('investigate', None)
        self.assertEqual(after['state'], 'investigating')

        after = self.assertNothingChanged('resolve', {
                'outcome': 'upheld', 'truthfulness': 'confirmed',
                'reporter_message': "We stopped the payment."})
        self.assertEqual(after['state'], 'resolved')
        self.assertTrue(after['resolved_at'])
        self.assertTrue(after['appeal_deadline'])
        self.assertTrue(after['survey_invited'])


if __name__ == '__main__':
    unittest.main()
