import base64
import json
import logging
from urllib.parse import quote

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.modules.tipline.tests.tools import (
    use_throwaway_master_key)

use_throwaway_master_key()

MARKER = 'LOGMARKER-4471'
PASSWORD = 'log-test-password-1'


class LoggingTestCase(RouteTestCase):
    "Report text and reporters stay out of the server log"
    module = 'tipline'

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        User = pool.get('res.user')
        Party = pool.get('party.party')
        Category = pool.get('tipline.category')
        User.create([{
                    'name': "Logged Reporter", 'login': 'logreporter',
                    'password': PASSWORD}])
        party = Party(name="Log Test Party")
        party.save()
        cls.party_id = party.id
        cls.category_id, = [c.id for c in Category.search(
                [('code', '=', 'fraud')])]

    def rpc(self, client, method, params, auth=None):
        headers = {'Content-Type': 'application/json'}
        if auth:
            headers['Authorization'] = 'Session ' + base64.b64encode(
                auth.encode()).decode()
        response = client.post('/%s/rpc/' % quote(self.db_name), headers=headers,
            data=json.dumps({'id': 1, 'method': method, 'params': params}))
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True)[:300])
        return json.loads(response.get_data(as_text=True))

    def test_failed_and_anonymous_submissions_leave_no_trace(self):
        "Neither the text nor the login of a Tipline call reaches the log"
        records = []

        class Collect(logging.Handler):
            def emit(self, record):
                records.append((record.name, self.format(record)))
        handler = Collect(level=logging.DEBUG)
        handler.setFormatter(logging.Formatter(
                '%(name)s %(levelname)s %(message)s'))
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            client = self.client()
            login = self.rpc(
                client, 'common.db.login',
                ['logreporter', {'password': PASSWORD}, 'en'])
            user_id, session = login['result'][:2]
            auth = 'logreporter:%s:%s' % (user_id, session)
            context = {
                'active_model': 'party.party', 'active_id': self.party_id,
                'active_ids': [self.party_id]}
            session_id, _, _ = self.rpc(
                client, 'wizard.tipline.report.submit.create', [context],
                auth)['result']
            start = {'start': {
                    'category': str(self.category_id),
                    'description': MARKER,
                    'anonymous': True}}
            failed = self.rpc(
                client, 'wizard.tipline.report.submit.execute',
                [session_id, start, 'submit', context], auth)
            self.assertIn('error', failed)
            start['start']['description'] = (
                MARKER + ' and enough words to be a description.')
            done = self.rpc(
                client, 'wizard.tipline.report.submit.execute',
                [session_id, start, 'submit', context], auth)['result']
            number = done['view']['defaults']['tracking_number']
            receipt = done['view']['defaults']['receipt']
            self.assertTrue(done['view']['defaults']['status_url'].endswith(
                    '/tipline/status'))
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        log = '\n'.join(text for _, text in records)
        calls = '\n'.join(text for name, text in records
            if name in {'trytond.protocols.dispatcher', 'trytond.wsgi'})
        self.assertIn('tipline.report.submit.execute', calls)
        # Anywhere, even in the SQL that the backends log at DEBUG level:
        for secret in (MARKER, receipt):
            self.assertNotIn(secret, log)
        # In the lines that name the caller:
        for secret in (number, 'logreporter@', '%s@' % user_id):
            self.assertNotIn(secret, calls)


del RouteTestCase
