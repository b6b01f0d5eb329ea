"""Rate limits of the public pages that take a tracking number and a
receipt (routes.py): the status page, and the survey and conversation
reached from it.  StatusAttempt counts the wrong answers under keyed hashes
of the client address and of the number with the address; nothing is stored
in clear."""
import datetime as dt

from sql import Conflict

from trytond import backend
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.pool import Pool
from trytond.transaction import Transaction


from .authorless import AuthorlessRows
from .clock import now as utcnow
from .readonly import ServerReadonly

# Rate limits of the status page (and of the survey, which checks the same
# receipt).  Two keys, both keyed hashes, never in clear:
#
# - per client address: MAX_FAILURES_PER_CLIENT wrong answers per
#   CLIENT_WINDOW, then that address is refused until the window ends.  One
#   address cannot guess much, whatever number it tries.
# - per tracking number *and* client address: FREE_CHECKS_PER_NUMBER wrong
#   receipts at once, then each further check waits FIRST_WAIT, doubling
#   after every wrong one up to MAX_WAIT; the count is forgotten
#   NUMBER_WINDOW after its first failure, and the right receipt clears it.
#   A guesser gets about ten tries an hour on one number from one address.
#
# There is deliberately no limit per number alone: whatever budget a number
# had, anyone who knows the number could spend it and so lock its reporter
# out (the 5-per-15-minutes limit did exactly that), and a shared slow-down
# would let a steady guesser take every slot.  Slowing each address down on
# its own costs the reporter nothing for others' guesses: from their own
# address they are checked at once, whatever others did.  Only their own
# mistakes slow them: after FREE_CHECKS_PER_NUMBER wrong receipts the next
# try waits FIRST_WAIT (30 s), and each further wrong one doubles it.
# (Someone guessing from the reporter's own address, behind the same NAT,
# shares their limits; that is the one case left.)  Guessing stays hopeless:
# a receipt is one of 10^16, so even a million addresses at 40 tries an
# hour each (the client limit) need about 14,000 years for an even chance
# on one report.
CLIENT_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 10
NUMBER_WINDOW = dt.timedelta(hours=1)
FREE_CHECKS_PER_NUMBER = 3
FIRST_WAIT = dt.timedelta(seconds=30)
MAX_WAIT = dt.timedelta(minutes=15)


class RateLimit:
    "How many checks a key allows: a fixed budget, then doubling waits"

    def __init__(self, window, free, limit=None, first_wait=None,
            max_wait=None):
        self.window, self.free, self.limit = window, free, limit
        self.first_wait, self.max_wait = first_wait, max_wait

    def wait_after(self, failures):
        "How long the next check waits after failures wrong answers"
        if failures < self.free or self.first_wait is None:
            return dt.timedelta(0)
        return min(self.first_wait * 2 ** (failures - self.free),
            self.max_wait)


CLIENT_LIMIT = RateLimit(CLIENT_WINDOW, free=MAX_FAILURES_PER_CLIENT,
    limit=MAX_FAILURES_PER_CLIENT)
NUMBER_LIMIT = RateLimit(NUMBER_WINDOW, free=FREE_CHECKS_PER_NUMBER,
    first_wait=FIRST_WAIT, max_wait=MAX_WAIT)


