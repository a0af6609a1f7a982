"""Hook evaluation onto monitoring's samples_ingested signal (sent after each committed batch)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def on_samples_ingested(sender=None, samples=None, **_: object) -> None:
    from apps.alerts.engine import on_samples

    if not samples:
        return
    try:
        on_samples(list(samples))
    except Exception:  # the batch is already stored; evaluation catches up on the next pass
        log.exception("alert evaluation after ingest failed")


def connect() -> None:
    from apps.monitoring.signals import samples_ingested

    samples_ingested.connect(on_samples_ingested, dispatch_uid="alerts.on_samples_ingested")
