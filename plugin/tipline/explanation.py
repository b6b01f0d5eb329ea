from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields

from .authorless import AuthorlessRows
from .readonly import ServerReadonly

KINDS = [
    ('not_upheld', "Not upheld"),
    ('duplicate', "Duplicate"),
    ('insufficient_evidence', "Insufficient evidence"),
    ('recategorised', "Recategorised"),
    ]


class OutcomeExplanation(ServerReadonly, AuthorlessRows,
        DeactivableMixin, ModelSQL, ModelView):
    "What the reporter is told when a report is not upheld or recategorised"
    __name__ = 'tipline.outcome_explanation'

    kind = fields.Selection(KINDS, "When", required=True, sort=False)
    category = fields.Many2One(
        'tipline.category', "Category", ondelete='CASCADE',
        help="Leave empty for the text used in every category without "
        "its own.")
    text = fields.Text("Explanation", required=True, translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('kind', 'ASC'))

    @classmethod
    def explain(cls, kind, category):
        """The explanation for kind in category, else the general one, else
        None"""
        with_category = [('kind', '=', kind)]
        for domain in (
                with_category + [('category', '=', category.id)],
                with_category + [('category', '=', None)]):
            explanations = cls.search(domain, limit=1)
            if explanations:
                return explanations[0]
        return None
