"""The near-duplicate index of reports, in the database.

Each report has a signature (tipline_core: MinHash values, the shingle set
that verifies a candidate and the text's matching form) and its LSH band
keys (42, and 128 for a short text).  Both are derived from the report
text, so neither is stored in the clear: the signature is encrypted with
the module's keyset like the description, and each band key is stored
blinded with a keyed hash under the blind-index key, which keeps equality
lookups working through an index.  Every trytond worker reads the same
tables, so no index lives in a single process.

Candidates for a new report come from one query on the blinded band keys;
their signatures are then decrypted and verified natively
(tipline_core.match_score).

Signatures carry a version (the clear `version` column; NULL for rows
stored before it existed, which are version 1).  A version-2 row shares its
band keys and shingle set with the current version 3, so a filing finds and
verifies it as it is.  While version-1 rows remain, a filing also computes
its version-1 signature and looks up its version-1 bands, so an old report
still finds its duplicates.  The cron job `resign` re-signs rows of older
versions from their report's text, a batch at a time, oldest first, and can
stop and resume anywhere."""
import logging

from sql import Column, Flavor, FromItem, Lateral, Literal, Window
from sql.aggregate import Count
from sql.functions import RowNumber
from sql.operators import Or

from trytond import backend

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, fields
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

import tipline_core

from .authorless import AuthorlessRows
from .encrypted import Encrypted, encrypt
from .exceptions import DedupThresholdError
from .filing import insert_rows
from .readonly import ServerReadonly

logger = logging.getLogger(__name__)

BAND_PURPOSE = b'tipline.dedup.band'
# A blinded band key is cut to 8 bytes and stored as a signed BIGINT: a
# keyed 64-bit hash has no collision to expect among the ~10^8 keys of a
# large tipline (one only adds a candidate that verification rejects), and
# an integer key halves the index and compares without the collation that
# the text key went through on every step of the B-tree (docs/indexes.md).
BAND_KEY_BYTES = 8
# Databases in which this process saw no version-1 signature left.
_no_version1 = set()
# A filing verifies at most this many stored signatures, as the native
# index does (the quality benchmarks measure it so).
MAX_CANDIDATES = 64
# A filing reads at most this many reports per band key, the newest: a band
# that many reports share (a greeting, a signature, a template) says little
# about any one of them, and reading all of them made the query grow with
# the table (docs/indexes.md).  A near-duplicate shares many bands, and its
# rarer ones find it.  The native index keeps as many texts a bucket, the
# first to come (its slots have no filing order), and takes a text met in
# a bucket of 8 or more as a candidate only where it is met in another
# (README, "Crowded rather than full"); here the newest are read, the
# likeliest duplicates of a new report, and the decryption of
# MAX_CANDIDATES bounds the rest.
BAND_FANOUT = 16


class _Keys(FromItem):
    """The band keys as rows of one column, band, from one array parameter
    (PostgreSQL): a VALUES list of 42 to 128 parameters took three times
    the whole band query"""
    __slots__ = ('keys',)
    columns_definitions = '"band"'

    def __init__(self, keys):
        super().__init__()
        self.keys = list(keys)

    def __str__(self):
        return 'UNNEST(CAST(%s AS BIGINT[]))' % Flavor.get().param

    @property
    def params(self):
        return (self.keys,)


def blinded_band_keys(signature):
    """The band keys of signature (those it is stored under and looks up),
    blinded under the blind-index key, as signed 64-bit integers"""
    indexer = Pool().get('tipline.keyset').indexer()
    return [blinded_key(indexer.index(key.to_bytes(8, 'little'), BAND_PURPOSE))
        for key in tipline_core.band_keys(signature)]


def blinded_key(digest):
    """The stored band key of a blind-index digest (or of its hex, as stored
    before keys were integers): its first 8 bytes, big-endian, signed"""
    if isinstance(digest, str):
        digest = bytes.fromhex(digest[:2 * BAND_KEY_BYTES])
    return int.from_bytes(digest[:BAND_KEY_BYTES], 'big', signed=True)


