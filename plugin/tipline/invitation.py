"""Invitations to give feedback (#6): a review invites the users who took
part in its period, by e-mail through the mail queue and in the product,
where the suggestion box shows the invitation until they answer.

An invitation names its user only by the keyed token that also stands for
them on their reports; its mail row keeps the address encrypted and drops it
once sent, as for any mail to a reporter."""
from sql import Null

from trytond.backend import MAX_QUERY_PARAMS
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .authorless import AuthorlessRows
from .notification import mail_language
from .readonly import ServerReadonly


class Invitation(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    """An invitation to give feedback, for a user known only by the keyed
    token that also stands for them on their reports"""
    __name__ = 'tipline.invitation'

    review = fields.Many2One(
        'tipline.review', "Review", required=True, readonly=True,
        ondelete='CASCADE')
    token = fields.Char("Token", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('review_token_unique', Unique(t, t.review, t.token),
                'tipline.msg_invitation_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.token, Index.Equality())))

    @classmethod
    def active_tokens(cls, review, tokens):
        """The tokens, among tokens, of users who reported in the review's
        period or whose reports were upheld in it"""
        Report = Pool().get('tipline.report')
        report = Report.__table__()
        cursor = Transaction().connection.cursor()
        start, end = review._bounds
        found = set()
        tokens = sorted(tokens)
        for sub_tokens in grouped_slice(tokens, MAX_QUERY_PARAMS):
            cursor.execute(*report.select(report.reporter_token,
                    where=report.reporter_token.in_(list(sub_tokens))
                    & (((report.submitted_at >= start)
                            & (report.submitted_at < end))
                        | ((report.outcome == 'upheld')
                            & (report.resolved_at >= start)
                            & (report.resolved_at < end))),
                    group_by=[report.reporter_token]))
            found.update(t for t, in cursor.fetchall())
        return found

    @classmethod
    def invite(cls, review):
        """Invite the active users of review's period in the product and by
        e-mail; the mail is queued, sent once the transaction commits"""
        pool = Pool()
        User = pool.get('res.user')
        Keyset = pool.get('tipline.keyset')
        Queue = pool.get('tipline.mail_queue')
        with without_check_access():
            users = User.search([('active', '=', True), ('id', '!=', 0)])
            by_token = {Keyset.reporter_token(u.id): u for u in users}
            active = cls.active_tokens(review, by_token)
            already = {i.token for i in cls.search([
                        ('review', '=', review.id),
                        ('token', 'in', list(active)),
                        ])}
            new = sorted(active - already)
            cls.create([{'review': review.id, 'token': t} for t in new])
            cls._forget_author(new)
            Queue.enqueue(list(filter(None, (
                            cls._mail_row(by_token[t], review)
                            for t in new))))
        return len(new)

    @classmethod
    def _forget_author(cls, tokens):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        if tokens:
            cursor.execute(*table.update(
                    [table.create_uid, table.write_uid], [Null, Null],
                    where=table.token.in_(tokens)))

    @staticmethod
    def _mail_row(user, review):
        "The mail queue row of user's invitation; None without an address"
        if not (user.email or '').strip():
            return None
        return {
            'review': review.id,
            'recipient': user.email.strip(),
            # The address tells that its owner reported: kept as a
            # reporter's is, encrypted and dropped once sent.
            'to_reporter': True,
            'template': 'invitation',
            'language': mail_language(
                user.language.code if user.language else None),
            }

    @classmethod
    def pending_for_current_user(cls):
        Keyset = Pool().get('tipline.keyset')
        token = Keyset.reporter_token(Transaction().user)
        with without_check_access():
            return cls.search([('token', '=', token)],
                order=[('id', 'DESC')])
