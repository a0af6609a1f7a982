"""Time windows from query parameters.

Three spellings, one meaning:
- ``?from=now-24h&to=now`` (Grafana's: relative to now, or absolute as epoch milliseconds
  or ISO 8601) — what the dashboard page keeps in its URL, so a link or a reload shows
  the same window;
- ``?range=1h`` (the presets);
- ``?start=&end=`` (unix seconds or ISO 8601).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

from apps.dashboards.models import RANGE_SECONDS

MAX_WINDOW = 31 * 86400
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
RELATIVE = re.compile(r"^now(?:-(\d{1,6})([smhdw]))?$")


class RangeError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _instant(raw: str, field: str) -> float:
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise RangeError(field, "must be unix seconds or an ISO 8601 date-time.") from None
    if parsed.tzinfo is None:
        raise RangeError(field, "needs a timezone (e.g. 2026-06-13T14:00:00Z).")
    return parsed.timestamp()


def _expr(raw: str, field: str, now: float) -> tuple[float, bool]:
    """(unix seconds, relative?) of one Grafana-style bound: now, now-6h, epoch ms, ISO."""
    match = RELATIVE.match(raw.strip())
    if match:
        amount, unit = match.groups()
        return now - (int(amount) * UNIT_SECONDS[unit] if amount else 0), True
    if raw.strip().isdigit():
        return int(raw) / 1000.0, False  # Grafana's absolute bounds are epoch milliseconds
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RangeError(
            field, "must be now, now-<n><s|m|h|d|w> (e.g. now-24h), epoch ms or ISO 8601."
        ) from None
    if parsed.tzinfo is None:
        raise RangeError(field, "needs a timezone (e.g. 2026-06-13T14:00:00Z).")
    return parsed.timestamp(), False


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    relative: bool  # moves with the clock (to=now): the page follows it live


def _checked(start: float, end: float, field: str = "end") -> tuple[float, float]:
    if end <= start:
        raise RangeError(field, "must be after start.")
    if end - start > MAX_WINDOW:
        raise RangeError("from" if field == "to" else "start", "a window may span at most 31 days.")
    return start, end


def window(params, default: str = "1h", now: float | None = None) -> Window:
    """The window a request asks for, whichever spelling it uses."""
    now = time.time() if now is None else now
    if params.get("from") or params.get("to"):
        start, rel_start = _expr(params.get("from") or f"now-{default}", "from", now)
        end, rel_end = _expr(params.get("to") or "now", "to", now)
        start, end = _checked(start, end, "to")
        return Window(start, end, rel_start and rel_end and end == now)
    start_raw, end_raw = params.get("start"), params.get("end")
    if start_raw or end_raw:
        if not (start_raw and end_raw):
            raise RangeError(
                "start" if not start_raw else "end", "custom ranges need both start and end."
            )
        start, end = _checked(_instant(start_raw, "start"), _instant(end_raw, "end"))
        return Window(start, end, False)
    key = params.get("range") or default
    if key not in RANGE_SECONDS:
        raise RangeError("range", f"must be one of {', '.join(RANGE_SECONDS)}.")
    return Window(now - RANGE_SECONDS[key], now, True)


def resolve(params, default: str = "1h", now: float | None = None) -> tuple[float, float]:
    w = window(params, default, now)
    return w.start, w.end
