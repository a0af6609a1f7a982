"""Celery tasks of the cache: thin wrappers around apps.caching.warming."""

from __future__ import annotations

from celery import shared_task

from apps.caching.warming import HORIZON_HOURS, warm_upcoming


@shared_task(name="caching.warm_upcoming", ignore_result=False)
def warm_upcoming_task(hours: float = HORIZON_HOURS) -> dict:
    """Load the bundles of weddings live or starting within `hours` (hourly)."""
    return warm_upcoming(hours=hours)
