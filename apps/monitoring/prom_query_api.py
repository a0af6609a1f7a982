"""The Prometheus HTTP query API under /prometheus/api/v1/ (what Grafana's Prometheus
datasource calls): Prometheus's envelope, error types and status codes."""

from __future__ import annotations

import math
import time
from datetime import datetime

import numpy as np
import orjson
import promql_parser as pp
from django.db import DatabaseError
from django.http import HttpResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from apps.accounts.permissions import OperatorAction
from apps.monitoring import conf
from apps.monitoring.models import Series
from apps.monitoring.prom_auth import PrometheusClientAuthentication
from apps.monitoring.promql import engine, storage
from apps.monitoring.promql.engine import PromQLError, Scalar

STATUS = {"bad_data": 400, "execution": 422, "timeout": 503, "internal": 500}
VERSION = "2.42.0"  # the Prometheus API level answered (Grafana picks features by it)


def _json(payload: dict, status: int = 200) -> HttpResponse:
    body = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
    return HttpResponse(body, status=status, content_type="application/json")


def success(data) -> HttpResponse:
    return _json({"status": "success", "data": data})


def failure(kind: str, message: str) -> HttpResponse:
    return _json({"status": "error", "errorType": kind, "error": message}, STATUS[kind])


def fmt(value: float) -> str:
    """A sample value as Prometheus writes it ("NaN", "+Inf", shortest decimal)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def parse_time(raw: str | None, default: float | None, name: str) -> float:
    if raw in (None, ""):
        if default is None:
            raise PromQLError(f'invalid parameter "{name}": missing')
        return default
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise PromQLError(
            f'invalid parameter "{name}": cannot parse "{raw}" to a valid timestamp'
        ) from None


def parse_step(raw: str | None) -> float:
    if raw in (None, ""):
        raise PromQLError('invalid parameter "step": missing')
    try:
        step = float(raw)
    except ValueError:
        try:
            step = pp.parse_duration(raw).total_seconds()
        except Exception:
            raise PromQLError(
                f'invalid parameter "step": cannot parse "{raw}" to a valid duration'
            ) from None
    if step <= 0:
        raise PromQLError(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    return step


class PromView(APIView):
    authentication_classes = [PrometheusClientAuthentication, SessionAuthentication]
    # Operators read; a form POST is a read too (Grafana POSTs long queries).
    permission_classes = [OperatorAction]
    schema = None  # Prometheus's own API: documented by Prometheus

    def params(self, request):
        if request.method == "POST":
            merged = request.query_params.copy()
            for key in request.data:
                merged.setlist(key, request.data.getlist(key))
            return merged
        return request.query_params

    def get(self, request, **kwargs):
        try:
            return self.answer(self.params(request), **kwargs)
        except PromQLError as exc:
            return failure(exc.kind, str(exc))
        except DatabaseError:
            raise  # 503 + Retry-After from the API's exception handler

    def post(self, request, **kwargs):
        return self.get(request, **kwargs)


def _vector(steps, result, index: int) -> list[dict]:
    ts = steps[index] / 1000.0
    return [
        {"metric": s.labels, "value": [ts, fmt(s.values[index])]}
        for s in result
        if s.present[index]
    ]


class QueryView(PromView):
    def answer(self, params):
        at = parse_time(params.get("time"), time.time(), "time")
        query = params.get("query") or ""
        if isinstance(engine.parse(query), pp.MatrixSelector):
            return success({"resultType": "matrix", "result": _range_selector(query, at)})
        steps, result = engine.evaluate(query, at, at, 1.0)
        if isinstance(result, Scalar):
            return success({"resultType": "scalar", "result": [at, fmt(result.values[0])]})
        if isinstance(result, str):
            return success({"resultType": "string", "result": [at, result]})
        return success({"resultType": "vector", "result": _vector(steps, result, 0)})


def _range_selector(query: str, at: float) -> list[dict]:
    node = engine.parse(query)
    ev = engine.Evaluator(int(round(at * 1000)), int(round(at * 1000)), 1)
    range_ms = int(node.range.total_seconds() * 1000)
    stored, offset = ev._fetch(node.vector_selector, range_ms)
    ref = int(ev.steps[0]) - offset
    out = []
    for s in stored:
        keep = (~s.stale) & (s.ts >= ref - range_ms) & (s.ts <= ref)
        if keep.any():
            values = [[t / 1000.0, fmt(v)] for t, v in zip(s.ts[keep], s.values[keep], strict=True)]
            out.append({"metric": s.labels, "values": values})
    return out


class QueryRangeView(PromView):
    def answer(self, params):
        start = parse_time(params.get("start"), None, "start")
        end = parse_time(params.get("end"), None, "end")
        step = parse_step(params.get("step"))
        if end < start:
            raise PromQLError(
                'invalid parameter "end": end timestamp must not be before start time'
            )
        if (end - start) / step > conf.PROMQL_MAX_POINTS:
            raise PromQLError(
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        steps, result = engine.evaluate(params.get("query") or "", start, end, step)
        seconds = steps / 1000.0
        if isinstance(result, Scalar):
            result = [engine.Series({}, result.values, np.ones(len(steps), dtype=bool))]
        if isinstance(result, str):
            raise PromQLError(
                'invalid expression type "string" for range query, must be Scalar or instant Vector'
            )
        matrix = []
        for s in result:
            idx = np.flatnonzero(s.present)
            matrix.append(
                {
                    "metric": s.labels,
                    "values": [[seconds[i], fmt(s.values[i])] for i in idx.tolist()],
                }
            )
        return success({"resultType": "matrix", "result": matrix})


def _matched_series(params) -> list[Series]:
    """Series named by match[] selectors (all series without any)."""
    selectors = params.getlist("match[]")
    if not selectors:
        return list(Series.objects.only("id", "name", "labels"))
    found: dict[int, Series] = {}
    for raw in selectors:
        node = engine.parse(raw)
        if not isinstance(node, pp.VectorSelector):
            raise PromQLError(f'invalid parameter "match[]": {raw!r} is not a series selector')
        matchers = [(m.name, engine._OPS[str(m.op)], m.value) for m in node.matchers.matchers]
        for s in storage.select_series(node.name, matchers):
            found[s.id] = s
    return list(found.values())


def _with_name(s: Series) -> dict[str, str]:
    return s.labels if "__name__" in s.labels else {"__name__": s.name, **s.labels}


class SeriesView(PromView):
    def answer(self, params):
        if not params.getlist("match[]"):
            raise PromQLError("no match[] parameter provided")
        return success([_with_name(s) for s in _matched_series(params)])


class LabelsView(PromView):
    def answer(self, params):
        names = {"__name__"}
        for s in _matched_series(params):
            names.update(s.labels)
        return success(sorted(names))


class LabelValuesView(PromView):
    def answer(self, params, name: str):
        if name == "__name__" and not params.getlist("match[]"):
            return success(
                list(Series.objects.order_by("name").values_list("name", flat=True).distinct())
            )
        values = {_with_name(s).get(name) for s in _matched_series(params)}
        values.discard(None)
        return success(sorted(values))


class MetadataView(PromView):
    def answer(self, params):
        # Samples arrive without metadata (remote write 1.0 sends it apart): say what the
        # naming conventions imply, as Grafana only uses it for hints.
        wanted = params.get("metric")
        names = Series.objects.order_by("name").values_list("name", flat=True).distinct()
        if wanted:
            names = names.filter(name=wanted)
        data = {}
        for name in names:
            kind = "counter" if name.endswith("_total") else "unknown"
            data[name] = [{"type": kind, "help": "", "unit": ""}]
        return success(data)


class BuildInfoView(PromView):
    def answer(self, params):
        return success(
            {
                "version": VERSION,
                "revision": "wedsync-ops",
                "branch": "main",
                "buildUser": "wedsync-ops",
                "buildDate": "",
                "goVersion": "",
            }
        )


class EmptyView(PromView):
    """rules, alerts and query_exemplars: none are kept here."""

    shapes = {"rules": {"groups": []}, "alerts": {"alerts": []}, "query_exemplars": []}

    def answer(self, params, kind: str):
        return success(self.shapes[kind])
