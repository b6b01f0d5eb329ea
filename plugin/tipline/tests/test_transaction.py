"""Transactions: every button is all or nothing, and concurrent filings,
each in its own transaction as trytond's workers run them, join one case
and take their turns.

A transaction that fails after a button changed a report's state leaves no
trace of it, so the retry that trytond makes (or the moderator's second
press) finds the report as it was.

Run with ``[cache] clean_timeout = 0`` too: on SQLite, trytond's cache
synchronisation switched the connection of the running transaction to
autocommit, so each statement of a button committed on its own (the state
changed, then the retry answered "You can not call ..." and the history
event, the appeal deadline and the survey flag were lost)."""
import collections
import threading
import time
import unittest

import trytond.config as config
from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction, TransactionError

from trytond.modules.tipline.tests.tools import (
    category, file_report, make_party, moderator_group,
    use_throwaway_master_key)

use_throwaway_master_key()

LOCK = {'_lock_tables': ['tipline_report']}


def fresh_database(test_class):
    """A database of its own for a test class that commits (dropped after
    it), so that no other test sees what it did"""
    drop_db()
    activate_module(['tipline'])
    test_class.addClassCleanup(drop_db)


class Failure(Exception):
    "What fails after the button: a locked database, a lost connection"


class ButtonAtomicityTestCase(unittest.TestCase):
    "A button's state change, history, deadline and flags land together"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fresh_database(cls)
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
        if backend.name == 'sqlite':
            # Every transaction synchronises the cache, as with several
            # processes on one SQLite file.  (PostgreSQL would listen on a
            # channel instead, in a thread holding a connection.)
            saved = config.get('cache', 'clean_timeout')
            self.addCleanup(config.set, 'cache', 'clean_timeout', saved)
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


def as_dispatched(function, *args, user=0):
    """Run function in a committed transaction as trytond's dispatcher runs
    a request: started again with the locks it asked for, and again after a
    transient database error"""
    retry = config.getint('database', 'retry')
    count, extras = 0, {}
    while True:
        if count:
            time.sleep(0.02 * count)
        with Transaction().start(DB_NAME, user, **extras) as transaction:
            try:
                result = function(*args)
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            except backend.DatabaseOperationalError:
                if count == retry:
                    raise
                transaction.rollback()
                count += 1
                continue
            transaction.commit()
            return result, count


@unittest.skipUnless(backend.name == 'postgresql',
    "concurrent transactions need a database server")
class ConcurrentFilingTestCase(unittest.TestCase):
    """Filings at the same moment, in transactions of their own, as
    several trytond processes run them on one PostgreSQL database"""
    FILINGS = 8

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fresh_database(cls)
        with Transaction().start(DB_NAME, 0,
                _lock_tables=['tipline_configuration']) as transaction:
            pool = Pool()
            User = pool.get('res.user')
            Configuration = pool.get('tipline.configuration')
            cls.reporters = [u.id for u in User.create([{
                            'login': 'concurrent_reporter%d' % i,
                            'name': "Reporter %d" % i}
                        for i in range(cls.FILINGS)])]
            User.create([{
                        'login': 'concurrent_moderator%d' % i,
                        'name': "Moderator %d" % i,
                        'groups': [('add', [moderator_group()])]}
                    for i in range(3)])
            cls.moderators = [u.id for u in User.search(
                    [('groups', '=', moderator_group())])]
            cls.party = make_party("Concurrent Ltd").id
            cls.category = category('fraud').id
            Configuration.write([Configuration(1)],
                {'assignment_method': 'round_robin'})
            transaction.commit()

    def file(self, reporter, start):
        def filing():
            pool = Pool()
            Report = pool.get('tipline.report')
            User = pool.get('res.user')
            report, _ = file_report(User(reporter),
                pool.get('party.party')(self.party),
                pool.get('tipline.category')(self.category),
                "The supplier's bank details were changed twice this week "
                "by reporter %d's account." % reporter)
            return report.id, report.case.id, report.assigned_to.id
        start.wait(60)
        return as_dispatched(filing)

    def test_filings_about_one_record_join_one_case_and_take_turns(self):
        """Eight filings about one record at once: all filed, one case, the
        moderators' turns taken in order, none lost or given twice"""
        start = threading.Barrier(self.FILINGS)
        results, errors = [], []

        def run(reporter):
            try:
                results.append(self.file(reporter, start))
            except Exception as error:
                errors.append(error)
        threads = [threading.Thread(target=run, args=(r,))
            for r in self.reporters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), self.FILINGS)
        cases = {case for (_, case, _), _ in results}
        self.assertEqual(len(cases), 1, results)
        turns = collections.Counter(user for (_, _, user), _ in results)
        self.assertEqual(set(turns), set(self.moderators))
        self.assertLessEqual(max(turns.values()) - min(turns.values()), 1)
        with Transaction().start(DB_NAME, 0):
            Case = Pool().get('tipline.case')
            case, = Case.browse(list(cases))
            self.assertEqual(case.report_count, self.FILINGS)
            self.assertEqual(case.reporter_count, self.FILINGS)


if __name__ == '__main__':
    unittest.main()
