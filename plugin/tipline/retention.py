"""Retention: how long a closed report is kept, and how it is deleted.

Each jurisdiction profile has retention rules ("3 years after closure",
"6 months after closure when not upheld"); a rule may name a category, which
then overrides the jurisdiction's general rules for it.  When a report is
closed its expiry is set from the first rule that applies; a rule may let
new activity (an appeal, a message) start the period again.  A legal hold,
placed with a reason by an administrator and recorded in the report's
history, stops the expiry until it is released.

One cron job (``Report.apply_retention``) does the rest, in order:

1. sets the expiry of closed reports whose rules changed;
2. reminds the administrators by mail, through the mail queue, the
   configured number of days before a report expires;
3. purges the reports that have expired, were reminded long enough ago and
   are not held: it destroys the report's data key, empties every encrypted
   column of the report and deletes the rows that only hold its content or
   what was computed from it (evidence and file copies, messages, the
   near-duplicate signature and bands, queued mail); what remains is a
   tombstone (tracking number, category, state, dates, outcome; the case
   it was part of keeps it as a count, not as a link) so that past reviews
   and statistics do not change, and a
   ``purged`` event at the end of its hash chain; on SQLite the freed pages
   are then reclaimed (sqlite.reclaim).
"""
import datetime as dt
import hashlib
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from sql import Column, Null, Table
from sql.aggregate import Count, Max
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import sqlite
from .access import in_groups
from .audit import digest
from .authorless import AuthorlessRows
from .cache import invalidate
from .clock import now as utcnow
from .encrypted import encrypted_columns
from .exceptions import RetentionError
from .readonly import ServerReadonly

PERIOD_UNITS = [
    ('day', "Days"),
    ('month', "Months"),
    ('year', "Years"),
    ]
OUTCOME_CONDITIONS = [
    ('any', "Any Outcome"),
    ('upheld', "Upheld"),
    ('not_upheld', "Not Upheld"),
    ]
# Rows that hold nothing but a report's content, or what was computed from
# it, in the order they are deleted (files before the messages they came
# with).  Any other model with a column Encrypted under the report's key is
# deleted too, after these.
CONTENT_MODELS = ['tipline.evidence', 'tipline.message',
    'tipline.report.signature', 'tipline.report.band', 'tipline.mail_queue']
# Columns of the report that the tombstone does not keep besides its
# encrypted ones: the reported record, the moderators' free text, what was
# computed from the description, and the hold's reason.
PURGED_REPORT_COLUMNS = {
    'target': None, 'target_label': None, 'reporter_message': None,
    'priority_inputs': None, 'personal_data_signals': None,
    'legal_hold_reason': None, 'subject_tokens': '',
    }
PURGE_BATCH = 100
DEFAULT_REMINDER_DAYS = 30
DEFAULT_RECEIPT_ACCESS_DAYS = 180


class RetentionConfigurationMixin:
    "The reminder before expiry, and how long receipts open the status page"
    __slots__ = ()

    retention_reminder_days = fields.Integer(
        "Expiry Reminder (days)", required=True,
        domain=[('retention_reminder_days', '>=', 0)],
        help="How many days before a report's content is deleted the "
        "administrators are reminded by mail; no report is deleted sooner "
        "after its reminder.")
    receipt_access_days = fields.Integer(
        "Status Page Access (days)", required=True,
        domain=[('receipt_access_days', '>=', 0)],
        help="How long after closure an anonymous reporter's receipt still "
        "opens the status page; 0 for no end. Separate from retention.")

    @classmethod
    def default_retention_reminder_days(cls):
        return DEFAULT_REMINDER_DAYS

    @classmethod
    def default_receipt_access_days(cls):
        return DEFAULT_RECEIPT_ACCESS_DAYS

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        # The reports filed without a jurisdiction follow the configured
        # one: the cron job sets their expiries again.
        if mode == 'write' and 'default_jurisdiction' in (field_names or ()):
            forget_expiries()


