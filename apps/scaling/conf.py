"""Settings of the scaling app, read from the environment (or Django settings)."""

from __future__ import annotations

import environ
from django.conf import settings

_env = environ.Env()


def _get(name: str, cast, default):
    if hasattr(settings, name):
        return getattr(settings, name)
    return getattr(_env, cast)(name, default=default)


def actuators_default() -> list[str]:
    """Actuators for a policy whose own list is empty."""
    return list(_get("SCALING_ACTUATORS", "list", ["gauges"]))


def tick_seconds() -> int:
    return int(_get("SCALING_TICK_SECONDS", "int", 30))


def tick_seconds_wedding_day() -> int:
    return int(_get("SCALING_TICK_WEDDING_DAY_SECONDS", "int", 15))


def celery_destination() -> list[str] | None:
    """Worker hostnames the Celery actuator sizes (empty: every worker that answers)."""
    return list(_get("SCALING_CELERY_DESTINATION", "list", [])) or None


def actuator_attempts() -> int:
    return int(_get("SCALING_ACTUATOR_ATTEMPTS", "int", 3))


def actuator_backoff_seconds() -> float:
    return float(_get("SCALING_ACTUATOR_BACKOFF", "float", 0.5))


def webhook_timeout_seconds() -> float:
    return float(_get("SCALING_WEBHOOK_TIMEOUT", "float", 3.0))


def history_weeks() -> int:
    """Weeks of history behind the same-hour-of-week baseline."""
    return int(_get("SCALING_HISTORY_WEEKS", "int", 4))


def min_history_hours() -> int:
    """Hours of the week (of 168) the history must cover before the forecast uses a
    baseline at all; below it, the forecast is the calendar's weddings alone."""
    return int(_get("SCALING_MIN_HISTORY_HOURS", "int", 84))


def messages_per_connection() -> float:
    """Message rate (per second) one wedding-day connection adds."""
    return float(_get("SCALING_MESSAGES_PER_CONNECTION", "float", 0.05))


def connections_per_guest() -> float:
    """Used when a wedding has no expected_connections of its own."""
    return float(_get("SCALING_CONNECTIONS_PER_GUEST", "float", 0.3))


def baseline_cache_seconds() -> int:
    return int(_get("SCALING_BASELINE_CACHE_SECONDS", "int", 600))


def observation_max_age_seconds() -> float:
    """A latest sample older than this is not an observation of the load now."""
    return float(_get("SCALING_OBSERVATION_MAX_AGE", "float", 120.0))
