from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction



class Evidence(ModelSQL, ModelView):
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
    name_enc = fields.Binary("Encrypted Name", readonly=True)
    data_enc = fields.Binary("Encrypted Data", readonly=True)
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
        Keyset = Pool().get('tipline.keyset')
        result = {name: {} for name in names}
        for evidence in evidences:
            for name in names:
                plaintext = Keyset.decrypt(
                    cls.__name__, name, evidence.id,
                    getattr(evidence, name + '_enc'))
                if name == 'name' and plaintext is not None:
                    plaintext = plaintext.decode('utf-8')
                result[name][evidence.id] = plaintext
        return result

    @classmethod
    def attach(cls, report, files):
        """Store files, a list of (name, bytes), as the evidence of report.

        The rows are created first: their ids are part of the associated
        data that binds each ciphertext to its place."""
        Keyset = Pool().get('tipline.keyset')
        evidences = cls.create([{
                    'report': report.id,
                    'reference': '%s/%d' % (report.tracking_number, position),
                    'size': len(data),
                    } for position, (_, data) in enumerate(files, 1)])
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for evidence, (name, data) in zip(evidences, files):
            cursor.execute(*table.update(
                    [table.name_enc, table.data_enc],
                    [cls.name_enc.sql_format(Keyset.encrypt(
                                cls.__name__, 'name', evidence.id, name)),
                        cls.data_enc.sql_format(Keyset.encrypt(
                                cls.__name__, 'data', evidence.id, data))],
                    where=table.id == evidence.id))
        return evidences
