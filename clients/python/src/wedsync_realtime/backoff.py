"""The reconnect core, the same rules as the JavaScript SDK's (clients/js/src/backoff.js):
full-jitter exponential backoff inside the server's hint, and what each close code means."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Literal

DEFAULT_MIN_MS = 500
DEFAULT_MAX_MS = 20_000
_LONGEST_MS = 5 * 60 * 1000
_MAX_ATTEMPT = 30

CloseAction = Literal["stop", "slow", "restart", "retry"]


class Backoff:
    """A random delay in [0, min(max, min * 2**attempt)] (full jitter), in milliseconds."""

    def __init__(
        self,
        min_ms: float = DEFAULT_MIN_MS,
        max_ms: float = DEFAULT_MAX_MS,
        rand: Callable[[], float] = random.random,
    ):
        self.min_ms = float(min_ms)
        self.max_ms = max(self.min_ms, float(max_ms))
        self.rand = rand
        self.attempt = 0

    def hint(self, reconnect: object) -> None:
        """Adopt the server's hint ({"min_ms", "max_ms"}); anything malformed is ignored."""
        if not isinstance(reconnect, dict):
            return
        for key, attr in (("min_ms", "min_ms"), ("max_ms", "max_ms")):
            value = reconnect.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                if 0 < value <= _LONGEST_MS:
                    setattr(self, attr, float(value))
        self.max_ms = max(self.min_ms, self.max_ms)

    def next(self) -> float:
        cap = min(self.max_ms, self.min_ms * 2**self.attempt)
        self.attempt = min(self.attempt + 1, _MAX_ATTEMPT)
        return self.rand() * cap

    def longest(self) -> float:
        """The server said "not now" (4429, 1013, 1008): wait near the ceiling."""
        self.attempt = _MAX_ATTEMPT
        return self.max_ms * (0.5 + 0.5 * self.rand())

    def within(self, lo_ms: float, hi_ms: float) -> float:
        lo = max(0.0, min(lo_ms, _LONGEST_MS))
        hi = max(lo, min(hi_ms, _LONGEST_MS))
        return lo + self.rand() * (hi - lo)

    def reset(self) -> None:
        self.attempt = 0


def close_action(code: int | None) -> CloseAction:
    if code in (4401, 4403):
        return "stop"
    if code in (4429, 1013, 1008):
        return "slow"
    if code == 1012:
        return "restart"
    return "retry"


def restart_hint(reason: str | None) -> tuple[float, float] | None:
    """The [min, max] reconnect window a 1012 close carries in its reason, or None."""
    if not reason or len(reason) > 200:
        return None
    try:
        hint = json.loads(reason)["reconnect"]
        lo, hi = float(hint["min_ms"]), float(hint["max_ms"])
    except (ValueError, TypeError, KeyError):
        return None
    return (lo, hi) if 0 <= lo <= hi else None
