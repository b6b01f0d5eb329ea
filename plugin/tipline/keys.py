"""Tipline's keys.

The master key never enters the database: it comes from the file named by
``[tipline] key_file`` in the trytond configuration, or from the environment
variable ``TIPLINE_MASTER_KEY`` for containers.  The data keys form a keyset
(AES-256-GCM, with rotation) stored in ``tipline.keyset`` wrapped under the
master key, so every trytond worker on the database uses the same keys.

Encrypted columns (declared once each, with ``encrypted.Encrypted``) hold
``tipline_core`` ciphertexts whose associated data names the model, the
field and the record id: a ciphertext copied into another row or column does
not decrypt.
"""
import collections
import datetime as dt
import hashlib
import os
import threading
import time

from sql import Null
from sql.conditionals import Coalesce

from trytond import config
from trytond.backend import MAX_QUERY_PARAMS
from trytond.cache import Cache
from trytond.model import ModelSQL, fields
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

import tipline_core

from .authorless import AuthorlessRows
from .cache import invalidate
from .encrypted import Encrypted
from .readonly import ServerReadonly

KEY_FILE_SECTION, KEY_FILE_OPTION = 'tipline', 'key_file'
KEY_ENV = 'TIPLINE_MASTER_KEY'
MALFORMED = 'malformed'  # usage key of values that are not a ciphertext

class MasterKeyMissing(RuntimeError):
    "Raised when no master key is configured; the message names the setting"


class ReencryptionConflict(RuntimeError):
    "Re-encryption kept conflicting with concurrent writes"


class EpochChangePending(RuntimeError):
    "A master-key epoch change forbids this step for now"


MISSING_KEY_MESSAGE = (
    "Tipline needs its master key: set 'key_file' in the [tipline] section "
    "of the trytond configuration (or the TIPLINE_MASTER_KEY environment "
    "variable), for example after 'tipline-keys create /etc/tryton/"
    "tipline.key'. Without it reports can be neither written nor read.")

_master_lock = threading.Lock()
_master_cache = {}


def master_key():
    "The master key from the configured key file or the environment"
    path = config.get(KEY_FILE_SECTION, KEY_FILE_OPTION, default=None)
    if path:
        stat = os.stat(path)
        cache_key = ('file', path, stat.st_mtime_ns, stat.st_ino)
    elif os.environ.get(KEY_ENV):
        cache_key = ('env', os.environ[KEY_ENV])
    else:
        raise MasterKeyMissing(MISSING_KEY_MESSAGE)
    with _master_lock:
        key = _master_cache.get(cache_key)
        if key is None:
            if path:
                key = tipline_core.load_master_key_file(path)
            else:
                key = tipline_core.master_key_from_env(KEY_ENV)
            _master_cache.clear()
            _master_cache[cache_key] = key
        return key


def check_master_key():
    "Fail early, with the setting's name, when no usable master key is set"
    try:
        master_key()
    except FileNotFoundError as exception:
        raise MasterKeyMissing(
            "%s (the key file %s does not exist)" % (
                MISSING_KEY_MESSAGE, exception.filename)) from None


def associated_data(model, field, record_id):
    return b'tipline\x00%s\x00%s\x00%d' % (
        model.encode(), field.encode(), int(record_id))


def data_key_associated_data(report_id):
    "What binds a report's wrapped data key to its row"
    return associated_data('tipline.report', 'data_key', report_id)


def index_key_associated_data(record_id):
    "What binds the encrypted blind-index key to the keyset's row"
    return associated_data('tipline.keyset', 'index_key', record_id)


