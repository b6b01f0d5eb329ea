"""The conversation on a report: moderators and the reporter write to each
other, moderators discuss it among themselves, and files come with either.

Each message is a row of tipline.message whose text is encrypted and bound
to its row.  A message is either shared with the reporter or internal; the
reporter never reads an internal one: the record rules hide it, the field
that lists every message is refused to them, and its text decrypts for
moderators and custodians only.

Asking the reporter puts the report in Awaiting Reporter, which pauses the
operational clock: when the reporter answers, or when the configured days
have passed (cron), the report returns to the state it was in and its
operational deadlines move by the time it waited.  The statutory clock never
pauses.

Whatever the reporter does here runs in the authorless scope, as filing
does: no row names them, and for an anonymous report every time is coarse.
"""
import datetime as dt
import json

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from . import retention
from .audit import digest
from .authorless import AuthorlessRows, authorless
from .clock import now as utcnow
from .encrypted import Encrypted, decrypt_values, store_encrypted
from .exceptions import ConversationError, RetentionError
from .readonly import ServerReadonly
from .access import in_groups
from .clock import format_duration

AWAITING = 'awaiting_reporter'
# The states a moderator may ask the reporter from.
ASKABLE_STATES = ['acknowledged', 'triaged', 'investigating']
VISIBILITIES = [
    ('shared', "With the Reporter"),
    ('internal', "Internal"),
    ]
AUTHORS = [
    ('moderator', "Moderators"),
    ('reporting_person', "Reporter"),
    ]
MAX_MESSAGE_LENGTH = 10000
# What an anonymous reporter who discloses who they are may write.
MAX_NAME = 200
MAX_CONTACT = 500


class ConversationConfigurationMixin:
    "The conversation's limits and the reporter's time to answer"
    __slots__ = ()

    reporter_answer_days = fields.Integer(
        "Days to Answer", required=True,
        domain=[('reporter_answer_days', '>=', 1)],
        help="How long a report waits for the reporter's answer before it "
        "returns to its previous state.")
    reporter_reminder_days = fields.Integer(
        "Remind After (days)", required=True,
        domain=[('reporter_reminder_days', '>=', 1)],
        help="When a named reporter who has not answered is reminded.")
    max_evidence_files = fields.Integer(
        "Maximum Files per Report", required=True,
        domain=[('max_evidence_files', '>=', 1)])
    max_replies_per_hour = fields.Integer(
        "Reporter Messages per Hour", required=True,
        domain=[('max_replies_per_hour', '>=', 1)],
        help="How many messages a reporter may send on one report in an "
        "hour.")
    max_reporter_messages = fields.Integer(
        "Reporter Messages per Report", required=True,
        domain=[('max_reporter_messages', '>=', 1)])

    @classmethod
    def default_reporter_answer_days(cls):
        return 14

    @classmethod
    def default_reporter_reminder_days(cls):
        return 7

    @classmethod
    def default_max_evidence_files(cls):
        return 10

    @classmethod
    def default_max_replies_per_hour(cls):
        return 5

    @classmethod
    def default_max_reporter_messages(cls):
        return 100