class RetentionMixin:
    """tipline.report's retention: its expiry, a legal hold, and the
    tombstone the purge leaves"""
    __slots__ = ()

    expires_at = fields.DateTime(
        "Expires At", readonly=True,
        help="When the retention policy deletes the report's content; empty "
        "while it is open or when no rule applies.")
    retention_rule = fields.Many2One(
        'tipline.retention.rule', "Retention Rule", readonly=True,
        ondelete='SET NULL')
    retention_reminded_at = fields.DateTime(
        "Expiry Reminder Sent At", readonly=True)
    # Set when the rules changed under a closed report: the cron job
    # computes its expiry again, whether or not a rule then applies.
    expiry_pending = fields.Boolean("Expiry Pending", readonly=True)
    legal_hold = fields.Boolean(
        "Legal Hold", readonly=True,
        help="Kept past its expiry until the hold is released.")
    # Lazy: read by administrators only (field access), never with the rest.
    legal_hold_reason = fields.Text(
        "Legal Hold Reason", readonly=True, loading='lazy')
    purged_at = fields.DateTime(
        "Deleted At", readonly=True,
        help="When the report's content was deleted under the retention "
        "policy; only its record remains.")
    retention_status = fields.Function(
        fields.Char("Retention",
            states={'invisible': ~Eval('retention_status')}),
        'get_retention_status')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The cron job's search; pending reports are few.
        cls._sql_indexes.add(Index(t, (t.expiry_pending, Index.Equality()),
                where=t.expiry_pending == True))  # noqa: E712

    @classmethod
    def __register__(cls, module_name):
        table_h = cls.__table_handler__(module_name)
        migrate_pending = not table_h.column_exist('expiry_pending')
        super().__register__(module_name)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.legal_hold], [False], where=table.legal_hold == Null))
        if migrate_pending:
            # Before the flag, a closed report without expiry was pending.
            cursor.execute(*table.update(
                    [table.expiry_pending], [True],
                    where=(table.state == 'closed')
                    & (table.purged_at == Null) & (table.expires_at == Null)))
        cursor.execute(*table.update(
                [table.expiry_pending], [False],
                where=table.expiry_pending == Null))

    @classmethod
    def default_expiry_pending(cls):
        return False

    @classmethod
    def default_legal_hold(cls):
        return False

    @classmethod
    def view_attributes(cls):
        # No empty boxes where the content was (the record reported is
        # deleted with it).
        purged = {'invisible': Bool(Eval('purged_at'))}
        return super().view_attributes() + [
            ('//group[@id="content"]', 'states', purged, ['purged_at']),
            ('//group[@id="target"]', 'states', purged, ['purged_at']),
            ]

    def get_retention_status(self, name):
        "What the reporter reads once the content is gone"
        if not self.purged_at:
            return None
        return gettext('tipline.msg_report_purged_status',
            date=self.purged_at.strftime('%Y-%m-%d'))

    def receipt_access_ended(self):
        """Whether the receipt no longer opens the status page: the
        configured days after closure have passed"""
        Configuration = Pool().get('tipline.configuration')
        days = Configuration.current().receipt_access_days
        return bool(days and self.closed_at
            and utcnow() >= self.closed_at + dt.timedelta(days=days))

    @classmethod
    def set_retention_expiries(cls, reports):
        "Close's step: each report's expiry under the rule that governs it"
        set_expiries(cls.browse(reports))

    @classmethod
    def apply_retention(cls):
        "Cron: the expiries, the reminders and the purge that are due"
        return apply(cls)


