"""What users tell the mechanism (#6): the survey after resolution, the
suggestion box, invitations to the period's active users, and the
announcements of changes decided in a review.

Survey answers and suggestions keep no link to their author: they are stored
by user 0, dated only by the Monday of their week, and their free text is
encrypted.  A report only carries a flag that its survey was answered, so
that each report gets exactly one answer."""
import datetime as dt
import urllib.parse
from email.message import EmailMessage

from sql import Literal, Null
from sql.aggregate import Avg, Count, Sum
from sql.conditionals import Case

import trytond.config as config
from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.sendmail import sendmail_transactional
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, check_access, without_check_access)
from trytond.url import http_base
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .authorless import AuthorlessRows, SessionlessWizard, authorless
from .cache import invalidate
from .clock import now as utcnow
from .encrypted import (
    Encrypted, decrypt, decrypt_values, store_encrypted)
from .exceptions import FeedbackError
from .readonly import ServerReadonly
from .states import CLOSED_STATES
from .review import week_start

SATISFACTION = [
    (None, ""),
    ('1', "1 - Very dissatisfied"),
    ('2', "2 - Dissatisfied"),
    ('3', "3 - Neutral"),
    ('4', "4 - Satisfied"),
    ('5', "5 - Very satisfied"),
    ]
YES_NO = [
    (None, ""),
    ('yes', "Yes"),
    ('no', "No"),
    ]
TOPICS = [
    ('general', "The mechanism in general"),
    ('categories', "Categories"),
    ('deadlines', "Deadlines and follow-up"),
    ('anonymity', "Anonymity and protection"),
    ('help', "Help and training"),
    ]
MAX_COMMENT = 2000


def _anonymise(Model, records):
    """Blank the columns that would name or time the author to the second:
    the user columns, and the creation time rounded down to the week"""
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    for record in records:
        monday = dt.datetime.combine(record.week, dt.time())
        cursor.execute(*table.update(
                [table.create_uid, table.write_uid, table.create_date,
                    table.write_date],
                [Null, Null, monday, Null],
                where=table.id == record.id))


class SurveyMixin:
    "tipline.report's survey: the invitation after resolution and the answer"
    __slots__ = ()

    survey_invited = fields.Boolean(
        "Survey Invited", readonly=True,
        help="The reporter is invited to say how the report was handled.")
    survey_answered = fields.Boolean(
        "Survey Answered", readonly=True,
        help="Only that an answer was given: the answer itself is not "
        "linked to the report.")
    survey_open = fields.Function(
        fields.Boolean("Survey Open"), 'get_survey_open')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'tipline_survey': {
                    'icon': 'tryton-ok',
                    'invisible': ~Eval('survey_open', False),
                    'depends': ['survey_open'],
                    },
                })
        # Reporters may not write reports: opening the survey changes
        # nothing and leaves no button bookkeeping.
        cls.__rpc__['tipline_survey'] = RPC(readonly=True, instantiate=0)

    @classmethod
    def default_survey_invited(cls):
        return False

    @classmethod
    def default_survey_answered(cls):
        return False

    def get_survey_open(self, name):
        return bool(self.survey_invited and not self.survey_answered
            and self.state in CLOSED_STATES)

    @classmethod
    def on_modification(cls, mode, reports, field_names=None):
        super().on_modification(mode, reports, field_names=field_names)
        if mode != 'write' or not field_names or 'state' not in field_names:
            return
        resolved = [r for r in reports
            if r.state == 'resolved' and not r.survey_invited]
        if resolved:
            # SQL: the flag is not a moderation change to log.
            table = cls.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.update(
                    [table.survey_invited], [True],
                    where=table.id.in_([r.id for r in resolved])))
            invalidate(cls, [r.id for r in resolved])

    @classmethod
    def tipline_survey(cls, reports):
        pool = Pool()
        Action = pool.get('ir.action')
        ModelData = pool.get('ir.model.data')
        # The caller's record rules decide whose report this is.
        cls.read([r.id for r in reports], ['id'])
        return Action.get_action_id(
            ModelData.get_id('tipline', 'wizard_survey'))

    def answer_survey(self, satisfaction, fair, again, comment=None):
        """Store one answer for this report, unlinked from it; refuse a
        second one"""
        if not self.survey_open:
            raise FeedbackError(gettext('tipline.msg_survey_closed'))
        with authorless(anonymous=self.anonymous):
            return self._answer_survey(satisfaction, fair, again, comment)

    def _answer_survey(self, satisfaction, fair, again, comment):
        pool = Pool()
        Answer = pool.get('tipline.survey.answer')
        table = self.__table__()
        cursor = Transaction().connection.cursor()
        # Flag first, guarded on the flag: two concurrent answers cannot
        # both pass.
        cursor.execute(*table.update(
                [table.survey_answered], [True],
                where=(table.id == self.id)
                & ((table.survey_answered == Null)
                    | (table.survey_answered == Literal(False)))))
        if cursor.rowcount == 0:
            raise FeedbackError(gettext('tipline.msg_survey_closed'))
        invalidate(self.__class__, [self.id])
        return Answer.record(
            self.category, satisfaction, fair, again, comment)


