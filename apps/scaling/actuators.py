"""Actuators: how a decision reaches the world. Each is retried; each reports.

- celery:  the Celery worker pool size, through remote control (pool_grow/pool_shrink),
           verified by reading inspect().stats() back.
- webhook: a signed JSON POST to an external orchestrator (HMAC-SHA256 of
           "<timestamp>.<body>" in X-WedSync-Signature).
- gauges:  wedsync_desired_capacity / wedsync_current_capacity on /metrics for a KEDA
           Prometheus scaler (set last, with the outcome of the others).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from apps.core import jobs
from apps.core.webhooks import WebhookError, post_json
from apps.scaling import conf

log = logging.getLogger(__name__)


class ActuatorError(Exception):
    pass


@dataclass(frozen=True)
class Order:
    """What an actuator is asked to do."""

    pool: str
    desired_units: int
    current_units: int
    decision_id: int | None
    rule: str
    reason: str
    decided_at: str
    webhook_url: str = ""
    webhook_secret: str = ""


@dataclass
class ActuatorReport:
    actuator: str
    ok: bool
    attempts: int
    error: str = ""
    observed_units: int | None = None

    def as_dict(self) -> dict:
        return {
            "actuator": self.actuator,
            "ok": self.ok,
            "attempts": self.attempts,
            "error": self.error,
            "observed_units": self.observed_units,
        }


# --- Celery worker pool -----------------------------------------------------------


def _celery_app():
    return jobs.app()


def celery_pool_sizes(destination: list[str] | None = None, timeout: float = 1.0) -> dict[str, int]:
    """Processes per worker, as the workers themselves report them."""
    stats = _celery_app().control.inspect(destination=destination, timeout=timeout).stats() or {}
    return {host: len(s.get("pool", {}).get("processes", [])) for host, s in stats.items()}


def split_units(total: int, hosts: list[str]) -> dict[str, int]:
    """Spread units over workers as evenly as possible (each keeps at least one process)."""
    hosts = sorted(hosts)
    base, extra = divmod(max(total, len(hosts)), len(hosts))
    return {h: base + (1 if i < extra else 0) for i, h in enumerate(hosts)}


def apply_celery(order: Order, verify_seconds: float = 8.0) -> int:
    """Grow or shrink the workers' pools to order.desired_units processes in total."""
    app = _celery_app()
    sizes = celery_pool_sizes(conf.celery_destination())
    if not sizes:
        raise ActuatorError("no Celery worker answered inspect().stats()")
    targets = split_units(order.desired_units, list(sizes))
    for host, have in sizes.items():
        want = targets[host]
        if want == have:
            continue
        command = app.control.pool_grow if want > have else app.control.pool_shrink
        replies = command(abs(want - have), destination=[host], reply=True, timeout=2.0)
        answered = any(host in r for r in replies or [])
        if not answered:
            raise ActuatorError(f"worker {host} did not answer {command.__name__}")
        for r in replies:
            if host in r and "error" in r[host]:
                raise ActuatorError(f"worker {host}: {r[host]['error']}")
    # Processes start asynchronously: read the pool back until it matches.
    deadline = time.monotonic() + verify_seconds
    while True:
        sizes = celery_pool_sizes(list(targets))
        total = sum(sizes.values())
        if all(sizes.get(h) == n for h, n in targets.items()):
            return total
        if time.monotonic() > deadline:
            raise ActuatorError(f"pool sizes {sizes} did not reach {targets}")
        time.sleep(0.2)


# --- signed webhook -------------------------------------------------------------------


def webhook_body(order: Order) -> bytes:
    return json.dumps(
        {
            "pool": order.pool,
            "desired_units": order.desired_units,
            "current_units": order.current_units,
            "decision_id": order.decision_id,
            "rule": order.rule,
            "reason": order.reason,
            "decided_at": order.decided_at,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def apply_webhook(order: Order) -> int | None:
    if not order.webhook_url or not order.webhook_secret:
        raise ActuatorError("webhook URL or secret missing")
    try:
        payload = post_json(
            order.webhook_url,
            webhook_body(order),
            timeout=conf.webhook_timeout_seconds(),
            secret=order.webhook_secret,
            user_agent="wedsync-ops-scaling/1",
        )
    except WebhookError as exc:
        if exc.status is not None:
            raise ActuatorError(f"webhook answered HTTP {exc.status}") from exc
        raise ActuatorError(f"webhook unreachable: {exc}") from exc
    # The orchestrator may tell us what it now runs; otherwise trust the 2xx.
    try:
        reported = json.loads(payload or b"{}").get("current_units")
        return int(reported) if reported is not None else None
    except (ValueError, AttributeError, TypeError):
        return None


# --- gauges -------------------------------------------------------------------------


def set_gauges(pool: str, desired: int, current: int) -> None:
    from apps.core import metrics

    metrics.desired_capacity.labels(pool=pool).set(desired)
    metrics.current_capacity.labels(pool=pool).set(current)


# --- registry and retry ----------------------------------------------------------------

ACTUATORS: dict[str, Callable[[Order], int | None]] = {
    "celery": apply_celery,
    "webhook": apply_webhook,
}


def run_with_retry(name: str, order: Order) -> ActuatorReport:
    attempts = conf.actuator_attempts()
    backoff = conf.actuator_backoff_seconds()
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            observed = ACTUATORS[name](order)
            return ActuatorReport(name, True, attempt, observed_units=observed)
        except Exception as exc:  # any failure is retried, then reported on the decision
            error = str(exc) or exc.__class__.__name__
            log.warning("actuator %s attempt %d/%d failed: %s", name, attempt, attempts, error)
            if attempt < attempts:
                time.sleep(backoff * 2 ** (attempt - 1))
    return ActuatorReport(name, False, attempts, error=error)
