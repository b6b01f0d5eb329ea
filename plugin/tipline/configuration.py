from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pyson import Eval

from .appeal import AppealConfigurationMixin
from .assignment import AssignmentConfigurationMixin
from .authorless import AuthorlessRows
from .conversation import ConversationConfigurationMixin
from .priority import PriorityConfigurationMixin
from .readonly import ServerReadonly
from .review import ReviewConfigurationMixin

DEFAULT_MIN_DESCRIPTION = 20
DEFAULT_MAX_DESCRIPTION = 10000
DEFAULT_MAX_EVIDENCE_MIB = 10
DEFAULT_RETENTION_REMINDER_DAYS = 30
DEFAULT_RECEIPT_ACCESS_DAYS = 180


class Configuration(
        ConversationConfigurationMixin,
        PriorityConfigurationMixin,
        ReviewConfigurationMixin,
        AppealConfigurationMixin,
        AssignmentConfigurationMixin,
        ServerReadonly, AuthorlessRows, ModelSingleton, ModelSQL, ModelView):
    """Tipline's settings; each concept keeps its own in the file named after
    it, as a mixin listed here"""
    __name__ = 'tipline.configuration'

    min_description_length = fields.Integer(
        "Minimum Description Length", required=True,
        domain=[('min_description_length', '>=', 1)],
        help="Fewest characters a report description may have.")
    max_description_length = fields.Integer(
        "Maximum Description Length", required=True,
        domain=[('max_description_length', '>=',
                Eval('min_description_length', 1))],
        help="Most characters a report description may have.")
    default_jurisdiction = fields.Many2One(
        'tipline.jurisdiction', "Jurisdiction",
        help="The legal profile whose statutory deadlines apply to reports, "
        "unless their category names another.")
    max_evidence_size = fields.Integer(
        "Maximum Evidence Size (MiB)", required=True,
        domain=[('max_evidence_size', '>=', 1)],
        help="Largest file a reporter may attach as evidence.")
    retention_reminder_days = fields.Integer(
        "Expiry Reminder (days)", required=True,
        domain=[('retention_reminder_days', '>=', 0)],
        help="How many days before a report's content is deleted the "
        "administrators are reminded by mail; no report is deleted sooner "
        "after its reminder.")
    receipt_access_days = fields.Integer(
        "Status Page Access (days)", required=True,
        domain=[('receipt_access_days', '>=', 0)],
        help="How long after closure an anonymous reporter's receipt still "
        "opens the status page; 0 for no end. Separate from retention.")

    @classmethod
    def default_min_description_length(cls):
        return DEFAULT_MIN_DESCRIPTION

    @classmethod
    def default_max_description_length(cls):
        return DEFAULT_MAX_DESCRIPTION

    @classmethod
    def default_max_evidence_size(cls):
        return DEFAULT_MAX_EVIDENCE_MIB

    @classmethod
    def default_retention_reminder_days(cls):
        return DEFAULT_RETENTION_REMINDER_DAYS

    @classmethod
    def default_receipt_access_days(cls):
        return DEFAULT_RECEIPT_ACCESS_DAYS
