
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import clock
from .audit import digest
from .authorless import AuthorlessRows
from .exceptions import IdentityRevealError
from .readonly import ServerReadonly

MIN_REASON_LENGTH = 20


class IdentityAccess(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "A reveal of a reporter's identity, with who did it and why"
    __name__ = 'tipline.identity_access'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, readonly=True,
        ondelete='RESTRICT')
    custodian = fields.Many2One(
        'res.user', "Custodian", required=True, readonly=True,
        ondelete='RESTRICT')
    accessed_at = fields.DateTime("Accessed At", required=True, readonly=True)
    reason = fields.Text("Reason", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('accessed_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise IdentityRevealError(
                gettext('tipline.msg_identity_access_append_only'))


class RevealIdentityStart(ModelView):
    "Reveal a reporter's identity"
    __name__ = 'tipline.report.reveal_identity.start'

    tracking_number = fields.Char("Tracking Number", readonly=True)
    reason = fields.Text(
        "Reason", required=True,
        help="Why the identity must be known. The reporter is told that "
        "their identity was accessed; the reason is kept with the report.")
    warning = fields.Text("Warning", readonly=True)


class RevealIdentityResult(ModelView):
    "Reporter's identity"
    __name__ = 'tipline.report.reveal_identity.result'

    name = fields.Char("Name", readonly=True)
    login = fields.Char("Login", readonly=True)


class RevealIdentity(Wizard):
    "Reveal the identity of a report's author, for a written reason"
    __name__ = 'tipline.report.reveal_identity'

    start = StateView('tipline.report.reveal_identity.start',
        'tipline.report_reveal_identity_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reveal", 'reveal', 'tryton-ok', default=True),
            ])
    reveal = StateTransition()
    result = StateView('tipline.report.reveal_identity.result',
        'tipline.report_reveal_identity_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        if self.record.anonymous:
            raise IdentityRevealError(gettext(
                    'tipline.msg_identity_anonymous',
                    report=self.record.rec_name))
        return {
            'tracking_number': self.record.tracking_number,
            'warning': gettext('tipline.msg_identity_reveal_warning'),
            }

    def transition_reveal(self):
        pool = Pool()
        Access = pool.get('tipline.identity_access')
        Event = pool.get('tipline.audit_event')
        report = self.record
        reason = (self.start.reason or '').strip()
        if len(reason) < MIN_REASON_LENGTH:
            raise IdentityRevealError(gettext(
                    'tipline.msg_identity_reason_too_short',
                    minimum=MIN_REASON_LENGTH))
        identity = report.reporter_identity()
        if not identity:
            raise IdentityRevealError(gettext(
                    'tipline.msg_identity_anonymous',
                    report=report.rec_name))
        # Only custodians run this wizard; the record of it is append-only.
        with without_check_access():
            Access.create([{
                        'report': report.id,
                        'custodian': Transaction().user,
                        'accessed_at': clock.now(),
                        'reason': reason,
                        }])
        Event.append(report, 'reveal', {'reason_sha256': digest(reason)})
        self._identity = identity
        return 'result'

    def default_result(self, fields):
        identity = getattr(self, '_identity', None) or {}
        return {
            'name': identity.get('name'),
            'login': identity.get('login'),
            }
