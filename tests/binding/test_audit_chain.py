"""tipline_core audit hash chain: audit_genesis, audit_link, audit_verify,
checked against a pure-Python implementation of the documented encoding
(native/include/tipline/audit_chain.h)."""

import concurrent.futures
import hashlib
import random
import struct

import pytest

import tipline_core
from tipline_core import (
    AUDIT_HASH_SIZE,
    InvalidInput,
    audit_genesis,
    audit_link,
    audit_verify,
)

# --- The documented encoding, independently ------------------------------------


def py_str(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def py_encode(report_id, sequence, timestamp_us, actor, kind, details) -> bytes:
    out = bytes([1]) + struct.pack(">QQq", report_id, sequence, timestamp_us)
    out += py_str(actor) + py_str(kind) + struct.pack(">I", len(details))
    for key in sorted(details, key=lambda k: k.encode("utf-8")):
        out += py_str(key) + py_str(details[key])
    return out


def py_genesis(report_id: int) -> bytes:
    return hashlib.sha256(b"tipline audit v1" + struct.pack(">Q", report_id)).digest()


def py_link(prev, report_id, sequence, timestamp_us, actor, kind, details) -> bytes:
    encoding = py_encode(report_id, sequence, timestamp_us, actor, kind, details)
    return hashlib.sha256(prev + encoding).digest()


def py_verify(report_id, events):
    prev = py_genesis(report_id)
    for i, (sequence, timestamp_us, actor, kind, details, stored) in enumerate(events):
        if sequence != i + 1:
            return i
        if py_link(prev, report_id, sequence, timestamp_us, actor, kind, details) != stored:
            return i
        prev = stored
    return None


# --- Helpers ----------------------------------------------------------------------

KINDS = ["state", "assign", "message", "reveal", "export", "appeal"]
GOLDEN_EVENTS = [
    (1, 1767225600000000, "", "state", {"to": "submitted", "from": "draft"}),
    (2, 1767229200123456, "moderator.ana", "reveal",
     {"reason": "Risque imminent \u2014 \u5371\u9669", "field": "reporter_email"}),
]
GOLDEN_GENESIS = "c463237763dffca061e262cb438a3f48db9bf9e9d77a6573efd9c5ab3f1124ec"
GOLDEN_HASHES = [
    "d075318ba282fbb3d3669231039f31ef31e87ce439ade3aa2ebbd5d206f47483",
    "d5ecedfe7f6aab6093b1a1f6e3dfd231167247a026d48b04da9e782b103c0f72",
]


def link_all(report_id, events):
    """(sequence, ts, actor, kind, details) rows -> rows with stored hashes."""
    prev = audit_genesis(report_id)
    chain = []
    for event in events:
        prev = audit_link(prev, report_id, *event)
        chain.append((*event, prev))
    return chain


def random_text(rng: random.Random, max_length: int) -> str:
    alphabet = "abcXYZ 09_-\u00e9\u00df\u4e2d\u6587\u0416\U0001f600\u200b\n\t\"'\\\x00"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, max_length)))


def random_events(rng: random.Random, count: int):
    events = []
    for sequence in range(1, count + 1):
        details = {}
        for _ in range(rng.randint(0, 5)):
            details[random_text(rng, 12) or "k"] = random_text(rng, 40)
        events.append((
            sequence,
            rng.randint(-(2**63), 2**63 - 1),
            random_text(rng, 20),
            rng.choice(KINDS + ["state.changed", "x_1"]),
            details,
        ))
    return events


def make_chain(report_id=5, length=6):
    return link_all(report_id, random_events(random.Random(length), length))


# --- Golden vector and cross-check ------------------------------------------------


def test_constants_and_exports():
    assert AUDIT_HASH_SIZE == 32
    assert tipline_core.AUDIT_ENCODING_VERSION == 1
    for name in ("AUDIT_HASH_SIZE", "audit_genesis", "audit_link", "audit_verify"):
        assert name in tipline_core.__all__


def test_golden_chain():
    assert audit_genesis(42).hex() == GOLDEN_GENESIS
    chain = link_all(42, GOLDEN_EVENTS)
    assert [row[-1].hex() for row in chain] == GOLDEN_HASHES
    assert audit_verify(42, chain) is None


