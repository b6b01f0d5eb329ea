from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)

from .assignment import AssignmentCategoryMixin
from .authorless import AuthorlessRows
from .exceptions import CategoryValidationError
from .priority import PriorityCategoryMixin
from .readonly import ServerReadonly


class Category(PriorityCategoryMixin, AssignmentCategoryMixin,
        ServerReadonly, AuthorlessRows,
        DeactivableMixin, sequence_ordered(), ModelSQL, ModelView):
    "What a report is about, with the guidance and deadlines that go with it"
    __name__ = 'tipline.category'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char(
        "Code", required=True,
        help="Stable identifier used by integrations and statistics.")
    guidance = fields.Text(
        "Guidance", translate=True,
        help="Shown to the reporter: what belongs in this category, "
        "with examples.")
    severity_weight = fields.Integer(
        "Severity Weight", required=True,
        help="From 1 (minor) to 10 (most severe); "
        "raises the priority of reports in this category.")
    hours_to_acknowledge = fields.Integer(
        "Hours to Acknowledge", required=True,
        help="Time within which a report must be acknowledged.")
    hours_to_first_response = fields.Integer(
        "Hours to First Response",
        help="Time within which the reporter must get a first answer from "
        "a moderator.")
    jurisdiction = fields.Many2One(
        'tipline.jurisdiction', "Jurisdiction",
        help="Overrides the configured jurisdiction for this category.")
    hours_to_resolve = fields.Integer(
        "Hours to Resolve", required=True,
        help="Time within which a report must be resolved.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code), 'tipline.msg_category_code_unique'),
            ]

    @classmethod
    def default_severity_weight(cls):
        return 5

    @classmethod
    def default_hours_to_acknowledge(cls):
        return 24

    @classmethod
    def default_hours_to_first_response(cls):
        return 72

    @classmethod
    def default_hours_to_resolve(cls):
        return 168

    @classmethod
    def validate_fields(cls, categories, field_names):
        super().validate_fields(categories, field_names)
        if field_names & {
                'severity_weight', 'hours_to_acknowledge',
                'hours_to_resolve'}:
            for category in categories:
                category.check_weight_and_deadlines()

    def check_weight_and_deadlines(self):
        if not 1 <= self.severity_weight <= 10:
            raise CategoryValidationError(gettext(
                    'tipline.msg_category_severity_range',
                    category=self.rec_name))
        if self.hours_to_acknowledge <= 0 or self.hours_to_resolve <= 0:
            raise CategoryValidationError(gettext(
                    'tipline.msg_category_hours_positive',
                    category=self.rec_name))
        if self.hours_to_resolve < self.hours_to_acknowledge:
            raise CategoryValidationError(gettext(
                    'tipline.msg_category_resolve_before_acknowledge',
                    category=self.rec_name))
