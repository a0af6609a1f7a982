"""PromQL function calls: range functions, histogram_quantile and the elementwise ones.

Anything else answers 422 naming the function, so a dashboard author knows which
part of a query to change.
"""

from __future__ import annotations

import numpy as np
import promql_parser as pp

from apps.monitoring.promql.engine import PromQLError, Scalar, Series, drop_name, label_key
from apps.monitoring.promql.functions import RANGE_FUNCTIONS, bucket_quantile

ELEMENTWISE = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
}


def _scalar_arg(ev, node, name: str) -> np.ndarray:
    value = ev.eval(node)
    if not isinstance(value, Scalar):
        raise PromQLError(f"expected a scalar argument to {name}()")
    return value.values


def _vector_arg(ev, node, name: str) -> list[Series]:
    value = ev.eval(node)
    if not isinstance(value, list):
        raise PromQLError(f"expected an instant vector argument to {name}()")
    return value


def call(ev, node):
    name = node.func.name
    args = list(node.args)
    if name in RANGE_FUNCTIONS:
        param = None
        if name == "quantile_over_time":
            param = float(_scalar_arg(ev, args[0], name)[0])
            args = args[1:]
        if not isinstance(args[0], pp.MatrixSelector):
            raise PromQLError(f"{name}() over a subquery is not supported", kind="execution")
        return ev.range_call(name, args[0], param)
    if name in ELEMENTWISE:
        fn = ELEMENTWISE[name]
        with np.errstate(all="ignore"):
            return [
                Series(drop_name(s.labels), fn(s.values), s.present)
                for s in _vector_arg(ev, args[0], name)
            ]
    if name in ("clamp_min", "clamp_max", "clamp"):
        vector = _vector_arg(ev, args[0], name)
        bounds = [_scalar_arg(ev, a, name) for a in args[1:]]
        low = bounds[0] if name in ("clamp_min", "clamp") else -np.inf
        high = bounds[-1] if name in ("clamp_max", "clamp") else np.inf
        return [
            Series(drop_name(s.labels), np.maximum(np.minimum(s.values, high), low), s.present)
            for s in vector
        ]
    if name == "round":
        vector = _vector_arg(ev, args[0], name)
        nearest = _scalar_arg(ev, args[1], name) if len(args) > 1 else 1.0
        inverse = 1.0 / nearest
        return [
            Series(drop_name(s.labels), np.floor(s.values * inverse + 0.5) / inverse, s.present)
            for s in vector
        ]
    if name == "time":
        return Scalar(ev.steps / 1000.0)
    if name == "vector":
        values = _scalar_arg(ev, args[0], name)
        return [Series({}, values, np.ones(len(values), dtype=bool))]
    if name == "scalar":
        vector = _vector_arg(ev, args[0], name)
        if not vector:
            return Scalar(np.full(len(ev.steps), np.nan))
        present = np.array([s.present for s in vector])
        values = np.where(present, np.array([s.values for s in vector]), 0.0).sum(axis=0)
        return Scalar(np.where(present.sum(axis=0) == 1, values, np.nan))
    if name == "histogram_quantile":
        q = _scalar_arg(ev, args[0], name)
        return histogram_quantile(q, _vector_arg(ev, args[1], name))
    raise PromQLError(f"function {name!r} is not supported", kind="execution")


def histogram_quantile(q: np.ndarray, vector: list[Series]) -> list[Series]:
    groups: dict[tuple, tuple[dict, list[tuple[float, Series]]]] = {}
    for s in vector:
        try:
            bound = float(s.labels["le"])
        except (KeyError, ValueError):
            continue  # not a bucket: Prometheus ignores it too
        labels = {k: v for k, v in s.labels.items() if k not in ("le", "__name__")}
        groups.setdefault(label_key(labels), (labels, []))[1].append((bound, s))
    out = []
    for labels, buckets in groups.values():
        buckets.sort(key=lambda b: b[0])
        bounds = np.array([b for b, _ in buckets])
        values = np.array([s.values for _, s in buckets])
        present = np.array([s.present for _, s in buckets])
        result = np.full(values.shape[1], np.nan)
        has = present.any(axis=0)
        for i in np.flatnonzero(has):
            rows = present[:, i]
            result[i] = bucket_quantile(float(q[i]), bounds[rows], values[rows, i])
        if has.any():
            out.append(Series(labels, result, has))
    return out
