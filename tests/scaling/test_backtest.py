"""The backtest command: three policies side by side, a chart as HTML and PNG."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.scaling import backtest
from apps.scaling import history as load_history


@pytest.mark.django_db
def test_backtest_reports_three_policies_and_writes_the_chart(tmp_path):
    out = io.StringIO()
    call_command(
        "backtest_scaling",
        "--from=2026-06-01",
        "--to=2026-06-22",
        "--calendar=synthetic",
        f"--out={tmp_path}",
        "--json",
        stdout=out,
    )
    text = out.getvalue()
    result = json.loads(text.strip().splitlines()[-1])
    names = [p["policy"] for p in result["policies"]]
    assert names == ["predictive", "reactive", "static_peak"]
    for header in ("under-prov. min", "unit-hours", "cost"):
        assert header in text
    by = {p["policy"]: p for p in result["policies"]}
    # Static peak never runs short but pays for it; the predictive policy pays far less.
    assert by["static_peak"]["under_provisioned_minutes"] == 0
    assert by["predictive"]["unit_hours"] < 0.7 * by["static_peak"]["unit_hours"]
    # June Saturdays: the calendar lets the predictive policy be ready before guests arrive.
    assert result["info"]["wedding_saturday_minutes"] > 0
    sat = result["goals"]["wedding_saturday_under_minutes"]
    assert sat["predictive"] < sat["reactive"]
    html = (tmp_path / "backtest.html").read_text()
    assert 'src="https://cdn.plot.ly' not in html and len(html) > 1_000_000  # plotly.js inlined
    assert "PNG not written" not in text, text[-500:]
    png = (tmp_path / "backtest.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_bad_dates_are_refused_clearly():
    with pytest.raises(CommandError, match="not an ISO date"):
        call_command("backtest_scaling", "--from=yesterday")
    with pytest.raises(CommandError, match="after --from"):
        call_command("backtest_scaling", "--from=2026-06-02", "--to=2026-06-01")


@pytest.mark.django_db
def test_demo_calendar_required_but_empty_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command(
            "backtest_scaling",
            "--from=2026-06-01",
            "--to=2026-06-08",
            "--calendar=demo",
            f"--out={tmp_path}",
            "--no-png",
            stdout=io.StringIO(),
        )


def test_provisioner_delays_additions_and_removes_at_once():
    p = backtest.Provisioner(4, delay=3)
    p.ask(0, 10)
    assert [p.tick(m) for m in range(4)] == [4, 4, 4, 10]
    p.ask(5, 6)
    assert p.tick(5) == 6


@pytest.mark.django_db
def test_a_wedding_jump_catches_the_reactive_policy_but_not_the_predictive(make_wedding):
    """One controlled Saturday: 1,500 connections arrive within 3 minutes at the ceremony."""
    from datetime import time

    day = datetime(2026, 6, 13, tzinfo=UTC)
    wedding = make_wedding(day.date(), time(14), time(22), connections=1500)
    ceremonies = load_history.calendar_ceremonies(day - timedelta(weeks=4), day + timedelta(days=1))
    assert [c["wedding"].pk for c in ceremonies] == [wedding.pk]
    history, seasons, _ = load_history.build_history(day, day + timedelta(days=1), "demo")
    fc = backtest.hourly_forecast(history, day, day + timedelta(days=1), seasons)
    cfg = backtest.BacktestConfig()
    runs, info = backtest.run_policies(history, day, day + timedelta(days=1), cfg, fc)
    by = {r.name: r for r in runs}
    assert by["reactive"].under_minutes > 0
    assert by["predictive"].under_minutes == 0
    # Ready before the guests: at the ceremony (13:00 UTC) capacity already covers them.
    ceremony_minute = 13 * 60
    assert (
        by["predictive"].units[ceremony_minute] * 100
        >= history.load[28 * 1440 + ceremony_minute + 5]
    )
    assert np.all(by["static_peak"].units == info["static_units"])
