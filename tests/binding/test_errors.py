"""The single error path: _native.Error -> public exceptions by code."""

import pytest

import tipline_core
from tipline_core import (
    DecryptionError,
    InvalidInput,
    InvalidTrackingNumber,
    KeysetError,
    TiplineError,
    _native,
)


def test_native_error_carries_code_and_message():
    with pytest.raises(_native.Error) as caught:
        _native.parse_tracking_number("")
    assert caught.value.code == "invalid_argument"
    assert caught.value.message == "the tracking number is empty"
    assert str(caught.value) == "the tracking number is empty"


@pytest.mark.parametrize(
    "code, expected",
    [
        ("invalid_argument", InvalidInput),
        ("decryption_failed", DecryptionError),
        ("not_found", KeysetError),
        ("failed_precondition", KeysetError),
        ("internal", TiplineError),
        ("something_new", TiplineError),
    ],
)
def test_codes_map_to_public_exceptions(code, expected):
    native = _native.Error("boom")
    native.code = code
    native.message = "boom"
    public = tipline_core._public_error(native)
    assert type(public) is expected
    assert public.message == "boom" and str(public) == "boom"
    assert public.code == code


def test_invalid_argument_can_be_specialised():
    native = _native.Error("bad")
    native.code, native.message = "invalid_argument", "bad"
    public = tipline_core._public_error(native, InvalidTrackingNumber)
    assert type(public) is InvalidTrackingNumber


def test_exception_hierarchy():
    assert issubclass(InvalidTrackingNumber, InvalidInput)
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(KeysetError, KeyError)
    for cls in (InvalidInput, DecryptionError, KeysetError):
        assert issubclass(cls, TiplineError)
