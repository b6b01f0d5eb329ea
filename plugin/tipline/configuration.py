from trytond.cache import Cache
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pyson import Eval

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
    def setting(cls, name):
        """The plain value of the setting name (not a record), cached until
        the configuration changes: the buttons read a setting without two
        queries for the singleton each time"""
        cached = cls._settings_cache.get(name)
        if cached is None:
            cached = (getattr(cls(1), name),)
            cls._settings_cache.set(name, cached)
        return cached[0]

    @classmethod
    def on_modification(cls, mode, configurations, field_names=None):
        super().on_modification(mode, configurations, field_names=field_names)
        cls._settings_cache.clear()

    def _value(self, name):
        "The setting name, or its default where none is stored"
        value = getattr(self, name, None)
        if value is None:
            value = getattr(self, 'default_' + name)()
        return value
