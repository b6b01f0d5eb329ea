from trytond.model import fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC


class ReportActionMixin:
    """Adds the Report button to a model's form and to its action menu.

    The button shows only while the model is enabled under Reportable
    models, so that configuration alone decides where Report appears."""
    __slots__ = ()

    tipline_reportable = fields.Function(
        fields.Boolean("Reportable"), 'get_tipline_reportable')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'tipline_report': {
                    'icon': 'tipline-report',
                    'invisible': ~Eval('tipline_reportable', False),
                    'readonly': Eval('id', -1) < 0,
                    'depends': ['tipline_reportable', 'id'],
                    },
                })
        # Opening the wizard changes nothing.  A read-only call with no
        # button bookkeeping leaves no trace of who started a report.
        cls.__rpc__['tipline_report'] = RPC(readonly=True, instantiate=0)

    @classmethod
    def get_tipline_reportable(cls, records, name):
        pool = Pool()
        Reportable = pool.get('tipline.reportable_model')
        reportable = cls.__name__ in Reportable.reportable_model_names()
        return {r.id: reportable for r in records}

    @classmethod
    def tipline_report(cls, records):
        pool = Pool()
        Action = pool.get('ir.action')
        ModelData = pool.get('ir.model.data')
        # Enforce the record rules of the caller before handing the action.
        cls.read([r.id for r in records if r.id is not None and r.id >= 0],
            ['id'])
        return Action.get_action_id(
            ModelData.get_id('tipline', 'wizard_report_submit'))
