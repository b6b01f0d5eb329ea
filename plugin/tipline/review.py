"""The periodic review of the mechanism (#6): a cron job freezes, for each
period, the figures an administrator needs to find common problems and hot
spots, and compares them with the period before.

Every figure is a SQL aggregate; no report is loaded to compute it.  Figures
are stored as review lines (kind, key, label, value) so that graphs, the
printable review and the CSV export all read the same frozen numbers."""
import csv
import datetime as dt
import io
import math

from dateutil.relativedelta import relativedelta
from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Extract, Function

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import Report as Report_
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateView, Wizard

from .authorless import AuthorlessRows
from .clock import now as utcnow, week_start
from .exceptions import ReviewError
from .readonly import ServerReadonly

PERIODS = [
    ('weekly', "Weekly"),
    ('monthly', "Monthly"),
    ('quarterly', "Quarterly"),
    ]
HOT_SPOTS = 10
LINE_KINDS = [
    ('summary', "Summary"),
    ('category', "Category"),
    ('state', "State"),
    ('outcome', "Outcome"),
    ('time', "Time (hours)"),
    ('sla', "SLA Compliance (%)"),
    ('hot_record', "Most-Reported Record"),
    ('hot_model', "Most-Reported Record Type"),
    ('hot_owner', "Owner of Reported Records"),
    ('accuracy', "Filed in the Right Category (%)"),
    ('campaign', "Campaigns and Quarantines"),
    ('survey', "Reporter Satisfaction"),
    ('suggestion', "Suggestions"),
    ]
# Kinds whose labels name a record or a person: the CSV export replaces
# them with their rank.
NAMED_KINDS = {'hot_record', 'hot_owner'}
# Kinds whose key is the name of a tipline.review field.
REVIEW_FIELD_KINDS = {'summary', 'time', 'sla', 'survey'}
# Kinds compared with the previous period for the trend alert.
TREND_KINDS = {'category', 'hot_record', 'hot_model', 'hot_owner'}


def period_bounds(period, day):
    "(first day, first day of the next period) of the period holding day"
    if period == 'weekly':
        start = week_start(day)
        return start, start + dt.timedelta(days=7)
    if period == 'quarterly':
        start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return start, start + relativedelta(months=3)
    start = day.replace(day=1)
    return start, start + relativedelta(months=1)


class JulianDay(Function):
    __slots__ = ()
    _function = 'JULIANDAY'


def seconds_between(end, start):
    "SQL expression of the seconds from start to end"
    if backend.name == 'sqlite':
        return (JulianDay(end) - JulianDay(start)) * Literal(86400)
    return Extract('EPOCH', end - start)


def share(part, whole):
    "A percentage rounded to one decimal, None when there is no whole"
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


class ReviewConfigurationMixin:
    "The periodic review's period and alert thresholds"
    __slots__ = ()

    review_period = fields.Selection(
        PERIODS, "Review Period", required=True,
        help="How often the cron job freezes a review of the mechanism.")
    review_alert_factor = fields.Float(
        "Trend Alert Factor", required=True,
        domain=[('review_alert_factor', '>', 1)],
        help="Alert when a category or hot spot has this many times the "
        "reports of the previous period.")
    review_alert_minimum = fields.Integer(
        "Trend Alert Minimum", required=True,
        domain=[('review_alert_minimum', '>=', 1)],
        help="Fewest reports for a category or hot spot to raise an alert.")
    survey_minimum_answers = fields.Integer(
        "Minimum Survey Answers", required=True,
        domain=[('survey_minimum_answers', '>=', 2)],
        help="Survey figures are shown only over at least this many "
        "answers, so that no answer can be traced back.")

    @classmethod
    def default_review_period(cls):
        return 'monthly'

    @classmethod
    def default_review_alert_factor(cls):
        return 2.0

    @classmethod
    def default_review_alert_minimum(cls):
        return 3

    @classmethod
    def default_survey_minimum_answers(cls):
        return 5


