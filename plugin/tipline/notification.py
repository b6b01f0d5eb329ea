"""E-mail notifications: the acknowledgement to a named reporter, status
changes and results, and assignment notices to moderators.

A notification is a row of tipline.mail_queue, created in the transaction of
the event; it is sent only after that transaction commits, so a failed send
never touches the report.  A reporter's status and message notices are
queued without the address (enqueue_to_reporters): the sender reads it from
the report's encrypted identity when it sends.  Failures are logged without
content, counted on the row and retried by cron.  No mail carries report content or the
reporter's identity: only the tracking number, the state, the deadline and a
link to log in.

Delivery is at least once, and a copy can be recognised.  A sender (the cron
job, trytond-worker) claims a row in a transaction committed before it
talks to SMTP, sends, then records the result in another one.  Two senders
never hold one row: the claim takes it with SELECT ... FOR UPDATE SKIP
LOCKED on PostgreSQL, under SQLite's one writer otherwise, and only while
it is pending or its claim is older than ``[tipline] mail_claim_timeout``.
A sender that dies after claiming leaves the row claimed; after that
timeout another sends it again.  If it died after the server accepted the
mail but before recording it, that second send is a copy, with the
Message-ID the row was given when queued, by which mail systems and readers
can drop it.  Exactly once is impossible here: the server's acceptance and
the queue's record cannot be one transaction."""
import datetime as dt
import json
import logging
import os
import re
import secrets
import smtplib
from email.message import EmailMessage
from email.utils import parseaddr

from genshi.template import MarkupTemplate, NewTextTemplate

from sql import Column, Null
from sql.conditionals import Case
from sql.functions import CurrentTimestamp

import trytond.config as config
from trytond import backend
from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.sendmail import sendmail
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.url import HOSTNAME, http_base

from .authorless import GRANULARITY, AuthorlessRows, frozen_now
from .clock import now as utcnow
from .encrypted import (
    Encrypted, decrypt, decrypt_values, encrypt, store_encrypted)
from .filing import insert_returning, insert_rows, reserve_many
from .readonly import ServerReadonly
from .states import OPEN_STATES

# Acknowledged comes with the acknowledgement mail; closing changes nothing
# the reporter has to know.
SILENT_STATES = {'submitted', 'acknowledged', 'closed',
    # The conversation's own mail tells of the question.
    'awaiting_reporter'}
REPORTER_TEMPLATES = {'acknowledgement', 'status'}

logger = logging.getLogger(__name__)

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), 'templates', 'mail')
TEMPLATES = ('acknowledgement', 'status', 'assignment', 'escalation',
    'retention')
LANGUAGES = ('en', 'zh_CN')
RETRY_DELAYS = [5, 15, 60, 240, 720]  # minutes after each failed attempt
# A claim older than this is a dead sender's: the mail is sent again.  It
# must exceed the time one batch takes to send.
CLAIM_TIMEOUT = 600  # seconds, [tipline] mail_claim_timeout
SEND_BATCH = 20  # rows claimed at once
# Claiming or recording a result is tried this many times; a result not
# recorded is sent again after the claim timeout.
RECORD_TRIES = 3
# The error of a reporter's row whose reporter has no address when it is
# sent: failed at once, not tried again.
NO_ADDRESS = 'NoAddress'




def mail_language(code):
    "The template language closest to a Tryton language code"
    code = code or 'en'
    if code in LANGUAGES:
        return code
    if code.split('_')[0] == 'zh':
        return 'zh_CN'
    return 'en'


def claim_timeout():
    return dt.timedelta(seconds=config.getint(
            'tipline', 'mail_claim_timeout', default=CLAIM_TIMEOUT))


def new_message_id():
    """The Message-ID of a queued mail, kept for every attempt to send it:
    random, so that it tells nothing of when the mail was queued (an
    anonymous filing's time), in the sender's domain"""
    domain = parseaddr(config.get('email', 'from') or '')[1].rpartition(
        '@')[2] or HOSTNAME
    return '<tipline.mail.%s@%s>' % (secrets.token_hex(16), domain)


