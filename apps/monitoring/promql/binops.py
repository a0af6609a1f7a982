"""PromQL binary operators: arithmetic, comparisons (filtering or `bool`), set operators,
with Prometheus's vector matching (on/ignoring, group_left/group_right)."""

from __future__ import annotations

import numpy as np

ARITHMETIC = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,  # Go's math.Mod: the sign of the dividend
    "^": np.power,
    "atan2": np.arctan2,
}
COMPARISON = {
    "==": np.equal,
    "!=": np.not_equal,
    ">": np.greater,
    "<": np.less,
    ">=": np.greater_equal,
    "<=": np.less_equal,
}
SET = ("and", "or", "unless")


def _apply(op: str, a, b):
    with np.errstate(all="ignore"):
        if op in ARITHMETIC:
            return ARITHMETIC[op](a, b)
        return COMPARISON[op](a, b)


def binary(op: str, lhs, rhs, modifier):
    from apps.monitoring.promql.engine import PromQLError, Scalar, Series, drop_name

    return_bool = bool(modifier and modifier.return_bool)
    comparison = op in COMPARISON
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        result = _apply(op, lhs.values, rhs.values)
        return Scalar(result.astype(float))
    if isinstance(lhs, Scalar) or isinstance(rhs, Scalar):
        if op in SET:
            raise PromQLError(f"set operator {op!r} needs vectors on both sides")
        swap = isinstance(lhs, Scalar)
        scalar, vector = (lhs, rhs) if swap else (rhs, lhs)
        out = []
        for s in vector:
            a, b = (scalar.values, s.values) if swap else (s.values, scalar.values)
            result = _apply(op, a, b)
            if comparison and return_bool:
                out.append(Series(drop_name(s.labels), result.astype(float), s.present))
            elif comparison:
                keep = s.present & result
                if keep.any():
                    out.append(Series(s.labels, np.where(keep, s.values, np.nan), keep))
            else:
                out.append(Series(drop_name(s.labels), result, s.present))
        return out
    if op in SET:
        return _set_op(op, lhs, rhs, modifier)
    return _vector_vector(op, lhs, rhs, modifier, comparison, return_bool)


def _signature(labels: dict[str, str], matching) -> tuple:
    if matching is not None and str(matching.type).endswith("Include"):
        return tuple((k, labels.get(k, "")) for k in sorted(matching.labels))
    ignored = set(matching.labels) if matching is not None else set()
    ignored.add("__name__")
    return tuple(sorted((k, v) for k, v in labels.items() if k not in ignored))


def _set_op(op: str, lhs, rhs, modifier):
    from apps.monitoring.promql.engine import Series

    matching = modifier.matching if modifier else None
    steps = len(lhs[0].present) if lhs else (len(rhs[0].present) if rhs else 0)

    def presence(side) -> dict[tuple, np.ndarray]:
        found: dict[tuple, np.ndarray] = {}
        for s in side:
            sig = _signature(s.labels, matching)
            found[sig] = found.get(sig, np.zeros(steps, dtype=bool)) | s.present
        return found

    out = []
    if op in ("and", "unless"):
        right = presence(rhs)
        none = np.zeros(steps, dtype=bool)
        for s in lhs:
            there = right.get(_signature(s.labels, matching), none)
            keep = s.present & (there if op == "and" else ~there)
            if keep.any():
                out.append(Series(s.labels, np.where(keep, s.values, np.nan), keep))
        return out
    left = presence(lhs)
    none = np.zeros(steps, dtype=bool)
    out = list(lhs)
    for s in rhs:
        keep = s.present & ~left.get(_signature(s.labels, matching), none)
        if keep.any():
            out.append(Series(s.labels, np.where(keep, s.values, np.nan), keep))
    return out


def _vector_vector(op, lhs, rhs, modifier, comparison, return_bool):
    from apps.monitoring.promql.engine import PromQLError, Series

    matching = modifier.matching if modifier else None
    card = str(modifier.card) if modifier else "VectorMatchCardinality.OneToOne"
    include = list(modifier.group_labels or []) if modifier else []
    one_to_many = card.endswith("OneToMany")
    many, one = (rhs, lhs) if one_to_many else (lhs, rhs)
    steps = len(many[0].present) if many else 0
    # The "one" side: per signature, its value where exactly one series is present.
    ones: dict[tuple, list] = {}
    for s in one:
        ones.setdefault(_signature(s.labels, matching), []).append(s)
    out = []
    for s in many:
        sig = _signature(s.labels, matching)
        partners = ones.get(sig)
        if not partners:
            continue
        count = np.sum([p.present for p in partners], axis=0)
        if (count > 1).any():
            raise PromQLError(
                "found duplicate series for the match group on the right-hand side of the "
                f"operation: many-to-many matching not allowed ({dict(sig)})",
                kind="execution",
            )
        other = np.sum([np.where(p.present, p.values, 0.0) for p in partners], axis=0)
        present = s.present & (count == 1)
        if not present.any():
            continue
        left, right = (other, s.values) if one_to_many else (s.values, other)
        result = _apply(op, left, right)
        labels = _result_labels(s.labels, partners, matching, card, include, op, return_bool)
        if comparison and not return_bool:
            present = present & result
            values = left
        else:
            values = result.astype(float)
        if present.any():
            out.append(Series(labels, np.where(present, values, np.nan), present))
    _check_unique(out, steps)
    return out


def _result_labels(labels, partners, matching, card, include, op, return_bool) -> dict:
    result = dict(labels)
    if op not in COMPARISON or return_bool:
        result.pop("__name__", None)
    if card.endswith("OneToOne") and matching is not None:
        if str(matching.type).endswith("Include"):
            result = {k: v for k, v in result.items() if k in set(matching.labels)}
        else:
            for k in matching.labels:
                result.pop(k, None)
    for k in include:
        value = partners[0].labels.get(k, "")
        if value:
            result[k] = value
        else:
            result.pop(k, None)
    return result


def _check_unique(out, steps: int) -> None:
    from apps.monitoring.promql.engine import PromQLError, label_key

    seen: dict[tuple, np.ndarray] = {}
    for s in out:
        key = label_key(s.labels)
        if key in seen and (seen[key] & s.present).any():
            raise PromQLError(
                "vector cannot contain metrics with the same labelset", kind="execution"
            )
        seen[key] = seen.get(key, np.zeros(steps, dtype=bool)) | s.present
