import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from trytond import backend
from trytond.config import config
from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction
from trytond.modules.tipline import clock, rate_limit
from trytond.modules.tipline.tests.tools import (
    category, forget_rate_limits, free_port, make_party,
    use_throwaway_master_key)

use_throwaway_master_key()


class StatusPageTestCase(RouteTestCase):
    "The public status page of anonymous reports"
    module = 'tipline'

    @classmethod
    def setUpDatabase(cls):
        Report = Pool().get('tipline.report')
        party = make_party("Status Page Ltd")
        spam = category('spam')
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
        forget_rate_limits(self.db_name)
        self.addCleanup(clock.reset)

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

    def post_wrong(self, number, address, receipt='9999-0000-0000-0000',
            client=None):
        return (client or self.client()).post(self.url(), data={
                'number': number, 'receipt': receipt},
            environ_base={'REMOTE_ADDR': address})

    def test_guessing_one_number_slows_down(self):
        """Wrong receipts for one number from one address: a few at once,
        then each after a wait that doubles"""
        for i in range(rate_limit.FREE_CHECKS_PER_NUMBER):
            self.assertEqual(self.post_wrong(
                    self.number, '10.1.0.1').status_code, 200)
        waits = []
        for i in range(4):
            response = self.post_wrong(self.number, '10.1.0.1')
            self.assertEqual(response.status_code, 429)
            self.assertIn('Too many attempts', response.get_data(as_text=True))
            wait = int(response.headers['Retry-After'])
            waits.append(wait)
            with clock.travelled(seconds=wait - 1):
                self.assertEqual(self.post_wrong(
                        self.number, '10.1.0.1').status_code, 429)
            clock.travel(seconds=wait)
            self.assertEqual(self.post_wrong(
                    self.number, '10.1.0.1').status_code, 200)
        first = rate_limit.FIRST_WAIT.total_seconds()
        self.assertEqual(waits, [first, 2 * first, 4 * first, 8 * first])

    def test_knowing_the_number_does_not_lock_its_reporter_out(self):
        "Others' wrong receipts, from any number of addresses, cost nothing"
        for i in range(40):
            self.post_wrong(self.number, '10.5.%d.%d' % (i % 4, i))
        response = self.client().post(self.url(), data={
                'number': self.number, 'receipt': self.receipt},
            environ_base={'REMOTE_ADDR': '10.5.9.9'})
        self.assertEqual(response.status_code, 200)
        self.assertIn('Submitted', response.get_data(as_text=True))

    def test_own_mistakes_cost_a_short_wait(self):
        """The reporter who mistypes their receipt waits at most
        FIRST_WAIT for the next try, and the right receipt clears the
        slow-down"""
        for i in range(rate_limit.FREE_CHECKS_PER_NUMBER):
            self.post_wrong(self.number, '10.6.0.1')
        response = self.client().post(self.url(), data={
                'number': self.number, 'receipt': self.receipt},
            environ_base={'REMOTE_ADDR': '10.6.0.1'})
        self.assertEqual(response.status_code, 429)
        self.assertLessEqual(int(response.headers['Retry-After']),
            rate_limit.FIRST_WAIT.total_seconds())
        clock.travel(rate_limit.FIRST_WAIT)
        response = self.client().post(self.url(), data={
                'number': self.number, 'receipt': self.receipt},
            environ_base={'REMOTE_ADDR': '10.6.0.1'})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.post_wrong(
                self.number, '10.6.0.1').status_code, 200)

    @contextlib.contextmanager
    def shared_database(self):
        """The name of this test's database as several connections see it:
        itself on PostgreSQL; on SQLite, where each thread has its own
        :memory: database, a file copy of it"""
        if backend.name != 'sqlite' or self.db_name != ':memory:':
            yield self.db_name
            return
        folder = tempfile.mkdtemp(prefix='tipline-status-')
        name = 'status_concurrency'
        saved_path = config.get('database', 'path')
        try:
            with Transaction().start(self.db_name, 0) as transaction:
                target = sqlite3.connect(
                    os.path.join(folder, name + '.sqlite'))
                transaction.connection.backup(target)
                target.close()
            config.set('database', 'path', folder)
            # As a server does before its first request: threads that all
            # found no pool would each build it.
            if name not in Pool.database_list():
                with Transaction().start(name, 0, readonly=True):
                    Pool(name).init()
            yield name
        finally:
            config.set('database', 'path', saved_path)
            shutil.rmtree(folder, ignore_errors=True)

    def post_at_once(self, database, posts):
        """Send the (number, address) posts of wrong receipts in parallel
        threads, each with its own connection; their status codes"""
        barrier = threading.Barrier(len(posts))
        codes = [None] * len(posts)

        def send(i, number, address):
            client = self.client()
            barrier.wait()
            codes[i] = client.post('/%s/tipline/status' % database, data={
                    'number': number, 'receipt': '9999-0000-0000-0000'},
                environ_base={'REMOTE_ADDR': address}).status_code
        threads = [threading.Thread(target=send, args=(i, *post))
            for i, post in enumerate(posts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertLessEqual(set(codes), {200, 429, 503}, codes)
        return codes

    def test_parallel_guesses_on_one_number_stay_within_the_limit(self):
        "40 wrong receipts at once for one number check no more than allowed"
        with self.shared_database() as database:
            codes = self.post_at_once(database,
                [(self.number, '10.7.0.1')] * 40)
        self.assertLessEqual(codes.count(200), rate_limit.FREE_CHECKS_PER_NUMBER)
        self.assertGreater(codes.count(200), 0)

    def test_parallel_guesses_from_one_client_stay_within_the_limit(self):
        "40 wrong receipts at once from one address, each for its own number"
        with self.shared_database() as database:
            codes = self.post_at_once(database,
                [('TL-0000-0000-0000-%04d' % i, '10.8.0.1')
                    for i in range(40)])
        self.assertLessEqual(
            codes.count(200), rate_limit.MAX_FAILURES_PER_CLIENT)
        self.assertGreater(codes.count(200), 0)

    @contextlib.contextmanager
    def two_servers(self, database):
        """Two trytond processes serving database (as shared_database gives
        it): their base URLs"""
        folder = tempfile.mkdtemp(prefix='tipline-servers-')
        processes, urls = [], []
        try:
            for i in range(2):
                port = free_port()
                conf = os.path.join(folder, 'trytond-%d.conf' % i)
                with open(conf, 'w') as file:
                    file.write('[database]\nuri = %s\n' % config.get(
                            'database', 'uri'))
                    if backend.name == 'sqlite':
                        file.write('path = %s\n' % config.get(
                                'database', 'path'))
                    file.write('[web]\nlisten = 127.0.0.1:%d\n' % port)
                log = open(os.path.join(folder, 'trytond-%d.log' % i), 'w')
                processes.append(subprocess.Popen([
                            os.path.join(os.path.dirname(sys.executable),
                                'trytond'), '-c', conf, '-d', database],
                        stdout=log, stderr=subprocess.STDOUT))
                log.close()
                urls.append('http://127.0.0.1:%d/%s/tipline/status'
                    % (port, database))
            for url in urls:
                # A first GET builds the pool before the burst.
                deadline = time.monotonic() + 120
                while True:
                    try:
                        with urllib.request.urlopen(url, timeout=30):
                            break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.5)
            yield urls
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            shutil.rmtree(folder, ignore_errors=True)

    def test_parallel_guesses_across_two_servers_stay_within_the_limit(self):
        """40 wrong receipts at once for one number, shared between two
        server processes, check no more than allowed"""
        with self.shared_database() as database, \
                self.two_servers(database) as urls:
            barrier = threading.Barrier(40)
            codes = [None] * 40

            def send(i):
                request = urllib.request.Request(urls[i % 2],
                    data=urllib.parse.urlencode({
                            'number': self.number,
                            'receipt': '9999-0000-0000-0000'}).encode())
                barrier.wait()
                try:
                    with urllib.request.urlopen(request, timeout=60) as r:
                        codes[i] = r.status
                except urllib.error.HTTPError as error:
                    codes[i] = error.code
            threads = [threading.Thread(target=send, args=(i,))
                for i in range(40)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.assertLessEqual(set(codes), {200, 429, 503}, codes)
        self.assertLessEqual(codes.count(200), rate_limit.FREE_CHECKS_PER_NUMBER)
        self.assertGreater(codes.count(200), 0)

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