def test_python_reimplementation_matches_the_golden_chain():
    assert py_genesis(42).hex() == GOLDEN_GENESIS
    prev = py_genesis(42)
    for event, expected in zip(GOLDEN_EVENTS, GOLDEN_HASHES):
        prev = py_link(prev, 42, *event)
        assert prev.hex() == expected


def test_native_matches_python_reimplementation_on_random_events():
    rng = random.Random(2024)
    for _ in range(300):
        report_id = rng.randint(1, 2**63 - 1)
        assert audit_genesis(report_id) == py_genesis(report_id)
        prev = rng.randbytes(32)
        event = random_events(rng, 1)[0]
        event = (rng.randint(1, 2**63 - 1), *event[1:])
        assert audit_link(prev, report_id, *event) == py_link(prev, report_id, *event)


def test_detail_order_does_not_matter():
    details = {"b": "2", "a": "1", "\u00e9": "3", "Z": "4"}
    reordered = dict(reversed(list(details.items())))
    prev = audit_genesis(1)
    assert audit_link(prev, 1, 1, 0, "", "state", details) == audit_link(
        prev, 1, 1, 0, "", "state", reordered
    )


def test_hash_arguments_accept_bytes_like():
    prev = audit_genesis(3)
    expected = audit_link(prev, 3, 1, 0, "", "state", {})
    assert audit_link(bytearray(prev), 3, 1, 0, "", "state", {}) == expected
    assert audit_link(memoryview(prev), 3, 1, 0, "", "state", {}) == expected
    chain = [(1, 0, "", "state", {}, memoryview(expected))]
    assert audit_verify(3, chain) is None


# --- Verification -----------------------------------------------------------------


def test_empty_chain_is_intact():
    assert audit_verify(1, []) is None


def test_intact_random_chains_verify():
    rng = random.Random(7)
    for length in (1, 2, 10, 50):
        report_id = rng.randint(1, 10**12)
        chain = link_all(report_id, random_events(rng, length))
        assert audit_verify(report_id, chain) is None
        assert py_verify(report_id, chain) is None


EDITS = {
    "sequence": lambda e: (e[0] + 1, *e[1:]),
    "timestamp": lambda e: (e[0], e[1] + 1, *e[2:]),
    "actor": lambda e: (*e[:2], e[2] + "x", *e[3:]),
    "kind": lambda e: (*e[:3], "export" if e[3] != "export" else "appeal", *e[4:]),
    "detail added": lambda e: (*e[:4], {**e[4], "zz": ""}, e[5]),
    "detail value": lambda e: (*e[:4], {**e[4], "note": "edited"}, e[5]),
    "details cleared": lambda e: (*e[:4], {}, e[5]),
    "stored hash": lambda e: (*e[:5], bytes([e[5][0] ^ 1]) + e[5][1:]),
    "stored hash truncated": lambda e: (*e[:5], e[5][:31]),
    "stored hash empty": lambda e: (*e[:5], b""),
}


@pytest.mark.parametrize("edit", EDITS)
def test_editing_any_field_of_any_event_names_that_link(edit):
    base = link_all(5, [
        (i + 1, 1_700_000_000_000_000 + i, f"user{i}", KINDS[i % 6], {"note": str(i)})
        for i in range(5)
    ])
    for i in range(len(base)):
        chain = list(base)
        chain[i] = EDITS[edit](chain[i])
        assert audit_verify(5, chain) == py_verify(5, chain) == i, (edit, i)


def test_reorder_gap_and_duplicate():
    base = make_chain(5, 6)
    for i in range(len(base) - 1):
        swapped = list(base)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        assert audit_verify(5, swapped) == i
        gap = base[:i] + base[i + 1:]
        assert audit_verify(5, gap) == i
        duplicate = base[: i + 1] + [base[i]] + base[i + 1:]
        assert audit_verify(5, duplicate) == i + 1


def test_chain_of_another_report_fails_at_first_link():
    chain = make_chain(7, 4)
    assert audit_verify(7, chain) is None
    assert audit_verify(8, chain) == 0


def test_native_and_python_verifiers_agree_on_random_tampering():
    rng = random.Random(99)
    for _ in range(200):
        chain = make_chain(11, rng.randint(1, 8))
        i = rng.randrange(len(chain))
        row = list(chain[i])
        field = rng.randrange(6)
        if field in (0, 1):
            row[field] += rng.choice([-1, 1])
        elif field in (2, 3):
            row[field] = row[field] + "a" if field == 2 else "tampered"
        elif field == 4:
            row[4] = {**row[4], "extra": random_text(rng, 5)}
        else:
            position = rng.randrange(32)
            row[5] = row[5][:position] + bytes([row[5][position] ^ 0x80]) + row[5][position + 1:]
        chain[i] = tuple(row)
        assert audit_verify(11, chain) == py_verify(11, chain) == i


