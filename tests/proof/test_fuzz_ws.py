"""A hypothesis-driven WebSocket fuzzer against the gateway (/ws/realtime/) and /ws/ops/.

Each example opens a connection, sends a random sequence of frames (random text,
malformed and wrong-shaped JSON, unknown and half-valid ops, oversized, binary, floods),
then a ping. Properties:
- the server answers only with documented frames (JSON objects with a known `op`);
- each invalid frame gets an error frame, or the connection ends with a documented
  close code (never 1006/1011: those are crashes);
- a connection that was not closed still answers the final ping;
- the process never dies, logs no traceback, and still serves new connections.
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.proof.helpers import session_cookie

EXAMPLES = int(os.environ.get("WS_FUZZ_EXAMPLES", "40"))
SERVER_OPS = {
    "hello",
    "error",
    "pong",
    "subscribed",
    "unsubscribed",
    "message",
    "batch",
    "snapshot",
}
# Close codes the gateway documents (DESIGN.md + docs/realtime.md) and RFC 6455's
# "you sent something wrong" codes. 1006 (no close frame) and 1011 (server error) are crashes.
DOCUMENTED_CLOSE = {1000, 1001, 1003, 1007, 1008, 1009, 1013, 4400, 4401, 4403, 4408, 4429}
CLIENT_OPS = ["subscribe", "unsubscribe", "ping"]
# Daphne's own limit (4.2.2+, CVE-2026-44545): a message over 1 MiB makes autobahn drop the
# TCP connection without a close frame (failByDrop), so the client sees 1006. That is the
# transport refusing to buffer an abusive payload, not a crash: allowed for such frames only.
DAPHNE_MAX_MESSAGE = 1024 * 1024
OVERSIZED = 2 * 1024 * 1024
LARGE = 900 * 1024  # under Daphne's limit: the application itself must answer it

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
topic = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-5, max_value=10**12).map(lambda n: f"wedding:{n}"),
    st.sampled_from(["wedding:", "wedding:abc", "ops", "*", "wedding:1;DROP", "../../etc"]),
)
half_valid = st.fixed_dictionaries(
    {"op": st.sampled_from(CLIENT_OPS) | st.text(max_size=12)},
    optional={
        "topics": st.lists(topic, max_size=6) | json_values,
        "since": st.dictionaries(topic, st.integers() | json_values, max_size=4) | json_values,
    },
)


def _nested(depth: int, kind: str, core: str = "1") -> str:
    """JSON text nested `depth` deep (json.dumps cannot build it: it recurses)."""
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    return opening * depth + core + closing * depth


# Deep nesting, under and over the gateway's frame limit (64 KiB) and parsers' depth limits.
deep = st.tuples(
    st.sampled_from([2, 100, 1_000, 10_000, 30_000, 100_000]), st.sampled_from(["list", "dict"])
).map(lambda t: _nested(*t))
# Numbers JSON allows and parsers choke on: past 64 bits, past float, 4300+ digits, literals
# Python's json takes but JSON does not (NaN, Infinity), negative zero, subnormals.
huge_number = st.one_of(
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2).map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        ["1e400", "-1e400", "1e-400", "-0.0", "5e-324", "NaN", "Infinity", "-Infinity"]
    ),
    st.sampled_from([19, 40, 4_300, 5_000, 60_000]).map(lambda n: "9" * n),
)
# `since` of the wrong shape: not a map, values of the wrong type, keys that are not topics of
# the frame, nested and huge values. Built as text, so huge numbers and depth go in as they are.
since_value = st.one_of(
    huge_number,
    deep,
    json_values.map(json.dumps),
    st.sampled_from(['"5"', "-1", "1.5", "true", "null", "[]", "{}", '{"seq": 1}']),
)
since_text = st.one_of(
    st.dictionaries(topic, since_value, max_size=4).map(
        lambda d: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in d.items()) + "}"
    ),
    since_value,
)
subscribe_with_since = st.tuples(st.lists(topic, max_size=4), since_text).map(
    lambda t: ("op", f'{{"op":"subscribe","topics":{json.dumps(t[0])},"since":{t[1]}}}')
)
# The ops socket subscribes to metric `series` (names, or {"name": ...} objects).
series_item = st.one_of(
    st.sampled_from(["wedsync_gateway_connections", "up", "x" * 300, "", "1bad", "a b"]),
    st.text(max_size=30),
    st.fixed_dictionaries({"name": json_scalars}),
    json_values,
)
subscribe_series = st.lists(series_item, max_size=8).map(
    lambda items: ("op", json.dumps({"op": "subscribe", "series": items}))
)
numbers_in_ops = st.tuples(st.sampled_from(CLIENT_OPS), huge_number).map(
    lambda t: ("op", f'{{"op":"{t[0]}","topics":[{t[1]}],"series":[{t[1]}]}}')
)

# (kind, payload): kind says what the frame is, so the checker knows what answer to expect.
frame = st.one_of(
    st.text(max_size=200).map(lambda t: ("text", t)),
    st.binary(max_size=200).map(lambda b: ("binary", b)),
    json_values.map(lambda v: ("json", json.dumps(v))),
    half_valid.map(lambda d: ("op", json.dumps(d))),
    deep.map(lambda text: ("json", text)),
    huge_number.map(lambda text: ("json", text)),
    subscribe_with_since,
    subscribe_series,
    numbers_in_ops,
    # Binary frames that hold JSON (a ping, a subscribe) and that hold broken UTF-8.
    st.sampled_from([b'{"op":"ping"}', b'{"op":"subscribe","topics":["wedding:1"]}']).map(
        lambda b: ("binary", b)
    ),
    st.binary(min_size=1, max_size=50).map(lambda b: ("binary", b"\xff\xfe" + b)),
    st.just(("oversized", "x" * OVERSIZED)),
    st.just(("oversized", "x" * LARGE)),
    st.just(("oversized", json.dumps({"op": "subscribe", "topics": ["wedding:1"] * 80_000}))),
    st.just(("oversized", json.dumps({"op": "subscribe", "topics": ["wedding:1"] * 200_000}))),
    st.integers(min_value=50, max_value=400).map(lambda n: ("flood", n)),
)


REPLY_OPS = {"error", "pong", "subscribed", "unsubscribed"}


def _op_of(payload: str | bytes) -> object:
    try:
        value = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not an op
        return None
    return value.get("op") if isinstance(value, dict) else None


async def _exchange(url: str, frames: list, connect_kwargs: dict, silent_ops=()) -> dict:
    """Send the frames and a final ping; read until every frame has had its reply.

    silent_ops: client ops the server rightly answers with nothing (the gateway's "pong").
    A server that rate-limits (error "rate_limited", then drops frames) is given time to
    refill and must then answer a ping.
    """
    received: list[dict] = []
    outcome = {"received": received, "closed": None, "answered": False, "sent_invalid": 0}
    expected = 0
    try:
        async with websockets.connect(
            url, open_timeout=10, max_size=None, close_timeout=5, **connect_kwargs
        ) as ws:
            for kind, payload in frames:
                if kind == "flood":
                    for _ in range(payload):
                        await ws.send('{"op": "ping"}')
                    expected += payload
                    continue
                await ws.send(payload)
                op = _op_of(payload)
                if op in silent_ops:
                    continue
                expected += 1
                if not (op == "ping" or (kind == "op" and op in CLIENT_OPS)):
                    outcome["sent_invalid"] += 1
            await ws.send('{"op": "ping"}')
            expected += 1
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            replies = 0
            while replies < expected:
                limited = any(m.get("code") == "rate_limited" for m in received)
                wait = 1.0 if limited else max(0.1, deadline - loop.time())
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=wait)
                except TimeoutError:
                    if limited:
                        break  # the rest were dropped by the rate limit, as documented
                    raise
                message = json.loads(raw)
                received.append(message)
                # Frames are handled in order, one reply each (data frames are extra).
                if isinstance(message, dict) and message.get("op") in REPLY_OPS:
                    replies += 1
            outcome["rate_limited"] = any(m.get("code") == "rate_limited" for m in received)
            if outcome["rate_limited"]:
                await asyncio.sleep(2.5)  # let the token bucket refill
                await ws.send('{"op": "ping"}')
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                    received.append(message)
                    if message.get("op") == "pong":
                        break
            outcome["answered"] = True
    except websockets.ConnectionClosed as exc:
        outcome["closed"] = exc.rcvd.code if exc.rcvd else 1006
    except TimeoutError:
        outcome["closed"] = "timeout"
    return outcome


def _check(outcome: dict, frames: list, server_ops: set | None = SERVER_OPS) -> None:
    """server_ops=None: any op is allowed besides the replies (/ws/ops/ relays pushes)."""
    kinds = [k for k, _ in frames]
    for message in outcome["received"]:
        assert isinstance(message, dict) and isinstance(message.get("op"), str), message
        if server_ops is not None:
            assert message["op"] in server_ops, message
        if message["op"] == "error":
            assert isinstance(message.get("code"), str) and message["code"], message
            assert isinstance(message.get("message"), str), message
    if outcome["closed"] is not None:
        over_limit = any(k == "oversized" and len(p) > DAPHNE_MAX_MESSAGE for k, p in frames)
        if not (outcome["closed"] == 1006 and over_limit):
            assert outcome["closed"] in DOCUMENTED_CLOSE, (outcome["closed"], kinds)
        return
    assert outcome["answered"], (kinds, outcome["received"][-5:])
    if outcome.get("rate_limited"):
        return  # dropped frames get no reply by design; the ping after the refill answered
    errors = sum(1 for m in outcome["received"] if m.get("op") == "error")
    assert errors >= outcome["sent_invalid"], (kinds, outcome["received"][-5:])


def _still_serving(server, url: str, connect_kwargs: dict) -> None:
    async def ping() -> dict:
        async with websockets.connect(url, open_timeout=10, **connect_kwargs) as ws:
            await ws.send('{"op": "ping"}')
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message.get("op") == "pong":
                    return message

    assert asyncio.run(ping()) == {"op": "pong"}
    assert server.proc.poll() is None, "the Daphne process died"
    log = server.output()
    assert "Traceback" not in log and "Exception inside application" not in log, log[-4000:]


@pytest.fixture(scope="module")
def ws_daphne(start_daphne):
    return start_daphne({"LOG_LEVEL": "WARNING"})


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gateway_survives_random_frames(ws_daphne, world):
    url = f"{ws_daphne.ws_url}/ws/realtime/?token={world.token_a}"
    answered: list[bool] = []

    @FUZZ_SETTINGS
    @given(st.lists(frame, min_size=1, max_size=6))
    def fuzz(frames):
        outcome = asyncio.run(_exchange(url, frames, {}, silent_ops=("pong",)))
        answered.append(outcome["answered"])
        _check(outcome, frames)

    fuzz()
    # Not vacuous: a connection refused at once (a broken token, say) ends with a documented
    # close code and passes _check; the fuzzer must have reached the consumer itself.
    assert any(answered), "every example was closed before the consumer answered"
    _still_serving(ws_daphne, url, {})


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ops_socket_survives_random_frames(ws_daphne, world):
    cookie = session_cookie(world.callers["operator"].user)
    kwargs = {
        "origin": f"http://127.0.0.1:{ws_daphne.port}",
        "additional_headers": {"Cookie": f"sessionid={cookie}"},
    }
    url = f"{ws_daphne.ws_url}/ws/ops/"
    answered: list[bool] = []

    @FUZZ_SETTINGS
    @given(st.lists(frame, min_size=1, max_size=6))
    def fuzz(frames):
        outcome = asyncio.run(_exchange(url, frames, kwargs))
        answered.append(outcome["answered"])
        _check(outcome, frames, server_ops=None)

    fuzz()
    assert any(answered), "every example was closed before the consumer answered"
    _still_serving(ws_daphne, url, kwargs)


@pytest.mark.django_db(transaction=True)
def test_gateway_refuses_bad_tokens_with_its_close_code(ws_daphne, world):
    async def code(url: str):
        try:
            async with websockets.connect(url, open_timeout=10) as ws:
                await asyncio.wait_for(ws.recv(), 10)
                return "open"
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else 1006
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    base = f"{ws_daphne.ws_url}/ws/realtime/"
    for query in ("", "?token=", "?token=wss_forged", "?token=" + "a" * 10_000, "?token=%00%ff"):
        assert asyncio.run(code(base + query)) in (4401, 403), query


# Frames the fuzzer draws at random, each with the answer the gateway documents for it
# (docs/realtime.md): one error frame with this code, and the connection stays open.
NAMED_FRAMES = [
    ("nested 10,000 deep", _nested(10_000, "list"), "bad_json"),
    ("nested 30,000 deep in since", '{"op":"subscribe","topics":["wedding:1"],"since":'
     + _nested(30_000, "list") + "}", "bad_json"),
    ("nested past the frame limit", _nested(100_000, "dict"), "frame_too_large"),
    ("since is a list", '{"op":"subscribe","topics":["wedding:1"],"since":[1]}', "bad_since"),
    ("since value a string", '{"op":"subscribe","topics":["wedding:1"],"since":{"wedding:1":"5"}}',
     "bad_since"),
    ("since value negative", '{"op":"subscribe","topics":["wedding:1"],"since":{"wedding:1":-1}}',
     "bad_since"),
    ("since value a float", '{"op":"subscribe","topics":["wedding:1"],"since":{"wedding:1":1.5}}',
     "bad_since"),
    ("since value true", '{"op":"subscribe","topics":["wedding:1"],"since":{"wedding:1":true}}',
     "bad_since"),
    ("since value 10**30", '{"op":"subscribe","topics":["wedding:1"],"since":{"wedding:1":'
     + str(10**30) + "}}", "bad_since"),
    ("since value 4,300 digits", '{"op":"subscribe","topics":["wedding:1"],"since":{"wedding:1":'
     + "9" * 4_300 + "}}", "bad_json"),
    ("since value NaN", '{"op":"subscribe","topics":["wedding:1"],"since":{"wedding:1":NaN}}',
     "bad_json"),
    ("since names another topic", '{"op":"subscribe","topics":["wedding:1"],"since":{"x":1}}',
     "bad_since"),
    ("topic id past 18 digits", '{"op":"subscribe","topics":["wedding:' + "9" * 19 + '"]}',
     "bad_topics"),
    ("op is a list", '{"op":["ping"]}', "unknown_op"),
    ("binary, not UTF-8", b"\xff\xfe\x00", "bad_json"),
]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_gateway_answers_each_malformed_frame_with_its_documented_code(ws_daphne, world):
    url = f"{ws_daphne.ws_url}/ws/realtime/?token={world.token_a}"

    async def run() -> list[tuple[str, str]]:
        seen = []
        async with websockets.connect(url, open_timeout=10, max_size=None) as ws:
            for name, payload, _ in NAMED_FRAMES:
                await ws.send(payload)
                while True:  # skip a first {"op": "hello"} (and any other push)
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message.get("op") in ("error", "subscribed"):
                        break
                seen.append((name, message.get("code", message["op"])))
            await ws.send('{"op": "ping"}')
            while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("op") != "pong":
                pass
        return seen

    assert asyncio.run(run()) == [(name, code) for name, _, code in NAMED_FRAMES]
    _still_serving(ws_daphne, url, {})
