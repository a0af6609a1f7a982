"""Evaluate a parsed PromQL expression over every step of a range at once.

Values are per step: a scalar is one array; an instant vector is a list of series,
each with labels, values and a `present` mask (absent at a step is not NaN: NaN is a
value Prometheus keeps). Times are integer milliseconds, as in Prometheus.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import promql_parser as pp

from apps.monitoring import conf
from apps.monitoring.promql import binops, functions, storage


class PromQLError(Exception):
    """kind: Prometheus's error type (bad_data 400, execution 422, timeout 503)."""

    def __init__(self, message: str, kind: str = "bad_data"):
        super().__init__(message)
        self.kind = kind


@dataclass
class Series:
    labels: dict[str, str]
    values: np.ndarray
    present: np.ndarray


@dataclass
class Scalar:
    values: np.ndarray


def drop_name(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != "__name__"}


def label_key(labels: dict[str, str]) -> tuple:
    return tuple(sorted(labels.items()))


class Evaluator:
    def __init__(self, start_ms: int, end_ms: int, step_ms: int, now: float | None = None):
        self.steps = np.arange(start_ms, end_ms + 1, step_ms, dtype=np.int64)
        self.now = time.time() if now is None else now
        self.deadline = time.monotonic() + conf.PROMQL_TIMEOUT_SECONDS
        self.lookback_ms = int(conf.PROMQL_LOOKBACK_SECONDS * 1000)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise PromQLError(
                f"query timed out after {conf.PROMQL_TIMEOUT_SECONDS:.0f} s", kind="timeout"
            )

    def eval(self, node):
        self.check_time()
        if isinstance(node, pp.NumberLiteral):
            return Scalar(np.full(len(self.steps), float(node.val)))
        if isinstance(node, pp.StringLiteral):
            return node.val
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr)
        if isinstance(node, pp.UnaryExpr):
            value = self.eval(node.expr)
            if isinstance(value, Scalar):
                return Scalar(-value.values)
            return [Series(drop_name(s.labels), -s.values, s.present) for s in value]
        if isinstance(node, pp.VectorSelector):
            return self.instant_selector(node)
        if isinstance(node, pp.MatrixSelector):
            raise PromQLError(
                "a range vector cannot be the result here; wrap it in a function such as rate()"
            )
        if isinstance(node, pp.Call):
            return self.call(node)
        if isinstance(node, pp.AggregateExpr):
            from apps.monitoring.promql.aggregate import aggregate

            param = self.eval(node.param) if node.param is not None else None
            return aggregate(str(node.op), self.eval(node.expr), node.modifier, param)
        if isinstance(node, pp.BinaryExpr):
            return binops.binary(
                str(node.op), self.eval(node.lhs), self.eval(node.rhs), node.modifier
            )
        if isinstance(node, pp.SubqueryExpr):
            raise PromQLError("subqueries are not supported", kind="execution")
        raise PromQLError(f"unsupported expression {type(node).__name__}", kind="execution")

    # --- selectors -----------------------------------------------------------------

    def _fetch(self, vs, range_ms: int) -> tuple[list[storage.Stored], int]:
        if vs.at is not None:
            raise PromQLError("the @ modifier is not supported", kind="execution")
        offset = int(vs.offset.total_seconds() * 1000) if vs.offset else 0
        matchers = [(m.name, _OPS[str(m.op)], m.value) for m in vs.matchers.matchers]
        if vs.matchers.or_matchers:
            raise PromQLError("'or' inside a selector is not supported", kind="execution")
        found = storage.select_series(vs.name, matchers)
        lo = int(self.steps[0]) - offset - range_ms
        hi = int(self.steps[-1]) - offset
        return storage.load(found, lo, hi, now=self.now), offset

    def instant_selector(self, vs) -> list[Series]:
        stored, offset = self._fetch(vs, self.lookback_ms)
        refs = self.steps - offset
        out = []
        for s in stored:
            idx = np.searchsorted(s.ts, refs, "right") - 1
            valid = idx >= 0
            safe = np.where(valid, idx, 0)
            if len(s.ts):
                valid &= s.ts[safe] >= refs - self.lookback_ms
                valid &= ~s.stale[safe]
                values = s.values[safe]
            else:
                values = np.full(len(refs), np.nan)
            if valid.any():
                out.append(Series(s.labels, np.where(valid, values, np.nan), valid))
        return out

    def range_call(self, name: str, ms, param: float | None) -> list[Series]:
        range_ms = int(ms.range.total_seconds() * 1000)
        stored, offset = self._fetch(ms.vector_selector, range_ms)
        refs = self.steps - offset
        out = []
        for s in stored:
            keep = ~s.stale  # range selections drop staleness markers
            values, present = functions.range_function(
                name, s.ts[keep], s.values[keep], refs, range_ms, param
            )
            if present.any():
                labels = s.labels if name == "last_over_time" else drop_name(s.labels)
                out.append(Series(labels, values, present))
        return out

    # --- function calls ------------------------------------------------------------

    def call(self, node):
        from apps.monitoring.promql.calls import call

        return call(self, node)


_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def parse(query: str):
    try:
        return pp.parse(query)
    except Exception as exc:  # the parser raises its own error type with the position
        raise PromQLError(f'invalid parameter "query": {exc}') from None


def merge(vector: list[Series]) -> list[Series]:
    """Series with the same labels (e.g. topk picking different series per step) as one."""
    merged: dict[tuple, Series] = {}
    for s in vector:
        key = label_key(s.labels)
        if key not in merged:
            merged[key] = Series(s.labels, s.values.copy(), s.present.copy())
            continue
        into = merged[key]
        into.values = np.where(s.present, s.values, into.values)
        into.present = into.present | s.present
    return sorted(merged.values(), key=lambda s: label_key(s.labels))


def evaluate(query: str, start: float, end: float, step: float, now: float | None = None):
    """(steps in ms, result): a Scalar, a list of Series, or a str, for each step."""
    tree = parse(query)
    start_ms, end_ms = int(round(start * 1000)), int(round(end * 1000))
    step_ms = max(1, int(round(step * 1000)))
    evaluator = Evaluator(start_ms, end_ms, step_ms, now=now)
    result = evaluator.eval(tree)
    if isinstance(result, list):
        result = merge(result)
    return evaluator.steps, result


def range_series(query: str, start: float, end: float, step: float) -> list[dict]:
    """A range query as the dashboards' series: [{"name", "labels", "points"}], points
    (unix seconds, value) only where the series has a value."""
    steps, result = evaluate(query, start, end, step)
    if isinstance(result, str):
        raise PromQLError("a string is not a chartable result")
    if isinstance(result, Scalar):
        result = [Series({}, result.values, np.ones(len(steps), dtype=bool))]
    seconds = steps / 1000.0
    out = []
    for s in result:
        labels = drop_name(s.labels)
        idx = np.flatnonzero(s.present)
        points = [(float(seconds[i]), float(s.values[i])) for i in idx.tolist()]
        out.append({"name": s.labels.get("__name__", query), "labels": labels, "points": points})
    return out
