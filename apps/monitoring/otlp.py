"""OTLP metrics -> samples, named as Prometheus's OTLP translator names them.

Names: invalid characters become `_`, the unit becomes a suffix (`s` -> `_seconds`,
`By` -> `_bytes`, `1` on a gauge -> `_ratio`, `{...}` annotations dropped, `a/b` ->
`_a_per_b`), monotonic sums end in `_total`. Labels: the data point's attributes and
the resource's, `service.namespace/service.name` as `job` and `service.instance.id`
as `instance`. Histograms become `_bucket{le}` (cumulative), `_sum` and `_count`;
summaries `{quantile}`, `_sum`, `_count`. Delta sums are added onto the series' last
stored value, so they read as the cumulative counters PromQL expects. What cannot be
stored (delta or exponential histograms) is counted as rejected, per the spec's
partial success.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from opentelemetry.proto.metrics.v1 import metrics_pb2

DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
NO_RECORDED_VALUE = metrics_pb2.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK

UNITS = {
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
    "us": "microseconds", "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes",
    "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes", "KBy": "kilobytes",
    "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes", "m": "meters", "V": "volts",
    "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius",
    "Hz": "hertz", "%": "percent",
}  # fmt: skip
PER_UNITS = {
    "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month",
    "y": "year",
}  # fmt: skip
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")


def _unit_suffix(unit: str, is_gauge: bool) -> str:
    unit = re.sub(r"\{[^}]*\}", "", unit).strip()
    if not unit:
        return ""
    if unit == "1":
        return "ratio" if is_gauge else ""
    main, _, per = unit.partition("/")
    words = [UNITS.get(main, _INVALID.sub("_", main))] if main else []
    if per:
        words.append("per_" + PER_UNITS.get(per, _INVALID.sub("_", per)))
    return "_".join(w.strip("_") for w in words if w.strip("_"))


def metric_name(name: str, unit: str, *, is_gauge: bool, monotonic: bool) -> str:
    base = re.sub(r"__+", "_", _INVALID.sub("_", name)).strip("_") or "metric"
    if base[0].isdigit():
        base = "_" + base
    suffix = _unit_suffix(unit, is_gauge)
    if suffix and not base.endswith("_" + suffix):
        base = f"{base}_{suffix}"
    if monotonic and not base.endswith("_total"):
        base += "_total"
    return base


def label_name(key: str) -> str:
    name = _INVALID_LABEL.sub("_", key)
    if not name or name[0].isdigit():
        name = "key_" + name
    if name.startswith("__"):
        name = "key" + name
    return name


def _value(any_value) -> str:
    kind = any_value.WhichOneof("value")
    if kind is None:
        return ""
    raw = getattr(any_value, kind)
    if kind == "bool_value":
        return "true" if raw else "false"
    if kind in ("string_value", "int_value", "double_value"):
        return str(raw)
    return str(raw).replace("\n", " ")[:256]


def attributes(kvs) -> dict[str, str]:
    return {label_name(kv.key): _value(kv.value) for kv in kvs}


def resource_labels(resource) -> dict[str, str]:
    raw = {kv.key: _value(kv.value) for kv in resource.attributes}
    labels = attributes(resource.attributes)
    service = raw.get("service.name")
    if service:
        namespace = raw.get("service.namespace")
        labels["job"] = f"{namespace}/{service}" if namespace else service
    if raw.get("service.instance.id"):
        labels["instance"] = raw["service.instance.id"]
    return labels


@dataclass
class Translation:
    samples: list[dict] = field(default_factory=list)
    deltas: list[int] = field(default_factory=list)  # indices of samples that are deltas
    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, name: str, labels: dict, value: float, ts_nanos: int, delta: bool = False):
        if delta:
            self.deltas.append(len(self.samples))
        sample = {"name": name, "labels": labels, "value": float(value)}
        if ts_nanos:
            sample["ts"] = ts_nanos / 1e9
        self.samples.append(sample)

    def reject(self, count: int, why: str) -> None:
        self.rejected += count
        if why not in self.problems:
            self.problems.append(why)


def _points(translation: Translation, metric, base: dict) -> None:
    kind = metric.WhichOneof("data")
    if kind in ("gauge", "sum"):
        data = getattr(metric, kind)
        monotonic = kind == "sum" and data.is_monotonic
        delta = kind == "sum" and data.aggregation_temporality == DELTA
        name = metric_name(metric.name, metric.unit, is_gauge=kind == "gauge", monotonic=monotonic)
        for p in data.data_points:
            if p.flags & NO_RECORDED_VALUE:
                continue
            value = p.as_double if p.WhichOneof("value") == "as_double" else p.as_int
            translation.add(
                name, {**base, **attributes(p.attributes)}, value, p.time_unix_nano, delta
            )
    elif kind == "histogram":
        data = metric.histogram
        name = metric_name(metric.name, metric.unit, is_gauge=False, monotonic=False)
        if data.aggregation_temporality == DELTA:
            translation.reject(
                len(data.data_points), f"{metric.name}: delta histograms are not supported"
            )
            return
        for p in data.data_points:
            if p.flags & NO_RECORDED_VALUE:
                continue
            labels = {**base, **attributes(p.attributes)}
            running = 0
            for bound, count in zip(p.explicit_bounds, p.bucket_counts, strict=False):
                running += count
                translation.add(
                    f"{name}_bucket", {**labels, "le": _le(bound)}, running, p.time_unix_nano
                )
            translation.add(f"{name}_bucket", {**labels, "le": "+Inf"}, p.count, p.time_unix_nano)
            translation.add(f"{name}_sum", labels, p.sum, p.time_unix_nano)
            translation.add(f"{name}_count", labels, p.count, p.time_unix_nano)
    elif kind == "summary":
        name = metric_name(metric.name, metric.unit, is_gauge=False, monotonic=False)
        for p in metric.summary.data_points:
            labels = {**base, **attributes(p.attributes)}
            for q in p.quantile_values:
                translation.add(
                    name, {**labels, "quantile": _le(q.quantile)}, q.value, p.time_unix_nano
                )
            translation.add(f"{name}_sum", labels, p.sum, p.time_unix_nano)
            translation.add(f"{name}_count", labels, p.count, p.time_unix_nano)
    elif kind == "exponential_histogram":
        translation.reject(
            len(metric.exponential_histogram.data_points),
            f"{metric.name}: exponential histograms are not supported",
        )


def _le(bound: float) -> str:
    text = repr(float(bound))
    return text[:-2] if text.endswith(".0") else text


def translate(request) -> Translation:
    """An ExportMetricsServiceRequest as sample dicts for the ingest."""
    translation = Translation()
    for rm in request.resource_metrics:
        base = resource_labels(rm.resource)
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                _points(translation, metric, base)
    return translation


def accumulate_deltas(translation: Translation) -> None:
    """Delta points onto each series' last stored value (in time order within the batch)."""
    if not translation.deltas:
        return
    from apps.monitoring.models import Sample, Series, series_key

    picked = sorted(translation.deltas, key=lambda i: translation.samples[i].get("ts", 0.0))
    keys = {
        i: series_key(translation.samples[i]["name"], translation.samples[i]["labels"])
        for i in picked
    }
    ids = dict(Series.objects.filter(key__in=set(keys.values())).values_list("key", "id"))
    totals: dict[str, float] = {}
    for key, sid in ids.items():
        last = (
            Sample.objects.filter(series_id=sid).order_by("-ts").values_list("value", flat=True)[:1]
        )
        totals[key] = float(last[0]) if last else 0.0
    for i in picked:
        sample = translation.samples[i]
        totals[keys[i]] = totals.get(keys[i], 0.0) + sample["value"]
        sample["value"] = totals[keys[i]]
