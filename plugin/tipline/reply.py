"""The wizards that write in a report's conversation: the moderators' Ask
the Reporter and Message, and the named reporter's Reply from My Reports.

Each wizard deletes its session row in the transaction that posts: the
row would otherwise keep the message and the files in clear."""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import metadata
from .authorless import SessionlessWizard
from .conversation import VISIBILITIES
from .exceptions import ConversationError, EvidenceError

FILE_SLOTS = 3


def _file_fields(cls):
    "Three optional files and the warning about what they carry"
    for i in range(1, FILE_SLOTS + 1):
        setattr(cls, 'file%d' % i, fields.Binary(
                "File %d" % i, filename='file%d_name' % i))
        setattr(cls, 'file%d_name' % i, fields.Char("File %d Name" % i))
    return cls


class _Compose:
    "The message and the files of a post (mixed into the wizards' forms)"
    __slots__ = ()
    body = fields.Text("Message", required=True)
    metadata_notice = fields.Text("What the files say about you",
        readonly=True,
        help="The metadata found in the files. The moderators see copies "
        "without it.")

    def files(self):
        "[(name, bytes)] of the files attached"
        return [(getattr(self, 'file%d_name' % i) or '',
                getattr(self, 'file%d' % i))
            for i in range(1, FILE_SLOTS + 1)
            if getattr(self, 'file%d' % i)]

    def forget(self):
        "Blank what was written, so that nothing keeps it"
        self.body = None
        for i in range(1, FILE_SLOTS + 1):
            setattr(self, 'file%d' % i, None)
            setattr(self, 'file%d_name' % i, None)

    @fields.depends(*['file%d' % i for i in range(1, FILE_SLOTS + 1)],
        *['file%d_name' % i for i in range(1, FILE_SLOTS + 1)])
    def on_change_with_metadata_notice(self):
        return metadata_notice(self.files())


def metadata_notice(files):
    "What the reporter reads about the metadata of files before sending"
    lines = []
    for name, data in files:
        try:
            found = metadata.inspect(name, bytes(data))
        except EvidenceError as error:
            lines.append('%s: %s' % (metadata.safe_name(name), error.message))
            continue
        if found:
            lines.append(gettext('tipline.msg_conversation_metadata_found',
                    name=metadata.safe_name(name),
                    keys=', '.join('%s (%s)' % kv for kv in found)))
        else:
            lines.append(gettext('tipline.msg_conversation_metadata_none',
                    name=metadata.safe_name(name)))
    return '\n'.join(lines) or None


@_file_fields
class MessageStart(_Compose, ModelView):
    "Write in the conversation"
    __name__ = 'tipline.report.message.start'

    visibility = fields.Selection(VISIBILITIES, "Visibility", required=True,
        states={'readonly': Eval('ask', False)},
        help="Internal messages are for moderators and custodians; the "
        "reporter never sees them.")
    ask = fields.Boolean("Wait for the Answer", readonly=True,
        help="The report waits for the reporter's answer; the operational "
        "clock pauses, the statutory one does not.")

    @classmethod
    def default_visibility(cls):
        return 'shared'


class PostMessage(SessionlessWizard, Wizard):
    "Write in a report's conversation, to the reporter or internally"
    __name__ = 'tipline.report.message'
    ask = False

    start = StateView('tipline.report.message.start',
        'tipline.report_message_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Send", 'post', 'tryton-ok', default=True),
            ])
    post = StateTransition()

    def default_start(self, fields):
        return {'visibility': 'shared', 'ask': self.ask}

    def transition_post(self):
        pool = Pool()
        Message = pool.get('tipline.message')
        start = self.start
        visibility = 'shared' if self.ask else start.visibility
        for report in self.records:
            Message.post_as_moderator(report, start.body,
                visibility=visibility, files=start.files(), ask=self.ask)
        start.forget()
        self._forget_session()
        return 'end'

    def end(self):
        return 'reload'


class AskReporter(PostMessage):
    "Ask the reporter and wait for the answer"
    __name__ = 'tipline.report.ask'
    ask = True


@_file_fields
class ReplyStart(_Compose, ModelView):
    "Reply to the moderators"
    __name__ = 'tipline.report.reply.start'

    # Not required: from a report's action menu the report is the active
    # record, which the web client may not show as chosen.
    report = fields.Selection('get_reports', "Report", sort=False)
    note = fields.Text("Note", readonly=True)

    @classmethod
    def get_reports(cls):
        Report = Pool().get('tipline.report')
        # The record rules keep this to the user's own reports.
        reports = Report.search([
                ('mine', '=', True), ('state', '!=', 'closed')])
        return [(None, '')] + [
            (str(r.id), '%s (%s)' % (r.tracking_number, r.target_label))
            for r in reports]

    @classmethod
    def default_note(cls):
        return gettext('tipline.msg_conversation_reply_note')


class Reply(SessionlessWizard, Wizard):
    "Reply to the moderators and add evidence, from My Reports"
    __name__ = 'tipline.report.reply'

    start = StateView('tipline.report.reply.start',
        'tipline.report_reply_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Send", 'send', 'tryton-ok', default=True),
            ])
    send = StateTransition()

    @property
    def model(self):
        # The host would log the wizard run on the report with the user.
        return None

    @classmethod
    def check_access(cls):
        # Reporters may not write reports; the transition reads the report
        # with the reporter's own rights.
        with Transaction().set_context(
                active_model=None, active_id=None, active_ids=None):
            super().check_access()

    def default_start(self, fields):
        context = Transaction().context
        values = {}
        if (context.get('active_model') == 'tipline.report'
                and context.get('active_id')):
            if str(context['active_id']) in dict(ReplyStart.get_reports()):
                values['report'] = str(context['active_id'])
        return values

    def transition_send(self):
        pool = Pool()
        Report = pool.get('tipline.report')
        Message = pool.get('tipline.message')
        context = Transaction().context
        report_id = self.start.report or (context.get('active_id')
            if context.get('active_model') == 'tipline.report' else None)
        # Read with the reporter's own rights: only their own reports.
        reports = Report.search([
                ('id', '=', int(report_id or 0)),
                ('mine', '=', True),
                ('state', '!=', 'closed'),
                ], limit=1)
        if not reports:
            raise ConversationError(gettext(
                    'tipline.msg_conversation_not_yours'))
        Message.post_as_reporter(
            reports[0], self.start.body, files=self.start.files())
        self.start.forget()
        self._forget_session()
        return 'end'

    def end(self):
        return 'reload'
