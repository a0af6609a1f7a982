"""wedsync-realtime: an asyncio client for the WedSync realtime gateway.

async with wedsync_realtime.connect(url, token) as client:
    sub = await client.subscribe("wedding:42", since=None)
    async for msg in sub:   # msg.topic, msg.seq, msg.data, msg.replayed
        ...
"""

from wedsync_realtime.backoff import Backoff, close_action, restart_hint
from wedsync_realtime.client import (
    AuthError,
    Client,
    Gap,
    JsonFileStore,
    Message,
    Position,
    PositionStore,
    State,
    SubscribeError,
    Subscription,
    connect,
)

__all__ = [
    "AuthError",
    "Backoff",
    "Client",
    "Gap",
    "JsonFileStore",
    "Message",
    "Position",
    "PositionStore",
    "State",
    "SubscribeError",
    "Subscription",
    "close_action",
    "connect",
    "restart_hint",
]
__version__ = "0.1.0"
