import contextlib
import copy
import datetime as dt
import functools
import json

from sql import Null
from sql.aggregate import Min

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, Id, If
from trytond.transaction import Transaction, without_check_access

import tipline_core

from .audit import digest
from .authorless import AuthorlessRows, authorless
from .clock import now as utcnow
from .encrypted import Encrypted, decrypt_values, encrypt, store_encrypted
from .filing import file_report
from .exceptions import ReportWorkflowError, SubmissionError
from .readonly import ServerReadonly
from .states import CLOSED_STATES, OPEN_STATES, SEVERITIES, TRUTHFULNESS
from .access import in_groups
from .clock import format_duration
from .appeal import AppealMixin
from .assignment import AssignmentMixin
from .burst import BurstMixin
from .case import CaseMixin
from .conversation import ConversationMixin
from .escalation import EscalationMixin
from .survey import SurveyMixin
from .notification import NotificationMixin
from .priority import PriorityMixin
from .retention import RetentionMixin
from .review import ReviewMixin

__all__ = ['Report', 'OPEN_STATES', 'CLOSED_STATES', 'SEVERITIES',
    'TRUTHFULNESS', 'in_groups', 'format_duration', 'utcnow']

# The moderators' own notes: stored encrypted, read by moderators only.
NOTE_FIELDS = ('evidence_notes', 'internal_notes')


def identity_json(user):
    "The reporter's identity as stored (encrypted) on a named report"
    return json.dumps({
            'user': user.id,
            'login': user.login,
            'name': user.name,
            }, sort_keys=True)


@functools.cache
def dummy_receipt_hash():
    "Verified when a tracking number is unknown, to keep timings alike"
    return tipline_core.hash_receipt('0000-0000-0000-0000')


def _queue_order(t):
    "The indexed expressions of the queue's order"
    return ((t.priority, Index.Range(order='DESC NULLS LAST')),
        (t.submitted_at, Index.Range(order='DESC')),
        (t.id, Index.Range(order='DESC')))


