"""PromQL aggregation operators with by/without, per step."""

from __future__ import annotations

import numpy as np

from apps.monitoring.promql.engine import PromQLError, Scalar, Series, label_key

SUPPORTED = (
    "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk",
    "quantile",
)  # fmt: skip


def _group_labels(labels: dict[str, str], modifier) -> dict[str, str]:
    if modifier is None:
        return {}
    names = set(modifier.labels)
    if str(modifier.type).endswith("By"):
        return {k: v for k, v in labels.items() if k in names}
    return {k: v for k, v in labels.items() if k not in names and k != "__name__"}


def aggregate(op: str, vector, modifier, param) -> list[Series]:
    if op not in SUPPORTED:
        raise PromQLError(f"aggregation {op!r} is not supported", kind="execution")
    if isinstance(vector, Scalar) or not isinstance(vector, list):
        raise PromQLError(f"{op}() needs an instant vector")
    groups: dict[tuple, tuple[dict, list[Series]]] = {}
    for s in vector:
        labels = _group_labels(s.labels, modifier)
        groups.setdefault(label_key(labels), (labels, []))[1].append(s)
    out: list[Series] = []
    for labels, members in groups.values():
        values = np.array([m.values for m in members])
        present = np.array([m.present for m in members])
        if op in ("topk", "bottomk"):
            out.extend(_top(op, members, values, present, param))
            continue
        any_present = present.any(axis=0)
        count = present.sum(axis=0)
        masked = np.where(present, values, np.nan)
        with np.errstate(all="ignore"):
            if op == "sum":
                result = np.where(present, values, 0.0).sum(axis=0)
            elif op == "avg":
                result = np.where(present, values, 0.0).sum(axis=0) / count
            elif op == "count":
                result = count.astype(float)
            elif op == "group":
                result = np.ones(len(count))
            elif op in ("min", "max"):
                # NaN only when every present value is NaN, as Prometheus.
                fill = np.inf if op == "min" else -np.inf
                finite = np.where(present & ~np.isnan(values), values, fill)
                result = finite.min(axis=0) if op == "min" else finite.max(axis=0)
                has_number = (present & ~np.isnan(values)).any(axis=0)
                result = np.where(has_number, result, np.nan)
            elif op in ("stddev", "stdvar"):
                mean = np.where(present, values, 0.0).sum(axis=0) / count
                var = np.where(present, (values - mean) ** 2, 0.0).sum(axis=0) / count
                result = np.sqrt(var) if op == "stddev" else var
            else:  # quantile
                result = _quantile(param, masked, present)
        if any_present.any():
            out.append(Series(labels, np.where(any_present, result, np.nan), any_present))
    return out


def _quantile(param, masked: np.ndarray, present: np.ndarray) -> np.ndarray:
    q = param.values if isinstance(param, Scalar) else None
    if q is None:
        raise PromQLError("quantile() needs a scalar parameter")
    out = np.full(masked.shape[1], np.nan)
    for i in np.flatnonzero(present.any(axis=0)):
        part = masked[present[:, i], i]
        if q[i] < 0:
            out[i] = -np.inf
        elif q[i] > 1:
            out[i] = np.inf
        else:
            out[i] = np.quantile(np.sort(part), q[i], method="linear")
    return out


def _top(op: str, members: list[Series], values, present, param) -> list[Series]:
    if not isinstance(param, Scalar):
        raise PromQLError(f"{op}() needs a scalar parameter")
    k = param.values.astype(np.int64)
    # Ranking key: absent lowest, then NaN (as Prometheus's heap), then the values.
    sign = 1.0 if op == "topk" else -1.0
    key = np.where(present, np.where(np.isnan(values), -np.inf, sign * values), -np.inf)
    selected = np.zeros_like(present)
    for i in range(values.shape[1]):
        if k[i] < 1:
            continue
        idx = np.flatnonzero(present[:, i])
        if not len(idx):
            continue
        best = idx[np.argsort(-key[idx, i], kind="stable")[: k[i]]]
        selected[best, i] = True
    out = []
    for j, m in enumerate(members):
        if selected[j].any():
            out.append(Series(m.labels, np.where(selected[j], m.values, np.nan), selected[j]))
    return out
