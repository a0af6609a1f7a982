"""Time windows from query parameters: ?range=1h, or ?start=&end= (unix seconds or ISO 8601)."""

from __future__ import annotations

import time
from datetime import datetime

from apps.dashboards.models import RANGE_SECONDS

MAX_WINDOW = 31 * 86400


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


def resolve(params: dict, default: str = "1h", now: float | None = None) -> tuple[float, float]:
    now = time.time() if now is None else now
    start_raw, end_raw = params.get("start"), params.get("end")
    if start_raw or end_raw:
        if not (start_raw and end_raw):
            raise RangeError(
                "start" if not start_raw else "end", "custom ranges need both start and end."
            )
        start, end = _instant(start_raw, "start"), _instant(end_raw, "end")
        if end <= start:
            raise RangeError("end", "must be after start.")
        if end - start > MAX_WINDOW:
            raise RangeError("start", "a window may span at most 31 days.")
        return start, end
    key = params.get("range") or default
    if key not in RANGE_SECONDS:
        raise RangeError("range", f"must be one of {', '.join(RANGE_SECONDS)}.")
    return now - RANGE_SECONDS[key], now
