"""Settings of the dashboards app (environment, with defaults that suit both run modes)."""

from __future__ import annotations

import environ
from django.conf import settings

env = environ.Env()


def live_transport() -> str:
    """How live samples reach the ops sockets.

    "hub" (full-stack default): one Redis PUBLISH per batch, one subscription per Daphne
    process, local writes. "groups": a Channels group per metric (the only choice without
    Redis; kept selectable in the full stack for comparison, see bench_dashboards)."""
    if not settings.REDIS_URL:
        return "groups"
    return env.str("DASHBOARDS_LIVE_TRANSPORT", default="hub")
