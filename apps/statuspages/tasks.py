"""Celery tasks: thin wrappers around notify.py."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="statuspages.notify_pass", ignore_result=True)
def notify_pass() -> dict:
    from apps.statuspages.notify import notify_pass as run

    return run()


@shared_task(name="statuspages.send_confirmation", ignore_result=True)
def send_confirmation(subscriber_id: int) -> bool:
    from apps.statuspages.notify import send_confirmation as run

    return run(subscriber_id)
