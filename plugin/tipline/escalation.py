"""Escalation of reports that are near or past a deadline, in two steps: the
assignee (or, while nobody is assigned, every moderator) first, then, when
the report is still open a day later, the Tipline Administrators of the
category's team (every Tipline Administrator if the team has none)."""
import datetime as dt

from trytond.model import fields
from trytond.pool import Pool
from trytond.transaction import without_check_access

from .clock import now as utcnow
from .states import OPEN_STATES

SECOND_STEP_AFTER = dt.timedelta(hours=24)


class EscalationMixin:
    "tipline.report's escalation of overdue reports"
    __slots__ = ()

    escalation_level = fields.Integer(
        "Escalation", readonly=True,
        help="0: not escalated; 1: the assignee was alerted; 2: the Tipline "
        "Administrators were alerted.")
    escalated_at = fields.DateTime("Escalated At", readonly=True)

    @classmethod
    def default_escalation_level(cls):
        return 0

    @classmethod
    def _group_users(cls, xml_id):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        return User.search([('groups', '=', ModelData.get_id('tipline', xml_id))])

    @classmethod
    def escalate(cls):
        "The cron job: alert who must act on reports that run out of time"
        pool = Pool()
        Queue = pool.get('tipline.mail_queue')
        Event = pool.get('tipline.audit_event')
        now = utcnow()
        with without_check_access():
            reports = cls.search([
                    ('state', 'in', OPEN_STATES),
                    ('escalation_level', '<', 2),
                    ['OR',
                        ('overdue', '=', True),
                        ('near_due', '=', True),
                        ('statutory_overdue', '=', True),
                        ],
                    ])
            moderators = cls._group_users('group_tipline_moderator')
            administrators = cls._group_users('group_tipline_admin')
            rows, first, second = [], [], []
            for report in reports:
                level = report.escalation_level or 0
                if level == 0:
                    recipients = ([report.assigned_to]
                        if report.assigned_to else moderators)
                    first.append(report)
                elif (report.escalated_at
                        and now - report.escalated_at >= SECOND_STEP_AFTER):
                    # The team's administrators, else all of them.
                    team = report.category.team
                    recipients = [u for u in administrators
                        if team and team in u.groups] or administrators
                    second.append(report)
                else:
                    continue
                for user in recipients:
                    row = cls._mail_row(report, user, 'escalation')
                    if row:
                        rows.append(row)
            for reports_, level in ((first, 1), (second, 2)):
                if reports_:
                    cls.write(reports_, {
                            'escalation_level': level, 'escalated_at': now})
                    for report in reports_:
                        Event.append(report, 'escalate',
                            {'level': str(level)}, actor='')
            Queue.enqueue(rows)
        return first, second

    @classmethod
    def restart_clock(cls, reports):
        super().restart_clock(reports)
        cls.write(reports, {'escalation_level': 0, 'escalated_at': None})
