"""Tipline's native core: tracking numbers (and, later, field encryption,
near-duplicate detection and scoring).

This is the public API. ``tipline_core._native`` is private: it raises a
single ``_native.Error`` carrying a status code, which this module maps to the
exceptions below.
"""

from __future__ import annotations

import functools
import os

from . import _native

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "TiplineError",
    "InvalidInput",
    "InvalidTrackingNumber",
    "DecryptionError",
    "KeysetError",
    "new_tracking_number",
    "parse_tracking_number",
    "is_valid_tracking_number",
    "MasterKeyError",
    "Keyset",
    "FieldCipher",
    "DataKey",
    "DATA_KEY_ID",
    "WRAPPED_DATA_KEY_SIZE",
    "CIPHERTEXT_PREFIX_SIZE",
    "CIPHERTEXT_OVERHEAD",
    "ciphertext_key_id",
    "ciphertext_prefix",
    "BlindIndexer",
    "blind_index",
    "blind_index_key",
    "new_receipt",
    "hash_receipt",
    "verify_receipt",
    "new_master_key",
    "parse_master_key",
    "master_key_from_env",
    "load_master_key_file",
    "create_master_key_file",
]


class TiplineError(Exception):
    """Base of every error raised by tipline_core."""

    code = "internal"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(TiplineError, ValueError):
    """An argument was rejected; the message can be shown to its author."""

    code = "invalid_argument"


class InvalidTrackingNumber(InvalidInput):
    """A tracking number could not be read (typo, wrong length, ...)."""


class DecryptionError(TiplineError):
    """A ciphertext did not decrypt (wrong key, tampered, misplaced)."""

    code = "decryption_failed"


class KeysetError(TiplineError, KeyError):
    """A keyset operation failed: unknown key, or a rotation step out of
    order."""

    code = "not_found"

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.message


class MasterKeyError(InvalidInput):
    """The master key could not be read or written: missing or loosely
    permitted key file, bad contents, a file that already exists. ``.code``
    keeps the status code (``not_found``, ``invalid_argument``,
    ``failed_precondition``). Messages name files, never key bytes."""


# Status code (tipline/status.h, StatusCodeName) -> public exception.
_ERRORS_BY_CODE: dict[str, type[TiplineError]] = {
    "invalid_argument": InvalidInput,
    "decryption_failed": DecryptionError,
    "not_found": KeysetError,
    "failed_precondition": KeysetError,
    "internal": TiplineError,
}


def _public_error(
    error: _native.Error,
    invalid_input: type[InvalidInput] = InvalidInput,
    every_code: type[TiplineError] | None = None,
) -> TiplineError:
    code = getattr(error, "code", "internal")
    message = getattr(error, "message", str(error))
    if every_code is not None:
        return every_code(message, code)
    cls = _ERRORS_BY_CODE.get(code, TiplineError)
    if cls is InvalidInput:
        cls = invalid_input
    return cls(message, code)


