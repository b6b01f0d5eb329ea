"""The near-duplicate index of reports, in the database.

Each report has a MinHash signature (tipline_core, 516 bytes) and 32 LSH band
keys.  Both are derived from the report text, so neither is stored in the
clear: the signature is encrypted with the module's keyset like the
description (a short text could otherwise be confirmed by hashing guesses),
and each band key is stored blinded with a keyed hash under the master key,
which keeps equality lookups working through an index.  Every trytond worker
reads the same tables, so no index lives in a single process.

Candidates for a new report come from one query on the blinded band keys;
their signatures are then decrypted and compared natively."""
from trytond.model import Index, ModelSQL, fields
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

import tipline_core

from .authorless import AuthorlessRows
from .encrypted import Encrypted, encrypt
from .filing import insert_rows
from .keys import master_key
from .readonly import ServerReadonly

BAND_PURPOSE = b'tipline.dedup.band'
# A blinded band key is cut to 16 bytes (128 bits): equality needs no more.
BAND_KEY_BYTES = 16


def signature_of(text):
    "The MinHash signature of a report text"
    return _signer().signature(text or '')


_signer_instance = None


def _signer():
    global _signer_instance
    if _signer_instance is None:
        _signer_instance = tipline_core.DedupIndex()
    return _signer_instance


def blinded_band_keys(signature):
    "The band keys of signature, blinded under the master key, as hex"
    indexer = tipline_core.BlindIndexer(master_key())
    return [indexer.index(key.to_bytes(8, 'little'), BAND_PURPOSE)[
            :BAND_KEY_BYTES].hex()
        for key in tipline_core.band_keys(signature)]


class Signature(ServerReadonly, AuthorlessRows, ModelSQL):
    "The encrypted MinHash signature of a report"
    __name__ = 'tipline.report.signature'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, ondelete='CASCADE')
    signature_enc = Encrypted("Encrypted Signature", 'signature')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.report, Index.Equality(cardinality='high'))))

    @classmethod
    def store(cls, report, signature):
        "Store the signature of report and its blinded band keys"
        pool = Pool()
        Keyset = pool.get('tipline.keyset')
        Band = pool.get('tipline.report.band')
        with without_check_access():
            record, = cls.create([{'report': report.id}])
            table = cls.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.update(
                    [table.signature_enc],
                    [cls.signature_enc.sql_format(Keyset.encrypt(
                                cls.__name__, 'signature', record.id,
                                signature))],
                    where=table.id == record.id))
            band = Band.__table__()
            cursor.execute(*band.insert(
                    [band.report, band.band],
                    [[report.id, key]
                        for key in blinded_band_keys(signature)]))
        return record

    @classmethod
    def write_filed(cls, signature_id, report_id, signature, bands):
        """Store a new report's signature (in its reserved row) and its
        blinded band keys: two inserts"""
        Band = Pool().get('tipline.report.band')
        insert_rows(cls, [{
                    'id': signature_id,
                    'report': report_id,
                    'signature_enc': encrypt(
                        cls.__name__, 'signature', signature_id, signature),
                    }])
        band = Band.__table__()
        Transaction().connection.cursor().execute(*band.insert(
                [band.report, band.band], [[report_id, key] for key in bands]))

    @classmethod
    def candidates(cls, signature, exclude=None, where=None, bands=None):
        """[(report id, signature)] of the reports that share a band with
        signature, in one query on the band index.  where is an extra SQL
        condition on the report table (for example open cases only); bands
        are signature's blinded band keys when already computed."""
        pool = Pool()
        Keyset = pool.get('tipline.keyset')
        Band = pool.get('tipline.report.band')
        Report = pool.get('tipline.report')
        band = Band.__table__()
        sig = cls.__table__()
        report = Report.__table__()
        keys = bands or blinded_band_keys(signature)
        shared = band.select(band.report, where=band.band.in_(keys))
        condition = sig.report.in_(shared)
        if exclude:
            condition &= sig.report != exclude
        if where is not None:
            condition &= where(report)
        query = sig.join(report, condition=report.id == sig.report
            ).select(sig.id, sig.report, sig.signature_enc, where=condition)
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        result = []
        for sig_id, report_id, ciphertext in cursor.fetchall():
            if ciphertext is None:
                continue
            result.append((report_id, Keyset.decrypt(
                        cls.__name__, 'signature', sig_id, ciphertext)))
        return result

    @classmethod
    def similar(cls, signature, threshold, exclude=None, where=None,
            bands=None):
        "[(report id, similarity)] at or above threshold, best first"
        found = []
        for report_id, other in cls.candidates(
                signature, exclude=exclude, where=where, bands=bands):
            similarity = tipline_core.estimate_similarity(signature, other)
            if similarity >= threshold:
                found.append((report_id, similarity))
        found.sort(key=lambda r: (-r[1], r[0]))
        return found


class Band(ServerReadonly, AuthorlessRows, ModelSQL):
    "A blinded LSH band key of a report's signature"
    __name__ = 'tipline.report.band'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, ondelete='CASCADE')
    band = fields.Char("Band", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.band.search_unaccented = False
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.band, Index.Equality(cardinality='high'))),
                Index(t, (t.report, Index.Equality(cardinality='high'))),
                })
