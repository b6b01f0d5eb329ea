"""Cases: the reports that are one matter, handled once.

A filed report joins the open case that already holds a report against the
same record; failing that, the open case of a near-identical text (found
through the band index of dedup.py and confirmed natively), which makes the
case a campaign once it spans several records; failing that, it opens a new
case.  Moderators resolve a case once and every report in it is resolved
with that outcome, so every reporter hears it.  They correct the grouping
with the merge and split wizards.  The burst guard (burst.py) puts a case
in quarantine until a moderator releases it.

A case's state is a workflow (_transitions): open -> resolved when a
moderator resolves it (the Resolve button) or when its last open report is
resolved on its own (settle); resolved -> open when one of its reports opens
again (reopen: an appeal, a moderator reopening); open or resolved -> merged
when its reports move to another case (merge, split).  Case.update keeps the
figures current in SQL and asks for the settle and reopen transitions the
reports call for; the state is never written otherwise."""
import datetime as dt
from collections import defaultdict

from sql import Conflict, Literal, Null, Union
from sql.aggregate import Count, Max, Min
from sql.conditionals import Case as SqlCase
from sql.operators import Exists

from trytond import backend
from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .authorless import AuthorlessRows
from .cache import invalidate
from .clock import now as utcnow
from .exceptions import CaseError
from .filing import Filing
from .readonly import ServerReadonly
from .states import OPEN_STATES, SEVERITIES, TRUTHFULNESS

# What Case.update recomputes, and which of those changes the reports'
# history records (Case.on_modification).  The state follows through the
# workflow's transitions.
UPDATED_FIELDS = {'report_count', 'reporter_count', 'target_count',
    'open_count', 'kind', 'target_label', 'category', 'priority',
    'first_submitted_at', 'subject_tokens'}
LOGGED_FIELDS = {'kind'}
# What the reports deleted under the retention policy leave to their case
# (retention.py): counted in its reports and reporters.
PURGED_FIELDS = {'purged_count', 'purged_reporter_count'}
SERIALIZATION_FAILURE = '40001'  # SQLSTATE

OUTCOMES = [
    (None, ""),
    ('upheld', "Upheld"),
    ('not_upheld', "Not upheld"),
    ('duplicate', "Duplicate"),
    ('insufficient_evidence', "Insufficient evidence"),
    ]


def system():
    "Case bookkeeping is done by the system, never as the reporter"
    return Transaction().set_user(0)


def as_stored(value):
    "A value as compared with what the database returns"
    if isinstance(value, str) and value[:4].isdigit() and ' ' in value:
        try:  # SQLite hands timestamps back as text
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, float):
        return round(value, 6)
    return value


class FiledMeanwhile(TransactionError):
    """A filing about the same record committed after this transaction
    read its snapshot: trytond starts the request again"""


def lock_target(target):
    """Serialise the filings about one record until the transaction ends,
    so that concurrent filings join one case.

    On PostgreSQL each filing counts itself in the record's row of
    tipline.case.record, and holds that row until it commits: the next
    filing about the record waits there.  trytond's REPEATABLE READ
    transaction took its snapshot before it waited, and would not see the
    case the previous filing opened; but its count then fails to serialize,
    and the request starts again (FiledMeanwhile: like trytond's own lock
    errors, not one of its few retries) with a snapshot that sees the case.
    (An advisory lock alone let eight filings at once open eight cases.)
    Filing counts itself before its work, so a start again costs little.
    SQLite has one writer at a time."""
    if backend.name != 'postgresql':
        return
    CaseRecord = Pool().get('tipline.case.record')
    try:
        CaseRecord.count_filing(target)
    except backend.DatabaseOperationalError as error:
        if getattr(error, 'sqlstate', None) != SERIALIZATION_FAILURE:
            raise
        raise FiledMeanwhile() from error