class SurveyAnswer(ServerReadonly, AuthorlessRows, ModelSQL):
    """One reporter's answer to the survey after resolution; linked to
    nothing but the category and the week"""
    __name__ = 'tipline.survey.answer'

    category = fields.Many2One(
        'tipline.category', "Category", readonly=True, ondelete='SET NULL')
    week = fields.Date("Week", required=True, readonly=True)
    satisfaction = fields.Integer("Satisfaction", required=True,
        readonly=True)
    handled_fairly = fields.Boolean("Handled Fairly", readonly=True)
    would_report_again = fields.Boolean("Would Report Again", readonly=True)
    comment_enc = Encrypted("Encrypted Comment", 'comment')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.week, Index.Range())))

    @classmethod
    def check_answer(cls, satisfaction, fair, again, comment):
        if satisfaction not in {1, 2, 3, 4, 5} or fair is None or (
                again is None):
            raise FeedbackError(gettext('tipline.msg_survey_incomplete'))
        if len(comment or '') > MAX_COMMENT:
            raise FeedbackError(gettext('tipline.msg_feedback_too_long',
                    maximum=MAX_COMMENT))

    @classmethod
    def record(cls, category, satisfaction, fair, again, comment=None):
        cls.check_answer(satisfaction, fair, again, comment)
        comment = (comment or '').strip() or None
        with without_check_access(), Transaction().set_user(0):
            answer, = cls.create([{
                        'category': category.id if category else None,
                        'week': week_start(utcnow().date()),
                        'satisfaction': satisfaction,
                        'handled_fairly': fair,
                        'would_report_again': again,
                        }])
            if comment:
                store_encrypted(cls, {answer.id: {'comment': comment}})
            _anonymise(cls, [answer])
        return answer

    @classmethod
    def aggregate(cls, start, end, k):
        """Count and, over at least k answers, the average satisfaction and
        the shares answering yes, for answers of weeks in [start, end)"""
        answer = cls.__table__()
        cursor = Transaction().connection.cursor()

        def yes(column):
            return Sum(Case((column == Literal(True), Literal(1)),
                    else_=Literal(0)))
        cursor.execute(*answer.select(
                Count(answer.id), Avg(answer.satisfaction),
                yes(answer.handled_fairly), yes(answer.would_report_again),
                where=(answer.week >= start) & (answer.week < end)))
        count, average, fair, again = cursor.fetchone()
        figures = {'count': count or 0, 'satisfaction': None,
            'handled_fairly': None, 'would_report_again': None}
        if count and count >= k:
            figures['satisfaction'] = round(float(average), 1)
            figures['handled_fairly'] = round(100.0 * (fair or 0) / count, 1)
            figures['would_report_again'] = round(
                100.0 * (again or 0) / count, 1)
        return figures

    @classmethod
    def comments(cls, start, end, k):
        "The period's comments in random order, only over k answers or more"
        answer = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = (answer.week >= start) & (answer.week < end)
        cursor.execute(*answer.select(Count(answer.id), where=where))
        count, = cursor.fetchone()
        if (count or 0) < k:
            return []
        cursor.execute(*answer.select(answer.id, answer.comment_enc,
                where=where & (answer.comment_enc != Null)))
        texts = [decrypt(cls.__name__, 'comment', id_, enc).decode('utf-8')
            for id_, enc in cursor.fetchall()]
        return sorted(texts)


class SurveyStart(ModelView):
    "How was your report handled?"
    __name__ = 'tipline.survey.start'

    satisfaction = fields.Selection(
        SATISFACTION, "How satisfied are you with how your report was "
        "handled?", required=True, sort=False)
    handled_fairly = fields.Selection(
        YES_NO, "Was it handled fairly?", required=True, sort=False)
    would_report_again = fields.Selection(
        YES_NO, "Would you report again?", required=True, sort=False)
    comment = fields.Text("Comment (optional)",
        help="Encrypted, and shown to the administrators only together "
        "with enough other answers that it cannot be traced to you.")


