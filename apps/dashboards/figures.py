"""Plotly figures and widget payloads, built from plain series data (no HTTP, no DB).

A series is {"name", "labels", "points": [[unix_seconds, value], ...]}. Figures use
epoch milliseconds on a date axis (cheaper to send than ISO strings) and carry each
trace's series key in `meta`, so live samples pushed later find their trace.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

MAX_POINTS = 1000
STALE_SECONDS = 60.0
PALETTE = ["#7b61ff", "#e28bbd", "#2bb3a3", "#f0a030", "#4c8dff", "#d9534f", "#8fbf3f", "#b07cc6"]


def series_key(name: str, labels: dict | None) -> str:
    """Stable identity of one series: name{a="1",b="2"} with labels sorted."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{labels[k]}"' for k in sorted(labels))
    return f"{name}{{{inner}}}"


def matches(labels: dict, matchers: dict | None) -> bool:
    return all(labels.get(k) == v for k, v in (matchers or {}).items())


def downsample(
    points: Sequence[Sequence[float]], max_points: int = MAX_POINTS
) -> list[list[float]]:
    """At most `max_points` points keeping each bucket's min and max in time order.

    Min/max buckets keep spikes visible (an average would hide a latency spike),
    and run vectorised: ~1 ms for a day of 5-second samples."""
    n = len(points)
    if n <= max_points:
        return [[float(t), float(v)] for t, v in points]
    arr = np.asarray(points, dtype=float)
    buckets = max_points // 2
    per = math.ceil(n / buckets)
    pad = per * math.ceil(n / per) - n
    ts = np.concatenate([arr[:, 0], np.repeat(arr[-1, 0], pad)]).reshape(-1, per)
    vs = np.concatenate([arr[:, 1], np.repeat(arr[-1, 1], pad)]).reshape(-1, per)
    # NaN (a gap) must not win min/max; an all-NaN bucket stays NaN.
    filled_lo = np.where(np.isnan(vs), np.inf, vs)
    filled_hi = np.where(np.isnan(vs), -np.inf, vs)
    lo = filled_lo.argmin(axis=1)
    hi = filled_hi.argmax(axis=1)
    rows = np.arange(ts.shape[0])
    first = np.minimum(lo, hi)
    second = np.maximum(lo, hi)
    out_t = np.stack([ts[rows, first], ts[rows, second]], axis=1).ravel()
    out_v = np.stack([vs[rows, first], vs[rows, second]], axis=1).ravel()
    keep = np.ones(out_t.shape, dtype=bool)
    keep[1::2] = first != second  # one point when min and max are the same sample
    return np.stack([out_t[keep], out_v[keep]], axis=1).tolist()


def _clean(value: float) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value
    )


def threshold_state(value: float | None, thresholds: dict | None) -> str:
    """'ok', 'warn', 'crit', or 'none' (no value, or no thresholds set)."""
    if value is None or not thresholds:
        return "none" if value is None else "ok"
    above = thresholds.get("direction", "above") != "below"
    for state in ("crit", "warn"):
        limit = thresholds.get(state)
        if limit is not None and (value >= limit if above else value <= limit):
            return state
    return "ok"


def threshold_shapes(thresholds: dict | None) -> list[dict]:
    shapes = []
    for state, colour in (("warn", "#f0b44c"), ("crit", "#ff6b5e")):
        limit = (thresholds or {}).get(state)
        if limit is not None:
            shapes.append(
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": limit,
                    "y1": limit,
                    "line": {"color": colour, "width": 1.5, "dash": "dash"},
                    "name": state,
                }
            )
    return shapes


def trace_name(series: dict, query: dict, many: bool) -> str:
    labels = series.get("labels") or {}
    shown = {k: v for k, v in labels.items() if k not in (query.get("matchers") or {})}
    base = query.get("label") or series["name"]
    if shown:
        return (
            ", ".join(f"{v}" for _, v in sorted(shown.items()))
            if not many
            else (f"{base} " + ", ".join(str(v) for _, v in sorted(shown.items())))
        )
    return base


