from trytond.pool import PoolMeta

from .reportable_mixin import ReportActionMixin


class Party(ReportActionMixin, metaclass=PoolMeta):
    __name__ = 'party.party'
