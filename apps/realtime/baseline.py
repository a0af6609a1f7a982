"""The baseline the benchmark compares against: a stock Channels consumer, one group per
topic, fan-out by channel-layer group_send. Routed only with GATEWAY_BENCH_BASELINE=1."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer


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
