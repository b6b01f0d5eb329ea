"""The tamper-evident history of each report.

Every event (submission, state change, assignment, message to the reporter,
identity reveal, export) is appended to a per-report hash chain computed by
tipline_core: each link is SHA-256 over the previous link and a canonical
encoding of the event.  Events are append-only, and verification names the
first broken link.
"""
import datetime as dt
import hashlib
import json

from sql.aggregate import Max
from sql.functions import CurrentTimestamp

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

import tipline_core

from . import clock
from .authorless import AuthorlessRows
from .exceptions import AuditError
from .filing import insert_returning
from .readonly import ServerReadonly

EPOCH = dt.datetime(1970, 1, 1)
MICROSECOND = dt.timedelta(microseconds=1)


def digest(text):
    "A SHA-256 of text, for events that must prove content without holding it"
    return hashlib.sha256((text or '').encode('utf-8')).hexdigest()


class AuditEvent(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "An event in a report's history, linked to the previous one by its hash"
    __name__ = 'tipline.audit_event'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, readonly=True,
        ondelete='RESTRICT')
    sequence = fields.Integer("Sequence", required=True, readonly=True)
    # A Timestamp, not a DateTime: the chain hashes the microseconds.
    timestamp = fields.Timestamp("Time", required=True, readonly=True)
    actor = fields.Char("Actor", readonly=True,
        help="The login of the staff member who acted; empty for the "
        "reporter and for the system.")
    kind = fields.Char("Event", required=True, readonly=True)
    details = fields.Text("Details", readonly=True)
    link_hash = fields.Binary("Hash", required=True, readonly=True)
    link_hex = fields.Function(fields.Char("Hash"), 'get_link_hex')
    when = fields.Function(fields.Char("Time"), 'get_when')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('report_sequence_unique', Unique(t, t.report, t.sequence),
                'tipline.msg_audit_sequence_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.report, Index.Range()), (t.sequence, Index.Range())))
        cls._order = [('report', 'ASC'), ('sequence', 'ASC'), ('id', 'ASC')]

    def get_when(self, name):
        # The web client's lists have no column for timestamps.
        return self.timestamp.strftime('%Y-%m-%d %H:%M:%S UTC')

    def get_link_hex(self, name):
        return bytes(self.link_hash).hex() if self.link_hash else None

    @classmethod
    def check_modification(cls, mode, events, values=None, external=False):
        super().check_modification(
            mode, events, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise AuditError(gettext('tipline.msg_audit_append_only'))

    @staticmethod
    def _encode(event_details):
        return {str(k): str(v) for k, v in sorted(event_details.items())}

    @classmethod
    def append(cls, report, kind, details=None, actor=None):
        """Append an event to report's chain.  actor None means the current
        user's login; pass '' for the reporter or the system."""
        event, = cls.append_many(report, [(kind, details)], actor=actor)
        return event

    @classmethod
    def append_many(cls, report, events, actor=None, locked=False):
        """Append events, a list of (kind, details) by actor (as for
        append), to report's chain in one insert; the new events.  locked
        says that this transaction has written the report's row already."""
        pool = Pool()
        Report = pool.get('tipline.report')
        if not events:
            return []
        # Serialise appends to one chain by writing the report's row in
        # place: a second appender waits for the first to commit, and if
        # its snapshot (trytond's REPEATABLE READ) is older than that
        # commit, it fails to serialize and trytond runs it again with the
        # first's event in view.  (Report.lock ran every request twice to
        # take its lock first, then gave up with 503 after 0.2 s when
        # another transaction held the row.)
        # A row this transaction wrote already is held the same way.
        report_table = Report.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        if not locked:
            cursor.execute(*report_table.update(
                    [report_table.id], [report_table.id],
                    where=report_table.id == report.id))
        table = cls.__table__()
        if actor is None and transaction.user:
            actor, sequence, previous = cls._actor_and_head(report)
        else:
            cursor.execute(*table.select(
                    table.sequence, table.link_hash,
                    where=table.report == report.id,
                    order_by=table.sequence.desc, limit=1))
            sequence, previous = cursor.fetchone() or (None, None)
        if actor is None:  # the system, and every authorless scope
            actor = ''
        if sequence is not None:
            previous = bytes(previous)
        else:
            sequence, previous = 0, tipline_core.audit_genesis(report.id)
        now = clock.now()
        # Written whole, as the ORM's create would (its user and time, which
        # an authorless scope empties and coarsens), without reading back.
        columns = ['report', 'sequence', 'timestamp', 'actor', 'kind',
            'details', 'link_hash']
        values = []
        for kind, details in events:
            details = cls._encode(details or {})
            sequence += 1
            previous = tipline_core.audit_link(
                previous, report.id, sequence, (now - EPOCH) // MICROSECOND,
                actor or '', kind, details)
            values.append([cls._fields[n].sql_format(v) for n, v in zip(
                        columns, [report.id, sequence, now, actor or '',
                            kind, json.dumps(details, sort_keys=True),
                            previous])]
                + [transaction.user or None, CurrentTimestamp()])
        return insert_returning(
            cls, columns + ['create_uid', 'create_date'], values)

    @classmethod
    def write_first(cls, report_id, events, ids):
        """Start the chain of a report being filed with events, a list of
        (kind, details) by nobody, in their reserved rows ids, in one
        insert: the links are computed here, from the report's genesis, so
        nothing is read back"""
        from .filing import insert_rows
        now = clock.now()
        previous = tipline_core.audit_genesis(report_id)
        rows = []
        for (kind, details), sequence, event_id in zip(
                events, range(1, len(events) + 1), ids):
            details = cls._encode(details)
            previous = tipline_core.audit_link(
                previous, report_id, sequence, (now - EPOCH) // MICROSECOND,
                '', kind, details)
            rows.append({
                    'id': event_id,
                    'report': report_id,
                    'sequence': sequence,
                    'timestamp': now,
                    'actor': '',
                    'kind': kind,
                    'details': json.dumps(details, sort_keys=True),
                    'link_hash': previous,
                    })
        insert_rows(cls, rows)

    @classmethod
    def _actor_and_head(cls, report):
        """(actor, sequence, link hash): the login the history shows for the
        current user acting on report (staff by name; never the report's
        own reporter, nor anyone inside an authorless scope, nor the system)
        and the last event of its chain (None, None for none), in one
        query"""
        pool = Pool()
        User = pool.get('res.user')
        Report = pool.get('tipline.report')
        Keyset = pool.get('tipline.keyset')
        user = Transaction().user
        report_table = Report.__table__()
        user_table = User.__table__()

        def head(column):
            event = cls.__table__()
            return event.select(getattr(event, column),
                where=event.report == report_table.id,
                order_by=event.sequence.desc, limit=1)
        cursor = Transaction().connection.cursor()
        cursor.execute(*report_table.join(user_table,
                condition=user_table.id == user).select(
                report_table.reporter_token, user_table.login,
                head('sequence').as_('sequence'),
                head('link_hash').as_('link_hash'),
                where=report_table.id == report.id))
        token, login, sequence, previous = cursor.fetchone()
        if token and token == Keyset.reporter_token(user):
            login = ''
        return login, sequence, previous

    @classmethod
    def verify(cls, report_ids):
        """{report id: None when intact, else the first broken event's
        sequence}; reads the rows directly so nothing is taken on trust."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for report_id in report_ids:
            cursor.execute(*table.select(
                    table.sequence, table.timestamp, table.actor, table.kind,
                    table.details, table.link_hash,
                    where=table.report == report_id,
                    order_by=table.sequence.asc))
            rows = cursor.fetchall()
            events = []
            for sequence, timestamp, actor, kind, details, link in rows:
                if isinstance(timestamp, str):
                    timestamp = dt.datetime.fromisoformat(timestamp)
                try:
                    details = json.loads(details or '{}')
                except ValueError:
                    details = {'': 'unreadable'}
                events.append((
                        sequence, (timestamp - EPOCH) // MICROSECOND,
                        actor or '', kind, details, bytes(link or b'')))
            try:
                broken = tipline_core.audit_verify(report_id, events)
            except tipline_core.InvalidInput:
                broken = 0
            result[report_id] = None if broken is None else rows[broken][0]
        return result

    @classmethod
    def heads(cls, report_ids):
        "{report id: (sequence, link hash)} of the last event of each chain"
        table = cls.__table__()
        last = table.select(
            table.report, Max(table.sequence).as_('sequence'),
            where=table.report.in_(list(report_ids)),
            group_by=[table.report])
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.join(last, condition=(
                    (table.report == last.report)
                    & (table.sequence == last.sequence))).select(
                table.report, table.sequence, table.link_hash))
        return {r: (s, bytes(h)) for r, s, h in cursor}

    @classmethod
    def links(cls, report_ids):
        "{(report id, sequence): link hash} of every event of the reports"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.report, table.sequence, table.link_hash,
                where=table.report.in_(list(report_ids))))
        return {(r, s): bytes(h) for r, s, h in cursor}
