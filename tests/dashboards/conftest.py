"""Fixtures of the dashboards tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def sample_doc() -> dict:
    """An exported dashboard document with one widget of each kind."""
    return {
        "format": "wedsync-dashboard/1",
        "name": "Gateway on call",
        "slug": "gateway-on-call",
        "description": "What the gateway on-call watches",
        "shared": True,
        "default_range": "6h",
        "tags": ["gateway", "oncall"],
        "widgets": [
            {
                "kind": "metric",
                "title": "Connections",
                "queries": [{"name": "wedsync_gateway_connections", "matchers": {}, "agg": "last"}],
                "thresholds": {"warn": 4000, "crit": 4800, "direction": "above"},
                "unit": "",
                "width": 3,
                "height": 2,
            },
            {
                "kind": "chart",
                "title": "Latency",
                "queries": [
                    {"name": "wedsync_gateway_latency_ms", "matchers": {}, "agg": "avg"},
                ],
                "thresholds": {"warn": 150, "crit": 300},
                "unit": "ms",
                "width": 6,
                "height": 3,
            },
            {"kind": "alert", "title": "Alerts", "width": 3, "height": 3},
            {"kind": "status", "title": "Status", "width": 12, "height": 2},
        ],
    }
