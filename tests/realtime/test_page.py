"""The Gateway page as an operator sees it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.conftest import login, screenshot
from tests.realtime.conftest import Client, make_world


def hold_connections(ws_url: str, token: str, topic: str, n: int) -> threading.Event:
    """n real clients on a thread of their own (Playwright owns this thread's loop)."""
    ready, done = threading.Event(), threading.Event()

    async def main():
        clients = [await Client.connect(ws_url, token) for _ in range(n)]
        await clients[0].subscribe([topic])
        ready.set()
        while not done.is_set():
            await asyncio.sleep(0.1)
        for c in clients:
            await c.close()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    assert ready.wait(10)
    return done


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_gateway_page_shows_live_connections(daphne, page, operator_user):
    ctx = make_world("Page studio")
    done = hold_connections(daphne.ws_url, ctx.token, f"wedding:{ctx.weddings[0].pk}", 3)
    try:
        login(page, daphne.url, operator_user.username)
        page.goto(f"{daphne.url}/realtime/")
        assert page.locator("nav a[aria-current=page]").inner_text() == "Gateway"
        # The page refreshes itself every 2 s from the health API.
        page.wait_for_function(
            "document.querySelector('[data-key=connections]').textContent.trim() === '3'",
            timeout=8000,
        )
        # Supplier | Connections | Quota: the supplier by name, its 3 connections.
        cells = page.locator("#gw-suppliers tbody tr").first.locator("td")
        assert "Page studio" in cells.nth(0).inner_text()
        assert cells.nth(1).inner_text().strip() == "3"
        assert "closed" in page.locator("[data-key=breaker]").inner_text()
        screenshot(page, "realtime-gateway")
    finally:
        done.set()
