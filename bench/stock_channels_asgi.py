"""The product's ASGI app plus the baseline bench/bench_gateway.py compares against: a stock
Channels consumer, one group per topic, fan-out by channel-layer group_send.

It lives in bench/, not in the product: Daphne serves `stock_channels_asgi:application`
(bench/ on PYTHONPATH) only for the benchmark.
"""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from wedsync_ops.asgi import application as product  # sets up Django first


class StockGroupConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()

    async def receive_json(self, content, **kwargs) -> None:
        op = content.get("op")
        if op == "subscribe":
            for topic in content.get("topics", []):
                await self.channel_layer.group_add(topic.replace(":", "."), self.channel_name)
            await self.send_json({"op": "subscribed", "topics": content.get("topics", [])})
        elif op == "publish":
            await self.channel_layer.group_send(
                content["topic"].replace(":", "."),
                {"type": "topic.message", "topic": content["topic"], "data": content["data"]},
            )
        elif op == "ping":
            await self.send_json({"op": "pong"})

    async def topic_message(self, event) -> None:
        await self.send_json({"op": "message", "topic": event["topic"], "data": event["data"]})


stock = URLRouter([path("ws/bench/stock/", StockGroupConsumer.as_asgi())])


class _Dispatch:
    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and scope["path"].startswith("/ws/bench/stock/"):
            return await stock(scope, receive, send)
        return await product(scope, receive, send)


application = ProtocolTypeRouter({"http": product, "websocket": _Dispatch()})
