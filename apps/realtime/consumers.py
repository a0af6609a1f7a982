"""/ws/realtime/?token=<supplier token>: the supplier gateway (a plain ASGI app).

Not a Channels consumer on purpose: a Channels consumer opens a channel-layer channel per
connection (a Redis subscription with RedisPubSubChannelLayer) that the data path never
uses. The hub (apps.realtime.hub) does fan-out; this module only speaks the protocol.

The first frame on every connection is `hello` (Hub.hello): heartbeat, reconnect backoff
and epoch, so a client knows how to watch the connection and how to come back.

Close codes: 4401 bad token, 4429 over the supplier's connection quota, 1013 Redis
unavailable (breaker open: try again later), 4408 heartbeat missed, 1008 sustained flood,
1009 frame over 1 MiB (Daphne's own limit), 1012 the process is restarting (SIGTERM,
apps.realtime.shutdown).
"""

from __future__ import annotations

import contextlib
import time
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async

from apps.realtime import authz, daphne_compat, shutdown
from apps.realtime.hub import Connection, Hub, error_frame, get_hub
from apps.realtime.tokens import tokens
from apps.realtime.topics import TopicError, validate_topics

CLOSE_BAD_TOKEN = 4401
CLOSE_OVER_QUOTA = 4429
CLOSE_TRY_AGAIN = 1013
CLOSE_FLOOD = 1008
FLOOD_FACTOR = 10  # frames dropped in a row, in seconds of the rate limit, before close

daphne_compat.install()


async def _refuse(send, code: int) -> None:
    # Accept first so the client sees the close code (a refused handshake is only a 403).
    with contextlib.suppress(Exception):  # the client may already be gone (Disconnected)
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code})


async def gateway(scope, receive, send) -> None:
    event = await receive()
    if event["type"] != "websocket.connect":
        return
    query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
    token = (query.get("token") or [""])[0]
    # A repeat token is answered from memory; only a new or expired one asks PostgreSQL.
    grant = tokens.get(token) or await database_sync_to_async(tokens.load)(token)
    if grant is None:
        return await _refuse(send, CLOSE_BAD_TOKEN)
    hub = get_hub()
    if hub.draining:
        return await _refuse(send, shutdown.CLOSE_RESTART)
    verdict, lease = await hub.admit(grant.supplier_id, grant.max_connections)
    if verdict == "over_quota":
        return await _refuse(send, CLOSE_OVER_QUOTA)
    if verdict != "ok":
        return await _refuse(send, CLOSE_TRY_AGAIN)
    conn = Connection(
        send,
        grant.supplier_id,
        lease,
        grant.max_channels_per_connection,
        grant.max_messages_per_second,
        grant.wedding_ids,
        grant.greeting.heartbeat_s if grant.greeting else None,
    )
    if conn.wire is not None:
        shutdown.install()  # under Daphne: SIGTERM closes connections with 1012
    hub.add(conn)
    try:
        await send({"type": "websocket.accept"})
        await conn.send_text(hub.hello(grant.greeting))
        while True:
            event = await receive()
            kind = event["type"]
            if kind == "websocket.disconnect":
                break
            if kind == "websocket.receive":
                await handle_frame(hub, conn, event.get("text"), event.get("bytes"))
    finally:
        await hub.remove(conn)


async def handle_frame(hub: Hub, conn: Connection, text: str | None, data: bytes | None) -> None:
    conn.last_seen = time.monotonic()
    payload = text if text is not None else data
    if payload is None:
        return
    if not conn.take_token():
        await _flooded(hub, conn)
        return
    if len(payload) > hub.cfg.max_frame_bytes:
        return await _error(
            hub, conn, "frame_too_large", f"Frames are limited to {hub.cfg.max_frame_bytes} bytes."
        )
    try:
        frame = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return await _error(hub, conn, "bad_json", "Frame is not valid JSON.")
    if not isinstance(frame, dict):
        return await _error(hub, conn, "not_object", "Frame must be a JSON object.")
    op = frame.get("op")
    if op == "ping":
        return await conn.send_text('{"op":"pong"}')
    if op == "pong":
        return None  # answer to our ping; last_seen is already updated
    if op == "subscribe":
        return await _subscribe(hub, conn, frame)
    if op == "unsubscribe":
        return await _unsubscribe(hub, conn, frame)
    return await _error(
        hub, conn, "unknown_op", f"Unknown op {str(op)[:40]!r}: use subscribe, unsubscribe, ping."
    )