def _translate_errors(
    invalid_input: type[InvalidInput] = InvalidInput,
    every_code: type[TiplineError] | None = None,
):
    """Decorator, and the one place where ``_native.Error`` becomes a public
    exception: the class of its code (``invalid_argument`` as
    ``invalid_input``), or ``every_code`` for every code."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except _native.Error as error:
                raise _public_error(error, invalid_input, every_code) from None

        return wrapper

    return decorate


# --- Tracking numbers --------------------------------------------------------


@_translate_errors()
def new_tracking_number() -> str:
    """Return a fresh random tracking number, ``TL-XXXX-XXXX-XXXX-XXXX``.

    75 random bits from the OpenSSL CSPRNG plus a check symbol."""
    return _native.new_tracking_number()


@_translate_errors(InvalidTrackingNumber)
def parse_tracking_number(text: str) -> str:
    """Return the canonical form of a tracking number as a person typed it.

    Case, spaces and hyphens are ignored, I and L read as 1, O as 0, and the
    ``TL`` prefix is optional. Raises InvalidTrackingNumber with a message fit
    for the person who typed it, and TypeError if ``text`` is not a str."""
    return _native.parse_tracking_number(text)


def is_valid_tracking_number(text: str) -> bool:
    """Return whether parse_tracking_number(text) would succeed.

    Raises TypeError if ``text`` is not a str."""
    return _native.is_valid_tracking_number(text)


# --- Field encryption ----------------------------------------------------------
#
# Formats (documented in native/include/tipline/): ciphertext_format.h,
# keyset.h (wrapped keyset), receipt.h (receipt hash), master_key.h (key file).


class Keyset:
    """A Tink-like AES-256-GCM keyset: uint32 key ids (1, 2, 3, ..., never
    reused), one primary key that encrypts, others that still decrypt.

    Life cycle: ``rotate()`` (new primary) -> re-encrypt -> ``disable(old)``
    (reversible with ``enable``; a disabled key neither encrypts nor
    decrypts) -> ``destroy(old)`` (only a disabled key; the key is wiped and
    its ciphertexts are lost for good). The primary can be neither disabled
    nor destroyed. Steps out of order raise KeysetError.

    Thread-safe; FieldCiphers share it, so a rotation is seen by the next
    encrypt. Not picklable: persist it with ``to_bytes(master_key)``.
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.Keyset) -> None:
        if not isinstance(native, _native.Keyset):
            raise TypeError("use Keyset.generate() or Keyset.from_bytes()")
        self._native = native

    @classmethod
    @_translate_errors()
    def generate(cls) -> Keyset:
        """A keyset with one enabled primary key (id 1)."""
        return cls(_native.Keyset.generate())

    @classmethod
    @_translate_errors()
    def from_bytes(cls, data: bytes, master_key: bytes) -> Keyset:
        """Unwrap ``to_bytes`` output. DecryptionError for a wrong master key
        or damaged data; InvalidInput if master_key is not 32 bytes."""
        return cls(_native.Keyset.from_bytes(data, master_key))

    @_translate_errors()
    def to_bytes(self, master_key: bytes) -> bytes:
        """The keyset encrypted under the 32-byte master key."""
        return self._native.to_bytes(master_key)

    @_translate_errors()
    def rotate(self) -> int:
        """Add a key and make it primary; return its id."""
        return self._native.rotate()

    @_translate_errors()
    def add_key(self) -> int:
        """Add an enabled, non-primary key; return its id."""
        return self._native.add_key()

    @_translate_errors()
    def set_primary(self, key_id: int) -> None:
        """Make an enabled key the primary."""
        self._native.set_primary(key_id)

    @_translate_errors()
    def disable(self, key_id: int) -> None:
        """Stop a non-primary key from encrypting or decrypting."""
        self._native.disable(key_id)

    @_translate_errors()
    def enable(self, key_id: int) -> None:
        """Re-enable a disabled key."""
        self._native.enable(key_id)

    @_translate_errors()
    def destroy(self, key_id: int) -> None:
        """Wipe a disabled key for good."""
        self._native.destroy(key_id)

    @_translate_errors()
    def key_status(self, key_id: int) -> str:
        """``"enabled"`` or ``"disabled"``; KeysetError if unknown."""
        return self._native.key_status(key_id)

    @property
    def key_ids(self) -> list[int]:
        """Ids of the keys that exist (enabled or disabled), ascending."""
        return self._native.key_ids

    @property
    def primary_id(self) -> int:
        return self._native.primary_id

    def __repr__(self) -> str:
        return repr(self._native)


