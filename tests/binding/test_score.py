"""tipline_core scoring: explain, score_batch, top_k, ScoreWeights,
personal_data_signals, detect_report_burst."""

import array
import math
import random

import pytest

import tipline_core
from tipline_core import BurstParams, InvalidInput, ScoreWeights

FACTORS = ["severity", "reporters", "reporter_accuracy", "target_history",
           "personal_data", "sla_urgency"]


def test_explain_names_every_factor_and_sums_to_the_score():
    score, reasons = tipline_core.explain(0.8, 3, 10, 2, 1, 2, 0.5)
    assert [name for name, _ in reasons] == FACTORS
    assert 0 <= score <= 100
    assert math.isclose(sum(value for _, value in reasons), score, abs_tol=1e-9)
    assert dict(reasons)["severity"] == 0.8 * ScoreWeights().severity


def test_scores_are_bounded_and_explained_when_clamped():
    rng = random.Random(4)
    for _ in range(500):
        row = (rng.random(), rng.randint(1, 60), rng.randint(0, 90), rng.randint(0, 90),
               rng.randint(0, 9), rng.randint(0, 5), rng.random() * 2)
        score, reasons = tipline_core.explain(*row)
        assert 0 <= score <= 100
        assert math.isclose(sum(v for _, v in reasons), score, abs_tol=1e-9)
    score, reasons = tipline_core.explain(1, 1, 0, 0, 0, 0, 0, ScoreWeights(severity=500))
    assert score == 100 and reasons[-1][0] == "bounds"
    score, reasons = tipline_core.explain(0, 1, 0, 60, 0, 0, 0)
    assert score == 0 and reasons[-1][0] == "bounds"


def test_reporter_accuracy_rewards_upheld_and_punishes_rejected():
    def accuracy(upheld, rejected):
        return dict(tipline_core.explain(0.5, 1, upheld, rejected, 0, 0, 0)[1])["reporter_accuracy"]
    assert accuracy(40, 0) > accuracy(5, 0) > 0           # prior only below 6 reports
    assert accuracy(7, 3) == accuracy(0, 0)               # on the 0.7 axis: prior only
    assert accuracy(2, 30) < 0


def test_weights_are_editable():
    weights = ScoreWeights()
    assert weights.severity == 35.0 and "sla_urgency" in weights.as_dict()
    base = tipline_core.explain(0.8, 3, 10, 2, 1, 2, 0.5, weights)[0]
    weights.sla_urgency = 0
    assert math.isclose(tipline_core.explain(0.8, 3, 10, 2, 1, 2, 0.5, weights)[0], base - 7.5)
    as_dict = tipline_core.explain(0.8, 3, 10, 2, 1, 2, 0.5, {"sla_urgency": 0})[0]
    assert as_dict == tipline_core.explain(0.8, 3, 10, 2, 1, 2, 0.5, weights)[0]
    assert ScoreWeights(**weights.as_dict()) == weights
    with pytest.raises(TypeError):
        ScoreWeights(no_such_weight=1)
    with pytest.raises(InvalidInput):
        ScoreWeights(accuracy_axis=1.5)
    weights.reporters_saturation = 0.5
    with pytest.raises(InvalidInput):
        tipline_core.explain(0.8, 3, 10, 2, 1, 2, 0.5, weights)


def _columns(n, seed=9):
    rng = random.Random(seed)
    return (
        array.array("d", (rng.random() for _ in range(n))),
        array.array("i", (rng.randint(1, 40) for _ in range(n))),
        array.array("q", (rng.randint(0, 100) for _ in range(n))),
        [rng.randint(0, 100) for _ in range(n)],                       # a plain list
        memoryview(array.array("H", (rng.randint(0, 3000) for _ in range(n)))),
        array.array("B", (rng.randint(0, 5) for _ in range(n))),
        array.array("f", (rng.random() * 1.5 for _ in range(n))),
    )


def test_score_batch_equals_explain_row_by_row():
    columns = _columns(5000)
    weights = ScoreWeights(personal_data=25)
    scores = tipline_core.score_batch(*columns, weights)
    assert isinstance(scores, array.array) and scores.typecode == "d"
    assert len(scores) == 5000
    for i in range(0, 5000, 37):
        row = [float(column[i]) for column in columns]
        assert scores[i] == tipline_core.explain(*row, weights)[0]