class Message(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "A message of a report's conversation, stored encrypted"
    __name__ = 'tipline.message'
    _rec_name = 'reference'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, readonly=True,
        ondelete='CASCADE')
    visibility = fields.Selection(
        VISIBILITIES, "Visibility", required=True, readonly=True)
    author = fields.Selection(AUTHORS, "From", required=True, readonly=True)
    body_enc = Encrypted("Encrypted Message", 'body', report='report')
    body = fields.Function(fields.Text("Message"), 'get_body')
    question = fields.Boolean("Question", readonly=True,
        help="The moderators asked and wait for the answer.")
    posted_at = fields.DateTime("Posted At", required=True, readonly=True)
    when = fields.Function(fields.Char("Posted At"), 'get_when')
    reference = fields.Char("Reference", readonly=True,
        help="The report's tracking number and the message's position.")
    seen = fields.Boolean("Read", readonly=True,
        help="Whether the other side has read the message.")
    new = fields.Function(fields.Boolean("New"), 'get_new')
    evidence = fields.One2Many(
        'tipline.evidence', 'message', "Files", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Whoever may read the report may read its shared messages; the
        # record rules keep internal ones from reporters.
        cls.__access__.add('report')
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.report, Index.Range()), (t.posted_at, Index.Range())))
        # Anonymous messages carry the hour only: the order is the ids'.
        cls._order = [('id', 'ASC')]

    @classmethod
    def default_seen(cls):
        return False

    @classmethod
    def default_question(cls):
        return False

    @staticmethod
    def staff():
        "Whether the current user reads every message of a report"
        return in_groups('group_tipline_moderator', 'group_tipline_custodian')

    @classmethod
    def get_body(cls, messages, name):
        # The rules already hide internal messages from reporters; the text
        # is refused as well, whatever path reached the row.
        staff = cls.staff()
        shown = [m for m in messages if staff or m.visibility == 'shared']
        result = {m.id: None for m in messages}
        result.update(decrypt_values(shown, 'body'))
        return result

    def get_when(self, name):
        # The web client's lists have no column for date and time.
        return self.posted_at.strftime('%Y-%m-%d %H:%M UTC')

    def get_new(self, name):
        "Unread by whoever reads it now: staff read replies, reporters answers"
        mine = 'moderator' if self.staff() else 'reporting_person'
        return self.author != mine and not self.seen

    @classmethod
    def check_body(cls, body):
        body = (body or '').strip()
        if not body:
            raise ConversationError(gettext('tipline.msg_conversation_empty'))
        if len(body) > MAX_MESSAGE_LENGTH:
            raise ConversationError(gettext(
                    'tipline.msg_conversation_too_long',
                    maximum=MAX_MESSAGE_LENGTH, length=len(body)))
        return body

    @classmethod
    def _create(cls, report, visibility, author, body, question=False):
        if report.purged_at:
            raise RetentionError(gettext('tipline.msg_retention_purged',
                    report=report.rec_name))
        with without_check_access():
            position = cls.search([('report', '=', report.id)], count=True)
            message, = cls.create([{
                        'report': report.id,
                        'reference': '%s#%d' % (
                            report.tracking_number, position + 1),
                        'visibility': visibility,
                        'author': author,
                        'question': question,
                        'posted_at': utcnow(),
                        }])
        store_encrypted(cls, {message.id: {'body': body}})
        return cls(message.id)

    @classmethod
    def post_as_moderator(cls, report, body, visibility='shared',
            files=(), ask=False):
        """A moderator's message on report, with files; ask waits for the
        reporter's answer.  Returns the message."""
        pool = Pool()
        Report = pool.get('tipline.report')
        Evidence = pool.get('tipline.evidence')
        Event = pool.get('tipline.audit_event')
        body = cls.check_body(body)
        if visibility == 'shared' and report.state == 'closed':
            raise ConversationError(gettext(
                    'tipline.msg_conversation_closed',
                    report=report.rec_name))
        if ask and report.state not in ASKABLE_STATES:
            raise ConversationError(gettext(
                    'tipline.msg_conversation_cannot_ask',
                    report=report.rec_name, state=report.state_string))
        files = [(n, d) for n, d in files if d]
        Evidence.check_files(report, files)
        message = cls._create(
            report, visibility, 'moderator', body, question=ask)
        Event.append(report, 'conversation', {
                'visibility': visibility,
                'from': 'moderator',
                'question': '1' if ask else '0',
                'sha256': digest(body),
                'length': len(body),
                })
        Evidence.attach(report, files, origin='moderator', message=message)
        # An internal note on a closed report is activity: its expiry may
        # move.
        retention.postpone([report])
        with without_check_access():
            # Answering is reading what came before.
            cls.mark_read(report, 'reporting_person')
            values = {'unread_replies': False}
            if visibility == 'shared' and not report.first_response_at:
                values['first_response_at'] = utcnow()
            Report.write([report], values)
            if visibility == 'shared':
                Report.notify_reporter([report], 'conversation')
            if ask:
                Report.await_reporter([report])
        return message

    @classmethod
    def post_as_reporter(cls, report, body, files=()):
        """The reporter's message on their report, with files, in the
        authorless scope; answers a question that is waiting"""
        pool = Pool()
        Report = pool.get('tipline.report')
        Evidence = pool.get('tipline.evidence')
        Event = pool.get('tipline.audit_event')
        with authorless(anonymous=report.anonymous):
            report = Report(report.id)
            body = cls.check_body(body)
            if report.state == 'closed':
                raise ConversationError(gettext(
                        'tipline.msg_conversation_closed',
                        report=report.rec_name))
            cls.check_reporter_limits(report)
            files = [(n, d) for n, d in files if d]
            Evidence.check_files(report, files)
            message = cls._create(report, 'shared', 'reporting_person', body)
            Event.append(report, 'conversation', {
                    'visibility': 'shared',
                    'from': 'reporting_person',
                    'question': '0',
                    'sha256': digest(body),
                    'length': len(body),
                    }, actor='')
            Evidence.attach(report, files, origin='reporting_person', message=message)
            cls.mark_read(report, 'moderator')
            Report.write([report], {'unread_replies': True})
            if report.state == AWAITING:
                Report.resume([report], 'answered')
            Report.notify_assignee_of_reply([report])
        return message

    @classmethod
    def check_reporter_limits(cls, report):
        "At most so many reporter messages an hour, and on the report"
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        config = Configuration.current()
        now = utcnow()
        domain = [('report', '=', report.id), ('author', '=', 'reporting_person')]
        with without_check_access():
            total = cls.search(domain, count=True)
            # An anonymous reporter's times are coarsened to the hour: the
            # hour is then the clock hour.
            recent = cls.search(domain + [
                    ('posted_at', '>=', now - dt.timedelta(hours=1))
                    if not report.anonymous else ('posted_at', '=', now)],
                count=True)
        if total >= config.max_reporter_messages:
            raise ConversationError(gettext(
                    'tipline.msg_conversation_report_limit',
                    maximum=config.max_reporter_messages))
        if recent >= config.max_replies_per_hour:
            raise ConversationError(gettext(
                    'tipline.msg_conversation_hour_limit',
                    maximum=config.max_replies_per_hour))

    @classmethod
    def mark_read(cls, report, author):
        "Mark what author wrote on report as read by the other side"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        with without_check_access():
            unread = cls.search([('report', '=', report.id),
                    ('author', '=', author), ('seen', '=', False),
                    ('visibility', '=', 'shared')
                    if author == 'moderator' else ('id', '!=', None)])
        if unread:
            # Behind the ORM: reading must not change the rows' times.
            cursor.execute(*table.update([table.seen], [True],
                    where=table.id.in_([m.id for m in unread])))
            from .cache import invalidate
            invalidate(cls, [m.id for m in unread])

    @classmethod
    def shared(cls, report):
        "The messages of report shared with the reporter, oldest first"
        with without_check_access():
            return cls.search([('report', '=', report.id),
                    ('visibility', '=', 'shared')])


