"""Who works a report: moderator teams and assignment strategies.

A team is a Tryton group: its members who are also Tipline Moderators share
the reports of the categories that name it (every moderator, for categories
that name none).  The administrator picks one strategy for the whole
Tipline: manual (moderators take reports), round robin, or least loaded.
Nobody is ever given a report about themselves, or their own report, even
an anonymous one: its filer is known while it is filed, and excluded then."""
from sql import Null
from sql.aggregate import Count

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


class AssignmentMixin:
    "tipline.report's assignment: round robin or least loaded in the team"
    __slots__ = ()

    @classmethod
    def team_members(cls, category, reporter_token=None, subject_tokens=''):
        """The active moderators of category's team, by id, who may take a
        report by reporter_token about the users of subject_tokens"""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Keyset = pool.get('tipline.keyset')
        moderator = ModelData.get_id('tipline', 'group_tipline_moderator')
        domain = [('groups', '=', moderator)]
        if category.team:
            domain.append(('groups', '=', category.team.id))
        with without_check_access():
            users = User.search(domain, order=[('id', 'ASC')])
        subjects = set((subject_tokens or '').split())
        # The reporter acting now, anonymous or not, known only here.
        acting = filer()
        members = []
        for user in users:
            if user.id == acting:
                continue
            token = Keyset.reporter_token(user.id)
            if token in subjects or token == reporter_token:
                continue
            members.append(user.id)
        return members

    @classmethod
    def pick_assignee(cls, category, reporter_token=None, subject_tokens='',
            exclude=()):
        "The moderator the configured strategy gives the next report to"
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        method = Configuration(1).assignment_method or 'manual'
        if method == 'manual':
            return None
        members = [u for u in cls.team_members(
                category, reporter_token, subject_tokens)
            if u not in set(exclude)]
        if not members:
            return None
        if method == 'round_robin':
            return cls._next_in_turn(category.team, members)
        return cls._least_loaded(members)

    @classmethod
    def _next_in_turn(cls, team, members):
        Cursor = Pool().get('tipline.team_cursor')
        team_id = team.id if team else None
        with without_check_access():
            cursors = Cursor.search([('team', '=', team_id)], limit=1)
            if not cursors:
                cursors = Cursor.create([{'team': team_id}])
            cursor, = cursors
            # Workers taking turns on PostgreSQL wait for each other here.
            Cursor.lock([cursor])
            cursor = Cursor(cursor.id)
            last = cursor.last_user.id if cursor.last_user else 0
            following = [u for u in members if u > last]
            chosen = following[0] if following else members[0]
            Cursor.write([cursor], {'last_user': chosen})
        return chosen

    @classmethod
    def _least_loaded(cls, members):
        "The member with fewest open reports, counted in one indexed query"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.assigned_to, Count(table.id),
                where=table.state.in_(OPEN_STATES)
                & (table.assigned_to != Null)
                & table.assigned_to.in_(members),
                group_by=[table.assigned_to]))
        load = dict(cursor.fetchall())
        return min(members, key=lambda u: (load.get(u, 0), u))

    @classmethod
    def initial_assignee(cls, category, reporter_token, subject_tokens):
        assignee = super().initial_assignee(
            category, reporter_token, subject_tokens)
        if assignee:
            return assignee
        return cls.pick_assignee(category, reporter_token, subject_tokens)

    @classmethod
    def assign_unassigned(cls, reports):
        with without_check_access():
            for report in reports:
                if report.assigned_to:
                    continue
                assignee = cls.pick_assignee(report.category,
                    report.reporter_token, report.subject_tokens)
                if assignee:
                    cls.write([report], {'assigned_to': assignee})
        super().assign_unassigned(
            [cls(r.id) for r in reports])
