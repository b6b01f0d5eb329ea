import datetime as dt
import functools
import json

from sql import Null

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

import tipline_core

from .audit import digest
from .clock import now as utcnow
from .exceptions import ReportWorkflowError, SubmissionError

OPEN_STATES = ['submitted', 'in_review']
CLOSED_STATES = ['resolved', 'rejected']


@functools.cache
def dummy_receipt_hash():
    "Verified when a tracking number is unknown, to keep timings alike"
    return tipline_core.hash_receipt('0000-0000-0000-0000')




def format_duration(delta):
    "A short human reading of a timedelta such as '2 d 5 h' or '40 min'"
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return gettext('tipline.msg_duration_days_hours',
            days=days, hours=hours)
    if hours:
        return gettext('tipline.msg_duration_hours_minutes',
            hours=hours, minutes=minutes)
    return gettext('tipline.msg_duration_minutes', minutes=minutes)


class Report(Workflow, ModelSQL, ModelView):
    "A report of abuse against a record, tracked until the reporter has an answer"
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
    description_enc = fields.Binary("Encrypted Description", readonly=True)
    description = fields.Function(
        fields.Text("Description"), 'get_description')
    evidence = fields.One2Many(
        'tipline.evidence', 'report', "Evidence", readonly=True)
    anonymous = fields.Boolean(
        "Anonymous", readonly=True,
        help="The report keeps no link to its author.")
    reporter_token = fields.Char(
        "Reporter Token", readonly=True,
        help="A keyed hash that stands for the reporter; empty when "
        "anonymous.")
    reporter_identity_enc = fields.Binary(
        "Encrypted Reporter Identity", readonly=True)
    reporter_display = fields.Function(
        fields.Char("Reporter"), 'get_reporter_display')
    subject_tokens = fields.Char(
        "Subject Tokens", readonly=True,
        help="Keyed hashes of the users who are, or own, the reported "
        "record; those users never see the report.")
    receipt_hash = fields.Binary(
        "Receipt Hash", readonly=True,
        help="The scrypt hash of an anonymous reporter's secret receipt.")
    identity_accesses = fields.One2Many(
        'tipline.identity_access', 'report', "Identity Accesses",
        readonly=True)
    identity_accessed = fields.Function(
        fields.Text("Identity Accessed"), 'get_identity_accessed')
    state = fields.Selection([
            ('submitted', "Submitted"),
            ('in_review', "In Review"),
            ('resolved', "Resolved"),
            ('rejected', "Rejected"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    submitted_at = fields.DateTime("Submitted At", readonly=True, required=True)
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
        domain=[('groups', '=', Eval('moderator_group', -1))])
    moderator_group = fields.Function(
        fields.Many2One('res.group', "Moderator Group"),
        'get_moderator_group')
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
        help="Shown to the reporter with the result.")
    explanation = fields.Text(
        "Explanation", readonly=True,
        help="Why the report was not upheld, rejected or recategorised, "
        "as the reporter reads it.")
    resolved_at = fields.DateTime("Closed At", readonly=True)
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
                Index(t,
                    (t.state, Index.Equality(cardinality='low')),
                    (t.resolve_by, Index.Range()),
                    where=t.state.in_(OPEN_STATES)),
                })
        cls._order = [
            ('submitted_at', 'DESC'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('submitted', 'in_review'),
            ('submitted', 'rejected'),
            ('in_review', 'resolved'),
            ('in_review', 'rejected'),
            ('resolved', 'in_review'),
            ('rejected', 'in_review'),
            }
        cls._buttons.update({
                'review': {
                    'invisible': Eval('state') != 'submitted',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': Eval('state') != 'in_review',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': ~Eval('state').in_(OPEN_STATES),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'verify_history': {
                    'icon': 'tryton-search',
                    },
                'reopen': {
                    'invisible': ~Eval('state').in_(CLOSED_STATES),
                    'icon': If(Eval('state') == 'resolved',
                        'tryton-undo', 'tryton-back'),
                    'depends': ['state'],
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
    def get_moderator_group(cls, reports, name):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        group_id = ModelData.get_id('tipline', 'group_tipline_moderator')
        return {r.id: group_id for r in reports}

    @classmethod
    def get_description(cls, reports, name):
        Keyset = Pool().get('tipline.keyset')
        return {r.id: Keyset.decrypt(
                cls.__name__, 'description', r.id,
                r.description_enc).decode('utf-8')
            if r.description_enc else None
            for r in reports}

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
            if explanation and report.explanation != explanation:
                cls.write([report], {'explanation': explanation})
        for report in reports:
            if 'state' in field_names:
                Event.append(report, 'state', {
                        'to': report.state,
                        'outcome': report.outcome or ''})
            if 'assigned_to' in field_names:
                Event.append(report, 'assign', {
                        'to': report.assigned_to.login
                        if report.assigned_to else ''})
            if 'reporter_message' in field_names:
                # The chain proves what was said without holding it.
                Event.append(report, 'message', {
                        'sha256': digest(report.reporter_message),
                        'length': len(report.reporter_message or '')})

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
    def new_tracking_number(cls):
        "A fresh random tracking number that no report uses yet"
        for _ in range(8):
            number = tipline_core.new_tracking_number()
            with without_check_access():
                if not cls.search([('tracking_number', '=', number)],
                        limit=1):
                    return number
        # 75 random bits make this unreachable unless the CSPRNG is broken.
        raise SubmissionError(gettext('tipline.msg_report_number_exhausted'))

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
        config = Configuration(1)
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
        evidence and the reporter's identity are stored encrypted.  An
        anonymous report stores no reporter, no token and no user id in any
        row it creates; its author gets the receipt, shown once."""
        pool = Pool()
        Keyset = pool.get('tipline.keyset')
        Evidence = pool.get('tipline.evidence')
        Event = pool.get('tipline.audit_event')
        User = pool.get('res.user')
        evidence = [((n or '').strip(), d) for n, d in evidence if d]
        cls.check_submission(target, category, description, evidence)

        now = utcnow()
        # Deadlines are promised to the minute, which is how they are shown.
        deadline_base = now.replace(second=0, microsecond=0)
        user = Transaction().user
        with without_check_access():
            report, = cls.create([{
                        'tracking_number': cls.new_tracking_number(),
                        'target': str(target),
                        'target_label': target.rec_name,
                        'category': category.id,
                        'anonymous': bool(anonymous),
                        'reporter_token': (
                            None if anonymous
                            else Keyset.reporter_token(user)),
                        'subject_tokens': ' '.join(sorted(
                                Keyset.reporter_token(u)
                                for u in cls.subject_users(target))),
                        'submitted_at': now,
                        'acknowledge_by': deadline_base + dt.timedelta(
                            hours=category.hours_to_acknowledge),
                        'resolve_by': deadline_base + dt.timedelta(
                            hours=category.hours_to_resolve),
                        'resolve_warning_at': deadline_base + dt.timedelta(
                            hours=category.hours_to_resolve * 0.75),
                        'first_response_by': (deadline_base + dt.timedelta(
                                hours=category.hours_to_first_response)
                            if category.hours_to_first_response else None),
                        **cls.statutory_deadlines(category, deadline_base),
                        }])
            identity = None
            receipt = None
            if anonymous:
                receipt = tipline_core.new_receipt()
            else:
                reporter = User(user)
                identity = json.dumps({
                        'user': reporter.id,
                        'login': reporter.login,
                        'name': reporter.name,
                        }, sort_keys=True)
            table = cls.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.update(
                    [table.description_enc, table.reporter_identity_enc,
                        table.receipt_hash],
                    [cls.description_enc.sql_format(Keyset.encrypt(
                                cls.__name__, 'description', report.id,
                                description.strip())),
                        cls.reporter_identity_enc.sql_format(
                            Keyset.encrypt(
                                cls.__name__, 'reporter_identity',
                                report.id, identity)),
                        cls.receipt_hash.sql_format(
                            tipline_core.hash_receipt(receipt)
                            if receipt else None)],
                    where=table.id == report.id))
            evidences = Evidence.attach(report, evidence)
            submitted = Event.append(report, 'submit', {
                    'category': category.code,
                    'anonymous': '1' if anonymous else '0',
                    'evidence': str(len(evidence)),
                    }, actor='')
        if anonymous:
            cls._forget_author([report], evidences, [submitted])
        return cls(report.id), receipt

    @classmethod
    def statutory_deadlines(cls, category, start):
        "The statutory clock of a report in category filed at start"
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        jurisdiction = (category.jurisdiction
            or Configuration(1).default_jurisdiction)
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
        Keyset = Pool().get('tipline.keyset')
        if not self.reporter_identity_enc:
            return None
        return json.loads(Keyset.decrypt(
                self.__name__, 'reporter_identity', self.id,
                self.reporter_identity_enc))

    @classmethod
    def status_for_receipt(cls, number, receipt):
        """The public status of the anonymous report number, if receipt is
        its receipt; None for any wrong answer, whatever was wrong."""
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
        if not (valid and stored):
            return None
        return reports[0]

    @classmethod
    def _forget_author(cls, reports, evidences=(), events=()):
        "Blank the user columns that the ORM fills with the caller's id"
        pool = Pool()
        Evidence = pool.get('tipline.evidence')
        Event = pool.get('tipline.audit_event')
        cursor = Transaction().connection.cursor()
        for Model, records in (
                (cls, reports), (Evidence, evidences), (Event, events)):
            if not records:
                continue
            table = Model.__table__()
            cursor.execute(*table.update(
                    [table.create_uid, table.write_uid], [Null, Null],
                    where=table.id.in_([r.id for r in records])))

    # Moderation -------------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('in_review')
    def review(cls, reports):
        user = Transaction().user
        for report in reports:
            if not report.assigned_to:
                report.assigned_to = user
        cls.save(reports)

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    def resolve(cls, reports):
        for report in reports:
            if not report.outcome:
                raise ReportWorkflowError(gettext(
                        'tipline.msg_report_outcome_required',
                        report=report.rec_name))
        for report in reports:
            if report.outcome != 'upheld':
                report.explanation = report.explain(report.outcome)
            report.resolved_at = utcnow()
        cls.save(reports)

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, reports):
        for report in reports:
            if not (report.reporter_message or '').strip():
                raise ReportWorkflowError(gettext(
                        'tipline.msg_report_reject_message_required',
                        report=report.rec_name))
        for report in reports:
            report.explanation = report.explain('rejected')
            report.resolved_at = utcnow()
            report.outcome = None
        cls.save(reports)

    @classmethod
    @ModelView.button
    @Workflow.transition('in_review')
    def reopen(cls, reports):
        cls.write(reports, {'resolved_at': None, 'explanation': None})
