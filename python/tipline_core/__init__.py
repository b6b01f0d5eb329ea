"""Tipline's native core: tracking numbers (and, later, field encryption,
near-duplicate detection and scoring).

This is the public API. ``tipline_core._native`` is private: it raises a
single ``_native.Error`` carrying a status code, which this module maps to the
exceptions below.
"""

from __future__ import annotations

import functools

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


# Status code (tipline/status.h, StatusCodeName) -> public exception.
_ERRORS_BY_CODE: dict[str, type[TiplineError]] = {
    "invalid_argument": InvalidInput,
    "decryption_failed": DecryptionError,
    "not_found": KeysetError,
    "failed_precondition": KeysetError,
    "internal": TiplineError,
}


def _public_error(
    error: _native.Error, invalid_input: type[InvalidInput] = InvalidInput
) -> TiplineError:
    code = getattr(error, "code", "internal")
    message = getattr(error, "message", str(error))
    cls = _ERRORS_BY_CODE.get(code, TiplineError)
    if cls is InvalidInput:
        cls = invalid_input
    return cls(message, code)


def _translate_errors(invalid_input: type[InvalidInput] = InvalidInput):
    """Decorator: re-raise ``_native.Error`` as the public exception for its
    code (``invalid_argument`` as ``invalid_input``)."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except _native.Error as error:
                raise _public_error(error, invalid_input) from None

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
