"""Security of the ops WebSocket: origin check, and logout closing the user's sockets."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from apps.accounts.logout import CLOSE_LOGGED_OUT
from tests.proof.helpers import close_code, csrf_pair, http_request, recv_json, session_cookie


def _ops_connect(server, cookie: str):
    return websockets.connect(
        f"{server.ws_url}/ws/ops/",
        origin=f"http://127.0.0.1:{server.port}",
        additional_headers={"Cookie": f"sessionid={cookie}"},
        open_timeout=5,
    )


@pytest.mark.django_db(transaction=True)
def test_cross_origin_ops_socket_is_refused_even_with_a_valid_session(daphne, operator_user):
    cookie = session_cookie(operator_user)
    headers = {"Cookie": f"sessionid={cookie}"}
    url = f"{daphne.ws_url}/ws/ops/"
    for origin in ("http://evil.example", f"http://127.0.0.1.evil.example:{daphne.port}"):
        code = asyncio.run(close_code(url, origin=origin, additional_headers=headers))
        assert code == 403, origin
    # ...while the same session from the site's own origin is accepted.
    assert (
        asyncio.run(
            close_code(url, origin=f"http://127.0.0.1:{daphne.port}", additional_headers=headers)
        )
        is None
    )


@pytest.mark.django_db(transaction=True)
def test_logout_closes_that_users_ops_sockets_on_every_process(daphne, start_daphne, make_user):
    other_process = start_daphne()
    leaving = make_user("lena-leaving", "operator")
    staying = make_user("sam-staying", "operator")
    leaving_cookie = session_cookie(leaving)
    staying_cookie = session_cookie(staying)

    async def scenario() -> tuple[list, dict, int]:
        async with (
            _ops_connect(daphne, leaving_cookie) as here,
            _ops_connect(other_process, leaving_cookie) as there,
            _ops_connect(daphne, staying_cookie) as bystander,
        ):
            for ws in (here, there, bystander):
                assert (await recv_json(ws))["op"] == "hello"
            csrf, csrf_header = csrf_pair()
            status, _, _ = await asyncio.to_thread(
                http_request,
                daphne.url,
                "POST",
                "/accounts/logout/",
                headers={"Cookie": f"sessionid={leaving_cookie}; csrftoken={csrf}", **csrf_header},
            )
            codes = []
            for ws in (here, there):
                try:
                    await asyncio.wait_for(ws.recv(), timeout=5)
                    codes.append("still open")
                except websockets.ConnectionClosed as exc:
                    codes.append(exc.rcvd.code if exc.rcvd else None)
            await bystander.send('{"op": "ping"}')
            return codes, await recv_json(bystander), status

    codes, pong, status = asyncio.run(scenario())
    assert status == 302  # Django's LogoutView redirects to LOGOUT_REDIRECT_URL
    assert codes == [CLOSE_LOGGED_OUT, CLOSE_LOGGED_OUT]
    assert pong == {"op": "pong"}
    # The session is gone too: a new socket with the old cookie is refused.
    code = asyncio.run(
        close_code(
            f"{daphne.ws_url}/ws/ops/",
            origin=f"http://127.0.0.1:{daphne.port}",
            additional_headers={"Cookie": f"sessionid={leaving_cookie}"},
        )
    )
    assert code in (403, 4403)


# --- the gateway's topics: who may subscribe and publish to what -------------------------


async def _subscribe_outcome(url: str, topic: str) -> object:
    """ "subscribed", an error code, or the close code the gateway answered with."""
    try:
        async with websockets.connect(url, open_timeout=10, ping_interval=None) as ws:
            await ws.send(json.dumps({"op": "subscribe", "topics": [topic]}))
            while True:
                frame = await recv_json(ws, 10)
                if frame.get("op") == "subscribed":
                    return "subscribed"
                if frame.get("op") == "error":
                    return frame["code"]
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else 1006


@pytest.mark.django_db(transaction=True)
def test_gateway_topic_matrix(daphne, world):
    from rest_framework.authtoken.models import Token

    staff_key = Token.objects.get_or_create(user=world.callers["operator"].user)[0].key
    a, b = world.supplier_a.id, world.supplier_b.id
    wa, wb = world.wedding_a.id, world.wedding_b.id
    topics = [f"wedding:{wa}", f"wedding:{wb}", f"supplier:{a}", f"supplier:{b}"]
    callers = {
        "supplier": f"?token={world.token_a}",
        "other_supplier": f"?token={world.token_b}",
        "staff API token": f"?token={staff_key}",
        "anonymous": "",
        "forged": "?token=wss_forged",
    }
    expected = {
        "supplier": ["subscribed", "forbidden", "subscribed", "forbidden"],
        "other_supplier": ["forbidden", "subscribed", "forbidden", "subscribed"],
        "staff API token": [4401] * 4,  # the gateway is for suppliers; staff use /ws/ops/
        "anonymous": [4401] * 4,
        "forged": [4401] * 4,
    }
    seen = {
        name: [
            asyncio.run(_subscribe_outcome(f"{daphne.ws_url}/ws/realtime/{query}", topic))
            for topic in topics
        ]
        for name, query in callers.items()
    }
    assert seen == expected

    # Publishing follows the same rule for supplier tokens (staff may publish anywhere).
    statuses = {}
    for topic in (f"wedding:{wa}", f"wedding:{wb}"):
        status, _, _ = http_request(
            daphne.url,
            "POST",
            "/api/v1/realtime/publish/",
            body={"topic": topic, "data": {"x": 1}},
            headers={"Authorization": f"Token {world.token_a}"},
        )
        statuses[topic] = status
    assert statuses == {f"wedding:{wa}": 202, f"wedding:{wb}": 403}
