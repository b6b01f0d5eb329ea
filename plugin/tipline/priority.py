"""Priority: a score from 0 to 100 on every open report, that explains itself.

The score is computed natively by tipline_core from six factors: category
severity, distinct reporters in the case, the reporter's accuracy (from the
reporter token's upheld and not-upheld reports), earlier upheld reports
against the same record, personal-data signals in a data-leak report, and
how much of the time to resolve is used.  The inputs of the last scoring are
stored with the score, so the breakdown a moderator reads adds up to the
stored priority.  Reports are rescored when they join a case, when a report
is decided (which changes accuracy and record history: the other open reports
of its reporter and record by trytond-worker, else by the cron job), when the
weights change, and by a cron job that rescores every open report in one
columnar call."""
import datetime as dt
import json
import logging
import math
from array import array

from sql import Null, Values
from sql.aggregate import Count
from sql.conditionals import Case as SqlCase

from trytond import config
from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

import tipline_core

from .cache import invalidate
from .clock import now as utcnow
from .exceptions import PriorityWeightError
from .access import in_groups
from .states import OPEN_STATES

logger = logging.getLogger(__name__)

FACTORS = [
    'severity', 'reporters', 'reporter_accuracy', 'target_history',
    'personal_data', 'sla_urgency']
INPUTS = [
    'severity', 'reporters', 'upheld', 'rejected', 'target_upheld',
    'pii_signals', 'sla_used']
PERSONAL_DATA_CATEGORY = 'data_leak'
# Reports rescored in one transaction: at 1,000,000 reports a chunk of 1,000
# took up to 2.1 s, 500 stays well under the 2 s bound (docs/scale-out.md).
RESCORE_CHUNK = 500
DEFAULT_WEIGHTS = tipline_core.ScoreWeights().as_dict()


def is_staff():
    "Whether the current user may read moderation facts (or is the system)"
    return in_groups('group_tipline_moderator', 'group_tipline_custodian')


class PriorityConfigurationMixin:
    "The priority's weights"
    __slots__ = ()

    weight_severity = fields.Float(
        "Category Severity", required=True,
        help="Points for the most severe category (0 to 100).")
    weight_reporters = fields.Float(
        "Distinct Reporters", required=True,
        help="Points when many different people report the same matter "
        "(0 to 100).")
    weight_reporter_accuracy = fields.Float(
        "Reporter Accuracy", required=True,
        help="Points for reporters whose reports were upheld before; "
        "reporters who are mostly not upheld lose as much (0 to 100).")
    weight_target_history = fields.Float(
        "Record History", required=True,
        help="Points for earlier upheld reports against the same record "
        "(0 to 100).")
    weight_personal_data = fields.Float(
        "Personal Data", required=True,
        help="Points for personal data found in a data-leak report "
        "(0 to 100).")
    weight_sla_urgency = fields.Float(
        "Deadline Urgency", required=True,
        help="Points when the time to resolve is used up (0 to 100).")

    @classmethod
    def default_weight_severity(cls):
        return DEFAULT_WEIGHTS['severity']

    @classmethod
    def default_weight_reporters(cls):
        return DEFAULT_WEIGHTS['reporters']

    @classmethod
    def default_weight_reporter_accuracy(cls):
        return DEFAULT_WEIGHTS['reporter_accuracy']

    @classmethod
    def default_weight_target_history(cls):
        return DEFAULT_WEIGHTS['target_history']

    @classmethod
    def default_weight_personal_data(cls):
        return DEFAULT_WEIGHTS['personal_data']

    @classmethod
    def default_weight_sla_urgency(cls):
        return DEFAULT_WEIGHTS['sla_urgency']

    def get_score_weights(self):
        weights = dict(DEFAULT_WEIGHTS)
        for factor in FACTORS:
            weights[factor] = float(self._value('weight_' + factor))
        return tipline_core.ScoreWeights(**weights)

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        for configuration in configurations:
            configuration.check_priority_settings()

    def check_priority_settings(self):
        for factor in FACTORS:
            name = 'weight_' + factor
            value = self._value(name)
            if not (0 <= value <= 100 and math.isfinite(value)):
                raise PriorityWeightError(gettext(
                        'tipline.msg_priority_weight_range',
                        weight=self.__class__._fields[name].string))

    @classmethod
    def on_modification(cls, mode, configurations, field_names=None):
        pool = Pool()
        Report = pool.get('tipline.report')
        super().on_modification(mode, configurations, field_names=field_names)
        # The singleton's first write is a create.
        if mode == 'create' or (mode == 'write' and any(
                    f.startswith('weight_') for f in field_names or [])):
            # The transaction's records still hold the old weights (the
            # singleton reads them through records of its own): forget all.
            for cache in Transaction().cache.values():
                cache.clear()
            Report.rescore_open()