class RetentionRule(ServerReadonly, AuthorlessRows, sequence_ordered(),
        ModelSQL, ModelView):
    "How long a jurisdiction keeps closed reports, for a category or all"
    __name__ = 'tipline.retention.rule'

    jurisdiction = fields.Many2One(
        'tipline.jurisdiction', "Jurisdiction", required=True,
        ondelete='CASCADE')
    category = fields.Many2One(
        'tipline.category', "Category", ondelete='CASCADE',
        context={'active_test': False},
        help="Only for reports of this category; a rule with a category "
        "comes before the jurisdiction's general rules.")
    outcome = fields.Selection(
        OUTCOME_CONDITIONS, "When", required=True, sort=False,
        help="The outcome a closed report must have for the rule to apply.")
    period = fields.Integer(
        "Keep For", required=True, domain=[('period', '>=', 0)],
        help="How long after closure the report is kept.")
    period_unit = fields.Selection(
        PERIOD_UNITS, "Unit", required=True, sort=False)
    restart_on_activity = fields.Boolean(
        "Activity Restarts",
        help="New activity on the closed report (a message, a file) starts "
        "the period again; an appeal always closes the report later.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(1, ('id', 'ASC'))

    @classmethod
    def default_outcome(cls):
        return 'any'

    @classmethod
    def default_period_unit(cls):
        return 'year'

    @classmethod
    def default_restart_on_activity(cls):
        return True

    def get_rec_name(self, name):
        "'3 years after closure', '6 months after closure when not upheld'"
        text = gettext('tipline.msg_retention_rule_%s%s' % (self.period_unit,
                '_one' if self.period == 1 else ''), period=self.period)
        if self.outcome != 'any':
            text = gettext('tipline.msg_retention_rule_%s' % self.outcome,
                rule=text)
        if self.category:
            text = '%s (%s)' % (text, self.category.rec_name)
        return text

    def applies_to(self, report):
        "Whether this rule governs the closed report"
        if self.category and self.category != report.category:
            return False
        if self.outcome == 'upheld':
            return report.outcome == 'upheld'
        if self.outcome == 'not_upheld':
            return report.outcome != 'upheld'
        return True

    def expiry(self, closed_at, last_activity=None):
        "When a report closed at closed_at expires under this rule"
        start = closed_at
        if self.restart_on_activity and last_activity:
            start = max(start, last_activity)
        delta = {
            'day': relativedelta(days=self.period),
            'month': relativedelta(months=self.period),
            'year': relativedelta(years=self.period),
            }[self.period_unit]
        return start + delta

    @classmethod
    def on_modification(cls, mode, rules, field_names=None):
        super().on_modification(mode, rules, field_names=field_names)
        # Every expiry may change: the cron job sets them again, and purges
        # nothing in between.
        forget_expiries()


def rule_for(report):
    """The rule that governs report: its category's rule in its
    jurisdiction (or the configured one), else the jurisdiction's general
    rule; None keeps the report"""
    pool = Pool()
    Configuration = pool.get('tipline.configuration')
    jurisdiction = (report.jurisdiction
        or Configuration.current().default_jurisdiction)
    if not jurisdiction:
        return None
    rules = sorted(jurisdiction.retention_rules,
        key=lambda r: (r.category is None, r.outcome == 'any',
            r.sequence is None, r.sequence or 0, r.id))
    for rule in rules:
        if rule.applies_to(report):
            return rule
    return None


def last_activities(report_ids):
    """{report id: time of its last activity}: an appeal, a message or a
    file, whichever came last"""
    pool = Pool()
    Report = pool.get('tipline.report')
    Message = pool.get('tipline.message')
    Evidence = pool.get('tipline.evidence')
    cursor = Transaction().connection.cursor()
    result = {}

    def later(report_id, when):
        if isinstance(when, str):  # SQLite may give text
            when = dt.datetime.fromisoformat(when)
        if when and (report_id not in result or when > result[report_id]):
            result[report_id] = when
    report = Report.__table__()
    for Model, column in ((Message, 'posted_at'), (Evidence, 'added_at')):
        table = Model.__table__()
        cursor.execute(*table.select(table.report,
                Max(Column(table, column)),
                where=table.report.in_(report_ids),
                group_by=[table.report]))
        for report_id, when in cursor:
            later(report_id, when)
    cursor.execute(*report.select(report.id, report.appealed_at,
            where=report.id.in_(report_ids) & (report.appealed_at != Null)))
    for report_id, when in cursor:
        later(report_id, when)
    return result


def set_expiries(reports):
    """Set the expiry of reports being or having been closed from the rule
    that governs each"""
    pool = Pool()
    Report = pool.get('tipline.report')
    reports = [r for r in reports if r.closed_at and not r.purged_at]
    if not reports:
        return
    table = Report.__table__()
    cursor = Transaction().connection.cursor()
    activities = last_activities([r.id for r in reports])
    for report in reports:
        rule = rule_for(report)
        expires = (rule.expiry(report.closed_at, activities.get(report.id))
            if rule and report.closed_at else None)
        # Behind the ORM: the expiry is bookkeeping, not an edit of the
        # report (no history event, no mail).
        cursor.execute(*table.update(
                [table.expires_at, table.retention_rule, table.expiry_pending],
                [expires, rule.id if rule else None, False],
                where=table.id == report.id))
    invalidate(Report, [r.id for r in reports])


def forget_expiries():
    "Mark every expiry to be set again by the cron job"
    pool = Pool()
    Report = pool.get('tipline.report')
    table = Report.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.update(
            [table.expires_at, table.retention_rule, table.expiry_pending],
            [Null, Null, True],
            where=(table.state == 'closed') & (table.purged_at == Null)))
    Transaction().counter += 1
    for cache in Transaction().cache.values():
        cache.pop(Report.__name__, None)


def postpone(reports):
    "New activity on closed reports: their expiry again from the rule"
    set_expiries([r for r in reports if r.state == 'closed'])