class ReportCore(ServerReadonly, AuthorlessRows, Workflow, ModelSQL, ModelView):
    """The report's own fields and workflow, under the concepts that make up
    tipline.report (see Report at the end of this file)"""
    __name__ = 'tipline.report'
    _rec_name = 'tracking_number'
    # The host's model log records the user behind every change; Tipline
    # keeps its own trail so that anonymous reports stay unlinked.
    _log = False

    _moderated = {
        'readonly': Eval('state').in_(CLOSED_STATES),
        }

    tracking_number = fields.Char(
        "Tracking Number", readonly=True, required=True,
        help="Quote this number to follow the report up.")
    target = fields.Reference(
        "Record Link", selection='get_targets', readonly=True)
    target_label = fields.Char(
        "Reported Record", readonly=True,
        help="The name of the reported record when the report was filed.")
    category = fields.Many2One(
        'tipline.category', "Category", required=True, ondelete='RESTRICT',
        states=_moderated,
        context={'active_test': False})
    # The report's own data key, wrapped under the keyset: every encrypted
    # value of the report is under it, and the purge destroys it.
    data_key_enc = Encrypted("Wrapped Data Key", 'data_key', wraps_keys=True)
    description_enc = Encrypted(
        "Encrypted Description", 'description', report='id')
    description = fields.Function(
        fields.Text("Description"), 'get_description')
    evidence = fields.One2Many(
        'tipline.evidence', 'report', "Evidence", readonly=True)
    anonymous = fields.Boolean(
        "Anonymous", readonly=True,
        help="The report keeps no link to its author.")
    reporter_token = fields.Char(
        "Reporter Token", readonly=True, loading='lazy',
        help="A keyed hash that stands for the reporter; empty when "
        "anonymous.")
    reporter_identity_enc = Encrypted(
        "Encrypted Reporter Identity", 'reporter_identity', report='id')
    reporter_display = fields.Function(
        fields.Char("Reporter"), 'get_reporter_display')
    subject_tokens = fields.Char(
        "Subject Tokens", readonly=True, loading='lazy',
        help="Keyed hashes of the users who are, or own, the reported "
        "record; those users never see the report.")
    receipt_hash = fields.Binary(
        "Receipt Hash", readonly=True, loading='lazy',
        help="The scrypt hash of an anonymous reporter's secret receipt.")
    identity_accesses = fields.One2Many(
        'tipline.identity_access', 'report', "Identity Accesses",
        readonly=True)
    identity_accessed = fields.Function(
        fields.Text("Identity Accessed"), 'get_identity_accessed')
    state = fields.Selection([
            ('submitted', "Submitted"),
            ('acknowledged', "Acknowledged"),
            ('triaged', "Triaged"),
            ('investigating', "Investigating"),
            ('resolved', "Resolved"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    submitted_at = fields.DateTime("Submitted At", readonly=True, required=True)
    acknowledged_at = fields.DateTime("Acknowledged At", readonly=True)
    triaged_at = fields.DateTime("Triaged At", readonly=True)
    first_response_at = fields.DateTime(
        "First Response At", readonly=True,
        help="When the reporter first had an answer: a message or the "
        "result.")
    closed_at = fields.DateTime("Closed At", readonly=True)
    acknowledge_by = fields.DateTime(
        "Acknowledge By", readonly=True, format='%H:%M',
        help="Deadline for acknowledging the report.")
    resolve_by = fields.DateTime(
        "Resolve By", readonly=True, format='%H:%M',
        help="Deadline for resolving the report.")
    first_response_by = fields.DateTime(
        "First Response By", readonly=True, format='%H:%M',
        help="Deadline for the first answer to the reporter.")
    jurisdiction = fields.Many2One(
        'tipline.jurisdiction', "Jurisdiction", readonly=True,
        ondelete='RESTRICT')
    statutory_acknowledge_by = fields.DateTime(
        "Statutory Acknowledgement", readonly=True, format='%H:%M',
        help="The legal deadline for acknowledging the report.")
    statutory_due = fields.DateTime(
        "Statutory Feedback Due", readonly=True, format='%H:%M',
        help="The legal deadline for feedback to the reporter; it cannot "
        "be paused.")
    statutory_warning_at = fields.DateTime(
        "Statutory Warning From", readonly=True, format='%H:%M')
    resolve_warning_at = fields.DateTime(
        "Warning From", readonly=True, format='%H:%M')
    near_due = fields.Function(
        fields.Boolean("Near Due"), 'get_near_due', searcher='search_near_due')
    statutory_overdue = fields.Function(
        fields.Boolean("Statutory Overdue"), 'get_statutory_overdue',
        searcher='search_statutory_overdue')
    statutory_time_left = fields.Function(
        fields.Char("Statutory Time Left"), 'get_statutory_time_left')
    assigned_to = fields.Many2One(
        'res.user', "Assigned To", ondelete='SET NULL', states=_moderated,
        # Id, not a Function field in an Eval: trytond validates a field
        # whose domain depends on a Function field at every write of the
        # report, and read the assignee's groups at each button press.
        domain=[('groups', '=', Id('tipline', 'group_tipline_moderator'))])
    outcome = fields.Selection([
            (None, ""),
            ('upheld', "Upheld"),
            ('not_upheld', "Not upheld"),
            ('duplicate', "Duplicate"),
            ('insufficient_evidence', "Insufficient evidence"),
            ], "Outcome", sort=False,
        states={
            'readonly': Eval('state').in_(CLOSED_STATES),
            'required': Eval('state') == 'resolved',
            },
        help="What the review concluded.")
    outcome_string = outcome.translated('outcome')
    reporter_message = fields.Text(
        "Message to the Reporter", states=_moderated,
        help="Shown to the reporter in My Reports, on the status page and "
        "in the status e-mail.")
    truthfulness = fields.Selection(
        TRUTHFULNESS, "Truthfulness", sort=False, states=_moderated,
        help="What verification found about the facts reported.")
    truthfulness_string = truthfulness.translated('truthfulness')
    severity_assessment = fields.Selection(
        SEVERITIES, "Severity", sort=False, states=_moderated,
        help="How serious the moderators judge the abuse to be.")
    severity_assessment_string = severity_assessment.translated(
        'severity_assessment')
    evidence_notes_enc = Encrypted(
        "Encrypted Evidence Notes", 'evidence_notes', report='id')
    evidence_notes = fields.Function(
        fields.Text("Evidence Notes", states=_moderated,
            help="What the evidence shows; for moderators only."),
        'get_notes', setter='set_notes')
    internal_notes_enc = Encrypted(
        "Encrypted Internal Notes", 'internal_notes', report='id')
    internal_notes = fields.Function(
        fields.Text("Internal Notes", states=_moderated,
            help="Never shown to the reporter."),
        'get_notes', setter='set_notes')
    # The administrators' text, not a copy of it: each reader gets it in
    # their own language.  Set by the system for some outcomes only.
    outcome_explanation = fields.Many2One(
        'tipline.outcome_explanation', "Explanation Given", readonly=True,
        ondelete='RESTRICT')
    explanation = fields.Function(fields.Text(
            "Explanation",
            # No empty box for the outcomes that have none.
            states={'invisible': ~Eval('explanation')},
            help="Why the report was not upheld, rejected or recategorised, "
            "as the reporter reads it."),
        'get_explanation')
    resolved_at = fields.DateTime("Resolved At", readonly=True)
    history = fields.One2Many(
        'tipline.audit_event', 'report', "History", readonly=True)
    history_status = fields.Char(
        "History Check", readonly=True,
        help="The result of the last verification of the history's hash "
        "chain.")
    mine = fields.Function(
        fields.Boolean("Mine"), 'get_mine', searcher='search_mine')
    overdue = fields.Function(
        fields.Boolean("Overdue"), 'get_overdue', searcher='search_overdue')
    time_left = fields.Function(
        fields.Char("Time Left"), 'get_time_left')

    del _moderated

    @classmethod
    def __setup__(cls):
        cls.tracking_number.search_unaccented = False
        cls.reporter_token.search_unaccented = False
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('tracking_number_unique', Unique(t, t.tracking_number),
                'tipline.msg_report_tracking_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.tracking_number, Index.Equality(cardinality='high'))),
                Index(t, (t.reporter_token, Index.Equality())),
                # The tabs of open reports and the deadline crons.  Not
                # partial, so that SQLite has it too (docs/indexes.md).
                Index(t,
                    (t.state, Index.Equality(cardinality='low')),
                    (t.resolve_by, Index.Range())),
                # Least-loaded assignment counts open reports per moderator
                # at each filing.  Not partial: SQLite gets no index whose
                # condition has parameters, and scanned every report.
                Index(t, (t.assigned_to, Index.Equality()),
                    (t.state, Index.Equality(cardinality='low'))),
                # The queue's order (act_report_queue): its first page reads
                # this index in order instead of sorting every report; the
                # open reports' own serves the tabs of open reports
                # (docs/indexes.md).
                Index(t, *_queue_order(t)),
                Index(t, *_queue_order(t),
                    where=t.state.in_(OPEN_STATES)),
                })
        cls._order = [
            ('submitted_at', 'DESC'),
            ('id', 'DESC'),
            ]
        # An export writes its event in the history: a read-only
        # transaction (PostgreSQL) could not take the chain's lock.
        export = copy.copy(cls.__rpc__['export_data'])
        export.readonly = False
        cls.__rpc__['export_data'] = export
        cls._transitions |= {
            ('submitted', 'acknowledged'),
            ('acknowledged', 'triaged'),
            ('triaged', 'investigating'),
            ('triaged', 'resolved'),
            ('investigating', 'resolved'),
            ('resolved', 'closed'),
            # An appeal, or a moderator reopening a decision.
            ('resolved', 'investigating'),
            }
        cls._buttons.update({
                'acknowledge': {
                    'invisible': Eval('state') != 'submitted',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'triage': {
                    'invisible': Eval('state') != 'acknowledged',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'investigate': {
                    'invisible': Eval('state') != 'triaged',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': ~Eval('state').in_(
                        ['triaged', 'investigating']),
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'resolved',
                    'icon': 'tryton-archive',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'resolved',
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                    },
                'verify_history': {
                    'icon': 'tryton-search',
                    },
                })

    @classmethod
    def __register__(cls, module_name):
        super().__register__(module_name)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        # The rule on subject_tokens uses NOT LIKE, which NULL would defeat.
        cursor.execute(*table.update(
                [table.subject_tokens], [''],
                where=table.subject_tokens == Null))
        if backend.name == 'postgresql':
            # Without statistics on the rule's expression PostgreSQL guesses
            # that it keeps 0.5 % of the reports, and sorts them all for
            # the queue's first page instead of reading its index in order
            # (docs/indexes.md).
            cursor.execute('CREATE STATISTICS IF NOT EXISTS '
                '"%s_subject_tokens_rule" ON (COALESCE(subject_tokens, \'\')) '
                'FROM "%s"' % (cls._table, cls._table))
        # Before the full workflow: 'in review' is now investigating, and a
        # rejected report is resolved as not upheld.
        cursor.execute(*table.update(
                [table.state], ['investigating'],
                where=table.state == 'in_review'))
        cursor.execute(*table.update(
                [table.state, table.outcome], ['resolved', 'not_upheld'],
                where=table.state == 'rejected'))
        # The explanation was a copy of the administrators' text, in the
        # language of whoever resolved: now the text itself, or none.  The
        # copy is of the default language's text or of a translation.
        table_h = cls.__table_handler__(module_name)
        if table_h.column_exist('explanation'):
            pool = Pool()
            Explanation = pool.get('tipline.outcome_explanation')
            Translation = pool.get('ir.translation')
            explanation = Explanation.__table__()
            translation = Translation.__table__()
            unlinked = ((table.explanation != Null)
                & (table.outcome_explanation == Null))
            cursor.execute(*table.update(
                    [table.outcome_explanation],
                    explanation.select(Min(explanation.id),
                        where=explanation.text == table.explanation),
                    where=unlinked))
            cursor.execute(*table.update(
                    [table.outcome_explanation],
                    translation.select(Min(translation.res_id),
                        where=(translation.name
                            == Explanation.__name__ + ',text')
                        & (translation.type == 'model')
                        & (translation.value == table.explanation)),
                    where=unlinked))
            table_h.drop_column('explanation')

    @classmethod
    def default_state(cls):
        return 'submitted'

    @classmethod
    def default_anonymous(cls):
        return False

    @classmethod
    def default_subject_tokens(cls):
        # Never NULL: the record rule matches it with NOT LIKE.
        return ''

    @classmethod
    def subject_users(cls, target):
        """The users who are, or own, target: they must never see reports
        about it.  Other modules extend this for their own models."""
        pool = Pool()
        User = pool.get('res.user')
        users = set()
        if 'employees' not in User._fields:
            return users
        parties, employees = set(), set()
        if target.__name__ == 'party.party':
            parties.add(target.id)
        for name in ('party', 'employee'):
            value = getattr(target, name, None) if name in getattr(
                target, '_fields', {}) else None
            if value is None:
                continue
            if value.__name__ == 'party.party':
                parties.add(value.id)
            elif value.__name__ == 'company.employee':
                employees.add(value.id)
        with without_check_access(), Transaction().set_context(
                active_test=False):
            if parties:
                users.update(u.id for u in User.search(
                        [('employees.party', 'in', list(parties))]))
            if employees:
                users.update(u.id for u in User.search(
                        [('employees', 'in', list(employees))]))
        return users

    @classmethod
    def get_targets(cls):
        pool = Pool()
        Reportable = pool.get('tipline.reportable_model')
        with without_check_access():
            reportables = Reportable.search(
                [('active', 'in', [True, False])])
        return [(None, '')] + sorted(
            (r.model.name, r.model.string) for r in reportables)

    @classmethod
    def get_description(cls, reports, name):
        return decrypt_values(reports, 'description')

    @classmethod
    def is_moderator(cls):
        "Whether the current user moderates reports (or is the system)"
        return in_groups('group_tipline_moderator')

    @classmethod
    def get_notes(cls, reports, name):
        if not cls.is_moderator():
            # Reporters may read their reports, never the moderators' notes.
            return {r.id: None for r in reports}
        return decrypt_values(reports, name)

    @classmethod
    def set_notes(cls, reports, name, value):
        value = (value or '').strip() or None
        store_encrypted(cls, {r.id: {name: value} for r in reports})

    def get_reporter_display(self, name):
        if self.anonymous:
            return gettext('tipline.msg_reporter_anonymous')
        return gettext('tipline.msg_reporter_confidential')

    @classmethod
    def get_identity_accessed(cls, reports, name):
        "When the reporter's identity was revealed, for the reporter to see"
        pool = Pool()
        Access = pool.get('tipline.identity_access')
        result = {r.id: None for r in reports}
        with without_check_access():
            accesses = Access.search(
                [('report', 'in', [r.id for r in reports])],
                order=[('accessed_at', 'ASC')])
        lines = {}
        for access in accesses:
            lines.setdefault(access.report.id, []).append(gettext(
                    'tipline.msg_identity_accessed_on',
                    date=access.accessed_at.strftime('%Y-%m-%d %H:%M UTC')))
        for report_id, text in lines.items():
            result[report_id] = '\n'.join(text)
        return result

    @classmethod
    def current_reporter_token(cls):
        Keyset = Pool().get('tipline.keyset')
        return Keyset.reporter_token(Transaction().user)

    def get_mine(self, name):
        return bool(self.reporter_token) and (
            self.reporter_token == self.current_reporter_token())

    @classmethod
    def search_mine(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        token = cls.current_reporter_token()
        if (operator == '=') == bool(value):
            return [('reporter_token', '=', token)]
        return ['OR',
            ('reporter_token', '!=', token),
            ('reporter_token', '=', None),
            ]

    def get_overdue(self, name):
        return bool(self.state in OPEN_STATES
            and self.resolve_by and self.resolve_by < utcnow())

    @classmethod
    def search_overdue(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        overdue = [
            ('state', 'in', OPEN_STATES),
            ('resolve_by', '<', utcnow()),
            ]
        if (operator == '=') == bool(value):
            return overdue
        return ['OR',
            ('state', 'not in', OPEN_STATES),
            ('resolve_by', '>=', utcnow()),
            ('resolve_by', '=', None),
            ]

    def get_near_due(self, name):
        now = utcnow()
        return bool(self.state in OPEN_STATES and any(
                warn and due and warn <= now <= due for warn, due in (
                    (self.statutory_warning_at, self.statutory_due),
                    (self.resolve_warning_at, self.resolve_by))))

    @classmethod
    def search_near_due(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        now = utcnow()
        near = [('state', 'in', OPEN_STATES),
            ['OR',
                [('statutory_warning_at', '<=', now),
                    ('statutory_due', '>=', now)],
                [('resolve_warning_at', '<=', now),
                    ('resolve_by', '>=', now)],
                ]]
        if (operator == '=') == bool(value):
            return near
        return [('id', 'not in', cls.search(near, query=True))]

    def get_statutory_overdue(self, name):
        return bool(self.state in OPEN_STATES
            and self.statutory_due and self.statutory_due < utcnow())

    @classmethod
    def search_statutory_overdue(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        overdue = [('state', 'in', OPEN_STATES),
            ('statutory_due', '<', utcnow())]
        if (operator == '=') == bool(value):
            return overdue
        return [('id', 'not in', cls.search(overdue, query=True))]

    def get_statutory_time_left(self, name):
        if self.state not in OPEN_STATES or not self.statutory_due:
            return None
        delta = self.statutory_due - utcnow()
        if delta.total_seconds() < 0:
            return gettext('tipline.msg_time_overdue_by',
                duration=format_duration(delta))
        return gettext('tipline.msg_time_left',
            duration=format_duration(delta))

    def get_time_left(self, name):
        if self.state not in OPEN_STATES or not self.resolve_by:
            return None
        delta = self.resolve_by - utcnow()
        if delta.total_seconds() < 0:
            return gettext('tipline.msg_time_overdue_by',
                duration=format_duration(delta))
        return gettext('tipline.msg_time_left',
            duration=format_duration(delta))

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(
                    Eval('overdue', False) | Eval('statutory_overdue', False),
                    'danger', If(Eval('near_due', False), 'warning',
                        If(Eval('state').in_(CLOSED_STATES), 'muted', '')))),
            ]

    @classmethod
    def on_modification(cls, mode, reports, field_names=None):
        pool = Pool()
        Event = pool.get('tipline.audit_event')
        super().on_modification(mode, reports, field_names=field_names)
        if mode != 'write' or not field_names:
            return
        recategorised = [r for r in reports if 'category' in field_names
            and r.state in OPEN_STATES]
        for report in recategorised:
            explanation = report.explain('recategorised')
            if explanation and report.outcome_explanation != explanation:
                cls.write([report], {'outcome_explanation': explanation})
        # Events the reporter or the system causes carry no user's login:
        # a moderator must not learn who reported from the history.
        actor = Transaction().context.get('tipline_actor')
        for report in reports:
            # One insert for all the events of this change.
            events = []
            if 'state' in field_names:
                events.append(('state', {
                            'to': report.state,
                            'outcome': report.outcome or ''}))
            if 'assigned_to' in field_names:
                events.append(('assign', {
                            'from': Transaction().context.get(
                                'tipline_previous_assignees', {}).get(
                                report.id, ''),
                            'to': report.assigned_to.login
                            if report.assigned_to else ''}))
            if 'reporter_message' in field_names:
                # The chain proves what was said without holding it.
                events.append(('message', {
                            'sha256': digest(report.reporter_message),
                            'length': len(report.reporter_message or '')}))
            if {'truthfulness', 'severity_assessment'} & set(field_names):
                events.append(('verify', {
                            'truthfulness': report.truthfulness or '',
                            'severity': report.severity_assessment or ''}))
            for name in NOTE_FIELDS:
                if name in field_names:
                    events.append(('note', {
                                'field': name,
                                'sha256': digest(
                                    getattr(report, name) or '')}))
            # The write locked the report's row: the chain is held.
            Event.append_many(report, events, actor=actor, locked=True)
        answered = [r for r in reports if 'reporter_message' in field_names
            and (r.reporter_message or '').strip()
            and not r.first_response_at]
        if answered:
            cls.write(answered, {'first_response_at': utcnow()})

    @classmethod
    def write(cls, *args):
        if not any(args[::2]):
            # Workflow.transition writes the state even when the button
            # saved it already (with the rest of its values): no records.
            return
        # The history names who a report was taken from.
        actions = iter(args)
        previous = {}
        for reports, values in zip(actions, actions):
            if 'assigned_to' in values:
                for report in reports:
                    previous[report.id] = (report.assigned_to.login
                        if report.assigned_to else '')
        if not previous:
            return super().write(*args)
        context = Transaction().context
        previous = {**context.get('tipline_previous_assignees', {}),
            **previous}
        with Transaction().set_context(tipline_previous_assignees=previous):
            return super().write(*args)

    def get_explanation(self, name):
        # In the context's language: the reader's.
        if self.outcome_explanation:
            return self.outcome_explanation.text

    def explain(self, kind):
        "The administrator's explanation for kind in this report's category"
        pool = Pool()
        Explanation = pool.get('tipline.outcome_explanation')
        return Explanation.explain(kind, self.category)

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        pool = Pool()
        Event = pool.get('tipline.audit_event')
        result = super().export_data(records, fields_names, header=header)
        for report in records:
            # A reporter exporting their own report acts in the authorless
            # scope: the event names nobody, nor do its rows.
            with authorless() if report.mine else contextlib.nullcontext():
                Event.append(report, 'export', {
                        'fields': ','.join(sorted(fields_names))})
        return result

    @classmethod
    @ModelView.button
    def verify_history(cls, reports):
        pool = Pool()
        Event = pool.get('tipline.audit_event')
        results = Event.verify([r.id for r in reports])
        now = utcnow().strftime('%Y-%m-%d %H:%M UTC')
        for report in reports:
            broken = results[report.id]
            if broken is None:
                report.history_status = gettext(
                    'tipline.msg_audit_intact',
                    count=len(report.history), date=now)
            else:
                report.history_status = gettext(
                    'tipline.msg_audit_broken', sequence=broken, date=now)
        cls.save(reports)

    @classmethod
    def check_modification(cls, mode, reports, values=None, external=False):
        super().check_modification(
            mode, reports, values=values, external=external)
        if mode == 'delete' and external:
            raise ReportWorkflowError(gettext('tipline.msg_report_no_delete'))

    # Filing -----------------------------------------------------------------

    @classmethod
    def check_submission(cls, target, category, description, evidence):
        """Refuse a submission that cannot be filed, with a message that says
        what to change; nothing is stored before every check has passed."""
        cls.check_target(target)
        cls.check_content(category, description, evidence)

    @classmethod
    def check_target(cls, target):
        pool = Pool()
        Reportable = pool.get('tipline.reportable_model')
        if target is None or target.__name__ not in (
                Reportable.reportable_model_names()):
            raise SubmissionError(gettext('tipline.msg_submit_not_reportable'))
        if target.id is None or target.id < 0:
            raise SubmissionError(gettext('tipline.msg_submit_no_target'))
        with without_check_access():
            if not type(target).search([('id', '=', target.id)], limit=1):
                raise SubmissionError(
                    gettext('tipline.msg_submit_no_target'))

    @classmethod
    def check_content(cls, category, description, evidence):
        "What the reporter wrote and attached, whatever the target"
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        config = Configuration.current()
        if not category:
            raise SubmissionError(gettext('tipline.msg_submit_no_category'))
        if not category.active:
            raise SubmissionError(gettext(
                    'tipline.msg_submit_category_inactive',
                    category=category.rec_name))
        text = (description or '').strip()
        if len(text) < config.min_description_length:
            raise SubmissionError(gettext(
                    'tipline.msg_submit_description_too_short',
                    minimum=config.min_description_length,
                    length=len(text)))
        if len(text) > config.max_description_length:
            raise SubmissionError(gettext(
                    'tipline.msg_submit_description_too_long',
                    maximum=config.max_description_length,
                    length=len(text)))
        limit = config.max_evidence_size * 1024 * 1024
        for name, data in evidence:
            if data and len(data) > limit:
                raise SubmissionError(gettext(
                        'tipline.msg_submit_evidence_too_large',
                        maximum=config.max_evidence_size))
            if data and not (name or '').strip():
                raise SubmissionError(
                    gettext('tipline.msg_submit_evidence_no_name'))

    @classmethod
    def file(cls, target, category, description, anonymous=False,
            evidence=()):
        """File a report against target and return it with the anonymous
        reporter's receipt (None for a named reporter).

        evidence is a sequence of (file name, bytes).  The description, the
        evidence and the reporter's identity are stored encrypted.  Filing
        is the pipeline of filing.py, in the authorless scope: no row it
        writes names the reporter, and an anonymous report stores no
        reporter, no token and only the coarsened time; its author gets the
        receipt, shown once."""
        return file_report(cls, target, category, description,
            anonymous=anonymous, evidence=evidence)

    @classmethod
    def filing_values(cls, filing):
        "The whole row of the report filing writes (see filing.py)"
        category = filing.category
        # Deadlines are promised to the minute, which is how they are shown.
        base = filing.now.replace(second=0, microsecond=0)
        report_id, = filing.ids['report']

        def encrypt_(name, plaintext):
            return encrypt(cls.__name__, name, report_id, plaintext,
                data_key=filing.data_key)
        hours = category.hours_to_first_response
        return {
            'id': report_id,
            'tracking_number': filing.tracking_number,
            'target': str(filing.target),
            'target_label': filing.target.rec_name,
            'category': category.id,
            'filed_category': category.id,
            'anonymous': filing.anonymous,
            'reporter_token': filing.reporter_token,
            'subject_tokens': filing.subject_tokens,
            'receipt_hash': (tipline_core.hash_receipt(filing.receipt)
                if filing.receipt else None),
            'data_key_enc': filing.wrapped_data_key,
            'description_enc': encrypt_('description', filing.description),
            'reporter_identity_enc': encrypt_('reporter_identity',
                identity_json(filing.reporter) if filing.reporter else None),
            # The acknowledgement is immediate: the reporter sees the number
            # and the deadline at once.
            'state': 'acknowledged',
            'submitted_at': filing.now,
            'acknowledged_at': filing.now,
            'assigned_to': filing.assignee,
            'acknowledge_by': base + dt.timedelta(
                hours=category.hours_to_acknowledge),
            'resolve_by': base + dt.timedelta(
                hours=category.hours_to_resolve),
            'resolve_warning_at': base + dt.timedelta(
                hours=category.hours_to_resolve * 0.75),
            'first_response_by': (base + dt.timedelta(hours=hours)
                if hours else None),
            'case': filing.case.id,
            'repeat_report': filing.repeat,
            'new_reporter': filing.new_reporter,
            'personal_data_signals': filing.signals,
            'priority': filing.priority,
            'priority_inputs': filing.priority_inputs,
            **cls.statutory_deadlines(category, base),
            }

    @classmethod
    def filing_events(cls, filing, case_id):
        "(kind, details) of the history a filing starts in case_id"
        pool = Pool()
        User = pool.get('res.user')
        events = [
            ('submit', {
                    'category': filing.category.code,
                    'anonymous': '1' if filing.anonymous else '0',
                    'evidence': str(len(filing.evidence)),
                    }),
            ('state', {'to': 'acknowledged', 'outcome': ''}),
            ]
        if filing.assignee:
            events.append(('assign', {
                        'from': '', 'to': User(filing.assignee).login}))
        events.append(
            ('case_join', cls.case_join_details(filing, case_id)))
        return events

    @classmethod
    def initial_assignee(cls, category, reporter_token, subject_tokens):
        "The moderator a new report goes to; None leaves it to the team"
        return None

    @classmethod
    def statutory_deadlines(cls, category, start):
        "The statutory clock of a report in category filed at start"
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        jurisdiction = (category.jurisdiction
            or Configuration.current().default_jurisdiction)
        if not jurisdiction:
            return {}
        acknowledge, due = jurisdiction.deadlines(start)
        return {
            'jurisdiction': jurisdiction.id,
            'statutory_acknowledge_by': acknowledge,
            'statutory_due': due,
            'statutory_warning_at': due - dt.timedelta(
                days=jurisdiction.warning_days),
            }

    def reporter_identity(self):
        "The reporter's identity as a dict; only for the reveal wizard"
        identity = decrypt_values([self], 'reporter_identity')[self.id]
        return json.loads(identity) if identity else None

    @classmethod
    def status_for_receipt(cls, number, receipt):
        """The public status of the anonymous report number, if receipt is
        its receipt and still opens it (retention.py); None for any wrong
        answer, whatever was wrong."""
        try:
            number = tipline_core.parse_tracking_number(number or '')
        except tipline_core.InvalidInput:
            number = None
        reports = []
        if number:
            with without_check_access():
                reports = cls.search([
                        ('tracking_number', '=', number),
                        ('anonymous', '=', True),
                        ], limit=1)
        stored = reports[0].receipt_hash if reports else None
        # Verify against a dummy hash when there is nothing to compare with,
        # so that a wrong number costs as long as a wrong receipt.
        try:
            valid = tipline_core.verify_receipt(
                receipt or '', bytes(stored) if stored else dummy_receipt_hash())
        except tipline_core.InvalidInput:
            valid = False
        if not (valid and stored) or reports[0].receipt_access_ended():
            return None
        return reports[0]

    # Moderation -------------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('acknowledged')
    def acknowledge(cls, reports):
        "Reports are acknowledged when filed; this is for any left behind"
        cls.write([r for r in reports if not r.acknowledged_at],
            {'acknowledged_at': utcnow()})

    @classmethod
    @ModelView.button
    @Workflow.transition('triaged')
    def triage(cls, reports):
        for report in reports:
            if not report.severity_assessment:
                raise ReportWorkflowError(gettext(
                        'tipline.msg_report_severity_required',
                        report=report.rec_name))
        assignees = cls.unassigned_assignees(reports)
        now = utcnow()
        for report in reports:
            # The state goes with the rest, in one UPDATE (the transition
            # sees it set and writes nothing more).
            report.state = 'triaged'
            report.triaged_at = now
            if report in assignees:
                report.assigned_to = assignees[report]
        cls.save(reports)

    @classmethod
    @ModelView.button
    @Workflow.transition('investigating')
    def investigate(cls, reports):
        assignees = cls.unassigned_assignees(reports)
        for report in reports:
            # With the state, in one UPDATE.
            report.state = 'investigating'
            if report in assignees:
                report.assigned_to = assignees[report]
        cls.save(reports)

    @classmethod
    def unassigned_assignees(cls, reports):
        """{report: user id} for the reports nobody holds: the moderator who
        moves them on; the assignment module assigns by team instead."""
        user = Transaction().user
        if not user:
            return {}
        return {r: user for r in reports if not r.assigned_to}

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    def resolve(cls, reports):
        for report in reports:
            if not report.outcome:
                raise ReportWorkflowError(gettext(
                        'tipline.msg_report_outcome_required',
                        report=report.rec_name))
            if report.outcome == 'upheld' and not (
                    report.truthfulness and report.severity_assessment):
                raise ReportWorkflowError(gettext(
                        'tipline.msg_report_upheld_needs_verification',
                        report=report.rec_name))
        # To the second, as the DateTime columns store it: the appeal
        # deadline is rounded up from the resolution as stored (from
        # 10:00:00.3 it was 10:01, a minute past the window).
        now = utcnow().replace(microsecond=0)
        for report in reports:
            # The state is saved with the decision, in one UPDATE.
            report.state = 'resolved'
            report.outcome_explanation = (report.explain(report.outcome)
                if report.outcome != 'upheld' else None)
            report.resolved_at = now
            if not report.first_response_at:
                report.first_response_at = now
        # The appeal window (appeal.py) and the survey's invitation
        # (survey.py) are saved with the decision.
        cls.open_appeal_window(reports, now)
        cls.invite_to_survey(reports)
        cls.save(reports)

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, reports):
        cls.write(reports, {'closed_at': utcnow()})
        cls.set_retention_expiries(reports)

    @classmethod
    @ModelView.button
    def reopen(cls, reports):
        "An administrator takes a decision back; the history keeps the old one"
        cls.reopen_for_investigation(reports)

    @classmethod
    def reopen_for_investigation(cls, reports, values=None):
        "Open resolved reports again, their decision undone"
        reports = [r for r in reports if r.state == 'resolved']
        if not reports:
            return
        cls._back_to_investigation(reports)
        cls.write(reports, {
                'resolved_at': None,
                'outcome_explanation': None,
                'outcome': None,
                **(values or {}),
                })
        cls.restart_clock(reports)

    @classmethod
    @Workflow.transition('investigating')
    def _back_to_investigation(cls, reports):
        pass

    @classmethod
    def restart_clock(cls, reports):
        """Give reports that open again a new operational deadline; the
        statutory clock cannot be paused and stays as it was."""
        now = utcnow().replace(second=0, microsecond=0)
        for report in reports:
            hours = report.category.hours_to_resolve
            cls.write([report], {
                    'resolve_by': now + dt.timedelta(hours=hours),
                    'resolve_warning_at': now + dt.timedelta(
                        hours=hours * 0.75),
                    })


class Report(
        ConversationMixin,
        CaseMixin,
        BurstMixin,
        PriorityMixin,
        SurveyMixin,
        ReviewMixin,
        AppealMixin,
        AssignmentMixin,
        EscalationMixin,
        NotificationMixin,
        RetentionMixin,
        ReportCore):
    """A report of abuse against a record, tracked until the reporter has an
    answer.

    Each concept that a report takes part in keeps its fields and steps in
    the file named after it, as a mixin; this list composes them, in the
    order their methods run: a mixin's method comes before those below it
    and reaches them with super(). Filing is one pipeline (filing.py)."""
    __name__ = 'tipline.report'
