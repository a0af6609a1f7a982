"""The hook a process' own shutdown path calls to close the gateway's connections.

`wedsync_ops.shutdown` (the front processes' SIGTERM drain: health check failing, then a
bounded exit) looks up `apps.realtime.drain.close_connections` and awaits it in the event
loop once it stops taking new work. Where that path owns SIGTERM, the gateway does not
take the signal over itself (apps.realtime.shutdown.install)."""

from __future__ import annotations

from apps.realtime import shutdown


async def close_connections(spread_seconds: float) -> None:
    """Close every gateway connection of this process with 1012 and a reconnect hint,
    spread over `spread_seconds`."""
    await shutdown.drain(spread_seconds)
