from trytond.pool import PoolMeta

from .reportable_mixin import ReportActionMixin


class Opportunity(ReportActionMixin, metaclass=PoolMeta):
    __name__ = 'sale.opportunity'
