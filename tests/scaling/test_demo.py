"""seed_demo's scaling part: policies and a day of decisions, idempotent."""

from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
from django.utils import timezone

from apps.accounts.seeding import SeedContext
from apps.scaling import demo
from apps.scaling.models import Decision, PoolState, ScalingPolicy


@pytest.mark.django_db
def test_demo_seeds_policies_and_a_day_of_decisions_idempotently(make_wedding, client, make_user):
    today = timezone.now().date()
    make_wedding(today - timedelta(days=1), time(10), time(23, 30), connections=900)
    ctx = SeedContext(stdout=io.StringIO(), quiet=True)
    demo.seed(ctx)
    first = Decision.objects.count()
    assert first == 2 * 24 * 30  # both pools, every 2 minutes for 24 h
    assert set(ScalingPolicy.objects.values_list("pool", flat=True)) == {"web", "worker"}
    rules = set(Decision.objects.filter(pool="web").values_list("rule", flat=True))
    assert "scale_up_forecast" in rules or "scale_up_load" in rules
    demo.seed(ctx)
    assert Decision.objects.count() == first
    assert PoolState.objects.count() == 2
    client.force_login(make_user("demo-viewer", "operator"))
    page = client.get("/scaling/").content.decode()
    assert "scaling-chart-data" in page and "No decisions yet" not in page
