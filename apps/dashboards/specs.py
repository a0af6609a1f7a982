"""Validation of dashboard and widget specs, shared by the API and JSON import.

Errors are collected as {"path": "message"} with paths like
`widgets[2].queries[0].name`, so a rejected import names every bad field.
"""

from __future__ import annotations

import re
from typing import Any

from apps.dashboards.models import GRID_COLUMNS, MAX_HEIGHT, RANGE_SECONDS, WidgetKind

EXPORT_FORMAT = "wedsync-dashboard/1"
AGGS = ("avg", "min", "max", "sum", "last", "count", "p95")  # as apps.monitoring.query
DIRECTIONS = ("above", "below")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$")
SLUG = re.compile(r"^[-a-z0-9_]{1,80}$")
MAX_QUERIES = 8
# API routes under /api/v1/dashboards/ that a slug must not shadow.
RESERVED_SLUGS = frozenset({"import", "known-metrics"})
MAX_WIDGETS = 60
QUERY_KINDS = (WidgetKind.METRIC, WidgetKind.CHART)


class SpecError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _int(value: Any, path: str, lo: int, hi: int, errors: dict, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        errors[path] = f"must be a whole number from {lo} to {hi}."
        return default
    return value


def _number(value: Any, path: str, errors: dict) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors[path] = "must be a number or null."
        return None
    return float(value)


def clean_promql(raw: dict, path: str, errors: dict) -> dict:
    """A chart query written in PromQL: {"promql": expr, "label"?}."""
    from apps.monitoring.promql.engine import PromQLError, evaluate

    expr = raw.get("promql")
    if not isinstance(expr, str) or not expr.strip() or len(expr) > 2000:
        errors[f"{path}.promql"] = "must be a PromQL expression of at most 2,000 characters."
        return {}
    try:
        # One evaluation at "now" also finds what parses but is not supported (a function).
        import time

        evaluate(expr, time.time(), time.time(), 1.0)
    except PromQLError as exc:
        errors[f"{path}.promql"] = str(exc)
    label = raw.get("label") or ""
    out = {"promql": expr.strip()}
    if isinstance(label, str) and label and len(label) <= 60:
        out["label"] = label
    return out


def clean_query(raw: Any, path: str, errors: dict) -> dict:
    if not isinstance(raw, dict):
        errors[path] = "must be an object {name, matchers, agg} or {promql}."
        return {}
    if "promql" in raw:
        return clean_promql(raw, path, errors)
    name = raw.get("name")
    if not isinstance(name, str) or not METRIC_NAME.match(name):
        errors[f"{path}.name"] = "must be a metric name like wedsync_gateway_connections."
    matchers = raw.get("matchers") or {}
    if not isinstance(matchers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in matchers.items()
    ):
        errors[f"{path}.matchers"] = "must be an object of label → string value."
        matchers = {}
    agg = raw.get("agg") or "avg"
    if agg not in AGGS:
        errors[f"{path}.agg"] = f"must be one of {', '.join(AGGS)}."
    label = raw.get("label") or ""
    if not isinstance(label, str) or len(label) > 60:
        errors[f"{path}.label"] = "must be text of at most 60 characters."
        label = ""
    out = {"name": name, "matchers": matchers, "agg": agg}
    if label:
        out["label"] = label
    return out


def clean_thresholds(raw: Any, path: str, errors: dict) -> dict:
    if raw in (None, {}):
        return {}
    if not isinstance(raw, dict):
        errors[path] = "must be an object {warn, crit, direction}."
        return {}
    warn = _number(raw.get("warn"), f"{path}.warn", errors)
    crit = _number(raw.get("crit"), f"{path}.crit", errors)
    direction = raw.get("direction") or "above"
    if direction not in DIRECTIONS:
        errors[f"{path}.direction"] = "must be 'above' or 'below'."
    if warn is not None and crit is not None and f"{path}.warn" not in errors:
        if (direction == "above" and warn > crit) or (direction == "below" and warn < crit):
            errors[f"{path}.warn"] = f"must come before crit for direction {direction!r}."
    return {"warn": warn, "crit": crit, "direction": direction}


def clean_widget(raw: Any, path: str, errors: dict) -> dict:
    """A widget spec as stored (without dashboard and id)."""
    prefix = f"{path}." if path else ""
    if not isinstance(raw, dict):
        errors[path or "widget"] = "must be an object."
        return {}
    kind = raw.get("kind")
    if kind not in WidgetKind.values:
        errors[f"{prefix}kind"] = f"must be one of {', '.join(WidgetKind.values)}."
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 120:
        errors[f"{prefix}title"] = "is required (at most 120 characters)."
    queries_raw = raw.get("queries") or []
    queries: list[dict] = []
    if not isinstance(queries_raw, list) or len(queries_raw) > MAX_QUERIES:
        errors[f"{prefix}queries"] = f"must be a list of at most {MAX_QUERIES} queries."
    else:
        queries = [
            clean_query(q, f"{prefix}queries[{i}]", errors) for i, q in enumerate(queries_raw)
        ]
    if kind != WidgetKind.CHART and any("promql" in q for q in queries):
        errors[f"{prefix}queries"] = "only chart widgets take PromQL queries."
    if kind in QUERY_KINDS and not queries_raw and f"{prefix}queries" not in errors:
        errors[f"{prefix}queries"] = f"a {kind} widget needs at least one query."
    unit = raw.get("unit") or ""
    if not isinstance(unit, str) or len(unit) > 16:
        errors[f"{prefix}unit"] = "must be text of at most 16 characters."
        unit = ""
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        errors[f"{prefix}options"] = "must be an object."
        options = {}
    return {
        "kind": kind,
        "title": title.strip() if isinstance(title, str) else title,
        "queries": queries,
        "thresholds": clean_thresholds(raw.get("thresholds"), f"{prefix}thresholds", errors),
        "unit": unit,
        "options": options,
        "position": _int(raw.get("position"), f"{prefix}position", 0, 10_000, errors, 0),
        "width": _int(raw.get("width"), f"{prefix}width", 1, GRID_COLUMNS, errors, 4),
        "height": _int(raw.get("height"), f"{prefix}height", 1, MAX_HEIGHT, errors, 2),
    }


def clean_dashboard(raw: Any) -> tuple[dict, list[dict]]:
    """Validate an exported dashboard document; raise SpecError naming every bad field."""
    errors: dict[str, str] = {}
    if not isinstance(raw, dict):
        raise SpecError({"document": "must be a JSON object."})
    fmt = raw.get("format")
    if fmt is not None and fmt != EXPORT_FORMAT:
        errors["format"] = f"unsupported format {str(fmt)[:40]!r}; expected {EXPORT_FORMAT!r}."
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        errors["name"] = "is required (at most 120 characters)."
    slug = raw.get("slug")
    if slug is not None and (not isinstance(slug, str) or not SLUG.match(slug)):
        errors["slug"] = "must be lowercase letters, digits, '-' or '_' (at most 80)."
    elif slug in RESERVED_SLUGS and not raw.get("format"):
        errors["slug"] = f"{slug!r} is reserved; choose another."
    default_range = raw.get("default_range")
    default_range = "1h" if default_range in (None, "") else default_range
    # A list here raised TypeError (unhashable) in the dict lookup: 500 (issue 15).
    if not isinstance(default_range, str) or default_range not in RANGE_SECONDS:
        errors["default_range"] = f"must be one of {', '.join(RANGE_SECONDS)}."
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 40 for t in tags):
        errors["tags"] = "must be a list of short strings."
        tags = []
    shared = raw.get("shared", True)
    if not isinstance(shared, bool):
        errors["shared"] = "must be true or false."
    description = raw.get("description") or ""
    if not isinstance(description, str) or len(description) > 300:
        errors["description"] = "must be text of at most 300 characters."
    widgets_raw = raw.get("widgets") or []
    widgets: list[dict] = []
    if not isinstance(widgets_raw, list) or len(widgets_raw) > MAX_WIDGETS:
        errors["widgets"] = f"must be a list of at most {MAX_WIDGETS} widgets."
    else:
        widgets = [clean_widget(w, f"widgets[{i}]", errors) for i, w in enumerate(widgets_raw)]
    if errors:
        raise SpecError(errors)
    dashboard = {
        "name": name.strip(),
        "slug": slug,
        "description": description,
        "shared": shared,
        "default_range": default_range,
        "tags": sorted(set(tags)),
    }
    return dashboard, widgets


