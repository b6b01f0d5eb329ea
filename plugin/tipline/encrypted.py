"""The one declaration of an encrypted column.

A model stores a value encrypted by declaring its ciphertext column once::

    description_enc = Encrypted("Encrypted Description", 'description',
        report='id')

and reading the plaintext through ``decrypt_values`` (usually from a
Function field named after it).  Each ciphertext is bound, through its
associated data (keys.associated_data), to the model, the plaintext field's
name and the row id, so a ciphertext copied into another row or column does
not decrypt.

``report`` names the column that holds the id of the report the value
belongs to (``'id'`` on the report itself): such values are encrypted under
that report's own data key (keys.py), so destroying the report's wrapped key
shreds all of them at once.  A row whose report column is empty (a mail
about a review) keeps its value under the keyset.  Values that belong to no report (survey
comments, suggestions) and the wrapped data keys themselves are under the
keyset.

Nothing keeps a list of these columns: ``encrypted_columns()`` finds every
``Encrypted`` field of every model in the pool.  The key tools (status,
re-encryption, disable, destroy), the retention purge and the at-rest tests
walk it, so a column declared this way can never be missed by a rotation or
a purge.
"""
import collections

from sql import Column, Table

from trytond.backend import MAX_QUERY_PARAMS
from trytond.model import ModelSQL, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

import tipline_core

from .cache import invalidate

# An encrypted column: the model and field its associated data names, where
# it lives in SQL, the column naming the report whose data key encrypts it
# (None: the keyset), and whether it holds wrapped data keys.
EncryptedColumn = collections.namedtuple(
    'EncryptedColumn', ['model', 'field', 'table', 'column', 'report',
        'wraps_keys'], defaults=[None, False])


class Encrypted(fields.Binary):
    """A column of ciphertexts of the value called plaintext.

    It is never written through the ORM: ``store_encrypted`` writes it with
    the row id in the associated data, and every RPC write is refused.
    report names the column holding the report whose data key encrypts the
    values ('id' for the report's own columns); None keeps them under the
    keyset."""

    def __init__(self, string, plaintext, report=None, wraps_keys=False,
            **kwargs):
        kwargs['readonly'] = True
        super().__init__(string, **kwargs)
        self.plaintext = plaintext
        self.report = report
        self.wraps_keys = wraps_keys


def _keyset():
    return Pool().get('tipline.keyset')


def encrypt(model, field, record_id, plaintext, data_key=None):
    """The ciphertext of plaintext (str or bytes) in its place, under
    data_key (a report's tipline_core.DataKey) or else the keyset; None for
    None"""
    return _keyset().encrypt(
        model, field, record_id, plaintext, data_key=data_key)


def decrypt(model, field, record_id, ciphertext, data_key=None):
    """Plaintext bytes; raises tipline_core.DecryptionError on any failure.
    A value under a report's key needs that report's data_key."""
    return _keyset().decrypt(
        model, field, record_id, ciphertext, data_key=data_key)


def _column(Model, name):
    "The Encrypted field that holds name of Model"
    field = Model._fields.get(name + '_enc')
    if not isinstance(field, Encrypted):
        raise KeyError('%s.%s is not declared Encrypted' % (
                Model.__name__, name))
    return field


def report_ids(Model, field, ids):
    """{row id: id of the report whose data key encrypts field} of the rows
    ids of Model, read behind the ORM (so that no access rule hides the
    link); {} when field is under the keyset"""
    if not field.report or not ids:
        return {}
    if field.report == 'id':
        return {id_: id_ for id_ in ids}
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    result = {}
    for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
        cursor.execute(*table.select(table.id, getattr(table, field.report),
                where=table.id.in_(list(sub_ids))))
        result.update(cursor)
    return result


def decrypt_values(records, name, text=True):
    "{id: plaintext of name} of records (str when text, else bytes)"
    if not records:
        return {}
    Model = type(records[0])
    field = _column(Model, name)
    ciphertexts = {r.id: getattr(r, name + '_enc') for r in records}
    keys, owners = {}, {}
    if field.report and any(
            tipline_core.ciphertext_key_id(bytes(c))
            == tipline_core.DATA_KEY_ID
            for c in ciphertexts.values() if c is not None):
        owners = report_ids(Model, field, list(ciphertexts))
        keys = _keyset().data_keys(set(owners.values()) - {None})
    result = {}
    for record_id, ciphertext in ciphertexts.items():
        value = decrypt(Model.__name__, name, record_id, ciphertext,
            data_key=keys.get(owners.get(record_id)))
        if text and value is not None:
            value = value.decode('utf-8')
        result[record_id] = value
    return result


def store_encrypted(Model, values):
    """Write {record id: {name: plaintext or None}} as ciphertexts, one
    UPDATE a row, behind the ORM (the ids are in the associated data).
    Values that belong to a report go under its data key, made at once for
    a report stored before data keys existed."""
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    owners = {}
    for name in {n for names in values.values() for n in names}:
        field = _column(Model, name)
        if field.report:
            owners = report_ids(Model, field, list(values))
            break
    keys = (_keyset().data_keys(set(owners.values()) - {None}, create=True)
        if owners else {})
    for record_id, names in values.items():
        columns, sql_values = [], []
        for name, plaintext in names.items():
            field = _column(Model, name)
            # A row of no report is under the keyset.
            data_key = keys.get(owners.get(record_id))
            columns.append(getattr(table, name + '_enc'))
            sql_values.append(field.sql_format(encrypt(
                        Model.__name__, name, record_id, plaintext,
                        data_key=data_key)))
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
                    Model.__name__, field.plaintext, Model._table, name,
                    field.report, field.wraps_keys))
    return sorted(columns, key=lambda c: c[:4])


def read_column(column, where=None):
    """{row id: plaintext bytes} of an encrypted column, read and decrypted
    behind the ORM (tools and tests); where is an SQL condition on the
    table.  Wrapped data keys are never unwrapped into Python."""
    if column.wraps_keys:
        raise ValueError("%s.%s holds wrapped keys" % (
                column.model, column.field))
    table = Table(column.table)
    value = Column(table, column.column)
    condition = value != None  # noqa: E711
    if where is not None:
        condition &= where(table)
    cursor = Transaction().connection.cursor()
    if column.report:
        report = table.id if column.report == 'id' else Column(
            table, column.report)
        cursor.execute(*table.select(table.id, report, value,
                where=condition))
        rows = cursor.fetchall()
        keys = _keyset().data_keys({r for _, r, _ in rows} - {None})
    else:
        cursor.execute(*table.select(table.id, value, where=condition))
        rows = [(id_, None, ciphertext) for id_, ciphertext in cursor]
        keys = {}
    return {id_: decrypt(column.model, column.field, id_, ciphertext,
            data_key=keys.get(report_id))
        for id_, report_id, ciphertext in rows}