class Keyset(ServerReadonly, AuthorlessRows, ModelSQL):
    """The data keys, wrapped under the master key, and the blind-index key.

    Master-key epochs: tipline-keys new-epoch wraps the keyset under a new
    master key and keeps the wrap under the previous one until every
    server has moved to the new key (tipline-keys end-epoch); the keyset
    cannot change in between.  The blind-index key is kept here, encrypted
    under the keyset, so that reporter tokens and band keys survive a new
    master key and the old one can be destroyed once the backups made under
    it have expired."""
    __name__ = 'tipline.keyset'

    wrapped = fields.Binary("Wrapped Keyset", required=True)
    previous_wrapped = fields.Binary(
        "Keyset Under the Previous Master Key",
        help="Kept while an epoch change is under way, for the servers "
        "that still use the previous master key.")
    epoch = fields.Integer("Master Key Epoch")
    epoch_started_at = fields.DateTime("Epoch Started At")
    previous_epoch_ended_at = fields.DateTime(
        "Previous Epoch Ended At",
        help="Backups made before this hold the keyset under the previous "
        "master key.")
    index_key_enc = Encrypted(
        "Encrypted Blind Index Key", 'index_key', wraps_keys=True)

    _version_cache = Cache('tipline.keyset.version', context=False)
    _ciphers = {}
    _ciphers_lock = threading.Lock()

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        # Starting a server (or any tool) without the key stops here, with
        # one clear message, rather than at the first report.
        check_master_key()

    @classmethod
    def __register__(cls, module_name):
        super().__register__(module_name)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id, table.index_key_enc, limit=1))
        row = cursor.fetchone()
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        if not row:
            keyset = tipline_core.Keyset.generate()
            cursor.execute(*table.insert(
                    [table.wrapped, table.epoch, table.epoch_started_at],
                    [[keyset.to_bytes(master_key()), 1, now]]))
            cursor.execute(*table.select(table.id, limit=1))
            (record_id,), index_key = cursor.fetchone(), os.urandom(32)
        elif row[1] is None:
            # Databases made before: the key derived from the master key,
            # so that every stored index stays valid.
            record_id = row[0]
            index_key = tipline_core.blind_index_key(master_key())
        else:
            return
        cipher = tipline_core.FieldCipher(cls.keyset())
        cursor.execute(*table.update(
                [table.index_key_enc, table.epoch],
                [cipher.encrypt(index_key, index_key_associated_data(
                            record_id)), Coalesce(table.epoch, 1)],
                where=table.id == record_id))

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._version_cache.clear()

    @classmethod
    def _row(cls):
        "The stored row (a browse record read behind the rules)"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, order_by=table.id.asc, limit=1))
        row = cursor.fetchone()
        if not row:
            raise MasterKeyMissing(
                "The Tipline keyset is missing from the database; "
                "run trytond-admin -u tipline to create it.")
        return row[0]

    @classmethod
    def _load(cls):
        """The stored row: (id, wrapped bytes, the wrap under the previous
        master key or None, the encrypted index key)"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, table.wrapped, table.previous_wrapped,
                table.index_key_enc, where=table.id == cls._row()))
        record_id, wrapped, previous, index_key = cursor.fetchone()
        return (record_id, bytes(wrapped),
            bytes(previous) if previous is not None else None,
            bytes(index_key) if index_key is not None else None)

    @staticmethod
    def _unwrap(wrapped, previous):
        """The keyset under this process's master key: the current wrap, or
        while an epoch change is under way the previous one"""
        try:
            return tipline_core.Keyset.from_bytes(wrapped, master_key())
        except tipline_core.DecryptionError:
            if previous is None:
                raise
            return tipline_core.Keyset.from_bytes(previous, master_key())

    @classmethod
    def keyset(cls):
        "The current keyset, as stored (a fresh object the caller may change)"
        _, wrapped, previous, _ = cls._load()
        return cls._unwrap(wrapped, previous)

    @classmethod
    def store(cls, keyset):
        "Replace the stored keyset by keyset, wrapped under the master key"
        record_id, _, previous, _ = cls._load()
        if previous is not None:
            raise EpochChangePending(
                "a master-key epoch change is under way: run tipline-keys "
                "end-epoch once every server uses the new key file, then "
                "change the keys")
        cls.write([cls(record_id)], {
                'wrapped': keyset.to_bytes(master_key()),
                })

    @classmethod
    def cipher(cls, reload=False):
        """The FieldCipher of the current keyset, shared by the process;
        reload reads the stored keyset again whatever the cache says"""
        return cls._cached(reload)[0]

    @classmethod
    def indexer(cls):
        "The BlindIndexer of the stored index key, shared by the process"
        return cls._cached()[1]

    @classmethod
    def _cached(cls, reload=False):
        "(FieldCipher, BlindIndexer) of the stored row, cached per database"
        database = Transaction().database.name
        version = cls._version_cache.get(database)
        with cls._ciphers_lock:
            cached = cls._ciphers.get(database)
            if (not reload and version is not None and cached
                    and cached[0] == version):
                return cached[1:]
        record_id, wrapped, previous, index_key = cls._load()
        version = hashlib.sha256(
            wrapped + (previous or b'') + (index_key or b'')).hexdigest()
        cipher = tipline_core.FieldCipher(cls._unwrap(wrapped, previous))
        if index_key is not None:
            indexer = tipline_core.BlindIndexer.from_key(cipher.decrypt(
                    index_key, index_key_associated_data(record_id)))
        else:  # before trytond-admin -u tipline stored it
            indexer = tipline_core.BlindIndexer(master_key())
        with cls._ciphers_lock:
            cls._ciphers[database] = (version, cipher, indexer)
        cls._version_cache.set(database, version)
        return cipher, indexer

    # Master-key epochs ------------------------------------------------------

    @classmethod
    def epoch_state(cls):
        "(epoch, started at, previous wrap pending, previous epoch ended at)"
        record = cls(cls._row())
        return (record.epoch or 1, record.epoch_started_at,
            record.previous_wrapped is not None,
            record.previous_epoch_ended_at)

    @classmethod
    def new_epoch(cls, new_master_key):
        """Wrap the keyset under new_master_key as well; the wrap under the
        current master key stays until end_epoch.  Returns the new epoch."""
        record_id, wrapped, previous, _ = cls._load()
        if previous is not None:
            raise EpochChangePending(
                "an epoch change is already under way: finish it with "
                "tipline-keys end-epoch first")
        # Only from the current master key, which must open the keyset.
        keyset = tipline_core.Keyset.from_bytes(wrapped, master_key())
        if new_master_key == master_key():
            raise EpochChangePending(
                "the new master key is the one in use")
        record = cls(record_id)
        epoch = (record.epoch or 1) + 1
        cls.write([record], {
                'previous_wrapped': wrapped,
                'wrapped': keyset.to_bytes(new_master_key),
                'epoch': epoch,
                'epoch_started_at': dt.datetime.now(
                    dt.timezone.utc).replace(tzinfo=None),
                })
        return epoch

    @classmethod
    def end_epoch(cls):
        """Forget the wrap under the previous master key; only from a
        process whose master key opens the current wrap.  Returns when."""
        record_id, wrapped, previous, _ = cls._load()
        if previous is None:
            raise EpochChangePending("no epoch change is under way")
        tipline_core.Keyset.from_bytes(wrapped, master_key())
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        cls.write([cls(record_id)], {
                'previous_wrapped': None,
                'previous_epoch_ended_at': now,
                })
        return now

    @classmethod
    def encrypt(cls, model, field, record_id, plaintext, data_key=None):
        """The ciphertext of plaintext in its place, under data_key (a
        report's) or else the keyset's primary key"""
        if plaintext is None:
            return None
        if isinstance(plaintext, str):
            plaintext = plaintext.encode('utf-8')
        data = associated_data(model, field, record_id)
        if data_key is not None:
            return data_key.encrypt(bytes(plaintext), data)
        return cls.cipher().encrypt(bytes(plaintext), data)

    @classmethod
    def _cipher_for(cls, ciphertext):
        "The cipher that knows the key ciphertext names, reloaded if need be"
        cipher = cls.cipher()
        key_id = tipline_core.ciphertext_key_id(ciphertext)
        if key_id is not None and key_id not in cipher.keyset.key_ids:
            # Written under a key another process rotated in since this one
            # cached the keyset (the cache is invalidated within [cache]
            # clean_timeout): read the stored keyset again, once.
            cipher = cls.cipher(reload=True)
        return cipher

    @classmethod
    def decrypt(cls, model, field, record_id, ciphertext, data_key=None):
        """Plaintext bytes; raises tipline_core.DecryptionError on any
        failure.  A value under a report's key (key id 0) needs data_key;
        one written before data keys is under the keyset."""
        if ciphertext is None:
            return None
        ciphertext = bytes(ciphertext)
        data = associated_data(model, field, record_id)
        if (tipline_core.ciphertext_key_id(ciphertext)
                == tipline_core.DATA_KEY_ID):
            if data_key is None:
                raise tipline_core.DecryptionError("decryption failed")
            return data_key.decrypt(ciphertext, data)
        return cls._cipher_for(ciphertext).decrypt(ciphertext, data)

    # A report's data key ----------------------------------------------------

    @classmethod
    def new_data_key(cls, report_id):
        """(a new data key for the report report_id, the wrapped form to
        store in the report's row)"""
        key = tipline_core.DataKey.generate()
        return key, key.wrap(cls.cipher(), data_key_associated_data(report_id))

    @classmethod
    def unwrap_data_key(cls, report_id, wrapped):
        "The data key of report_id from its wrapped form; None for None"
        if wrapped is None:
            return None
        wrapped = bytes(wrapped)
        return tipline_core.DataKey.unwrap(cls._cipher_for(wrapped), wrapped,
            data_key_associated_data(report_id))

    @classmethod
    def data_keys(cls, report_ids, create=False):
        """{report id: its DataKey} of the reports that have one, read
        behind the ORM.  create gives a key to each report that has none
        (filed before data keys) and stores it; a purged report never gets
        one again (KeyError)."""
        from trytond.pool import Pool
        Report = Pool().get('tipline.report')
        table = Report.__table__()
        cursor = Transaction().connection.cursor()
        report_ids = sorted(set(report_ids))
        result, missing = {}, []
        for sub_ids in grouped_slice(report_ids, MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.id, table.data_key_enc, table.purged_at,
                    where=table.id.in_(list(sub_ids))))
            for report_id, wrapped, purged_at in cursor.fetchall():
                if wrapped is not None:
                    result[report_id] = cls.unwrap_data_key(
                        report_id, wrapped)
                elif purged_at is not None:
                    if create:
                        raise KeyError(
                            "report %d was purged: it holds nothing"
                            % report_id)
                else:
                    missing.append(report_id)
        if create:
            for report_id in missing:
                key, wrapped = cls.new_data_key(report_id)
                # Only where still none: a concurrent writer's key wins (on
                # PostgreSQL the losing transaction fails to serialize and
                # is retried).
                cursor.execute(*table.update(
                        [table.data_key_enc], [wrapped],
                        where=(table.id == report_id)
                        & (table.data_key_enc == Null)))
                if cursor.rowcount:
                    result[report_id] = key
                else:
                    result.update(cls.data_keys([report_id]))
            if missing:
                invalidate(Report, missing)
        return result

    @classmethod
    def reporter_token(cls, user_id):
        """The blind index that stands for a reporter: stable for a user,
        meaningless without the index key."""
        return cls.indexer().index(
            b'res.user:%d' % int(user_id), b'reporter').hex()


# --- Stored values -----------------------------------------------------------

def key_id_of(prefix):
    "The key id that a stored value's prefix names, or MALFORMED"
    key_id = tipline_core.ciphertext_key_id(
        bytes(prefix) if prefix is not None else b'')
    return MALFORMED if key_id is None else key_id


def stored_encrypted_columns():
    """The encrypted columns that exist in the database of the current
    transaction (every field declared Encrypted), and the (model, field) of
    those whose table is not there yet"""
    from trytond import backend

    from .encrypted import encrypted_columns
    columns, skipped = [], []
    for encrypted in encrypted_columns():
        if backend.TableHandler.table_exist(encrypted.table):
            columns.append(encrypted)
        else:
            skipped.append((encrypted.model, encrypted.field))
    return columns, skipped


def _owner(table, encrypted):
    "The SQL column naming the report of encrypted's rows, or None"
    from sql import Column
    if not encrypted.report:
        return None
    return table.id if encrypted.report == 'id' else Column(
        table, encrypted.report)


def key_usage(columns):
    """{column: Counter((key id or MALFORMED, owned): number of values)},
    owned telling whether the row belongs to a report (then its value
    belongs under the report's own key)

    The database groups by the first 5 bytes, so only those leave it."""
    from sql import Column, Literal, Table
    from sql.aggregate import Count
    from sql.conditionals import Case
    from sql.functions import Substring
    cursor = Transaction().connection.cursor()
    usage = {}
    for encrypted in columns:
        table = Table(encrypted.table)
        value = Column(table, encrypted.column)
        owner = _owner(table, encrypted)
        owned = (Case((owner != Null, Literal(1)), else_=Literal(0))
            if owner is not None else Literal(0))
        prefixes = table.select(
            Substring(value, 1, tipline_core.CIPHERTEXT_PREFIX_SIZE).as_(
                'prefix'), owned.as_('owned'), where=value != Null)
        cursor.execute(*prefixes.select(
                prefixes.prefix, prefixes.owned, Count(prefixes.owned),
                group_by=[prefixes.prefix, prefixes.owned]))
        counter = collections.Counter()
        for prefix, is_owned, count in cursor:
            counter[(key_id_of(prefix), bool(is_owned))] += count
        usage[encrypted] = counter
    return usage


def by_key(counter):
    "Counter(key id: values) of one column's usage"
    total = collections.Counter()
    for (key_id, _), count in counter.items():
        total[key_id] += count
    return total


def total_usage(usage):
    "Counter(key id: values) over every column"
    total = collections.Counter()
    for counter in usage.values():
        total.update(by_key(counter))
    return total


def target_key_id(column, primary_id, owned=True):
    """The key id a value of column should be under: its report's data key
    when its row belongs to a report, else the keyset's primary key"""
    if column.report and owned:
        return tipline_core.DATA_KEY_ID
    return primary_id


def pending_count(usage, primary_id):
    """How many stored values are not under the key they should be: the
    primary key, or their report's data key"""
    return sum(
        count for column, counter in usage.items()
        for (key_id, owned), count in counter.items()
        if key_id != target_key_id(column, primary_id, owned))


def cache_clean_timeout():
    return config.getint('cache', 'clean_timeout', default=0) or 0


def servers_may_still_use_old_keys(database):
    """Seconds to wait until every trytond process has reloaded the keyset
    last stored: a process rereads it when Tryton's cache is invalidated,
    which happens within [cache] clean_timeout (at once when that is 0)."""
    from trytond.pool import Pool
    delay = cache_clean_timeout()
    if not delay:
        return 0
    Keyset = Pool().get('tipline.keyset')
    table = Keyset.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(
            table.write_date, order_by=table.id.asc, limit=1))
    row = cursor.fetchone()
    changed = row and row[0]
    if not changed:  # never changed since the module created it
        return 0
    if isinstance(changed, str):  # SQLite without type detection
        changed = dt.datetime.fromisoformat(changed)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    age = (now - changed).total_seconds()
    return max(0, int(delay - age + 1))


