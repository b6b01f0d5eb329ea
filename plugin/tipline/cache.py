"Keeping the transaction's record cache true to rows changed behind the ORM"
from trytond.transaction import Transaction


def invalidate(Model, ids):
    """Drop what the transaction cached of Model's rows ids after they were
    changed behind the ORM (as trytond does when it restores history)"""
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            records = cache[Model.__name__]
            for id_ in ids:
                records.pop(id_, None)
