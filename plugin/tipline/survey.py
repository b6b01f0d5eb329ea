"""The survey after resolution (#6): three questions to the reporter of a
resolved report, in My Reports (the Survey wizard) or on the status page
for an anonymous reporter (routes.py).

An answer keeps no link to its author or its report: it is stored by user 0,
dated only by the Monday of its week, and its comment is encrypted.  The
report only carries a flag that its survey was answered (SurveyMixin, part
of tipline.report), so that each report gets exactly one answer."""
from sql import Literal, Null
from sql.aggregate import Avg, Count, Sum
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import (
    Transaction, check_access, without_check_access)
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .authorless import (
    AuthorlessRows, SessionlessWizard, authorless, keep_only_week)
from .cache import invalidate
from .clock import now as utcnow, week_start
from .encrypted import Encrypted, decrypt, store_encrypted
from .exceptions import FeedbackError
from .readonly import ServerReadonly
from .states import CLOSED_STATES

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
# The longest comment or suggestion kept.
MAX_COMMENT = 2000


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
    def invite_to_survey(cls, reports):
        """Resolve's step (report.py): invite the reporters of reports to
        the survey; set on the records, which resolve saves"""
        for report in reports:
            if not report.survey_invited:
                report.survey_invited = True

    @classmethod
    def on_modification(cls, mode, reports, field_names=None):
        super().on_modification(mode, reports, field_names=field_names)
        if mode != 'write' or not field_names or 'state' not in field_names:
            return
        # Resolve invites as it saves; this is for a report resolved any
        # other way.
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
        "The survey wizard, on the caller's own report only"
        pool = Pool()
        Action = pool.get('ir.action')
        ModelData = pool.get('ir.model.data')
        # The caller's record rules decide whose report this is.
        cls.read([r.id for r in reports], ['id'])
        return Action.get_action_id(
            ModelData.get_id('tipline', 'wizard_survey'))

    def answer_survey(self, satisfaction, fair, again, comment=None):
        """Store the one answer of this report's survey, unlinked from it;
        refuse a second one.  Like filing, it runs in the authorless
        scope."""
        Answer = Pool().get('tipline.survey.answer')
        if not self.survey_open:
            raise FeedbackError(gettext('tipline.msg_survey_closed'))
        with authorless(anonymous=self.anonymous):
            Answer.check_answer(satisfaction, fair, again, comment)
            self._close_survey()
            return Answer.record(
                self.category, satisfaction, fair, again, comment)

    def _close_survey(self):
        "Flag the survey answered, or refuse if it was already"
        table = self.__table__()
        cursor = Transaction().connection.cursor()
        # Guarded on the flag: two concurrent answers cannot both pass.
        cursor.execute(*table.update(
                [table.survey_answered], [True],
                where=(table.id == self.id)
                & ((table.survey_answered == Null)
                    | (table.survey_answered == Literal(False)))))
        if cursor.rowcount == 0:
            raise FeedbackError(gettext('tipline.msg_survey_closed'))
        invalidate(self.__class__, [self.id])


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
            keep_only_week(cls, [answer])
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