class ReviewMixin:
    "tipline.report's part in the periodic review"
    __slots__ = ()

    filed_category = fields.Many2One(
        'tipline.category', "Filed Category", readonly=True,
        ondelete='RESTRICT', context={'active_test': False},
        help="The category the reporter chose; the review measures how "
        "often moderators had to change it.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The review reads the reports submitted in its period
        # (docs/indexes.md).
        cls._sql_indexes.add(Index(t, (t.submitted_at, Index.Range())))

    @classmethod
    def __register__(cls, module_name):
        super().__register__(module_name)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.filed_category], [table.category],
                where=table.filed_category == Null))


class Review(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "The figures of one period, frozen when the review was made"
    __name__ = 'tipline.review'
    _rec_name = 'name'

    name = fields.Char("Name", required=True, readonly=True)
    period = fields.Selection(PERIODS, "Period", required=True, readonly=True)
    start_date = fields.Date("From", required=True, readonly=True)
    end_date = fields.Date(
        "Until", required=True, readonly=True,
        help="The first day after the period.")
    computed_at = fields.DateTime("Computed At", readonly=True)
    previous = fields.Many2One(
        'tipline.review', "Previous Review", readonly=True,
        ondelete='SET NULL')
    report_count = fields.Integer("Reports", readonly=True)
    resolved_count = fields.Integer("Resolved", readonly=True)
    upheld_share = fields.Float("Upheld (%)", digits=(16, 1), readonly=True)
    acknowledge_median = fields.Float(
        "Median Hours to Acknowledge", digits=(16, 1), readonly=True)
    acknowledge_p90 = fields.Float(
        "P90 Hours to Acknowledge", digits=(16, 1), readonly=True)
    resolve_median = fields.Float(
        "Median Hours to Resolve", digits=(16, 1), readonly=True)
    resolve_p90 = fields.Float(
        "P90 Hours to Resolve", digits=(16, 1), readonly=True)
    sla_acknowledge = fields.Float(
        "Acknowledged in Time (%)", digits=(16, 1), readonly=True,
        help="Operational clock: acknowledgements due in the period that "
        "were made by their deadline.")
    sla_resolve = fields.Float(
        "Resolved in Time (%)", digits=(16, 1), readonly=True,
        help="Operational clock: resolutions due in the period that were "
        "made by their deadline.")
    statutory_acknowledge = fields.Float(
        "Statutory Acknowledgement Met (%)", digits=(16, 1), readonly=True)
    statutory_feedback = fields.Float(
        "Statutory Feedback Met (%)", digits=(16, 1), readonly=True)
    accuracy = fields.Float(
        "Filed in the Right Category (%)", digits=(16, 1), readonly=True)
    survey_answers = fields.Integer("Survey Answers", readonly=True)
    satisfaction = fields.Float(
        "Satisfaction (1-5)", digits=(16, 1), readonly=True,
        help="Empty while fewer answers than the configured minimum.")
    handled_fairly = fields.Float(
        "Handled Fairly (%)", digits=(16, 1), readonly=True)
    would_report_again = fields.Float(
        "Would Report Again (%)", digits=(16, 1), readonly=True)
    suggestion_count = fields.Integer("Suggestions", readonly=True)
    alerts = fields.Text("Alerts", readonly=True)
    lines = fields.One2Many(
        'tipline.review.line', 'review', "Figures", readonly=True)
    decisions = fields.One2Many(
        'tipline.review.decision', 'review', "Decisions")
    survey_comments = fields.Function(
        fields.Text("Survey Comments"), 'get_survey_comments')
    csv_file = fields.Binary(
        "CSV", filename='csv_filename', readonly=True)
    csv_filename = fields.Function(
        fields.Char("CSV File Name"), 'get_csv_filename')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('period_unique', Unique(t, t.period, t.start_date),
                'tipline.msg_review_period_unique'),
            ]
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'export_csv': {'icon': 'tryton-save'},
                'invite': {'icon': 'tryton-email'},
                })

    def get_csv_filename(self, name):
        return 'tipline-review-%s-%s.csv' % (self.period, self.start_date)

    # Creation ---------------------------------------------------------------

    @classmethod
    def create_due(cls):
        "Cron: review the last complete period unless it is done already"
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        period = Configuration.current().review_period or 'monthly'
        current, _ = period_bounds(period, utcnow().date())
        start, _ = period_bounds(period, current - dt.timedelta(days=1))
        with without_check_access():
            if cls.search([
                        ('period', '=', period),
                        ('start_date', '=', start),
                        ], limit=1):
                return None
            return cls.make(period, start)

    @classmethod
    def make(cls, period, start):
        "Compute and store the review of the period starting on start"
        pool = Pool()
        Line = pool.get('tipline.review.line')
        start, end = period_bounds(period, start)
        with without_check_access():
            previous = cls.search([
                    ('period', '=', period),
                    ('start_date', '<', start),
                    ], order=[('start_date', 'DESC')], limit=1)
            previous = previous[0] if previous else None
            review = cls(
                name='%s %s' % (start.isoformat(), dict(PERIODS)[period]),
                period=period, start_date=start, end_date=end,
                computed_at=utcnow(), previous=previous)
            summary, lines = review.compute()
            for name, value in summary.items():
                setattr(review, name, value)
            review.save()
            for line in lines:
                line['review'] = review.id
                line['period_start'] = start
            alerts = review.compare(lines, previous)
            Line.create(lines)
            review.alerts = '\n'.join(alerts) or None
            review.save()
        return review

    @property
    def _bounds(self):
        "The period as naive UTC datetimes"
        return (dt.datetime.combine(self.start_date, dt.time()),
            dt.datetime.combine(self.end_date, dt.time()))

    def compute(self):
        "(summary field values, line values) of this review's period"
        summary, lines = {}, []
        for method in (self._compute_reports, self._compute_times,
                self._compute_sla, self._compute_hot_spots,
                self._compute_accuracy, self._compute_campaigns,
                self._compute_feedback):
            method(summary, lines)
        for name, label in (
                ('report_count', "Reports"),
                ('resolved_count', "Resolved"),
                ('upheld_share', "Upheld (%)"),
                ('accuracy', "Filed in the Right Category (%)"),
                ):
            lines.append(self._line('summary', name,
                    self._field_string(name), summary.get(name)))
        return summary, lines

    @classmethod
    def _field_string(cls, name):
        return getattr(cls, name).string

    @staticmethod
    def _line(kind, key, label, value, category=None):
        return {'kind': kind, 'key': key, 'label': label,
            'value': value, 'category': category}

    def _compute_reports(self, summary, lines):
        pool = Pool()
        Report = pool.get('tipline.report')
        Category = pool.get('tipline.category')
        report = Report.__table__()
        cursor = Transaction().connection.cursor()
        start, end = self._bounds
        in_period = (report.submitted_at >= start) & (report.submitted_at < end)

        cursor.execute(*report.select(
                report.category, Count(report.id),
                where=in_period, group_by=[report.category]))
        by_category = dict(cursor.fetchall())
        summary['report_count'] = sum(by_category.values())
        with Transaction().set_context(active_test=False):
            categories = Category.browse(sorted(by_category))
        for category in categories:
            lines.append(self._line('category', category.code,
                    category.name, by_category[category.id],
                    category=category.id))

        states = dict(Report.fields_get(['state'])['state']['selection'])
        cursor.execute(*report.select(
                report.state, Count(report.id),
                where=in_period, group_by=[report.state]))
        for state, count in sorted(cursor.fetchall()):
            lines.append(self._line('state', state,
                    states.get(state, state), count))

        # Outcomes are counted when the report is resolved.
        resolved = ((report.resolved_at >= start) & (report.resolved_at < end)
            & (report.outcome != Null))
        outcomes = dict(Report.fields_get(['outcome'])['outcome']['selection'])
        cursor.execute(*report.select(
                report.outcome, Count(report.id),
                where=resolved, group_by=[report.outcome]))
        by_outcome = dict(cursor.fetchall())
        for outcome, count in sorted(by_outcome.items()):
            lines.append(self._line('outcome', outcome,
                    outcomes.get(outcome, outcome), count))
        summary['resolved_count'] = sum(by_outcome.values())
        summary['upheld_share'] = share(
            by_outcome.get('upheld', 0), summary['resolved_count'])

    @staticmethod
    def _percentiles(done, since, where, *ratios):
        """The nearest-rank percentiles, in hours, of done - since over the
        rows matching where; computed by the database"""
        Report = Pool().get('tipline.report')
        report = Report.__table__()
        cursor = Transaction().connection.cursor()
        done, since = done(report), since(report)
        where = where(report) & (done != Null) & (since != Null)
        cursor.execute(*report.select(Count(report.id), where=where))
        count, = cursor.fetchone()
        result = []
        for ratio in ratios:
            if not count:
                result.append(None)
                continue
            rank = max(math.ceil(ratio * count), 1)
            duration = seconds_between(done, since)
            cursor.execute(*report.select(duration, where=where,
                    order_by=[duration.asc], limit=1, offset=rank - 1))
            seconds, = cursor.fetchone()
            result.append(round(float(seconds) / 3600, 1))
        return result

    def _compute_times(self, summary, lines):
        Report = Pool().get('tipline.report')
        start, end = self._bounds
        clocks = [('resolve', 'resolved_at')]
        # acknowledged_at arrives with the full moderation workflow.
        if 'acknowledged_at' in Report._fields:
            clocks.insert(0, ('acknowledge', 'acknowledged_at'))
        for name, column in clocks:
            def done(report, column=column):
                return getattr(report, column)

            def where(report, column=column):
                return ((getattr(report, column) >= start)
                    & (getattr(report, column) < end))
            median, p90 = self._percentiles(
                done, lambda r: r.submitted_at, where, 0.5, 0.9)
            summary['%s_median' % name] = median
            summary['%s_p90' % name] = p90
            for suffix, value in (('median', median), ('p90', p90)):
                key = '%s_%s' % (name, suffix)
                lines.append(self._line(
                        'time', key, self._field_string(key), value))

    def _compute_sla(self, summary, lines):
        """Deadlines that fell due in the period, and the share met; each
        clock separately"""
        Report = Pool().get('tipline.report')
        report = Report.__table__()
        cursor = Transaction().connection.cursor()
        start, end = self._bounds
        has = Report._fields.__contains__
        feedback = [report.resolved_at]
        if has('first_response_at'):
            feedback.insert(0, report.first_response_at)
        clocks = [
            ('sla_acknowledge', 'acknowledge_by',
                report.acknowledged_at if has('acknowledged_at') else None),
            ('sla_resolve', 'resolve_by', report.resolved_at),
            ('statutory_acknowledge', 'statutory_acknowledge_by',
                report.acknowledged_at if has('acknowledged_at') else None),
            ('statutory_feedback', 'statutory_due',
                Coalesce(*feedback) if len(feedback) > 1 else feedback[0]),
            ]
        for name, deadline, done in clocks:
            if done is None:
                summary[name] = None
            else:
                deadline = getattr(report, deadline)
                cursor.execute(*report.select(
                        Count(report.id),
                        Sum(Case(((done != Null) & (done <= deadline),
                                    Literal(1)), else_=Literal(0))),
                        where=(deadline >= start) & (deadline < end)))
                due, met = cursor.fetchone()
                summary[name] = share(met or 0, due)
            lines.append(self._line(
                    'sla', name, self._field_string(name), summary[name]))

    def _compute_hot_spots(self, summary, lines):
        pool = Pool()
        Report = pool.get('tipline.report')
        IrModel = pool.get('ir.model')
        report = Report.__table__()
        cursor = Transaction().connection.cursor()
        start, end = self._bounds
        count = Count(report.id)
        cursor.execute(*report.select(
                report.target, count,
                where=(report.submitted_at >= start)
                & (report.submitted_at < end) & (report.target != Null),
                group_by=[report.target],
                order_by=[count.desc, report.target.asc]))
        by_target = cursor.fetchall()
        by_model, owners = {}, {}
        for target, n in by_target:
            model, _, _ = target.partition(',')
            by_model[model] = by_model.get(model, 0) + n
        # Labels: the name the record had when it was last reported.
        top = by_target[:HOT_SPOTS]
        labels = {}
        if top:
            cursor.execute(*report.select(
                    report.target, report.target_label,
                    where=report.target.in_([t for t, _ in top]),
                    order_by=[report.submitted_at.asc]))
            labels.update(cursor.fetchall())
        for target, n in top:
            lines.append(self._line(
                    'hot_record', target, labels.get(target) or target, n))
        model_names = dict((m.name, m.string) for m in IrModel.search(
                [('name', 'in', list(by_model))])) if by_model else {}
        for model, n in sorted(by_model.items(), key=lambda i: (-i[1], i[0])):
            lines.append(self._line(
                    'hot_model', model, model_names.get(model, model), n))
        for target, n in by_target:
            owner = self._owner(target)
            if owner:
                key, label = owner
                total = owners.get(key, (label, 0))[1] + n
                owners[key] = (label, total)
        for key, (label, n) in sorted(
                owners.items(), key=lambda i: (-i[1][1], i[0]))[:HOT_SPOTS]:
            lines.append(self._line('hot_owner', key, label, n))

    @classmethod
    def _owner(cls, target):
        """(key, label) of who is responsible for the reported record: its
        salesperson (employee) where the model has one"""
        pool = Pool()
        model, _, id_ = target.partition(',')
        try:
            Model = pool.get(model)
            id_ = int(id_)
        except (KeyError, ValueError):
            return None
        if 'employee' not in Model._fields:
            return None
        with Transaction().set_context(active_test=False):
            records = Model.search([('id', '=', id_)], limit=1)
        employee = records[0].employee if records else None
        if not employee:
            return None
        return str(employee), employee.rec_name

    def _compute_accuracy(self, summary, lines):
        "The share of reports filed in the category they ended in"
        pool = Pool()
        Report = pool.get('tipline.report')
        Category = pool.get('tipline.category')
        report = Report.__table__()
        cursor = Transaction().connection.cursor()
        start, end = self._bounds
        filed = Coalesce(report.filed_category, report.category)
        cursor.execute(*report.select(
                filed, Count(report.id),
                Sum(Case((report.category != filed, Literal(1)),
                        else_=Literal(0))),
                where=(report.submitted_at >= start)
                & (report.submitted_at < end),
                group_by=[filed]))
        rows = cursor.fetchall()
        total = sum(n for _, n, _ in rows)
        moved = sum(m or 0 for _, _, m in rows)
        summary['accuracy'] = share(total - moved, total)
        with Transaction().set_context(active_test=False):
            categories = {c.id: c for c in Category.browse(
                    [c for c, _, _ in rows])}
        for category_id, n, m in sorted(rows):
            category = categories[category_id]
            lines.append(self._line('accuracy', category.code,
                    category.name, share(n - (m or 0), n),
                    category=category.id))

    def _compute_campaigns(self, summary, lines):
        """Cases opened in the period by kind (one record, or one text on
        several records: a campaign), and the cases quarantined as possible
        report bombing"""
        pool = Pool()
        Case = pool.get('tipline.case')
        case = Case.__table__()
        cursor = Transaction().connection.cursor()
        start, end = self._bounds
        labels = dict(Case.kind.selection)
        cursor.execute(*case.select(case.kind, Count(case.id),
                where=(case.create_date >= start) & (case.create_date < end)
                & (case.state != 'merged'),
                group_by=[case.kind]))
        counts = dict(cursor.fetchall())
        for kind in ('target', 'campaign'):
            lines.append(self._line('campaign', 'kind:%s' % kind,
                    labels[kind], counts.get(kind, 0)))
        cursor.execute(*case.select(Count(case.id),
                where=(case.quarantined_at >= start)
                & (case.quarantined_at < end)))
        quarantined, = cursor.fetchone()
        lines.append(self._line('campaign', 'quarantined',
                gettext('tipline.msg_review_line_quarantined'), quarantined))

    def _compute_feedback(self, summary, lines):
        pool = Pool()
        Answer = pool.get('tipline.survey.answer')
        Suggestion = pool.get('tipline.suggestion')
        Configuration = pool.get('tipline.configuration')
        k = Configuration.current().survey_minimum_answers or 5
        figures = Answer.aggregate(self.start_date, self.end_date, k)
        summary['survey_answers'] = figures['count']
        for name in ('satisfaction', 'handled_fairly', 'would_report_again'):
            summary[name] = figures[name]
            lines.append(self._line(
                    'survey', name, self._field_string(name), figures[name]))
        lines.append(self._line('survey', 'survey_answers',
                self._field_string('survey_answers'), figures['count']))
        by_topic = Suggestion.count_by_topic(self.start_date, self.end_date)
        summary['suggestion_count'] = sum(n for _, _, n in by_topic)
        for topic, label, n in by_topic:
            lines.append(self._line('suggestion', topic, label, n))

    def compare(self, lines, previous):
        """Fill previous_value and alert on lines from the previous review;
        return the alert texts"""
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        config = Configuration.current()
        factor = config.review_alert_factor or 2.0
        minimum = config.review_alert_minimum or 3
        before = {}
        if previous:
            before = {(l.kind, l.key): l.value for l in previous.lines}
        kinds = dict(LINE_KINDS)
        alerts = []
        for line in lines:
            old = before.get((line['kind'], line['key']))
            line['previous_value'] = old
            value = line['value'] or 0
            # No trend without a previous review to compare with.
            line['alert'] = bool(previous and line['kind'] in TREND_KINDS
                and value >= minimum and value >= factor * (old or 0))
            if line['alert']:
                alerts.append(gettext('tipline.msg_review_alert',
                        kind=kinds[line['kind']], label=line['label'],
                        value=int(value), previous=int(old or 0)))
        return alerts

    # Reading ----------------------------------------------------------------

    @classmethod
    def get_survey_comments(cls, reviews, name):
        Answer = Pool().get('tipline.survey.answer')
        Configuration = Pool().get('tipline.configuration')
        k = Configuration.current().survey_minimum_answers or 5
        return {r.id: '\n\n'.join(Answer.comments(
                    r.start_date, r.end_date, k)) or None
            for r in reviews}

    def csv_rows(self):
        "The figures as CSV rows: no content, no identity"
        rows = [['period', 'start', 'end', 'kind', 'key', 'label', 'value',
                'previous_value', 'alert']]
        ranks = {}
        for line in self.lines:
            key, label = line.key, line.figure
            if line.kind in NAMED_KINDS:
                ranks[line.kind] = ranks.get(line.kind, 0) + 1
                key = label = '#%d' % ranks[line.kind]
            rows.append([self.period, self.start_date.isoformat(),
                    self.end_date.isoformat(), line.kind, key, label,
                    '' if line.value is None else line.value,
                    '' if line.previous_value is None
                    else line.previous_value,
                    '1' if line.alert else '0'])
        return rows

    def alert_lines(self):
        return (self.alerts or '').splitlines()

    def to_csv(self):
        output = io.StringIO()
        csv.writer(output, lineterminator='\n').writerows(self.csv_rows())
        return output.getvalue().encode('utf-8')

    @classmethod
    @ModelView.button
    def export_csv(cls, reviews):
        for review in reviews:
            review.csv_file = review.to_csv()
        cls.save(reviews)

    @classmethod
    @ModelView.button
    def invite(cls, reviews):
        "Invite the period's active users to give feedback"
        Invitation = Pool().get('tipline.invitation')
        for review in reviews:
            Invitation.invite(review)

    def chart(self, kind, width=24):
        """The lines of kind with a bar of block characters, for the
        printable review"""
        lines = [l for l in self.lines if l.kind == kind]
        top = max([l.value or 0 for l in lines] or [0])
        return [{
                'label': l.figure,
                'value': ('%g' % l.value) if l.value is not None else '-',
                'bar': '\u2588' * (
                    int(round(width * (l.value or 0) / top)) if top else 0),
                'alert': '!' if l.alert else '',
                } for l in lines]