async def _subscribe(hub: Hub, conn: Connection, frame: dict) -> None:
    try:
        topics = validate_topics(frame.get("topics"), conn.max_topics)
    except TopicError as exc:
        code = "too_many_topics" if "Too many" in str(exc) else "bad_topics"
        return await _error(hub, conn, code, str(exc))
    since = frame.get("since") or {}
    if not isinstance(since, dict) or any(
        t not in topics or not isinstance(v, int) or isinstance(v, bool) or v < 0
        for t, v in since.items()
    ):
        return await _error(
            hub,
            conn,
            "bad_since",
            "'since' must map topics of this frame to sequence numbers (integers >= 0).",
        )
    epochs = frame.get("epoch") or {}
    if not isinstance(epochs, dict) or any(
        t not in since or not isinstance(v, str) or len(v) > 64 for t, v in epochs.items()
    ):
        return await _error(
            hub,
            conn,
            "bad_epoch",
            "'epoch' must map topics of 'since' to the epoch strings the server gave.",
        )
    total = len(set(conn.topics) | set(topics))
    if total > conn.max_topics:
        return await _error(
            hub,
            conn,
            "too_many_topics",
            f"A connection may hold {conn.max_topics} topics; this would make {total}.",
        )
    refused = [t for t in topics if not authz.may_subscribe(conn.supplier_id, conn.wedding_ids, t)]
    if refused:
        # Maybe assigned a moment ago: look once more before refusing.
        conn.wedding_ids = await database_sync_to_async(authz.supplier_wedding_ids)(
            conn.supplier_id
        )
        refused = [
            t for t in topics if not authz.may_subscribe(conn.supplier_id, conn.wedding_ids, t)
        ]
    allowed = [t for t in topics if t not in refused]
    if refused:
        await _error(
            hub,
            conn,
            "forbidden",
            "Not your wedding or supplier topic: " + ", ".join(refused[:20]),
            topics=refused,
        )
    if allowed:
        await hub.subscribe(
            conn,
            allowed,
            {t: v for t, v in since.items() if t in allowed},
            {t: v for t, v in epochs.items() if t in allowed},
        )


async def _unsubscribe(hub: Hub, conn: Connection, frame: dict) -> None:
    try:
        topics = validate_topics(frame.get("topics"), max(conn.max_topics, 1))
    except TopicError as exc:
        return await _error(hub, conn, "bad_topics", str(exc))
    done = await hub.unsubscribe(conn, [t for t in topics if t in conn.topics])
    await conn.send_text(orjson.dumps({"op": "unsubscribed", "topics": done}).decode())


async def _error(hub: Hub, conn: Connection, code: str, message: str, **extra) -> None:
    hub.stats.errors[code] += 1
    await conn.send_text(error_frame(code, message, **extra))


async def _flooded(hub: Hub, conn: Connection) -> None:
    """Over the rate limit: the frame is not processed and gets a short error frame (the
    same cost as a pong, so nothing is amplified and every frame still has an answer);
    ten seconds' worth of frames dropped in a row closes the connection (1008)."""
    hub.stats.errors["rate_limited"] += 1
    if conn.dropped > conn.rate * FLOOD_FACTOR:
        return await conn.close(CLOSE_FLOOD)
    await conn.send_text(
        '{"op":"error","code":"rate_limited","message":"Over the frame rate limit: '
        'frame dropped. Keep this up and the connection is closed (1008)."}'
    )
