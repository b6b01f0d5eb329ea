from trytond.model import ModelSQL, ModelView, fields

from .authorless import AuthorlessRows
from .encrypted import Encrypted, decrypt_values, store_encrypted
from .readonly import ServerReadonly



class Evidence(ServerReadonly, AuthorlessRows, ModelSQL, ModelView):
    "A file attached to a report, stored encrypted"
    __name__ = 'tipline.evidence'
    # The file name is encrypted: records are named by their reference.
    _rec_name = 'reference'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, ondelete='CASCADE',
        readonly=True)
    reference = fields.Char(
        "Reference", readonly=True,
        help="The report's tracking number and the file's position.")
    name_enc = Encrypted("Encrypted Name", 'name')
    data_enc = Encrypted("Encrypted Data", 'data')
    size = fields.Integer("Size (bytes)", readonly=True)
    name = fields.Function(fields.Char("File Name"), 'get_plaintext')
    data = fields.Function(
        fields.Binary("File", filename='name'), 'get_plaintext')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Whoever may read the report may read its evidence, no one else.
        cls.__access__.add('report')

    @classmethod
    def get_plaintext(cls, evidences, names):
        return {name: decrypt_values(evidences, name, text=name == 'name')
            for name in names}

    @classmethod
    def attach(cls, report, files):
        """Store files, a list of (name, bytes), as the evidence of report.

        The rows are created first: their ids are part of the associated
        data that binds each ciphertext to its place."""
        evidences = cls.create([{
                    'report': report.id,
                    'reference': '%s/%d' % (report.tracking_number, position),
                    'size': len(data),
                    } for position, (_, data) in enumerate(files, 1)])
        store_encrypted(cls, {e.id: {'name': name, 'data': data}
                for e, (name, data) in zip(evidences, files)})
        return evidences