class DedupConfigurationMixin:
    "How alike two texts must be for a report to join the other's case"
    __slots__ = ()

    dedup_threshold = fields.Float(
        "Duplicate Similarity", required=True,
        help="How alike two texts must be (0.3 to 1) for a report to join "
        "the case of a near-identical report against another record.")

    @classmethod
    def default_dedup_threshold(cls):
        return tipline_core.DEFAULT_DEDUP_THRESHOLD

    def get_dedup_threshold(self):
        return float(self._value('dedup_threshold'))

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        for configuration in configurations:
            configuration.check_dedup_settings()

    def check_dedup_settings(self):
        if not 0.3 <= self._value('dedup_threshold') <= 1:
            raise DedupThresholdError(
                gettext('tipline.msg_dedup_threshold_range'))


class Signature(ServerReadonly, AuthorlessRows, ModelSQL):
    "The encrypted MinHash signature of a report"
    __name__ = 'tipline.report.signature'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, ondelete='CASCADE')
    signature_enc = Encrypted(
        "Encrypted Signature", 'signature', report='report')
    # NULL for rows stored before versions: version 1.
    version = fields.Integer("Version", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.report, Index.Equality(cardinality='high'))),
                Index(t, (t.version, Index.Range())),
                })

    @classmethod
    def _outdated(cls, table):
        return Or([table.version == None,  # noqa: E711
                table.version < tipline_core.SIGNATURE_VERSION])

    @classmethod
    def has_version1(cls):
        """Whether any stored signature is of version 1.  Filings store the
        current version only, so once none is left none comes back: the
        answer is then remembered by the process."""
        database = Transaction().database.name
        if database in _no_version1:
            return False
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id,
                where=Or([table.version == None,  # noqa: E711
                        table.version == 1]),
                limit=1))
        found = cursor.fetchone() is not None
        if not found:
            _no_version1.add(database)
        return found

    @classmethod
    def query_signatures(cls, text):
        """The signatures a filing looks up with: the current version (which
        also compares with version-2 rows), and version 1 too while such rows
        remain"""
        signatures = [tipline_core.signature(text or '')]
        if cls.has_version1():
            signatures.append(tipline_core.signature(text or '', version=1))
        return signatures

    @classmethod
    def sign_filing(cls, filing):
        """Filing's step (filing.py): from the plaintext in memory, the
        signatures the filing looks up with, its own (the current
        version's) and its blinded band keys"""
        filing.signatures = cls.query_signatures(filing.description)
        filing.signature = filing.signatures[0]
        filing.bands = blinded_band_keys(filing.signature)

    @classmethod
    def store(cls, report, signature):
        "Store the signature of report and its blinded band keys"
        with without_check_access():
            record, = cls.create([{'report': report.id}])
            cls._write(record.id, report.id, signature)
        return record

    @classmethod
    def _write(cls, sig_id, report_id, signature):
        """Encrypt signature into row sig_id with its version, and replace
        the report's blinded band keys"""
        pool = Pool()
        Keyset = pool.get('tipline.keyset')
        Band = pool.get('tipline.report.band')
        table, band = cls.__table__(), Band.__table__()
        cursor = Transaction().connection.cursor()
        data_key = Keyset.data_keys([report_id], create=True)[report_id]
        cursor.execute(*table.update(
                [table.signature_enc, table.version],
                [cls.signature_enc.sql_format(encrypt(
                            cls.__name__, 'signature', sig_id, signature,
                            data_key=data_key)),
                    tipline_core.signature_version(signature)],
                where=table.id == sig_id))
        cursor.execute(*band.delete(where=band.report == report_id))
        cursor.execute(*band.insert(
                [band.report, band.band],
                [[report_id, key] for key in blinded_band_keys(signature)]))

    @classmethod
    def write_filed(cls, signature_id, report_id, signature, bands,
            data_key):
        """Store a new report's signature (in its reserved row) with its
        version, under the report's data_key, and its blinded band keys:
        two inserts"""
        Band = Pool().get('tipline.report.band')
        insert_rows(cls, [{
                    'id': signature_id,
                    'report': report_id,
                    'signature_enc': encrypt(
                        cls.__name__, 'signature', signature_id, signature,
                        data_key=data_key),
                    'version': tipline_core.signature_version(signature),
                    }])
        band = Band.__table__()
        Transaction().connection.cursor().execute(*band.insert(
                [band.report, band.band], [[report_id, key] for key in bands]))

    @classmethod
    def candidates(cls, signature, exclude=None, where=None):
        """[(report id, signature)] of the reports that share a band with
        signature (or with any of a list of signatures, one per version), in
        one query on the band index: at most MAX_CANDIDATES, those sharing
        the most bands first, then the newest, among the BAND_FANOUT newest
        reports of each band.  where is an extra SQL condition on the
        report table (for example open cases only), applied to them."""
        pool = Pool()
        Keyset = pool.get('tipline.keyset')
        Report = pool.get('tipline.report')
        sig = cls.__table__()
        report = Report.__table__()
        signatures = (signature if isinstance(signature, (list, tuple))
            else [signature])
        keys = list(dict.fromkeys(k for s in signatures
                for k in blinded_band_keys(s)))
        if not keys:
            return []
        shared = cls._sharing(keys, MAX_CANDIDATES + (1 if exclude else 0))
        condition = report.id == sig.report
        if exclude:
            condition &= sig.report != exclude
        if where is not None:
            condition &= where(report)
        query = shared.join(sig, condition=shared.report == sig.report
            ).join(report, condition=report.id == sig.report
            ).select(sig.id, sig.report, sig.signature_enc,
                report.data_key_enc, where=condition,
                order_by=[shared.hits.desc, sig.report.desc])
        cursor = Transaction().connection.cursor()
        if backend.name == 'postgresql':
            # The ciphertexts as bytes rather than hex text to decode: half
            # the query's time.
            cursor.execute(*query, binary=True)
        else:
            cursor.execute(*query)
        result = []
        for sig_id, report_id, ciphertext, wrapped in cursor.fetchall():
            if ciphertext is None:
                continue
            # Each signature is under its report's key, read in the same
            # query.
            result.append((report_id, Keyset.decrypt(
                        cls.__name__, 'signature', sig_id, ciphertext,
                        data_key=Keyset.unwrap_data_key(report_id, wrapped))))
        return result

    @classmethod
    def _sharing(cls, keys, limit):
        """The query of (report, hits) for the limit reports sharing the
        most of the band keys, then the newest, among the BAND_FANOUT newest
        reports of each key: its cost is bounded by the number of keys,
        whatever the size of the table and however common a band is."""
        Band = Pool().get('tipline.report.band')
        band = Band.__table__()

        def newest(key):
            return band.select(band.report, where=band.band == key,
                order_by=[band.report.desc], limit=BAND_FANOUT)
        if backend.name == 'postgresql':
            keys = _Keys(keys)
            rows = Lateral(newest(keys.band))
            from_, reports = keys.join(rows, type_='CROSS'), Column(
                rows, 'report')
        else:
            # SQLite has no LATERAL (and compiling a UNION of one query per
            # key took ten times the query): the same rows, numbered in
            # each band, from every row of the keys.
            numbered = band.select(band.report, RowNumber(window=Window(
                        [band.band], order_by=[band.report.desc])).as_('rank'),
                where=band.band.in_(keys))
            from_ = numbered.select(numbered.report,
                where=numbered.rank <= BAND_FANOUT)
            reports = from_.report
        hits = Count(Literal(1))
        return from_.select(reports.as_('report'), hits.as_('hits'),
            group_by=[reports], order_by=[hits.desc, reports.desc],
            limit=limit)

    @classmethod
    def similar(cls, signature, threshold, exclude=None, where=None):
        """[(report id, score)] of the near-duplicates, best first.

        signature is one signature or a list (one per version, as from
        query_signatures); each stored signature is compared with the one
        that can read it (version 1 with version 1, versions 2 and 3 with
        the current one): verified at threshold (or containment) for the
        current version, estimated against DEFAULT_DEDUP_THRESHOLD_V1 for
        version 1."""
        signatures = (signature if isinstance(signature, (list, tuple))
            else [signature])
        by_version = {tipline_core.signature_version(s): s for s in signatures}
        current = by_version.get(tipline_core.SIGNATURE_VERSION)
        found = []
        for report_id, other in cls.candidates(
                signatures, exclude=exclude, where=where):
            version = tipline_core.signature_version(other)
            mine = by_version.get(1) if version == 1 else current
            if mine is None:
                continue
            score = tipline_core.match_score(mine, other, threshold=threshold)
            if score > 0:
                found.append((report_id, score))
        found.sort(key=lambda r: (-r[1], r[0]))
        return found

    @classmethod
    def resign(cls, limit=200):
        """Cron: re-sign the reports whose stored signature is of an older
        version, oldest first, limit at a time, from their text.  Returns
        (re-signed, left); safe to stop and run again."""
        Report = Pool().get('tipline.report')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, table.report, where=cls._outdated(table),
                order_by=[table.id.asc], limit=limit))
        rows = cursor.fetchall()
        with without_check_access():
            reports = Report.browse([r for _, r in rows])
            texts = {r.id: r.description or '' for r in reports}
            signatures = tipline_core.signatures([texts[r] for _, r in rows])
            for (sig_id, report_id), signature in zip(rows, signatures):
                cls._write(sig_id, report_id, signature)
        cursor.execute(*table.select(
                Count(table.id), where=cls._outdated(table)))
        left, = cursor.fetchone()
        if rows:
            logger.info(
                "re-signed %d report signatures to version %d, %d left",
                len(rows), tipline_core.SIGNATURE_VERSION, left)
        return len(rows), left


