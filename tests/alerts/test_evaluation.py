"""The pure parts: aggregations, comparators, the state machine with controlled time."""

from __future__ import annotations

import pytest

from apps.alerts import evaluation as ev


def pts(*values, start=1000.0, step=1.0):
    return [(start + i * step, float(v)) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("how", "expected"),
    [("last", 4.0), ("avg", 2.5), ("min", 1.0), ("max", 4.0), ("count", 4.0), ("p95", 3.85)],
)
def test_aggregations(how, expected):
    assert ev.aggregate(pts(1, 2, 3, 4), how) == pytest.approx(expected)


def test_rate_counts_through_a_counter_reset():
    # 0 → 10 → 20 then reset to 5 → 15: increase 10 + 10 + 5 + 10 = 35 over 4 s
    assert ev.aggregate(pts(0, 10, 20, 5, 15), "rate") == pytest.approx(35 / 4)


def test_empty_window_has_no_value_and_never_breaches():
    assert ev.aggregate([], "avg") is None
    assert ev.aggregate([], "count") == 0.0
    assert ev.breaches(None, "gt", 0) is False
    assert ev.aggregate(pts(5), "rate") is None


@pytest.mark.parametrize(
    ("comparator", "value", "result"),
    [
        ("gt", 10, False),
        ("gt", 10.1, True),
        ("gte", 10, True),
        ("lt", 10, False),
        ("lte", 10, True),
        ("lt", 9.9, True),
    ],
)
def test_comparators(comparator, value, result):
    assert ev.breaches(value, comparator, 10.0) is result


def step(state, cond, now, started=None, last_true=None, for_s=0, keep=0):
    return ev.next_state(
        state,
        cond,
        now,
        started_at=started,
        last_true_at=last_true,
        for_seconds=for_s,
        keep_firing_for_seconds=keep,
    ).state


def test_for_zero_fires_at_once_and_resolves_when_clear():
    assert step("inactive", True, 0) == "firing"
    assert step("firing", False, 1) == "resolved"
    assert step("resolved", False, 2) == "resolved"
    assert step("resolved", True, 3) == "firing"


def test_pending_until_for_elapses_and_cancelled_if_it_clears():
    assert step("inactive", True, 100, for_s=30) == "pending"
    assert step("pending", True, 129, started=100, for_s=30) == "pending"
    assert step("pending", True, 130, started=100, for_s=30) == "firing"
    assert step("pending", False, 110, started=100, for_s=30) == "inactive"


def test_keep_firing_for_holds_a_flapping_alert():
    assert step("firing", False, 105, last_true=100, keep=10) == "firing"
    assert step("firing", False, 110, last_true=100, keep=10) == "resolved"
    assert step("firing", True, 111, last_true=100, keep=10) == "firing"


def test_no_data_counts_from_rule_creation_when_never_seen():
    assert ev.evaluate_no_data(None, since=1000, now=1029, seconds=30) is False
    assert ev.evaluate_no_data(None, since=1000, now=1030, seconds=30) is True
    assert ev.evaluate_no_data(1020, since=1000, now=1040, seconds=30) is False


@pytest.mark.parametrize("how", ["last", "avg", "min", "max", "p95", "count", "rate"])
def test_array_and_list_aggregations_agree(how):
    import numpy as np

    points = pts(3, 9, 1, 4, 2, 8, 0, 5, step=2.5)
    assert ev.aggregate(np.array(points), how) == pytest.approx(ev.aggregate(points, how))
    assert ev.aggregate(np.empty((0, 2)), how) == ev.aggregate([], how)
