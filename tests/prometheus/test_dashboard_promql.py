"""Chart widgets take a PromQL query: checked when saved, drawn from the PromQL engine."""

from __future__ import annotations

import time

import pytest

from apps.dashboards.data import widget_payload
from apps.dashboards.models import Widget
from apps.monitoring.ingest import ingest

pytestmark = pytest.mark.django_db


def doc(query: dict, kind: str = "chart") -> dict:
    return {
        "format": "wedsync-dashboard/1",
        "name": "Queues",
        "slug": "queues",
        "default_range": "1h",
        "widgets": [{"kind": kind, "title": "Jobs", "queries": [query], "width": 6, "height": 3}],
    }


def test_a_promql_chart_draws_the_expression(operator_api):
    now = time.time()
    ingest(
        [
            {
                "name": "jobs_total",
                "labels": {"queue": q},
                "value": float(i * per),
                "ts": now - 600 + i * 10,
            }
            for q, per in (("mail", 10), ("sms", 30))
            for i in range(60)
        ]
    )
    query = {"promql": "sum by (queue) (rate(jobs_total[1m]))", "label": "jobs/s"}
    response = operator_api.post("/api/v1/dashboards/import/", doc(query), format="json")
    assert response.status_code == 201, response.content
    widget = Widget.objects.get(dashboard__slug="queues")
    figure = widget_payload(widget, now - 900, now)["figure"]
    traces = {t["name"]: t for t in figure["data"]}
    assert set(traces) == {"jobs/s mail", "jobs/s sms"} or set(traces) == {"mail", "sms"}
    rates = {name.split()[-1]: [y for y in t["y"] if y is not None] for name, t in traces.items()}
    assert rates["mail"][-1] == pytest.approx(1.0)  # 10 per 10 s
    assert rates["sms"][-1] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("query", "kind", "words"),
    [
        ({"promql": "sum(rate(x[5m]"}, "chart", "query"),
        ({"promql": "label_replace(x, 'a', 'b', 'c', 'd')"}, "chart", "label_replace"),
        ({"promql": "rate(x[5m])"}, "metric", "only chart widgets"),
    ],
)
def test_bad_promql_is_refused_naming_the_field(operator_api, query, kind, words):
    response = operator_api.post("/api/v1/dashboards/import/", doc(query, kind), format="json")
    assert response.status_code == 400
    body = response.json()
    assert any(words in message for message in body.values()), body
