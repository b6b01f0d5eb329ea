"""Retention, proved: reports with a marker in every encrypted field, and in
the clear columns the purge empties, expire under a policy as the clock
moves on, and their content leaves every byte Tipline controls (the SQLite
file and its write-ahead log, or a pg_dump) while the history still
verifies, against an anchor made before, and last period's review keeps its
figures.  A legal hold stops the purge; an appeal and a later message move
the expiry.

On SQLite the scenario runs on a file database (a copy of the test
database), so that the file and its log can be read."""
import datetime as dt
import io
import os
import shutil
import sqlite3
import tempfile
import unittest
from unittest import mock

from dateutil.relativedelta import relativedelta

from sql import Column, Null, Table
from werkzeug.test import Client
from werkzeug.wrappers import Response

from trytond import backend, config
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction, check_access
from trytond.wsgi import app

from trytond.modules.tipline import audit_cli, clock, retention
from trytond.modules.tipline.encrypted import encrypted_columns
from trytond.modules.tipline.tests import tools

tools.use_throwaway_master_key()

REMINDER = dt.timedelta(days=30)
# One marker per place a purged report keeps something: every encrypted
# field (messages and files included) and the clear columns the purge
# empties.
MARKERS = {
    'description': 'PURGE-DESCRIPTION-4471',
    'anonymous description': 'PURGE-ANONYMOUS-8820',
    'evidence name': 'PURGE-FILENAME-1306',
    'evidence data': 'PURGE-FILEDATA-5542',
    'evidence notes': 'PURGE-EVIDENCENOTE-2287',
    'internal notes': 'PURGE-INTERNALNOTE-7719',
    'message': 'PURGE-MESSAGE-6604',
    'internal message': 'PURGE-INTERNALMSG-3395',
    'reply': 'PURGE-REPLY-9931',
    'reply file name': 'PURGE-REPLYNAME-1150',
    'reply file data': 'PURGE-REPLYDATA-4418',
    'appeal reason': 'PURGE-APPEAL-2764',
    'reporter message': 'PURGE-TOREPORTER-8053',
    'case message': 'PURGE-CASEMSG-6129',
    'identity access reason': 'PURGE-REVEALWHY-3047',
    }


def run_audit(*argv):
    "tipline-audit main(argv): (exit status, stdout)"
    out = io.StringIO()
    with mock.patch('sys.stderr', io.StringIO()):
        status = audit_cli.main(list(argv), out=out)
    return status, out.getvalue()


