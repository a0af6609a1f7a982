"""Metrics the monitor collects from the calendar (every 5 s, 1 s while a wedding is live)."""

from __future__ import annotations

from apps.weddings.live import live_counts_by_region


def collect() -> list[dict]:
    """wedsync_weddings_live{region}: weddings in wedding-day mode per region (0 included,
    so a chart shows a region going quiet rather than a gap)."""
    return [
        {"name": "wedsync_weddings_live", "labels": {"region": code}, "value": float(n)}
        for code, n in sorted(live_counts_by_region().items())
    ]
