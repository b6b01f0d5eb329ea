"""Appeals and closing.

Within a window after the result, the reporter may appeal once, with a
reason: a named reporter from My Reports (Tipline > Appeal a Decision), an
anonymous reporter on the status page with the receipt.  The appeal opens
the report again, for a different moderator where the team has one.  When
the window has passed, or the appeal has had its answer, a cron job closes
the report."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .audit import digest
from .authorless import SessionlessWizard, authorless
from .clock import now as utcnow
from .encrypted import Encrypted, decrypt_values, store_encrypted
from .exceptions import AppealError

MIN_REASON_LENGTH = 10
DEFAULT_APPEAL_DAYS = 14


class AppealConfigurationMixin:
    "The appeal window"
    __slots__ = ()

    appeal_window_days = fields.Integer(
        "Appeal Window (days)", required=True,
        domain=[('appeal_window_days', '>=', 0)],
        help="How long after the result a reporter may appeal it; 0 for no "
        "appeals.")

    @classmethod
    def default_appeal_window_days(cls):
        return DEFAULT_APPEAL_DAYS


class AppealMixin:
    "tipline.report's appeal: the window after resolution and the appeal"
    __slots__ = ()

    appeal_deadline = fields.DateTime(
        "Appeal Until", readonly=True, format='%H:%M',
        help="The reporter may appeal the result until then.")
    appealed_at = fields.DateTime("Appealed At", readonly=True)
    appeal_reason_enc = Encrypted(
        "Encrypted Appeal Reason", 'appeal_reason', report='id')
    appeal_reason = fields.Function(
        fields.Text("Appeal Reason"), 'get_appeal_reason')
    appealable = fields.Function(
        fields.Boolean("Can Be Appealed"), 'get_appealable',
        searcher='search_appealable')
    appeal_hint = fields.Function(
        fields.Char("How to Appeal"), 'get_appeal_hint')

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="appeal"]', 'states', {
                    'invisible': ~Eval('appealed_at'),
                    }),
            ]

    @classmethod
    def get_appeal_reason(cls, reports, name):
        return decrypt_values(reports, 'appeal_reason')

    def get_appealable(self, name):
        return bool(self.state == 'resolved' and not self.appealed_at
            and self.appeal_deadline and utcnow() <= self.appeal_deadline)

    def get_appeal_hint(self, name):
        if not self.get_appealable(name):
            return None
        return gettext('tipline.msg_appeal_hint',
            date=self.appeal_deadline.strftime('%Y-%m-%d %H:%M UTC'))

    @classmethod
    def search_appealable(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        appealable = [
            ('state', '=', 'resolved'),
            ('appealed_at', '=', None),
            ('appeal_deadline', '>=', utcnow()),
            ]
        if (operator == '=') == bool(value):
            return appealable
        return [('id', 'not in', cls.search(appealable, query=True))]

    @classmethod
    def open_appeal_window(cls, reports, now):
        """Resolve's step (report.py): until when each of reports, resolved
        at now, may be appealed; set on the records, which resolve saves"""
        Configuration = Pool().get('tipline.configuration')
        days = Configuration.setting('appeal_window_days') or 0
        # Shown to the minute, rounded up: never less than the window.
        minute = now.replace(second=0, microsecond=0)
        if minute < now:
            minute += dt.timedelta(minutes=1)
        for report in reports:
            # One appeal only: its answer is final.
            if not report.appealed_at:
                report.appeal_deadline = (minute + dt.timedelta(days=days)
                    if days else None)

    @classmethod
    def appeal(cls, report, reason):
        """Open report again on its reporter's appeal; the caller has made
        sure the reporter is the one asking.  Like filing, it runs in the
        authorless scope: no row names the appellant."""
        with authorless(anonymous=cls(report.id).anonymous):
            return cls._appeal(report, reason)

    @classmethod
    def _appeal(cls, report, reason):
        pool = Pool()
        Event = pool.get('tipline.audit_event')
        Configuration = pool.get('tipline.configuration')
        reason = (reason or '').strip()
        report = cls(report.id)
        if not report.appealable:
            raise AppealError(gettext('tipline.msg_appeal_not_possible',
                    report=report.rec_name))
        if len(reason) < MIN_REASON_LENGTH:
            raise AppealError(gettext('tipline.msg_appeal_reason_too_short',
                    minimum=MIN_REASON_LENGTH))
        maximum = Configuration.current().max_description_length
        if len(reason) > maximum:
            raise AppealError(gettext('tipline.msg_appeal_reason_too_long',
                    maximum=maximum))
        previous = report.assigned_to
        assignee = cls.pick_assignee(report.category,
            report.reporter_token, report.subject_tokens,
            exclude=[previous.id] if previous else [])
        if assignee is None and previous:
            # Nobody else on the team: a different moderator where there is
            # one, else the same.
            others = [u for u in cls.team_members(report.category,
                    report.reporter_token, report.subject_tokens)
                if u != previous.id]
            assignee = others[0] if others else previous.id
        store_encrypted(cls, {report.id: {'appeal_reason': reason}})
        Event.append(report, 'appeal', {
                'sha256': digest(reason),
                'length': str(len(reason)),
                'previous_outcome': report.outcome or '',
                })
        cls.reopen_for_investigation([report], {
                'appealed_at': utcnow(),
                'assigned_to': assignee,
                })
        return cls(report.id)

    @classmethod
    def close_decided(cls):
        """Cron: close the resolved reports that can no longer be appealed,
        because the window has passed or the appeal has had its answer"""
        now = utcnow()
        with without_check_access(), Transaction().set_context(
                tipline_actor=''):
            reports = cls.search([
                    ('state', '=', 'resolved'),
                    ['OR',
                        ('appeal_deadline', '=', None),
                        ('appeal_deadline', '<', now),
                        ('appealed_at', '!=', None),
                        ],
                    ])
            if reports:
                cls.close(reports)
        return reports


class AppealStart(ModelView):
    "Appeal a decision"
    __name__ = 'tipline.report.appeal.start'

    report = fields.Selection('get_reports', "Report", required=True,
        sort=False,
        help="Your reports whose result can still be appealed.")
    reason = fields.Text("Why the decision is wrong", required=True,
        help="What the moderators missed or got wrong. Another moderator "
        "will look at the report again.")
    note = fields.Text("Note", readonly=True)

    @classmethod
    def get_reports(cls):
        Report = Pool().get('tipline.report')
        # The record rules keep this to the user's own reports.
        reports = Report.search([
                ('mine', '=', True),
                ('appealable', '=', True),
                ])
        return [(None, '')] + [
            (str(r.id), '%s (%s, %s)' % (
                    r.tracking_number, r.target_label, r.outcome_string))
            for r in reports]

    @classmethod
    def default_note(cls):
        return gettext('tipline.msg_appeal_note')


class Appeal(SessionlessWizard, Wizard):
    "Appeal the result of one of one's own reports"
    __name__ = 'tipline.report.appeal'

    start = StateView('tipline.report.appeal.start',
        'tipline.report_appeal_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Appeal", 'appeal', 'tryton-ok', default=True),
            ])
    appeal = StateTransition()

    @property
    def model(self):
        # The host would log the wizard run on the report with the user.
        return None

    def default_start(self, fields):
        context = Transaction().context
        values = {}
        if (context.get('active_model') == 'tipline.report'
                and context.get('active_id')):
            choices = dict(AppealStart.get_reports())
            if str(context['active_id']) in choices:
                values['report'] = str(context['active_id'])
        return values

    def transition_appeal(self):
        Report = Pool().get('tipline.report')
        # Read with the reporter's own rights: only their own reports.
        reports = Report.search([
                ('id', '=', int(self.start.report or 0)),
                ('mine', '=', True),
                ], limit=1)
        if not reports:
            raise AppealError(gettext('tipline.msg_appeal_not_possible',
                    report=self.start.report or ''))
        Report.appeal(reports[0], self.start.reason)
        self.start.reason = None
        self._forget_session()
        return 'end'

    def end(self):
        return 'reload'
