"""Celery tasks: thin wrappers."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="realtime.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    from apps.realtime.publish import relay

    return relay()
