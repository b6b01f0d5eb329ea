import datetime as dt
import urllib.parse

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, check_access
from trytond.url import http_base
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .authorless import SessionlessWizard
from .exceptions import SubmissionError
from .clock import now as utcnow


class SubmitStart(ModelView):
    "Report a record"
    __name__ = 'tipline.report.submit.start'

    target_label = fields.Char("Reported Record", readonly=True)
    # A selection of category ids rather than a Many2One: its choices are
    # fixed when the form opens, so a redraw of the form can never swap the
    # chosen category for another one.
    category = fields.Selection(
        'get_categories', "Category", required=True, sort=False,
        help="Pick the category that fits best; its guidance appears below.")
    guidance = fields.Text("What belongs here", readonly=True)
    description = fields.Text(
        "Description", required=True,
        help="What happened, where and when. Stick to facts you saw.")
    evidence = fields.Binary(
        "Evidence", filename='evidence_name',
        help="An optional file that supports the report, such as a "
        "screenshot.")
    evidence_name = fields.Char("Evidence File Name")
    # One more file field once the one before holds a file: the form stays
    # short, so that the anonymity choice shows without scrolling.
    evidence2 = fields.Binary("More Evidence", filename='evidence2_name',
        states={'invisible': ~Eval('evidence_name')})
    evidence2_name = fields.Char("Evidence File Name 2")
    evidence3 = fields.Binary("More Evidence", filename='evidence3_name',
        states={'invisible': ~Eval('evidence2_name')})
    evidence3_name = fields.Char("Evidence File Name 3")
    evidence_metadata = fields.Text("What the files say about you",
        readonly=True, states={'invisible': ~Eval('evidence_metadata')},
        help="The metadata found in the files. The moderators see copies "
        "without it.")
    anonymous = fields.Boolean(
        "Report anonymously",
        help="Keep no link between you and this report.")
    next_steps = fields.Text("What happens next", readonly=True)
    announcements = fields.Text("What changed", readonly=True,
        states={'invisible': ~Eval('announcements')})

    @classmethod
    def get_categories(cls):
        pool = Pool()
        Category = pool.get('tipline.category')
        return [(None, '')] + [
            (str(c.id), c.rec_name) for c in Category.search([])]

    @property
    def category_record(self):
        pool = Pool()
        Category = pool.get('tipline.category')
        if self.category:
            with Transaction().set_context(active_test=False):
                categories = Category.search(
                    [('id', '=', int(self.category))], limit=1)
            if categories:
                return categories[0]

    def evidence_files(self):
        "The attached files as the (name, bytes) list that filing takes"
        return [(name, data) for name, data in (
                (self.evidence_name, self.evidence),
                (self.evidence2_name, self.evidence2),
                (self.evidence3_name, self.evidence3)) if data]

    @fields.depends('evidence', 'evidence_name', 'evidence2',
        'evidence2_name', 'evidence3', 'evidence3_name')
    def on_change_with_evidence_metadata(self):
        from .reply import metadata_notice
        return metadata_notice(self.evidence_files())

    def forget_evidence(self):
        "Blank what was written, so that the session keeps none of it"
        self.description = None
        for name in ('evidence', 'evidence2', 'evidence3'):
            setattr(self, name, None)
            setattr(self, name + '_name', None)

    @fields.depends('category')
    def on_change_with_guidance(self):
        category = self.category_record
        if category:
            return category.guidance

    @classmethod
    def default_anonymous(cls):
        return False

    @classmethod
    def default_next_steps(cls):
        return gettext('tipline.msg_submit_next_steps')


class SubmitDone(ModelView):
    "Report received"
    __name__ = 'tipline.report.submit.done'

    tracking_number = fields.Char("Tracking Number", readonly=True)
    receipt = fields.Char(
        "Secret Receipt", readonly=True,
        states={'invisible': ~Eval('anonymous', False)},
        depends=['anonymous'],
        help="With the tracking number, it opens the report's status page. "
        "Only a hash of it is stored; it is shown once.")
    status_url = fields.Char(
        "Status Page", readonly=True,
        states={'invisible': ~Eval('anonymous', False)},
        depends=['anonymous'])
    acknowledge_by = fields.DateTime(
        "Acknowledge By", readonly=True, format='%H:%M')
    resolve_by = fields.DateTime("Resolve By", readonly=True, format='%H:%M')
    anonymous = fields.Boolean("Anonymous", readonly=True)
    message = fields.Text("Message", readonly=True)