class ReviewLine(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "One frozen figure of a review"
    __name__ = 'tipline.review.line'

    review = fields.Many2One(
        'tipline.review', "Review", required=True, ondelete='CASCADE',
        readonly=True)
    period_start = fields.Date("Period", required=True, readonly=True)
    kind = fields.Selection(LINE_KINDS, "Kind", required=True, readonly=True)
    kind_string = kind.translated('kind')
    key = fields.Char("Key", readonly=True)
    label = fields.Char("Label", readonly=True,
        help="The figure's name when the review was made, in the language "
        "of the job that made it.")
    figure = fields.Function(fields.Char("Figure",
            help="The figure's name in the reader's language."),
        'get_figure')
    category = fields.Many2One(
        'tipline.category', "Category", readonly=True, ondelete='SET NULL',
        context={'active_test': False})
    value = fields.Float("Value", readonly=True)
    previous_value = fields.Float("Previous Period", readonly=True)
    alert = fields.Boolean("Alert", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.kind, Index.Equality(cardinality='low')),
                (t.period_start, Index.Range())))
        cls._order = [('period_start', 'ASC'), ('kind', 'ASC'),
            ('value', 'DESC'), ('id', 'ASC')]

    @classmethod
    def get_figure(cls, lines, name):
        """The label of each line in the reader's language: the frozen label
        names the figure in the language the cron job ran in, but for every
        kind but the named records and people the key tells the figure"""
        pool = Pool()
        Review = pool.get('tipline.review')
        Report = pool.get('tipline.report')
        Case = pool.get('tipline.case')
        Suggestion = pool.get('tipline.suggestion')
        IrModel = pool.get('ir.model')
        kinds = {l.kind for l in lines}

        def selection(Model, field):
            return dict(Model.fields_get([field])[field]['selection'])
        strings = {}
        if kinds & REVIEW_FIELD_KINDS:
            strings = {n: d['string'] for n, d in Review.fields_get(
                    list({l.key for l in lines
                            if l.kind in REVIEW_FIELD_KINDS
                            and l.key in Review._fields})).items()}
        states = selection(Report, 'state') if 'state' in kinds else {}
        outcomes = selection(Report, 'outcome') if 'outcome' in kinds else {}
        case_kinds = selection(Case, 'kind') if 'campaign' in kinds else {}
        topics = (selection(Suggestion, 'topic')
            if 'suggestion' in kinds else {})
        models = {}
        if 'hot_model' in kinds:
            models = {m.name: m.string for m in IrModel.search([
                        ('name', 'in', [l.key for l in lines
                                if l.kind == 'hot_model']),
                        ])}
        result = {}
        for line in lines:
            figure = line.label
            if line.kind in REVIEW_FIELD_KINDS:
                figure = strings.get(line.key, figure)
            elif line.kind in {'category', 'accuracy'} and line.category:
                figure = line.category.name
            elif line.kind == 'state':
                figure = states.get(line.key, figure)
            elif line.kind == 'outcome':
                figure = outcomes.get(line.key, figure)
            elif line.kind == 'campaign':
                if line.key == 'quarantined':
                    figure = gettext('tipline.msg_review_line_quarantined')
                else:
                    figure = case_kinds.get(
                        (line.key or '').partition(':')[2], figure)
            elif line.kind == 'suggestion':
                figure = topics.get(line.key, figure)
            elif line.kind == 'hot_model':
                figure = models.get(line.key, figure)
            result[line.id] = figure
        return result


