from trytond.cache import Cache
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pyson import Eval
from trytond.transaction import without_check_access

from .appeal import AppealConfigurationMixin
from .assignment import AssignmentConfigurationMixin
from .authorless import AuthorlessRows
from .burst import BurstConfigurationMixin
from .conversation import ConversationConfigurationMixin
from .dedup import DedupConfigurationMixin
from .priority import PriorityConfigurationMixin
from .readonly import ServerReadonly
from .retention import RetentionConfigurationMixin
from .review import ReviewConfigurationMixin

DEFAULT_MIN_DESCRIPTION = 20
DEFAULT_MAX_DESCRIPTION = 10000
DEFAULT_MAX_EVIDENCE_MIB = 10


class Configuration(
        ConversationConfigurationMixin,
        PriorityConfigurationMixin,
        DedupConfigurationMixin,
        BurstConfigurationMixin,
        ReviewConfigurationMixin,
        AppealConfigurationMixin,
        AssignmentConfigurationMixin,
        RetentionConfigurationMixin,
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

    @classmethod
    def default_min_description_length(cls):
        return DEFAULT_MIN_DESCRIPTION

    @classmethod
    def default_max_description_length(cls):
        return DEFAULT_MAX_DESCRIPTION

    @classmethod
    def default_max_evidence_size(cls):
        return DEFAULT_MAX_EVIDENCE_MIB

    _settings_cache = Cache('tipline.configuration.settings', context=False)

    @classmethod
    def current(cls):
        """The configuration, its stored settings read once and cached until
        it changes: filing and the buttons read their settings without two
        queries for the singleton each time"""
        values = cls._settings_cache.get('values')
        if values is None:
            names = [n for n, f in cls._fields.items()
                if not isinstance(f, (fields.Function, fields.One2Many,
                        fields.Many2Many))
                and n not in {'id', 'create_uid', 'create_date',
                    'write_uid', 'write_date'}]
            with without_check_access():
                values, = cls.read([1], names)
            values = {n: values[n] for n in names}
            cls._settings_cache.set('values', values)
        return cls(1, **values)

    @classmethod
    def setting(cls, name):
        "The setting name, from the cached configuration"
        return getattr(cls.current(), name)

    @classmethod
    def on_modification(cls, mode, configurations, field_names=None):
        # Before the concepts' own steps, which read the new settings (the
        # priority rescores with the new weights).
        cls._settings_cache.clear()
        super().on_modification(mode, configurations, field_names=field_names)

    def _value(self, name):
        "The setting name, or its default where none is stored"
        value = getattr(self, name, None)
        if value is None:
            value = getattr(self, 'default_' + name)()
        return value
