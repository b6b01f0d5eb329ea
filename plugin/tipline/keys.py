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
import hashlib
import os
import threading

from trytond import config
from trytond.cache import Cache
from trytond.model import ModelSQL, fields
from trytond.transaction import Transaction

import tipline_core

from .authorless import AuthorlessRows
from .readonly import ServerReadonly

KEY_FILE_SECTION, KEY_FILE_OPTION = 'tipline', 'key_file'
KEY_ENV = 'TIPLINE_MASTER_KEY'

class MasterKeyMissing(RuntimeError):
    "Raised when no master key is configured; the message names the setting"


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


class Keyset(ServerReadonly, AuthorlessRows, ModelSQL):
    "The data keys, wrapped under the master key"
    __name__ = 'tipline.keyset'

    wrapped = fields.Binary("Wrapped Keyset", required=True)

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
        cursor.execute(*table.select(table.id, limit=1))
        if not cursor.fetchone():
            keyset = tipline_core.Keyset.generate()
            cursor.execute(*table.insert(
                    [table.wrapped], [[keyset.to_bytes(master_key())]]))

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._version_cache.clear()

    @classmethod
    def _load(cls):
        "The stored row: (id, wrapped bytes)"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, table.wrapped, order_by=table.id.asc, limit=1))
        row = cursor.fetchone()
        if not row:
            raise MasterKeyMissing(
                "The Tipline keyset is missing from the database; "
                "run trytond-admin -u tipline to create it.")
        return row[0], bytes(row[1])

    @classmethod
    def keyset(cls):
        "The current keyset, as stored (a fresh object the caller may change)"
        _, wrapped = cls._load()
        return tipline_core.Keyset.from_bytes(wrapped, master_key())

    @classmethod
    def store(cls, keyset):
        "Replace the stored keyset by keyset, wrapped under the master key"
        record_id, _ = cls._load()
        cls.write([cls(record_id)], {
                'wrapped': keyset.to_bytes(master_key()),
                })

    @classmethod
    def cipher(cls, reload=False):
        """The FieldCipher of the current keyset, shared by the process;
        reload reads the stored keyset again whatever the cache says"""
        database = Transaction().database.name
        version = cls._version_cache.get(database)
        with cls._ciphers_lock:
            cached = cls._ciphers.get(database)
            if (not reload and version is not None and cached
                    and cached[0] == version):
                return cached[1]
        _, wrapped = cls._load()
        version = hashlib.sha256(wrapped).hexdigest()
        cipher = tipline_core.FieldCipher(
            tipline_core.Keyset.from_bytes(wrapped, master_key()))
        with cls._ciphers_lock:
            cls._ciphers[database] = (version, cipher)
        cls._version_cache.set(database, version)
        return cipher

    @classmethod
    def encrypt(cls, model, field, record_id, plaintext):
        if plaintext is None:
            return None
        if isinstance(plaintext, str):
            plaintext = plaintext.encode('utf-8')
        return cls.cipher().encrypt(
            bytes(plaintext), associated_data(model, field, record_id))

    @classmethod
    def decrypt(cls, model, field, record_id, ciphertext):
        "Plaintext bytes; raises tipline_core.DecryptionError on any failure"
        if ciphertext is None:
            return None
        ciphertext = bytes(ciphertext)
        data = associated_data(model, field, record_id)
        cipher = cls.cipher()
        key_id = tipline_core.ciphertext_key_id(ciphertext)
        if key_id is not None and key_id not in cipher.keyset.key_ids:
            # Written under a key another process rotated in since this one
            # cached the keyset (the cache is invalidated within [cache]
            # clean_timeout): read the stored keyset again, once.
            cipher = cls.cipher(reload=True)
        return cipher.decrypt(ciphertext, data)

    @classmethod
    def reporter_token(cls, user_id):
        """The blind index that stands for a reporter: stable for a user,
        meaningless without the master key."""
        return tipline_core.blind_index(
            master_key(), b'res.user:%d' % int(user_id),
            purpose=b'reporter').hex()
