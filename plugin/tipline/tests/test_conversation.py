"""The conversation on a report, played over JSON-RPC and the status page as
each role would: a named conversation in My Reports, an anonymous one on
the status page, Awaiting Reporter and its clocks, internal messages the
reporter cannot read, and files that lose their metadata before any
moderator sees them (checked with exiftool, which is not the stripper)."""
import base64
import datetime as dt
import json
import logging
import os
import re
import subprocess
import tempfile

from sql import Column, Table

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction, TransactionError

from trytond.modules.tipline import clock
from trytond.modules.tipline.tests.tools import (
    GPS_AUTHOR, RPC, MailSink, category, forget_rate_limits,
    jpeg_with_metadata, make_party, make_users, pdf_with_metadata, text_of,
    use_throwaway_master_key)

use_throwaway_master_key()

PASSWORD = 'conversation-test-password-1'


def exiftool(data, suffix):
    "{tag: value} that exiftool reads in data"
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'file' + suffix)
        with open(path, 'wb') as file:
            file.write(data)
        output = subprocess.run(['exiftool', '-j', '-G0', path],
            check=True, capture_output=True, text=True).stdout
    return json.loads(output)[0]


def rpc_bytes(data):
    "bytes as the web client sends them over JSON-RPC"
    return {'__class__': 'bytes', 'base64': base64.b64encode(data).decode()}


def identifying(tags):
    "The tags of an exiftool reading that would identify the author"
    return {k: v for k, v in tags.items() if re.search(
            r'GPS|Artist|Author|Creator', k) and 'Tool' not in k}


