"""Who the current user is to Tipline: membership of its groups."""

from trytond.pool import Pool
from trytond.transaction import Transaction


def in_groups(*xml_ids):
    """Whether the current user is in one of Tipline's groups xml_ids; the
    system (user 0) always is"""
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    if not Transaction().user:
        return True
    return bool(set(User.get_groups())
        & {ModelData.get_id('tipline', x) for x in xml_ids})