class StatusAttempt(ServerReadonly, AuthorlessRows, ModelSQL):
    """The wrong answers given on the status page under one key, kept only
    for rate limiting"""
    __name__ = 'tipline.status_attempt'
    # One row per key; tipline_status_attempt held one row per failure.
    _table = 'tipline_status_limit'

    key = fields.Char("Key", required=True, readonly=True,
        help="A keyed hash of the client address, or of the tracking number "
        "with the client address.")
    # Timestamps, not DateTimes: PostgreSQL would round a DateTime to the
    # second, and a wait of nothing rounded up is a refusal.
    window_start = fields.Timestamp("Window Start", required=True,
        readonly=True, help="The first wrong answer of the current window.")
    failures = fields.Integer("Failures", required=True, readonly=True)
    next_check_at = fields.Timestamp("Next Check At", required=True,
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_unique', Unique(t, t.key), 'tipline.msg_status_attempt_key'),
            ]
        cls._sql_indexes.add(Index(t, (t.window_start, Index.Range())))

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # The former table: rate-limit state only, safe to forget.
        if backend.TableHandler.table_exist('tipline_status_attempt'):
            backend.TableHandler.drop_table(
                cls.__name__, 'tipline_status_attempt')

    @staticmethod
    def keys_for(client, number):
        """Blind indexes of the client address and of the number with the
        client address: neither addresses nor numbers are stored in clear"""
        indexer = Pool().get('tipline.keyset').indexer()
        client = (client or '').encode()
        return (
            indexer.index(client, b'status client').hex(),
            indexer.index((number or '').encode() + b'\0' + client,
                b'status number and client').hex())

    @classmethod
    def take_check(cls, keys):
        """Count one check against every key before it is made; None if all
        allow it, else how long to wait.  Committed at once, so that
        concurrent requests, in this process or another, see it.

        The count moves by compare-and-set: the UPDATE applies only if the
        row still holds what was read.  On SQLite the UPDATE takes the
        database's write lock (trytond begins IMMEDIATE transactions) and
        then sees the latest commit; on PostgreSQL, in trytond's REPEATABLE
        READ, an UPDATE of a row that another transaction changed since
        fails to serialize and the request is retried.  Either way no two
        requests take the same check, so at most the limit are made."""
        now = utcnow()
        for key, limit in zip(keys, (CLIENT_LIMIT, NUMBER_LIMIT)):
            wait = cls._take(key, limit, now)
            if wait:
                Transaction().rollback()
                return wait
        # Forget what no window counts any more.
        table = cls.__table__()
        Transaction().connection.cursor().execute(*table.delete(
                where=table.window_start < now - max(
                    CLIENT_WINDOW, NUMBER_WINDOW, MAX_WAIT)))
        Transaction().commit()
        return None

    @classmethod
    def _take(cls, key, limit, now):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for _ in range(5):
            cursor.execute(*table.select(
                    table.failures, table.window_start, table.next_check_at,
                    where=table.key == key))
            row = cursor.fetchone()
            if row is None:
                cursor.execute(*table.insert(
                        [table.key, table.failures, table.window_start,
                            table.next_check_at],
                        [[key, 1, now, now + limit.wait_after(1)]],
                        on_conflict=Conflict(table, indexed_columns=[
                                table.key])))
                if cursor.rowcount == 1:
                    return None
                continue
            failures, since, next_check_at = row
            since, next_check_at = _datetime(since), _datetime(next_check_at)
            if since + limit.window <= now:
                new_failures, new_since = 1, now
            elif limit.limit is not None and failures >= limit.limit:
                return since + limit.window - now
            elif next_check_at > now:
                return next_check_at - now
            else:
                new_failures, new_since = failures + 1, since
            cursor.execute(*table.update(
                    [table.failures, table.window_start, table.next_check_at],
                    [new_failures, new_since,
                        now + limit.wait_after(new_failures)],
                    where=(table.key == key) & (table.failures == failures)
                    & (table.window_start == since)))
            if cursor.rowcount == 1:
                return None
        # Others keep taking it: refuse rather than count loosely.
        return FIRST_WAIT

    @classmethod
    def give_back(cls, keys):
        """The check was right: it is no failure of the client, and the
        number's slow-down for this client starts again"""
        client_key, number_key = keys
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.failures], [table.failures - 1],
                where=(table.key == client_key) & (table.failures > 0)))
        cursor.execute(*table.delete(where=table.key == number_key))


def _datetime(value):
    "A stored timestamp; SQLite may give it as text"
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value