def chart_figure(
    series_by_query: list[list[dict]],
    queries: list[dict],
    start: float,
    end: float,
    *,
    thresholds: dict | None = None,
    unit: str = "",
    uirevision: str = "",
    max_points: int | None = MAX_POINTS,
    stack: bool = False,
    now: float | None = None,
) -> dict:
    """A Plotly figure (as a dict) with one line per series; x in epoch ms.

    A series that says its bucket width (`step`) may end in a bucket still filling at
    `now`: that point is drawn apart, dotted ("partial"), and the solid line stops at the
    last complete bucket, so a sum or a count does not read as a drop at the right edge."""
    traces = []
    partials = []
    many_queries = len(queries) > 1
    for qi, (query, series_list) in enumerate(zip(queries, series_by_query, strict=True)):
        for series in series_list:
            pts = series["points"]
            if max_points:
                pts = downsample(pts, max_points)
            partial = _partial_tail(pts, series.get("step"), now)
            if partial:
                pts = pts[:-1]
            trace_extra = {"stackgroup": "one"} if stack else {}
            colour = PALETTE[len(traces) % len(PALETTE)]
            key = series_key(series["name"], series.get("labels"))
            if partial and not stack:  # (a dotted segment cannot sit in a stack: dropped)
                partials.append(_partial_trace(partial, colour, key, unit))
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": trace_name(series, query, many_queries),
                    "x": [round(t * 1000) for t, _ in pts],
                    "y": [_clean(v) for _, v in pts],
                    "line": {"width": 1 if stack else 2, "color": colour},
                    "meta": {"key": key, "q": qi},
                    **trace_extra,
                    "hovertemplate": "%{y:.4~g}"
                    + (f" {unit}" if unit else "")
                    + "<extra>%{fullData.name}</extra>",
                }
            )
    layout = {
        "uirevision": uirevision or "keep",
        "margin": {"l": 48, "r": 12, "t": 8, "b": 32},
        "xaxis": {"type": "date", "range": [start * 1000, end * 1000], "showgrid": False},
        "yaxis": {
            "rangemode": "tozero",
            "ticksuffix": f" {unit}" if unit else "",
            "automargin": True,
        },
        # Above the plot: below it, the legend sat on the time axis' labels.
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        "showlegend": len(traces) > 1,
        "shapes": threshold_shapes(thresholds),
        "hovermode": "x unified",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    if len(traces) > 1:
        layout["margin"]["t"] = 30
    return {"data": traces + partials, "layout": layout}


def _partial_tail(pts: list, step: float | None, now: float | None) -> list | None:
    """[[t, v] of the last complete bucket, [t, v] of the partial one] when the last
    bucket [t, t + step) has not ended by `now`; else None."""
    if not step or now is None or len(pts) < 2:
        return None
    t, _ = pts[-1]
    return [list(pts[-2]), list(pts[-1])] if t + step > now else None


def _partial_trace(tail: list, colour: str, key: str, unit: str) -> dict:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "partial bucket",
        "showlegend": False,
        "x": [round(t * 1000) for t, _ in tail],
        "y": [_clean(v) for _, v in tail],
        "line": {"width": 2, "color": colour, "dash": "dot"},
        "marker": {"size": [0, 6], "symbol": "circle-open", "color": colour},
        "meta": {"key": key + "#partial", "partial": True},
        "hovertemplate": "%{y:.4~g}" + (f" {unit}" if unit else "") + " (bucket still filling)"
        "<extra></extra>",
    }


def reduce_values(values: Iterable[float], how: str = "sum") -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None
    if how == "avg":
        return sum(vals) / len(vals)
    if how == "max":
        return max(vals)
    if how == "min":
        return min(vals)
    return sum(vals)


# Seconds a series may lag the freshest series of its metric and still count (the same
# five minutes as Prometheus' lookback delta; dashboard.js drops live parts alike).
STALE_SECONDS = 300


def metric_payload(
    name: str,
    latest: list[dict],
    spark_series: list[dict],
    thresholds: dict | None,
    reduce: str = "sum",
) -> dict:
    """A number (latest value of each matching series, reduced), its state and a sparkline.

    `parts` lists each series' latest value so live samples can replace one and re-reduce.
    A series silent for STALE_SECONDS longer than the freshest one (a process that died,
    a scrape target removed) is left out, as Prometheus' lookback does: its last value
    must not be added to the live ones forever. A metric that has gone quiet altogether
    still shows its last value, with its time."""
    ts = max((row["ts"] for row in latest), default=None)
    if ts is not None:
        latest = [row for row in latest if row["ts"] >= ts - STALE_SECONDS]
    value = reduce_values((row["value"] for row in latest), reduce)
    spark: list[list[float]] = []
    if spark_series:
        # Sparkline of the first series only: small multiples would not fit the tile.
        spark = downsample(spark_series[0]["points"], 120)
    return {
        "value": value,
        "ts": ts,
        "state": threshold_state(value, thresholds),
        "reduce": reduce,
        "parts": [
            {"key": series_key(name, r["labels"]), "value": _clean(r["value"]), "ts": r["ts"]}
            for r in latest
        ],
        "spark": {"x": [round(t * 1000) for t, _ in spark], "y": [_clean(v) for _, v in spark]},
    }


# --- status -------------------------------------------------------------------

STATUS_METRICS = (
    "wedsync_gateway_connections",
    "wedsync_gateway_error_rate",
    "wedsync_cache_hit_ratio",
    "wedsync_redis_up",
    "wedsync_db_up",
    "wedsync_db_latency_ms",
    "wedsync_celery_workers",
    "wedsync_gateway_breaker_open",
)