class ConversationMixin:
    "tipline.report's conversation: messages, the reporter's turn and its clock"
    __slots__ = ()

    messages = fields.One2Many(
        'tipline.message', 'report', "Conversation", readonly=True,
        help="Every message, internal ones included.")
    shared_messages = fields.Function(fields.Many2Many(
            'tipline.message', None, None, "Conversation", readonly=True,
            help="The messages between the moderators and you."),
        'get_shared_messages')
    unread_replies = fields.Boolean(
        "Unread Replies", readonly=True,
        help="The reporter wrote and no moderator has answered or marked "
        "it read yet.")
    new_messages = fields.Function(
        fields.Integer("New Messages"), 'get_new_messages')
    resume_state = fields.Char("Resume State", readonly=True,
        help="The state the report returns to when the reporter answers.")
    awaiting_since = fields.DateTime("Awaiting Since", readonly=True)
    answer_due = fields.DateTime("Answer Due", readonly=True,
        help="When the report returns to its previous state if the "
        "reporter has not answered.")
    reporter_reminded_at = fields.DateTime("Reporter Reminded At",
        readonly=True)
    identity_disclosed = fields.Boolean("Identity Disclosed", readonly=True,
        help="The anonymous reporter chose to tell who they are; the "
        "identity is stored encrypted, for the custodians.")
    clock_state = fields.Function(
        fields.Char("Operational Clock",
            states={'invisible': ~Eval('clock_state')}),
        'get_clock_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        if AWAITING not in dict(cls.state.selection):
            position = [s for s, _ in cls.state.selection].index('resolved')
            cls.state.selection.insert(
                position, (AWAITING, "Awaiting Reporter"))
        cls._transitions |= {(s, AWAITING) for s in ASKABLE_STATES}
        # Returning is done by resume(), to the state the report was in;
        # a decision may still come while the moderators wait.
        cls._transitions |= {(AWAITING, 'resolved')}
        t = cls.__table__()
        # Not partial, so that SQLite has it too: trytond creates no SQLite
        # index whose condition has parameters (docs/indexes.md).
        cls._sql_indexes.add(Index(t, (t.unread_replies, Index.Equality())))
        cls._buttons.update({
                'ask_reporter': {
                    'invisible': ~Eval('state').in_(ASKABLE_STATES),
                    'icon': 'tryton-question',
                    'depends': ['state'],
                    },
                'post_message': {
                    'invisible': Eval('state') == 'closed',
                    'icon': 'tryton-comment',
                    'depends': ['state'],
                    },
                'mark_replies_read': {
                    'invisible': ~Eval('unread_replies', False),
                    'icon': 'tryton-ok',
                    'depends': ['unread_replies'],
                    },
                })

    @classmethod
    def default_unread_replies(cls):
        return False

    @classmethod
    def default_identity_disclosed(cls):
        return False

    def get_reporter_display(self, name):
        if self.identity_disclosed:
            return gettext('tipline.msg_reporter_disclosed')
        return super().get_reporter_display(name)

    @classmethod
    def check_content(cls, category, description, evidence):
        "Files at filing: their count, and content matching their name"
        super().check_content(category, description, evidence)
        Pool().get('tipline.evidence').check_files(
            None, [(n, d) for n, d in evidence if d])

    @classmethod
    def get_shared_messages(cls, reports, name):
        pool = Pool()
        Message = pool.get('tipline.message')
        return {r.id: [m.id for m in Message.shared(r)] for r in reports}

    @classmethod
    def get_new_messages(cls, reports, name):
        "For the reporter: the moderators' messages they have not read"
        pool = Pool()
        Message = pool.get('tipline.message')
        result = {r.id: 0 for r in reports}
        with without_check_access():
            for message in Message.search([
                        ('report', 'in', [r.id for r in reports]),
                        ('visibility', '=', 'shared'),
                        ('author', '=', 'moderator'),
                        ('seen', '=', False)]):
                result[message.report.id] += 1
        return result

    # The operational clock pauses while the reporter is asked ------------

    def paused_time_left(self):
        "What was left of the operational clock when it paused"
        if self.state != AWAITING or not self.resolve_by:
            return None
        return self.resolve_by - (self.awaiting_since or utcnow())

    @classmethod
    def disclose_identity(cls, report, name, contact):
        """An anonymous reporter tells who they are (from the conversation
        page): stored as a named reporter's identity is, encrypted; the
        history records the choice, not the identity"""
        Event = Pool().get('tipline.audit_event')
        name, contact = (name or '').strip(), (contact or '').strip()
        if not name:
            raise ConversationError(gettext('tipline.msg_disclose_no_name'))
        with authorless(anonymous=True), without_check_access():
            identity = json.dumps({'disclosed': True,
                    'name': name[:MAX_NAME],
                    'contact': contact[:MAX_CONTACT]}, sort_keys=True)
            store_encrypted(cls, {report.id: {'reporter_identity': identity}})
            cls.write([report], {'identity_disclosed': True})
            Event.append(report, 'disclose', {'sha256': digest(identity)},
                actor='')

    def get_clock_state(self, name):
        left = self.paused_time_left()
        if left is None:
            return None
        return gettext('tipline.msg_conversation_clock_paused',
            duration=format_duration(left),
            date=self.answer_due.strftime('%Y-%m-%d %H:%M UTC')
            if self.answer_due else '')

    def get_time_left(self, name):
        left = self.paused_time_left()
        if left is not None:
            return gettext('tipline.msg_conversation_time_paused',
                duration=format_duration(left))
        return super().get_time_left(name)

    def get_overdue(self, name):
        return self.state != AWAITING and super().get_overdue(name)

    @classmethod
    def search_overdue(cls, name, clause):
        domain = super().search_overdue(name, clause)
        _, operator, value = clause
        if not domain:
            return domain
        if (operator == '=') == bool(value):
            return [domain, ('state', '!=', AWAITING)]
        return ['OR', domain, ('state', '=', AWAITING)]

    def get_near_due(self, name):
        if self.state == AWAITING:
            # Only the statutory clock runs.
            now = utcnow()
            return bool(self.statutory_warning_at and self.statutory_due
                and self.statutory_warning_at <= now <= self.statutory_due)
        return super().get_near_due(name)

    @classmethod
    @ModelView.button_action('tipline.wizard_report_ask')
    def ask_reporter(cls, reports):
        pass

    @classmethod
    @ModelView.button_action('tipline.wizard_report_message')
    def post_message(cls, reports):
        pass

    @classmethod
    @ModelView.button
    def mark_replies_read(cls, reports):
        pool = Pool()
        Message = pool.get('tipline.message')
        for report in reports:
            Message.mark_read(report, 'reporting_person')
        cls.write(reports, {'unread_replies': False})

    @classmethod
    @Workflow.transition(AWAITING)
    def await_reporter(cls, reports):
        "Wait for the reporter's answer; the operational clock pauses"
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        config = Configuration.current()
        now = utcnow()
        for report in reports:
            cls.write([report], {
                    'resume_state': report.state,
                    'awaiting_since': now,
                    'answer_due': now + dt.timedelta(
                        days=config.reporter_answer_days),
                    'reporter_reminded_at': None,
                    })

    @classmethod
    def resume(cls, reports, why):
        """Return reports that wait for their reporter to the state they
        were in, their operational deadlines moved by the wait"""
        pool = Pool()
        Event = pool.get('tipline.audit_event')
        now = utcnow()
        for report in reports:
            if report.state != AWAITING:
                continue
            # Whole minutes, as deadlines are kept: they fall early, never
            # late.
            waited = max(now - (report.awaiting_since or now), dt.timedelta())
            waited -= dt.timedelta(seconds=waited.seconds % 60,
                microseconds=waited.microseconds)
            values = {
                'state': report.resume_state or 'investigating',
                'resume_state': None,
                'awaiting_since': None,
                'answer_due': None,
                'reporter_reminded_at': None,
                }
            for name in ('resolve_by', 'resolve_warning_at'):
                if getattr(report, name):
                    values[name] = getattr(report, name) + waited
            with without_check_access():
                Event.append(report, 'clock', {
                        'paused_minutes': int(waited.total_seconds() // 60),
                        'why': why,
                        }, actor='' if why != 'moderator' else None)
                cls.write([report], values)

    @classmethod
    def notify_assignee_of_reply(cls, reports):
        "The assignee hears that the reporter wrote; never what"
        pool = Pool()
        Queue = pool.get('tipline.mail_queue')
        rows = []
        with without_check_access():
            for report in cls.browse(reports):
                row = cls._mail_row(report, report.assigned_to, 'reply')
                if row:
                    rows.append(row)
        Queue.enqueue(rows)

    @classmethod
    def conversation_cron(cls):
        """Remind named reporters who have not answered, and return the
        reports whose answer is overdue"""
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        Event = pool.get('tipline.audit_event')
        config = Configuration.current()
        now = utcnow()
        with without_check_access():
            due = cls.search([('state', '=', AWAITING),
                    ('answer_due', '<=', now)])
            cls.resume(due, 'no_answer')
            remind = cls.search([('state', '=', AWAITING),
                    ('reporter_reminded_at', '=', None),
                    ('awaiting_since', '<=', now - dt.timedelta(
                            days=config.reporter_reminder_days))])
            for report in remind:
                Event.append(report, 'reminder', {}, actor='')
            # Anonymous reporters read the reminder on the status page.
            cls.notify_reporter(remind, 'conversation')
            cls.write(remind, {'reporter_reminded_at': now})
