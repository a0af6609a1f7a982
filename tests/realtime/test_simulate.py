"""`manage.py simulate` drives real WebSocket clients and reports what they saw."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command

from tests.realtime.conftest import make_world


@pytest.mark.django_db(transaction=True)
def test_simulate_reports_connect_time_latency_and_errors(daphne):
    make_world("Sim studio", weddings=3)
    out = io.StringIO()

    def go():
        call_command(
            "simulate",
            clients=6,
            suppliers=1,
            rate=20,
            duration=4,
            ramp=0.5,
            url=daphne.ws_url,
            stdout=out,
        )

    with ThreadPoolExecutor(1) as pool:  # its own event loop, off Playwright's thread
        pool.submit(go).result()
    text = out.getvalue()
    assert "connect time" in text and "delivery latency" in text, text
    published = int(text.split("published ")[1].split(",")[0])
    received = int(text.split("received ")[1].split(" ")[0])
    assert published > 20
    # Six clients of the one supplier each get every message of its weddings.
    assert received >= published * 6 * 0.9, text
    assert "errors: none" in text, text


@pytest.mark.django_db
def test_simulate_refuses_nonsense_arguments():
    with pytest.raises(CommandError, match="--clients"):
        call_command("simulate", clients=0)
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("simulate", clients=1, suppliers=1, duration=1)
