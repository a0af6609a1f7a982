"""seed_demo's part: the Wedding Day dashboard and its demo samples, idempotent."""

from __future__ import annotations

import io
import time

import pytest

from apps.accounts.seeding import SeedContext
from apps.dashboards import demo
from apps.dashboards.models import Dashboard
from apps.dashboards.specs import clean_widget
from apps.dashboards.wedding_day import WIDGETS

pytestmark = pytest.mark.django_db


def test_wedding_day_widgets_are_valid_specs():
    errors: dict = {}
    for i, spec in enumerate(WIDGETS):
        clean_widget(spec, f"widgets[{i}]", errors)
    assert errors == {}
    assert sum(w["width"] for w in WIDGETS[:4]) == 12  # the first row fills the grid


def test_seed_is_idempotent_and_fills_the_charts():
    from apps.monitoring.models import Sample
    from apps.monitoring.query import latest, query_range

    ctx = SeedContext(stdout=io.StringIO(), quiet=True)
    demo.seed(ctx)
    first = Sample.objects.count()
    demo.seed(ctx)
    assert Dashboard.objects.filter(slug="wedding-day").count() == 1
    assert Dashboard.objects.get(slug="wedding-day").widgets.count() == len(WIDGETS)
    # A re-run only fills the seconds since the last one.
    assert Sample.objects.count() - first < 200
    now = time.time()
    assert latest("wedsync_gateway_connections")[0]["ts"] > now - 60
    series = query_range("wedsync_gateway_latency_ms", {}, now - 6 * 3600, now, step=60)
    assert {s["labels"]["quantile"] for s in series} == {"p50", "p95", "p99"}
    assert len(series[0]["points"]) > 300  # six hours of data at a 60 s step