# --- the same rules as OpenAPI schemas (published by the API; kept beside the checks) ----

_NON_BLANK = r"\S"
QUERY_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": METRIC_NAME.pattern},
        "matchers": {
            "type": "object",
            "nullable": True,
            "additionalProperties": {"type": "string"},
            "example": {"pool": "web"},
        },
        "agg": {"type": "string", "enum": list(AGGS)},
        "label": {"type": "string", "maxLength": 60},
    },
    "example": {"name": "wedsync_gateway_connections", "agg": "avg"},
}
QUERIES_SCHEMA = {
    "type": "array",
    "maxItems": MAX_QUERIES,
    "items": QUERY_SCHEMA,
    "description": "A metric or chart widget needs at least one query.",
}
THRESHOLDS_SCHEMA = {
    "type": "object",
    "nullable": True,
    "properties": {
        "warn": {"type": "number", "nullable": True},
        "crit": {"type": "number", "nullable": True},
        "direction": {"type": "string", "enum": list(DIRECTIONS)},
    },
    "description": "warn must come before crit in the direction (above: warn <= crit).",
}
OPTIONS_SCHEMA = {"type": "object", "nullable": True, "description": "Kind-specific extras."}
WIDGET_SCHEMA = {
    "type": "object",
    "required": ["kind", "title"],
    "properties": {
        "kind": {"type": "string", "enum": list(WidgetKind.values)},
        "title": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": _NON_BLANK},
        "queries": QUERIES_SCHEMA,
        "thresholds": THRESHOLDS_SCHEMA,
        "unit": {"type": "string", "maxLength": 16},
        "options": OPTIONS_SCHEMA,
        "position": {"type": "integer", "minimum": 0, "maximum": 10_000},
        "width": {"type": "integer", "minimum": 1, "maximum": GRID_COLUMNS},
        "height": {"type": "integer", "minimum": 1, "maximum": MAX_HEIGHT},
    },
}
DOCUMENT_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "format": {"type": "string", "enum": [EXPORT_FORMAT]},
        "name": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": _NON_BLANK},
        "slug": {
            "type": "string",
            "pattern": SLUG.pattern,
            "description": f"Not one of {', '.join(sorted(RESERVED_SLUGS))}.",
        },
        "description": {"type": "string", "maxLength": 300},
        "shared": {"type": "boolean"},
        "default_range": {"type": "string", "enum": list(RANGE_SECONDS)},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}},
        "widgets": {"type": "array", "maxItems": MAX_WIDGETS, "items": WIDGET_SCHEMA},
    },
    "example": {
        "format": EXPORT_FORMAT,
        "name": "Gateway",
        "widgets": [
            {
                "kind": "chart",
                "title": "Connections",
                "queries": [{"name": "wedsync_gateway_connections"}],
            }
        ],
    },
}
