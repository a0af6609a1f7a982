"""Fixtures of the monitoring tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def heard():
    """Every samples_ingested signal sent during the test (after commit)."""
    from apps.monitoring.signals import samples_ingested

    received: list[list[tuple]] = []

    def listener(sender, samples, **kwargs):
        received.append(samples)

    samples_ingested.connect(listener, weak=False)
    yield received
    samples_ingested.disconnect(listener)
