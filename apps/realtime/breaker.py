"""A circuit breaker around Redis: closed -> open after N consecutive failures ->
half-open after a pause (one probe) -> closed on success, open again on failure."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        failures: int = 3,
        reset_s: float = 1.0,
        on_change: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name = name
        self.threshold = failures
        self.reset_s = reset_s
        self.on_change = on_change
        self.clock = clock
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self.opened_total = 0
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self.clock() - self._opened_at >= self.reset_s:
                return HALF_OPEN
            return self._state

    @property
    def is_open(self) -> bool:
        """True while calls should not be tried (open, or half-open with a probe out)."""
        return not self.allow(consume=False)

    def allow(self, consume: bool = True) -> bool:
        """May a Redis call be tried now? In half-open, only one probe at a time."""
        with self._lock:
            if self._state == CLOSED:
                return True
            if self._state == OPEN and self.clock() - self._opened_at < self.reset_s:
                return False
            if self._probing:
                return False
            if consume:
                self._probing = True
                self._set(HALF_OPEN)
            return True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._probing = False
            self._set(CLOSED)

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._probing = False
            if self._state == HALF_OPEN or self._failures >= self.threshold:
                if self._state != OPEN:
                    self.opened_total += 1
                self._opened_at = self.clock()
                self._set(OPEN)

    def _set(self, state: str) -> None:
        old, self._state = self._state, state
        if old != state and self.on_change is not None:
            self.on_change(self.name, state)


def _export(name: str, state: str) -> None:
    from apps.core.metrics import gateway_breaker_open

    gateway_breaker_open.labels(breaker=name).set(1 if state == OPEN else 0)
    if state != HALF_OPEN:  # half-open probes come every reset_s while Redis is away
        logging.getLogger(__name__).warning("circuit breaker %s: %s", name, state)


def _make_redis_breaker() -> CircuitBreaker:
    from apps.realtime.conf import conf

    cfg = conf()
    breaker = CircuitBreaker("redis", cfg.breaker_failures, cfg.breaker_reset_s, on_change=_export)
    # Exposed from the start (0: closed), not only after its first change: a dashboard or
    # an alert on it must not read "no data" as "fine".
    from apps.core.metrics import gateway_breaker_open

    gateway_breaker_open.labels(breaker="redis").set(0)
    return breaker


# One per process: the hub (async) and publish() (sync threads) share what they learn.
redis_breaker = _make_redis_breaker()
