"""Widget data for a time window, read through the monitoring query functions."""

from __future__ import annotations

import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, connections

from apps.alerts.tiles import with_firing_alerts
from apps.dashboards import figures
from apps.dashboards.models import Dashboard, Widget, WidgetKind


def _query():
    # Imported late: apps.monitoring owns storage and may be absent in a partial checkout.
    from apps.monitoring import query

    return query


NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


def step_for(start: float, end: float, max_points: int = figures.MAX_POINTS) -> int:
    """The smallest round bucket width that keeps a window within max_points points.

    Round steps line up across charts and are whole rollup buckets, so the store answers
    with at most max_points points and never has to thin them (thinning costs ~60 ms a
    series)."""
    wanted = (end - start) / max_points
    return next((s for s in NICE_STEPS if s >= wanted), math.ceil(wanted))


def _dt(ts: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC)


def _secs(ts) -> float:
    """Unix seconds from whatever the store returns (float or datetime)."""
    return ts.timestamp() if hasattr(ts, "timestamp") else float(ts)


def fetch_latest(name: str, matchers: dict | None = None) -> list[dict]:
    rows = _query().latest(name, matchers or {})
    return [{"labels": r["labels"], "ts": _secs(r["ts"]), "value": r["value"]} for r in rows]


def raw_series(query: dict, start: float, end: float) -> list[dict]:
    """Every stored sample, no aggregation or thinning: the "downsampling off" comparison."""
    from apps.monitoring.models import Sample

    series = _query().matching_series(query["name"], query.get("matchers") or {})
    rows = (
        Sample.objects.filter(series__in=series, ts__gte=start, ts__lt=end)
        .order_by("series_id", "ts")
        .values_list("series_id", "ts", "value")
    )
    points: dict[int, list] = {s.pk: [] for s in series}
    for sid, ts, value in rows:
        points[sid].append((ts, value))
    return [{"name": query["name"], "labels": s.labels, "points": points[s.pk]} for s in series]


def fetch_series(query: dict, start: float, end: float, downsample: bool = True) -> list[dict]:
    if query.get("promql"):
        from apps.monitoring.promql.engine import range_series

        return range_series(query["promql"], start, end, step_for(start, end))
    if not downsample:
        return raw_series(query, start, end)
    rows, meta = _query().query_range(
        query["name"],
        query.get("matchers") or {},
        _dt(start),
        _dt(end),
        step=step_for(start, end) if downsample else None,
        agg=query.get("agg") or "avg",
        with_meta=True,
    )
    return [
        {
            "name": query["name"],
            "labels": r["labels"],
            "points": [(_secs(t), v) for t, v in r["points"]],
            # The bucket width, so the chart can tell a bucket still filling (thinned
            # answers have no fixed width: None).
            "step": None if meta.get("thinned") else meta.get("step"),
        }
        for r in rows
    ]


def widget_payload(widget: Widget, start: float, end: float, downsample: bool = True) -> dict:
    base = {"id": widget.pk, "kind": widget.kind}
    if widget.kind == WidgetKind.CHART:
        series = [fetch_series(q, start, end, downsample) for q in widget.queries]
        figure = figures.chart_figure(
            series,
            widget.queries,
            start,
            end,
            thresholds=widget.thresholds,
            unit=widget.unit,
            uirevision=f"w{widget.pk}",
            max_points=figures.MAX_POINTS if downsample else None,
            stack=bool(widget.options.get("stack")),
            now=time.time(),
        )
        return {**base, "figure": figure}
    if widget.kind == WidgetKind.METRIC:
        q = widget.queries[0]
        latest = fetch_latest(q["name"], q.get("matchers"))
        spark = fetch_series(q, max(start, end - 3600), end, downsample)
        reduce = widget.options.get("reduce", "sum")
        payload = {
            **base,
            **figures.metric_payload(q["name"], latest, spark, widget.thresholds, reduce),
        }
        if widget.options.get("rule"):
            payload.update(_rule_bound(widget.options["rule"]))
        return payload
    if widget.kind == WidgetKind.STATUS:
        if widget.options.get("section") == "weddings":
            return {**base, "weddings": live_weddings_summary()}
        latest = {name: fetch_latest(name) for name in figures.STATUS_METRICS}
        components = figures.status_components(latest, time.time(), embedded=settings.EMBEDDED)
        return {**base, "components": with_firing_alerts(components)}
    if widget.options.get("section") == "emergency":
        return {**base, **emergency_panel()}
    return base  # alert lists read /api/v1/alerts/ in the browser (and live {"op": "alert"})


def _rule_bound(rule_name: str) -> dict:
    """A metric tile showing what an alert rule evaluates (apps.alerts.tiles): the rule's
    value, bands and caption replace the tile's own."""
    from apps.alerts.tiles import rule_tile

    tile = rule_tile(rule_name)
    if tile is None:
        return {"caption": f"alert rule “{rule_name}” not found: showing the latest sample"}
    state = figures.threshold_state(tile["value"], tile["bands"])
    return {"rule": tile, "value": tile["value"], "state": state, "caption": tile["caption"]}