def test_long_chain_verifies_from_many_threads():
    chain = make_chain(3, 2000)
    broken = list(chain)
    broken[1500] = (*broken[1500][:2], "mallory", *broken[1500][3:])
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda c: audit_verify(3, c), [chain, broken] * 4))
    assert results == [None, 1500] * 4


def test_big_details():
    big = {f"part{i}": chr(ord("a") + i) * 65536 for i in range(15)}
    chain = link_all(9, [(1, 0, "", "export", big), (2, 1, "", "export", {})])
    assert audit_verify(9, chain) == py_verify(9, chain) is None
    with pytest.raises(InvalidInput):
        audit_link(audit_genesis(9), 9, 1, 0, "", "export", {**big, "part15": "p" * 65536})


# --- Errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        (b"\0" * 31, 1, 1, 0, "", "state", {}),      # prev_hash size
        (b"\0" * 32, 0, 1, 0, "", "state", {}),      # report id
        (b"\0" * 32, 1, 0, 0, "", "state", {}),      # sequence
        (b"\0" * 32, 1, 1, 2**63, "", "state", {}),  # int64 overflow
        (b"\0" * 32, 1, 1, 0, "a" * 257, "state", {}),
        (b"\0" * 32, 1, 1, 0, "", "", {}),
        (b"\0" * 32, 1, 1, 0, "", "State", {}),
        (b"\0" * 32, 1, 1, 0, "", "k" * 33, {}),
        (b"\0" * 32, 1, 1, 0, "\ud800", "state", {}),  # lone surrogate
        (b"\0" * 32, 1, 1, 0, "", "state", {"": "v"}),
        (b"\0" * 32, 1, 1, 0, "", "state", {"k" * 129: "v"}),
        (b"\0" * 32, 1, 1, 0, "", "state", {"k": "v" * 65537}),
        (b"\0" * 32, 1, 1, 0, "", "state", {str(i): "" for i in range(257)}),
    ],
)
def test_invalid_fields_raise_invalid_input(args):
    with pytest.raises(InvalidInput) as caught:
        audit_link(*args)
    assert caught.value.code == "invalid_argument"


def test_limits_are_accepted():
    details = {"k" * 128: "v" * 65536, "\U0010ffff": "\uffff"}
    audit_link(b"\0" * 32, 2**63 - 1, 2**63 - 1, -(2**63), "a" * 256, "k" * 32, details)


@pytest.mark.parametrize(
    "args",
    [
        ("not bytes", 1, 1, 0, "", "state", {}),
        (b"\0" * 32, "1", 1, 0, "", "state", {}),
        (b"\0" * 32, True, 1, 0, "", "state", {}),
        (b"\0" * 32, 1, 1.0, 0, "", "state", {}),
        (b"\0" * 32, 1, 1, 0, b"actor", "state", {}),
        (b"\0" * 32, 1, 1, 0, "", "state", [("k", "v")]),
        (b"\0" * 32, 1, 1, 0, "", "state", {"k": 1}),
        (b"\0" * 32, 1, 1, 0, "", "state", {1: "v"}),
    ],
)
def test_wrong_types_raise_type_error(args):
    with pytest.raises(TypeError):
        audit_link(*args)


def test_verify_argument_errors():
    chain = make_chain(5, 2)
    with pytest.raises(InvalidInput):
        audit_verify(0, chain)
    with pytest.raises(InvalidInput):
        audit_verify(5, [(2**64, *chain[0][1:])])
    with pytest.raises(TypeError):
        audit_verify(5, "events")
    with pytest.raises(TypeError):
        audit_verify(5, [chain[0][:5]])
    with pytest.raises(TypeError):
        audit_verify(5, [(*chain[0][:5], "hash")])


def test_verify_reports_unencodable_event_as_broken():
    chain = make_chain(5, 3)
    chain[1] = (*chain[1][:3], "Bad Kind", *chain[1][4:])
    assert audit_verify(5, chain) == 1
