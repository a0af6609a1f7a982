"""Figures and payloads built in Python, without HTTP or a database."""

from __future__ import annotations

import math

from apps.dashboards import figures


def day_of_5s(start: float = 1_780_000_000.0) -> list[list[float]]:
    return [[start + i * 5, math.sin(i / 300) * 10 + 20] for i in range(17_280)]


def test_downsample_caps_points_keeps_spike_and_order():
    points = day_of_5s()
    points[9_001][1] = 500.0  # a latency spike an average would flatten
    out = figures.downsample(points, 1000)
    assert len(out) <= 1000
    assert max(v for _, v in out) == 500.0
    assert [t for t, _ in out] == sorted(t for t, _ in out)
    assert out[0][0] == points[0][0]


def test_downsample_leaves_short_series_alone():
    pts = [[1.0, 2.0], [2.0, 3.0]]
    assert figures.downsample(pts, 1000) == pts


def test_downsample_ignores_gaps_for_min_max():
    pts = [[float(i), float("nan") if i % 3 else float(i)] for i in range(5000)]
    out = figures.downsample(pts, 100)
    assert len(out) <= 100
    assert all(not math.isnan(v) for _, v in out)


def test_threshold_state_both_directions():
    above = {"warn": 100, "crit": 250, "direction": "above"}
    assert figures.threshold_state(50, above) == "ok"
    assert figures.threshold_state(100, above) == "warn"
    assert figures.threshold_state(300, above) == "crit"
    below = {"warn": 0.9, "crit": 0.7, "direction": "below"}
    assert figures.threshold_state(0.95, below) == "ok"
    assert figures.threshold_state(0.8, below) == "warn"
    assert figures.threshold_state(0.5, below) == "crit"
    assert figures.threshold_state(None, above) == "none"


def test_chart_figure_one_trace_per_series_with_keys_and_cap():
    series = [
        {"name": "lat", "labels": {"quantile": "p50"}, "points": day_of_5s()},
        {"name": "lat", "labels": {"quantile": "p99"}, "points": day_of_5s()},
    ]
    q = [{"name": "lat", "matchers": {}, "agg": "avg"}]
    fig = figures.chart_figure(
        [series], q, 0, 10, thresholds={"warn": 150, "crit": 300}, unit="ms", uirevision="w1"
    )
    assert [t["meta"]["key"] for t in fig["data"]] == ['lat{quantile="p50"}', 'lat{quantile="p99"}']
    assert [t["name"] for t in fig["data"]] == ["p50", "p99"]
    assert all(len(t["x"]) <= 1000 for t in fig["data"])
    assert fig["layout"]["uirevision"] == "w1"
    assert [s["y0"] for s in fig["layout"]["shapes"]] == [150, 300]
    # x is epoch milliseconds on a date axis
    assert fig["data"][0]["x"][0] == round(day_of_5s()[0][0] * 1000)
    full = figures.chart_figure([series], q, 0, 10, max_points=None)
    assert len(full["data"][0]["x"]) == 17_280


def test_metric_payload_reduces_series_and_colours_by_threshold():
    latest = [
        {"labels": {"region": "eu"}, "ts": 10.0, "value": 120.0},
        {"labels": {"region": "us"}, "ts": 11.0, "value": 90.0},
    ]
    p = figures.metric_payload("conns", latest, [], {"warn": 200, "crit": 300}, "sum")
    assert p["value"] == 210.0 and p["state"] == "warn" and p["ts"] == 11.0
    assert {part["key"] for part in p["parts"]} == {'conns{region="eu"}', 'conns{region="us"}'}
    empty = figures.metric_payload("conns", [], [], {"warn": 1}, "sum")
    assert empty["value"] is None and empty["state"] == "none"


