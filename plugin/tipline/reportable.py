from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelStorage, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.transaction import without_check_access

from .authorless import AuthorlessRows
from .exceptions import ReportableModelError
from .readonly import ServerReadonly


class ReportableModel(ServerReadonly, AuthorlessRows,
        DeactivableMixin, ModelSQL, ModelView):
    "A model whose records carry the Report action"
    __name__ = 'tipline.reportable_model'

    model = fields.Many2One(
        'ir.model', "Model", required=True, ondelete='CASCADE',
        help="Records of this model get the Report action.")
    keyword = fields.Many2One(
        'ir.action.keyword', "Action Keyword", readonly=True,
        ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('model_unique', Unique(t, t.model),
                'tipline.msg_reportable_model_unique'),
            ]

    def get_rec_name(self, name):
        return self.model.rec_name if self.model else ''

    @classmethod
    def validate_fields(cls, reportables, field_names):
        super().validate_fields(reportables, field_names)
        if 'model' in field_names:
            pool = Pool()
            for reportable in reportables:
                try:
                    Model = pool.get(reportable.model.name)
                except KeyError:
                    Model = None
                if (Model is None
                        or not issubclass(Model, ModelStorage)
                        or not issubclass(Model, ModelView)
                        or Model.__name__.startswith('tipline.')
                        or Model.__name__.startswith('ir.')
                        or Model.__name__.startswith('res.')):
                    raise ReportableModelError(gettext(
                            'tipline.msg_reportable_model_invalid',
                            model=reportable.model.rec_name))

    _names_cache = Cache('tipline.reportable_model.names', context=False)

    @classmethod
    def reportable_model_names(cls, active_only=True):
        "The names of the models whose records can be reported"
        names = cls._names_cache.get(active_only)
        if names is None:
            domain = [] if active_only else [('active', 'in', [True, False])]
            with without_check_access():
                names = [r.model.name for r in cls.search(domain)]
            cls._names_cache.set(active_only, names)
        return names

    @staticmethod
    def has_report_button(model_name):
        "Whether the model's forms and action menu carry the Report button"
        from .reportable_mixin import ReportActionMixin
        try:
            return issubclass(Pool().get(model_name), ReportActionMixin)
        except KeyError:
            return False

    @classmethod
    def _report_action_id(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ActionWizard = pool.get('ir.action.wizard')
        wizard = ActionWizard(ModelData.get_id(
                'tipline', 'wizard_report_submit'))
        return wizard.action.id

    @classmethod
    def sync_keywords(cls, reportables):
        """Make the Report action appear on exactly the configured models.

        The keyword is what the clients read to fill a record's action menu,
        so creating or deleting it is all it takes to show or hide the action.
        """
        pool = Pool()
        Keyword = pool.get('ir.action.keyword')
        action_id = cls._report_action_id()
        to_save, to_delete = [], []
        for reportable in reportables:
            keyword = reportable.keyword
            wanted = '%s,-1' % reportable.model.name
            if (not reportable.active
                    or cls.has_report_button(reportable.model.name)):
                # The model's own Report button stands in the action menu.
                if keyword:
                    to_delete.append(keyword)
                    reportable.keyword = None
                    to_save.append(reportable)
                continue
            if keyword and str(keyword.model) == wanted:
                continue
            if keyword:
                to_delete.append(keyword)
            reportable.keyword = Keyword(
                keyword='form_action', model=wanted, action=action_id)
            to_save.append(reportable)
        with without_check_access():
            Keyword.save([r.keyword for r in to_save if r.keyword])
            super().save(to_save)
            Keyword.delete(to_delete)

    @classmethod
    def on_modification(cls, mode, reportables, field_names=None):
        super().on_modification(mode, reportables, field_names=field_names)
        cls._names_cache.clear()
        if mode in {'create', 'write'} and (
                field_names is None or field_names & {'model', 'active'}):
            cls.sync_keywords(reportables)

    @classmethod
    def check_modification(
            cls, mode, reportables, values=None, external=False):
        pool = Pool()
        Report = pool.get('tipline.report')
        super().check_modification(
            mode, reportables, values=values, external=external)
        if mode == 'delete' or (
                mode == 'write' and 'model' in (values or {})):
            for reportable in reportables:
                with without_check_access():
                    reports = Report.search([
                            ('target', 'like', reportable.model.name + ',%'),
                            ], limit=1)
                if reports:
                    raise ReportableModelError(gettext(
                            'tipline.msg_reportable_model_in_use',
                            model=reportable.model.rec_name))

    @classmethod
    def on_delete(cls, reportables):
        pool = Pool()
        Keyword = pool.get('ir.action.keyword')
        callback = super().on_delete(reportables)
        keywords = [r.keyword for r in reportables if r.keyword]
        if keywords:
            def delete_keywords():
                with without_check_access():
                    Keyword.delete(keywords)
            callback.append(delete_keywords)
        return callback