class Survey(SessionlessWizard, Wizard):
    "The survey after a report is resolved"
    __name__ = 'tipline.survey'
    start = StateView('tipline.survey.start',
        'tipline.survey_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Send", 'send', 'tryton-ok', default=True),
            ])
    send = StateTransition()

    @classmethod
    def check_access(cls):
        """Reporters may read, not write, their reports: the survey needs
        only read access to the one report, under the caller's rules"""
        transaction = Transaction()
        if transaction.user == 0:
            return
        Report = Pool().get('tipline.report')
        context = transaction.context
        if context.get('active_model') != 'tipline.report':
            # Nothing to answer for: the first step refuses.
            return
        with check_access():
            Report.read([context.get('active_id')], ['id'])

    def _report(self):
        Report = Pool().get('tipline.report')
        context = Transaction().context
        if context.get('active_model') != 'tipline.report':
            raise FeedbackError(gettext('tipline.msg_survey_closed'))
        # Read under the caller's rules: only one's own report passes.
        report, = Report.browse([context.get('active_id')])
        Report.read([report.id], ['id'])
        return report

    def default_start(self, fields):
        if not self._report().survey_open:
            raise FeedbackError(gettext('tipline.msg_survey_closed'))
        return {}

    def transition_send(self):
        report = self._report()
        with without_check_access():
            report.answer_survey(
                int(self.start.satisfaction),
                self.start.handled_fairly == 'yes',
                self.start.would_report_again == 'yes',
                self.start.comment)
        self.start.satisfaction = self.start.handled_fairly = None
        self.start.would_report_again = self.start.comment = None
        self._forget_session()
        return 'end'


class MailQueue(metaclass=PoolMeta):
    __name__ = 'tipline.mail_queue'

    def values(self):
        values = super().values()
        Report = Pool().get('tipline.report')
        report = Report(self.report.id)
        values['survey'] = bool(report.survey_open)
        return values


class Suggestion(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "A comment on the mechanism itself, from any user, kept without author"
    __name__ = 'tipline.suggestion'

    topic = fields.Selection(TOPICS, "Topic", required=True, readonly=True)
    topic_string = topic.translated('topic')
    week = fields.Date("Week", required=True, readonly=True)
    text_enc = Encrypted("Encrypted Text", 'text')
    text = fields.Function(fields.Text("Suggestion"), 'get_text')
    invited = fields.Boolean(
        "Invited", readonly=True,
        help="Sent in answer to an invitation to give feedback.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.week, Index.Range())))
        cls._order = [('week', 'DESC'), ('id', 'DESC')]

    @classmethod
    def get_text(cls, suggestions, name):
        return decrypt_values(suggestions, 'text')

    @classmethod
    def record(cls, topic, text, invited=False):
        text = (text or '').strip()
        if len(text) < 5:
            raise FeedbackError(gettext('tipline.msg_suggestion_empty'))
        if len(text) > MAX_COMMENT:
            raise FeedbackError(gettext('tipline.msg_feedback_too_long',
                    maximum=MAX_COMMENT))
        with without_check_access(), Transaction().set_user(0):
            suggestion, = cls.create([{
                        'topic': topic,
                        'week': week_start(utcnow().date()),
                        'invited': bool(invited),
                        }])
            store_encrypted(cls, {suggestion.id: {'text': text}})
            _anonymise(cls, [suggestion])
        return suggestion

    @classmethod
    def count_by_topic(cls, start, end):
        "[(topic, label, count)] of suggestions of weeks in [start, end)"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.topic, Count(table.id),
                where=(table.week >= start) & (table.week < end),
                group_by=[table.topic]))
        labels = dict(TOPICS)
        return [(topic, labels.get(topic, topic), n)
            for topic, n in sorted(cursor.fetchall())]


class SuggestStart(ModelView):
    "Tell us how to improve reporting"
    __name__ = 'tipline.suggestion.start'

    invitation = fields.Text("Invitation", readonly=True,
        states={'invisible': ~Eval('invitation')})
    topic = fields.Selection(TOPICS, "Topic", required=True)
    text = fields.Text("Your suggestion", required=True,
        help="Kept encrypted and without your name; moderators and "
        "administrators read it.")


