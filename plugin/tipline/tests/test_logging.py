import base64
import contextlib
import json
import logging
import logging.config
import os
import re
import sys
import tempfile
import unittest
from urllib.parse import quote

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction
from trytond.modules.tipline.log_redaction import RedactCallers
from trytond.modules.tipline.tests.tools import (
    category, make_party, resolved_report, use_throwaway_master_key)

use_throwaway_master_key()

MARKER = 'LOGMARKER-4471'
PASSWORD = 'log-test-password-1'
REPORTER_LOGIN = 'logreporter'
REPORTER_ADDRESS = '198.51.100.23'
STATUS_ADDRESS = '203.0.113.77'
# The checkout's, also when the module is linked into trytond/modules.
LOGGING_CONF = os.path.join(os.path.dirname(os.path.realpath(__file__)),
    '..', '..', '..', 'manifests', 'logging.conf')


class LoggingTestCase(RouteTestCase):
    """Report text and reporters stay out of the server log: with the
    module's filter, and with the shipped logging configuration
    (manifests/logging.conf) at its own levels and with every logger at
    DEBUG, no line names who filed a report, appealed or answered a survey:
    not the Tipline calls, not the host's calls that sao makes around the
    Report wizard, not the status and survey pages"""
    module = 'tipline'

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        User = pool.get('res.user')
        User.create([{
                    'name': "Logged Reporter", 'login': REPORTER_LOGIN,
                    'password': PASSWORD}])
        party = make_party("Log Test Party")
        cls.party_id = party.id
        cls.category_id = category('fraud').id
        resolved, cls.resolved_receipt = resolved_report(party)
        cls.resolved_number = resolved.tracking_number

    def rpc(self, client, method, params, auth=None):
        "The JSON-RPC answer, from the reporter's address"
        headers = {'Content-Type': 'application/json'}
        if auth:
            headers['Authorization'] = 'Session ' + base64.b64encode(
                auth.encode()).decode()
        response = client.post(
            '/%s/rpc/' % quote(self.db_name), headers=headers,
            data=json.dumps({'id': 1, 'method': method, 'params': params}),
            environ_base={'REMOTE_ADDR': REPORTER_ADDRESS})
        self.assertEqual(response.status_code, 200,
            response.get_data(as_text=True)[:300])
        return json.loads(response.get_data(as_text=True))

    def call(self, client, method, params, auth=None):
        "The result of a call that must succeed"
        answer = self.rpc(client, method, params, auth)
        self.assertNotIn('error', answer, method)
        return answer['result']

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
                [REPORTER_LOGIN, {'password': PASSWORD}, 'en'])
            user_id, session = login['result'][:2]
            auth = '%s:%s:%s' % (REPORTER_LOGIN, user_id, session)
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
        for secret in (number, REPORTER_LOGIN + '@', '%s@' % user_id):
            self.assertNotIn(secret, calls)


    @contextlib.contextmanager
    def shipped_logging(self, debug):
        """Configure logging from manifests/logging.conf (every level set
        to DEBUG if debug) into a file; yield a function that reads it"""
        with open(LOGGING_CONF) as file:
            conf = file.read()
        if debug:
            conf = re.sub(r'(?m)^level=\w+$', 'level=DEBUG', conf)
        manager = logging.Logger.manager
        saved = {name: (logger.level, logger.handlers[:], logger.filters[:],
                logger.propagate, logger.disabled)
            for name, logger in list(manager.loggerDict.items())
            if isinstance(logger, logging.Logger)}
        root = logging.getLogger()
        saved_root = (root.level, root.handlers[:])
        with tempfile.TemporaryDirectory() as folder:
            conf_path = os.path.join(folder, 'logging.conf')
            with open(conf_path, 'w') as file:
                file.write(conf)
            out = open(os.path.join(folder, 'server.log'), 'w+')
            stderr, sys.stderr = sys.stderr, out
            try:
                # As trytond --logconf and TRYTOND_LOGGING_CONFIG do, but
                # keep the loggers that this test process already made.
                logging.config.fileConfig(
                    conf_path, disable_existing_loggers=False)
            finally:
                sys.stderr = stderr

            def read():
                for handler in root.handlers:
                    handler.flush()
                out.seek(0)
                return out.read()
            try:
                yield read
            finally:
                for handler in root.handlers:
                    handler.close()
                root.handlers[:] = saved_root[1]
                root.setLevel(saved_root[0])
                for name, logger in list(manager.loggerDict.items()):
                    if not isinstance(logger, logging.Logger):
                        continue
                    if name in saved:
                        (logger.level, logger.handlers[:], logger.filters[:],
                            logger.propagate, logger.disabled) = saved[name]
                    else:
                        logger.setLevel(logging.NOTSET)
                        logger.handlers[:] = []
                out.close()

    def file_report_as_sao_does(self):
        """Log in, open a party, click Report (the form button, then the
        action menu), file anonymously, close, then follow another report
        on the status page and answer its survey, as sao and a browser
        do: [(secret, what)] that the log must not hold"""
        client = self.client()
        user_id, session = self.call(client, 'common.db.login',
            [REPORTER_LOGIN, {'password': PASSWORD}, 'en'])[:2]
        auth = '%s:%s:%s' % (REPORTER_LOGIN, user_id, session)
        context = self.call(client, 'model.res.user.get_preferences',
            [True, {}], auth)
        party = 'model.party.party.'
        self.call(client, party + 'view_toolbar_get', [context], auth)
        self.call(client, party + 'read', [[self.party_id],
                ['name', 'rec_name', 'tipline_reportable'], context], auth)
        # The form button: the button call, the action it returns, the
        # record's name for the tab title, then the wizard.
        action_id = self.call(client, party + 'tipline_report',
            [[self.party_id], context], auth)
        action = self.call(client, 'model.ir.action.get_action_value',
            [action_id, context], auth)
        self.assertEqual(action['wiz_name'], 'tipline.report.submit')
        # The action menu's keyword look-up reaches the same wizard.
        self.call(client, 'model.ir.action.keyword.get_keyword',
            ['form_action', [ 'party.party', self.party_id], {}], auth)
        self.call(client, party + 'read',
            [[self.party_id], ['rec_name'], context], auth)
        wizard = 'wizard.tipline.report.submit.'
        wizard_context = dict(context, active_model='party.party',
            active_id=self.party_id, active_ids=[self.party_id],
            action_id=action_id)
        session_id, start, _ = self.call(
            client, wizard + 'create', [context], auth)
        self.call(client, wizard + 'execute',
            [session_id, {}, start, wizard_context], auth)
        done = self.call(client, wizard + 'execute', [session_id, {'start': {
                        'category': str(self.category_id),
                        'description': MARKER + ' filed to test the log.',
                        'anonymous': True}}, 'submit', wizard_context], auth)
        defaults = done['view']['defaults']
        self.call(client, wizard + 'delete', [session_id, context], auth)
        # sao reloads the form once the wizard is closed.
        self.call(client, party + 'read', [[self.party_id],
                ['name', 'rec_name', 'tipline_reportable'], context], auth)
        with Transaction().start(self.db_name, 0, readonly=True):
            Report = Pool().get('tipline.report')
            report, = Report.search(
                [('tracking_number', '=', defaults['tracking_number'])])
            report_id = report.id

        browser = self.client()
        environ = {'REMOTE_ADDR': STATUS_ADDRESS}
        status = '/%s/tipline/status' % self.db_name
        for receipt in ('0000-0000-0000-0000', defaults['receipt']):
            response = browser.post(status, data={
                    'number': defaults['tracking_number'],
                    'receipt': receipt}, environ_base=environ)
            self.assertEqual(response.status_code, 200)
        # The survey is answered once; the second test finds it closed.
        response = browser.post('/%s/tipline/survey' % self.db_name, data={
                'number': self.resolved_number,
                'receipt': self.resolved_receipt, 'satisfaction': '4',
                'fair': 'yes', 'again': 'no',
                'comment': MARKER + ' answered'}, environ_base=environ)
        self.assertIn(response.status_code, {200, 409})
        response = browser.post(status, data={
                'number': self.resolved_number,
                'receipt': self.resolved_receipt,
                'action': 'appeal', 'reason': MARKER + ' appealed'},
            environ_base=environ)
        self.call(client, 'common.db.logout', [], auth)
        return [
            (REPORTER_LOGIN, 'login'),
            ("'%s'" % user_id, 'user id'),
            ('%s@' % user_id, 'user id'),
            ('uid=%s' % user_id, 'user id'),
            (session, 'session'),
            (REPORTER_ADDRESS, 'address'),
            (STATUS_ADDRESS, 'address of the status page'),
            ('tipline/status', 'status page path'),
            ('tipline/survey', 'survey path'),
            (MARKER, 'report text'),
            (defaults['receipt'], 'receipt'),
            (self.resolved_receipt, 'receipt'),
            (defaults['tracking_number'], 'tracking number'),
            (self.resolved_number, 'tracking number'),
            ('tipline.report,%s' % report_id, 'report id'),
            ]

    def check_log(self, debug):
        with self.shipped_logging(debug) as read:
            secrets = self.file_report_as_sao_does()
            log = read()
        # The calls are in the log, by name (so it is not empty) ...
        for call in ('ir.action.get_action_value', 'party.party.read',
                'party.party.tipline_report', 'tipline.report.submit.execute'):
            self.assertIn(call, log)
        # ... and not who made them, from where, nor what they carried.
        leaks = ['the %s in: %s' % (what, line[:300])
            for line in log.splitlines() for secret, what in secrets
            if secret in line]
        self.assertFalse(leaks, '\n'.join(leaks))

    def test_shipped_configuration(self):
        "At the shipped levels, no line names the reporter"
        self.check_log(debug=False)

    def test_shipped_configuration_at_debug(self):
        "With every logger at DEBUG, still no line names the reporter"
        self.check_log(debug=True)