def apply(Report, limit=500):
    """Cron: set missing expiries, remind, purge what is due; returns the
    reports purged"""
    pool = Pool()
    Configuration = pool.get('tipline.configuration')
    config = Configuration.current()
    now = utcnow()
    with without_check_access():
        # Pending, not merely without expiry: the reports no rule governs
        # would otherwise be taken again at every run, ahead of the others.
        set_expiries(Report.search([
                    ('state', '=', 'closed'),
                    ('purged_at', '=', None),
                    ('expiry_pending', '=', True),
                    ], order=[('id', 'ASC')], limit=limit))
        remind(Report, now, config.retention_reminder_days)
        due = Report.search(due_domain(now, config.retention_reminder_days),
            order=[('expires_at', 'ASC'), ('id', 'ASC')], limit=limit)
        purge(due)
    return due


def due_domain(now, reminder_days):
    "The reports the purge takes now"
    domain = [
        ('state', '=', 'closed'),
        ('purged_at', '=', None),
        ('legal_hold', '=', False),
        ('expires_at', '<=', now),
        ]
    if reminder_days:
        # Never before the administrators had their days of notice, even
        # when a rule changed under them.
        domain.append(('retention_reminded_at', '<=',
                now - dt.timedelta(days=reminder_days)))
    return domain


def remind(Report, now, days):
    """Queue the expiry reminder to every Tipline administrator with an
    address, for each report that expires within days"""
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    Queue = pool.get('tipline.mail_queue')
    reports = Report.search([
            ('state', '=', 'closed'),
            ('purged_at', '=', None),
            ('legal_hold', '=', False),
            ('retention_reminded_at', '=', None),
            ('expires_at', '<=', now + dt.timedelta(days=days or 0)),
            ])
    if not reports:
        return []
    admins = User.search([
            ('groups', '=', ModelData.get_id(
                    'tipline', 'group_tipline_admin')),
            ])
    rows = [row for report in reports for admin in admins
        if (row := Report._mail_row(report, admin, 'retention'))]
    Queue.enqueue(rows)
    table = Report.__table__()
    Transaction().connection.cursor().execute(*table.update(
            [table.retention_reminded_at], [now],
            where=table.id.in_([r.id for r in reports])))
    invalidate(Report, [r.id for r in reports])
    return reports


def purge(reports):
    """Delete every byte of the reports' content and keep their tombstones;
    their data keys are destroyed first, so that nothing left anywhere
    (a copy, a backup, a page not yet reused) can be read"""
    pool = Pool()
    Report = pool.get('tipline.report')
    Event = pool.get('tipline.audit_event')
    reports = [r for r in reports if not r.purged_at and not r.legal_hold]
    if not reports:
        return
    transaction = Transaction()
    now = utcnow()
    for start in range(0, len(reports), PURGE_BATCH):
        batch = reports[start:start + PURGE_BATCH]
        ids = [r.id for r in batch]
        Report.lock(batch)
        figures = _content_figures(ids)
        _shred_reports(ids, now)
        _delete_content(ids)
        _leave_cases(ids)
        invalidate(Report, ids)
        for report in batch:
            Event.append(report, 'purged', {
                    'rule': str(report.retention_rule.id
                        if report.retention_rule else ''),
                    'expired': (report.expires_at.isoformat()
                        if report.expires_at else ''),
                    **figures.get(report.id, {}),
                    }, actor='')
    # Once committed: the freed pages and the write-ahead log.
    transaction.atexit(sqlite.reclaim, transaction.database.name)


def _content_figures(ids):
    """{report id: {what: count}} of what the purge deletes, and a digest
    of the wrapped key it destroys, for the history"""
    pool = Pool()
    Report = pool.get('tipline.report')
    cursor = Transaction().connection.cursor()
    figures = {i: {'messages': '0', 'files': '0', 'key_sha256': ''}
        for i in ids}
    for model, name in (('tipline.message', 'messages'),
            ('tipline.evidence', 'files')):
        table = pool.get(model).__table__()
        cursor.execute(*table.select(table.report, Count(table.id),
                where=table.report.in_(ids), group_by=[table.report]))
        for report_id, count in cursor:
            figures[report_id][name] = str(count)
    table = Report.__table__()
    cursor.execute(*table.select(table.id, table.data_key_enc,
            where=table.id.in_(ids) & (table.data_key_enc != Null)))
    for report_id, wrapped in cursor:
        figures[report_id]['key_sha256'] = hashlib.sha256(
            bytes(wrapped)).hexdigest()
    return figures


