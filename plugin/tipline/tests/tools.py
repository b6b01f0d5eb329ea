"Helpers shared by the module's tests (and the demo's data)"
import base64
import collections
import contextlib
import email
import email.policy
import os
import re
import socket
import subprocess
import tempfile

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


def in_committed_transaction(database, function, user=0):
    """function() in a transaction of user on database, committed; started
    again with the locks it asks for, as trytond's dispatcher does.
    Returns what function returns."""
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        with Transaction().start(database, user, **extras) as transaction:
            try:
                result = function()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            transaction.commit()
            return result


class Sink:
    "An aiosmtpd handler that keeps every message it receives"

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return '250 OK'


def pg_dump(database, text=False):
    "A dump of the PostgreSQL database, as the test's server holds it"
    import shutil
    from trytond import config
    command = shutil.which('pg_dump')
    if not command:
        raise AssertionError("pg_dump is needed for this test")
    uri = config.get('database', 'uri')
    return subprocess.run(
        [command, '--dbname', uri.rstrip('/') + '/' + database],
        check=True, capture_output=True, text=text).stdout


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

    def deliver(self):
        """Run the mail cron job of the scenario's database, as trytond-cron
        does every minute: requests only queue mail"""
        from proteus import config as pconfig
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        name = pconfig.get_config().database_name
        with Transaction().start(name, 0) as transaction:
            Pool().get('tipline.mail_queue').send_pending()
            transaction.commit()

    def mails(self, to=None, every=False):
        """[(recipients, subject, text)] received since the last clear(),
        or ever if every, once what is due was sent; only those for to if
        given"""
        self.deliver()
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
        self.deliver()
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


def investigate_reports(reports, severity='high', truthfulness='confirmed'):
    "Assess, triage and investigate reports as the current user"
    from trytond.pool import Pool
    Report = Pool().get('tipline.report')
    reports = Report.browse([r.id for r in reports])
    Report.write(reports, {
            'severity_assessment': severity,
            'truthfulness': truthfulness,
            })
    Report.triage(reports)
    Report.investigate(reports)
    return reports


def resolve_reports(reports, outcome='upheld', message=None, **assessment):
    """Take reports through the moderation workflow to resolved with
    outcome and the message to the reporter, as the current user"""
    from trytond.pool import Pool
    Report = Pool().get('tipline.report')
    reports = investigate_reports(reports, **assessment)
    values = {'outcome': outcome}
    if message is not None:
        values['reporter_message'] = message
    Report.write(reports, values)
    Report.resolve(reports)
    return Report.browse(reports)


def resolved_report(target, code='spam'):
    """An anonymous report on target, upheld and resolved, so that its
    survey is open: (report, receipt)"""
    from trytond.pool import Pool
    Report = Pool().get('tipline.report')
    report, receipt = Report.file(target, category(code),
        "Advertising pasted into forty party records.", anonymous=True)
    report, = resolve_reports([report])
    return report, receipt


def group_id(xml_id, module='tipline'):
    "The id of the group xml_id, of Tipline's by default"
    from trytond.pool import Pool
    ModelData = Pool().get('ir.model.data')
    return ModelData.get_id(module, xml_id)


def moderator_group():
    "The id of the Tipline Moderator group"
    return group_id('group_tipline_moderator')


def reporter_other_moderator(reporter_email=None):
    "Three users of the unit tests: a reporter, another user, a moderator"
    from trytond.pool import Pool
    User = Pool().get('res.user')
    return User.create([
            {'name': "Reporter", 'login': 'reporter',
                'email': reporter_email},
            {'name': "Other", 'login': 'other'},
            {'name': "Moderator", 'login': 'moderator',
                'groups': [('add', [moderator_group()])]},
            ])


def make_users(prefix, roles, password=None, extra_groups=()):
    """A user per role of roles ({role: [Tipline group xml ids]}), logged in
    as prefix + role, with an address at example.com and the extra groups
    (ids); {role: user id}"""
    from trytond.pool import Pool
    User = Pool().get('res.user')
    users = {}
    for role, xml_ids in roles.items():
        values = {
            'name': role.title(), 'login': prefix + role,
            'email': '%s@example.com' % role,
            'groups': [('add', [group_id(x) for x in xml_ids]
                    + list(extra_groups))],
            }
        if password:
            values['password'] = password
        user, = User.create([values])
        users[role] = user.id
    return users