class RetentionTestCase(unittest.TestCase):
    "Expiry, legal hold and purge under a retention policy"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['tipline'])
        cls.addClassCleanup(drop_db)
        cls.directory = tempfile.mkdtemp(prefix='tipline-retention-')
        cls.addClassCleanup(shutil.rmtree, cls.directory, True)
        cls.db = DB_NAME
        if backend.name == 'sqlite':
            cls.db = cls.file_database()
        cls.addClassCleanup(clock.reset)
        cls.scenario()

    @classmethod
    def file_database(cls):
        "A file copy of the test database, opened as its own database"
        name = 'tipline_retention_proof'
        with Transaction().start(DB_NAME, 0) as transaction:
            target = sqlite3.connect(
                os.path.join(cls.directory, name + '.sqlite'))
            transaction.connection.backup(target)
            target.close()
        saved = config.get('database', 'path')
        config.set('database', 'path', cls.directory)
        cls.addClassCleanup(config.set, 'database', 'path', saved)
        cls.addClassCleanup(backend.Database(name).close)
        Pool(name).init()
        return name

    def committed(self, function, user=0):
        return tools.in_committed_transaction(self.db, function, user=user)

    # The scenario ------------------------------------------------------------

    @classmethod
    def scenario(cls):
        self = cls('run')
        self.start = clock.real_now()
        self.committed(self.set_up_policy)
        self.reports = self.committed(self.file_reports)
        self.committed(self.converse_and_decide)
        self.review_figures = self.committed(self.make_review)
        # Day 5: the named reporter appeals; day 15: the appeal windows of
        # the others pass; day 20: the appeal is decided.
        clock.travel(days=5)
        self.committed(self.appeal)
        clock.travel(days=10)
        self.committed(lambda: self.close_decided())
        clock.travel(days=5)
        self.committed(self.decide_appeal)
        self.expiries_after_closure = self.committed(self.expiries)
        # Day 30: a moderator's note on the closed report is activity.
        clock.travel(days=10)
        self.committed(self.note_after_closure)
        self.expiries_after_note = self.committed(self.expiries)
        self.committed(self.hold)
        self.anchor = os.path.join(cls.directory, 'before-purge.anchor')
        cls.anchor_status = run_audit(
            'anchor', '-d', self.db, '-o', self.anchor)
        self.ciphertexts = self.committed(self.purged_ciphertexts)
        self.recomputed_before = self.committed(self.recompute_review)
        self.clear_before = self.committed(self.clear_values)
        self.cases_before = self.committed(self.case_figures)
        # Day 355: the first two are reminded (they expire on day 380),
        # nothing is purged; day 390: those two are purged, the named one
        # (day 395) reminded; day 421: it is purged too.
        clock.travel(days=325)
        self.reminded = self.committed(self.apply)
        self.reminder_mails = self.committed(self.reminders)
        clock.travel(days=35)
        self.purged_first = self.committed(self.apply)
        clock.travel(days=31)
        self.purged_last = self.committed(self.apply)
        for name in ('start', 'reports', 'review_figures',
                'expiries_after_closure', 'expiries_after_note', 'ciphertexts',
                'recomputed_before', 'cases_before',
                'clear_before', 'reminded', 'reminder_mails', 'purged_first',
                'purged_last'):
            setattr(cls, name, getattr(self, name))

    def set_up_policy(self):
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        Jurisdiction = pool.get('tipline.jurisdiction')
        Rule = pool.get('tipline.retention.rule')
        User = pool.get('res.user')
        eu, = Jurisdiction.search([('code', '=', 'eu_whistleblowing')])
        config_ = Configuration(1)
        config_.default_jurisdiction = eu
        config_.retention_reminder_days = REMINDER.days
        # The status page stays open longer than the content is kept.
        config_.receipt_access_days = 730
        config_.save()
        Rule.create([{
                    'jurisdiction': eu.id, 'period': 1,
                    'period_unit': 'year', 'outcome': 'any',
                    }, {
                    # Shorter for spam that was not upheld: unused here,
                    # but it must not capture the reports of other
                    # categories.
                    'jurisdiction': eu.id, 'period': 6,
                    'period_unit': 'month', 'outcome': 'not_upheld',
                    'category': tools.category('spam').id,
                    }])
        admin, = User.search([('login', '=', 'admin')])
        admin.email = 'retention-admin@example.com'
        admin.save()

    def file_reports(self):
        "{name: (report id, receipt)}"
        pool = Pool()
        User = pool.get('res.user')
        Report = pool.get('tipline.report')
        reporter, = User.create([{'name': "Retention Reporter",
                    'login': 'retention-reporter',
                    'email': 'retention-reporter@example.com'}])
        fraud = tools.category('fraud')
        filed = {}
        named, _ = tools.file_report(reporter,
            tools.make_party("Retention Supplier A"), fraud,
            "%s: invoices for work never done." % MARKERS['description'],
            evidence=[(MARKERS['evidence name'] + '.txt',
                    MARKERS['evidence data'].encode())])
        filed['named'] = (named.id, None)
        # The held report is about the same supplier as the plain one:
        # they share a case, which the plain one leaves when purged.
        shared = tools.make_party("Retention Supplier B")
        for name, text, party in (
                ('anonymous', "%s: a ledger altered after the audit."
                    % MARKERS['anonymous description'],
                    tools.make_party("Retention Supplier C")),
                ('plain', "Expenses claimed twice for the same trip.",
                    shared),
                ('held', "Payments to a company owned by a manager.",
                    shared)):
            report, receipt = Report.file(party, fraud, text,
                anonymous=True)
            filed[name] = (report.id, receipt)
        return filed

    def report(self, name):
        return Pool().get('tipline.report')(self.reports[name][0])

    def converse_and_decide(self):
        "Notes, messages with files, a revealed identity; all resolved"
        pool = Pool()
        Report = pool.get('tipline.report')
        Message = pool.get('tipline.message')
        Access = pool.get('tipline.identity_access')
        Case = pool.get('tipline.case')
        named = self.report('named')
        Report.write([named], {
                'evidence_notes': MARKERS['evidence notes'],
                'internal_notes': MARKERS['internal notes'],
                })
        Message.post_as_moderator(named, MARKERS['message'])
        Message.post_as_moderator(named, MARKERS['internal message'],
            visibility='internal')
        Message.post_as_reporter(Report(named.id), MARKERS['reply'],
            files=[(MARKERS['reply file name'] + '.txt',
                    MARKERS['reply file data'].encode())])
        Access.create([{'report': named.id, 'custodian': 1,
                    'accessed_at': clock.now(),
                    'reason': MARKERS['identity access reason']}])
        Case.write([named.case], {'reporter_message': MARKERS['case message']})
        for name in self.reports:
            tools.resolve_reports([self.report(name)], 'not_upheld',
                message=(MARKERS['reporter message']
                    if name == 'named' else "Nothing was found."))

    def make_review(self):
        "The figures of the review of the filings' month, as frozen"
        Review = Pool().get('tipline.review')
        review = Review.make('monthly', self.start.date())
        return review.id, self.review_snapshot(review)

    @staticmethod
    def review_snapshot(review):
        summary = {name: getattr(review, name) for name in (
                'report_count', 'resolved_count', 'upheld_share',
                'resolve_median', 'resolve_p90', 'sla_resolve', 'accuracy')}
        lines = sorted((line.kind, line.key, line.value)
            for line in review.lines)
        return summary, lines

    def recompute_review(self):
        """The review's figures computed again now, but for the hot spots,
        which the purge forgets with the reported records"""
        Review = Pool().get('tipline.review')
        summary, lines = Review(self.review_figures[0]).compute()
        return summary, sorted(
            (line['kind'], line['key'], line['value']) for line in lines
            if not line['kind'].startswith('hot_'))

    def appeal(self):
        Report = Pool().get('tipline.report')
        Report.appeal(self.report('named'), MARKERS['appeal reason'])

    def close_decided(self):
        Pool().get('tipline.report').close_decided()

    def decide_appeal(self):
        Report = Pool().get('tipline.report')
        named = self.report('named')
        Report.write([named], {'outcome': 'not_upheld'})
        Report.resolve([named])
        self.close_decided()

    def expiries(self):
        return {name: self.report(name).expires_at for name in self.reports}

    def note_after_closure(self):
        Message = Pool().get('tipline.message')
        Message.post_as_moderator(self.report('named'),
            "Filed with the auditors.", visibility='internal')

    def hold(self):
        pool = Pool()
        Retention = pool.get('tipline.report.retention')
        Hold = pool.get('tipline.report.retention.hold', type='wizard')
        held = Retention(self.reports['held'][0])
        session_id, _, _ = Hold.create()
        wizard = Hold(session_id)
        wizard.start.reason = "Evidence in the proceedings against the manager."
        with Transaction().set_context(
                active_model=Retention.__name__, active_id=held.id,
                active_ids=[held.id]):
            wizard.transition_hold()

    def purged_reports(self):
        return [self.reports[n][0] for n in ('named', 'anonymous', 'plain')]

    def purged_ciphertexts(self):
        """Every stored ciphertext of the reports to be purged, and their
        wrapped keys"""
        cursor = Transaction().connection.cursor()
        ids = self.purged_reports()
        found = []
        for encrypted in encrypted_columns():
            if not (encrypted.report or encrypted.wraps_keys):
                continue
            table = Table(encrypted.table)
            owner = (table.id if encrypted.report in (None, 'id')
                else Column(table, encrypted.report))
            value = Column(table, encrypted.column)
            cursor.execute(*table.select(value,
                    where=owner.in_(ids) & (value != Null)))
            found.extend(bytes(v) for v, in cursor)
        return found

    def clear_values(self):
        "The clear columns with markers the purge empties, as stored"
        cursor = Transaction().connection.cursor()
        values = []
        for table, column in (('tipline_report', 'reporter_message'),
                ('tipline_case', 'reporter_message'),
                ('tipline_identity_access', 'reason')):
            table = Table(table)
            cursor.execute(*table.select(Column(table, column)))
            values.extend(v for v, in cursor
                if v and v in MARKERS.values())
        return values

    def case_figures(self):
        "{name: (case id, reports, reporters)} of the reports' cases"
        figures = {}
        for name in self.reports:
            case = self.report(name).case
            figures[name] = (case.id, case.report_count, case.reporter_count)
        return figures

    def apply(self):
        "The cron job: {name} of the reports it purged"
        Report = Pool().get('tipline.report')
        purged = {r.id for r in Report.apply_retention()}
        return {n for n, (i, _) in self.reports.items() if i in purged}

    def reminders(self):
        "{(report name, recipient)} of the expiry reminders queued"
        Queue = Pool().get('tipline.mail_queue')
        names = {i: n for n, (i, _) in self.reports.items()}
        return {(names[m.report.id], m.address())
            for m in Queue.search([('template', '=', 'retention')])}

    def stored_bytes(self):
        """Every byte Tipline controls: the SQLite file and its log, or a
        pg_dump of the database"""
        if backend.name == 'postgresql':
            return tools.pg_dump(self.db)
        path = os.path.join(self.directory, self.db + '.sqlite')
        data = b''
        for suffix in ('', '-wal'):
            if os.path.exists(path + suffix):
                with open(path + suffix, 'rb') as file:
                    data += file.read()
        return data

    # Tests -------------------------------------------------------------------

    def test_the_policy_purges_in_order(self):
        "Reminded first, purged after the notice, the latest expiry last"
        self.assertEqual(self.reminded, set())
        self.assertEqual(self.reminder_mails, {
                ('anonymous', 'retention-admin@example.com'),
                ('plain', 'retention-admin@example.com')})
        self.assertEqual(self.purged_first, {'anonymous', 'plain'})
        self.assertEqual(self.purged_last, {'named'})

    def test_markers_and_ciphertexts_are_gone(self):
        """No marker, in clear or hex, and no byte of a purged ciphertext
        is left in the file, its log or the dump"""
        self.assertTrue(self.ciphertexts)
        self.assertEqual(len(self.clear_before), 3, self.clear_before)
        stored = self.stored_bytes()
        self.assertIn(b'tipline_report', stored)
        # (assertFalse: a failure must not print the whole file)
        for what, marker in MARKERS.items():
            for form in (marker.encode(), marker.encode().hex().encode()):
                self.assertFalse(form in stored, what)
        for ciphertext in self.ciphertexts:
            # The IV and the first bytes: unique to each ciphertext.
            unique = ciphertext[5:29]
            self.assertFalse(unique in stored, unique.hex())
            self.assertFalse(unique.hex().encode() in stored, unique.hex())

    def test_tombstones_keep_what_statistics_need(self):
        def check():
            Report = Pool().get('tipline.report')
            for name in ('named', 'anonymous', 'plain'):
                report = self.report(name)
                self.assertTrue(report.purged_at)
                self.assertEqual(report.state, 'closed')
                self.assertEqual(report.outcome, 'not_upheld')
                self.assertEqual(report.category.code, 'fraud')
                # No link to what remains; the case counts it still.
                self.assertIsNone(report.case)
                self.assertTrue(report.submitted_at and report.closed_at)
                self.assertIsNone(report.description)
                self.assertIsNone(report.reporter_message)
                self.assertIsNone(report.target)
                self.assertEqual(report.evidence, ())
                self.assertEqual(report.messages, ())
            self.assertIsNone(self.report('named').appeal_reason)
            self.assertIsNone(self.report('named').evidence_notes)
            # The held one keeps everything.
            held = self.report('held')
            self.assertFalse(held.purged_at)
            self.assertTrue(held.description)
            return Report.search([('purged_at', '!=', None)], count=True)
        self.assertEqual(self.committed(check), 3)

    def test_cases_count_their_deleted_reports(self):
        "Reports and reporters stay, even after the case is counted again"
        def figures():
            Case = Pool().get('tipline.case')
            result = {}
            for name, (case_id, _, _) in self.cases_before.items():
                case = Case(case_id)
                before = (case.report_count, case.reporter_count)
                Case.update([case])
                case = Case(case_id)
                self.assertEqual(
                    (case.report_count, case.reporter_count), before)
                result[name] = (case_id, case.report_count,
                    case.reporter_count, len(case.reports),
                    case.purged_count or 0, case.target_label)
            return result
        after = self.committed(figures)
        for name, (case_id, reports, reporters) in self.cases_before.items():
            self.assertEqual(after[name][:3], (case_id, reports, reporters))
        # The plain report left the case it shares with the held one,
        # which keeps its label; the others left cases now empty.
        self.assertEqual(after['held'], after['plain'])
        self.assertEqual(after['held'][1:5], (2, 2, 1, 1))
        self.assertTrue(after['held'][5])
        for name in ('named', 'anonymous'):
            self.assertEqual(after[name][1:], (1, 1, 0, 1, None), name)

    def test_history_verifies_against_the_anchor_made_before(self):
        self.assertEqual(self.anchor_status[0], 0)
        status, out = run_audit('verify', '-d', self.db,
            '--anchor', os.path.join(self.directory, 'before-purge.anchor'))
        self.assertEqual(status, 0, out)
        self.assertIn('every history intact', out)
        self.assertIn('all present', out)

        def last_events():
            Event = Pool().get('tipline.audit_event')
            result = {}
            for name in self.reports:
                events = Event.search([('report', '=', self.reports[name][0])],
                    order=[('sequence', 'DESC')], limit=1)
                result[name] = events[0]
            return {n: (e.kind, e.details) for n, e in result.items()}
        events = self.committed(last_events)
        for name in ('named', 'anonymous', 'plain'):
            kind, details = events[name]
            self.assertEqual(kind, 'purged')
            self.assertIn('key_sha256', details)
        self.assertEqual(events['held'][0], 'legal_hold')

    def test_last_periods_review_is_unchanged(self):
        "The frozen review, and the figures computed again, do not change"
        review_id, frozen = self.review_figures

        def stored():
            Review = Pool().get('tipline.review')
            return self.review_snapshot(Review(review_id))
        self.assertEqual(self.committed(stored), frozen)
        self.assertEqual(frozen[0]['report_count'], 4)
        self.assertEqual(
            self.committed(self.recompute_review), self.recomputed_before)

    def test_reporters_read_that_it_was_deleted(self):
        "My Reports and the status page say deleted under the policy"
        def mine():
            Report = Pool().get('tipline.report')
            with check_access():
                reports = Report.search([('mine', '=', True)])
                return [(r.tracking_number, r.retention_status)
                    for r in reports]
        user = self.committed(lambda: Pool().get('res.user').search(
                [('login', '=', 'retention-reporter')])[0].id)
        (number, text), = self.committed(mine, user=user)
        self.assertIn("Deleted under the retention policy", text)

        report_id, receipt = self.reports['anonymous']
        number = self.committed(lambda: self.report('anonymous')
            .tracking_number)
        response = Client(app, Response).post(
            '/%s/tipline/status' % self.db,
            data={'number': number, 'receipt': receipt})
        page = response.get_data(as_text=True)
        self.assertEqual(response.status_code, 200, page[:300])
        self.assertTrue("Deleted under the retention policy" in page,
            page[page.find('<main>'):][:600])

    def test_the_anonymous_reporter_downloads_from_the_status_page(self):
        "With the receipt only, behind the status page's check"
        report_id, receipt = self.reports['held']
        number = self.committed(lambda: self.report('held').tracking_number)
        client = Client(app, Response)
        url = '/%s/tipline/status' % self.db
        response = client.post(url, data={
                'number': number, 'receipt': receipt, 'action': 'download'})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers['Content-Disposition'],
            'attachment; filename="tipline-%s.txt"' % number)
        self.assertEqual(response.headers['Cache-Control'], 'no-store')
        text = response.get_data(as_text=True)
        self.assertIn("Payments to a company owned by a manager.", text)
        self.assertIn("You reported anonymously", text)
        self.assertNotIn("proceedings", text)  # the hold is not the reporter's

        wrong = client.post(url, data={'number': number,
                'receipt': '0000-0000-0000-0000', 'action': 'download'})
        self.assertNotIn('Content-Disposition', wrong.headers)
        self.assertNotIn("Payments to a company", wrong.get_data(as_text=True))

    def test_the_held_reporter_learns_it_is_kept_not_when_nor_why(self):
        "The file in Chinese: the category too, no deletion date"
        def download():
            pool = Pool()
            Lang = pool.get('ir.lang')
            SubjectAccess = pool.get(
                'tipline.report.subject_access', type='report')
            Lang.load_translations(Lang.search([('code', '=', 'zh_CN')]))
            _, content = SubjectAccess.download(self.report('held'), 'zh_CN')
            return content.decode('utf-8')
        text = self.committed(download)
        self.assertIn("类别：欺诈", text)
        self.assertIn("因法律义务须保留", text)
        self.assertNotIn("按保存期限政策删除的时间", text)
        self.assertNotIn("proceedings", text)

    def test_a_legal_hold_stops_the_purge_and_is_recorded(self):
        def held():
            report = self.report('held')
            return (report.legal_hold, report.legal_hold_reason,
                report.expires_at, report.purged_at)
        hold, reason, expires, purged = self.committed(held)
        self.assertTrue(hold)
        self.assertIn("proceedings", reason)
        self.assertLess(expires, clock.now())
        self.assertIsNone(purged)

    def test_an_appeal_and_a_later_message_postpone_expiry(self):
        closure = self.expiries_after_closure

        def about(delta, days):
            # The steps themselves take a few real seconds.
            self.assertLess(abs(delta - dt.timedelta(days=days)),
                dt.timedelta(minutes=1), delta)
        # The appeal kept the named report open five days longer than the
        # one nobody appealed; a note after closure moved it again.
        about(closure['named'] - closure['plain'], 5)
        about(self.expiries_after_note['named'] - closure['named'], 10)
        self.assertEqual(self.expiries_after_note['plain'], closure['plain'])