def _shred_reports(ids, now):
    "The data key and every encrypted column of the reports, emptied"
    pool = Pool()
    Report = pool.get('tipline.report')
    table = Report.__table__()
    columns = {c.column: None for c in encrypted_columns()
        if c.model == Report.__name__}
    columns.update({name: value for name, value in
            PURGED_REPORT_COLUMNS.items() if name in Report._fields})
    columns['purged_at'] = now
    Transaction().connection.cursor().execute(*table.update(
            [Column(table, name) for name in columns],
            list(columns.values()), where=table.id.in_(ids)))


def content_models():
    "The models whose rows of a report the purge deletes, in order"
    names = list(CONTENT_MODELS)
    for column in encrypted_columns():
        if (column.report and column.report != 'id'
                and column.model not in names):
            names.append(column.model)
    return names


def _delete_content(ids):
    "Delete the rows that hold the reports' content"
    pool = Pool()
    Access = pool.get('tipline.identity_access')
    cursor = Transaction().connection.cursor()
    for name in content_models():
        Model = pool.get(name)
        table = Model.__table__()
        cursor.execute(*table.select(table.id,
                where=table.report.in_(ids)))
        deleted = [i for i, in cursor]
        if deleted:
            cursor.execute(*table.delete(where=table.id.in_(deleted)))
            invalidate(Model, deleted)
    # Who revealed the identity and when stays; why (the custodian's own
    # words about the report) goes.
    access = Access.__table__()
    cursor.execute(*access.update([access.reason], [''],
            where=access.report.in_(ids)))


def _leave_cases(ids):
    """The reports leave their cases as counts: the tombstone keeps no link
    to the reports that remain, and the case keeps its figures (reports,
    distinct reporters).  The text of the cases left without any report
    (the label of the record, the message to the reporters) goes."""
    pool = Pool()
    Report = pool.get('tipline.report')
    Case = pool.get('tipline.case')
    report, case = Report.__table__(), Case.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*report.select(report.case, report.reporter_token,
            where=report.id.in_(ids) & (report.case != Null)))
    leaving = defaultdict(list)
    for case_id, token in cursor:
        leaving[case_id].append(token)
    if not leaving:
        return
    case_ids = sorted(leaving)
    # The named reporters who still have a report in the case count there.
    staying = defaultdict(set)
    cursor.execute(*report.select(report.case, report.reporter_token,
            where=report.case.in_(case_ids) & ~report.id.in_(ids)))
    for case_id, token in cursor:
        staying[case_id].add(token)
    cursor.execute(*report.update([report.case], [Null],
            where=report.id.in_(ids)))
    for case_id, tokens in leaving.items():
        # Each anonymous report is a reporter of its own (Case.update).
        reporters = (sum(1 for t in tokens if t is None)
            + len({t for t in tokens if t is not None} - staying[case_id]))
        cursor.execute(*case.update(
                [case.purged_count, case.purged_reporter_count],
                [Coalesce(case.purged_count, 0) + len(tokens),
                    Coalesce(case.purged_reporter_count, 0) + reporters],
                where=case.id == case_id))
    emptied = [c for c in case_ids if not staying[c]]
    if emptied:
        cursor.execute(*case.update(
                [case.target_label, case.reporter_message,
                    case.subject_tokens],
                [None, None, ''], where=case.id.in_(emptied)))
    invalidate(Case, case_ids)


def place_hold(reports, reason):
    "Hold reports past their expiry, for reason; recorded in their history"
    pool = Pool()
    Report = pool.get('tipline.report')
    Event = pool.get('tipline.audit_event')
    reason = (reason or '').strip()
    if not reason:
        raise RetentionError(gettext('tipline.msg_retention_hold_reason'))
    for report in reports:
        if report.purged_at:
            raise RetentionError(gettext('tipline.msg_retention_purged',
                    report=report.rec_name))
    _set_hold(Report, reports, True, reason)
    for report in reports:
        Event.append(report, 'legal_hold', {
                'sha256': digest(reason), 'length': str(len(reason))})


def release_hold(reports):
    """Release the holds of reports; a report past its expiry is reminded
    again before it is purged"""
    pool = Pool()
    Report = pool.get('tipline.report')
    Event = pool.get('tipline.audit_event')
    reports = [r for r in reports if r.legal_hold]
    _set_hold(Report, reports, False, None)
    for report in reports:
        Event.append(report, 'legal_hold_release', {})


