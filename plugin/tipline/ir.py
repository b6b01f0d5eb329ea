from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# Models whose record rules compare rows with the current reporter.
USER_RULE_MODELS = {
    'tipline.report', 'tipline.evidence', 'tipline.audit_event',
    'tipline.case'}


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name in USER_RULE_MODELS:
            pool = Pool()
            Keyset = pool.get('tipline.keyset')
            token = Keyset.reporter_token(Transaction().user)
            context['tipline_reporter_token'] = token
            context['tipline_subject_pattern'] = '%' + token + '%'

        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if model_names & USER_RULE_MODELS:
            key = (*key, Transaction().user)
        return key


class Cron(metaclass=PoolMeta):
    "Tipline's timed jobs, run by trytond-cron"
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('tipline.mail_queue|send_pending', "Send Tipline Mail"),
                ('tipline.report|escalate', "Escalate Tipline Reports"),
                ('tipline.report|close_decided',
                    "Close Decided Tipline Reports"),
                ('tipline.report|rescore_open', "Rescore Tipline Reports"),
                ('tipline.report|index_unfiled',
                    "Index Tipline Reports Filed Before Cases"),
                ('tipline.review|create_due', "Create Tipline Reviews"),
                ('tipline.report.signature|resign',
                    "Re-sign Tipline Reports' Near-Duplicate Signatures"),
                ('tipline.report|conversation_cron',
                    "Remind Reporters and Return Unanswered Reports"),
                ('tipline.report|apply_retention',
                    "Apply the Tipline Retention Policy"),
                ])


class ResourceRefused:
    """The host's notes and attachments are stored in clear and readable by
    whoever reads the record: on Tipline's records they would leak what the
    encryption protects, and staff notes would reach the reporter.  They are
    refused there; evidence and the moderators' encrypted notes take their
    place."""
    __slots__ = ()

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        # Records as they are (created, or before a write), and where a
        # write would move them.
        resources = [str(r.resource or '') for r in records]
        if values and values.get('resource'):
            resources.append(str(values['resource']))
        if any(r.startswith('tipline.') for r in resources):
            raise AccessError(gettext('tipline.msg_no_host_attachments'))


class Attachment(ResourceRefused, metaclass=PoolMeta):
    __name__ = 'ir.attachment'


class Note(ResourceRefused, metaclass=PoolMeta):
    __name__ = 'ir.note'