@pytest.mark.parametrize("typecode", list("bBhHiIlLqQf") + ["d"])
def test_score_batch_reads_every_numeric_type(typecode):
    # Narrow columns are read in place; each must score as its values do.
    rng = random.Random(typecode)
    n = 700  # more than one block of rows, not a whole number of them
    counts = [rng.randint(0, 100) for _ in range(n)]
    floats = array.array("d", (rng.random() * 1.5 for _ in range(n)))
    column = array.array(typecode, counts)
    expected = tipline_core.score_batch(
        floats, array.array("d", counts), array.array("d", counts),
        array.array("d", counts[::-1]), array.array("d", counts),
        array.array("d", counts), floats)
    got = tipline_core.score_batch(
        floats, column, column, array.array(typecode, counts[::-1]),
        memoryview(column), column, floats)
    assert got == expected
    if typecode == "f":
        narrow = array.array("f", floats)
        scores = tipline_core.score_batch(narrow, *[column] * 5, narrow)
        row = [float(narrow[3]), *[float(counts[3])] * 5, float(narrow[3])]
        assert scores[3] == tipline_core.explain(*row)[0]


def test_score_batch_rejects_bad_columns():
    columns = list(_columns(10))
    with pytest.raises(InvalidInput):
        tipline_core.score_batch(*columns[:-1], array.array("d", [0.0]))
    with pytest.raises(TypeError):
        tipline_core.score_batch(*columns[:-1], "not numbers")
    assert len(tipline_core.score_batch(*[array.array("d")] * 7)) == 0


def test_score_batch_fills_out_in_place():
    columns = _columns(3000)
    expected = tipline_core.score_batch(*columns)
    out = array.array("d", [-1.0]) * 3000
    assert tipline_core.score_batch(*columns, out=out) is out
    assert out == expected
    view = memoryview(bytearray(8 * 3000)).cast("d")
    assert tipline_core.score_batch(*columns, out=view) is view
    assert view.tolist() == expected.tolist()


def test_score_batch_rejects_bad_out():
    columns = _columns(10)
    with pytest.raises(InvalidInput):  # wrong length
        tipline_core.score_batch(*columns, out=array.array("d", [0.0]) * 9)
    with pytest.raises(TypeError):  # not float64
        tipline_core.score_batch(*columns, out=array.array("f", [0.0]) * 10)
    with pytest.raises(TypeError):  # read-only
        tipline_core.score_batch(*columns, out=memoryview(bytes(80)).cast("d"))
    with pytest.raises(TypeError):
        tipline_core.score_batch(*columns, out=[0.0] * 10)
    severity = array.array("d", [0.5]) * 10
    with pytest.raises(InvalidInput):  # the late, exact rows reread inputs
        tipline_core.score_batch(severity, *columns[1:], out=severity)
    assert severity == array.array("d", [0.5]) * 10  # untouched


def test_top_k():
    scores = array.array("d", [5, 9, float("nan"), 9, 1, 7])
    assert tipline_core.top_k(scores, 3) == [(1, 9.0), (3, 9.0), (5, 7.0)]
    assert tipline_core.top_k([3, 1, 2], 10) == [(0, 3.0), (2, 2.0), (1, 1.0)]
    assert tipline_core.top_k(scores, 0) == []


# --- Personal data ------------------------------------------------------------------

def test_personal_data_signals():
    found = tipline_core.personal_data_signals(
        "mail a.b@example.com, call +86 138 0013 8000, ID 11010519491231002X, "
        "card 4111 1111 1111 1111")
    assert found == {"email": 1, "phone": 1, "resident_id": 1, "card": 1}
    bad_checksums = tipline_core.personal_data_signals(
        "ID 110105194912310021, card 4111 1111 1111 1112")
    assert bad_checksums["resident_id"] == 0 and bad_checksums["card"] == 0
    assert tipline_core.personal_data_signals("身份证：４４０５２４１９８００１０１００１３")["resident_id"] == 1
    assert tipline_core.personal_data_signals("") == {"email": 0, "phone": 0, "resident_id": 0, "card": 0}


# --- Burst guard ------------------------------------------------------------------

def test_detect_report_burst():
    times = [1000 + 60 * i for i in range(6)] + [1030]
    ages = [3600] * 6 + [400 * 86400]
    accuracy = [-1] * 6 + [0.9]
    assert tipline_core.detect_report_burst(times, ages, accuracy) == (True, [0, 1, 2, 3, 4, 5])
    params = BurstParams(min_reports=7)
    assert params.min_reports == 7
    assert tipline_core.detect_report_burst(times, ages, accuracy, params) == (False, [])
    params.min_reports = 3
    params.window_seconds = 60
    assert tipline_core.detect_report_burst(times, ages, accuracy, params)[0] is False
    with pytest.raises(InvalidInput):
        BurstParams(window_seconds=0)
    with pytest.raises(InvalidInput):
        tipline_core.detect_report_burst([1, 2], [0], [0, 0])
