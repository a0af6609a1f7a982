"""Post-processing of the OpenAPI schema (drf-spectacular)."""

from __future__ import annotations

# "HH:MM[:SS[.ffffff]]": a wall-clock time at the venue or in the window's own timezone.
LOCAL_TIME_PATTERN = r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"


def local_times(result: dict, generator, request, public) -> dict:
    """Describe DRF TimeFields as local times, not RFC 3339 `time`.

    OpenAPI's `format: time` is RFC 3339 full-time, which requires a UTC offset; our times
    ("ceremony at 14:00", "maintenance from 02:00") are local on purpose and carry none.
    Schemathesis rightly flagged "00:00:00" as not a `time` (tests/proof/test_fuzz_api.py).
    """

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and node.get("format") == "time":
                node.pop("format")
                node["pattern"] = LOCAL_TIME_PATTERN
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
