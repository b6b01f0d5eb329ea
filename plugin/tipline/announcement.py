"""Announcements (#6): a change to the mechanism decided in a review, told
once to every user: in the Announcements list, and at the top of the Report
wizard (submit.py) the next time they open it."""
from sql import Null

from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .authorless import AuthorlessRows
from .clock import now as utcnow
from .help import help_url
from .readonly import ServerReadonly


class Announcement(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "A change to the mechanism, told once to every user"
    __name__ = 'tipline.announcement'

    title = fields.Char("Title", required=True, translate=True)
    body = fields.Text("Text", translate=True)
    date = fields.Date("Date", required=True)
    decision = fields.Many2One(
        'tipline.review.decision', "Decision", readonly=True,
        ondelete='SET NULL')
    help_url = fields.Function(fields.Char("Help"), 'get_help_url')
    seen = fields.Function(
        fields.Boolean("Seen"), 'get_seen', searcher='search_seen')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'mark_seen': {
                    'invisible': Bool(Eval('seen')),
                    'icon': 'tryton-ok',
                    'depends': ['seen'],
                    },
                })
        # Everyone may mark an announcement as seen for themselves.
        cls.__rpc__['mark_seen'] = RPC(readonly=False, instantiate=0)

    @classmethod
    def default_date(cls):
        return utcnow().date()

    def get_help_url(self, name):
        return help_url()

    @classmethod
    def get_seen(cls, announcements, name):
        Seen = Pool().get('tipline.announcement.seen')
        with without_check_access():
            seen = {s.announcement.id for s in Seen.search([
                        ('user', '=', Transaction().user),
                        ('announcement', 'in',
                            [a.id for a in announcements]),
                        ])}
        return {a.id: a.id in seen for a in announcements}

    @classmethod
    def search_seen(cls, name, clause):
        pool = Pool()
        Seen = pool.get('tipline.announcement.seen')
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        seen = Seen.__table__()
        query = seen.select(seen.announcement,
            where=seen.user == Transaction().user)
        if (operator == '=') == bool(value):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]

    @classmethod
    def mark_seen(cls, announcements):
        Seen = Pool().get('tipline.announcement.seen')
        user = Transaction().user
        cls.read([a.id for a in announcements], ['id'])
        with without_check_access():
            already = {s.announcement.id for s in Seen.search([
                        ('user', '=', user),
                        ('announcement', 'in',
                            [a.id for a in announcements]),
                        ])}
            seen = Seen.create([{'announcement': a.id, 'user': user}
                    for a in announcements if a.id not in already])
            Seen.forget_when(seen)

    @classmethod
    def unseen(cls):
        "The announcements the current user has not marked as seen"
        return cls.search([('seen', '=', False)])

    @classmethod
    def tell_unseen(cls):
        """The current user's unseen announcements as text, for the Report
        wizard; they count as seen once shown"""
        unseen = cls.unseen()
        if not unseen:
            return None
        cls.mark_seen(unseen)
        return '\n\n'.join(
            '%s\n%s\n%s' % (a.title, a.body or '', a.help_url)
            for a in unseen)

    @classmethod
    def for_decision(cls, decision):
        "The announcement of a decision applied in a review"
        record = decision.record
        field = type(record)._fields[decision.field_name]
        announcement, = cls.create([{
                    'title': gettext('tipline.msg_announcement_title',
                        record=record.rec_name),
                    'body': gettext('tipline.msg_announcement_body',
                        field=field.string, record=record.rec_name,
                        value=decision.new_value),
                    'decision': decision.id,
                    }])
        return announcement


class AnnouncementSeen(ServerReadonly, AuthorlessRows, ModelSQL):
    "That a user has read an announcement"
    __name__ = 'tipline.announcement.seen'

    announcement = fields.Many2One(
        'tipline.announcement', "Announcement", required=True,
        ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('announcement_user_unique',
                Unique(t, t.announcement, t.user),
                'tipline.msg_announcement_seen_unique'),
            ]

    @classmethod
    def forget_when(cls, seen):
        """Keep that a user read an announcement, not when: the Report
        wizard shows them, and the time would tell when the user opened it,
        shortly before an anonymous report perhaps.  The rows take the
        announcement's own time and no author."""
        pool = Pool()
        Announcement = pool.get('tipline.announcement')
        table = cls.__table__()
        announcement = Announcement.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice([s.id for s in seen], MAX_QUERY_PARAMS):
            cursor.execute(*table.update(
                    [table.create_uid, table.create_date],
                    [Null, announcement.select(announcement.create_date,
                            where=announcement.id == table.announcement)],
                    where=fields.SQL_OPERATORS['in'](table.id, sub_ids)))
