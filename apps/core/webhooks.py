"""One signed JSON POST for every outgoing webhook (alert notifications, scaling
actuators, status-page subscribers).

Receivers check ``X-WedSync-Signature: sha256=<hex>``, an HMAC-SHA256 over
``"<timestamp>.<body>"`` with their shared secret, and refuse a stale
``X-WedSync-Timestamp``. A 4xx answer is the receiver refusing the request (retrying
the same body will not help); a 5xx, a time-out or a refused connection may pass.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

SIGNATURE_HEADER = "X-WedSync-Signature"
TIMESTAMP_HEADER = "X-WedSync-Timestamp"


class WebhookError(Exception):
    """The POST did not get a 2xx. `permanent` when retrying the same body is pointless."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        # 408 (timeout) and 429 (slow down) are the receiver asking us to come back.
        return self.status is not None and 400 <= self.status < 500 and self.status not in (
            408,
            429,
        )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as ``sha256=<hex>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def post_json(
    url: str,
    body: bytes,
    *,
    timeout: float,
    secret: str = "",
    headers: Mapping[str, str] | None = None,
    user_agent: str = "WedSync-Ops/1",
    max_answer: int = 65536,
) -> bytes:
    """POST `body` (JSON bytes), signed when a secret is given; returns the answer's first
    `max_answer` bytes or raises WebhookError."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", user_agent)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if secret:
        timestamp = str(int(time.time()))
        request.add_header(TIMESTAMP_HEADER, timestamp)
        request.add_header(SIGNATURE_HEADER, sign(secret, timestamp, body))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read(max_answer)
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"HTTP {exc.code} from {url}", status=exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:  # TimeoutError is an OSError
        raise WebhookError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc
