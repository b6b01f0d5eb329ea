"""The burst guard: report bombing held for a moderator.

A burst of reports against one record in one case, within a short window,
from new or low-accuracy reporters puts the case in quarantine
(Case.quarantine, case.py) until a moderator checks it and releases it.  A
reporter's repeat reports count once.  The only fact kept about a report's
author for this is whether they were unvetted when filing: anonymous, or an
account younger than the configured age."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

import tipline_core

from .case import as_stored
from .clock import now as utcnow
from .exceptions import BurstSettingsError
from .states import OPEN_STATES

EPOCH = dt.datetime(1970, 1, 1)
DEFAULT_BURST = tipline_core.BurstParams()


class BurstConfigurationMixin:
    "The burst guard's window, size and what makes a reporter unvetted"
    __slots__ = ()

    burst_window = fields.Integer(
        "Burst Window (minutes)", required=True,
        help="The burst guard counts reports against one record within "
        "this many minutes.")
    burst_min_reports = fields.Integer(
        "Burst Size", required=True,
        help="This many reports in the window from unvetted or "
        "low-accuracy reporters put the case in quarantine.")
    burst_new_account_days = fields.Integer(
        "New Account (days)", required=True,
        help="Accounts younger than this are unvetted reporters.")
    burst_min_accuracy = fields.Float(
        "Low Accuracy Below", required=True,
        help="Reporters whose share of upheld reports is below this "
        "(0 to 1) count towards a burst.")

    @classmethod
    def default_burst_window(cls):
        return int(DEFAULT_BURST.window_seconds // 60)

    @classmethod
    def default_burst_min_reports(cls):
        return DEFAULT_BURST.min_reports

    @classmethod
    def default_burst_new_account_days(cls):
        return int(DEFAULT_BURST.new_account_age_seconds // 86400)

    @classmethod
    def default_burst_min_accuracy(cls):
        return DEFAULT_BURST.min_accuracy

    def get_burst_params(self):
        return tipline_core.BurstParams(
            window_seconds=60.0 * self._value('burst_window'),
            min_reports=int(self._value('burst_min_reports')),
            new_account_age_seconds=86400.0 * self._value(
                'burst_new_account_days'),
            min_accuracy=float(self._value('burst_min_accuracy')))

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        for configuration in configurations:
            configuration.check_burst_settings()

    def check_burst_settings(self):
        if (self._value('burst_window') < 1
                or self._value('burst_min_reports') < 2
                or self._value('burst_new_account_days') < 0
                or not 0 <= self._value('burst_min_accuracy') <= 1):
            raise BurstSettingsError(gettext('tipline.msg_burst_range'))


class BurstMixin:
    "tipline.report's burst guard: the unvetted author, the quarantine"
    __slots__ = ()

    # Moderation facts, read by staff only (field access in case.xml):
    # loaded lazily, so reading a report's other fields never asks for them.
    new_reporter = fields.Boolean(
        "Unvetted Reporter", readonly=True, loading='lazy',
        help="Filed anonymously or from a recently created account; used "
        "by the burst guard.")
    quarantined = fields.Function(
        fields.Boolean("Quarantined", loading='lazy'), 'get_quarantined',
        searcher='search_quarantined')

    @classmethod
    def default_new_reporter(cls):
        return False

    def get_quarantined(self, name):
        "Open and held in a quarantined case"
        return bool(self.case and self.case.quarantined
            and self.state in OPEN_STATES)

    @classmethod
    def search_quarantined(cls, name, clause):
        _, operator, value = clause
        if operator == '!=':
            value = not value
        quarantined = [
            ('case.quarantined', '=', True),
            ('state', 'in', OPEN_STATES),
            ]
        if value:
            return quarantined
        return ['OR',
            ('case', '=', None),
            ('case.quarantined', '=', False),
            ('state', 'not in', OPEN_STATES),
            ]

    @classmethod
    def unvetted_reporter(cls, filing):
        """Filing's step (filing.py): whether its author is anonymous or a
        new account, the burst guard's only fact about them, taken here so
        that nothing else about an anonymous author is ever looked at"""
        pool = Pool()
        User = pool.get('res.user')
        Configuration = pool.get('tipline.configuration')
        if filing.anonymous:
            return True
        age = Configuration.current().get_burst_params().new_account_age_seconds
        with without_check_access():
            created = User(filing.filer).create_date
        return bool(created and (
                utcnow() - created).total_seconds() < age)

    @classmethod
    def check_burst(cls, report, filing=None):
        """Quarantine report's case when the reports against its record in
        the case form a burst from new or low-accuracy reporters; filing,
        when given, already knows the report and its case"""
        pool = Pool()
        Case = pool.get('tipline.case')
        Configuration = pool.get('tipline.configuration')
        params = Configuration.current().get_burst_params()
        # A burst needs min_reports reports in the case: most filings stop
        # here without reading anything more.
        if filing and filing.reports + 1 < params.min_reports:
            return False
        table = cls.__table__()
        case_table = Case.__table__()
        cursor = Transaction().connection.cursor()
        if filing:
            case = filing.case
            row = (case.id, str(filing.target), filing.now,
                case.quarantined, case.released_at)
        else:
            cursor.execute(*table.join(case_table,
                    condition=case_table.id == table.case).select(
                    table.case, table.target, table.submitted_at,
                    case_table.quarantined, case_table.released_at,
                    where=table.id == report.id))
            row = cursor.fetchone()
        if not row or row[3]:
            return False
        case_id, target, submitted_at, _, released_at = map(
            as_stored, row)
        where = ((table.case == case_id) & (table.target == target)
            & (table.submitted_at >= submitted_at - dt.timedelta(
                    seconds=params.window_seconds))
            & table.state.in_(OPEN_STATES))
        if released_at:
            # A moderator checked the reports before the release.
            where &= table.submitted_at > released_at
        # One query for the few columns needed (the token loads lazily).
        cursor.execute(*table.select(table.id, table.submitted_at,
                table.reporter_token, table.new_reporter, where=where))
        reports = [{'id': i, 'submitted_at': as_stored(at),
                'reporter_token': token, 'new_reporter': new}
            for i, at, token, new in cursor]
        # Bombing is many people: a reporter's repeat reports count once.
        seen, distinct = set(), []
        for r in sorted(reports, key=lambda r: (r['submitted_at'], r['id'])):
            token = r['reporter_token']
            if token:
                if token in seen:
                    continue
                seen.add(token)
            distinct.append(r)
        reports = distinct
        if len(reports) < params.min_reports:
            return False
        history = cls.reporter_history(
            {r['reporter_token'] for r in reports if r['reporter_token']})
        timestamps, ages, accuracies = [], [], []
        for r in reports:
            timestamps.append((r['submitted_at'] - EPOCH).total_seconds())
            ages.append(0.0 if r['new_reporter']
                else 2 * params.new_account_age_seconds)
            upheld, not_upheld = history.get(r['reporter_token'], (0, 0))
            decided = upheld + not_upheld
            accuracies.append(upheld / decided if decided else -1.0)
        burst, _ = tipline_core.detect_report_burst(
            timestamps, ages, accuracies, params)
        if burst:
            Case.quarantine([Case(case_id)])
        return burst