class PriorityCategoryMixin:
    "A category's weight in the priority"
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, categories, field_names=None):
        pool = Pool()
        Report = pool.get('tipline.report')
        super().on_modification(mode, categories, field_names=field_names)
        if mode == 'write' and field_names and (
                'severity_weight' in field_names):
            with without_check_access():
                Report.rescore_reports(Report.search([
                            ('category', 'in', [c.id for c in categories]),
                            ('state', 'in', OPEN_STATES),
                            ]))


class PriorityMixin:
    "tipline.report's priority: the explained score and its rescoring"
    __slots__ = ()

    # Moderation facts, read by staff only (field access in case.xml):
    # loaded lazily, so reading a report's other fields never asks for them.
    priority = fields.Float(
        "Priority", readonly=True, digits=(3, 1), loading='lazy',
        help="From 0 to 100: how urgently the report needs a moderator.")
    priority_inputs = fields.Char(
        "Priority Inputs", readonly=True, loading='lazy',
        help="The factors of the last scoring, so that the breakdown adds "
        "up to the stored priority.")
    # The form shows the score as text: sao's float widget, seeing more
    # decimals stored than it displays, would write the field back when a
    # button is clicked and redraw the form under the moderator's choices.
    priority_text = fields.Function(
        fields.Char("Priority", loading='lazy',
            help="From 0 to 100: how urgently the report needs a moderator."),
        'get_priority_text')
    priority_explanation = fields.Function(
        fields.Text("Why This Priority"), 'get_priority_explanation')
    personal_data_signals = fields.Integer(
        "Personal Data Signals", readonly=True, loading='lazy',
        help="How many e-mail addresses, phone numbers, ID numbers and "
        "card numbers the description holds (only the count is kept).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t,
                    (t.reporter_token, Index.Equality()),
                    (t.outcome, Index.Equality(cardinality='low')),
                    where=t.outcome.in_(['upheld', 'not_upheld'])),
                Index(t,
                    (t.target, Index.Equality()),
                    where=t.outcome == 'upheld'),
                Index(t, (t.priority, Index.Range(order='DESC')),
                    where=t.state.in_(OPEN_STATES)),
                })

    @classmethod
    def default_personal_data_signals(cls):
        return 0

    @classmethod
    def count_personal_data(cls, text):
        """How many e-mail addresses, phone numbers, ID numbers and card
        numbers text holds: a priority input, the only trace of them kept"""
        return sum(tipline_core.personal_data_signals(text or '').values())

    def get_priority_text(self, name):
        if self.priority is None:
            return None
        return '%.1f' % self.priority

    @classmethod
    def get_priority_explanation(cls, reports, name):
        # The breakdown speaks of other reports (the record's history, the
        # case's reporters): staff only, even through RPC.
        if not is_staff():
            return {r.id: None for r in reports}
        return {r.id: cls.render_priority(r) for r in reports}

    @classmethod
    def priority_breakdown(cls, report):
        "(score, [(factor, contribution)]) of report's last scoring"
        Configuration = Pool().get('tipline.configuration')
        if not report.priority_inputs:
            return None
        inputs = json.loads(report.priority_inputs)
        return tipline_core.explain(
            *(inputs[k] for k in INPUTS),
            Configuration.current().get_score_weights())

    @classmethod
    def render_priority(cls, report):
        "The breakdown as lines a moderator reads"
        breakdown = cls.priority_breakdown(report)
        if breakdown is None:
            return None
        score, contributions = breakdown
        lines = [gettext('tipline.msg_priority_line',
                factor=gettext('tipline.msg_priority_factor_' + factor),
                points='%+.1f' % points)
            for factor, points in contributions]
        lines.append(gettext('tipline.msg_priority_total',
                points='%.1f' % score))
        return '\n'.join(lines)

    # Inputs ------------------------------------------------------------------

    @classmethod
    def reporter_history(cls, tokens=None):
        """{reporter token: (upheld, not upheld)}, an aggregate grouped by
        token over the partial index on decided reports"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        decided = table.outcome.in_(['upheld', 'not_upheld'])
        result = {}
        for chunk in _chunks(tokens):
            where = decided & (table.reporter_token != Null)
            if chunk is not None:
                where &= table.reporter_token.in_(chunk)
            cursor.execute(*table.select(
                    table.reporter_token,
                    Count(SqlCase((table.outcome == 'upheld', table.id))),
                    Count(SqlCase((table.outcome == 'not_upheld', table.id))),
                    where=where, group_by=[table.reporter_token]))
            for token, upheld, not_upheld in cursor:
                result[token] = (int(upheld or 0), int(not_upheld or 0))
        return result

    @classmethod
    def target_history(cls, targets=None):
        "{target: upheld reports against it}"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for chunk in _chunks(targets):
            where = table.outcome == 'upheld'
            if chunk is not None:
                where &= table.target.in_(chunk)
            cursor.execute(*table.select(
                    table.target, Count(table.id),
                    where=where, group_by=[table.target]))
            for target, count in cursor:
                result[target] = int(count or 0)
        return result

    @classmethod
    def _open_rows(cls, ids=None):
        """Rows (id, severity weight, category code, reporters, token,
        target, pii, submitted_at, resolve_by) of the open reports"""
        pool = Pool()
        Category = pool.get('tipline.category')
        Case = pool.get('tipline.case')
        report = cls.__table__()
        category = Category.__table__()
        case = Case.__table__()
        where = report.state.in_(OPEN_STATES)
        query = report.join(category,
            condition=category.id == report.category
            ).join(case, 'LEFT', condition=case.id == report.case)
        columns = [report.id, category.severity_weight, category.code,
            case.reporter_count, report.reporter_token, report.target,
            report.personal_data_signals, report.submitted_at,
            report.resolve_by]
        cursor = Transaction().connection.cursor()
        if ids is None:
            cursor.execute(*query.select(*columns, where=where,
                    order_by=[report.id.asc]))
            return cursor.fetchall()
        rows = []
        for chunk in _chunks(ids):
            cursor.execute(*query.select(*columns,
                    where=where & report.id.in_(chunk),
                    order_by=[report.id.asc]))
            rows.extend(cursor.fetchall())
        return rows

    @classmethod
    def _columns(cls, rows, all_history=False):
        "The scoring columns of rows, one array per input"
        now = utcnow()
        tokens = None if all_history else {r[4] for r in rows}
        targets = None if all_history else {r[5] for r in rows}
        history = cls.reporter_history(tokens)
        record_history = cls.target_history(targets)
        columns = {k: array('d') for k in INPUTS}
        for (_, severity, code, reporters, token, target, pii, submitted,
                resolve_by) in rows:
            upheld, not_upheld = history.get(token, (0, 0)) if token else (
                0, 0)
            if isinstance(submitted, str):
                submitted = _parse_datetime(submitted)
                resolve_by = _parse_datetime(resolve_by)
            window = ((resolve_by - submitted).total_seconds()
                if submitted and resolve_by else 0)
            used = ((now - submitted).total_seconds() / window
                if window > 0 else 0.0)
            columns['severity'].append((severity or 0) / 10.0)
            columns['reporters'].append(float(reporters or 1))
            columns['upheld'].append(float(upheld))
            columns['rejected'].append(float(not_upheld))
            columns['target_upheld'].append(
                float(record_history.get(target, 0)))
            columns['pii_signals'].append(
                float(pii or 0) if code == PERSONAL_DATA_CATEGORY else 0.0)
            columns['sla_used'].append(min(max(used, 0.0), 1.0))
        return columns

    @staticmethod
    def _inputs_text(columns, i):
        "The factors of row i, as stored in priority_inputs"
        return json.dumps({k: columns[k][i] for k in INPUTS}, sort_keys=True)

    @classmethod
    def _write_priorities(cls, priorities):
        """Write priorities, [(report id, score, inputs text)], in place:
        one UPDATE ... FROM (VALUES ...) for as many rows as the backend
        takes parameters, not one a report"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for chunk in grouped_slice(priorities, max(MAX_QUERY_PARAMS // 3, 1)):
            values = Values([[report_id, score, inputs]
                    for report_id, score, inputs in chunk])
            cursor.execute(*table.update(
                    [table.priority, table.priority_inputs],
                    [values.column2, values.column3], from_=[values],
                    where=table.id == values.column1))
        # The rows changed behind the ORM's back.
        invalidate(cls, [p[0] for p in priorities])

    @classmethod
    def _store_scores(cls, ids, scores, columns):
        "Write the scores and their inputs, in chunks, with progress"
        total = len(ids)
        for start in range(0, total, RESCORE_CHUNK):
            cls._write_priorities([
                    (ids[i], scores[i], cls._inputs_text(columns, i))
                    for i in range(start, min(start + RESCORE_CHUNK, total))])
            if total > RESCORE_CHUNK:
                logger.info("rescored %d/%d open reports",
                    min(start + RESCORE_CHUNK, total), total)

    @classmethod
    def rescore_reports(cls, reports):
        """Rescore the open reports among reports: explain() for one,
        score_batch() for many"""
        Configuration = Pool().get('tipline.configuration')
        rows = cls._open_rows([r.id for r in reports])
        if not rows:
            return
        weights = Configuration.current().get_score_weights()
        columns = cls._columns(rows)
        if len(rows) == 1:
            score, _ = tipline_core.explain(
                *(columns[k][0] for k in INPUTS), weights)
            scores = [score]
        else:
            scores = tipline_core.score_batch(
                *(columns[k] for k in INPUTS), weights)
        cls._store_scores([r[0] for r in rows], scores, columns)

    @classmethod
    def score_filing(cls, filing):
        """The priority of the report being filed, from the same inputs the
        rescoring reads, computed before its row is written"""
        Configuration = Pool().get('tipline.configuration')
        category = filing.category
        hours = category.hours_to_resolve
        row = (None, category.severity_weight, category.code,
            filing.reporters, filing.reporter_token, str(filing.target),
            filing.signals, filing.now,
            filing.now + dt.timedelta(hours=hours) if hours else None)
        columns = cls._columns([row])
        filing.priority, _ = tipline_core.explain(
            *(columns[k][0] for k in INPUTS),
            Configuration.current().get_score_weights())
        filing.priority_inputs = cls._inputs_text(columns, 0)

    @classmethod
    def rescore_later(cls, cases):
        """Rescore the open reports of cases outside the request: at once
        by trytond-worker where one runs ([queue] worker), else by the
        rescoring cron job"""
        if not cases or not config.getboolean(
                'queue', 'worker', default=False):
            return
        with without_check_access():
            reports = cls.search([
                    ('case', 'in', [c.id for c in cases]),
                    ('state', 'in', OPEN_STATES),
                    ])
        if reports:
            cls.__queue__.rescore_reports(reports)

    @classmethod
    def rescore_open(cls):
        """The cron job: every open report rescored in one columnar call.
        Up to RESCORE_CHUNK reports are written at once; more are written by
        queued tasks of RESCORE_CHUNK reports, each in a transaction of its
        own, so that no transaction holds every open report."""
        Configuration = Pool().get('tipline.configuration')
        rows = cls._open_rows()
        if not rows:
            return 0
        columns = cls._columns(rows, all_history=True)
        scores = tipline_core.score_batch(
            *(columns[k] for k in INPUTS),
            Configuration.current().get_score_weights())
        ids = [r[0] for r in rows]
        if len(ids) <= RESCORE_CHUNK:
            cls._store_scores(ids, scores, columns)
            cls._refresh_open_cases(ids)
            return len(ids)
        chunks = range(0, len(ids), RESCORE_CHUNK)
        for number, start in enumerate(chunks, 1):
            end = start + RESCORE_CHUNK
            priorities = {
                str(ids[i]): [scores[i], cls._inputs_text(columns, i)]
                for i in range(start, min(end, len(ids)))}
            cls.__queue__.store_priorities(
                cls.browse(ids[start:end]), priorities)
            logger.info("rescoring: queued part %d/%d (%d open reports)",
                number, len(chunks), len(ids))
        return len(ids)

    @classmethod
    def store_priorities(cls, reports, priorities):
        """Queue task of rescore_open: write priorities, {report id: [score,
        inputs]}, and refresh the cases of reports"""
        open_ids = {r.id for r in reports if r.state in OPEN_STATES}
        cls._write_priorities([
                (int(report_id), score, inputs)
                for report_id, (score, inputs) in priorities.items()
                if int(report_id) in open_ids])
        cls._refresh_open_cases(list(open_ids))
        logger.info("rescoring: %d reports written", len(open_ids))

    @classmethod
    def _refresh_open_cases(cls, ids):
        """The open count and priority of the open cases of reports ids,
        after their scores changed: not their membership, as recounting
        every report of a record's case (27,000 at 1,000,000 reports) took
        most of a rescoring chunk's 1.5 s (docs/scale-out.md)"""
        Case = Pool().get('tipline.case')
        with without_check_access():
            Case.update(Case.search([
                        ('reports', 'in', ids),
                        ('state', '=', 'open'),
                        ]), membership=False)

    @classmethod
    def on_modification(cls, mode, reports, field_names=None):
        super().on_modification(mode, reports, field_names=field_names)
        if mode != 'write' or not field_names:
            return
        # No input of the score depends on the state (the cron keeps the
        # time used current): a button that only moves the state rescores
        # nothing.  A decision changes the reporter's accuracy and the
        # record's history: rescore the open reports they weigh on.
        if not ({'outcome', 'category'} & set(field_names)):
            return
        with without_check_access():
            # The decided reports themselves, if still open (_open_rows).
            cls.rescore_reports(reports)
            if not config.getboolean('queue', 'worker', default=False):
                # The other open reports of the reporter and the record are
                # left to the rescoring cron job, as a filing leaves its
                # case's (rescore_later): rewriting them in the request
                # made a moderator's button conflict with concurrent
                # filings and buttons, and answer 503 once trytond's
                # retries ran out.
                return
            tokens = {r.reporter_token for r in reports if r.reporter_token}
            targets = {str(r.target) for r in reports if r.target}
            if not (tokens or targets):
                return
            domain = []
            if tokens:
                domain.append(('reporter_token', 'in', list(tokens)))
            if targets:
                domain.append(('target', 'in', list(targets)))
            others = cls.search([
                    ('state', 'in', OPEN_STATES),
                    ('id', 'not in', [r.id for r in reports]),
                    ['OR'] + domain,
                    ])
            if others:
                # By trytond-worker, at once.
                cls.__queue__.rescore_reports(others)


def _chunks(values):
    """The distinct, non-empty values, sorted, in lists of RESCORE_CHUNK for
    IN clauses; [None] (no filter) when values is None"""
    if values is None:
        return [None]
    return [list(c) for c in grouped_slice(
            sorted({v for v in values if v}), RESCORE_CHUNK)]


def _parse_datetime(value):
    "SQLite hands raw rows' timestamps over as text"
    return dt.datetime.fromisoformat(value) if value else None
