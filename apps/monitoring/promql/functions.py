"""PromQL's range-vector functions and histogram_quantile, over every step at once.

Each range function gets one series' samples (staleness markers already dropped, as
Prometheus drops them from range selections) and the window [ref - range, ref] of
each step, and returns (values, present) per step. The formulas are Prometheus's
(promql/functions.go), including rate's extrapolation to the window's edges.
"""

from __future__ import annotations

import math

import numpy as np

Windows = tuple[np.ndarray, np.ndarray]  # first index, one-past-last index per step


def windows(ts: np.ndarray, refs: np.ndarray, range_ms: int) -> Windows:
    return np.searchsorted(ts, refs - range_ms, "left"), np.searchsorted(ts, refs, "right")


def _extrapolated(
    kind: str, ts: np.ndarray, v: np.ndarray, refs: np.ndarray, range_ms: int, win: Windows
):
    lo, hi = win
    present = hi - lo >= 2
    out = np.full(len(refs), np.nan)
    if not present.any():
        return out, present
    lo, hi, ref = lo[present], hi[present] - 1, refs[present]
    first, last = v[lo], v[hi]
    result = last - first
    counter = kind in ("rate", "increase")
    if counter:
        resets = np.zeros(len(v))
        resets[1:] = np.where(v[1:] < v[:-1], v[:-1], 0.0)
        cum = np.cumsum(resets)
        result = result + (cum[hi] - cum[lo])
    to_start = (ts[lo] - (ref - range_ms)) / 1000.0
    to_end = (ref - ts[hi]) / 1000.0
    sampled = (ts[hi] - ts[lo]) / 1000.0
    average = sampled / (hi - lo)
    if counter:
        with np.errstate(divide="ignore", invalid="ignore"):
            to_zero = sampled * (first / result)
        shorter = (result > 0) & (first >= 0) & (to_zero < to_start)
        to_start = np.where(shorter, to_zero, to_start)
    threshold = average * 1.1
    interval = (
        sampled
        + np.where(to_start < threshold, to_start, average / 2)
        + np.where(to_end < threshold, to_end, average / 2)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        result = result * (interval / sampled)
    if kind == "rate":
        result = result / (range_ms / 1000.0)
    out[present] = result
    return out, present


def _instant_rate(kind: str, ts: np.ndarray, v: np.ndarray, win: Windows):
    lo, hi = win
    present = hi - lo >= 2
    out = np.full(len(lo), np.nan)
    last_i = hi[present] - 1
    last, prev = v[last_i], v[last_i - 1]
    result = last - prev
    if kind == "irate":
        result = np.where(last < prev, last, result)
        interval = (ts[last_i] - ts[last_i - 1]) / 1000.0
        nonzero = interval != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            result = result / interval
        present[present] = nonzero
        result = result[nonzero]
    out[present] = result
    return out, present


def _quantile(q: float, values: np.ndarray) -> float:
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    return float(np.quantile(np.sort(values), q, method="linear"))


_LOOPED = {
    "min_over_time": lambda part, q: float(np.min(part)) if not np.isnan(part).all() else math.nan,
    "max_over_time": lambda part, q: float(np.max(part)) if not np.isnan(part).all() else math.nan,
    "stddev_over_time": lambda part, q: float(np.std(part)),
    "stdvar_over_time": lambda part, q: float(np.var(part)),
    "quantile_over_time": lambda part, q: _quantile(q, part),
}


def _over_time(kind: str, v: np.ndarray, win: Windows, param: float | None):
    lo, hi = win
    count = hi - lo
    present = count >= 1
    out = np.full(len(lo), np.nan)
    if kind == "count_over_time":
        out[present] = count[present]
    elif kind == "present_over_time":
        out[present] = 1.0
    elif kind == "last_over_time":
        out[present] = v[hi[present] - 1]
    elif kind in ("sum_over_time", "avg_over_time") and not np.isnan(v).any():
        cum = np.concatenate(([0.0], np.cumsum(v)))
        sums = cum[hi[present]] - cum[lo[present]]
        out[present] = sums if kind == "sum_over_time" else sums / count[present]
    elif kind in ("sum_over_time", "avg_over_time"):
        reduce = np.sum if kind == "sum_over_time" else np.mean
        for i in np.flatnonzero(present):
            out[i] = reduce(v[lo[i] : hi[i]])
    else:
        # NaN handling as Prometheus: min/max skip NaN unless every value is NaN.
        fn = _LOOPED[kind]
        for i in np.flatnonzero(present):
            part = v[lo[i] : hi[i]]
            if kind in ("min_over_time", "max_over_time"):
                part = part[~np.isnan(part)] if not np.isnan(part).all() else part
            out[i] = fn(part, param)
    return out, present


RANGE_FUNCTIONS = {
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "present_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "quantile_over_time",
}


def range_function(
    name: str,
    ts: np.ndarray,
    values: np.ndarray,
    refs: np.ndarray,
    range_ms: int,
    param: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    win = windows(ts, refs, range_ms)
    if name in ("rate", "increase", "delta"):
        return _extrapolated(name, ts, values, refs, range_ms, win)
    if name in ("irate", "idelta"):
        return _instant_rate(name, ts, values, win)
    return _over_time(name, values, win, param)


def bucket_quantile(q: float, bounds: np.ndarray, counts: np.ndarray) -> float:
    """One histogram's φ-quantile from cumulative bucket counts (bounds sorted, +Inf last)."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    if len(bounds) == 0 or not math.isinf(bounds[-1]) or bounds[-1] < 0:
        return math.nan
    # Same upper bound twice (e.g. "1" and "1.0"): one bucket.
    uniq, first = np.unique(bounds, return_index=True)
    if len(uniq) != len(bounds):
        counts = np.add.reduceat(counts, first)
        bounds = uniq
    counts = np.maximum.accumulate(counts)  # buckets must not decrease (scrape skew)
    if len(bounds) < 2:
        return math.nan
    observations = counts[-1]
    if observations == 0 or math.isnan(observations):
        return math.nan
    rank = q * observations
    b = int(np.searchsorted(counts[:-1], rank, "left"))
    if b == len(bounds) - 1:
        return float(bounds[-2])
    if b == 0 and bounds[0] <= 0:
        return float(bounds[0])
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return float(start + (end - start) * (rank / count))