def form_fields(call, model):
    """The fields the web client reads to open a record of model in its
    form view: every field of the view, links with their rec_name,
    selections with their label, and the record's timestamp and rights.
    call(method, params) answers over JSON-RPC (as RPC.call does)."""
    view = call('model.%s.fields_view_get' % model, [None, 'form', {}])
    names = []
    for name, field in view['fields'].items():
        names.append(name)
        if field['type'] in {'many2one', 'one2one', 'reference'}:
            names.append(name + '.rec_name')
        elif field['type'] in {'selection', 'multiselection'}:
            names.append(name + ':string')
    return sorted(names) + ['rec_name', '_timestamp', '_write', '_delete']


def forget_rate_limits(database):
    "Commit that no client has failed a receipt check on database yet"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0) as transaction:
        Attempt = Pool().get('tipline.status_attempt')
        table = Attempt.__table__()
        transaction.connection.cursor().execute(*table.delete())
        transaction.commit()


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

    def start_report(self, party_id):
        """Open the Report wizard on party_id as the web client does:
        (wizard session id, context), ready for the submit call"""
        context = {'active_model': 'party.party', 'active_id': party_id,
            'active_ids': [party_id]}
        wizard_id, _, _ = self.call(
            'wizard.tipline.report.submit.create', [context])
        self.call('wizard.tipline.report.submit.execute',
            [wizard_id, {}, 'start', context])
        return wizard_id, context

    def error(self, method, params):
        """The message of the UserError that a refused call answers; fails
        if the call succeeds or fails any other way (a crash is no
        refusal)"""
        answer = self.call(method, params, raw=True)
        self.test.assertIn('error', answer, 'the call succeeded: %s' % method)
        error = answer['error']
        self.test.assertEqual(error[0], 'UserError', error)
        return error[1][0]


# Files with identifying metadata, for the tests and the demo.
GPS_AUTHOR = 'Jane Marker'
# An 8x8 JPEG without metadata; exiftool adds the tags under test.
PLAIN_JPEG = base64.b64decode(
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9'
    'PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhC'
    'Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAAR'
    'CAAIAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA'
    'AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkK'
    'FhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWG'
    'h4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl'
    '5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREA'
    'AgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYk'
    'NOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOE'
    'hYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk'
    '5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCpRRRXrnjH/9k=')


def jpeg_with_metadata():
    "A JPEG whose EXIF holds a GPS position and an author"
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'photo.jpg')
        with open(path, 'wb') as file:
            file.write(PLAIN_JPEG)
        subprocess.run(['exiftool', '-q', '-overwrite_original',
                '-GPSLatitude=48.8584', '-GPSLatitudeRef=N',
                '-GPSLongitude=2.2945', '-GPSLongitudeRef=E',
                '-Artist=' + GPS_AUTHOR, '-XPAuthor=' + GPS_AUTHOR, path],
            check=True)
        with open(path, 'rb') as file:
            return file.read()


def pdf_with_metadata():
    "A one-page PDF whose information names an author and a creator"
    stream = b'0 0 1 rg 20 20 160 160 re f'
    objects = [
        b'<< /Type /Catalog /Pages 2 0 R >>',
        b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] '
        b'/Contents 4 0 R >>',
        b'<< /Length %d >>\nstream\n%s\nendstream' % (len(stream), stream),
        b'<< /Author (%s) /Creator (MarkerWriter) >>' % GPS_AUTHOR.encode(),
        ]
    out, offsets = b'%PDF-1.4\n', []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b'%d 0 obj\n%s\nendobj\n' % (number, body)
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1)
    out += b''.join(b'%010d 00000 n \n' % o for o in offsets)
    out += (b'trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\n'
        b'startxref\n%d\n%%%%EOF\n' % (len(objects) + 1, xref))
    return out


STATEMENT = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?',
    re.IGNORECASE)


@contextlib.contextmanager
def counting():
    "Every statement the backend's cursors execute meanwhile, in a list"
    from trytond import backend
    if backend.name == 'sqlite':
        from trytond.backend.sqlite.database import SQLiteCursor as Cursor
    else:
        from trytond.backend.postgresql.database import (
            LoggingCursor as Cursor)
    statements = []
    execute = Cursor.execute

    def counted(self, query, *args, **kwargs):
        statements.append(str(query))
        return execute(self, query, *args, **kwargs)
    Cursor.execute = counted
    try:
        yield statements
    finally:
        Cursor.execute = execute


def writes(statements):
    "Counter of (verb, table) of the statements that write"
    found = collections.Counter()
    for statement in statements:
        match = STATEMENT.match(statement)
        if match:
            found[(match.group(1).split()[0].upper(), match.group(2))] += 1
    return found
