"""The attacks of an independent review, one test each, driven over JSON-RPC
as each role would, then checked in the rows a database reader sees.

Each test failed on the code before the fix it names; together they hold the
promise that reporting never exposes the reporter."""
import datetime as dt
import time

from sql import Column, Null, Table

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction

from trytond.modules.tipline.authorless import GRANULARITY
from trytond.modules.tipline.tests.tools import (
    RPC, category, make_party, make_users, use_throwaway_master_key)

use_throwaway_master_key()

PASSWORD = 'attack-test-password-1'
DESCRIPTION = "Customer files copied to a personal address every evening."


class AttackTestCase(RouteTestCase):
    "Each role's attack on a reporter's privacy fails"
    module = 'tipline'
    maxDiff = None

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        User = pool.get('res.user')
        Group = pool.get('res.group')
        party_groups = [g.id for g in Group.search(
                [('name', 'in', ['Party Administration'])])]
        cls.users = make_users('atk-', {
                'reporter': [],
                'reporter2': [],
                'moderator': ['group_tipline_moderator'],
                'moderator2': ['group_tipline_moderator'],
                'custodian': ['group_tipline_custodian'],
                'tladmin': ['group_tipline_admin'],
                }, PASSWORD, extra_groups=party_groups)
        admin = User(1)
        admin.password = PASSWORD
        admin.save()
        cls.party_id = make_party("Attack Target Ltd").id
        cls.category_id = category('data_leak').id

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with Transaction().start(cls.db_name.fget(cls), 1,
                _lock_tables=['tipline_configuration']) as transaction:
            Configuration = Pool().get('tipline.configuration')
            config = Configuration(1)
            config.assignment_method = 'round_robin'
            config.save()
            transaction.commit()

    def rpc(self, role):
        if role == 'admin':
            return RPC(self, 'admin', PASSWORD)
        return RPC(self, 'atk-' + role, PASSWORD)

    def file(self, session, anonymous=False, description=DESCRIPTION,
            delete=True):
        """File through the Report wizard as the web client does: (report
        id, tracking number, receipt, wizard session id)"""
        wizard_id, context = session.start_report(self.party_id)
        done = session.call('wizard.tipline.report.submit.execute',
            [wizard_id, {'start': {
                        'category': str(self.category_id),
                        'description': '%s (%s)' % (
                            description, time.monotonic_ns()),
                        'anonymous': anonymous}}, 'submit', context])
        if delete:
            session.call('wizard.tipline.report.submit.delete',
                [wizard_id, context])
        defaults = done['view']['defaults']
        number = defaults['tracking_number']
        return (self.report_id(number), number, defaults.get('receipt'),
            wizard_id)

    def report_id(self, number):
        with Transaction().start(self.db_name, 0, readonly=True):
            Report = Pool().get('tipline.report')
            report, = Report.search([('tracking_number', '=', number)])
            return report.id

    def sql(self, query, *args):
        with Transaction().start(self.db_name, 0, readonly=True) as t:
            cursor = t.connection.cursor()
            cursor.execute(query, args) if args else cursor.execute(query)
            return cursor.fetchall()

    def rows(self, table_name, *columns, where=None):
        "The rows of a table as a database administrator reads them"
        with Transaction().start(self.db_name, 0, readonly=True) as t:
            table = Table(table_name)
            cursor = t.connection.cursor()
            cursor.execute(*table.select(
                    *[Column(table, c) for c in columns],
                    where=where(table) if where else None))
            return cursor.fetchall()

    def user_columns(self):
        "{table: number of rows that name the reporter in a user column}"
        reporter = self.users['reporter']
        counts = {}
        with Transaction().start(self.db_name, 0, readonly=True) as t:
            cursor = t.connection.cursor()
            for name in user_tables(t):
                table = Table(name)
                cursor.execute(*table.select(table.id, where=(
                            (table.create_uid == reporter)
                            | (table.write_uid == reporter))))
                count = len(cursor.fetchall())
                if count:
                    counts[name] = count
        return counts

    # --- The mail queue ------------------------------------------------------

    def test_mail_queue_names_no_filer(self):
        "An administrator reads no filer in the mail queue's user columns"
        reporter = self.rpc('reporter')
        named, *_ = self.file(reporter)
        anonymous, *_ = self.file(reporter, anonymous=True)
        admin = self.rpc('tladmin')
        rows = admin.call('model.tipline.mail_queue.search_read', [
                [('report', 'in', [named, anonymous])], 0, None, None,
                ['create_uid', 'write_uid', 'template'], {}])
        self.assertTrue(rows)
        for row in rows:
            self.assertNotIn(self.users['reporter'],
                (row['create_uid'], row['write_uid']), row)

    # --- The audit trail -----------------------------------------------------

    def test_own_export_names_nobody(self):
        "A reporter's export of their own report is history without them"
        reporter = self.rpc('reporter')
        report, *_ = self.file(reporter)
        reporter.call('model.tipline.report.export_data',
            [[report], ['tracking_number'], {}])
        moderator = self.rpc('moderator')
        events = moderator.call('model.tipline.audit_event.search_read', [
                [('report', '=', report)], 0, None, None,
                ['actor', 'kind', 'create_uid', 'write_uid'], {}])
        self.assertIn('export', [e['kind'] for e in events])
        for event in events:
            self.assertEqual(event['actor'], '', event)
            self.assertIsNone(event['create_uid'], event)
        # A moderator's export is theirs to answer for.
        moderator.call('model.tipline.report.export_data',
            [[report], ['tracking_number'], {}])
        actors = [e['actor'] for e in moderator.call(
                'model.tipline.audit_event.search_read', [
                    [('report', '=', report), ('kind', '=', 'export')],
                    0, None, None, ['actor'], {}])]
        self.assertEqual(actors, ['', 'atk-moderator'])

    # --- Keyed hashes --------------------------------------------------------

    def test_keyed_hashes_are_nobodys(self):
        "No role reads or searches reporter and subject tokens"
        reporter = self.rpc('reporter')
        report, *_ = self.file(reporter)
        for role in ('moderator', 'custodian', 'tladmin', 'admin'):
            session = self.rpc(role)
            for model, field in (
                    ('tipline.report', 'reporter_token'),
                    ('tipline.report', 'subject_tokens'),
                    ('tipline.report', 'receipt_hash'),
                    ('tipline.case', 'subject_tokens')):
                with self.subTest(role=role, field=field):
                    session.error('model.%s.read' % model,
                        [[report], [field], {}])
                    session.error('model.%s.search' % model,
                        [[(field, '!=', None)], 0, None, None, {}])

    # --- Appeals -------------------------------------------------------------

    def test_appeal_names_no_appellant(self):
        "After a named appeal neither the case nor the report names its author"
        reporter = self.rpc('reporter')
        report, number, _, _ = self.file(reporter)
        moderator = self.rpc('moderator')
        moderator.call('model.tipline.report.write', [[report], {
                    'severity_assessment': 'low', 'outcome': 'not_upheld'},
                {}])
        moderator.call('model.tipline.report.triage', [[report], {}])
        moderator.call('model.tipline.report.resolve', [[report], {}])
        before = self.user_columns()
        context = {}  # from the menu Tipline > Appeal a Decision
        wizard_id, _, _ = reporter.call(
            'wizard.tipline.report.appeal.create', [context])
        reporter.call('wizard.tipline.report.appeal.execute',
            [wizard_id, {}, 'start', context])
        reporter.call('wizard.tipline.report.appeal.execute', [wizard_id,
                {'start': {'report': str(report),
                        'reason': "The copies were made after the audit."}},
                'appeal', context])
        self.assertEqual(self.rows('tipline_report', 'state',
                where=lambda t: t.id == report), [('investigating',)])
        self.assertEqual(self.user_columns(), before)

    # --- System fields -------------------------------------------------------

    def test_system_fields_refuse_rpc_writes(self):
        "No group writes a system field over RPC; the row stays as it was"
        reporter = self.rpc('reporter')
        report, _, _, _ = self.file(reporter)
        victim, _, _, _ = self.file(self.rpc('reporter2'), anonymous=True)
        columns = ['reporter_token', 'receipt_hash', 'state',
            'tracking_number', 'submitted_at', 'priority', 'anonymous',
            'subject_tokens', 'description_enc', 'acknowledged_at',
            'expiry_pending', 'outcome_explanation', 'case']
        before = self.rows('tipline_report', *columns,
            where=lambda t: t.id.in_([report, victim]))
        (case,), = self.rows('tipline_report', 'case',
            where=lambda t: t.id == victim)
        case_columns = ['report_count', 'reporter_count', 'purged_count',
            'purged_reporter_count']
        case_before = self.rows('tipline_case', *case_columns,
            where=lambda t: t.id == case)
        values = {
            'reporter_token': 'f' * 64, 'receipt_hash': 'AAAA',
            'state': 'closed', 'tracking_number': 'TL-0000-0000-0000-0000',
            'submitted_at': '2020-01-01 00:00:00', 'priority': 99.0,
            'anonymous': False, 'subject_tokens': '',
            'description_enc': 'AAAA', 'acknowledged_at': None,
            # Retention's bookkeeping and the explanation given.
            'expiry_pending': True, 'outcome_explanation': 1}
        # A case's figures, a deleted report's count among them.
        case_values = {'report_count': 0, 'reporter_count': 0,
            'purged_count': 5, 'purged_reporter_count': 5}
        for role in ('moderator', 'tladmin', 'admin'):
            session = self.rpc(role)
            for model, record, changes in (
                    ('tipline.report', victim, values),
                    ('tipline.case', case, case_values)):
                for field, value in changes.items():
                    with self.subTest(role=role, field=field):
                        session.error('model.%s.write' % model,
                            [[record], {field: value}, {}])
        self.assertEqual(self.rows('tipline_report', *columns,
                where=lambda t: t.id.in_([report, victim])), before)
        self.assertEqual(self.rows('tipline_case', *case_columns,
                where=lambda t: t.id == case), case_before)

    def test_state_follows_the_workflow_only(self):
        "The state moves by the buttons, never by a write"
        report, *_ = self.file(self.rpc('reporter'))
        moderator = self.rpc('moderator')
        moderator.error('model.tipline.report.write',
            [[report], {'state': 'triaged'}, {}])
        moderator.call('model.tipline.report.write',
            [[report], {'severity_assessment': 'high'}, {}])
        moderator.call('model.tipline.report.triage', [[report], {}])
        self.assertEqual(self.rows('tipline_report', 'state',
                where=lambda t: t.id == report), [('triaged',)])

    # --- The database file ---------------------------------------------------

    def test_filing_leaves_no_row_naming_the_filer(self):
        """Named or anonymous, a filing through the wizard leaves no session
        row and no user column naming the filer, even when the client never
        deletes the session"""
        reporter = self.rpc('reporter')
        before = self.user_columns()
        for anonymous in (False, True):
            _, _, _, wizard_id = self.file(
                reporter, anonymous=anonymous, delete=False)
            self.assertEqual(self.rows('ir_session_wizard', 'id',
                    where=lambda t: t.id == wizard_id), [])
        self.assertEqual(self.user_columns(), before)

    def test_anonymous_filing_times_are_coarse(self):
        """Nothing an anonymous filing writes carries a time finer than
        the hour, so it cannot be matched with the filer's activity"""
        now = dt.datetime.utcnow()
        if now.minute == 59 and now.second > 50:
            time.sleep(11)  # not across the hour's boundary
        hour = dt.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
        before = self.fine_times(hour)
        report, _, _, _ = self.file(self.rpc('reporter'), anonymous=True)
        added = {column: times - before.get(column, set())
            for column, times in self.fine_times(hour).items()}
        self.assertEqual({c: t for c, t in added.items() if t}, {})
        submitted, = self.rows('tipline_report', 'submitted_at',
            where=lambda t: t.id == report)
        self.assertEqual(as_datetime(submitted[0]), hour)
        self.assertEqual(GRANULARITY, dt.timedelta(hours=1))

    def fine_times(self, since):
        """{table.column: times after since that are not whole hours} of
        every timestamp column of Tipline's tables"""
        found = {}
        with Transaction().start(self.db_name, 0, readonly=True) as t:
            cursor = t.connection.cursor()
            for name, columns in timestamp_columns(t).items():
                if not name.startswith('tipline_'):
                    continue
                table = Table(name)
                for column in columns:
                    value = Column(table, column)
                    cursor.execute(*table.select(table.id, value,
                            where=(value != Null) & (value > since)))
                    found['%s.%s' % (name, column)] = {
                        (i, v) for i, v in ((i, as_datetime(v))
                            for i, v in cursor.fetchall())
                        if (v.minute, v.second, v.microsecond) != (0, 0, 0)}
        return found

    def test_assignment_never_to_the_filer(self):
        "A moderator who files, even anonymously, is not given the report"
        moderator = self.rpc('moderator')
        for anonymous in (True, False, True, True):
            report, *_ = self.file(moderator, anonymous=anonymous)
            (assignee,), = self.rows('tipline_report', 'assigned_to',
                where=lambda t: t.id == report)
            self.assertIsNotNone(assignee)
            self.assertNotEqual(assignee, self.users['moderator'])

    def test_cursor_and_announcements_keep_no_filer(self):
        """Round robin's cursor and the announcements seen in the Report
        wizard keep neither the filer nor the time they filed"""
        with Transaction().start(self.db_name, 0) as transaction:
            Announcement = Pool().get('tipline.announcement')
            announcement, = Announcement.create([{
                        'title': "Evidence limit raised", 'body': "20 MiB"}])
            transaction.commit()
        self.file(self.rpc('reporter'), anonymous=True)
        for uid, in self.rows('tipline_team_cursor', 'write_uid'):
            self.assertIsNone(uid)
        seen = self.rows('tipline_announcement_seen', 'create_uid',
            'create_date', 'user', where=lambda t: (
                t.announcement == announcement.id))
        announced, = self.rows('tipline_announcement', 'create_date',
            where=lambda t: t.id == announcement.id)
        self.assertEqual(seen, [(None, announced[0], self.users['reporter'])])

    def test_sqlite_deletes_securely(self):
        "SQLite overwrites what is deleted"
        if backend.name != 'sqlite':
            self.skipTest("SQLite only")
        self.assertEqual(self.sql('PRAGMA secure_delete'), [(1,)])

    # --- The host's notes and attachments ------------------------------------

    def test_no_host_notes_or_attachments_on_reports(self):
        "Notes and attachments, stored in clear, are refused on reports"
        report, *_ = self.file(self.rpc('reporter'))
        for role in ('moderator', 'reporter', 'admin'):
            session = self.rpc(role)
            resource = 'tipline.report,%d' % report
            with self.subTest(role=role):
                for model, values in (
                        ('ir.note', {'message': "internal"}),
                        ('ir.attachment', {'name': 'a.txt', 'data': {
                                    '__class__': 'bytes',
                                    'base64': 'aGVsbG8='}})):
                    message = session.error('model.%s.create' % model,
                        [[{'resource': resource, **values}], {}])
                    if role != 'reporter':  # refused sooner, by the host
                        self.assertIn("cannot be added to Tipline", message)
        self.assertEqual(self.rows('ir_note', 'id',
                where=lambda t: t.resource.like('tipline.%')), [])

    # --- Access by default ---------------------------------------------------

    def test_every_model_denies_by_default(self):
        "Every Tipline model has a default access row, so none is open to all"
        with Transaction().start(self.db_name, 0, readonly=True):
            pool = Pool()
            Access = pool.get('ir.model.access')
            models = {name for name, _ in pool.iterobject()
                if name.startswith('tipline.')
                and hasattr(pool.get(name), 'search')}
            guarded = {a.model for a in Access.search(
                    [('group', '=', None), ('model', 'in', list(models))])}
        self.assertEqual(models - guarded, set())


def user_tables(transaction):
    "The tables that have the host's user columns"
    return [name for name, columns in _columns(transaction).items()
        if {'create_uid', 'write_uid'} <= set(columns)]


def timestamp_columns(transaction):
    "{table: [timestamp columns]}"
    return {name: [c for c, kind in columns.items() if 'timestamp' in kind]
        for name, columns in _columns(transaction).items()}


def _columns(transaction):
    "{table: {column: type}} of every table"
    cursor = transaction.connection.cursor()
    result = {}
    if backend.name == 'postgresql':
        cursor.execute("SELECT table_name, column_name, data_type "
            "FROM information_schema.columns WHERE table_schema = 'public'")
        for table, column, kind in cursor.fetchall():
            result.setdefault(table, {})[column] = kind.lower()
        return result
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    for table, in cursor.fetchall():
        cursor.execute('PRAGMA table_info("%s")' % table)
        result[table] = {
            row[1]: (row[2] or '').lower() for row in cursor.fetchall()}
    return result


def as_datetime(value):
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


del RouteTestCase
