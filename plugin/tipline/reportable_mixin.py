from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC


class ReportActionMixin:
    """Adds the Report button to a model's form.

    The action menu entry comes from the Reportable models configuration;
    this button is the prominent entry point on the forms users work in."""
    __slots__ = ()

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'tipline_report': {
                    'icon': 'tipline-report',
                    'readonly': Eval('id', -1) < 0,
                    'depends': ['id'],
                    },
                })
        # Opening the wizard changes nothing.  A read-only call with no
        # button bookkeeping leaves no trace of who started a report.
        cls.__rpc__['tipline_report'] = RPC(readonly=True, instantiate=0)

    @classmethod
    def view_attributes(cls):
        pool = Pool()
        Reportable = pool.get('tipline.reportable_model')
        attributes = super().view_attributes()
        if cls.__name__ not in Reportable.reportable_model_names():
            attributes.append(
                ('//group[@id="tipline_report"]',
                    'states', {'invisible': True}))
        return attributes

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