class CaseRecord(ModelSQL):
    """The filings about one record, counted: every filing about it writes
    this row, and the next one waits for it (see lock_target)"""
    __name__ = 'tipline.case.record'
    _table = 'tipline_case_record'

    target = fields.Char("Record", required=True, readonly=True)
    filings = fields.Integer("Filings", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('target_unique', Unique(t, t.target),
                'tipline.msg_case_record_unique'),
            ]

    @classmethod
    def count_filing(cls, target):
        """Count a filing about target; fails to serialize (trytond then
        retries) when a filing committed since this transaction's snapshot
        counted itself"""
        table = cls.__table__()
        Transaction().connection.cursor().execute(*table.insert(
                [table.target, table.filings], [[target, 1]],
                on_conflict=Conflict(table, indexed_columns=[table.target],
                    columns=[table.filings],
                    values=[table.filings + 1])))


class Case(ServerReadonly, AuthorlessRows, Workflow, ModelSQL, ModelView):
    "Reports about one matter: the same record, or the same text (campaign)"
    __name__ = 'tipline.case'
    # As for reports: the reports' own history records what happens to a
    # case, and the host's log would time a reporter's appeal, which
    # reopens the case, to the second.
    _log = False

    _resolvable = {
        'readonly': Eval('state') != 'open',
        }

    kind = fields.Selection([
            ('target', "Same Record"),
            ('campaign', "Campaign"),
            ], "Kind", readonly=True, required=True,
        help="Same Record: reports against one record. Campaign: the same "
        "text reported against several records.")
    kind_string = kind.translated('kind')
    target_label = fields.Char(
        "Reported Record", readonly=True,
        help="The record reported first in this case.")
    category = fields.Many2One(
        'tipline.category', "Category", readonly=True, ondelete='RESTRICT',
        context={'active_test': False})
    reports = fields.One2Many(
        'tipline.report', 'case', "Reports", readonly=True)
    report_count = fields.Integer("Reports", readonly=True)
    reporter_count = fields.Integer(
        "Distinct Reporters", readonly=True,
        help="Named reporters count once however often they reported; "
        "each anonymous report counts as one.")
    target_count = fields.Integer("Records", readonly=True)
    # A report deleted under the retention policy leaves the case: its
    # tombstone keeps no link to the reports that remain (retention.py),
    # only these counts, so that the case's figures stay what they were.
    purged_count = fields.Integer(
        "Deleted Reports", readonly=True,
        states={'invisible': ~Eval('purged_count')},
        help="Reports of this case deleted under the retention policy; "
        "they are still counted in its reports and reporters.")
    purged_reporter_count = fields.Integer(
        "Deleted Reporters", readonly=True)
    open_count = fields.Integer("Open Reports", readonly=True)
    first_submitted_at = fields.DateTime("First Report", readonly=True)
    priority = fields.Float(
        "Priority", readonly=True, digits=(3, 1),
        help="The highest priority of the open reports in the case, "
        "from 0 to 100.")
    priority_explanation = fields.Function(
        fields.Text("Why This Priority"), 'get_priority_explanation')
    state = fields.Selection([
            ('open', "Open"),
            ('resolved', "Resolved"),
            ('merged', "Merged"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    quarantined = fields.Boolean(
        "Quarantined", readonly=True,
        help="A burst of reports against one record from new or "
        "low-accuracy reporters: possible report bombing. A moderator "
        "checks the case and releases it.")
    quarantined_at = fields.DateTime("Quarantined At", readonly=True)
    released_at = fields.DateTime("Released At", readonly=True)
    merged_into = fields.Many2One(
        'tipline.case', "Merged Into", readonly=True, ondelete='SET NULL')
    outcome = fields.Selection(
        OUTCOMES, "Outcome", sort=False, states=_resolvable,
        help="Given to every open report of the case when it is resolved.")
    reporter_message = fields.Text(
        "Message to the Reporters", states=_resolvable,
        help="Shown to every reporter in the case with the result.")
    truthfulness = fields.Selection(
        TRUTHFULNESS, "Truthfulness", sort=False, states=_resolvable,
        help="What verification found; given to every open report of the "
        "case when it is resolved.")
    severity_assessment = fields.Selection(
        SEVERITIES, "Severity", sort=False, states=_resolvable,
        help="How serious the moderators judge the abuse to be; given to "
        "every open report of the case when it is resolved.")
    resolved_at = fields.DateTime("Resolved At", readonly=True)
    subject_tokens = fields.Char(
        "Subject Tokens", readonly=True, loading='lazy')

    del _resolvable

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.priority, Index.Range(order='DESC')),
                    where=t.state == 'open'),
                })
        cls._order = [
            ('quarantined', 'DESC'),
            ('priority', 'DESC NULLS LAST'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            # resolve (a moderator) or settle (the last open report)
            ('open', 'resolved'),
            # reopen: a report of the case is open again
            ('resolved', 'open'),
            # mark_merged: the reports went to another case
            ('open', 'merged'),
            ('resolved', 'merged'),
            }
        cls._buttons.update({
                'resolve': {
                    'invisible': Eval('state') != 'open',
                    'readonly': ~Eval('outcome'),
                    'icon': 'tryton-ok',
                    'depends': ['state', 'outcome'],
                    },
                'release': {
                    'invisible': ~Eval('quarantined'),
                    'icon': 'tryton-unlock',
                    'depends': ['quarantined'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_kind(cls):
        return 'target'

    @classmethod
    def default_quarantined(cls):
        return False

    @classmethod
    def default_subject_tokens(cls):
        return ''

    def get_rec_name(self, name):
        return gettext('tipline.msg_case_rec_name',
            number=self.id, label=self.target_label or '')

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('target_label',) + tuple(clause[1:])]

    @classmethod
    def get_priority_explanation(cls, cases, name):
        "The explanation of the open report that sets the case's priority"
        pool = Pool()
        Report = pool.get('tipline.report')
        result = {}
        for case in cases:
            with without_check_access():
                top = Report.search([
                        ('case', '=', case.id),
                        ('state', 'in', OPEN_STATES),
                        ], order=[('priority', 'DESC NULLS LAST')], limit=1)
            result[case.id] = (Report.render_priority(top[0])
                if top else None)
        return result

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', Eval('quarantined', False) & 'danger'),
            ]

    # Bookkeeping -------------------------------------------------------------

    @classmethod
    def update(cls, cases, membership=True):
        """Recompute the counts, kind and priority of cases from their
        reports, in aggregate queries, and take the cases whose reports are
        all closed, or open again, through settle and reopen.  Without
        membership (no report joined or left, only their states or scores
        changed) only the open count and the priority are recomputed, in
        one query."""
        ids = list({c.id for c in cases})
        if not ids:
            return
        if membership:
            values_of, stored = cls._membership_figures(ids)
        else:
            values_of, stored = cls._open_figures(case_ids=ids)
        cls._store_figures(values_of, stored, membership)

    @classmethod
    def update_of_reports(cls, reports):
        """update(membership=False) of the cases of reports, whose states or
        outcomes changed: the cases found in the same query"""
        values_of, stored = cls._open_figures(
            report_ids=[r.id for r in reports])
        cls._store_figures(values_of, stored, membership=False)

    @classmethod
    def _open_figures(cls, case_ids=None, report_ids=None):
        """({case id: open count and priority, None for a case without
        reports}, {case id: those figures and the state as stored}) of the
        cases case_ids, or of the reports report_ids, in one query"""
        Report = Pool().get('tipline.report')
        report = Report.__table__()
        table = cls.__table__()
        if report_ids is not None:
            member = Report.__table__()
            where = table.id.in_(member.select(member.case,
                    where=member.id.in_(report_ids)))
        else:
            where = table.id.in_(case_ids)
        cursor = Transaction().connection.cursor()
        names = ['open_count', 'priority', 'state']
        stored_columns = [getattr(table, n) for n in names]
        # Only the open reports are joined, and only the columns of the
        # (case, state, priority) index: it answers from the entries of
        # the case's open states, without reading the reports, and the
        # work does not grow with the case's closed reports (a record's
        # case can hold tens of thousands: counting them all took 10 ms
        # at 27,000).  Whether the case has any report is one probe.
        any_report = Report.__table__()
        cursor.execute(*table.join(report, 'LEFT',
                condition=(report.case == table.id)
                & report.state.in_(OPEN_STATES)).select(
                table.id, *stored_columns,
                Exists(any_report.select(Literal(1),
                        where=any_report.case == table.id)),
                Count(report.case),
                Max(report.priority),
                where=where,
                group_by=[table.id] + stored_columns))
        stored, values_of = {}, {}
        for case_id, *values in cursor:
            (has_reports, open_, top) = values[len(names):]
            stored[case_id] = dict(zip(names, values))
            values_of[case_id] = {
                'open_count': open_ or 0,
                'priority': (round(top, 1) if top is not None else None),
                } if has_reports else None
        return values_of, stored

    @classmethod
    def _store_figures(cls, values_of, stored, membership):
        "Write the figures that changed; settle and reopen as they say"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        logged, quiet = [], {}
        to_settle, to_reopen = [], []
        for case_id, current in stored.items():
            values = values_of.get(case_id)
            if values is None and not membership:
                continue
            if values is None:
                # No report left in the case (deleted, or moved to another
                # case): the rest of the case stays as it was.
                purged = current['purged_count'] or 0
                values = {
                    'report_count': purged,
                    'reporter_count': current['purged_reporter_count'] or 0,
                    'open_count': 0,
                    'priority': None,
                    }
                if not purged:
                    values['target_count'] = 0
            elif current['state'] == 'open' and not values['open_count']:
                to_settle.append(case_id)
            elif current['state'] == 'resolved' and values['open_count']:
                to_reopen.append(case_id)
            changed = {k: v for k, v in values.items()
                if as_stored(current[k]) != as_stored(v)}
            if not changed:
                continue
            if changed.keys() & LOGGED_FIELDS:
                # A change the reports' history records: through the ORM.
                logged.extend(([cls(case_id)], changed))
            else:
                quiet[case_id] = changed
        follow = dict.fromkeys(to_settle, 'resolved')
        follow.update(dict.fromkeys(to_reopen, 'open'))
        # Figures that follow the reports: written as they are, in place.
        for case_id, changed in quiet.items():
            columns = [getattr(table, n) for n in changed]
            values = [cls._fields[n].sql_format(v)
                for n, v in changed.items()]
            if case_id in follow:
                # Settled or open again with its figures, in the same
                # UPDATE: the state read above (open, resolved) is one
                # that _transitions moves from, as settle and reopen check.
                columns.append(table.state)
                values.append(follow.pop(case_id))
            cursor.execute(*table.update(
                    columns, values, where=table.id == case_id))
        if quiet:
            invalidate(cls, list(quiet))
        to_settle = [c for c, s in follow.items() if s == 'resolved']
        to_reopen = [c for c, s in follow.items() if s == 'open']
        if to_settle:
            cls.settle(cls.browse(to_settle))
        if to_reopen:
            cls.reopen(cls.browse(to_reopen))
        if logged:
            with without_check_access():
                cls.write(*logged)

    @classmethod
    def _membership_figures(cls, ids):
        """({case id: every figure Case.update keeps, None for a case
        without reports}, {case id: the figures as stored}) in three
        queries, none of which returns a row per report"""
        Report = Pool().get('tipline.report')
        report = Report.__table__()
        is_open = report.state.in_(OPEN_STATES)
        cursor = Transaction().connection.cursor()
        cursor.execute(*report.select(
                report.case,
                Count(report.id),
                Count(report.reporter_token, distinct=True),
                # Counting ids, not summing literals, keeps PostgreSQL from
                # guessing the type of a parameter.
                Count(SqlCase((report.reporter_token == Null, report.id))),
                Count(report.target, distinct=True),
                Count(SqlCase((is_open, report.id))),
                Max(SqlCase((is_open, report.priority), else_=Null)),
                Min(report.submitted_at),
                Min(report.id),
                where=report.case.in_(ids),
                group_by=[report.case]))
        rows = {r[0]: r[1:] for r in cursor.fetchall()}
        # In one statement: the subject tokens, one row per distinct value
        # in a case (the reports of one record share theirs), then the first
        # report's label and category (the rows with an id).
        tokens, firsts = defaultdict(set), {}
        first_ids = [row[-1] for row in rows.values()]
        if first_ids:
            first = Report.__table__()
            none = Literal(None)
            cursor.execute(*Union(
                    report.select(report.case, report.subject_tokens,
                        none, none, none,
                        where=report.case.in_(ids),
                        group_by=[report.case, report.subject_tokens]),
                    first.select(first.case, none, first.id,
                        first.target_label, first.category,
                        where=first.id.in_(first_ids)),
                    all_=True))
            for case_id, subject_tokens, id_, label, category in cursor:
                if id_ is None:
                    tokens[case_id].update((subject_tokens or '').split())
                else:
                    firsts[id_] = (label, category)
        table = cls.__table__()
        stored = {}
        # With what the reports deleted under the retention policy left.
        names = sorted(UPDATED_FIELDS | {'state'} | PURGED_FIELDS)
        cursor.execute(*table.select(table.id,
                *[getattr(table, n) for n in names],
                where=table.id.in_(ids)))
        for case_id, *values in cursor:
            stored[case_id] = dict(zip(names, values))
        values_of = {}
        for case_id in ids:
            row = rows.get(case_id)
            if not row:
                values_of[case_id] = None
                continue
            (count, named, anonymous, targets, open_, top,
                first_at, first_id) = row
            label, category = firsts[first_id]
            purged = stored.get(case_id, {})
            values_of[case_id] = {
                'report_count': count + (purged.get('purged_count') or 0),
                'reporter_count': ((named or 0) + (anonymous or 0)
                    + (purged.get('purged_reporter_count') or 0)),
                'target_count': targets,
                'open_count': open_ or 0,
                'kind': 'campaign' if targets > 1 else 'target',
                'target_label': label,
                'category': category,
                'priority': (round(top, 1) if top is not None else None),
                'first_submitted_at': first_at,
                'subject_tokens': ' '.join(sorted(tokens[case_id])),
                }
        return values_of, stored

    @classmethod
    def on_modification(cls, mode, cases, field_names=None):
        pool = Pool()
        Event = pool.get('tipline.audit_event')
        super().on_modification(mode, cases, field_names=field_names)
        if mode != 'write' or not field_names:
            return
        # State follows the reports, whose own events record it.
        watched = {'quarantined', 'outcome', 'kind', 'merged_into',
            'truthfulness', 'severity_assessment'} & set(field_names)
        if not watched:
            return
        for case in cases:
            details = {'case': str(case.id)}
            for name in sorted(watched):
                value = getattr(case, name)
                if isinstance(value, bool):
                    value = '1' if value else '0'
                elif isinstance(value, ModelSQL):
                    value = str(value.id)
                details[name] = value or ''
            for report in case.reports:
                Event.append(report, 'case_change', details)

    # Moderation -------------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    def resolve(cls, cases):
        "Resolve every open report of cases with the case's outcome"
        pool = Pool()
        Report = pool.get('tipline.report')
        for case in cases:
            if not case.outcome:
                raise CaseError(gettext(
                        'tipline.msg_case_outcome_required',
                        case=case.rec_name))
            if not (case.reporter_message or '').strip():
                raise CaseError(gettext(
                        'tipline.msg_case_message_required',
                        case=case.rec_name))
            if case.outcome == 'upheld' and not (
                    case.truthfulness and case.severity_assessment):
                raise CaseError(gettext(
                        'tipline.msg_case_upheld_needs_verification',
                        case=case.rec_name))
            untriaged = [r for r in case.reports
                if r.state in {'submitted', 'acknowledged'}
                and not r.severity_assessment]
            if untriaged and not case.severity_assessment:
                raise CaseError(gettext(
                        'tipline.msg_case_severity_required',
                        case=case.rec_name))
        for case in cases:
            reports = [r for r in case.reports if r.state in OPEN_STATES]
            if not reports:
                continue
            values = {
                'outcome': case.outcome,
                'reporter_message': case.reporter_message,
                }
            for name in ('truthfulness', 'severity_assessment'):
                if getattr(case, name):
                    values[name] = getattr(case, name)
            Report.write(reports, values)
            Report.resolve_from_case(reports)
        if cases:
            cls.write(cases, {'resolved_at': utcnow()})
        cls.update(cases)

    @classmethod
    def settle(cls, cases):
        "The last open reports of cases were resolved one by one"
        cls._follow_reports(cases, 'resolved')

    @classmethod
    def reopen(cls, cases):
        "A report of cases is open again: an appeal, or a moderator's reopen"
        cls._follow_reports(cases, 'open')

    @classmethod
    def _follow_reports(cls, cases, state):
        """Move cases to state as Workflow.transition would, only from the
        states _transitions allows, but in one UPDATE: this bookkeeping
        follows every report's change, and nobody acts on the case (no
        write_uid, nothing for the reports' history)."""
        sources = sorted(
            f for f, t in cls._transitions if t == state and f != state)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(
                [c.id for c in cases], MAX_QUERY_PARAMS):
            cursor.execute(*table.update([table.state], [state],
                    where=table.id.in_(list(sub_ids))
                    & table.state.in_(sources)))
        invalidate(cls, [c.id for c in cases])

    @classmethod
    @Workflow.transition('merged')
    def mark_merged(cls, cases, into):
        "The reports of cases went to the case into"
        cls.write(cases, {'merged_into': into.id})

    @classmethod
    @ModelView.button
    def release(cls, cases):
        "A moderator checked a quarantined case: it rejoins the queue"
        cls.write([c for c in cases if c.quarantined], {
                'quarantined': False,
                'released_at': utcnow(),
                })

    @classmethod
    def quarantine(cls, cases):
        cls.write([c for c in cases if not c.quarantined], {
                'quarantined': True,
                'quarantined_at': utcnow(),
                })

    @classmethod
    def merge(cls, cases, into):
        "Move the reports of cases, into excepted, into the case into"
        pool = Pool()
        Report = pool.get('tipline.report')
        Event = pool.get('tipline.audit_event')
        others = [c for c in cases if c.id != into.id]
        if not others:
            raise CaseError(gettext('tipline.msg_case_merge_two'))
        for case in others + [into]:
            if case.state == 'merged':
                raise CaseError(gettext(
                        'tipline.msg_case_already_merged',
                        case=case.rec_name))
        moved = [r for c in others for r in c.reports]
        with without_check_access():
            Report.write(moved, {'case': into.id})
            cls.mark_merged(others, into)
            for report in moved:
                Event.append(report, 'case_merge', {
                        'case': str(into.id)})
        cls.update(others + [into])
        Report.rescore_reports(into.reports)
        cls.update([into])
        return into

    @classmethod
    def split(cls, reports):
        "Move reports out of their cases into a new case of their own"
        pool = Pool()
        Report = pool.get('tipline.report')
        Event = pool.get('tipline.audit_event')
        if not reports:
            raise CaseError(gettext('tipline.msg_case_split_nothing'))
        old = {r.case for r in reports if r.case}
        for case in old:
            if len([r for r in reports if r.case == case]) == len(
                    case.reports) and len(old) == 1:
                raise CaseError(gettext(
                        'tipline.msg_case_split_all', case=case.rec_name))
        with without_check_access():
            new, = cls.create([{'state': 'open'}])
            Report.write(list(reports), {'case': new.id})
            for report in reports:
                Event.append(report, 'case_split', {'case': str(new.id)})
            # A case whose every report moved is merged into the new one.
            emptied = [c for c in old if not cls(c.id).reports]
            if emptied:
                cls.mark_merged(cls.browse(emptied), new)
        cls.update(list(old) + [new])
        affected = [r for c in list(old) + [new] for r in c.reports]
        Report.rescore_reports(affected)
        cls.update(list(old) + [new])
        return new


class CaseMixin:
    "tipline.report's case: the case it joins, and how"
    __slots__ = ()

    # Moderation facts, read by staff only (field access in case.xml):
    # loaded lazily, so reading a report's other fields never asks for them.
    case = fields.Many2One(
        'tipline.case', "Case", readonly=True, ondelete='SET NULL',
        loading='lazy')
    repeat_report = fields.Boolean(
        "Repeat Report", readonly=True, loading='lazy',
        help="The same reporter had already reported this record in this "
        "case: the report is counted once.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                # The case's open count and priority (Case._open_figures),
                # from the index alone, however many reports the case has
                # (docs/indexes.md); it also serves every query on case.
                Index(t, (t.case, Index.Equality()),
                    (t.state, Index.Equality(cardinality='low')),
                    (t.priority, Index.Range())),
                # A filing looks for the open case of its record: the
                # record's reports with their case, from the index alone
                # (docs/indexes.md).
                Index(t, (t.target, Index.Equality()),
                    (t.case, Index.Equality())),
                })

    @classmethod
    def default_repeat_report(cls):
        return False

    # Filing's steps (filing.py) ------------------------------------------

    @classmethod
    def lock_record(cls, filing):
        "Filings about filing's record go one at a time from here on"
        lock_target(str(filing.target))

    @classmethod
    def choose_case(cls, filing):
        """The open case of the same record, else of a near-identical text
        (a campaign), else none (filing opens one); and whether the named
        reporter already reported this record in it.  Filings about one
        record come here one at a time (lock_record), so that they join one
        case."""
        pool = Pool()
        Case = pool.get('tipline.case')
        Signature = pool.get('tipline.report.signature')
        Configuration = pool.get('tipline.configuration')
        target = str(filing.target)
        report = cls.__table__()
        case_table = Case.__table__()
        open_cases = case_table.select(
            case_table.id, where=case_table.state == 'open')
        cursor = Transaction().connection.cursor()
        cursor.execute(*report.select(report.case,
                where=(report.target == target)
                & report.case.in_(open_cases),
                order_by=[report.case.asc], limit=1))
        same_record = cursor.fetchone()
        if same_record:
            filing.case = Case(same_record[0])
            filing.how = 'record'
        else:
            similar = Signature.similar(filing.signatures,
                Configuration.current().get_dedup_threshold(),
                where=lambda r: r.case.in_(open_cases))
            if similar:
                match = cls(similar[0][0])
                filing.case, filing.how = match.case, 'text'
                filing.similarity = similar[0][1]
        # A named reporter counts once in a case, an anonymous report once
        # each; the same reporter on the same record is a repeat.
        filing.reporters = 1
        if filing.case:
            earlier = []
            if filing.reporter_token:
                cursor.execute(*report.select(report.target,
                        where=(report.case == filing.case.id)
                        & (report.reporter_token == filing.reporter_token)))
                earlier = [t for t, in cursor]
            filing.repeat = target in earlier
            filing.reporters = (filing.case.reporter_count or 0) + (
                0 if earlier else 1)
            filing.reports = filing.case.report_count or 0

    @staticmethod
    def case_join_details(filing, case_id):
        "The details of the history's case_join event: how filing found it"
        details = {'case': str(case_id), 'how': filing.how}
        if filing.similarity is not None:
            details['similarity'] = '%.2f' % filing.similarity
        if filing.repeat:
            details['repeat'] = '1'
        return details

    @classmethod
    def index_unfiled(cls, limit=500):
        """Cron: put open reports filed before cases existed in their case,
        oldest first, limit at a time"""
        with system(), without_check_access():
            reports = cls.search([
                    ('case', '=', None),
                    ('state', 'in', OPEN_STATES),
                    ], order=[('submitted_at', 'ASC'), ('id', 'ASC')],
                limit=limit)
            for report in reports:
                cls.join_case(report)
        return reports

    @classmethod
    def join_case(cls, report):
        """Give a stored report without a case its signature and its case
        through filing's own steps, from its stored text"""
        pool = Pool()
        Case = pool.get('tipline.case')
        Signature = pool.get('tipline.report.signature')
        Event = pool.get('tipline.audit_event')
        filing = Filing(report.target, report.category,
            report.description or '', report.anonymous, [],
            now=report.submitted_at, reporter_token=report.reporter_token)
        Signature.sign_filing(filing)
        cls.choose_case(filing)
        if filing.case is None:
            filing.case, = Case.create([{'state': 'open'}])
        Signature.store(report, filing.signature)
        cls.write([report], {
                'case': filing.case.id,
                'repeat_report': filing.repeat,
                'personal_data_signals': cls.count_personal_data(
                    filing.description),
                })
        Event.append(report, 'case_join',
            cls.case_join_details(filing, filing.case.id), actor='')
        Case.update([filing.case])
        cls.rescore_reports(Case(filing.case.id).reports)
        Case.update([filing.case])
        cls.check_burst(cls(report.id))
        return filing.case

    @classmethod
    def resolve_from_case(cls, reports):
        """Resolve reports, which carry their outcome and message, through
        the workflow's own buttons: those not yet triaged are acknowledged
        and triaged first (their severity checked, their time recorded,
        someone assigned), so a case takes no shortcut a moderator could not"""
        ids = [r.id for r in reports]
        submitted = [r for r in cls.browse(ids) if r.state == 'submitted']
        if submitted:
            cls.acknowledge(submitted)
        acknowledged = [r for r in cls.browse(ids)
            if r.state == 'acknowledged']
        if acknowledged:
            cls.triage(acknowledged)
        cls.resolve(cls.browse(ids))

    @classmethod
    def on_write(cls, reports, values):
        pool = Pool()
        Case = pool.get('tipline.case')
        callbacks = super().on_write(reports, values)
        if not ({'state', 'outcome'} & values.keys()):
            return callbacks
        if 'outcome' not in values:
            # The state alone changes a case's figures (its open count, its
            # priority: the highest of its open reports) only when a report
            # moves between open and closed: Triage and Investigate read
            # nothing more.  The states before the write, which the
            # workflow's transition read.
            now_open = values['state'] in OPEN_STATES
            reports = [r for r in reports
                if (r.state in OPEN_STATES) != now_open]
        if not reports:
            return callbacks
        ids = [r.id for r in reports]

        def update():
            with without_check_access():
                # No report joined or left: the open count and the priority
                # are all that may change.
                Case.update_of_reports(Pool().get('tipline.report').browse(
                        ids))
        return callbacks + [update]


class CaseMergeStart(ModelView):
    "Merge Cases"
    __name__ = 'tipline.case.merge.start'

    into = fields.Selection('get_cases', "Merge Into", required=True,
        help="The case that receives the reports of the others.")
    summary = fields.Text("Cases", readonly=True)

    @classmethod
    def get_cases(cls):
        pool = Pool()
        Case = pool.get('tipline.case')
        context = Transaction().context
        if context.get('active_model') != 'tipline.case':
            return []
        ids = context.get('active_ids') or []
        return [(str(c.id), c.rec_name) for c in Case.browse(ids)]


class CaseMerge(Wizard):
    "Merge Cases"
    __name__ = 'tipline.case.merge'

    start = StateView('tipline.case.merge.start',
        'tipline.case_merge_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Merge", 'merge', 'tryton-ok', default=True),
            ])
    merge = StateTransition()

    def default_start(self, fields):
        cases = sorted(self.records, key=lambda c: c.id)
        if len(cases) < 2:
            raise CaseError(gettext('tipline.msg_case_merge_two'))
        return {
            'into': str(cases[0].id),
            'summary': '\n'.join(gettext('tipline.msg_case_summary_line',
                        case=c.rec_name, reports=c.report_count or 0,
                        reporters=c.reporter_count or 0)
                for c in cases),
            }

    def transition_merge(self):
        pool = Pool()
        Case = pool.get('tipline.case')
        into = Case(int(self.start.into))
        if into not in self.records:
            raise CaseError(gettext('tipline.msg_case_merge_two'))
        Case.merge(list(self.records), into)
        return 'end'


class CaseSplit(Wizard):
    "Split Reports into a New Case"
    __name__ = 'tipline.case.split'

    start = StateTransition()

    def transition_start(self):
        pool = Pool()
        Case = pool.get('tipline.case')
        Case.split(list(self.records))
        return 'end'

