"""/ws/ops/: the live feed of the ops pages (session auth, operators and admins only).

Client ops: {"op": "ping"}, {"op": "subscribe", "series": ["metric_name", ...]}
(replaces the previous subscription; items may also be {"name": ...}).
Server ops: hello, pong, subscribed {"series": {name: {"stream", "seq"}}},
samples {"name", "stream", "seq", "samples": [[labels, ts, value], ...]}, or several
of them at once as batch {"frames": [samples, ...]}; resync (frames were lost: reload),
every push_ops event (e.g. {"op": "alert"}), error {"code", "message"}.
"""

from __future__ import annotations

import time

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from apps.accounts.logout import CLOSE_LOGGED_OUT, user_group
from apps.accounts.roles import is_operator
from apps.core.websocket import QuietWhenDropped
from apps.dashboards import live
from apps.dashboards.conf import live_transport
from apps.dashboards.hub import hub
from apps.dashboards.push import OPS_GROUP
from apps.dashboards.specs import METRIC_NAME

CLOSE_FORBIDDEN = 4403


class OpsConsumer(QuietWhenDropped, AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.streams: dict[str, str] = {}  # stream -> metric name
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
        if live_transport() == "hub":
            hub().unregister(self)
        else:
            for stream in getattr(self, "streams", {}):
                await self.channel_layer.group_discard(stream, self.channel_name)
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
        op = frame.get("op")
        if op == "ping":
            await self.send(text_data='{"op":"pong"}')
            return
        if op == "subscribe":
            await self._subscribe(frame.get("series"))
            return
        await self._error("unknown_op", f"Unknown op: {str(op)[:40]!r}.")

    async def _subscribe(self, series: object) -> None:
        if not isinstance(series, list) or len(series) > live.MAX_SUBSCRIBED:
            await self._error(
                "bad_subscribe", f"'series' must be a list of at most {live.MAX_SUBSCRIBED} names."
            )
            return
        names: list[str] = []
        for i, item in enumerate(series):
            name = item.get("name") if isinstance(item, dict) else item
            if not isinstance(name, str) or not METRIC_NAME.match(name):
                await self._error("bad_subscribe", f"series[{i}] is not a metric name.")
                return
            names.append(name)
        wanted = {live.stream_for(n): n for n in names}
        if live_transport() == "hub":
            await hub().register(self, frozenset(names))
        else:
            for stream in set(self.streams) - set(wanted):
                await self.channel_layer.group_discard(stream, self.channel_name)
            for stream in set(wanted) - set(self.streams):
                await self.channel_layer.group_add(stream, self.channel_name)
        self.streams = wanted
        try:
            seqs = await database_sync_to_async(live.current_seqs)(list(wanted))
        except Exception:  # Redis away: the page still gets frames once it is back
            seqs = [None] * len(wanted)
        body = {
            name: {"stream": stream, "seq": seq}
            for (stream, name), seq in zip(wanted.items(), seqs, strict=True)
        }
        # `ts`: the subscription is in force from here on; a snapshot read after it misses
        # no sample (the page skips its catch-up reload then).
        frame = {"op": "subscribed", "series": body, "ts": time.time()}
        await self.send(text_data=orjson.dumps(frame).decode())

    async def ops_event(self, message: dict) -> None:
        await self.send(text_data=orjson.dumps(message["event"]).decode())

    async def ops_samples(self, message: dict) -> None:
        await self.send(text_data=orjson.dumps(message["frame"]).decode())

    async def ops_logout(self, message: dict) -> None:
        await self.close(code=CLOSE_LOGGED_OUT)

    async def _error(self, code: str, text: str) -> None:
        await self.send(
            text_data=orjson.dumps({"op": "error", "code": code, "message": text}).decode()
        )