class ReviewDecision(ServerReadonly, AuthorlessRows,
        Workflow, ModelSQL, ModelView):
    """A decision taken in a review: which configuration record changed,
    which field, from what to what"""
    __name__ = 'tipline.review.decision'

    review = fields.Many2One(
        'tipline.review', "Review", required=True, ondelete='CASCADE')
    _draft = {'readonly': Eval('state') != 'draft'}
    kind = fields.Selection([
            ('category', "Category Changed"),
            ('sla', "SLA Changed"),
            ('weight', "Weight Changed"),
            ('other', "Other"),
            ], "Decision", required=True, states=_draft)
    record = fields.Reference(
        "Changed Record", selection=[
            ('tipline.category', "Category"),
            ('tipline.configuration', "Configuration"),
            ('tipline.jurisdiction', "Jurisdiction"),
            ('tipline.outcome_explanation', "Outcome Explanation"),
            ], required=True, states=_draft)
    field_name = fields.Char(
        "Field", required=True, states=_draft,
        help="The technical name of the field changed, "
        "e.g. hours_to_resolve.")
    old_value = fields.Char("Old Value", readonly=True)
    new_value = fields.Char("New Value", required=True, states=_draft)
    rationale = fields.Text("Rationale", states=_draft)
    announce = fields.Boolean(
        "Announce", states=_draft,
        help="Tell every user once, in the product, when it is applied.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('applied', "Applied"),
            ], "State", readonly=True, required=True)
    applied_at = fields.DateTime("Applied At", readonly=True)
    applied_by = fields.Many2One('res.user', "Applied By", readonly=True)
    announcement = fields.Many2One(
        'tipline.announcement', "Announcement", readonly=True)
    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {('draft', 'applied')}
        cls._buttons.update({
                'apply': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_announce(cls):
        return True

    def converted_value(self):
        "new_value as the type of the changed field"
        Model = type(self.record)
        field = Model._fields.get(self.field_name)
        if (field is None or self.field_name in {'id'}
                or isinstance(field, (fields.Function, fields.One2Many,
                        fields.Many2Many, fields.Binary))):
            raise ReviewError(gettext('tipline.msg_decision_field_unknown',
                    field=self.field_name))
        text = (self.new_value or '').strip()
        try:
            if isinstance(field, fields.Boolean):
                return text.lower() in {'1', 'true', 'yes', 'y'}
            if isinstance(field, fields.Integer):
                return int(text)
            if isinstance(field, fields.Float):
                return float(text)
            if isinstance(field, fields.Many2One):
                return int(text) if text else None
        except ValueError:
            raise ReviewError(gettext('tipline.msg_decision_value_invalid',
                    field=self.field_name, value=text))
        return text

    @classmethod
    @ModelView.button
    @Workflow.transition('applied')
    def apply(cls, decisions):
        pool = Pool()
        Announcement = pool.get('tipline.announcement')
        now = utcnow()
        for decision in decisions:
            record = decision.record
            value = decision.converted_value()
            old = getattr(record, decision.field_name)
            decision.old_value = str(getattr(old, 'id', old))
            type(record).write([record], {decision.field_name: value})
            decision.applied_at = now
            decision.applied_by = Transaction().user
            if decision.announce:
                decision.announcement = Announcement.for_decision(decision)
        cls.save(decisions)


class ReviewExport(Wizard):
    "Every figure of the selected reviews as one CSV file"
    __name__ = 'tipline.review.export'
    start = StateView('tipline.review.export.result',
        'tipline.review_export_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        pool = Pool()
        Review = pool.get('tipline.review')
        reviews = Review.browse(
            Transaction().context.get('active_ids') or [])
        if not reviews:
            raise ReviewError(gettext('tipline.msg_review_export_none'))
        rows = []
        for review in sorted(reviews, key=lambda r: r.start_date):
            review_rows = review.csv_rows()
            rows.extend(review_rows if not rows else review_rows[1:])
        output = io.StringIO()
        csv.writer(output, lineterminator='\n').writerows(rows)
        return {
            'file': output.getvalue().encode('utf-8'),
            'filename': 'tipline-reviews.csv',
            }


class ReviewExportResult(ModelView):
    "The CSV export of reviews"
    __name__ = 'tipline.review.export.result'
    file = fields.Binary("CSV", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)


class ReviewPrint(Report_):
    "The printable review"
    __name__ = 'tipline.review'