class Submit(SessionlessWizard, Wizard):
    "Report a record to the moderators"
    __name__ = 'tipline.report.submit'

    start = StateView('tipline.report.submit.start',
        'tipline.report_submit_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Submit Report", 'submit', 'tryton-ok', default=True),
            ])
    submit = StateTransition()
    done = StateView('tipline.report.submit.done',
        'tipline.report_submit_done_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    @property
    def model(self):
        # The host logs every wizard run on the active record, with the user;
        # for an anonymous report that would be a link to its author.
        return None

    @classmethod
    def check_access(cls):
        """Require read access to the reported record, not write access: the
        wizard never changes it, and anyone who can see a record may report
        it."""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        transaction = Transaction()
        context = transaction.context
        model = context.get('active_model')
        with transaction.set_context(
                active_model=None, active_id=None, active_ids=None):
            super().check_access()
        if transaction.user == 0 or not model or model == 'ir.ui.menu':
            return
        with check_access():
            ModelAccess.check(model, 'read')
            ids = list(context.get('active_ids') or [])
            if context.get('active_id') is not None:
                ids.append(context['active_id'])
            pool.get(model).read(ids, ['id'])

    def _active_target(self):
        pool = Pool()
        Reportable = pool.get('tipline.reportable_model')
        context = Transaction().context
        model, active_id = context.get('active_model'), context.get('active_id')
        if (not model or active_id is None
                or model not in Reportable.reportable_model_names()):
            raise SubmissionError(gettext('tipline.msg_submit_not_reportable'))
        return pool.get(model)(active_id)

    def default_start(self, fields):
        Announcement = Pool().get('tipline.announcement')
        target = self._active_target()
        return {
            'target_label': target.rec_name,
            # Each user is told once what changed in the mechanism.
            'announcements': Announcement.tell_unseen(),
            }

    def transition_submit(self):
        pool = Pool()
        Report = pool.get('tipline.report')
        start = self.start
        evidence = start.evidence_files()
        report, receipt = Report.file(
            self._active_target(), start.category_record, start.description,
            anonymous=start.anonymous, evidence=evidence)
        # Kept on this object only: the session row must not hold them.
        self._filed = report
        self._receipt = receipt
        start.forget_evidence()
        self._forget_session()
        return 'done'

    def default_done(self, fields):
        report = getattr(self, '_filed', None)
        if report is None:
            return {}
        return {
            'tracking_number': report.tracking_number,
            'receipt': getattr(self, '_receipt', None),
            'status_url': urllib.parse.urljoin(http_base(), '%s/tipline/status'
                % urllib.parse.quote(Transaction().database.name)),
            'acknowledge_by': report.acknowledge_by,
            'resolve_by': report.resolve_by,
            'anonymous': report.anonymous,
            'message': '\n\n'.join(self.done_messages(report)),
            }

    @staticmethod
    def done_messages(report):
        "What the reporter reads once report is filed, paragraph by paragraph"
        messages = [gettext(
                'tipline.msg_submit_received_anonymous'
                if report.anonymous else 'tipline.msg_submit_received',
                number=report.tracking_number)]
        if report.repeat_report:
            # The case (case.py) counts the same reporter on the same
            # record once.
            messages.append(gettext('tipline.msg_submit_already_handled'))
        return messages


class PracticeSubmit(Submit):
    """The Report wizard as a training run: every step is explained and
    checked as for real, and nothing is filed."""
    __name__ = 'tipline.report.practice'

    @classmethod
    def check_access(cls):
        # Practice involves no record: anyone may practise.
        with Transaction().set_context(
                active_model=None, active_id=None, active_ids=None):
            super(Submit, cls).check_access()

    def default_start(self, fields):
        return {
            'target_label': gettext('tipline.msg_practice_target'),
            'next_steps': gettext('tipline.msg_practice_next_steps'),
            }

    def transition_submit(self):
        pool = Pool()
        Report = pool.get('tipline.report')
        start = self.start
        evidence = start.evidence_files()
        Report.check_content(
            start.category_record, start.description, evidence)
        category = start.category_record
        now = utcnow().replace(second=0, microsecond=0)
        self._practice = {
            'tracking_number': 'TL-0000-0000-0000-0000',
            'receipt': '0000-0000-0000-0000' if start.anonymous else None,
            'acknowledge_by': now + dt.timedelta(
                hours=category.hours_to_acknowledge),
            'resolve_by': now + dt.timedelta(hours=category.hours_to_resolve),
            'anonymous': start.anonymous,
            'message': gettext('tipline.msg_practice_done'),
            }
        start.forget_evidence()
        return 'done'

    def default_done(self, fields):
        return getattr(self, '_practice', {})
