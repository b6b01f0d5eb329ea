import re

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction
from trytond.modules.tipline.tests.tools import (
    use_throwaway_master_key)

use_throwaway_master_key()


class StatusPageTestCase(RouteTestCase):
    "The public status page of anonymous reports"
    module = 'tipline'

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        Party = pool.get('party.party')
        Category = pool.get('tipline.category')
        Report = pool.get('tipline.report')
        party = Party(name="Status Page Ltd")
        party.save()
        spam, = Category.search([('code', '=', 'spam')])
        report, receipt = Report.file(
            party, spam, "Advertising pasted into forty party records.",
            anonymous=True)
        report.reporter_message = "We removed the <b>adverts</b>."
        report.save()
        cls.number, cls.receipt = report.tracking_number, receipt
        named, _ = Report.file(
            party, spam, "The same advertising, reported by name.")
        cls.named_number = named.tracking_number
        decided, cls.decided_receipt = Report.file(
            party, spam, "Adverts again, in the notes of a contact.",
            anonymous=True)
        Report.write([decided], {
                'severity_assessment': 'low', 'outcome': 'not_upheld'})
        Report.triage([decided])
        Report.resolve([decided])
        cls.decided_number = decided.tracking_number

    def setUp(self):
        super().setUp()
        # Each test starts with no failed attempts on record.
        with Transaction().start(self.db_name, 0) as transaction:
            Attempt = Pool().get('tipline.status_attempt')
            table = Attempt.__table__()
            transaction.connection.cursor().execute(*table.delete())
            transaction.commit()

    def url(self):
        return '/%s/tipline/status' % self.db_name

    def test_form(self):
        "The page is a small form that works on a phone"
        response = self.client().get(self.url())
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('name="viewport"', html)
        self.assertIn('name="receipt"', html)
        self.assertEqual(response.headers['Cache-Control'], 'no-store')

    def test_status_with_number_and_receipt(self):
        "The right number and receipt show the status and the answer"
        response = self.client().post(self.url(), data={
                'number': self.number.lower().replace('-', ' '),
                'receipt': self.receipt.replace('-', '')},
            environ_base={'REMOTE_ADDR': '10.0.0.2'})
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn(self.number, html)
        self.assertIn('Submitted', html)
        # The moderators' message is escaped, never markup.
        self.assertIn('We removed the &lt;b&gt;adverts&lt;/b&gt;.', html)
        self.assertNotIn('Advertising pasted', html)

    def test_anonymous_appeal(self):
        "The anonymous reporter appeals with the receipt; once"
        def post(**data):
            return self.client().post(self.url(), data={
                    'number': self.decided_number,
                    'receipt': self.decided_receipt, **data},
                environ_base={'REMOTE_ADDR': '10.0.0.9'})
        html = post().get_data(as_text=True)
        self.assertIn('id="appeal"', html)
        self.assertIn('Not upheld', html)

        # A wrong receipt appeals nothing and looks like any failure.
        html = post(receipt='1111-2222-3333-4444', action='appeal',
            reason="The adverts are still in the notes.").get_data(
            as_text=True)
        self.assertIn('No report matches', html)
        self.assertNotIn('id="appeal"', html)

        # Too short: refused with the reason kept, nothing written.
        html = post(action='appeal', reason="No.").get_data(as_text=True)
        self.assertIn('id="appeal-error"', html)
        self.assertIn('at least 10 characters', html)
        self.assertIn('>No.</textarea>', html)
        with Transaction().start(self.db_name, 0):
            Report = Pool().get('tipline.report')
            report, = Report.search(
                [('tracking_number', '=', self.decided_number)])
            self.assertEqual(report.state, 'resolved')

        html = post(action='appeal',
            reason="The adverts are still in the notes today.").get_data(
            as_text=True)
        self.assertIn('id="appeal-done"', html)
        self.assertIn('Investigating', html)
        self.assertNotIn('id="appeal"', html)
        with Transaction().start(self.db_name, 0):
            pool = Pool()
            Report = pool.get('tipline.report')
            Event = pool.get('tipline.audit_event')
            report, = Report.search(
                [('tracking_number', '=', self.decided_number)])
            self.assertEqual(report.state, 'investigating')
            self.assertTrue(report.appealed_at)
            self.assertEqual(report.appeal_reason,
                "The adverts are still in the notes today.")
            self.assertIsNone(report.write_uid)
            events = Event.search([('report', '=', report.id)])
            appealed = [e.kind for e in events].index('appeal')
            # The appeal and what it caused name nobody.
            for event in events[appealed:]:
                self.assertIsNone(event.create_uid)
                self.assertEqual(event.actor, '')
            table = Report.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(table.appeal_reason_enc,
                    where=table.id == report.id))
            self.assertNotIn(b'still in the notes',
                bytes(cursor.fetchone()[0]))

    def test_wrong_answers_look_alike(self):
        "A wrong receipt, a wrong number and a named report get one reply"
        bodies = set()
        for number, receipt in [
                (self.number, '1111-2222-3333-4444'),
                ('TL-0000-0000-0000-0000', self.receipt),
                (self.named_number, self.receipt),
                ('not a number', 'not a receipt')]:
            response = self.client().post(self.url(), data={
                    'number': number, 'receipt': receipt},
                environ_base={'REMOTE_ADDR': '10.0.0.3'})
            self.assertEqual(response.status_code, 200)
            html = response.get_data(as_text=True)
            self.assertIn('No report matches', html)
            bodies.add(re.sub(r'value="[^"]*"', '', html))
        self.assertEqual(len(bodies), 1)

    def test_guessing_is_rate_limited_per_number(self):
        "Repeated wrong receipts for one number lock that number for a while"
        for i in range(5):
            response = self.client().post(self.url(), data={
                    'number': self.number, 'receipt': '9999-0000-0000-000%d' % i},
                environ_base={'REMOTE_ADDR': '10.1.0.%d' % i})
            self.assertEqual(response.status_code, 200)
        response = self.client().post(self.url(), data={
                'number': self.number, 'receipt': self.receipt},
            environ_base={'REMOTE_ADDR': '10.1.1.1'})
        self.assertEqual(response.status_code, 429)
        self.assertIn('Too many attempts', response.get_data(as_text=True))

    def test_guessing_is_rate_limited_per_client(self):
        "One client guessing many numbers is stopped"
        for i in range(10):
            response = self.client().post(self.url(), data={
                    'number': 'TL-0000-0000-0000-%04d' % i, 'receipt': '1'},
                environ_base={'REMOTE_ADDR': '10.2.0.1'})
            self.assertEqual(response.status_code, 200)
        response = self.client().post(self.url(), data={
                'number': self.number, 'receipt': self.receipt},
            environ_base={'REMOTE_ADDR': '10.2.0.1'})
        self.assertEqual(response.status_code, 429)

    def test_help_page(self):
        "The help page explains reporting, with each category's guidance"
        response = self.client().get('/%s/tipline/help' % self.db_name)
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        for section in ('id="how"', 'id="categories"', 'id="privacy"',
                'id="follow"', 'id="abuse"'):
            self.assertIn(section, html)
        self.assertIn('Data leak', html)
        self.assertIn('impersonating a real company', html)
        self.assertIn('href="status?lang=en"', html)
        chinese = self.client().get(
            '/%s/tipline/help?lang=zh_CN' % self.db_name)
        self.assertIn('举报指南', chinese.get_data(as_text=True))
        # The status page links to it.
        self.assertIn('href="help?lang=en"',
            self.client().get(self.url()).get_data(as_text=True))

    def test_chinese(self):
        "The page speaks Chinese when the browser asks for it"
        response = self.client().get(
            self.url(), headers={'Accept-Language': 'zh-CN,zh;q=0.9'})
        self.assertIn('lang="zh-CN"', response.get_data(as_text=True))


del RouteTestCase