class RetentionAccessTestCase(unittest.TestCase):
    """Who may see and change retention, over RPC; rules; receipt expiry;
    the reporter's copy of what Tipline holds (GDPR Art. 15): their own
    report and nothing else"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['tipline'])
        cls.addClassCleanup(drop_db)

    def setUp(self):
        self.addCleanup(clock.reset)

    def moderator(self):
        pool = Pool()
        User = pool.get('res.user')
        user, = User.create([{'name': "Retention Moderator",
                    'login': 'retention-moderator-%d' % User.search(
                        [], count=True),
                    'groups': [('add', [tools.moderator_group()])]}])
        return user

    @staticmethod
    def anonymous_report(party, text):
        "(report, receipt) of an anonymous fraud report on a new party"
        Report = Pool().get('tipline.report')
        return Report.file(tools.make_party(party), tools.category('fraud'),
            text, anonymous=True)

    @staticmethod
    def decide_and_close(report):
        "report resolved as not upheld and closed"
        Report = Pool().get('tipline.report')
        Report.close(tools.resolve_reports([report], 'not_upheld'))

    def test_rules_name_themselves(self):
        def names():
            pool = Pool()
            Rule = pool.get('tipline.retention.rule')
            Jurisdiction = pool.get('tipline.jurisdiction')
            eu, = Jurisdiction.search([('code', '=', 'eu_whistleblowing')])
            rules = Rule.create([
                    {'jurisdiction': eu.id, 'period': 3,
                        'period_unit': 'year'},
                    {'jurisdiction': eu.id, 'period': 6,
                        'period_unit': 'month', 'outcome': 'not_upheld'},
                    {'jurisdiction': eu.id, 'period': 1,
                        'period_unit': 'year'}])
            return [r.rec_name for r in rules]
        with Transaction().start(DB_NAME, 0) as transaction:
            self.assertEqual(names(), ["3 years after closure",
                    "6 months after closure when not upheld",
                    "1 year after closure"])
            transaction.rollback()

    def test_moderators_cannot_read_keys_nor_change_retention(self):
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Report = pool.get('tipline.report')
            Retention = pool.get('tipline.report.retention')
            moderator = self.moderator()
            report, _ = self.anonymous_report(
                "Access Ltd", "Invoices paid twice to a vendor.")
            with Transaction().set_user(moderator.id), check_access():
                self.assertTrue(Report.read([report.id], ['description']))
                for name in ('data_key_enc', 'legal_hold_reason'):
                    with self.assertRaises(AccessError, msg=name):
                        Report.read([report.id], [name])
                with self.assertRaises(Exception):
                    Retention.search([])
                with self.assertRaises(Exception):
                    Report.write([report], {'legal_hold': True})
            transaction.rollback()

    def test_nothing_can_be_added_to_a_purged_report(self):
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Report = pool.get('tipline.report')
            Message = pool.get('tipline.message')
            report, _ = self.anonymous_report(
                "Purged Ltd", "A purchase order signed twice.")
            self.decide_and_close(report)
            retention.purge([Report(report.id)])
            report = Report(report.id)
            self.assertTrue(report.purged_at)
            with self.assertRaises(Exception) as context:
                Message.post_as_moderator(report, "Anything more?",
                    visibility='internal')
            self.assertIn("deleted under the retention policy",
                str(context.exception))
            with self.assertRaises(KeyError):
                Pool().get('tipline.keyset').data_keys(
                    [report.id], create=True)
            transaction.rollback()

    def users(self):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        return User.create([{
                    'name': "SAR-REPORTER-NAME", 'login': 'sar-reporter',
                    }, {
                    'name': "Other Reporter", 'login': 'sar-OTHER-REPORTER',
                    }, {
                    'name': "Moderator", 'login': 'sar-MODERATOR-LOGIN',
                    'groups': [('add', [tools.moderator_group()])],
                    }, {
                    'name': "Custodian", 'login': 'sar-CUSTODIAN-LOGIN',
                    'groups': [('add', [ModelData.get_id(
                                    'tipline', 'group_tipline_custodian')])],
                    }])

    def test_the_file_holds_the_reporters_own_report_only(self):
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Report = pool.get('tipline.report')
            Message = pool.get('tipline.message')
            Access = pool.get('tipline.identity_access')
            Event = pool.get('tipline.audit_event')
            SubjectAccess = pool.get(
                'tipline.report.subject_access', type='report')
            reporter, other, moderator, custodian = self.users()
            party = tools.make_party("SAR Supplier")
            fraud = tools.category('fraud')
            report, _ = tools.file_report(reporter, party, fraud,
                "SAR-DESCRIPTION: invoices for work never done.",
                evidence=[('SAR-FILE.txt', b'file')])
            tools.file_report(other, party, fraud,
                "SAR-OTHER-DESCRIPTION: the same invoices, again.")
            Report.write([report], {
                    'assigned_to': moderator.id,
                    'internal_notes': "SAR-INTERNAL-NOTE",
                    'evidence_notes': "SAR-EVIDENCE-NOTE",
                    'reporter_message': "SAR-ANSWER",
                    })
            with Transaction().set_user(moderator.id):
                Message.post_as_moderator(report, "SAR-SHARED-MESSAGE")
                Message.post_as_moderator(report, "SAR-INTERNAL-MESSAGE",
                    visibility='internal',
                    files=[('SAR-INTERNAL-FILE.txt', b'internal')])
            Access.create([{'report': report.id, 'custodian': custodian.id,
                        'accessed_at': clock.now(),
                        'reason': "SAR-REVEAL-REASON"}])

            with Transaction().set_user(reporter.id), check_access():
                ext, content, _, name = SubjectAccess.execute(
                    [report.id], {})
            text = content.decode('utf-8')
            self.assertEqual(ext, 'txt')
            self.assertIn(report.tracking_number, name)
            for present in ("SAR-DESCRIPTION", "SAR-FILE.txt",
                    "SAR-SHARED-MESSAGE", "SAR-ANSWER", "SAR-REPORTER-NAME",
                    "sar-reporter", report.tracking_number,
                    "revealed to a custodian on"):
                self.assertIn(present, text)
            for absent in ("SAR-OTHER", "SAR-MODERATOR", "MODERATOR-LOGIN",
                    "SAR-CUSTODIAN", "SAR-INTERNAL", "SAR-EVIDENCE-NOTE",
                    "SAR-REVEAL-REASON"):
                self.assertNotIn(absent, text)
            # The internal message and its file are not even counted.
            self.assertEqual(text.count("  Message\n"), 1, text)
            self.assertNotIn("File added", text.split("HISTORY")[1]
                .split("Message")[1], text)
            kinds = [e.kind for e in Event.search(
                    [('report', '=', report.id)])]
            self.assertEqual(kinds[-1], 'subject_access')

            # Nobody else gets it: not the moderator, not the other
            # reporter.
            for user in (moderator, other):
                with Transaction().set_user(user.id), check_access(), \
                        self.assertRaises(Exception):
                    SubjectAccess.execute([report.id], {})
            transaction.rollback()

    def test_expiries_follow_the_configured_jurisdiction(self):
        """A new configured jurisdiction sets the expiries again, and the
        reports no rule governs do not hold up the others"""
        with Transaction().start(DB_NAME, 0,
                _lock_tables=['tipline_report', 'tipline_configuration']
                ) as transaction:
            pool = Pool()
            Report = pool.get('tipline.report')
            Configuration = pool.get('tipline.configuration')
            Jurisdiction = pool.get('tipline.jurisdiction')
            Rule = pool.get('tipline.retention.rule')
            eu, = Jurisdiction.search([('code', '=', 'eu_whistleblowing')])
            cn, = Jurisdiction.search([('code', '=', 'cn_15_working_days')])
            keep, = Jurisdiction.create([{'name': "Keep Everything",
                        'code': 'keep_everything', 'feedback_days': 90}])
            Rule.create([
                    {'jurisdiction': eu.id, 'period': 1,
                        'period_unit': 'year'},
                    {'jurisdiction': cn.id, 'period': 3,
                        'period_unit': 'month'}])
            config_ = Configuration(1)

            def file(jurisdiction, name):
                config_.default_jurisdiction = jurisdiction
                config_.save()
                report, _ = self.anonymous_report(name,
                    "A contract signed twice by %s." % name)
                self.decide_and_close(report)
                return Report(report.id)
            # First, one filed under a jurisdiction without rules: kept.
            kept = file(keep, "Kept Ltd")
            # Then reports filed under the configured one, none yet.
            reports = [file(None, "Jurisdiction %d Ltd" % i)
                for i in range(3)]
            self.assertEqual(kept.jurisdiction, keep)
            self.assertEqual([r.jurisdiction for r in reports], [None] * 3)

            def expiries():
                # One report a run: the kept one must not be taken again.
                for _ in range(len(reports) + 1):
                    retention.apply(Report, limit=1)
                self.assertIsNone(Report(kept.id).expires_at)
                return [Report(r.id).expires_at for r in reports]
            for jurisdiction, delta in (
                    (eu, relativedelta(years=1)),
                    (cn, relativedelta(months=3))):
                config_.default_jurisdiction = jurisdiction
                config_.save()
                for report, expires in zip(reports, expiries()):
                    self.assertTrue(expires, jurisdiction.code)
                    closed = Report(report.id).closed_at
                    self.assertEqual(expires, closed + delta)
            transaction.rollback()

    def test_the_receipt_stops_opening_the_status_page(self):
        "Access ends the configured days after closure, whatever retention"
        with Transaction().start(DB_NAME, 0,
                _lock_tables=['tipline_report', 'tipline_configuration']
                ) as transaction:
            pool = Pool()
            Report = pool.get('tipline.report')
            Configuration = pool.get('tipline.configuration')
            config_ = Configuration(1)
            config_.receipt_access_days = 30
            config_.save()
            report, receipt = self.anonymous_report(
                "Receipt Ltd", "A contract signed twice.")
            number = report.tracking_number
            self.assertEqual(Report.status_for_receipt(number, receipt),
                report)
            self.decide_and_close(report)
            clock.travel(days=29)
            self.assertEqual(Report.status_for_receipt(number, receipt),
                report)
            clock.travel(days=2)
            self.assertIsNone(Report.status_for_receipt(number, receipt))
            transaction.rollback()
