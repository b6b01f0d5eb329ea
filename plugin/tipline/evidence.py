import hashlib

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import without_check_access

from . import metadata
from .authorless import AuthorlessRows
from .clock import now as utcnow
from .encrypted import Encrypted, decrypt_values, encrypt, store_encrypted
from .exceptions import EvidenceError
from .readonly import ServerReadonly

ORIGINS = [
    ('reporting_person', "Reporter"),
    ('moderator', "Moderators"),
    ]


class Evidence(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    """A file attached to a report, stored encrypted: a copy cleaned of its
    metadata for whoever reads the report, the original for the identity
    custodians"""
    __name__ = 'tipline.evidence'
    # The file name is encrypted: records are named by their reference.
    _rec_name = 'reference'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, ondelete='CASCADE',
        readonly=True)
    message = fields.Many2One(
        'tipline.message', "Message", ondelete='CASCADE', readonly=True,
        help="The message of the conversation the file came with.")
    origin = fields.Selection(ORIGINS, "From", readonly=True)
    reference = fields.Char(
        "Reference", readonly=True,
        help="The report's tracking number and the file's position.")
    name_enc = Encrypted("Encrypted Name", 'name', report='report')
    data_enc = Encrypted("Encrypted Cleaned Data", 'data', report='report')
    original_enc = Encrypted(
        "Encrypted Original", 'original', report='report')
    size = fields.Integer("Size (bytes)", readonly=True)
    content_type = fields.Char("Content Type", readonly=True,
        help="The type read from the file's content, not from its name.")
    metadata_removed = fields.Text("Metadata Removed", readonly=True,
        help="The kinds of metadata the original carried, which the copy "
        "shown here no longer has.")
    added_at = fields.DateTime("Added At", readonly=True)
    name = fields.Function(fields.Char("File Name"), 'get_plaintext')
    data = fields.Function(
        fields.Binary("File", filename='name',
            help="A copy of the file without its metadata."),
        'get_plaintext')
    original = fields.Function(
        fields.Binary("Original File", filename='name',
            help="The file as the reporter sent it, with its metadata; for "
            "the identity custodians only."),
        'get_original')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Whoever may read the report may read its evidence, no one else.
        cls.__access__.add('report')
        cls._order = [('report', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_origin(cls):
        return 'reporting_person'

    @classmethod
    def get_plaintext(cls, evidences, names):
        result = {}
        for name in names:
            values = decrypt_values(evidences, name, text=name == 'name')
            if name == 'name':
                # Shown, never obeyed: no override reorders the name.
                values = {k: metadata.safe_name(v) for k, v in values.items()}
            result[name] = values
        return result

    @classmethod
    def get_original(cls, evidences, name):
        from .access import in_groups
        if not in_groups('group_tipline_custodian'):
            return {e.id: None for e in evidences}
        return decrypt_values(evidences, 'original', text=False)

    @classmethod
    def check_files(cls, report, files):
        """Refuse files beyond the limits of size and count, or whose
        content is not what their name says; report is None at filing"""
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        config = Configuration.current()
        limit = config.max_evidence_size * 1024 * 1024
        count = 0
        if report is not None:
            with without_check_access():
                count = cls.search([('report', '=', report.id)], count=True)
        if count + len(files) > config.max_evidence_files:
            raise EvidenceError(gettext('tipline.msg_evidence_too_many',
                    maximum=config.max_evidence_files))
        for name, data in files:
            if not (name or '').strip():
                raise EvidenceError(
                    gettext('tipline.msg_submit_evidence_no_name'))
            if len(data) > limit:
                raise EvidenceError(gettext(
                        'tipline.msg_submit_evidence_too_large',
                        maximum=config.max_evidence_size))
            metadata.sniff(name, data)

    @classmethod
    def filing_values(cls, filing, ids):
        """The rows of a report's evidence as filing writes them: each file
        cleaned of its metadata, the original kept for custodians"""
        report_id, = filing.ids['report']
        rows = []
        for position, (evidence_id, (name, data)) in enumerate(
                zip(ids, filing.evidence), 1):
            data = bytes(data)
            found = metadata.inspect(name, data)
            cleaned = metadata.clean(name, data)
            rows.append({
                    'id': evidence_id,
                    'report': report_id,
                    'origin': 'reporting_person',
                    'reference': '%s/%d' % (filing.tracking_number, position),
                    'size': len(cleaned),
                    'content_type': metadata.sniff(name, data),
                    'metadata_removed': '\n'.join(sorted(
                            {key for key, _ in found})) or None,
                    'added_at': filing.now,
                    'name_enc': encrypt(cls.__name__, 'name', evidence_id,
                        name, data_key=filing.data_key),
                    'data_enc': encrypt(cls.__name__, 'data', evidence_id,
                        cleaned, data_key=filing.data_key),
                    'original_enc': encrypt(cls.__name__, 'original',
                        evidence_id, data, data_key=filing.data_key),
                    })
        return rows

    @classmethod
    def attach(cls, report, files, origin='reporting_person', message=None):
        """Store files, a list of (name, bytes), as the evidence of report:
        the original and a copy cleaned of its metadata, both encrypted.

        The rows are created first: their ids are part of the associated
        data that binds each ciphertext to its place."""
        pool = Pool()
        Event = pool.get('tipline.audit_event')
        files = [((n or '').strip(), bytes(d)) for n, d in files if d]
        if not files:
            return []
        with without_check_access():
            cls.check_files(report, files)
            # A filing's files are counted in its submission event.
            filing = not Event.search([('report', '=', report.id)], limit=1)
            existing = cls.search([('report', '=', report.id)], count=True)
            prepared = []
            for name, data in files:
                found = metadata.inspect(name, data)
                prepared.append((name, data, metadata.clean(name, data),
                        metadata.sniff(name, data), found))
            now = utcnow()
            evidences = cls.create([{
                        'report': report.id,
                        'message': message.id if message else None,
                        'origin': origin,
                        'reference': '%s/%d' % (
                            report.tracking_number, existing + position),
                        'size': len(cleaned),
                        'content_type': content_type,
                        # Which kinds, never their values.
                        'metadata_removed': '\n'.join(sorted(
                                {key for key, _ in found})) or None,
                        'added_at': now,
                        } for position, (_, _, cleaned, content_type, found)
                    in enumerate(prepared, 1)])
            store_encrypted(cls, {e.id: {
                        'name': name, 'data': cleaned, 'original': data}
                    for e, (name, data, cleaned, _, _)
                    in zip(evidences, prepared)})
            for evidence, (_, data, cleaned, content_type, found) in zip(
                    evidences, prepared if not filing else []):
                # Digests prove which file it was without holding it.
                Event.append(report, 'evidence', {
                        'from': origin,
                        'reference': evidence.reference,
                        'type': content_type,
                        'original_sha256': hashlib.sha256(data).hexdigest(),
                        'cleaned_sha256': hashlib.sha256(cleaned).hexdigest(),
                        'metadata_removed': str(len(found)),
                        }, actor='' if origin == 'reporting_person' else None)
        return evidences
