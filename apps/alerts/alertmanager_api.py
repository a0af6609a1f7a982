"""/alertmanager/api/v2/alerts: Alertmanager's API as Prometheus calls it (thin views)."""

from __future__ import annotations

import orjson
from django.http import HttpResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from apps.accounts.roles import is_operator
from apps.alerts import alertmanager, conf
from apps.alerts.suppression import Suppressions
from apps.monitoring.permissions import can_ingest
from apps.monitoring.prom_auth import PrometheusClientAuthentication

ZERO = alertmanager.ZERO_TIME


class Overloaded(APIException):
    # Alertmanager clients retry 5xx and drop 4xx: overload must be a 503, never a 429.
    status_code = 503
    default_detail = "Too many alert posts; retry shortly."
    default_code = "overloaded"


class AlertsThrottle(UserRateThrottle):
    scope = "alertmanager"
    rate = conf.ALERTMANAGER_THROTTLE


def _json(payload, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(payload), status=status, content_type="application/json")


def _iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z") if dt else ZERO


class AlertsView(APIView):
    authentication_classes = [PrometheusClientAuthentication, SessionAuthentication]
    throttle_classes = [AlertsThrottle]
    schema = None  # Alertmanager's own API (api/v2/openapi.yaml)

    def get_throttles(self):
        return [AlertsThrottle()] if self.request.method == "POST" else []

    def throttled(self, request, wait):
        exc = Overloaded()
        exc.wait = wait
        raise exc

    def check_permissions(self, request):
        # Senders (metric-ingesters) post and may read back what they sent; operators read.
        user = request.user
        allowed = can_ingest(user) or (request.method == "GET" and is_operator(user))
        if not allowed:
            self.permission_denied(
                request,
                message="Posting alerts needs an admin or a metric-ingesters token; "
                "reading them, an operator.",
            )

    def post(self, request):
        try:
            payload = orjson.loads(request.body or b"null")
        except orjson.JSONDecodeError as exc:
            return _json({"code": 400, "message": f"body is not JSON: {exc}"}, 400)
        try:
            alerts = alertmanager.parse(payload)
        except alertmanager.IntakeError as exc:
            return _json({"code": 400, "message": str(exc), "errors": exc.errors}, 400)
        alertmanager.receive(alerts)
        return HttpResponse(status=200)

    def get(self, request):
        from django.utils import timezone

        now = timezone.now()
        suppressions = Suppressions(now)
        out = []
        for alert in alertmanager.active(now):
            ext = getattr(alert, "external", None)
            reason = suppressions.reason(alert.rule, alert.labels)
            out.append(
                {
                    "labels": {**alert.labels, "alertname": alert.rule.name},
                    "annotations": ext.annotations if ext else {},
                    "startsAt": _iso(ext.starts_at if ext and ext.starts_at else alert.started_at),
                    "endsAt": _iso(ext.ends_at if ext else None),
                    "updatedAt": _iso(alert.updated_at),
                    "generatorURL": ext.generator_url if ext else "",
                    "fingerprint": alert.fingerprint[:16],
                    "receivers": [{"name": "wedsync"}],
                    "status": {
                        "state": "suppressed" if reason or alert.acknowledged else "active",
                        "silencedBy": [reason] if reason else [],
                        "inhibitedBy": [],
                    },
                }
            )
        return _json(out)
