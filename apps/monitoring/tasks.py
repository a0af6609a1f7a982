"""Celery tasks: thin wrappers, each safe to run twice or on two workers at once."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="monitoring.rollup")
def rollup_task() -> dict:
    from apps.monitoring.rollups import rollup_all

    return rollup_all()


@shared_task(name="monitoring.retention")
def retention_task() -> dict:
    from apps.monitoring.rollups import apply_retention

    return apply_retention()


@shared_task(name="monitoring.scrape_due")
def scrape_due_task() -> int:
    from apps.monitoring.scrape import scrape_due

    return scrape_due()


@shared_task(name="monitoring.collect")
def collect_task() -> int | None:
    from apps.monitoring.collect import collect_if_due

    return collect_if_due()
