"""The embedded default (`make run`: SQLite, no Redis, in-memory channel layer): a sample
posted to the ingest API reaches an ops page's socket, as in the full stack."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.conftest import run_async

SETUP = """
import json
from django.contrib.auth.models import Group, User
from django.test import Client
from rest_framework.authtoken.models import Token
admin = User.objects.create_user("emb-admin", password="x-long-password-1", is_staff=True)
admin.groups.add(Group.objects.get_or_create(name="admins")[0])
operator = User.objects.create_user("emb-op", password="x-long-password-1")
operator.groups.add(Group.objects.get_or_create(name="operators")[0])
client = Client()
client.force_login(operator)
print(json.dumps({"token": Token.objects.create(user=admin).key,
                  "session": client.cookies["sessionid"].value}))
"""


@pytest.fixture
def embedded(embedded_server):
    return embedded_server(SETUP)


def _post_samples(url: str, token: str, samples: list[dict]) -> int:
    import urllib.request

    request = urllib.request.Request(
        f"{url}/api/v1/metrics/",
        data=json.dumps({"samples": samples}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


@pytest.mark.slow
def test_an_ingested_sample_reaches_an_ops_page_in_the_embedded_default(embedded):
    server, data = embedded
    headers = {"Cookie": f"sessionid={data['session']}", "Origin": server.url}

    async def scenario() -> None:
        async with websockets.connect(f"{server.ws_url}/ws/ops/", additional_headers=headers) as ws:

            async def next_op(op: str) -> dict:
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    frames = frame["frames"] if frame["op"] == "batch" else [frame]
                    for one in frames:
                        if one["op"] == op:
                            return one

            assert (await next_op("hello"))["user"] == "emb-op"
            await ws.send(json.dumps({"op": "subscribe", "series": ["emb_queue_depth"]}))
            start = (await next_op("subscribed"))["series"]["emb_queue_depth"]["seq"]
            status = await asyncio.to_thread(
                _post_samples,
                server.url,
                data["token"],
                [
                    {"name": "emb_other", "value": 1.0},
                    {"name": "emb_queue_depth", "labels": {"q": "a"}, "value": 17.0},
                ],
            )
            assert status == 202
            frame = await next_op("samples")
            assert frame["name"] == "emb_queue_depth" and frame["seq"] == start + 1
            assert [s[0] for s in frame["samples"]] == [{"q": "a"}]
            assert [s[2] for s in frame["samples"]] == [17.0]

    run_async(asyncio.wait_for(scenario(), 60), timeout=90)