def test_metric_payload_leaves_out_a_series_that_went_quiet():
    """A gateway process that died ten minutes ago must not keep adding its last count."""
    latest = [
        {"labels": {"process": "a"}, "ts": 5_000.0, "value": 12.0},
        {"labels": {"process": "b"}, "ts": 4_990.0, "value": 8.0},
        {"labels": {"process": "dead"}, "ts": 4_400.0, "value": 2_000.0},
    ]
    p = figures.metric_payload("conns", latest, [], None, "sum")
    assert p["value"] == 20.0
    assert {part["key"] for part in p["parts"]} == {'conns{process="a"}', 'conns{process="b"}'}
    # A metric that went quiet altogether still shows its last value, and when.
    quiet = figures.metric_payload("conns", latest[2:], [], None, "sum")
    assert quiet["value"] == 2_000.0 and quiet["ts"] == 4_400.0


def test_status_components_from_latest_values():
    now = 1000.0

    def row(value, ts=now - 2, **labels):
        return {"labels": labels, "ts": ts, "value": value}

    latest = {
        "wedsync_gateway_connections": [row(420)],
        "wedsync_gateway_error_rate": [row(0.002)],
        "wedsync_cache_hit_ratio": [row(0.2, tier="l1"), row(0.93, tier="total")],
        "wedsync_redis_up": [row(0)],
        "wedsync_db_up": [row(1, ts=now - 600)],
        "wedsync_db_latency_ms": [row(3)],
        "wedsync_celery_workers": [row(2)],
        "wedsync_gateway_breaker_open": [row(1, breaker="redis")],
    }
    states = {c["component"]: c for c in figures.status_components(latest, now)}
    assert states["Gateway"]["state"] == "ok" and "420 connections" in states["Gateway"]["detail"]
    assert states["Cache"]["state"] == "ok" and "93%" in states["Cache"]["detail"]
    assert states["Redis"]["state"] == "crit" and states["Redis"]["detail"] == "DOWN"
    assert states["PostgreSQL"]["state"] == "unknown"  # newest sample is 10 minutes old
    assert states["Celery workers"]["detail"] == "2 online"
    assert states["Circuit breakers"]["state"] == "crit"
    assert "redis" in states["Circuit breakers"]["detail"]
    none = figures.status_components({}, now)
    assert {c["state"] for c in none} == {"unknown"}
    assert len(none) == 6


def test_step_is_round_and_keeps_windows_under_the_budget():
    from apps.dashboards.data import step_for

    for span, step in [(900, 1), (3600, 5), (6 * 3600, 30), (86400, 120), (7 * 86400, 900)]:
        assert step_for(0, span) == step
        assert span / step <= 1000


def test_a_bucket_still_filling_is_drawn_partial_not_as_a_drop():
    """A count per minute whose last minute has 10 s in it: the solid line ends at the
    last complete minute; the partial one is a dotted segment, out of the legend."""
    now = 1_000_000.0
    start = now - 600 - (now % 60) + 60  # ten whole minutes, then one begun 10 s ago
    points = [[start + i * 60, 12.0] for i in range(10)] + [[now - 10, 2.0]]
    series = [{"name": "logins", "labels": {}, "points": points, "step": 60.0}]
    q = [{"name": "logins", "matchers": {}, "agg": "count"}]
    fig = figures.chart_figure([series], q, start, now, now=now)
    solid, dotted = fig["data"]
    assert solid["y"] == [12.0] * 10 and solid["meta"]["key"] == "logins"
    assert dotted["line"]["dash"] == "dot" and dotted["showlegend"] is False
    assert dotted["y"] == [12.0, 2.0] and dotted["meta"]["partial"] is True
    assert "still filling" in dotted["hovertemplate"]
    # Every bucket complete: nothing drawn apart.
    done = figures.chart_figure([series], q, start, now, now=now + 120)
    assert len(done["data"]) == 1 and len(done["data"][0]["y"]) == 11
    # Stacked areas drop the partial bucket rather than draw it outside the stack.
    stacked = figures.chart_figure([series], q, start, now, now=now, stack=True)
    assert len(stacked["data"]) == 1 and len(stacked["data"][0]["y"]) == 10
