"""Notification e-mail, read from a real SMTP sink: what is sent, to whom, in
which language, and that no mail ever carries report content or identity."""
import threading
import unittest

from aiosmtpd.controller import Controller

import trytond.config as config
from trytond import backend
from trytond.pool import Pool
from trytond.sendmail import sendmail
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.tipline import clock
from trytond.modules.tipline.notification import CLAIM_TIMEOUT
from trytond.modules.tipline.tests.tools import (
    Sink, free_port, resolve_reports, text_of, use_throwaway_master_key)

use_throwaway_master_key()

MARKER = 'ZEBRA-MARKER-7731'
# Moderation writes to a report lock it, which a transaction must declare.
LOCK = {'_lock_tables': ['tipline_report']}


class NotificationTestCase(unittest.TestCase):
    "Mail goes out after commit, holds no content and survives SMTP failures"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sink = Sink()
        cls.port = free_port()
        cls.controller = Controller(
            cls.sink, hostname='127.0.0.1', port=cls.port)
        cls.controller.start()
        cls.addClassCleanup(cls.controller.stop)
        saved = {o: config.get('email', o) for o in ('uri', 'from')}

        def restore():
            for option, value in saved.items():
                config.set('email', option, value)
        cls.addClassCleanup(restore)
        config.set('email', 'from', 'tipline@example.com')
        cls.use_sink()

        drop_db()
        activate_module(['tipline'])
        cls.addClassCleanup(drop_db)
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            User = pool.get('res.user')
            Lang = pool.get('ir.lang')
            ModelData = pool.get('ir.model.data')
            Party = pool.get('party.party')
            moderators = ModelData.get_id('tipline', 'group_tipline_moderator')
            zh, = Lang.search([('code', '=', 'zh_CN')])
            en, = Lang.search([('code', '=', 'en')])
            Lang.write([zh], {'translatable': True})
            User.create([{
                        'login': 'mail_reporter', 'name': 'Rita Reporter',
                        'email': 'rita@example.com', 'language': en.id,
                        }, {
                        'login': 'mail_reporter_zh', 'name': 'Wang Wei',
                        'email': 'wangwei@example.com', 'language': zh.id,
                        }, {
                        'login': 'mail_noaddress', 'name': 'Nora Noaddress',
                        }, {
                        'login': 'mail_moderator', 'name': 'Moe Moderator',
                        'email': 'moe@example.com', 'language': en.id,
                        'groups': [('add', [moderators])],
                        }])
            Party(name="Mail Target Ltd").save()
            # Spam goes to a team of one, so automatic assignment picks Moe.
            Group = pool.get('res.group')
            Category = pool.get('tipline.category')
            team = Group(name="Spam team", users=[User.search(
                        [('login', '=', 'mail_moderator')])[0].id])
            team.save()
            Category.write(Category.search([('code', '=', 'spam')]),
                {'team': team.id})
            transaction.commit()
        cls.set_assignment('manual')

    @classmethod
    def set_assignment(cls, method):
        # Moderators take reports by hand in most tests, so that each test
        # chooses who is told; test_assigned_at_filing covers the rest.
        with Transaction().start(DB_NAME, 0,
                _lock_tables=['tipline_configuration']) as transaction:
            Configuration = Pool().get('tipline.configuration')
            Configuration.write([Configuration(1)],
                {'assignment_method': method})
            transaction.commit()

    @classmethod
    def use_sink(cls):
        config.set('email', 'uri', 'smtp://127.0.0.1:%d' % cls.port)

    def setUp(self):
        super().setUp()
        self.sink.messages.clear()
        self.addCleanup(self.use_sink)

    def user_id(self, login):
        with Transaction().start(DB_NAME, 0):
            User = Pool().get('res.user')
            user, = User.search([('login', '=', login)])
            return user.id

    def file(self, login, anonymous=False, evidence=()):
        "File a report as login in a committed transaction: its id, number"
        user_id = self.user_id(login)
        with Transaction().start(DB_NAME, user_id) as transaction:
            pool = Pool()
            Party = pool.get('party.party')
            Category = pool.get('tipline.category')
            Report = pool.get('tipline.report')
            party, = Party.search([('name', '=', "Mail Target Ltd")])
            spam, = Category.search([('code', '=', 'spam')])
            report, _ = Report.file(party, spam,
                "Adverts with %s pasted into forty records." % MARKER,
                anonymous=anonymous, evidence=evidence)
            transaction.commit()
            return report.id, report.tracking_number

    def deliver(self):
        "Run the mail cron job, as trytond-cron does every minute"
        with Transaction().start(DB_NAME, 0) as transaction:
            Pool().get('tipline.mail_queue').send_pending()
            transaction.commit()

    def received(self, deliver=True):
        """(recipients, text, message) of every mail received so far, once
        the cron job has sent what is due (unless not deliver)"""
        if deliver:
            self.deliver()
        result = []
        for rcpt, raw in self.sink.messages:
            text, msg = text_of(raw)
            result.append((rcpt, text, msg))
        return result

    def assertClean(self, mails):
        for _, text, _ in mails:
            for secret in (MARKER, 'Rita Reporter', 'mail_reporter',
                    'Wang Wei', 'evidence-file.txt', 'EVIDENCE-BYTES'):
                self.assertNotIn(secret, text)

    def queue(self, report_id):
        with Transaction().start(DB_NAME, 0):
            Queue = Pool().get('tipline.mail_queue')
            return [(q.template, q.state, q.attempts, q.last_error)
                for q in Queue.search(
                    [('report', '=', report_id)], order=[('id', 'ASC')])]

    def test_acknowledgement_english(self):
        "A named reporter gets an English acknowledgement without content"
        report_id, number = self.file('mail_reporter',
            evidence=[('evidence-file.txt', b'EVIDENCE-BYTES ' + MARKER.encode())])
        mails = self.received()
        self.assertEqual(len(mails), 1)
        rcpt, text, msg = mails[0]
        self.assertEqual(rcpt, ['rita@example.com'])
        self.assertIn(number, msg['Subject'])
        self.assertIn('We received your report', text)
        self.assertIn('/model/tipline.report/%d' % report_id, text)
        self.assertEqual(msg.get_content_type(), 'multipart/alternative')
        self.assertTrue(msg.get_body(('html',)))
        self.assertClean(mails)
        self.assertEqual(self.queue(report_id),
            [('acknowledgement', 'sent', 0, None)])
        # The administrator's list of mail shows no reporter's address, and
        # a sent reporter mail keeps none.
        with Transaction().start(DB_NAME, 0):
            Queue = Pool().get('tipline.mail_queue')
            row, = Queue.search([('report', '=', report_id)])
            self.assertEqual(row.recipient, 'The reporter (confidential)')
            self.assertIsNone(row.recipient_enc)

    def test_acknowledgement_chinese(self):
        "A zh_CN reporter gets it in Chinese"
        _, number = self.file('mail_reporter_zh')
        mails = self.received()
        self.assertEqual(len(mails), 1)
        rcpt, text, msg = mails[0]
        self.assertEqual(rcpt, ['wangwei@example.com'])
        self.assertIn('我们已收到您的举报', text)
        self.assertIn(number, msg['Subject'])
        self.assertClean(mails)

    def test_anonymous_sends_nothing(self):
        "An anonymous report queues and sends no mail, ever"
        report_id, _ = self.file('mail_reporter', anonymous=True)
        moderator = self.user_id('mail_moderator')
        with Transaction().start(DB_NAME, moderator, **LOCK) as transaction:
            Report = Pool().get('tipline.report')
            resolve_reports([Report(report_id)], message="Dealt with.",
                severity='low')
            transaction.commit()
        self.assertEqual(self.received(), [])
        self.assertEqual(self.queue(report_id), [])

    def test_no_address_skipped(self):
        "A reporter without an address is skipped quietly"
        report_id, _ = self.file('mail_noaddress')
        self.assertEqual(self.received(), [])
        self.assertEqual(self.queue(report_id), [])

    def test_assignment_and_result(self):
        "The assigned moderator is told; the reporter gets the result"
        report_id, number = self.file('mail_reporter')
        moderator = self.user_id('mail_moderator')
        self.deliver()
        self.sink.messages.clear()
        with Transaction().start(DB_NAME, 0, **LOCK) as transaction:
            Report = Pool().get('tipline.report')
            report = Report(report_id)
            report.assigned_to = moderator
            report.save()
            transaction.commit()
        mails = self.received()
        self.assertEqual([m[0] for m in mails], [['moe@example.com']])
        self.assertIn('assigned to you', mails[0][1])
        self.assertIn(number, mails[0][2]['Subject'])

        self.sink.messages.clear()
        with Transaction().start(DB_NAME, moderator, **LOCK) as transaction:
            Report = Pool().get('tipline.report')
            Report.write([Report(report_id)], {
                    'internal_notes': "INTERNAL-ONLY: the sender is a rival."})
            resolve_reports([Report(report_id)],
                message="We removed the adverts.")
            transaction.commit()
        mails = self.received()
        # Triaged is quiet? No: investigating and resolved both reach the
        # reporter; acknowledged came with the acknowledgement.
        self.assertEqual(
            [m[2]['Subject'].split(' is now ')[-1] for m in mails],
            ['Triaged', 'Investigating', 'Resolved'])
        self.assertTrue(all(m[0] == ['rita@example.com'] for m in mails))
        last = mails[-1][1]
        self.assertIn('Upheld', last)
        # The moderators' message is written for the reporter and is sent;
        # the report and the internal notes are not.
        self.assertIn('We removed the adverts.', last)
        self.assertNotIn('INTERNAL-ONLY', last)
        self.assertClean(mails)

    def test_status_addressed_when_sent(self):
        """A reporter's status mail is queued without the address, which
        the sender reads from the report's identity: in the reporter's
        language, to the address the reporter has when it is sent"""
        report_id, number = self.file('mail_reporter_zh')
        moderator = self.user_id('mail_moderator')
        self.deliver()
        self.sink.messages.clear()
        with Transaction().start(DB_NAME, moderator, **LOCK) as transaction:
            pool = Pool()
            Report = pool.get('tipline.report')
            Queue = pool.get('tipline.mail_queue')
            resolve_reports([Report(report_id)], message="Done.")
            rows = Queue.search([('report', '=', report_id),
                    ('template', '=', 'status')])
            self.assertTrue(rows)
            self.assertTrue(all(r.recipient_enc is None and r.to_reporter
                    for r in rows))
            transaction.commit()
        mails = self.received()
        self.assertTrue(mails)
        self.assertTrue(all(m[0] == ['wangwei@example.com'] for m in mails))
        self.assertIn('状态', mails[-1][2]['Subject'])
        self.assertIn(number, mails[-1][2]['Subject'])
        self.assertClean(mails)
        self.assertTrue(all(state == 'sent'
                for t, state, _, _ in self.queue(report_id)))

    def test_status_without_address_fails_once(self):
        "A reporter whose address is gone when the mail is sent: NoAddress"
        report_id, _ = self.file('mail_reporter')
        moderator = self.user_id('mail_moderator')
        self.deliver()
        self.sink.messages.clear()
        with Transaction().start(DB_NAME, moderator, **LOCK) as transaction:
            Report = Pool().get('tipline.report')
            resolve_reports([Report(report_id)], message="Done.")
            transaction.commit()
        with Transaction().start(DB_NAME, 0) as transaction:
            User = Pool().get('res.user')
            rita, = User.search([('login', '=', 'mail_reporter')])
            User.write([rita], {'email': None})
            transaction.commit()
        try:
            self.assertEqual(self.received(), [])
        finally:
            with Transaction().start(DB_NAME, 0) as transaction:
                User = Pool().get('res.user')
                User.write([rita], {'email': 'rita@example.com'})
                transaction.commit()
        status = [q for q in self.queue(report_id) if q[0] == 'status']
        self.assertTrue(status)
        self.assertEqual(set(status), {('status', 'failed', 1, 'NoAddress')})

    def test_assigned_at_filing(self):
        "With automatic assignment the moderator is told at once"
        self.set_assignment('least_loaded')
        try:
            report_id, number = self.file('mail_reporter')
        finally:
            self.set_assignment('manual')
        mails = self.received()
        templates = sorted(t for t, _, _, _ in self.queue(report_id))
        self.assertEqual(templates, ['acknowledgement', 'assignment'])
        assignment, = [m for m in mails if 'assigned to you' in m[1]]
        self.assertIn(number, assignment[2]['Subject'])
        self.assertClean(mails)

    def test_rollback_sends_nothing(self):
        "Nothing is sent when the transaction rolls back"
        user_id = self.user_id('mail_reporter')
        with Transaction().start(DB_NAME, user_id) as transaction:
            pool = Pool()
            Party = pool.get('party.party')
            Category = pool.get('tipline.category')
            Report = pool.get('tipline.report')
            party, = Party.search([('name', '=', "Mail Target Ltd")])
            spam, = Category.search([('code', '=', 'spam')])
            Report.file(party, spam, "Adverts that are never filed at all.")
            transaction.rollback()
        self.assertEqual(self.received(), [])

    def test_invitation_through_the_queue(self):
        """A review's invitations are queued like every other mail: none
        leaves if the transaction rolls back, the cron job sends each once,
        in its recipient's language, and forgets the address"""
        import datetime as dt
        self.file('mail_reporter')
        self.file('mail_reporter_zh')
        self.received()
        self.sink.messages.clear()

        def invite(commit):
            with Transaction().start(DB_NAME, 0) as transaction:
                Review = Pool().get('tipline.review')
                reviews = Review.search([('period', '=', 'weekly')])
                review = reviews[0] if reviews else Review.make(
                    'weekly', dt.date.today())
                Review.invite([review])
                name = review.rec_name
                if commit:
                    transaction.commit()
                else:
                    transaction.rollback()
                return name
        invite(commit=False)
        self.assertEqual(self.received(), [])
        period = invite(commit=True)
        invite(commit=True)
        mails = sorted(self.received(), key=lambda m: m[0])
        self.assertEqual([m[0] for m in mails],
            [['rita@example.com'], ['wangwei@example.com']])
        (_, english, _), (_, chinese, _) = mails
        self.assertIn('tell us what you think of reporting', english)
        self.assertIn(period, english)
        self.assertIn('意见箱', chinese)
        self.assertClean(mails)
        with Transaction().start(DB_NAME, 0):
            Queue = Pool().get('tipline.mail_queue')
            rows = Queue.search([('template', '=', 'invitation')])
            self.assertEqual([(r.state, r.recipient_enc) for r in rows],
                [('sent', None)] * 2)

    def test_filing_never_sends(self):
        """The request that files only queues the mail: a dead mail server
        costs the reporter nothing, and the cron job sends it later"""
        config.set('email', 'uri', 'smtp://127.0.0.1:%d' % free_port())
        report_id, number = self.file('mail_reporter')
        self.assertEqual(self.received(deliver=False), [])
        self.assertEqual(self.queue(report_id),
            [('acknowledgement', 'pending', 0, None)])
        self.use_sink()
        mails = self.received()
        self.assertEqual(len(mails), 1)
        self.assertIn(number, mails[0][2]['Subject'])
        self.assertEqual(self.queue(report_id)[0][:3],
            ('acknowledgement', 'sent', 0))

    def test_worker_sends_at_once(self):
        "With [queue] worker, filing hands the mail to trytond-worker"
        config.set('queue', 'worker', 'True')
        self.addCleanup(config.set, 'queue', 'worker', 'False')
        report_id, number = self.file('mail_reporter')
        with Transaction().start(DB_NAME, 0) as transaction:
            Queue = Pool().get('ir.queue')
            tasks = Queue.search([('dequeued_at', '=', None)])
            self.assertTrue(tasks)
            for task in tasks:
                task.run()
            transaction.commit()
        mails = self.received(deliver=False)
        self.assertEqual(len(mails), 1)
        self.assertIn(number, mails[0][2]['Subject'])

    def test_failure_then_cron(self):
        "A failing server leaves the report filed and the mail pending"
        report_id, number = self.file('mail_reporter')
        config.set('email', 'uri', 'smtp://127.0.0.1:%d' % free_port())
        with self.assertLogs('trytond.modules.tipline.notification',
                'WARNING') as logs:
            self.deliver()
        self.assertNotIn(MARKER, '\n'.join(logs.output))
        with Transaction().start(DB_NAME, 0):
            Report = Pool().get('tipline.report')
            self.assertEqual(Report(report_id).tracking_number, number)
        (template, state, attempts, error), = self.queue(report_id)
        self.assertEqual((template, state, attempts), (
                'acknowledgement', 'pending', 1))
        self.assertTrue(error)
        self.assertEqual(self.received(deliver=False), [])

        self.use_sink()
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Queue = pool.get('tipline.mail_queue')
            rows = Queue.search([('report', '=', report_id)])
            Queue.write(rows, {'next_try': None})  # due now
            transaction.commit()
        mails = self.received()
        self.assertEqual(len(mails), 1)
        self.assertIn(number, mails[0][2]['Subject'])
        self.assertEqual(self.queue(report_id)[0][:3],
            ('acknowledgement', 'sent', 1))
        self.assertClean(mails)

    def message_ids(self):
        "The Message-ID of every mail the sink received, in order"
        return [msg['Message-ID'] for _, _, msg in self.received(
                deliver=False)]

    def stored_message_id(self, report_id):
        with Transaction().start(DB_NAME, 0):
            Queue = Pool().get('tipline.mail_queue')
            row, = Queue.search([('report', '=', report_id)])
            return row.message_id

    def test_message_id_given_when_queued(self):
        "Each queued mail has a Message-ID of its own, sent with it"
        config.set('email', 'uri', 'smtp://127.0.0.1:%d' % free_port())
        report_id, _ = self.file('mail_reporter')
        other_id, _ = self.file('mail_reporter')
        message_id = self.stored_message_id(report_id)
        self.assertRegex(message_id, r'^<tipline\.mail\.[0-9a-f]{32}@[^>]+>$')
        self.assertNotEqual(message_id, self.stored_message_id(other_id))
        self.use_sink()
        self.deliver()
        self.assertCountEqual(self.message_ids(),
            [message_id, self.stored_message_id(other_id)])

    def test_dead_sender_mail_sent_again_with_its_message_id(self):
        """A sender that dies after the server accepted a mail, before it
        recorded it, leaves the mail claimed: other senders leave it alone
        until the claim is older than the timeout, then send it again with
        the same Message-ID (at least once, a copy recognisable)"""
        self.addCleanup(clock.reset)
        report_id, number = self.file('mail_reporter')
        message_id = self.stored_message_id(report_id)
        # The dead sender: it claimed the row and the server accepted the
        # mail; it died before recording it.
        with Transaction().start(DB_NAME, 0):
            Queue = Pool().get('tipline.mail_queue')
            row, = Queue.search([('report', '=', report_id)])
            claim, ids = Queue._claim([row.id])
            self.assertEqual(ids, [row.id])
            sendmail('tipline@example.com', [row.address()], row.build(),
                strict=True)
        self.assertEqual(self.queue(report_id),
            [('acknowledgement', 'sending', 0, None)])
        self.deliver()  # the cron job: the claim is fresh, the row held
        self.assertEqual(self.message_ids(), [message_id])

        # (Other tests' mail due by then goes out too.)
        clock.travel(seconds=CLAIM_TIMEOUT + 1)
        self.deliver()
        again = [m for _, _, m in self.received(deliver=False)
            if m['Message-ID'] == message_id]
        self.assertEqual(len(again), 2)
        self.assertIn(number, again[1]['Subject'])
        self.assertEqual(self.queue(report_id),
            [('acknowledgement', 'sent', 0, None)])
        self.deliver()
        self.assertEqual(self.message_ids().count(message_id), 2)

    def test_claimed_failure_counted_by_its_claim_only(self):
        """A failure recorded under a claim that another sender took over
        (the first one was too slow) counts nothing"""
        report_id, _ = self.file('mail_reporter')
        with Transaction().start(DB_NAME, 0):
            Queue = Pool().get('tipline.mail_queue')
            row, = Queue.search([('report', '=', report_id)])
            Queue._claim([row.id])
            Queue._mark(row.id, 'not-the-claim', 'SMTPServerDisconnected')
        self.assertEqual(self.queue(report_id),
            [('acknowledgement', 'sending', 0, None)])

    @unittest.skipUnless(backend.name == 'postgresql',
        "concurrent transactions need a database server")
    def test_concurrent_senders_send_once(self):
        """Senders racing for the same due mail (the cron job, queue
        workers) send each mail once"""
        config.set('email', 'uri', 'smtp://127.0.0.1:%d' % free_port())
        reports = [self.file('mail_reporter')[0] for _ in range(6)]
        self.use_sink()
        start = threading.Barrier(4)
        errors = []

        def cron():
            try:
                start.wait(30)
                with Transaction().start(DB_NAME, 0) as transaction:
                    Pool().get('tipline.mail_queue').send_pending()
                    transaction.commit()
            except Exception as error:
                errors.append(error)

        senders = [threading.Thread(target=cron) for _ in range(4)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(60)
        self.assertEqual(errors, [])
        ids = self.message_ids()
        self.assertEqual(len(ids), len(set(ids)))
        for report_id in reports:
            self.assertIn(self.stored_message_id(report_id), ids)
            self.assertEqual(self.queue(report_id),
                [('acknowledgement', 'sent', 0, None)])

    def test_access_admin_only(self):
        "Only the Tipline Administrator reads the mail queue"
        moderator = self.user_id('mail_moderator')
        with Transaction().start(DB_NAME, moderator, context={
                    '_check_access': True}):
            Queue = Pool().get('tipline.mail_queue')
            from trytond.exceptions import UserError
            with self.assertRaises(UserError):
                Queue.search([])


if __name__ == '__main__':
    unittest.main()