# --- Re-encryption -----------------------------------------------------------

class ReencryptResult:
    def __init__(self):
        self.reencrypted = 0
        self.failed = []  # (model, field, id): never the value
        self.batches = 0
        self.complete = False


def reencrypt(database, columns, batch_size=100, max_batches=None,
        progress=None):
    """Re-encrypt every value of columns that is not under the primary key.

    Each batch is its own transaction and commits, so no long transaction
    holds locks and a crash loses at most one batch.  A run that stopped
    resumes by itself: it selects what is still under an old key.  Within a
    run the ids only go up, so a value that does not decrypt is reported
    once and skipped."""
    result = ReencryptResult()
    for encrypted in columns:
        last_id = 0
        while True:
            if max_batches is not None and result.batches >= max_batches:
                return result
            count, last_id, done, failed = _retrying(
                reencrypt_batch, database, encrypted, last_id, batch_size)
            if not count:
                break
            result.batches += 1
            result.reencrypted += done
            result.failed.extend(failed)
            if progress:
                progress.update(count)
    result.complete = True
    return result


def _retrying(function, *args, attempts=5):
    """function(*args), again when a concurrent write made the database
    abort its transaction (a serialization failure on PostgreSQL)"""
    from trytond import backend
    for attempt in range(attempts):
        try:
            return function(*args)
        except backend.DatabaseOperationalError:
            if attempt == attempts - 1:
                raise ReencryptionConflict(
                    "the re-encryption kept conflicting with other writes; "
                    "run it again") from None
            time.sleep(0.1 * (attempt + 1))


