"""tipline_core tracking numbers, through the public facade."""

import collections

import pytest

import tipline_core
from tipline_core import (
    InvalidInput,
    InvalidTrackingNumber,
    TiplineError,
    is_valid_tracking_number,
    new_tracking_number,
    parse_tracking_number,
)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_MISMATCH = "the check character does not match; please re-type the number"


def body(number: str) -> str:
    return number[3:].replace("-", "")


def parse_error(text: str) -> str:
    with pytest.raises(InvalidTrackingNumber) as caught:
        parse_tracking_number(text)
    assert not is_valid_tracking_number(text)
    return str(caught.value)


def test_new_number_has_canonical_format():
    for _ in range(1000):
        number = new_tracking_number()
        assert len(number) == 22
        assert number.startswith("TL-")
        assert [number[i] for i in (2, 7, 12, 17)] == ["-"] * 4
        assert set(body(number)) <= set(ALPHABET)


def test_parse_round_trip():
    for _ in range(1000):
        number = new_tracking_number()
        assert parse_tracking_number(number) == number
        assert is_valid_tracking_number(number)


def test_parse_tolerates_case_spaces_hyphens_and_prefix():
    number = new_tracking_number()
    raw = body(number)
    for typed in (
        raw,
        number.lower(),
        f"  {number}  ",
        " - ".join(raw),
        "tl" + raw,
        "T1" + raw,
        "t-l-" + raw,
        raw[:8] + " " + raw[8:],
    ):
        assert parse_tracking_number(typed) == number, typed


def test_parse_reads_i_and_l_as_one_and_o_as_zero():
    while True:
        number = new_tracking_number()
        raw = body(number)
        if "1" in raw and "0" in raw:
            break
    for one, zero in (("I", "O"), ("i", "o"), ("L", "O"), ("l", "o")):
        typed = raw.replace("1", one).replace("0", zero)
        assert parse_tracking_number(typed) == number


def test_every_single_substitution_is_detected():
    for _ in range(50):
        raw = body(new_tracking_number())
        for pos, original in enumerate(raw):
            for replacement in ALPHABET:
                if replacement == original:
                    continue
                typo = raw[:pos] + replacement + raw[pos + 1:]
                assert parse_error(typo) == CHECK_MISMATCH, (raw, typo)


def test_every_adjacent_transposition_is_detected():
    for _ in range(200):
        raw = body(new_tracking_number())
        for pos in range(15):  # the last swap moves the check symbol
            if raw[pos] == raw[pos + 1]:
                continue
            typo = raw[:pos] + raw[pos + 1] + raw[pos] + raw[pos + 2:]
            assert parse_error(typo) == CHECK_MISMATCH, (raw, typo)


def test_no_duplicates_in_100k():
    numbers = {new_tracking_number() for _ in range(100_000)}
    assert len(numbers) == 100_000


def test_every_symbol_appears_in_every_random_position():
    counts = [collections.Counter() for _ in range(15)]
    for _ in range(20_000):
        for pos, symbol in enumerate(body(new_tracking_number())[:15]):
            counts[pos][symbol] += 1
    for counter in counts:
        assert set(counter) == set(ALPHABET)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the tracking number is empty"),
        ("- -", "the tracking number is empty"),
        ("ABC", 'a tracking number has 16 characters (not counting "TL", '
                "spaces and hyphens); got 3"),
        ("TL-ABCD-EFGH-JKMU-0000", "invalid character 'U' at position 17"),
        ("AB\x00CD", "invalid character at position 3"),
        ("ééX*", "invalid character at position 1"),
        ("AB\U0001F600", "invalid character at position 3"),
        ("A\ud800B", "the tracking number contains characters that are not "
                     "valid text"),
    ],
)
def test_clear_error_messages(text, message):
    assert parse_error(text) == message


def test_huge_input_gives_a_clean_error():
    for text in ("A" * 65, "A" * 10_000_000, "-" * 100 + "TL"):
        assert parse_error(text) == (
            "the tracking number is too long (more than 64 characters)")


def test_errors_are_public_exceptions():
    with pytest.raises(InvalidTrackingNumber) as caught:
        parse_tracking_number("nope")
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert isinstance(error, ValueError)
    assert isinstance(error, TiplineError)
    assert error.code == "invalid_argument"
    assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.parametrize("value", [None, 123, b"TL-0000-0000-0000-0000",
                                   bytearray(b"x"), ["TL"]])
def test_non_str_input_raises_type_error(value):
    with pytest.raises(TypeError):
        parse_tracking_number(value)
    with pytest.raises(TypeError):
        is_valid_tracking_number(value)


def test_public_api():
    assert tipline_core.__version__ == "0.1.0"
    for name in tipline_core.__all__:
        assert hasattr(tipline_core, name), name
