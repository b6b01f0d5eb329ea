"Helpers shared by the module's tests"
import email
import email.policy
import os
import socket

from trytond.modules.tipline.keys import KEY_ENV


def use_throwaway_master_key():
    """The module refuses to start without its master key.  Test runs that
    were not given one (TIPLINE_MASTER_KEY or [tipline] key_file) use a
    throwaway key, kept beside DB_CACHE so that cached databases still
    open."""
    if os.environ.get(KEY_ENV):
        return
    cache = os.environ.get('DB_CACHE')
    path = os.path.join(cache, 'tipline.key') if cache else None
    if path and os.path.exists(path):
        with open(path) as file:
            os.environ[KEY_ENV] = file.read().strip()
        return
    os.environ[KEY_ENV] = os.urandom(32).hex()
    if path:
        os.makedirs(cache, exist_ok=True)
        with open(path, 'w') as file:
            file.write(os.environ[KEY_ENV])


class Sink:
    "An aiosmtpd handler that keeps every message it receives"

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return '250 OK'


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def text_of(raw):
    "Every decoded part of a raw message, headers included"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [str(msg['Subject']), str(msg['To']), str(msg['From'])]
    for part in msg.walk():
        if part.get_content_maintype() == 'text':
            parts.append(part.get_content())
    return '\n'.join(parts), msg


class MailSink:
    """A real SMTP server on a free local port that trytond sends to, for
    scenarios: start(), then read what arrived"""

    def __init__(self):
        from aiosmtpd.controller import Controller
        import trytond.config as config
        self.sink = Sink()
        self.since = 0
        self.port = free_port()
        self.controller = Controller(
            self.sink, hostname='127.0.0.1', port=self.port)
        self._config = config
        self._saved = {o: config.get('email', o) for o in ('uri', 'from')}

    @classmethod
    def start(cls):
        sink = cls()
        sink.controller.start()
        sink._config.set('email', 'uri', 'smtp://127.0.0.1:%d' % sink.port)
        sink._config.set('email', 'from', 'tipline@example.com')
        return sink

    def stop(self):
        self.controller.stop()
        for option, value in self._saved.items():
            self._config.set('email', option, value)

    def mails(self, to=None, every=False):
        """[(recipients, subject, text)] received since the last clear(),
        or ever if every; only those for to if given"""
        result = []
        for rcpt, raw in self.sink.messages[0 if every else self.since:]:
            if to and to not in rcpt:
                continue
            text, msg = text_of(raw)
            result.append((rcpt, str(msg['Subject']), text))
        return result

    def subjects(self, to):
        return [subject for _, subject, _ in self.mails(to)]

    def clear(self):
        "Forget what arrived so far, except for mails(every=True)"
        self.since = len(self.sink.messages)


# Records the unit tests make again and again. Each test class keeps its own
# defaults in thin wrappers around these.

def make_party(name):
    "A new party named name"
    from trytond.pool import Pool
    Party = Pool().get('party.party')
    party, = Party.create([{'name': name}])
    return party


def category(code):
    "The Tipline category of code"
    from trytond.pool import Pool
    Category = Pool().get('tipline.category')
    found, = Category.search([('code', '=', code)])
    return found


def file_report(user, target, category, description, anonymous=False,
        evidence=()):
    "File a report as user, with access checked: (report, receipt)"
    from trytond.pool import Pool
    from trytond.transaction import Transaction, check_access
    Report = Pool().get('tipline.report')
    with Transaction().set_user(user.id), check_access():
        report, receipt = Report.file(target, category, description,
            anonymous=anonymous, evidence=evidence)
    return Report(report.id), receipt


def moderator_group():
    "The id of the Tipline Moderator group"
    from trytond.pool import Pool
    ModelData = Pool().get('ir.model.data')
    return ModelData.get_id('tipline', 'group_tipline_moderator')


class RPC:
    """A JSON-RPC session of one user against the WSGI application, as the
    web client makes its calls"""

    def __init__(self, test, login, password):
        import base64
        self.test = test
        self.client = test.client()
        result = self.call('common.db.login', [login, {'password': password},
                'en'], raw=True)['result']
        user_id, session = result[:2]
        self.user_id = user_id
        self.auth = 'Session ' + base64.b64encode(
            ('%s:%s:%s' % (login, user_id, session)).encode()).decode()

    def call(self, method, params, raw=False):
        """The call's result; raises AssertionError with the error when it
        fails, unless raw (then the whole answer)"""
        import json
        from urllib.parse import quote
        headers = {'Content-Type': 'application/json'}
        if getattr(self, 'auth', None):
            headers['Authorization'] = self.auth
        response = self.client.post(
            '/%s/rpc/' % quote(self.test.db_name), headers=headers,
            data=json.dumps({'id': 1, 'method': method, 'params': params}))
        self.test.assertEqual(response.status_code, 200,
            response.get_data(as_text=True)[:300])
        answer = json.loads(response.get_data(as_text=True))
        if raw:
            return answer
        if 'error' in answer:
            raise AssertionError(answer['error'])
        return answer['result']

    def error(self, method, params):
        """The message of the UserError that a refused call answers; fails
        if the call succeeds or fails any other way (a crash is no
        refusal)"""
        answer = self.call(method, params, raw=True)
        self.test.assertIn('error', answer, 'the call succeeded: %s' % method)
        error = answer['error']
        self.test.assertEqual(error[0], 'UserError', error)
        return error[1][0]
