"""Issue 15: the demo's scrape target (the server's own /metrics) stores samples on the full
stack, where /metrics is the merged multiprocess exposition (no process_* families)."""

from __future__ import annotations

import io

import pytest

from apps.accounts.seeding import SeedContext

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_self_scrape_stores_samples_on_the_full_stack(
    start_daphne, tmp_path, celery_worker, monkeypatch
):
    from apps.monitoring import demo
    from apps.monitoring.models import ScrapeTarget
    from apps.monitoring.tasks import scrape_due_task

    # As the Procfile runs it: Daphne with multiprocess metrics.
    server = start_daphne({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")})
    monkeypatch.setenv("PORT", str(server.port))
    demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
    target = ScrapeTarget.objects.get(name="wedsync-ops self")
    assert target.url == f"{server.url}/metrics"

    # The periodic job, on the worker.
    scrape_due_task.delay().get(timeout=30)
    target.refresh_from_db()
    assert target.last_error == ""
    assert target.samples_last_scrape > 0
    from apps.monitoring.query import known_metrics

    names = set(known_metrics())
    assert "wedsync_gateway_deliveries_total" in names
    assert "wedsync_gateway_delivery_latency_seconds_bucket" in names


def test_an_older_demo_filter_is_replaced_on_the_next_seed(monkeypatch):
    from apps.monitoring import demo
    from apps.monitoring.models import ScrapeTarget

    ScrapeTarget.objects.create(
        name="wedsync-ops self", url="http://127.0.0.1:8000/metrics", keep=r"(process|python)_.*"
    )
    demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
    assert ScrapeTarget.objects.get(name="wedsync-ops self").keep == demo.SELF_SCRAPE_KEEP
    # An admin's own filter is kept.
    ScrapeTarget.objects.filter(name="wedsync-ops self").update(keep="python_gc_.*")
    demo.seed(SeedContext(stdout=io.StringIO(), quiet=True))
    assert ScrapeTarget.objects.get(name="wedsync-ops self").keep == "python_gc_.*"
