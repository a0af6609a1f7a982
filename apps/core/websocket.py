"""Helpers shared by the WebSocket consumers."""

from __future__ import annotations

# Daphne (through autobahn, one of its requirements) raises Disconnected when the app
# sends on a dropped socket.
from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer


class QuietWhenDropped(AsyncWebsocketConsumer):
    """Base for our consumers (first among the bases): a send after the peer dropped is fine.

    When a client vanishes (or Daphne drops it for an over-size message) while replies to
    its earlier frames are still queued, Daphne raises `Disconnected` into the consumer.
    Uncaught, that logs a traceback and ends the consumer before `disconnect()` runs, so
    its group memberships leak. Swallowing it lets the queued `websocket.disconnect`
    arrive and clean up as usual (found by tests/proof/test_fuzz_ws.py).
    """

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            pass