class FieldCipher:
    """AES-256-GCM field encryption over a Keyset (shared, not copied).

    ``encrypt(plaintext, associated_data)`` -> ``0x01 || key id (4, BE) ||
    IV (12) || ciphertext || tag (16)``, with a fresh random IV. The
    associated data must name the ciphertext's place (model, field, record
    id) and may not be empty. ``decrypt`` raises DecryptionError, with one
    message, for every failure. Both release the GIL; one FieldCipher may be
    used from many threads.
    """

    __slots__ = ("_native", "keyset")

    def __init__(self, keyset: Keyset) -> None:
        if not isinstance(keyset, Keyset):
            raise TypeError("FieldCipher needs a tipline_core.Keyset")
        self.keyset = keyset
        self._native = _native.FieldCipher(keyset._native)

    @_translate_errors()
    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        return self._native.encrypt(plaintext, associated_data)

    @_translate_errors()
    def decrypt(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        return self._native.decrypt(ciphertext, associated_data)


class DataKey:
    """A record's own AES-256-GCM key (envelope encryption): it encrypts
    every value of the record, and is stored only wrapped by a FieldCipher
    under the keyset's primary key, bound to the record by the associated
    data. Destroying the wrapped key makes every value of the record
    unreadable; a rotation rewraps the key instead of re-encrypting the
    values.

    Its ciphertexts have the FieldCipher format with key id DATA_KEY_ID (0),
    which no keyset issues. The key bytes never leave the native core:
    ``wrap``, ``unwrap`` and ``rewrap`` deal in the wrapped form only.
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.DataKey) -> None:
        if not isinstance(native, _native.DataKey):
            raise TypeError("use DataKey.generate() or DataKey.unwrap()")
        self._native = native

    @classmethod
    @_translate_errors()
    def generate(cls) -> DataKey:
        """A new key from the CSPRNG."""
        return cls(_native.DataKey.generate())

    @classmethod
    @_translate_errors()
    def unwrap(
        cls, cipher: FieldCipher, wrapped: bytes, associated_data: bytes
    ) -> DataKey:
        """The key ``wrap`` wrapped with the same associated data;
        DecryptionError for any failure."""
        return cls(
            _native.DataKey.unwrap(cipher._native, wrapped, associated_data)
        )

    @staticmethod
    @_translate_errors()
    def rewrap(
        cipher: FieldCipher, wrapped: bytes, associated_data: bytes
    ) -> bytes:
        """The wrapped key, wrapped again under the cipher's primary key."""
        return _native.DataKey.rewrap(cipher._native, wrapped, associated_data)

    @_translate_errors()
    def wrap(self, cipher: FieldCipher, associated_data: bytes) -> bytes:
        """The key wrapped under the cipher's primary key."""
        return self._native.wrap(cipher._native, associated_data)

    @_translate_errors()
    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        return self._native.encrypt(plaintext, associated_data)

    @_translate_errors()
    def decrypt(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        return self._native.decrypt(ciphertext, associated_data)

    def __repr__(self) -> str:
        return "<tipline_core.DataKey>"


#: The key id of values under a record's data key; the size of a wrapped one.
DATA_KEY_ID: int = _native.DATA_KEY_ID
WRAPPED_DATA_KEY_SIZE: int = _native.WRAPPED_DATA_KEY_SIZE

#: Bytes of a ciphertext's prefix (version byte and key id), and of all that a
#: ciphertext adds to its plaintext; the format is ciphertext_format.h's.
CIPHERTEXT_PREFIX_SIZE: int = _native.CIPHERTEXT_PREFIX_SIZE
CIPHERTEXT_OVERHEAD: int = _native.CIPHERTEXT_OVERHEAD


def ciphertext_key_id(data: bytes) -> int | None:
    """The key id that a stored value's first bytes name (its prefix alone
    will do), or None when they do not start a ciphertext of this format."""
    return _native.ciphertext_key_id(bytes(data))


def ciphertext_prefix(key_id: int) -> bytes:
    """The first CIPHERTEXT_PREFIX_SIZE bytes of every ciphertext under
    key_id, to find or count stored values by key without decrypting."""
    return _native.ciphertext_prefix(key_id)


# --- Blind index ---------------------------------------------------------------


def _purpose_bytes(purpose: bytes | str) -> bytes:
    return purpose.encode("utf-8") if isinstance(purpose, str) else purpose


class BlindIndexer:
    """Keyed, deterministic 32-byte fingerprints for equality lookups.

    index = HMAC-SHA256(k, len(purpose) as u32 BE || purpose || value) with
    k = HKDF-SHA256(master_key, info="tipline blind index v1"). Create one
    per master key and reuse it (the derivation is done once). Values are
    hashed as given: normalise them (case, whitespace) first.
    """

    __slots__ = ("_native",)

    @_translate_errors()
    def __init__(self, master_key: bytes) -> None:
        self._native = _native.BlindIndexer(master_key)

    @classmethod
    @_translate_errors()
    def from_key(cls, index_key: bytes) -> BlindIndexer:
        """An indexer over an index key kept apart from the master key
        (``blind_index_key(master_key)`` gives the same indexes as
        ``BlindIndexer(master_key)``), so that indexes survive a change of
        master key."""
        indexer = cls.__new__(cls)
        indexer._native = _native.BlindIndexer.from_key(index_key)
        return indexer

    @_translate_errors()
    def index(self, value: bytes, purpose: bytes | str = b"reporter") -> bytes:
        """The index of ``value``; ``purpose`` (1-256 bytes, a str is UTF-8
        encoded) separates domains."""
        return self._native.index(value, _purpose_bytes(purpose))


@_translate_errors()
def blind_index(
    master_key: bytes, value: bytes, purpose: bytes | str = b"reporter"
) -> bytes:
    """One-off ``BlindIndexer(master_key).index(value, purpose)``."""
    return _native.BlindIndexer(master_key).index(value, _purpose_bytes(purpose))


@_translate_errors()
def blind_index_key(master_key: bytes) -> bytes:
    """The 32-byte index key that ``BlindIndexer(master_key)`` derives."""
    return _native.blind_index_key(master_key)


# --- Receipts ------------------------------------------------------------------


@_translate_errors()
def new_receipt() -> str:
    """A fresh receipt, ``dddd-dddd-dddd-dddd``: 16 uniform random digits
    (53 bits). Show it once; store only ``hash_receipt(receipt)``."""
    return _native.new_receipt()


@_translate_errors()
def hash_receipt(receipt: str) -> bytes:
    """The 52-byte scrypt record to store (version, N, r, p, salt, hash).
    Spaces and hyphens in ``receipt`` are ignored; anything else but 16
    digits raises InvalidInput. Takes ~40 ms with the GIL released."""
    return _native.hash_receipt(receipt)


@_translate_errors()
def verify_receipt(receipt: str, stored: bytes) -> bool:
    """Whether ``receipt`` (spaces/hyphens ignored) matches ``stored``, in
    constant time. A malformed receipt is False; a malformed ``stored``
    raises InvalidInput."""
    return _native.verify_receipt(receipt, stored)


# --- Master key sources ----------------------------------------------------------


# Every failure of a master key source is a MasterKeyError, whatever its code.
_master_key_errors = _translate_errors(every_code=MasterKeyError)


@_master_key_errors
def new_master_key() -> bytes:
    """32 fresh random bytes."""
    return _native.new_master_key()


@_master_key_errors
def parse_master_key(text: str) -> bytes:
    """64 hex characters, or 32 bytes in base64 (standard or URL-safe,
    padding optional), surrounding whitespace ignored -> 32 bytes."""
    return _native.parse_master_key(text)


def master_key_from_env(name: str = "TIPLINE_MASTER_KEY") -> bytes:
    """``parse_master_key(os.environ[name])``; MasterKeyError if unset."""
    text = os.environ.get(name)
    if text is None:
        raise MasterKeyError(
            f"the environment variable {name} is not set", "not_found"
        )
    return parse_master_key(text)


@_master_key_errors
def load_master_key_file(path: str | os.PathLike[str]) -> bytes:
    """Read a key file: 64 hex characters and an optional newline, mode 0600
    or 0400 (group/other access is refused, with the chmod to run)."""
    return _native.load_master_key_file(os.fspath(path))


@_master_key_errors
def create_master_key_file(
    path: str | os.PathLike[str], master_key: bytes | None = None
) -> None:
    """Write a new key file (a fresh key unless ``master_key`` is given),
    mode 0600, atomically; MasterKeyError if ``path`` already exists."""
    _native.create_master_key_file(os.fspath(path), master_key)


# --- Near-duplicates and priority scoring ----------------------------------------

# The MinHash part of a signature (the whole of a version-1 one); later
# versions add their verify set and matching form, so their length varies.
SIGNATURE_SIZE: int = _native.SIGNATURE_SIZE
SIGNATURE_VERSION: int = _native.SIGNATURE_VERSION
NUM_PERMUTATIONS: int = _native.NUM_PERMUTATIONS
LSH_BANDS: int = _native.LSH_BANDS
LSH_ROWS: int = _native.LSH_ROWS
# Version 3: the extra windows of a short text (SHORT_TEXT_SHINGLES shingles
# or fewer), which it is stored under and looks up.
LSH_EXTRA_BANDS: int = _native.LSH_EXTRA_BANDS
SHORT_TEXT_SHINGLES: int = _native.SHORT_TEXT_SHINGLES
LSH_BANDS_V1: int = _native.LSH_BANDS_V1
DEFAULT_DEDUP_THRESHOLD: float = _native.DEFAULT_DEDUP_THRESHOLD
DEFAULT_DEDUP_THRESHOLD_V1: float = _native.DEFAULT_DEDUP_THRESHOLD_V1
DEFAULT_CONTAINMENT_THRESHOLD: float = _native.DEFAULT_CONTAINMENT_THRESHOLD
MIN_CONTAINMENT_SHINGLES: int = _native.MIN_CONTAINMENT_SHINGLES


@_translate_errors()
def normalize(text: str, version: int = SIGNATURE_VERSION) -> str:
    """Return the matching form of ``text``: NFKC_Casefold (full-width and
    case folded, zero-width characters dropped), traditional Chinese mapped
    to simplified (OpenCC t2s), punctuation and whitespace folded to single
    spaces."""
    return _native.normalize(text, version)


@_translate_errors()
def signature(text: str, version: int = SIGNATURE_VERSION) -> bytes:
    """Return the near-duplicate signature of ``text`` (the current version
    by default; 1 and 2 for comparing with stored signatures of those
    versions)."""
    return _native.signature(text, version)


@_translate_errors()
def signatures(texts: list[str], version: int = SIGNATURE_VERSION) -> list[bytes]:
    """Return the signatures of many texts, computed on all cores with the
    GIL released."""
    return _native.signatures(texts, version)


@_translate_errors()
def band_keys(signature: bytes) -> list[int]:
    """Return the band keys a signature is stored under and looks up
    (LSH_BANDS, plus LSH_EXTRA_BANDS for a short version-3 text;
    LSH_BANDS_V1 for version 1), non-negative 63-bit ints (an SQL BIGINT
    each; distinct across bands and versions, so one column holds them
    all). Empty for the signature of a text with no words."""
    return _native.band_keys(signature)


@_translate_errors()
def estimate_similarity(sig_a: bytes, sig_b: bytes) -> float:
    """Return the estimated Jaccard similarity of two signatures' texts
    (0.0 across versions that cannot be compared)."""
    return _native.estimate_similarity(sig_a, sig_b)


@_translate_errors()
def signature_version(signature: bytes) -> int:
    """Return the version of a stored signature (1, 2 or 3)."""
    return _native.signature_version(signature)


@_translate_errors()
def verify(sig_a: bytes, sig_b: bytes) -> tuple[float, float]:
    """Return the exact (Jaccard, containment) of two signatures' shingle
    sets (versions 2 and 3); containment is the overlap over the smaller
    set."""
    return _native.verify(sig_a, sig_b)


def jaccard_threshold(threshold: float, smaller: int, cjk: bool) -> float:
    """Return the Jaccard similarity a pair needs at ``threshold`` when the
    smaller text has ``smaller`` shingles (lower for short texts, and for
    two Chinese texts)."""
    return _native.jaccard_threshold(threshold, smaller, cjk)


@_translate_errors()
def match_score(
    sig_a: bytes,
    sig_b: bytes,
    threshold: float = DEFAULT_DEDUP_THRESHOLD,
    containment: float = DEFAULT_CONTAINMENT_THRESHOLD,
    threshold_v1: float = DEFAULT_DEDUP_THRESHOLD_V1,
) -> float:
    """Return how two stored signatures match, 0.0 if they are not
    near-duplicates: for versions 2 and 3 the verified decision (Jaccard at
    least jaccard_threshold(threshold, ...), or containment at least
    ``containment`` for texts of MIN_CONTAINMENT_SHINGLES shingles or more;
    never two version-3 texts that each carry substance of their own; for
    two version-3 texts of up to 1,000 characters the verify model decides,
    within a region below those thresholds: tipline/dedup_model.h), for
    version 1 the MinHash estimate against ``threshold_v1``; version 1 never
    matches a later version."""
    return _native.match_score(sig_a, sig_b, threshold, containment, threshold_v1)


@_translate_errors()
def pair_features(sig_a: bytes, sig_b: bytes) -> tuple[float, ...] | None:
    """Return the verify model's features of two version-3 signatures
    (tipline/dedup_model.h, PairFeature, in order), or None where the model
    does not apply by their matching forms and verify sets. For training
    the model (tests/bench/train_dedup_model.py)."""
    return _native.pair_features(sig_a, sig_b)


class DedupIndex:
    """An in-memory near-duplicate index: integer keys to signatures of
    one ``version``.

    Versions 2 and 3 (3 is the default): LSH candidates are verified as
    match_score does; ``query`` returns up to ``k`` (key, score) pairs,
    best first. Version 1: the estimated similarity must reach
    ``threshold`` (default DEFAULT_DEDUP_THRESHOLD_V1). Thread-safe; the
    GIL is released while texts are normalised, hashed and looked up."""

    __slots__ = ("_index",)

    @_translate_errors()
    def __init__(
        self,
        threshold: float | None = None,
        version: int = SIGNATURE_VERSION,
        containment: float = DEFAULT_CONTAINMENT_THRESHOLD,
    ) -> None:
        self._index = _native.DedupIndex(threshold, version, containment)

    @property
    def threshold(self) -> float:
        return self._index.threshold

    @property
    def containment(self) -> float:
        return self._index.containment

    @property
    def version(self) -> int:
        return self._index.version

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: int) -> bool:
        return key in self._index

    @_translate_errors()
    def signature(self, text: str) -> bytes:
        return self._index.signature(text)

    @_translate_errors()
    def signatures(self, texts: list[str]) -> list[bytes]:
        return self._index.signatures(texts)

    @_translate_errors()
    def add(self, key: int, text: str) -> None:
        """Store ``text`` under ``key`` (replacing what the key held)."""
        self._index.add(key, text)

    @_translate_errors()
    def add_signature(self, key: int, signature: bytes) -> None:
        self._index.add_signature(key, signature)

    @_translate_errors()
    def add_many(self, keys: list[int], texts: list[str]) -> None:
        self._index.add_many(keys, texts)

    def remove(self, key: int) -> bool:
        """Forget ``key``; return whether it was stored."""
        return self._index.remove(key)

    @_translate_errors()
    def query(self, text: str, k: int = 10) -> list[tuple[int, float]]:
        return self._index.query(text, k)

    @_translate_errors()
    def query_signature(
        self, signature: bytes, k: int = 10
    ) -> list[tuple[int, float]]:
        return self._index.query_signature(signature, k)

    @_translate_errors()
    def query_many(
        self, texts: list[str], k: int = 10
    ) -> list[list[tuple[int, float]]]:
        return self._index.query_many(texts, k)


class ScoreWeights(_native.ScoreWeights):
    """The weights of the priority score, editable by the administrator.

    ``ScoreWeights(severity=40.0, ...)``; every name is an attribute, and
    ``as_dict()`` lists them with their values."""

    @_translate_errors()
    def __init__(self, **weights: float) -> None:
        super().__init__(**weights)


class BurstParams(_native.BurstParams):
    """Parameters of the burst guard (detect_report_burst)."""

    @_translate_errors()
    def __init__(self, **params: float) -> None:
        super().__init__(**params)


@_translate_errors()
def explain(
    severity: float,
    reporters: float,
    upheld: float,
    rejected: float,
    target_upheld: float,
    pii_signals: float,
    sla_used: float,
    weights: ScoreWeights | dict[str, float] | None = None,
) -> tuple[float, list[tuple[str, float]]]:
    """Return (score, [(factor, contribution), ...]) for one report; the
    contributions add up to the score (0..100)."""
    return _native.explain(
        severity, reporters, upheld, rejected, target_upheld, pii_signals,
        sla_used, weights,
    )


@_translate_errors()
def score_batch(
    severity, reporters, upheld, rejected, target_upheld, pii_signals,
    sla_used, weights: ScoreWeights | dict[str, float] | None = None,
    *, out=None,
):
    """Score many reports given as equal-length columns (array.array,
    memoryview or any buffer, or sequences); return array('d') of scores,
    equal to explain() row by row. Contiguous buffers of float64, float32
    or 8- to 64-bit integers are read in place: counts as array('H') or
    array('I') and fractions as array('f') mean less memory to stream.
    With ``out``, a writable float64 buffer of the same length that
    overlaps no column, fill it instead and return it: rescoring into one
    buffer saves allocating 8 bytes a report."""
    return _native.score_batch(
        severity, reporters, upheld, rejected, target_upheld, pii_signals,
        sla_used, weights, out=out,
    )


@_translate_errors()
def top_k(scores, k: int) -> list[tuple[int, float]]:
    """Return the ``k`` best (index, score) pairs, best first."""
    return _native.top_k(scores, k)


@_translate_errors()
def personal_data_signals(text: str) -> dict[str, int]:
    """Count personal data in ``text``: keys email, phone, resident_id
    (checksum-valid Chinese ID numbers) and card (Luhn-valid numbers)."""
    return _native.personal_data_signals(text)


@_translate_errors()
def detect_report_burst(
    timestamps, account_ages, accuracies, params: BurstParams | None = None
) -> tuple[bool, list[int]]:
    """Flag report bombing against one target: return (is_burst, indices of
    the burst's reports). Columns: report time (s), reporter account age (s)
    and reporter accuracy in [0, 1] (negative: no history)."""
    return _native.detect_report_burst(timestamps, account_ages, accuracies, params)


__all__ += [
    "SIGNATURE_SIZE",
    "SIGNATURE_VERSION",
    "NUM_PERMUTATIONS",
    "LSH_BANDS",
    "LSH_ROWS",
    "LSH_EXTRA_BANDS",
    "SHORT_TEXT_SHINGLES",
    "DEFAULT_DEDUP_THRESHOLD",
    "DEFAULT_DEDUP_THRESHOLD_V1",
    "DEFAULT_CONTAINMENT_THRESHOLD",
    "MIN_CONTAINMENT_SHINGLES",
    "LSH_BANDS_V1",
    "normalize",
    "signature",
    "signatures",
    "band_keys",
    "jaccard_threshold",
    "signature_version",
    "verify",
    "match_score",
    "pair_features",
    "estimate_similarity",
    "DedupIndex",
    "ScoreWeights",
    "BurstParams",
    "explain",
    "score_batch",
    "top_k",
    "personal_data_signals",
    "detect_report_burst",
]


# --- Audit hash chain ----------------------------------------------------------
#
# Encoding and hashes are documented in native/include/tipline/audit_chain.h.

AUDIT_HASH_SIZE: int = _native.AUDIT_HASH_SIZE
AUDIT_ENCODING_VERSION: int = _native.AUDIT_ENCODING_VERSION


@_translate_errors()
def audit_genesis(report_id: int) -> bytes:
    """The previous hash of report ``report_id``'s first audit link:
    SHA-256(b"tipline audit v1" + report_id as 8 bytes big-endian)."""
    return _native.audit_genesis(report_id)


@_translate_errors()
def audit_link(
    prev_hash: bytes,
    report_id: int,
    sequence: int,
    timestamp_us: int,
    actor: str,
    kind: str,
    details: dict[str, str],
) -> bytes:
    """The 32-byte hash to store with an audit event: SHA-256(prev_hash ||
    canonical encoding of the event). ``prev_hash`` is the hash stored with
    the report's previous event, or ``audit_genesis(report_id)`` for the
    first; ``sequence`` counts from 1; ``timestamp_us`` is microseconds since
    the epoch (UTC); ``actor`` may be empty; ``kind`` is 1-32 characters of
    a-z, 0-9, ``_`` and ``.`` (``"state"``, ``"assign"``, ``"message"``,
    ``"reveal"``, ``"export"``, ``"appeal"``). Raises InvalidInput for a bad
    or oversized field (actor 256 bytes, detail keys 128, values 64 KiB, 256
    details, 1 MiB in all)."""
    return _native.audit_link(
        prev_hash, report_id, sequence, timestamp_us, actor, kind, details
    )


@_translate_errors()
def audit_verify(
    report_id: int,
    events: list[tuple[int, int, str, str, dict[str, str], bytes]],
) -> int | None:
    """Check a report's stored chain, oldest first, given as (sequence,
    timestamp_us, actor, kind, details, stored_hash) tuples. Return the
    0-based index of the first broken link (edited, inserted, dropped,
    reordered or duplicated event, wrong stored hash), or None if it holds.
    Events cut off the end are not detected: compare the last hash with an
    anchor kept elsewhere. Runs with the GIL released."""
    return _native.audit_verify(report_id, events)


__all__ += [
    "AUDIT_HASH_SIZE",
    "AUDIT_ENCODING_VERSION",
    "audit_genesis",
    "audit_link",
    "audit_verify",
]