class Band(ServerReadonly, AuthorlessRows, ModelSQL):
    "A blinded LSH band key of a report's signature"
    __name__ = 'tipline.report.band'

    report = fields.Many2One(
        'tipline.report', "Report", required=True, ondelete='CASCADE')
    band = fields.Integer("Band", required=True)
    band._sql_type = 'BIGINT'

    @classmethod
    def __register__(cls, module):
        table_h = cls.__table_handler__(module)
        if (table_h.column_exist('band')
                and not table_h.column_is_type('band', 'BIGINT')):
            cls._migrate_hex_keys(table_h)
        super().__register__(module)

    @classmethod
    def _migrate_hex_keys(cls, table_h):
        """Turn the band keys stored as hex text (16 bytes) into the
        integers blinded_key makes of them, in place: the blind-index key is
        unchanged, so no signature needs decrypting"""
        table = cls._table
        connection = Transaction().connection
        cursor = connection.cursor()
        if backend.name == 'postgresql':
            # One rewrite of the table and its indexes.
            cursor.execute('ALTER TABLE "%s" ALTER COLUMN band TYPE BIGINT '
                "USING ('x' || SUBSTR(band, 1, %d))::BIT(64)::BIGINT"
                % (table, 2 * BAND_KEY_BYTES))
            table_h._update_definitions(columns=True)
        else:
            connection.create_function(
                'tipline_blinded_key', 1, blinded_key, deterministic=True)
            cursor.execute('UPDATE "%s" SET band = tipline_blinded_key(band)'
                % table)
            table_h.alter_type('band', 'BIGINT')
        logger.info("band keys of %s stored as integers", table)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                # The band query reads the newest reports of each of its
                # keys (a backward range of one key) and counts them: a
                # B-tree on both answers from the index alone; the hash
                # index on band it replaced could serve neither the order
                # nor an IN (docs/indexes.md).
                Index(t, (t.band, Index.Equality(cardinality='high')),
                    (t.report, Index.Equality(cardinality='high'))),
                # A report's bands, to replace or delete them: a B-tree,
                # whose one posting list a report (42 or 128 rows) takes
                # 323 MB at 1,000,000 reports, where the hash index that
                # cardinality 'high' gave took 1.56 GB.
                Index(t, (t.report, Index.Equality())),
                })
