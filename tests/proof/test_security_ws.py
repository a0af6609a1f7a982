"""Security of the ops WebSocket: origin check, and logout closing the user's sockets."""

from __future__ import annotations

import asyncio

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
