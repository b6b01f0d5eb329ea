"""The suggestion box (#6): any user tells how reporting could work better.

A suggestion keeps no link to its author: it is stored by user 0, dated only
by the Monday of its week, and its text is encrypted.  It only says whether
it answered an invitation (invitation.py)."""
from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .authorless import AuthorlessRows, SessionlessWizard, keep_only_week
from .clock import now as utcnow, week_start
from .encrypted import Encrypted, decrypt_values, store_encrypted
from .exceptions import FeedbackError
from .readonly import ServerReadonly
from .survey import MAX_COMMENT

TOPICS = [
    ('general', "The mechanism in general"),
    ('categories', "Categories"),
    ('deadlines', "Deadlines and follow-up"),
    ('anonymity', "Anonymity and protection"),
    ('help', "Help and training"),
    ]


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
            keep_only_week(cls, [suggestion])
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
        pool = Pool()
        Invitation = pool.get('tipline.invitation')
        Suggestion = pool.get('tipline.suggestion')
        pending = Invitation.pending_for_current_user()
        Suggestion.record(
            self.start.topic, self.start.text, invited=bool(pending))
        if pending:
            with without_check_access():
                Invitation.delete(pending)
        self.start.text = self.start.topic = None
        self._forget_session()
        return 'end'