def _set_hold(Report, reports, hold, reason):
    if not reports:
        return
    table = Report.__table__()
    Transaction().connection.cursor().execute(*table.update(
            [table.legal_hold, table.legal_hold_reason,
                table.retention_reminded_at],
            [hold, reason, Null], where=table.id.in_([r.id for r in reports])))
    invalidate(Report, [r.id for r in reports])


class ReportRetention(ModelSQL, ModelView):
    """What administrators see of a closed report: when it expires, under
    which rule, and whether it is held; never its content"""
    __name__ = 'tipline.report.retention'
    _rec_name = 'tracking_number'

    report = fields.Many2One('tipline.report', "Report", readonly=True)
    tracking_number = fields.Char("Tracking Number", readonly=True)
    category = fields.Many2One(
        'tipline.category', "Category", readonly=True,
        context={'active_test': False})
    jurisdiction = fields.Many2One(
        'tipline.jurisdiction', "Jurisdiction", readonly=True)
    outcome = fields.Selection('get_outcomes', "Outcome", readonly=True)
    closed_at = fields.DateTime("Closed At", readonly=True)
    expires_at = fields.DateTime("Expires At", readonly=True)
    retention_rule = fields.Many2One(
        'tipline.retention.rule', "Rule", readonly=True)
    reminded_at = fields.DateTime("Reminded At", readonly=True)
    legal_hold = fields.Boolean("Legal Hold", readonly=True)
    # Lazy: read by administrators only (field access), never with the rest.
    legal_hold_reason = fields.Text(
        "Legal Hold Reason", readonly=True, loading='lazy')
    purged_at = fields.DateTime("Deleted At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('expires_at', 'ASC NULLS LAST'), ('id', 'ASC')]
        cls._buttons.update({
                'hold': {
                    'invisible': Eval('legal_hold', False)
                    | Eval('purged_at'),
                    'icon': 'tryton-lock',
                    'depends': ['legal_hold', 'purged_at'],
                    },
                'release': {
                    'invisible': ~Eval('legal_hold', False),
                    'icon': 'tryton-unlock',
                    'depends': ['legal_hold'],
                    },
                })

    @classmethod
    def get_outcomes(cls):
        Report = Pool().get('tipline.report')
        return Report.fields_get(['outcome'])['outcome']['selection']

    @classmethod
    def table_query(cls):
        report = Table('tipline_report')
        return report.select(
            report.id.as_('id'),
            report.create_uid.as_('create_uid'),
            report.create_date.as_('create_date'),
            report.write_uid.as_('write_uid'),
            report.write_date.as_('write_date'),
            report.id.as_('report'),
            report.tracking_number.as_('tracking_number'),
            report.category.as_('category'),
            report.jurisdiction.as_('jurisdiction'),
            report.outcome.as_('outcome'),
            report.closed_at.as_('closed_at'),
            report.expires_at.as_('expires_at'),
            report.retention_rule.as_('retention_rule'),
            report.retention_reminded_at.as_('reminded_at'),
            report.legal_hold.as_('legal_hold'),
            report.legal_hold_reason.as_('legal_hold_reason'),
            report.purged_at.as_('purged_at'),
            where=report.state == 'closed')

    @classmethod
    def _reports(cls, records):
        Report = Pool().get('tipline.report')
        with without_check_access():
            return Report.browse([r.id for r in records])

    @classmethod
    @ModelView.button_action('tipline.wizard_retention_hold')
    def hold(cls, records):
        pass

    @classmethod
    @ModelView.button
    def release(cls, records):
        with without_check_access():
            release_hold(cls._reports(records))


class HoldStart(ModelView):
    "Place a legal hold"
    __name__ = 'tipline.report.retention.hold.start'

    reason = fields.Text("Reason", required=True,
        help="Why the reports must be kept past their expiry, for example "
        "the proceedings they are evidence in. It is kept with the reports "
        "until the hold is released and they expire.")


class Hold(Wizard):
    "Place a legal hold on closed reports"
    __name__ = 'tipline.report.retention.hold'

    start = StateView('tipline.report.retention.hold.start',
        'tipline.retention_hold_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Hold", 'hold', 'tryton-lock', default=True),
            ])
    hold = StateTransition()

    def transition_hold(self):
        if not in_groups('group_tipline_admin'):
            raise RetentionError(gettext('tipline.msg_retention_admin_only'))
        Retention = Pool().get('tipline.report.retention')
        records = [r for r in self.records
            if r.__name__ == Retention.__name__]
        with without_check_access():
            place_hold(Retention._reports(records), self.start.reason)
        return 'end'
