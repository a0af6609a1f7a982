"""Scrape targets: a real prometheus_client exporter, bearer tokens, health, the API."""

from __future__ import annotations

import http.server
import threading

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest, start_http_server

from apps.monitoring.models import ScrapeTarget, Series
from apps.monitoring.query import latest
from apps.monitoring.scrape import claim_due, scrape, scrape_due
from tests.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def exporter():
    """prometheus_client's own HTTP server, with a gauge and a labelled counter."""
    registry = CollectorRegistry()
    gauge = Gauge("supabase_realtime_connections", "Open connections", registry=registry)
    counter = Counter("supabase_realtime_messages", "Messages", ["channel"], registry=registry)
    gauge.set(37)
    counter.labels(channel="timeline").inc(5)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield f"http://127.0.0.1:{port}/metrics", gauge
    server.shutdown()
    server.server_close()


@pytest.fixture
def token_exporter():
    """An exporter that answers only with the right bearer token."""
    registry = CollectorRegistry()
    Gauge("guarded_up", "Up", registry=registry).set(1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != "Bearer s3cret":
                self.send_response(401)
                self.end_headers()
                return
            body = generate_latest(registry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    server.shutdown()
    server.server_close()


def test_scrape_ingests_with_the_target_labels_and_records_health(exporter):
    url, gauge = exporter
    target = ScrapeTarget.objects.create(
        name="realtime", url=url, interval_seconds=15, labels={"job": "supabase", "env": "prod"}
    )
    stored = scrape(target)
    target.refresh_from_db()
    assert target.last_error == ""
    assert target.samples_last_scrape == stored > 2
    assert target.last_scrape_at is not None and target.last_duration_ms > 0
    [conn] = latest("supabase_realtime_connections")
    assert conn["value"] == 37.0
    assert conn["labels"] == {"job": "supabase", "env": "prod"}
    [msgs] = latest("supabase_realtime_messages_total")
    assert msgs["value"] == 5.0
    assert msgs["labels"] == {"channel": "timeline", "job": "supabase", "env": "prod"}
    gauge.set(41)
    scrape(target)
    assert latest("supabase_realtime_connections")[0]["value"] == 41.0


def test_an_unreachable_target_records_the_error(exporter):
    target = ScrapeTarget.objects.create(url=f"http://127.0.0.1:{free_port()}/metrics")
    assert scrape(target) == 0
    target.refresh_from_db()
    assert "cannot reach target" in target.last_error
    assert target.samples_last_scrape == 0


def test_bearer_token_is_sent(token_exporter):
    without = ScrapeTarget.objects.create(url=token_exporter)
    scrape(without)
    without.refresh_from_db()
    assert without.last_error == "HTTP 401 Unauthorized"
    with_token = ScrapeTarget.objects.create(url=token_exporter, bearer_token="s3cret")
    assert scrape(with_token) == 1
    with_token.refresh_from_db()
    assert with_token.last_error == ""


def test_each_due_target_is_claimed_once(exporter):
    url, _ = exporter
    ScrapeTarget.objects.create(url=url, interval_seconds=60)
    ScrapeTarget.objects.create(url=url, interval_seconds=60, enabled=False)
    assert len(claim_due()) == 1
    assert claim_due() == []  # not due again for a minute


def test_the_periodic_task_scrapes_on_a_real_worker(exporter, celery_worker):
    from apps.monitoring.tasks import scrape_due_task

    url, _ = exporter
    ScrapeTarget.objects.create(url=url, labels={"job": "w"})
    assert scrape_due_task.delay().get(timeout=30) == 1
    assert Series.objects.filter(name="supabase_realtime_connections").exists()


def test_keep_stores_only_the_metrics_whose_name_matches(exporter):
    """A target that also exposes series collected elsewhere is narrowed to the rest."""
    url, _ = exporter
    target = ScrapeTarget.objects.create(url=url, keep=r"supabase_realtime_messages_total")
    stored = scrape(target)
    target.refresh_from_db()
    assert target.last_error == "" and target.samples_last_scrape == stored == 1
    assert latest("supabase_realtime_messages_total")[0]["value"] == 5.0
    assert latest("supabase_realtime_connections") == []
    # The whole name must match, as in Prometheus relabelling: "supabase" alone keeps nothing.
    target.keep = "supabase"
    assert scrape(target) == 0


def test_scrape_target_api_hides_the_token(admin_api, operator_api, exporter):
    url, _ = exporter
    response = admin_api.post(
        "/api/v1/scrape-targets/",
        {
            "name": "rt",
            "url": url,
            "interval_seconds": 10,
            "labels": {"job": "rt"},
            "bearer_token": "hunter2",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "bearer_token" not in body and body["has_bearer_token"] is True
    assert ScrapeTarget.objects.get().bearer_token == "hunter2"
    scrape_due()
    listed = operator_api.get("/api/v1/scrape-targets/").json()
    [item] = listed["results"]
    assert item["samples_last_scrape"] > 0 and item["last_scrape_at"]
    assert "bearer_token" not in item
    # Operators read; only admins change.
    assert operator_api.delete(f"/api/v1/scrape-targets/{item['id']}/").status_code == 403
    bad = admin_api.post(
        "/api/v1/scrape-targets/",
        {"url": "ftp://x/metrics", "labels": {"bad-key": "v"}},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) >= {"url", "labels"}
    bad = admin_api.post(
        "/api/v1/scrape-targets/", {"url": url, "keep": "process_(.*"}, format="json"
    )
    assert bad.status_code == 400
    assert "Not a regular expression" in bad.json()["keep"][0]
