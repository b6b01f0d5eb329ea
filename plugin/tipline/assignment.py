"""Who works a report: moderator teams and assignment strategies.

A team is a Tryton group: its members who are also Tipline Moderators share
the reports of the categories that name it (every moderator, for categories
that name none).  The administrator picks one strategy for the whole
Tipline: manual (moderators take reports), round robin, or least loaded.
Nobody is ever given a report about themselves, or their own report, even
an anonymous one: its filer is known while it is filed, and excluded then."""
from collections import Counter

from sql import Null
from sql.aggregate import Count
from sql.conditionals import Coalesce

from trytond import backend
from trytond.model import ModelSQL, fields
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from .authorless import AuthorlessRows, filer
from .readonly import ServerReadonly
from .states import OPEN_STATES

STRATEGIES = [
    ('manual', "Manual"),
    ('round_robin', "Round Robin"),
    ('least_loaded', "Least Loaded"),
    ]
# A turn taken at the same moment by another filing is taken again.
TURN_TRIES = 10


class AssignmentConfigurationMixin:
    "How new reports are assigned"
    __slots__ = ()

    assignment_method = fields.Selection(
        STRATEGIES, "Assignment", required=True, sort=False,
        help="Manual: moderators take or hand out reports.\n"
        "Round robin: new reports go to the team's moderators in turn.\n"
        "Least loaded: new reports go to the moderator with the fewest "
        "open reports.")

    @classmethod
    def default_assignment_method(cls):
        return 'least_loaded'


class AssignmentCategoryMixin:
    "The team that receives a category's reports"
    __slots__ = ()

    team = fields.Many2One(
        'res.group', "Moderator Team", ondelete='RESTRICT',
        help="The group whose moderators handle this category; empty for "
        "every Tipline Moderator.")


class TeamCursor(ServerReadonly, AuthorlessRows, ModelSQL):
    "Where round robin assignment stopped, for one team"
    __name__ = 'tipline.team_cursor'

    team = fields.Many2One('res.group', "Team", ondelete='CASCADE')
    last_user = fields.Many2One('res.user', "Last Assignee",
        ondelete='SET NULL')
    turns = fields.Integer("Turns", readonly=True,
        help="How many reports the cursor has given out.")

    @classmethod
    def default_turns(cls):
        return 0

    @classmethod
    def take_turn(cls, team, members):
        """The first of members after the last one team's cursor gave a
        report to, now the last one; in SQL, with no time or user written,
        which would tell when an anonymous report was filed"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        team_id = team.id if team else None
        query = table.select(table.id, table.last_user,
            where=(table.team == team_id) if team_id
            else (table.team == Null),
            order_by=[table.id.asc], limit=1)
        cursor.execute(*query)
        row = cursor.fetchone()
        if row is None:
            cursor.execute(*table.insert([table.team], [[team_id]]))
            cursor.execute(*query)
            row = cursor.fetchone()
        cursor_id, last = row
        following = [u for u in members if u > (last or 0)]
        chosen = following[0] if following else members[0]
        cursor.execute(*table.update([table.last_user, table.turns],
                [chosen, Coalesce(table.turns, 0) + 1],
                where=table.id == cursor_id))
        return chosen


class AssignmentMixin:
    "tipline.report's assignment: round robin or least loaded in the team"
    __slots__ = ()

    @classmethod
    def team_members(cls, category, reporter_token=None, subject_tokens=''):
        """The active moderators of category's team, by id, who may take a
        report by reporter_token about the users of subject_tokens"""
        Keyset = Pool().get('tipline.keyset')
        subjects = set((subject_tokens or '').split())
        # The reporter acting now, anonymous or not, known only here.
        acting = filer()
        members = []
        for user in cls.team_moderators(category.team):
            if user == acting:
                continue
            token = Keyset.reporter_token(user)
            if token in subjects or token == reporter_token:
                continue
            members.append(user)
        return members

    @classmethod
    def team_moderators(cls, team):
        "The ids of the active moderators in team (or in any team if None)"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        moderator = ModelData.get_id('tipline', 'group_tipline_moderator')
        domain = [('groups', '=', moderator)]
        if team:
            domain.append(('groups', '=', team.id))
        with without_check_access():
            return [u.id for u in User.search(domain, order=[('id', 'ASC')])]

    @classmethod
    def pick_assignee(cls, category, reporter_token=None, subject_tokens='',
            exclude=(), pending=None):
        """The moderator the configured strategy gives the next report to;
        pending counts reports given to moderators and not yet written"""
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        method = Configuration.current().assignment_method or 'manual'
        if method == 'manual':
            return None
        members = [u for u in cls.team_members(
                category, reporter_token, subject_tokens)
            if u not in set(exclude)]
        if not members:
            return None
        if method == 'round_robin':
            return cls._next_in_turn(category.team, members)
        return cls._least_loaded(members, pending)

    @classmethod
    def _next_in_turn(cls, team, members):
        """The next member in team's turn.  On PostgreSQL the turn is taken
        in a short transaction of its own, committed before the filing goes
        on: filings in any process then never wait for each other's commit
        (held to the commit, the cursor's lock made them fail with 503 once
        trytond's lock retries ran out), and a filing that fails afterwards
        costs its moderator one turn.  SQLite has one writer at a time, and a
        team or moderators created in this transaction are seen by no other:
        then the turn is taken here."""
        Cursor = Pool().get('tipline.team_cursor')
        created = Transaction().create_records
        if (backend.name != 'postgresql'
                # Rows this transaction created are seen by no other.
                or (team and team.id in created['res.group'])
                or set(members) & set(created['res.user'])):
            return Cursor.take_turn(team, members)
        for attempt in range(TURN_TRIES):
            try:
                with Transaction().new_transaction():
                    return Cursor.take_turn(team, members)
            except backend.DatabaseOperationalError:
                # Another filing took this turn since this one looked.
                if attempt + 1 == TURN_TRIES:
                    raise

    @classmethod
    def _least_loaded(cls, members, pending=None):
        "The member with fewest open reports, counted in one indexed query"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.assigned_to, Count(table.id),
                where=table.state.in_(OPEN_STATES)
                & (table.assigned_to != Null)
                & table.assigned_to.in_(members),
                group_by=[table.assigned_to]))
        load = Counter(dict(cursor.fetchall()))
        load.update(pending or {})
        return min(members, key=lambda u: (load[u], u))

    @classmethod
    def initial_assignee(cls, category, reporter_token, subject_tokens):
        assignee = super().initial_assignee(
            category, reporter_token, subject_tokens)
        if assignee:
            return assignee
        return cls.pick_assignee(category, reporter_token, subject_tokens)

    @classmethod
    def unassigned_assignees(cls, reports):
        "The team's pick for each report nobody holds, else the mover"
        picked = {}
        with without_check_access():
            for report in reports:
                if report.assigned_to:
                    continue
                # The load counts the picks not yet written.
                assignee = cls.pick_assignee(report.category,
                    report.reporter_token, report.subject_tokens,
                    pending=Counter(picked.values()))
                if assignee:
                    picked[report] = assignee
        rest = [r for r in reports if r not in picked]
        return {**super().unassigned_assignees(rest), **picked}
