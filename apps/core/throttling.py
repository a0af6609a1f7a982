"""API throttles that cost one cache round trip a request.

DRF's SimpleRateThrottle keeps the timestamp of every request of the last window in one
cache value and, per request, reads the whole list and writes it back: up to `rate`
entries (6,000 at the default 6000/min), tens of KB pickled each way. py-spy on a live
gunicorn worker put that at 45 % of the time of `GET /api/v1/whoami/`. Here each window
has one counter, incremented atomically in the cache (Redis INCR in the full stack).

A fixed window lets a client burst to twice its rate across a window boundary; these
throttles guard capacity, not billing, so that is an acceptable price. When the cache is
unreachable (django-redis ignores the error and answers None) a request is allowed, as
DRF's throttle does: a Redis outage must not turn the API off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import throttling

if TYPE_CHECKING:  # DRF loads the throttle classes while rest_framework.views is loading
    from rest_framework.request import Request
    from rest_framework.views import APIView


class WindowCounterThrottle(throttling.SimpleRateThrottle):
    """DRF's SimpleRateThrottle (rate, scope, cache key as DRF's) with a window counter."""

    num_requests: int  # set by DRF's __init__ from the rate
    duration: int
    now: float = 0.0
    window_ends_at: float = 0.0

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        key = f"{self.key}:w{window}"
        try:
            count = self.cache.incr(key)
        except ValueError:  # first request of the window
            if self.cache.add(key, 1, timeout=int(self.duration) + 1):
                count = 1
            else:  # another process created it first
                count = self.cache.incr(key)
        if count is None:  # the cache is away
            return True
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(0.0, self.window_ends_at - self.now)


class AnonRateThrottle(WindowCounterThrottle, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(WindowCounterThrottle, throttling.UserRateThrottle):
    pass
