"""/ws/realtime/: the supplier gateway (token auth; filled in by the gateway issue)."""

from __future__ import annotations

from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

CLOSE_BAD_TOKEN = 4401


class GatewayConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        from apps.weddings.models import Supplier

        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        token = (query.get("token") or [""])[0]
        self.supplier = await database_sync_to_async(Supplier.authenticate)(token)
        await self.accept()
        if self.supplier is None:
            await self.close(code=CLOSE_BAD_TOKEN)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = orjson.loads(text_data or bytes_data or b"")
        except orjson.JSONDecodeError:
            return await self._error("bad_json", "Frame is not valid JSON.")
        if isinstance(frame, dict) and frame.get("op") == "ping":
            return await self.send(text_data='{"op":"pong"}')
        return await self._error("unknown_op", "Unknown op.")

    async def _error(self, code: str, text: str) -> None:
        await self.send(
            text_data=orjson.dumps({"op": "error", "code": code, "message": text}).decode()
        )