class ConversationTestCase(RouteTestCase):
    "Moderators and reporters, named or anonymous, write to each other"
    module = 'tipline'
    maxDiff = None

    @classmethod
    def setUpDatabase(cls):
        cls.users = make_users('conv-', {
                'reporter': [],
                'moderator': ['group_tipline_moderator'],
                # A senior moderator who also holds the custodian role.
                'custodian': ['group_tipline_moderator',
                    'group_tipline_custodian'],
                }, PASSWORD)
        cls.party_id = make_party("Conversation Target Ltd").id
        cls.category_id = category('fraud').id

    def setUp(self):
        super().setUp()
        self.addCleanup(clock.reset)
        forget_rate_limits(self.db_name)

    def rpc(self, role):
        return RPC(self, 'conv-' + role, PASSWORD)

    def in_transaction(self, function, user=0):
        """function() in a committed transaction of user; its result.  As
        the server does, a transaction that needs locks it did not declare
        is run again with them."""
        extras = {}
        while True:
            try:
                with Transaction().start(
                        self.db_name, user, **extras) as transaction:
                    result = function()
                    transaction.commit()
                    return result
            except TransactionError as error:
                error.fix(extras)

    def file(self, anonymous=False, description="Invoices paid twice to "
            "the same supplier account."):
        "(report id, tracking number, receipt) of a new report"
        def file():
            pool = Pool()
            Report = pool.get('tipline.report')
            Party = pool.get('party.party')
            Category = pool.get('tipline.category')
            with Transaction().set_user(self.users['reporter']):
                report, receipt = Report.file(Party(self.party_id),
                    Category(self.category_id), description,
                    anonymous=anonymous)
            return report.id, report.tracking_number, receipt
        return self.in_transaction(file)

    def report(self, report_id):
        "The report as the system reads it, in a fresh transaction"
        with Transaction().start(self.db_name, 0, readonly=True):
            Report = Pool().get('tipline.report')
            report = Report(report_id)
            return {name: getattr(report, name) for name in (
                    'state', 'resolve_by', 'resolve_warning_at',
                    'statutory_due', 'overdue', 'statutory_overdue',
                    'time_left', 'statutory_time_left', 'unread_replies',
                    'awaiting_since', 'answer_due', 'resume_state',
                    'identity_disclosed', 'reporter_display')}

    def wizard(self, session, name, report_id, values, state):
        "Run wizard name on report_id as session with the form values"
        context = {'active_model': 'tipline.report', 'active_id': report_id,
            'active_ids': [report_id]}
        wizard_id, _, _ = session.call(
            'wizard.%s.create' % name, [context])
        session.call('wizard.%s.execute' % name,
            [wizard_id, {}, 'start', context])
        result = session.call('wizard.%s.execute' % name,
            [wizard_id, {'start': values}, state, context])
        session.call('wizard.%s.delete' % name, [wizard_id, context])
        return result

    def ask(self, session, report_id, body):
        return self.wizard(session, 'tipline.report.ask', report_id,
            {'body': body, 'visibility': 'shared', 'ask': True}, 'post')

    def user_rows(self, tables, user):
        "Rows of tables whose user columns name user"
        found = {}
        with Transaction().start(self.db_name, 0, readonly=True) as t:
            cursor = t.connection.cursor()
            for name in tables:
                table = Table(name)
                cursor.execute(*table.select(table.id, where=(
                            (table.create_uid == user)
                            | (table.write_uid == user))))
                rows = cursor.fetchall()
                if rows:
                    found[name] = rows
        return found

    def status(self, number, receipt, action=None, **form):
        "POST to the conversation page; (status code, html)"
        data = {'number': number, 'receipt': receipt, 'lang': 'en', **form}
        if action:
            data['action'] = action
        response = self.client().post(
            '/%s/tipline/conversation' % self.db_name, data=data)
        return response.status_code, response.get_data(as_text=True)

    # --- Named reporters ---------------------------------------------------

    def test_named_conversation(self):
        "A moderator asks, the named reporter reads and answers in My Reports"
        report_id, number, _ = self.file()
        moderator = self.rpc('moderator')
        self.ask(moderator, report_id, "Which month were the invoices from?")
        self.assertEqual(self.report(report_id)['state'], 'awaiting_reporter')

        reporter = self.rpc('reporter')
        mine, = reporter.call('model.tipline.report.read', [[report_id],
                ['shared_messages', 'new_messages', 'state'], {}])
        self.assertEqual(mine['new_messages'], 1)
        messages = reporter.call('model.tipline.message.read',
            [mine['shared_messages'], ['body', 'author', 'new'], {}])
        self.assertEqual([(m['body'], m['author'], m['new'])
                for m in messages],
            [("Which month were the invoices from?", 'moderator', True)])

        self.wizard(reporter, 'tipline.report.reply', report_id, {
                'report': str(report_id),
                'body': "March and April; the ledger is attached.",
                'file1': rpc_bytes(b'ledger lines'),
                'file1_name': 'ledger.txt'}, 'send')
        after = self.report(report_id)
        self.assertEqual(after['state'], 'acknowledged')
        self.assertTrue(after['unread_replies'])

        # The moderator reads the answer and the file.
        thread = moderator.call('model.tipline.message.search_read', [
                [('report', '=', report_id)], 0, None, None,
                ['body', 'author', 'evidence'], {}])
        self.assertEqual([m['body'] for m in thread], [
                "Which month were the invoices from?",
                "March and April; the ledger is attached."])
        files = moderator.call('model.tipline.evidence.read',
            [thread[1]['evidence'], ['name', 'data', 'origin'], {}])
        self.assertEqual([(f['name'], f['origin']) for f in files],
            [('ledger.txt', 'reporting_person')])

        # Nothing the reporter did carries their user id, and the history
        # holds digests, not words.
        self.assertEqual(self.user_rows(['tipline_message',
                    'tipline_evidence', 'tipline_audit_event',
                    'tipline_report', 'ir_session_wizard'],
                self.users['reporter']), {})
        with Transaction().start(self.db_name, 0, readonly=True):
            Event = Pool().get('tipline.audit_event')
            events = Event.search([('report', '=', report_id)])
            kinds = [e.kind for e in events]
            self.assertIn('conversation', kinds)
            self.assertIn('evidence', kinds)
            self.assertIn('clock', kinds)
            for event in events:
                self.assertNotIn('ledger', event.details)
                self.assertNotIn('invoices', event.details)
            self.assertIsNone(Event.verify([report_id])[report_id])
            Queue = Pool().get('tipline.mail_queue')
            templates = {q.template for q in Queue.search(
                    [('report', '=', report_id)])}
            self.assertIn('conversation', templates)

    # --- Internal messages -------------------------------------------------

    def test_internal_messages_unreadable_by_reporter(self):
        "No RPC path gives the reporter an internal message"
        report_id, _, _ = self.file()
        moderator = self.rpc('moderator')
        self.wizard(moderator, 'tipline.report.message', report_id, {
                'body': "INTERNAL-7781 the supplier is the CFO's cousin",
                'visibility': 'internal', 'ask': False}, 'post')
        self.wizard(moderator, 'tipline.report.message', report_id, {
                'body': "Thank you, we are looking into it.",
                'visibility': 'shared', 'ask': False}, 'post')
        with Transaction().start(self.db_name, 0, readonly=True):
            Message = Pool().get('tipline.message')
            internal, = Message.search([('report', '=', report_id),
                    ('visibility', '=', 'internal')])
            internal_id = internal.id

        reporter = self.rpc('reporter')
        found = reporter.call('model.tipline.message.search_read', [
                [('report', '=', report_id)], 0, None, None, ['body'], {}])
        self.assertEqual([m['body'] for m in found],
            ["Thank you, we are looking into it."])
        self.assertEqual(reporter.call('model.tipline.message.search', [
                    [('visibility', '=', 'internal')], 0, None, None, {}]),
            [])
        answer = reporter.call('model.tipline.message.read',
            [[internal_id], ['body'], {}], raw=True)
        self.assertIn('error', answer)
        self.assertNotIn('INTERNAL-7781', json.dumps(answer))
        answer = reporter.call('model.tipline.report.read',
            [[report_id], ['messages'], {}], raw=True)
        self.assertNotIn('result', answer)
        mine, = reporter.call('model.tipline.report.read',
            [[report_id], ['shared_messages'], {}])
        self.assertNotIn(internal_id, mine['shared_messages'])
        answer = reporter.call('model.tipline.message.export_data',
            [[internal_id], ['body'], {}], raw=True)
        self.assertNotIn('INTERNAL-7781', json.dumps(answer))
        # Moderators and custodians read it.
        for role in ('moderator', 'custodian'):
            with self.subTest(role=role):
                body, = self.rpc(role).call('model.tipline.message.read',
                    [[internal_id], ['body'], {}])
                self.assertIn('INTERNAL-7781', body['body'])

    # --- Anonymous reporters on the status page ----------------------------

    def test_anonymous_conversation(self):
        "An anonymous reporter reads, answers and sends a photo by receipt"
        report_id, number, receipt = self.file(anonymous=True)
        moderator = self.rpc('moderator')
        self.ask(moderator, report_id, "Do you have a photo of the invoice?")

        page = self.client().post('/%s/tipline/status' % self.db_name,
            data={'number': number, 'receipt': receipt, 'lang': 'en'})
        self.assertIn('id="new-messages"', page.get_data(as_text=True))

        code, html = self.status(number, '0000-0000-0000-0000')
        self.assertEqual(code, 403)
        self.assertNotIn('invoice', html)

        code, html = self.status(number, receipt)
        self.assertEqual(code, 200)
        self.assertIn("Do you have a photo of the invoice?", html)
        self.assertIn('new-marker', html)
        self.assertIn('id="awaiting"', html)
        # Read now: the marker is gone.
        code, html = self.status(number, receipt)
        self.assertNotIn('new-marker', html)

        photo = jpeg_with_metadata()
        response = self.client().post(
            '/%s/tipline/conversation' % self.db_name, data={
                'number': number, 'receipt': receipt, 'lang': 'en',
                'action': 'reply', 'body': "Here it is.",
                'file': (__import__('io').BytesIO(photo), 'invoice.jpg'),
                }, content_type='multipart/form-data')
        html = response.get_data(as_text=True)
        self.assertIn('id="check"', html)
        self.assertIn('GPS', html)
        self.assertIn(GPS_AUTHOR, html)
        carried = re.search(r'name="carried" value="([^"]+)"', html).group(1)
        self.assertEqual(self.report(report_id)['state'], 'awaiting_reporter')

        code, html = self.status(number, receipt, 'reply',
            body="Here it is.", carried=carried,
            carried_name='invoice.jpg')
        self.assertEqual(code, 200)
        self.assertIn('id="sent"', html)
        after = self.report(report_id)
        self.assertEqual(after['state'], 'acknowledged')
        self.assertTrue(after['unread_replies'])

        # The moderator reads the answer and a photo without metadata.
        thread = moderator.call('model.tipline.message.search_read', [
                [('report', '=', report_id)], 0, None, None,
                ['body', 'evidence', 'posted_at'], {}])
        self.assertEqual(thread[-1]['body'], "Here it is.")
        evidence, = moderator.call('model.tipline.evidence.read',
            [thread[-1]['evidence'], ['data', 'name', 'metadata_removed'],
                {}])
        cleaned = base64.b64decode(evidence['data']['base64'])
        self.assertEqual(identifying(exiftool(cleaned, '.jpg')), {})
        self.assertIn('GPSLatitude', evidence['metadata_removed'])
        # Anonymous times are coarse, and no row names anybody.
        with Transaction().start(self.db_name, 0, readonly=True):
            Message = Pool().get('tipline.message')
            answer = Message.search([('report', '=', report_id),
                    ('author', '=', 'reporting_person')])[0]
            self.assertEqual(answer.posted_at.minute, 0)
            self.assertEqual(answer.posted_at.second, 0)
            self.assertIsNone(answer.create_uid)

    def test_anonymous_reply_limits(self):
        "Replies are limited per report and hour, as the status page is"
        report_id, number, receipt = self.file(anonymous=True)

        def limit():
            Configuration = Pool().get('tipline.configuration')
            config = Configuration(1)
            config.max_replies_per_hour = 2
            config.save()
        self.in_transaction(limit)
        self.addCleanup(self.in_transaction, lambda: Pool().get(
                'tipline.configuration').write(
                [Pool().get('tipline.configuration')(1)],
                {'max_replies_per_hour': 5}))
        for i in range(2):
            code, html = self.status(number, receipt, 'reply',
                body="Detail %d" % i)
            self.assertIn('id="sent"', html)
        code, html = self.status(number, receipt, 'reply', body="Detail 3")
        self.assertIn('id="error"', html)
        self.assertNotIn('Detail 3</p>', html)

    def test_anonymous_disclosure(self):
        "An anonymous reporter may disclose their identity, explicitly"
        report_id, number, receipt = self.file(anonymous=True)
        code, html = self.status(number, receipt, 'disclose',
            name="Alex Example", contact="alex@example.com")
        self.assertIn('id="error"', html)
        self.assertFalse(self.report(report_id)['identity_disclosed'])
        code, html = self.status(number, receipt, 'disclose',
            name="Alex Example", contact="alex@example.com", confirm='yes')
        self.assertIn('id="disclosed"', html)
        after = self.report(report_id)
        self.assertTrue(after['identity_disclosed'])
        with Transaction().start(self.db_name, 0, readonly=True) as t:
            Report = Pool().get('tipline.report')
            self.assertEqual(Report(report_id).reporter_identity()['name'],
                "Alex Example")
            Event = Pool().get('tipline.audit_event')
            self.assertTrue(Event.search([('report', '=', report_id),
                        ('kind', '=', 'disclose')]))
            cursor = t.connection.cursor()
            table = Table('tipline_report')
            cursor.execute(*table.select(
                    Column(table, 'reporter_identity_enc'),
                    where=table.id == report_id))
            self.assertNotIn(b'Alex', bytes(cursor.fetchone()[0]))

    # --- The clocks ------------------------------------------------------

    def test_awaiting_pauses_operational_clock_only(self):
        "Asking pauses the operational clock, never the statutory one"
        report_id, _, _ = self.file()
        before = self.report(report_id)
        self.ask(self.rpc('moderator'), report_id, "When did it start?")
        asked = self.report(report_id)
        self.assertIn('Paused', asked['time_left'])

        # Past the operational deadline while waiting: not overdue.
        clock.travel(before['resolve_by'] - asked['awaiting_since']
            + dt.timedelta(days=1))
        waiting = self.report(report_id)
        self.assertFalse(waiting['overdue'])
        self.assertEqual(waiting['statutory_due'], before['statutory_due'])

        def overdue_ids():
            Report = Pool().get('tipline.report')
            return [r.id for r in Report.search([('overdue', '=', True)])]
        self.assertNotIn(report_id, self.in_transaction(overdue_ids))

        # Past the days to answer: the cron returns it, its deadline moved
        # by the wait; the statutory one unchanged.
        clock.travel(days=20)

        def cron():
            Pool().get('tipline.report').conversation_cron()
        self.in_transaction(cron)
        back = self.report(report_id)
        self.assertEqual(back['state'], 'acknowledged')
        waited = back['resolve_by'] - before['resolve_by']
        self.assertGreaterEqual(waited, dt.timedelta(days=14))
        self.assertEqual(back['statutory_due'], before['statutory_due'])
        self.assertIsNone(back['awaiting_since'])

    def test_reminder_before_return(self):
        "A named reporter is reminded once before the report returns"
        report_id, _, _ = self.file()
        self.ask(self.rpc('moderator'), report_id, "Anything else?")
        clock.travel(days=8)

        def cron():
            pool = Pool()
            pool.get('tipline.report').conversation_cron()
            Queue = pool.get('tipline.mail_queue')
            return Queue.search([('report', '=', report_id),
                    ('template', '=', 'conversation')], count=True)
        self.assertEqual(self.in_transaction(cron), 2)
        self.assertEqual(self.in_transaction(cron), 2)
        self.assertEqual(self.report(report_id)['state'], 'awaiting_reporter')

    # --- Files -----------------------------------------------------------

    def test_metadata_removed_for_moderators(self):
        "Moderators' copies carry no author or place; custodians' originals do"
        report_id, _, _ = self.file()
        photo, pdf = jpeg_with_metadata(), pdf_with_metadata()
        self.assertTrue(identifying(exiftool(photo, '.jpg')))
        self.assertTrue(identifying(exiftool(pdf, '.pdf')))

        def reply():
            pool = Pool()
            Message = pool.get('tipline.message')
            Report = pool.get('tipline.report')
            Message.post_as_reporter(Report(report_id), "Two files.",
                files=[('photo.jpg', photo), ('scan.pdf', pdf)])
        self.in_transaction(reply)
        moderator, custodian = self.rpc('moderator'), self.rpc('custodian')
        files = moderator.call('model.tipline.evidence.search_read', [
                [('report', '=', report_id)], 0, None, None,
                ['name', 'data', 'content_type'], {}])
        self.assertEqual([(f['name'], f['content_type']) for f in files],
            [('photo.jpg', 'image/jpeg'), ('scan.pdf', 'application/pdf')])
        for file, suffix in zip(files, ('.jpg', '.pdf')):
            with self.subTest(suffix=suffix):
                cleaned = base64.b64decode(file['data']['base64'])
                self.assertEqual(identifying(exiftool(cleaned, suffix)), {})
                self.assertNotIn(GPS_AUTHOR.encode(), cleaned)
        # The original is the custodians' alone.
        answer = moderator.call('model.tipline.evidence.read',
            [[files[0]['id']], ['original'], {}], raw=True)
        self.assertNotIn('result', answer)
        originals = custodian.call('model.tipline.evidence.read',
            [[f['id'] for f in files], ['original'], {}])
        for original, suffix in zip(originals, ('.jpg', '.pdf')):
            with self.subTest(original=suffix):
                tags = identifying(exiftool(
                        base64.b64decode(original['original']['base64']),
                        suffix))
                self.assertIn(GPS_AUTHOR, json.dumps(tags))

    def test_files_are_sniffed_and_limited(self):
        "A file's content must match its name; a report takes so many files"
        report_id, _, _ = self.file()

        def send(files):
            pool = Pool()
            Message = pool.get('tipline.message')
            Report = pool.get('tipline.report')
            Message.post_as_reporter(Report(report_id), "Files.",
                files=files)
        for files in ([('photo.jpg', b'%PDF-1.4 not a photo')],
                [('tool.exe', b'MZ\x90\x00')],
                [('a.txt', b'x')] * 11):
            with self.subTest(files=files[0][0]):
                with self.assertRaises(Exception) as raised:
                    self.in_transaction(lambda: send(files))
                self.assertEqual(
                    type(raised.exception).__name__, 'EvidenceError')

    def test_file_names_do_not_reorder(self):
        "A file name's bidirectional override is shown, never obeyed"
        report_id, _, _ = self.file()

        def send():
            pool = Pool()
            Message = pool.get('tipline.message')
            Report = pool.get('tipline.report')
            Message.post_as_reporter(Report(report_id), "A file.",
                files=[('invoice\u202egnp.txt', b'text')])
        self.in_transaction(send)
        name, = [f['name'] for f in self.rpc('moderator').call(
                'model.tipline.evidence.search_read', [
                    [('report', '=', report_id)], 0, None, None,
                    ['name'], {}])]
        self.assertNotIn('\u202e', name)
        self.assertEqual(name, 'invoice\ufffdgnp.txt')


    # --- Markers ---------------------------------------------------------

    def test_markers_absent_from_log_and_mail(self):
        "A message, an internal message and a file leave no trace in the log or the mail"
        markers = {
            'question': 'CONVMARK-QUESTION-4410',
            'internal': 'CONVMARK-INTERNAL-9920',
            'reply': 'CONVMARK-REPLY-1276',
            'file name': 'CONVMARK-FILENAME-3351',
            'file data': 'CONVMARK-FILEDATA-8804',
            }
        records = []

        class Collect(logging.Handler):
            def emit(self, record):
                records.append(self.format(record))
        handler = Collect(level=logging.DEBUG)
        handler.setFormatter(logging.Formatter('%(name)s %(message)s'))
        root = logging.getLogger()
        old_level = root.level
        sink = MailSink.start()
        self.addCleanup(sink.stop)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            named_id, _, _ = self.file()
            anonymous_id, number, receipt = self.file(anonymous=True)
            moderator = self.rpc('moderator')
            for report_id in (named_id, anonymous_id):
                self.ask(moderator, report_id, markers['question'])
                self.wizard(moderator, 'tipline.report.message', report_id, {
                        'body': markers['internal'], 'visibility': 'internal',
                        'ask': False}, 'post')
            self.wizard(self.rpc('reporter'), 'tipline.report.reply',
                named_id, {'report': str(named_id), 'body': markers['reply'],
                    'file1': rpc_bytes(markers['file data'].encode()),
                    'file1_name': markers['file name'] + '.txt'}, 'send')
            self.status(number, receipt, 'reply', body=markers['reply'],
                carried=base64.b64encode(
                    markers['file data'].encode()).decode(),
                carried_name=markers['file name'] + '.txt')
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        self.assertEqual(self.report(anonymous_id)['state'], 'acknowledged')
        # The mail cron sends what requests queued, the anonymous
        # reporter's held notice once its hour has passed.
        clock.travel(hours=2)
        self.in_transaction(
            lambda: Pool().get('tipline.mail_queue').send_pending())
        log = '\n'.join(records)
        self.assertIn('tipline.report.ask', log)
        mail = '\n'.join(text_of(raw)[0] for _, raw in sink.sink.messages)
        self.assertIn('new message', mail)
        for what, marker in markers.items():
            with self.subTest(what=what):
                self.assertNotIn(marker, log)
                self.assertNotIn(marker, mail)


del RouteTestCase
