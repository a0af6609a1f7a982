"""A gateway client that behaves like a supplier app: it reconnects and asks for replay.

Used by the fault, scale-out and soak runs. It records every `data` it received per
topic, de-duplicated by sequence number, so a test can tell "delivered or replayed"
from "lost".
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field

import websockets


@dataclass
class GatewayClient:
    url: str  # ws://host:port/ws/realtime/?token=...
    topics: list[str]
    received: dict = field(default_factory=dict)  # topic -> {seq: data}
    last_seq: dict = field(default_factory=dict)
    closes: list = field(default_factory=list)  # close codes seen (reconnects)
    errors: list = field(default_factory=list)  # error frames received
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    frames: int = 0
    stop: bool = False

    def data(self, topic: str) -> list:
        return [self.received.get(topic, {})[s] for s in sorted(self.received.get(topic, {}))]

    def _take(self, message: dict) -> None:
        if message.get("op") == "batch":
            for item in message.get("messages", []):
                self._take(item)
            return
        if message.get("op") != "message":
            if message.get("op") == "error":
                self.errors.append(message)
            return
        topic, seq = message["topic"], message.get("seq")
        self.received.setdefault(topic, {})[seq] = message.get("data")
        if isinstance(seq, int) and seq > self.last_seq.get(topic, 0):
            self.last_seq[topic] = seq

    async def run(self, connect_timeout: float = 10) -> None:
        """Stay connected until .stop; after any close, reconnect with a jittered backoff."""
        backoff = 0.2
        while not self.stop:
            try:
                async with websockets.connect(
                    self.url, open_timeout=connect_timeout, max_size=None, ping_interval=None
                ) as ws:
                    since = {t: self.last_seq[t] for t in self.topics if t in self.last_seq}
                    await ws.send(
                        json.dumps({"op": "subscribe", "topics": self.topics, "since": since})
                    )
                    while not self.stop:
                        try:
                            raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                        except TimeoutError:
                            continue
                        self.frames += 1
                        message = json.loads(raw)
                        if message.get("op") == "subscribed":
                            self.connected.set()
                            backoff = 0.2
                        elif message.get("op") == "ping":
                            await ws.send('{"op": "pong"}')
                        else:
                            self._take(message)
            except websockets.ConnectionClosed as exc:
                self.closes.append(exc.rcvd.code if exc.rcvd else 1006)
            except (OSError, TimeoutError, websockets.InvalidStatus, websockets.InvalidHandshake):
                self.closes.append("connect-failed")
            self.connected.clear()
            if not self.stop:
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 2.0)


async def open_code(url: str, timeout: float = 10) -> object:
    """Connect, ping, and say how it went: "open" (pong came back) or the close code."""
    try:
        async with websockets.connect(url, open_timeout=timeout, ping_interval=None) as ws:
            await ws.send('{"op": "ping"}')
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                if message.get("op") == "pong":
                    return "open"
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else 1006
    except websockets.InvalidStatus as exc:
        return exc.response.status_code