def _one(latest: dict[str, list[dict]], name: str, **matchers: str) -> dict | None:
    rows = [r for r in latest.get(name, []) if matches(r["labels"], matchers)]
    return max(rows, key=lambda r: r["ts"]) if rows else None


def _component(name: str, state: str, detail: str, row: dict | None, now: float) -> dict:
    if row is not None and now - row["ts"] > STALE_SECONDS:
        age = int(now - row["ts"])
        return {"component": name, "state": "unknown", "detail": f"no data for {age} s"}
    return {"component": name, "state": state, "detail": detail}


# In the embedded default (`make run`) there is no Redis and no Celery worker: their tiles
# say so instead of going Unknown, which reads as an outage.
NOT_USED_EMBEDDED = {
    "Redis": "not used in the embedded mode (local-memory cache, in-process channel layer)",
    "Celery workers": "not used in the embedded mode: jobs run inside the server process",
}


def status_components(
    latest: dict[str, list[dict]], now: float, *, embedded: bool = False
) -> list[dict]:
    """State of each service, from the latest values of the collectors' metrics.

    States: ok, warn, crit, unknown (no sample, or the newest is over STALE_SECONDS old),
    off (the service is not part of this deployment: embedded=True)."""
    out = _status_components(latest, now)
    if embedded:
        for c in out:
            if c["component"] in NOT_USED_EMBEDDED:
                c.update(state="off", detail=NOT_USED_EMBEDDED[c["component"]])
            elif c["component"] == "PostgreSQL":
                c["component"] = "Database (SQLite)"
    return out


def _status_components(latest: dict[str, list[dict]], now: float) -> list[dict]:
    out = []
    missing = "no samples yet"

    conns = _one(latest, "wedsync_gateway_connections")
    errors = _one(latest, "wedsync_gateway_error_rate")
    if conns is None:
        out.append({"component": "Gateway", "state": "unknown", "detail": missing})
    else:
        rate = errors["value"] if errors else 0.0
        state = "crit" if rate >= 0.05 else "warn" if rate >= 0.01 else "ok"
        detail = f"{conns['value']:.0f} connections, {rate * 100:.1f}% errors"
        out.append(_component("Gateway", state, detail, conns, now))

    hit = _one(latest, "wedsync_cache_hit_ratio", tier="total")
    if hit is None:
        out.append({"component": "Cache", "state": "unknown", "detail": missing})
    else:
        state = "crit" if hit["value"] < 0.5 else "warn" if hit["value"] < 0.8 else "ok"
        out.append(_component("Cache", state, f"hit ratio {hit['value'] * 100:.0f}%", hit, now))

    redis_up = _one(latest, "wedsync_redis_up")
    if redis_up is None:
        out.append({"component": "Redis", "state": "unknown", "detail": missing})
    else:
        up = redis_up["value"] >= 1
        out.append(
            _component("Redis", "ok" if up else "crit", "up" if up else "DOWN", redis_up, now)
        )

    db_up = _one(latest, "wedsync_db_up")
    if db_up is None:
        out.append({"component": "PostgreSQL", "state": "unknown", "detail": missing})
    else:
        latency = _one(latest, "wedsync_db_latency_ms")
        up = db_up["value"] >= 1
        slow = latency is not None and latency["value"] > 50
        detail = ("up" if up else "DOWN") + (f", {latency['value']:.1f} ms" if latency else "")
        state = "crit" if not up else "warn" if slow else "ok"
        out.append(_component("PostgreSQL", state, detail, db_up, now))

    workers = _one(latest, "wedsync_celery_workers")
    if workers is None:
        out.append({"component": "Celery workers", "state": "unknown", "detail": missing})
    else:
        n = int(workers["value"])
        out.append(
            _component("Celery workers", "ok" if n > 0 else "crit", f"{n} online", workers, now)
        )

    breakers = [
        r for r in latest.get("wedsync_gateway_breaker_open", []) if now - r["ts"] <= STALE_SECONDS
    ]
    if not latest.get("wedsync_gateway_breaker_open"):
        out.append({"component": "Circuit breakers", "state": "unknown", "detail": missing})
    elif not breakers:
        out.append({"component": "Circuit breakers", "state": "unknown", "detail": "stale"})
    else:
        opened = sorted(r["labels"].get("breaker", "?") for r in breakers if r["value"] >= 1)
        if opened:
            out.append(
                {
                    "component": "Circuit breakers",
                    "state": "crit",
                    "detail": "open: " + ", ".join(opened),
                }
            )
        else:
            out.append(
                {
                    "component": "Circuit breakers",
                    "state": "ok",
                    "detail": f"{len(breakers)} closed",
                }
            )
    return out
