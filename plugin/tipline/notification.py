"""E-mail notifications: the acknowledgement to a named reporter, status
changes and results, and assignment notices to moderators.

A notification is a row of tipline.mail_queue, created in the transaction of
the event; it is sent only after that transaction commits, in a transaction
of its own, so a failed send never touches the report.  Failures are logged
without content, counted on the row and retried by cron.  No mail carries
report content or the reporter's identity: only the tracking number, the
state, the deadline and a link to log in."""
import datetime as dt
import logging
import os
import re
import smtplib
from email.message import EmailMessage

from genshi.template import MarkupTemplate, NewTextTemplate

from sql import Column

import trytond.config as config
from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.sendmail import sendmail
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.url import http_base

from .authorless import GRANULARITY, AuthorlessRows, frozen_now
from .clock import now as utcnow
from .encrypted import Encrypted, decrypt_values, encrypt, store_encrypted
from .filing import insert_rows
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




def mail_language(code):
    "The template language closest to a Tryton language code"
    code = code or 'en'
    if code in LANGUAGES:
        return code
    if code.split('_')[0] == 'zh':
        return 'zh_CN'
    return 'en'


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
            ('sent', "Sent"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False)
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
        cls._sql_indexes.add(
            Index(t, (t.state, Index.Equality(cardinality='low')),
                (t.next_try, Index.Range()),
                where=t.state == 'pending'))
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def __register__(cls, module_name):
        table_h = cls.__table_handler__(module_name)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        plain = table_h.column_exist('recipient')
        super().__register__(module_name)
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
    def enqueue(cls, rows):
        """Queue rows (dicts of report, recipient, template, language); they
        are sent after the transaction, never in it (see dispatch)"""
        if not rows:
            return []
        addresses = [row['recipient'] for row in rows]
        # A notice sent as an anonymous report is filed would time it to
        # the second: it waits for the cron job after the filing's hour.
        held = frozen_now()
        rows = [{k: v for k, v in row.items() if k != 'recipient'}
            for row in rows]
        if held:
            for row in rows:
                row['next_try'] = held + GRANULARITY
        with without_check_access():
            records = cls.create(rows)
        store_encrypted(cls, {record.id: {'recipient': address}
                for record, address in zip(records, addresses)})
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
        "The queue worker's task: send rows still pending and due"
        now = utcnow()
        with without_check_access():
            cls.send([r for r in cls.browse([r.id for r in rows])
                    if r.state == 'pending'
                    and (not r.next_try or r.next_try <= now)])

    def values(self):
        "What a template may show: never content, never identity"
        pool = Pool()
        Report = pool.get('tipline.report')
        database = Transaction().database.name
        if self.template == 'invitation':
            return {
                'review': self.review.rec_name,
                'link': '%s#%s' % (http_base(), database),
                }
        with Transaction().set_context(language=self.language):
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

    def build(self):
        "The EmailMessage of this row"
        subject, text, html = render(
            self.template, mail_language(self.language), self.values())
        msg = EmailMessage()
        msg['From'] = config.get('email', 'from')
        msg['To'] = self.address()
        msg['Subject'] = subject
        msg.set_content(text)
        msg.add_alternative(html, subtype='html')
        return msg

    @classmethod
    def _claim(cls, rows):
        """The rows still pending that no other sender holds, locked until
        this transaction ends, so that a worker's after-commit send and the
        cron job never send one mail twice"""
        transaction = Transaction()
        database = transaction.database
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        claimed = set()
        for sub_ids in grouped_slice(
                [r.id for r in rows], MAX_QUERY_PARAMS):
            where = (fields.SQL_OPERATORS['in'](table.id, sub_ids)
                & (table.state == 'pending'))
            if database.has_select_for():
                # Rows another sender holds are skipped, not waited for.
                For = database.get_select_for_skip_locked()
                cursor.execute(*table.select(
                        table.id, where=where, for_=For('UPDATE')))
            else:
                # SQLite has one writer at a time: this write holds it, so
                # a second sender waits for this transaction to end, then
                # fails or finds the rows sent, but never sends them again.
                cursor.execute(*table.update(
                        [table.state], [table.state], where=where))
                cursor.execute(*table.select(table.id, where=where))
            claimed.update(i for i, in cursor)
        return [r for r in rows if r.id in claimed]

    @classmethod
    def send(cls, rows):
        "Send the pending rows now; record each success or failure"
        from_ = config.get('email', 'from')
        now = utcnow()
        rows = cls._claim(rows)
        for row in rows:
            try:
                sendmail(from_, [row.address()], row.build(), strict=True)
            except (smtplib.SMTPException, OSError) as error:
                row.attempts = (row.attempts or 0) + 1
                row.last_error = type(error).__name__
                if isinstance(error, smtplib.SMTPResponseException):
                    row.last_error += ' %s' % error.smtp_code
                if row.attempts > len(RETRY_DELAYS):
                    row.state = 'failed'
                    row.next_try = None
                    if row.to_reporter:
                        row.recipient_enc = None
                else:
                    row.next_try = now + dt.timedelta(
                        minutes=RETRY_DELAYS[row.attempts - 1])
                logger.warning('tipline mail %d (%s) for report %s failed: '
                    '%s, attempt %d', row.id, row.template,
                    row.report.id if row.report else '-',
                    row.last_error, row.attempts)
            else:
                row.state = 'sent'
                row.sent_at = utcnow()
                row.next_try = None
                row.last_error = None
                if row.to_reporter:
                    row.recipient_enc = None
        cls.save(rows)

    @classmethod
    def send_pending(cls):
        "Cron: retry the pending mail whose time has come"
        with without_check_access():
            rows = cls.search([
                    ('state', '=', 'pending'),
                    ['OR',
                        ('next_try', '=', None),
                        ('next_try', '<=', utcnow()),
                        ],
                    ], order=[('id', 'ASC')])
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
        "Queue template for the named reporters of reports"
        pool = Pool()
        User = pool.get('res.user')
        Queue = pool.get('tipline.mail_queue')
        rows = []
        with without_check_access():
            for report in cls.browse(reports):
                if report.anonymous:
                    continue
                identity = report.reporter_identity()
                if not identity or not identity.get('user'):
                    continue
                users = User.search([
                        ('id', '=', identity['user']),
                        ('active', 'in', [True, False]),
                        ], limit=1)
                row = cls._mail_row(
                    report, users[0] if users else None, template)
                if row:
                    rows.append(row)
        Queue.enqueue(rows)

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