def emergency_panel() -> dict:
    """What the emergency buttons need: the types, live weddings to pick from, open incidents."""
    from apps.alerts.models import EmergencyType, Incident
    from apps.weddings.live import live_weddings

    weddings = [
        {"id": w.pk, "venue": w.venue_id, "label": f"{w.couple_name} — {w.venue.name}"}
        for w in live_weddings()[:100]
    ]
    incidents = [
        {
            "id": i.pk,
            "title": i.title,
            "emergency_type": i.emergency_type,
            "created_at": i.created_at,
        }
        for i in Incident.objects.filter(status=Incident.Status.OPEN).order_by("-created_at")[:5]
    ]
    return {"types": EmergencyType.choices, "weddings": weddings, "incidents": incidents}


def live_weddings_summary() -> dict:
    """Weddings in wedding-day mode now (the calendar's rule), by region and by status."""
    from apps.weddings.live import live_weddings

    live = live_weddings()
    rows = list(live[:500])
    by_region = Counter(w.venue.region.name for w in rows)
    by_status = Counter(w.status for w in rows)
    return {
        "total": len(rows),
        "by_region": sorted(by_region.items(), key=lambda kv: (-kv[1], kv[0])),
        "by_status": sorted(by_status.items()),
        "weddings": [
            {
                "couple": w.couple_name,
                "venue": w.venue.name,
                "venue_type": w.venue.venue_type,
                "region": w.venue.region.name,
                "status": w.status,
                "degraded": w.venue.degraded,
            }
            for w in rows[:8]
        ],
    }


# Widgets are computed side by side: most of a widget's time is spent waiting on the
# database, and under ASGI every sync view of a process runs on ONE thread, so the page's
# old four parallel requests (plus two for alerts) queued behind each other there.
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dashboard-data")


def _safe_payload(widget: Widget, start: float, end: float, downsample: bool) -> dict:
    try:
        return widget_payload(widget, start, end, downsample)
    except Exception as exc:  # one broken query must not blank the whole dashboard
        return {"id": widget.pk, "kind": widget.kind, "error": str(exc)[:300]}


def _in_worker(widget: Widget, start: float, end: float, downsample: bool) -> dict:
    try:
        return _safe_payload(widget, start, end, downsample)
    finally:
        # A pooled thread outlives the request: hand its connection back (to the pool).
        for conn in connections.all(initialized_only=True):
            conn.close()


def active_alerts() -> list[dict]:
    """Firing and pending alerts as GET /api/v1/alerts/ lists them, for the alert tiles:
    sent with the snapshot so the first render needs one request, not three."""
    from django.utils import timezone

    from apps.alerts.models import Alert
    from apps.alerts.serializers import AlertSerializer
    from apps.alerts.suppression import Suppressions

    rows = (
        Alert.objects.select_related("rule", "acknowledged_by")
        .filter(state__in=["firing", "pending"])
        .order_by("-updated_at")[:400]
    )
    context = {"suppressions": Suppressions(timezone.now())}
    return AlertSerializer(rows, many=True, context=context).data


def dashboard_snapshot(
    dashboard: Dashboard,
    start: float,
    end: float,
    widget_ids: set[int] | None = None,
    downsample: bool = True,
    with_alerts: bool = False,
) -> dict:
    """Every widget's payload, and `seqs`: each live stream's sequence number before the
    reads began. A page whose subscription reports the same numbers missed no sample
    between this snapshot and its socket (dashboard.js skips its catch-up reload then)."""
    widgets = [w for w in dashboard.widgets.all() if widget_ids is None or w.pk in widget_ids]
    seqs = _stream_seqs(_names(widgets))
    read_from = time.time()
    # Inside a transaction (a test, a caller's atomic block) other threads would not see
    # its rows: compute inline there.
    if len(widgets) > 1 and not connection.in_atomic_block:
        futures = [_POOL.submit(_in_worker, w, start, end, downsample) for w in widgets]
        results = [f.result() for f in futures]
    else:
        results = [_safe_payload(w, start, end, downsample) for w in widgets]
    payloads = {str(w.pk): r for w, r in zip(widgets, results, strict=True)}
    out = {"start": start, "end": end, "read_from": read_from, "widgets": payloads}
    if seqs is not None:
        out["seqs"] = seqs
    if with_alerts:
        out["alerts"] = active_alerts()
    out["now"] = time.time()
    return out


def _names(widgets) -> list[str]:
    names: set[str] = set()
    for w in widgets:
        if w.kind == WidgetKind.STATUS and w.options.get("section") != "weddings":
            names.update(figures.STATUS_METRICS)
        names.update(q["name"] for q in w.queries if q.get("name"))
    return sorted(names)


def _stream_seqs(names: list[str]) -> dict[str, int] | None:
    from apps.dashboards import live

    streams = [live.stream_for(n) for n in names]
    try:
        return dict(zip(streams, live.current_seqs(streams), strict=True))
    except Exception:  # Redis away: no numbers, so the page reloads once it subscribes
        return None


def subscribed_names(dashboard: Dashboard) -> list[str]:
    """Metric names whose samples this dashboard's widgets show live."""
    return _names(dashboard.widgets.all())
