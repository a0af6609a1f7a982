"""What every backend process enforces behind the proxy: API throttles
(apps.core.throttling.py: one counter per user and window, shared through Redis) and
trusting X-Forwarded-* only from the proxy (FrontDoorMiddleware)."""

from __future__ import annotations

import time

import pytest

from tests.proof.helpers import http_request

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_user_over_the_rate_gets_429_with_retry_after_on_every_process(start_daphne, make_user):
    from rest_framework.authtoken.models import Token

    env = {"THROTTLE_USER": "5/min"}
    a, b = start_daphne(env), start_daphne(env)
    busy = {"Authorization": f"Token {Token.objects.create(user=make_user('busy')).key}"}
    calm = {"Authorization": f"Token {Token.objects.create(user=make_user('calm')).key}"}
    # Fixed one-minute windows: start well inside one, so the six requests share it.
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)
    statuses = []
    for i in range(6):
        server = (a, b)[i % 2]  # the count is global: alternate between the processes
        status, headers, _ = http_request(server.url, "GET", "/api/v1/whoami/", headers=busy)
        statuses.append(status)
    assert statuses == [200] * 5 + [429], statuses
    assert 0 < int(headers["retry-after"]) <= 60
    # Another user has a count of their own.
    assert http_request(a.url, "GET", "/api/v1/whoami/", headers=calm)[0] == 200


def test_a_client_reaching_a_backend_directly_cannot_claim_https(start_daphne):
    """X-Forwarded-Proto counts only from TRUSTED_PROXIES: from anyone else it is dropped,
    so with HTTPS on, a plain-HTTP request is still redirected to https."""
    untrusting = start_daphne({"HTTPS": "true", "TRUSTED_PROXIES": "192.0.2.1"})
    trusting = start_daphne({"HTTPS": "true"})  # 127.0.0.1 is the proxy's address
    claim = {"X-Forwarded-Proto": "https"}
    status, headers, _ = http_request(untrusting.url, "GET", "/api/v1/whoami/", headers=claim)
    assert status == 301 and headers["location"].startswith("https://"), (status, headers)
    status, _, _ = http_request(trusting.url, "GET", "/api/v1/whoami/", headers=claim)
    assert status == 401  # served (and refused for want of a token), not redirected