def reencrypt_batch(database, encrypted, last_id, batch_size):
    """Move the next batch_size values of encrypted after last_id that are
    not under the key they should be, in one committed transaction:
    re-encrypt a keyset value under the primary key, rewrap a report's data
    key under it, and move a report's value written before data keys under
    the report's own key.
    Returns (values read, last id read, values moved, failures)."""
    from sql import Column, Table
    from sql.functions import Substring
    from trytond.pool import Pool
    table = Table(encrypted.table)
    value = Column(table, encrypted.column)
    with Transaction().start(database, 0) as transaction:
        # Reloaded per batch: a rotation during the run is followed, not
        # undone.
        Keyset = Pool().get('tipline.keyset')
        keyset = Keyset.keyset()
        cipher = tipline_core.FieldCipher(keyset)
        prefix = Substring(value, 1, tipline_core.CIPHERTEXT_PREFIX_SIZE)
        primary = tipline_core.ciphertext_prefix(keyset.primary_id)
        owner = _owner(table, encrypted)
        if owner is None:
            misplaced = prefix != primary
            selected = [table.id, value]
        else:
            misplaced = (((owner != Null) & (prefix != tipline_core
                        .ciphertext_prefix(tipline_core.DATA_KEY_ID)))
                | ((owner == Null) & (prefix != primary)))
            selected = [table.id, value, owner]
        cursor = transaction.connection.cursor()
        cursor.execute(*table.select(*selected,
                where=(value != Null) & misplaced & (table.id > last_id),
                order_by=table.id.asc, limit=batch_size))
        # (id, ciphertext, report id or None)
        rows = [tuple(row) + (None,) * (3 - len(row))
            for row in cursor.fetchall()]
        data_keys = Keyset.data_keys(
            {r for _, _, r in rows} - {None}, create=True)
        done, failed = 0, []
        for record_id, ciphertext, report_id in rows:
            ciphertext = bytes(ciphertext)
            data = associated_data(
                encrypted.model, encrypted.field, record_id)
            try:
                if encrypted.wraps_keys:
                    # The key's bytes stay in the native core.
                    moved = tipline_core.DataKey.rewrap(
                        cipher, ciphertext, data)
                else:
                    plaintext = cipher.decrypt(ciphertext, data)
                    if report_id is not None:
                        moved = data_keys[report_id].encrypt(plaintext, data)
                    else:
                        moved = cipher.encrypt(plaintext, data)
            except tipline_core.DecryptionError:
                failed.append(
                    (encrypted.model, encrypted.field, record_id))
                continue
            # Only if unchanged since read: a value written meanwhile is the
            # server's, under the right key.
            cursor.execute(*table.update(
                    [value], [moved],
                    where=(table.id == record_id) & (value == ciphertext)))
            done += 1
        transaction.commit()
    return len(rows), rows[-1][0] if rows else last_id, done, failed
