"""/ws/ops/: the live feed of the ops pages (session auth, operators and admins only)."""

from __future__ import annotations

import orjson
from channels.generic.websocket import AsyncWebsocketConsumer

from apps.accounts.logout import CLOSE_LOGGED_OUT, user_group
from apps.accounts.roles import is_operator
from apps.dashboards.push import OPS_GROUP
from wedsync_ops.websocket import QuietWhenDropped

CLOSE_FORBIDDEN = 4403


class OpsConsumer(QuietWhenDropped, AsyncWebsocketConsumer):
    async def connect(self) -> None:
        from channels.db import database_sync_to_async

        user = self.scope.get("user")
        allowed = await database_sync_to_async(is_operator)(user) if user else False
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(OPS_GROUP, self.channel_name)
        # Logout closes this socket (apps.accounts.logout).
        self.user_group = user_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        await self.send(
            text_data=orjson.dumps({"op": "hello", "user": user.get_username()}).decode()
        )

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(OPS_GROUP, self.channel_name)
        if getattr(self, "user_group", None):
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = orjson.loads(text_data or bytes_data or b"")
        except orjson.JSONDecodeError:
            await self._error("bad_json", "Frame is not valid JSON.")
            return
        if not isinstance(frame, dict):
            await self._error("bad_frame", "Frame must be a JSON object.")
            return
        if frame.get("op") == "ping":
            await self.send(text_data='{"op":"pong"}')
            return
        await self._error("unknown_op", f"Unknown op: {str(frame.get('op'))[:40]!r}.")

    async def ops_event(self, message: dict) -> None:
        await self.send(text_data=orjson.dumps(message["event"]).decode())

    async def ops_logout(self, message: dict) -> None:
        await self.close(code=CLOSE_LOGGED_OUT)

    async def _error(self, code: str, text: str) -> None:
        await self.send(
            text_data=orjson.dumps({"op": "error", "code": code, "message": text}).decode()
        )
