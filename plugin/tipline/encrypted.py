"""The one declaration of an encrypted column.

A model stores a value encrypted by declaring its ciphertext column once::

    description_enc = Encrypted("Encrypted Description", 'description')

and reading the plaintext through ``decrypt_values`` (usually from a
Function field named after it).  Each ciphertext is bound, through its
associated data (keys.associated_data), to the model, the plaintext field's
name and the row id, so
a ciphertext copied into another row or column does not decrypt.

Nothing keeps a list of these columns: ``encrypted_columns()`` finds every
``Encrypted`` field of every model in the pool.  The key tools (status,
re-encryption, disable, destroy) and the at-rest tests walk it, so a column
declared this way can never be missed by a rotation.
"""
import collections

from trytond.model import ModelSQL, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .cache import invalidate

# An encrypted column: the model and field its associated data names, and
# where it lives in SQL.
EncryptedColumn = collections.namedtuple(
    'EncryptedColumn', ['model', 'field', 'table', 'column'])


class Encrypted(fields.Binary):
    """A column of ciphertexts of the value called plaintext.

    It is never written through the ORM: ``store_encrypted`` writes it with
    the row id in the associated data, and every RPC write is refused."""

    def __init__(self, string, plaintext, **kwargs):
        kwargs['readonly'] = True
        super().__init__(string, **kwargs)
        self.plaintext = plaintext


def encrypt(model, field, record_id, plaintext):
    "The ciphertext of plaintext (str or bytes) in its place; None for None"
    return Pool().get('tipline.keyset').encrypt(
        model, field, record_id, plaintext)


def decrypt(model, field, record_id, ciphertext):
    "Plaintext bytes; raises tipline_core.DecryptionError on any failure"
    return Pool().get('tipline.keyset').decrypt(
        model, field, record_id, ciphertext)


def _column(Model, name):
    "The Encrypted field that holds name of Model"
    field = Model._fields.get(name + '_enc')
    if not isinstance(field, Encrypted):
        raise KeyError('%s.%s is not declared Encrypted' % (
                Model.__name__, name))
    return field


def decrypt_values(records, name, text=True):
    "{id: plaintext of name} of records (str when text, else bytes)"
    if not records:
        return {}
    Model = type(records[0])
    _column(Model, name)
    result = {}
    for record in records:
        value = decrypt(Model.__name__, name, record.id,
            getattr(record, name + '_enc'))
        if text and value is not None:
            value = value.decode('utf-8')
        result[record.id] = value
    return result


def store_encrypted(Model, values):
    """Write {record id: {name: plaintext or None}} as ciphertexts, one
    UPDATE a row, behind the ORM (the ids are in the associated data)"""
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    for record_id, names in values.items():
        columns, sql_values = [], []
        for name, plaintext in names.items():
            field = _column(Model, name)
            columns.append(getattr(table, name + '_enc'))
            sql_values.append(field.sql_format(encrypt(
                        Model.__name__, name, record_id, plaintext)))
        if columns:
            cursor.execute(*table.update(
                    columns, sql_values, where=table.id == record_id))
    invalidate(Model, list(values))


def encrypted_columns(pool=None):
    "Every Encrypted column of the stored models of pool (the current one)"
    pool = pool or Pool()
    columns = []
    for _, Model in pool.iterobject():
        declared = sorted((name, field) for name, field in
            Model._fields.items() if isinstance(field, Encrypted))
        if (not declared or not issubclass(Model, ModelSQL)
                or callable(Model.table_query)):
            continue
        for name, field in declared:
            columns.append(EncryptedColumn(
                    Model.__name__, field.plaintext, Model._table, name))
    return sorted(columns)
