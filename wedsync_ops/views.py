"""Process-level endpoints: health, readiness, metrics, and the home page."""

from __future__ import annotations

import asyncio
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core import metrics
from wedsync_ops import shutdown


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    # A SIGTERMed front process fails its health check first, so the proxy stops sending
    # it new work while it finishes what it has (wedsync_ops/shutdown.py).
    if shutdown.draining():
        return JsonResponse({"status": "draining"}, status=503)
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "readyz.probe", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned a different message")


def _check_channel_layer() -> None:
    async_to_sync(_layer_round_trip)()


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    checks: dict[str, dict] = {}
    probes = [("database", _check_database), ("channel_layer", _check_channel_layer)]
    if settings.REDIS_URL:
        probes.insert(1, ("redis", _check_redis))
    else:
        checks["redis"] = {"ok": True, "detail": "not configured (embedded default)"}
    for name, probe in probes:
        started = time.perf_counter()
        try:
            probe()
            checks[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
        except Exception as exc:  # any failure is reported, never raised
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ready" if not failed else "unavailable", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


@require_GET
@never_cache
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    payload, content_type = metrics.exposition()
    return HttpResponse(payload, content_type=content_type)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from wedsync_ops.overview import overview

    return render(request, "home.html", {"overview": overview()})