class RedactCallersTestCase(unittest.TestCase):
    "The filter on the records that no RPC in the tests above produces"

    def redacted(self, name, level, msg, *args):
        record = logging.LogRecord(name, level, __file__, 1, msg, args, None)
        if not RedactCallers().filter(record):
            return None
        return record.getMessage()

    def test_sql_statements_are_dropped(self):
        "The SQL that backends log at DEBUG carries user ids and session keys"
        for name in ('trytond.backend.postgresql.database',
                'trytond.backend.sqlite.database'):
            self.assertIsNone(self.redacted(name, logging.DEBUG,
                    "SELECT * FROM ir_session WHERE create_uid = 7"))
        self.assertEqual(self.redacted(
                'trytond.backend.postgresql.database', logging.INFO,
                'connection to "%s" succeeded', 'tipline'),
            'connection to "tipline" succeeded')

    def test_access_lines_lose_address_and_tipline_paths(self):
        "The development server's access lines"
        message = '%s - - [%s] %s %s %s'
        self.assertEqual(self.redacted('werkzeug', logging.INFO, message,
                '198.51.100.23', '06/Dec/2026 09:00:00',
                '"POST /db/tipline/survey HTTP/1.1"', '200', '-'),
            '- - - [06/Dec/2026 09:00:00] <request to Tipline> 200 -')
        self.assertNotIn('198.51.100.23', self.redacted(
                'werkzeug', logging.INFO, message, '198.51.100.23',
                'now', '"GET /db/rpc/ HTTP/1.1"', '200', '-'))

    def test_tipline_failures_keep_no_message(self):
        "A failed Tipline call's traceback, without what the exception quotes"
        typed = 'SECRET typed by the reporter'
        try:
            int(typed)
        except ValueError:
            exc_info = sys.exc_info()
        record = logging.LogRecord('trytond.protocols.dispatcher',
            logging.ERROR, __file__, 1, '%s.%s%s from %s@%s%s in %i ms',
            ('tipline.report.submit', 'execute', '(1, {})', 'reporter',
                '198.51.100.23', '/db/rpc/', 9), exc_info)
        self.assertTrue(RedactCallers().filter(record))
        text = logging.Formatter().format(record)
        self.assertIn('tipline.report.submit.execute(...) in 9 ms', text)
        self.assertIn('ValueError: (message withheld)', text)
        self.assertIn('Traceback', text)
        for secret in ('SECRET', 'reporter', '198.51.100.23'):
            self.assertNotIn(secret, text)

    def test_failed_login_and_user_lines(self):
        "Neither the login nor the address of a failed login"
        self.assertEqual(self.redacted('trytond.security', logging.ERROR,
                "login failed for '%s' from '%s' on database '%s'",
                'reporter', '198.51.100.23', 'tipline'),
            "login failed for '-' from '-' on database 'tipline'")
        self.assertEqual(self.redacted('trytond.res.user', logging.INFO,
                "Update password hash for %s", 7),
            "Update password hash for -")


del RouteTestCase