def render(name, language, values):
    "(subject, text, html) of template name in language"
    base = os.path.join(TEMPLATE_DIR, '%s.%s' % (name, language))
    with open(base + '.txt', encoding='utf-8') as file:
        text = NewTextTemplate(file.read(), encoding='utf-8').generate(
            **values).render(encoding=None)
    with open(base + '.html', encoding='utf-8') as file:
        html = MarkupTemplate(file.read(), encoding='utf-8').generate(
            **values).render('html', doctype='html5', encoding=None)
    # The first line of the text template is the subject.
    subject, _, body = text.lstrip().partition('\n')
    body = re.sub(r'\n{3,}', '\n\n', body).strip() + '\n'
    return subject.strip(), body, html


class MailQueue(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "A notification e-mail waiting to be sent, sent, or failing"
    __name__ = 'tipline.mail_queue'

    # A mail about a report, or an invitation of a review (invitation.py).
    report = fields.Many2One(
        'tipline.report', "Report", readonly=True, ondelete='CASCADE')
    review = fields.Many2One(
        'tipline.review', "Review", readonly=True, ondelete='CASCADE')
    # A reporter's address would tell the administrator who reported: it is
    # stored encrypted, shown as "the reporter" and dropped once sent.
    recipient_enc = Encrypted(
        "Encrypted Recipient", 'recipient', report='report')
    to_reporter = fields.Boolean("To the Reporter", readonly=True)
    recipient = fields.Function(fields.Char("Recipient"), 'get_recipient')
    template = fields.Selection([
            ('acknowledgement', "Acknowledgement"),
            ('status', "Status Change"),
            ('assignment', "Assignment"),
            ('escalation', "Escalation"),
            # The conversation's (conversation.py)
            ('conversation', "New Message"),
            ('reply', "Reporter's Reply"),
            ('invitation', "Feedback Invitation"),
            # The administrators' reminder before expiry (retention.py)
            ('retention', "Expiry Reminder"),
            ], "Template", required=True, readonly=True)
    language = fields.Char("Language", required=True, readonly=True)
    report_state = fields.Char("Report State", readonly=True,
        help="The report's state when the mail was queued, which the mail "
        "tells even if it is sent later.")
    report_outcome = fields.Char("Report Outcome", readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('sending', "Sending"),
            ('sent', "Sent"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False)
    message_id = fields.Char("Message-ID", readonly=True,
        help="Given when the mail is queued and sent with every attempt, so "
        "that a copy sent again after a crash can be recognised.")
    claimed_at = fields.DateTime("Claimed At", readonly=True,
        help="When a sender took the mail to send it.")
    claim = fields.Char("Claim", readonly=True)
    attempts = fields.Integer("Attempts", required=True, readonly=True)
    last_error = fields.Char(
        "Last Error", readonly=True,
        help="The kind of error of the last attempt, never mail content.")
    next_try = fields.DateTime("Next Try", readonly=True)
    sent_at = fields.DateTime("Sent At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    (t.next_try, Index.Range()),
                    where=t.state == 'pending'),
                Index(t, (t.claimed_at, Index.Range()),
                    where=t.state == 'sending'),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def __register__(cls, module_name):
        table_h = cls.__table_handler__(module_name)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        plain = table_h.column_exist('recipient')
        super().__register__(module_name)
        # Mail queued before Message-IDs were kept gets one now.
        cursor.execute(*table.select(table.id,
                where=(table.message_id == Null) & (table.state != 'sent')))
        for id_, in cursor.fetchall():
            cursor.execute(*table.update([table.message_id],
                    [new_message_id()], where=table.id == id_))
        if not plain:
            return
        # Before the addresses were encrypted: encrypt those still to be
        # used, then drop the clear column.
        cursor.execute(*table.update(
                [table.to_reporter], [table.template.in_(
                        list(REPORTER_TEMPLATES))]))
        cursor.execute(*table.select(table.id, Column(table, 'recipient'),
                where=table.state == 'pending'))
        store_encrypted(cls, {id_: {'recipient': address}
                for id_, address in cursor.fetchall()})
        table_h.drop_column('recipient')

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_to_reporter(cls):
        return False

    def address(self):
        "The recipient's address, for sending only; None once forgotten"
        return decrypt_values([self], 'recipient')[self.id]

    @property
    def unaddressed(self):
        "A reporter's row queued without its address (enqueue_to_reporters)"
        return bool(self.to_reporter and self.report
            and self.recipient_enc is None)

    def envelope(self):
        """(address, language) the row is sent to, None for the address
        when there is none (any more)"""
        if self.unaddressed:
            return self.reporter_envelope()
        return self.address(), self.language

    def reporter_envelope(self):
        """(address, language) of the named reporter of the row's report,
        read from its encrypted identity when the mail is sent: used for
        sending only, never stored"""
        pool = Pool()
        Report = pool.get('tipline.report')
        User = pool.get('res.user')
        with without_check_access():
            report = Report(self.report.id)
            if report.anonymous:
                return None, None
            identities, _ = Report._identities_and_keys([report])
            identity = identities.get(report.id) or {}
            users = User.search([
                    ('id', '=', identity.get('user') or -1),
                    ('active', 'in', [True, False]),
                    ], limit=1)
            user = users[0] if users else None
            if not user or not (user.email or '').strip():
                return None, None
            return user.email.strip(), mail_language(
                user.language.code if user.language else None)

    def get_recipient(self, name):
        if self.to_reporter:
            return gettext('tipline.msg_mail_to_reporter')
        return self.address()

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def default_language(cls):
        return 'en'

    @classmethod
    def enqueue(cls, rows, data_keys=None):
        """Queue rows (dicts of report, recipient, template, language); they
        are sent after the transaction, never in it (see dispatch).
        data_keys, {report id: DataKey}, are keys the caller holds."""
        pool = Pool()
        Keyset = pool.get('tipline.keyset')
        if not rows:
            return []
        # A notice sent as an anonymous report is filed would time it to
        # the second: it waits for the cron job after the filing's hour.
        held = frozen_now()
        # Each row written whole in its reserved id, its recipient already
        # encrypted (bound to the row), in one insert.
        ids = reserve_many({cls: len(rows)})[cls._table]
        reports = {r['report'] for r in rows if r.get('report')}
        keys = {r: k for r, k in (data_keys or {}).items() if r in reports}
        if reports - keys.keys():
            keys.update(Keyset.data_keys(reports - keys.keys(), create=True))
        whole = []
        for id_, row in zip(ids, rows):
            row = dict(row)
            recipient = row.pop('recipient')
            row.update({
                    'id': id_,
                    'recipient_enc': encrypt(cls.__name__, 'recipient', id_,
                        recipient, data_key=keys.get(row.get('report'))),
                    'message_id': new_message_id(),
                    })
            if held:
                row['next_try'] = held + GRANULARITY
            whole.append(row)
        insert_rows(cls, whole)
        records = cls.browse(ids)
        cls.dispatch(records)
        return records

    @classmethod
    def enqueue_to_reporters(cls, rows):
        """Queue rows (dicts of report, report_state, report_outcome,
        template) for the named reporters of their reports, in one insert
        and without their address: the sender reads it from the report's
        encrypted identity when it sends (reporter_envelope), and keeps it
        nowhere.  No address is encrypted here, so no id is reserved."""
        if not rows:
            return []
        held = frozen_now()
        columns = ['report', 'report_state', 'report_outcome', 'template',
            'to_reporter', 'language', 'state', 'attempts', 'message_id',
            'next_try']
        values = []
        for row in rows:
            row = {
                **row,
                'to_reporter': True,
                # The reporter's language is known when the mail is sent.
                'language': '',
                'state': 'pending',
                'attempts': 0,
                'message_id': new_message_id(),
                'next_try': held + GRANULARITY if held else None,
                }
            values.append([cls._fields[c].sql_format(row[c]) for c in columns]
                + [held or CurrentTimestamp()])
        records = insert_returning(cls, columns + ['create_date'], values)
        cls.dispatch(records)
        return records

    @classmethod
    def filing_mail(cls, filing):
        """The mail a filing queues: the named reporter's acknowledgement
        and the assignee's notice, as rows still without id or report"""
        pool = Pool()
        User = pool.get('res.user')
        Report = pool.get('tipline.report')
        rows = []
        if filing.reporter:
            rows.append(Report._mail_row(
                    None, filing.reporter, 'acknowledgement'))
        if filing.assignee:
            rows.append(Report._mail_row(
                    None, User(filing.assignee), 'assignment'))
        return [r for r in rows if r]

    @classmethod
    def queue_filed(cls, filing):
        "Write filing's mail rows in their reserved ids, in one insert"
        if not filing.mail:
            return []
        held = frozen_now()
        report_id, = filing.ids['report']
        for row, id_ in zip(filing.mail, filing.ids['mail']):
            row.update({
                    'id': id_,
                    'report': report_id,
                    'report_state': 'acknowledged',
                    'report_outcome': None,
                    'recipient_enc': encrypt(
                        cls.__name__, 'recipient', id_, row.pop('recipient'),
                        data_key=filing.data_key),
                    'state': 'pending',
                    'message_id': new_message_id(),
                    'attempts': 0,
                    'next_try': held + GRANULARITY if held else None,
                    })
        insert_rows(cls, filing.mail)
        records = cls.browse(filing.ids['mail'])
        cls.dispatch(records)
        return records

    @classmethod
    def dispatch(cls, records):
        """Hand queued rows to trytond-worker where one runs ([queue]
        worker); otherwise the cron job sends them within minutes.  Either
        way the request that queued them never waits for SMTP."""
        if records and config.getboolean('queue', 'worker', default=False):
            cls.__queue__.send_queued(records)

    @classmethod
    def send_queued(cls, rows):
        "The queue worker's task: send the rows still due"
        with without_check_access():
            cls.send(rows)

    def values(self, language=None):
        """What a template may show, in language (the row's by default):
        never content, never identity"""
        pool = Pool()
        Report = pool.get('tipline.report')
        database = Transaction().database.name
        if self.template == 'invitation':
            return {
                'review': self.review.rec_name,
                'link': '%s#%s' % (http_base(), database),
                }
        with Transaction().set_context(language=language or self.language):
            report = Report(self.report.id)
            state_code = self.report_state or report.state
            outcome_code = (self.report_outcome if self.report_state
                else report.outcome)
            labels = dict(Report.fields_get(['state', 'outcome']))
            state = dict(labels['state']['selection']).get(
                state_code, state_code)
            outcome = dict(labels['outcome']['selection']).get(
                outcome_code, '') if outcome_code else ''
        return {
            'number': report.tracking_number,
            'state': state_code,
            'state_label': state,
            'outcome_label': outcome,
            # The moderators' message is written for the reporter; the
            # report itself is never repeated.
            'message': ((report.reporter_message or '').strip()
                if self.template == 'status' else ''),
            'deadline': (report.resolve_by.strftime('%Y-%m-%d %H:%M UTC')
                if report.resolve_by and state_code in OPEN_STATES
                else ''),
            # Administrators open the report's retention, not the report.
            'link': '%s#%s/model/%s/%d' % (
                http_base(), database, 'tipline.report.retention'
                if self.template == 'retention' else 'tipline.report',
                report.id),
            'expires': (report.expires_at.strftime('%Y-%m-%d %H:%M UTC')
                if report.expires_at else ''),
            # The survey after resolution (survey.py), offered once.
            'survey': bool(report.survey_open),
            }

    def build(self, envelope=None):
        "The EmailMessage of this row, to envelope (address, language)"
        address, language = envelope or self.envelope()
        subject, text, html = render(
            self.template, mail_language(language), self.values(language))
        msg = EmailMessage()
        msg['Message-ID'] = self.message_id or new_message_id()
        msg['From'] = config.get('email', 'from')
        msg['To'] = address
        msg['Subject'] = subject
        msg.set_content(text)
        msg.add_alternative(html, subtype='html')
        return msg

    @classmethod
    def _claim(cls, ids):
        """Claim the rows of ids that are due and that no live sender holds,
        in a transaction committed before anything is sent: (claim, ids)"""
        transaction = Transaction()
        table = cls.__table__()
        claim = secrets.token_hex(8)
        now = utcnow()
        due = (((table.state == 'pending')
                & ((table.next_try == Null) | (table.next_try <= now)))
            | ((table.state == 'sending')
                & (table.claimed_at < now - claim_timeout())))
        with transaction.new_transaction() as claiming:
            database = claiming.database
            cursor = claiming.connection.cursor()
            for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
                where = fields.SQL_OPERATORS['in'](table.id, sub_ids) & due
                if database.has_select_for():
                    # Rows another sender is claiming are skipped, not
                    # waited for.
                    For = database.get_select_for_skip_locked()
                    cursor.execute(*table.select(
                            table.id, where=where, for_=For('UPDATE')))
                    free = [i for i, in cursor]
                    if not free:
                        continue
                    where = fields.SQL_OPERATORS['in'](table.id, free)
                # On SQLite this write takes the one writer's lock, and the
                # condition is read under it.
                # To the second, down: PostgreSQL would round it up, and a
                # search would then find the claim stale a second late.
                cursor.execute(*table.update(
                        [table.state, table.claim, table.claimed_at,
                            table.write_date, table.write_uid],
                        ['sending', claim, now.replace(microsecond=0),
                            CurrentTimestamp(), claiming.user],
                        where=where))
            cursor.execute(*table.select(table.id,
                    where=table.claim == claim, order_by=[table.id.asc]))
            return claim, [i for i, in cursor]

    @classmethod
    def _mark(cls, id_, claim, error=None):
        """Record the result of sending row id_, in a transaction of its
        own committed at once; False if it could not be recorded (the row
        stays claimed and is sent again after the claim timeout)"""
        table = cls.__table__()
        for attempt in range(RECORD_TRIES):
            try:
                with Transaction().new_transaction() as recording:
                    cursor = recording.connection.cursor()
                    if error is None:
                        cls._mark_sent(cursor, table, id_)
                    else:
                        cls._mark_failed(cursor, table, id_, claim, error)
                return True
            except backend.DatabaseOperationalError:
                logger.warning('tipline mail %d: result not recorded, '
                    'attempt %d', id_, attempt + 1, exc_info=True)
        return False

    @classmethod
    def _mark_sent(cls, cursor, table, id_):
        # Whoever sent it, it went out: an address of a reporter is
        # forgotten.
        cursor.execute(*table.update(
                [table.state, table.sent_at, table.next_try,
                    table.last_error, table.claim, table.claimed_at,
                    table.recipient_enc, table.write_date, table.write_uid],
                ['sent', utcnow(), Null, Null, Null, Null,
                    Case((table.to_reporter == True, Null),  # noqa: E712
                        else_=table.recipient_enc),
                    CurrentTimestamp(), Transaction().user],
                where=(table.id == id_) & (table.state != 'sent')))

    @classmethod
    def _mark_failed(cls, cursor, table, id_, claim, error):
        # Only the sender that holds the claim counts the failure.
        cursor.execute(*table.select(table.attempts, table.to_reporter,
                where=(table.id == id_) & (table.claim == claim)
                & (table.state == 'sending')))
        row = cursor.fetchone()
        if not row:
            return
        attempts, to_reporter = (row[0] or 0) + 1, row[1]
        values = {
            'attempts': attempts,
            'last_error': error,
            'claim': Null,
            'claimed_at': Null,
            'write_date': CurrentTimestamp(),
            'write_uid': Transaction().user,
            }
        if attempts > len(RETRY_DELAYS) or error == NO_ADDRESS:
            values.update(state='failed', next_try=Null)
            if to_reporter:
                values['recipient_enc'] = Null
        else:
            values.update(state='pending', next_try=utcnow()
                + dt.timedelta(minutes=RETRY_DELAYS[attempts - 1]))
        cursor.execute(*table.update(
                [getattr(table, c) for c in values], list(values.values()),
                where=table.id == id_))
        logger.warning('tipline mail %d failed: %s, attempt %d',
            id_, error, attempts)

    @classmethod
    def send(cls, rows):
        """Send the rows that are due and that no other sender holds: claim
        them, send each, record each result"""
        from_ = config.get('email', 'from')
        for sub_ids in grouped_slice([r.id for r in rows], SEND_BATCH):
            for attempt in range(RECORD_TRIES):
                try:
                    claim, ids = cls._claim(list(sub_ids))
                    break
                except backend.DatabaseOperationalError:
                    # Taken by another sender since this transaction's
                    # snapshot (PostgreSQL's REPEATABLE READ), or the
                    # connection lost: try again with a fresh one.
                    logger.info('tipline mail: claim failed, attempt %d',
                        attempt + 1, exc_info=True)
            else:
                continue  # the rows stay due for the next round
            for id_ in ids:
                row = cls(id_)
                try:
                    envelope = row.envelope()
                    address = envelope[0]
                    message = row.build(envelope) if address else None
                except Exception:
                    cls._release(id_, claim)
                    raise
                if not address:
                    # A reporter who has no address any more: nothing to
                    # send, and nothing to try again.
                    cls._mark(id_, claim, NO_ADDRESS)
                    continue
                try:
                    sendmail(from_, [address], message, strict=True)
                except (smtplib.SMTPException, OSError) as error:
                    kind = type(error).__name__
                    if isinstance(error, smtplib.SMTPResponseException):
                        kind += ' %s' % error.smtp_code
                    cls._mark(id_, claim, kind)
                else:
                    cls._mark(id_, claim)

    @classmethod
    def _release(cls, id_, claim):
        "Give a claimed row back unsent (best effort: else the timeout does)"
        table = cls.__table__()
        try:
            with Transaction().new_transaction() as releasing:
                releasing.connection.cursor().execute(*table.update(
                        [table.state, table.claim, table.claimed_at],
                        ['pending', Null, Null],
                        where=(table.id == id_) & (table.claim == claim)))
        except Exception:
            logger.warning('tipline mail %d: claim not released', id_,
                exc_info=True)

    @classmethod
    def send_pending(cls):
        "Cron: send the mail that is due, and the mail of dead senders"
        now = utcnow()
        with without_check_access():
            rows = cls.search(['OR', [
                        ('state', '=', 'pending'),
                        ['OR',
                            ('next_try', '=', None),
                            ('next_try', '<=', now),
                            ],
                        ], [
                        ('state', '=', 'sending'),
                        ('claimed_at', '<', now - claim_timeout()),
                        ]], order=[('id', 'ASC')])
            cls.send(rows)


class NotificationMixin:
    "tipline.report's mail to reporters and assignees"
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, reports, field_names=None):
        super().on_modification(mode, reports, field_names=field_names)
        if mode != 'write' or not field_names:
            return
        if 'state' in field_names:
            cls.notify_reporter(
                [r for r in reports if r.state not in SILENT_STATES],
                'status')
        if 'assigned_to' in field_names:
            cls.notify_assignee(reports)

    @classmethod
    def _mail_row(cls, report, user, template):
        if not user or not (user.email or '').strip():
            return None
        return {
            # A report being filed has no row yet: filing fills these in.
            'report': report.id if report else None,
            'report_state': report.state if report else None,
            'report_outcome': report.outcome if report else None,
            'recipient': user.email.strip(),
            'to_reporter': template in REPORTER_TEMPLATES,
            'template': template,
            'language': mail_language(
                user.language.code if user.language else None),
            }

    @classmethod
    def notify_reporter(cls, reports, template):
        """Queue template for the named reporters of reports, in the
        transaction of the event: the row names the report, its state and
        outcome, not the address, which the sender finds when it sends
        (MailQueue.reporter_envelope).  Reading the identity and the user
        here cost a moderator's button three statements of its own."""
        Queue = Pool().get('tipline.mail_queue')
        with without_check_access():
            rows = [{
                    'report': r.id,
                    'report_state': r.state,
                    'report_outcome': r.outcome,
                    'template': template,
                    } for r in cls.browse(reports) if not r.anonymous]
        Queue.enqueue_to_reporters(rows)

    @classmethod
    def _identities_and_keys(cls, reports):
        """({report id: its reporter's identity, a dict, or None}, {report
        id: its data key}) in one query: the key decrypts the identity,
        then encrypts the address the mail goes to"""
        Keyset = Pool().get('tipline.keyset')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        identities, keys = {}, {}
        for sub_ids in grouped_slice([r.id for r in reports], MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.id,
                    table.reporter_identity_enc, table.data_key_enc,
                    where=table.id.in_(list(sub_ids))))
            for report_id, ciphertext, wrapped in cursor.fetchall():
                if wrapped is not None:
                    keys[report_id] = Keyset.unwrap_data_key(
                        report_id, wrapped)
                identity = decrypt(cls.__name__, 'reporter_identity',
                    report_id, ciphertext, data_key=keys.get(report_id))
                identities[report_id] = (json.loads(identity)
                    if identity else None)
        return identities, keys

    @classmethod
    def notify_assignee(cls, reports):
        "Queue the assignment notice for the moderators assigned"
        Queue = Pool().get('tipline.mail_queue')
        rows = []
        with without_check_access():
            for report in cls.browse(reports):
                # Taking a report oneself needs no notice.
                if (report.assigned_to
                        and report.assigned_to.id == Transaction().user):
                    continue
                row = cls._mail_row(
                    report, report.assigned_to, 'assignment')
                if row:
                    rows.append(row)
        Queue.enqueue(rows)
