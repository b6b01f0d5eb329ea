"""The authorless scope: whatever a reporter does leaves no row naming them.

The host records its caller everywhere: ``create_uid`` and ``write_uid`` on
every row, the wizard's session row, and times that a database reader can
match with the caller's session and login rows.  Everything a reporter does
(filing, adding evidence, appealing, answering a survey, exporting their own
report) therefore runs inside ``authorless()``:

- the transaction's user is the system (0) while the scope is open, so no row
  written there, Tipline's or the host's, carries the reporter's id;
- when the scope closes, the rows created there and the Tipline rows written
  there get NULL user columns;
- for an anonymous reporter, every time Tipline computes inside the scope
  (``clock.now``) is the filing time coarsened to ``GRANULARITY``, and so are
  the database's own ``create_date``/``write_date`` of those rows.  Deadlines
  are computed from that time, so they fall early, never late.

Who acted is known inside the transaction only (``filer()``), for example so
that assignment never gives reporters their own report; it is never stored.

The granularity is one hour: a database reader then learns that an
anonymous report was filed within a clock hour, which is shared by every
user active in it, and a deadline of hours or days loses at most 59 minutes,
always to the reporter's benefit.
"""
import contextlib
import datetime as dt
from weakref import WeakKeyDictionary

from sql import Null
from sql.conditionals import Case

from trytond.backend import MAX_QUERY_PARAMS
from trytond.model import ModelSQL, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .cache import invalidate
from .sqlite import checkpoint

GRANULARITY = dt.timedelta(hours=1)

_scopes = WeakKeyDictionary()


class _Scope:
    __slots__ = ('filer', 'anonymous', 'filed_at', 'created', 'written',
        'whole')

    def __init__(self, filer, anonymous, filed_at, created):
        self.filer = filer
        self.anonymous = anonymous
        self.filed_at = filed_at
        # How many rows of each model the transaction had created before.
        self.created = created
        self.written = {}
        # Rows inserted already authorless (filing.insert_rows).
        self.whole = {}


def coarsen(moment):
    "moment rounded down to GRANULARITY"
    return dt.datetime.min + (
        (moment - dt.datetime.min) // GRANULARITY) * GRANULARITY


def current():
    "The scope open in the current transaction, or None"
    return _scopes.get(Transaction())


def filer():
    "The id of the user the open scope acts for; None outside a scope"
    scope = current()
    return scope.filer if scope else None


def frozen_now():
    "The coarsened filing time inside an anonymous scope, else None"
    scope = current()
    return scope.filed_at if scope and scope.anonymous else None


@contextlib.contextmanager
def authorless(anonymous=False):
    """Run a reporter's action so that no row names them; see the module.

    Scopes nest: an inner one joins the outer one, and an anonymous inner
    scope makes the whole of it anonymous."""
    from .clock import real_now
    transaction = Transaction()
    scope = _scopes.get(transaction)
    if scope is not None:
        if anonymous and not scope.anonymous:
            scope.anonymous = True
        yield scope
        return
    scope = _Scope(
        transaction.user, anonymous, coarsen(real_now()),
        {name: len(ids) for name, ids in transaction.create_records.items()})
    _scopes[transaction] = scope
    try:
        with transaction.set_user(0), without_check_access():
            yield scope
            _forget(transaction, scope)
        if scope.anonymous:
            # The log must not keep the pages as they were before.
            transaction.atexit(checkpoint, transaction.database.name)
    finally:
        del _scopes[transaction]


def keep_only_week(Model, records):
    """Blank the columns of records (of a Model with a ``week`` date) that
    would name or time their author to the second: the user columns, and the
    creation time rounded down to the week"""
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    for record in records:
        monday = dt.datetime.combine(record.week, dt.time())
        cursor.execute(*table.update(
                [table.create_uid, table.write_uid, table.create_date,
                    table.write_date],
                [Null, Null, monday, Null],
                where=table.id == record.id))


def track_whole(Model, ids):
    """Remember that Model's rows ids were inserted with no author and the
    scope's time already: nothing to forget about them"""
    scope = current()
    if scope is not None:
        scope.whole.setdefault(Model.__name__, set()).update(ids)


def track_write(Model, ids):
    "Remember that Model's rows ids were written in the open scope"
    scope = current()
    if scope is not None:
        scope.written.setdefault(Model.__name__, set()).update(ids)


def _forget(transaction, scope):
    """Blank the user columns of what the scope created and wrote, and for
    an anonymous scope coarsen their times"""
    pool = Pool()
    created, written = {}, {}
    for name, ids in transaction.create_records.items():
        new = set(ids[scope.created.get(name, 0):]) - scope.whole.get(
            name, set())
        if new:
            created.setdefault(name, set()).update(new)
    for name, ids in scope.written.items():
        written.setdefault(name, set()).update(ids)
    cursor = transaction.connection.cursor()
    for name in sorted(created.keys() | written.keys()):
        Model = pool.get(name)
        if not issubclass(Model, ModelSQL) or callable(Model.table_query):
            continue
        table = Model.__table__()
        for ids, is_new in ((created.get(name, set()), True),
                (written.get(name, set()) - created.get(name, set()), False)):
            columns, values = [table.write_uid], [Null]
            if is_new:
                columns.append(table.create_uid)
                values.append(Null)
            if scope.anonymous:
                # A row written after its creation keeps a write time, but
                # only the coarse one.
                columns.append(table.write_date)
                values.append(Case(
                        (table.write_date == Null, Null),
                        else_=scope.filed_at))
                if is_new:
                    columns.append(table.create_date)
                    values.append(scope.filed_at)
            for sub_ids in grouped_slice(sorted(ids), MAX_QUERY_PARAMS):
                cursor.execute(*table.update(columns, values,
                        where=fields.SQL_OPERATORS['in'](table.id, sub_ids)))
        invalidate(Model, created.get(name, set()) | written.get(name, set()))


class AuthorlessRows:
    "Tells the open authorless scope which rows of the model were written"
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        if mode == 'write':
            track_write(cls, [r.id for r in records])


class SessionlessWizard:
    """A reporter's wizard whose session row goes with the action it ends.

    The host keeps each wizard's session row (the user id, its times and the
    form's data) until the client calls delete, which a client may never
    do.  A reporter's wizard calls _forget_session() in the transaction of
    its action: the row is deleted there and not written again."""
    __slots__ = ()

    def _forget_session(self):
        Session = Pool().get('ir.session.wizard')
        table = Session.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(where=table.id == self._session_id))
        self._session_forgotten = True

    def _save(self):
        if not getattr(self, '_session_forgotten', False):
            super()._save()

    @classmethod
    def delete(cls, session_id):
        "The client's last call: the end state's action, from no session"
        Session = Pool().get('ir.session.wizard')
        table = Session.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id, where=table.id == session_id))
        if cursor.fetchone():
            return super().delete(session_id)
        end = getattr(cls, cls.end_state, None)
        # The end states of these wizards read nothing from the session.
        return end(cls.__new__(cls)) if end else None