class Suggest(SessionlessWizard, Wizard):
    "The suggestion box"
    __name__ = 'tipline.suggestion.submit'
    start = StateView('tipline.suggestion.start',
        'tipline.suggestion_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Send", 'send', 'tryton-ok', default=True),
            ])
    send = StateTransition()

    def default_start(self, fields):
        Invitation = Pool().get('tipline.invitation')
        pending = Invitation.pending_for_current_user()
        return {
            'topic': 'general',
            'invitation': gettext('tipline.msg_invitation_pending',
                review=pending[0].review.rec_name) if pending else None,
            }

    def transition_send(self):
        Invitation = Pool().get('tipline.invitation')
        pending = Invitation.pending_for_current_user()
        Pool().get('tipline.suggestion').record(
            self.start.topic, self.start.text, invited=bool(pending))
        if pending:
            with without_check_access():
                Invitation.delete(pending)
        self.start.text = self.start.topic = None
        self._forget_session()
        return 'end'


class Invitation(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    """An invitation to give feedback, for a user known only by the keyed
    token that also stands for them on their reports"""
    __name__ = 'tipline.invitation'

    review = fields.Many2One(
        'tipline.review', "Review", required=True, readonly=True,
        ondelete='CASCADE')
    token = fields.Char("Token", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('review_token_unique', Unique(t, t.review, t.token),
                'tipline.msg_invitation_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.token, Index.Equality())))

    @classmethod
    def active_tokens(cls, review, tokens):
        """The tokens, among tokens, of users who reported in the review's
        period or whose reports were upheld in it"""
        Report = Pool().get('tipline.report')
        report = Report.__table__()
        cursor = Transaction().connection.cursor()
        start, end = review._bounds
        found = set()
        tokens = sorted(tokens)
        for i in range(0, len(tokens), 500):
            cursor.execute(*report.select(report.reporter_token,
                    where=report.reporter_token.in_(tokens[i:i + 500])
                    & (((report.submitted_at >= start)
                            & (report.submitted_at < end))
                        | ((report.outcome == 'upheld')
                            & (report.resolved_at >= start)
                            & (report.resolved_at < end))),
                    group_by=[report.reporter_token]))
            found.update(t for t, in cursor.fetchall())
        return found

    @classmethod
    def invite(cls, review):
        "Invite the active users of review's period by e-mail and in-app"
        pool = Pool()
        User = pool.get('res.user')
        Keyset = pool.get('tipline.keyset')
        with without_check_access():
            users = User.search([('active', '=', True), ('id', '!=', 0)])
            by_token = {Keyset.reporter_token(u.id): u for u in users}
            active = cls.active_tokens(review, by_token)
            already = {i.token for i in cls.search([
                        ('review', '=', review.id),
                        ('token', 'in', list(active)),
                        ])}
            new = sorted(active - already)
            cls.create([{'review': review.id, 'token': t} for t in new])
            cls._forget_author(new)
            for token in new:
                cls.send_mail(by_token[token], review)
        return len(new)

    @classmethod
    def _forget_author(cls, tokens):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        if tokens:
            cursor.execute(*table.update(
                    [table.create_uid, table.write_uid], [Null, Null],
                    where=table.token.in_(tokens)))

    @classmethod
    def send_mail(cls, user, review):
        "Sent only if the transaction commits"
        if not (user.email or '').strip():
            return
        language = user.language.code if user.language else None
        with Transaction().set_context(language=language):
            subject = gettext('tipline.msg_invitation_subject')
            body = gettext('tipline.msg_invitation_body',
                review=review.rec_name,
                link='%s#%s' % (http_base(), Transaction().database.name))
        msg = EmailMessage()
        msg['From'] = config.get('email', 'from')
        msg['To'] = user.email.strip()
        msg['Subject'] = subject
        msg.set_content(body)
        sendmail_transactional(
            config.get('email', 'from'), [user.email.strip()], msg)

    @classmethod
    def pending_for_current_user(cls):
        Keyset = Pool().get('tipline.keyset')
        token = Keyset.reporter_token(Transaction().user)
        with without_check_access():
            return cls.search([('token', '=', token)],
                order=[('id', 'DESC')])


class Announcement(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "A change to the mechanism, told once to every user"
    __name__ = 'tipline.announcement'

    title = fields.Char("Title", required=True, translate=True)
    body = fields.Text("Text", translate=True)
    date = fields.Date("Date", required=True)
    decision = fields.Many2One(
        'tipline.review.decision', "Decision", readonly=True,
        ondelete='SET NULL')
    help_url = fields.Function(fields.Char("Help"), 'get_help_url')
    seen = fields.Function(
        fields.Boolean("Seen"), 'get_seen', searcher='search_seen')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'mark_seen': {
                    'invisible': Bool(Eval('seen')),
                    'icon': 'tryton-ok',
                    'depends': ['seen'],
                    },
                })
        # Everyone may mark an announcement as seen for themselves.
        cls.__rpc__['mark_seen'] = RPC(readonly=False, instantiate=0)

    @classmethod
    def default_date(cls):
        return utcnow().date()

    def get_help_url(self, name):
        language = Transaction().context.get('language') or 'en'
        return urllib.parse.urljoin(http_base(),
            '%s/tipline/help?lang=%s' % (
                urllib.parse.quote(Transaction().database.name),
                'zh_CN' if language.startswith('zh') else 'en'))

    @classmethod
    def get_seen(cls, announcements, name):
        Seen = Pool().get('tipline.announcement.seen')
        with without_check_access():
            seen = {s.announcement.id for s in Seen.search([
                        ('user', '=', Transaction().user),
                        ('announcement', 'in',
                            [a.id for a in announcements]),
                        ])}
        return {a.id: a.id in seen for a in announcements}

    @classmethod
    def search_seen(cls, name, clause):
        pool = Pool()
        Seen = pool.get('tipline.announcement.seen')
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        seen = Seen.__table__()
        query = seen.select(seen.announcement,
            where=seen.user == Transaction().user)
        if (operator == '=') == bool(value):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]

    @classmethod
    def mark_seen(cls, announcements):
        Seen = Pool().get('tipline.announcement.seen')
        user = Transaction().user
        cls.read([a.id for a in announcements], ['id'])
        with without_check_access():
            already = {s.announcement.id for s in Seen.search([
                        ('user', '=', user),
                        ('announcement', 'in',
                            [a.id for a in announcements]),
                        ])}
            seen = Seen.create([{'announcement': a.id, 'user': user}
                    for a in announcements if a.id not in already])
            Seen.forget_when(seen)

    @classmethod
    def unseen(cls):
        "The announcements the current user has not marked as seen"
        return cls.search([('seen', '=', False)])

    @classmethod
    def for_decision(cls, decision):
        "The announcement of a decision applied in a review"
        record = decision.record
        field = type(record)._fields[decision.field_name]
        announcement, = cls.create([{
                    'title': gettext('tipline.msg_announcement_title',
                        record=record.rec_name),
                    'body': gettext('tipline.msg_announcement_body',
                        field=field.string, record=record.rec_name,
                        value=decision.new_value),
                    'decision': decision.id,
                    }])
        return announcement


class SubmitStart(metaclass=PoolMeta):
    __name__ = 'tipline.report.submit.start'

    announcements = fields.Text("What changed", readonly=True,
        states={'invisible': ~Eval('announcements')})


class Submit(metaclass=PoolMeta):
    "The Report wizard tells each user once what changed in the mechanism"
    __name__ = 'tipline.report.submit'

    def default_start(self, fields):
        values = super().default_start(fields)
        values['announcements'] = self.tell_announcements()
        return values

    @staticmethod
    def tell_announcements():
        "The unseen announcements as text; they count as seen once shown"
        Announcement = Pool().get('tipline.announcement')
        unseen = Announcement.unseen()
        if not unseen:
            return None
        Announcement.mark_seen(unseen)
        return '\n\n'.join(
            '%s\n%s\n%s' % (a.title, a.body or '', a.help_url)
            for a in unseen)


class AnnouncementSeen(ServerReadonly, AuthorlessRows, ModelSQL):
    "That a user has read an announcement"
    __name__ = 'tipline.announcement.seen'

    announcement = fields.Many2One(
        'tipline.announcement', "Announcement", required=True,
        ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')

    @classmethod
    def forget_when(cls, seen):
        """Keep that a user read an announcement, not when: the Report
        wizard shows them, and the time would tell when the user opened it,
        shortly before an anonymous report perhaps.  The rows take the
        announcement's own time and no author."""
        pool = Pool()
        Announcement = pool.get('tipline.announcement')
        table = cls.__table__()
        announcement = Announcement.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice([s.id for s in seen], MAX_QUERY_PARAMS):
            cursor.execute(*table.update(
                    [table.create_uid, table.create_date],
                    [Null, announcement.select(announcement.create_date,
                            where=announcement.id == table.announcement)],
                    where=fields.SQL_OPERATORS['in'](table.id, sub_ids)))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('announcement_user_unique',
                Unique(t, t.announcement, t.user),
                'tipline.msg_announcement_seen_unique'),
            ]
