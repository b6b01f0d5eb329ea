"""Statutory clocks: deadlines that law sets, in calendar or working days,
which no one can pause."""
import datetime as dt

from dateutil.relativedelta import relativedelta

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields)

from .authorless import AuthorlessRows
from .exceptions import CategoryValidationError
from .readonly import ServerReadonly


def add_working_days(start, days):
    "start plus days working days (Monday to Friday), same time of day"
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


class Jurisdiction(ServerReadonly, AuthorlessRows,
        DeactivableMixin, ModelSQL, ModelView):
    "A legal profile that sets the statutory deadlines of reports"
    __name__ = 'tipline.jurisdiction'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    acknowledge_days = fields.Integer(
        "Days to Acknowledge",
        help="Calendar days within which a report must be acknowledged; "
        "empty when the law sets none.")
    feedback_days = fields.Integer(
        "Days to Feedback",
        help="Days within which the reporter must get feedback.")
    feedback_months = fields.Integer(
        "Months to Feedback",
        help="Used instead of days when the law counts in months.")
    working_days = fields.Boolean(
        "Working Days",
        help="Count feedback days as working days (Monday to Friday).")
    warning_days = fields.Integer(
        "Warning Days", required=True,
        help="How many days before a statutory deadline a report is "
        "flagged as near due.")
    retention_rules = fields.One2Many(
        'tipline.retention.rule', 'jurisdiction', "Retention",
        help="How long closed reports are kept; a rule for a category comes "
        "before the general ones. Without a rule reports are kept.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'tipline.msg_jurisdiction_code_unique'),
            ]

    @classmethod
    def default_warning_days(cls):
        return 15

    @classmethod
    def validate_fields(cls, jurisdictions, field_names):
        super().validate_fields(jurisdictions, field_names)
        for jurisdiction in jurisdictions:
            values = [jurisdiction.acknowledge_days,
                jurisdiction.feedback_days, jurisdiction.feedback_months,
                jurisdiction.warning_days]
            if any(v is not None and v < 0 for v in values) or (
                    jurisdiction.feedback_days is None
                    and not jurisdiction.feedback_months):
                raise CategoryValidationError(gettext(
                        'tipline.msg_jurisdiction_invalid',
                        jurisdiction=jurisdiction.rec_name))

    def deadlines(self, start):
        "(acknowledge by, feedback due) from start, naive UTC"
        acknowledge = (start + dt.timedelta(days=self.acknowledge_days)
            if self.acknowledge_days else None)
        if self.feedback_months:
            due = start + relativedelta(months=self.feedback_months)
        elif self.working_days:
            due = add_working_days(start, self.feedback_days)
        else:
            due = start + dt.timedelta(days=self.feedback_days)
        return acknowledge, due
