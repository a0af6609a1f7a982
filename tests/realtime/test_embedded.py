"""The embedded default (no DATABASE_URL / REDIS_URL): the same protocol, state in memory."""

from __future__ import annotations

import asyncio

import pytest

from tests.realtime.conftest import Client, http, run

SETUP = """
import datetime as dt, json
from django.contrib.auth.models import User, Group
from rest_framework.authtoken.models import Token
from apps.weddings.models import Region, Supplier, Venue, Wedding
region = Region.objects.create(code="r1", name="R1", timezone="UTC")
venue = Venue.objects.create(name="Hall", venue_type="banquet_hall", region=region, timezone="UTC")
supplier = Supplier.objects.create(name="Solo", max_connections=1)
token = supplier.issue_token()
w = Wedding.objects.create(date=dt.date.today() + dt.timedelta(days=9), ceremony_time=dt.time(14),
    reception_end_time=dt.time(22), venue=venue, couple_name="A & B")
w.suppliers.add(supplier)
user = User.objects.create_user("op", password="x-long-password-1")
user.groups.add(Group.objects.get_or_create(name="operators")[0])
print(json.dumps({"token": token, "wedding": w.pk, "staff": Token.objects.create(user=user).key}))
"""


@pytest.fixture
def embedded(embedded_server):
    return embedded_server(SETUP)


@pytest.mark.slow
def test_embedded_gateway_speaks_the_whole_protocol(embedded):
    server, data = embedded
    topic = f"wedding:{data['wedding']}"
    url = f"{server.url}/api/v1/realtime/publish/"

    async def go():
        bad = await Client.connect(server.ws_url, "wss_nope")
        assert await bad.close_code() == 4401
        for i in range(1, 4):
            status, body = await asyncio.to_thread(
                http, url, data["staff"], {"topic": topic, "data": {"i": i}}
            )
            assert (status, body["seq"]) == (202, i), body
        client = await Client.connect(server.ws_url, data["token"])
        await client.subscribe([topic], since={topic: 1})
        assert [m["data"]["i"] for m in await client.messages(2)] == [2, 3]
        status, body = await asyncio.to_thread(
            http, url, data["staff"], {"topic": topic, "data": {"i": 4}}
        )
        (live,) = await client.messages(1)
        assert live["seq"] == 4 and live["data"] == {"i": 4}
        await client.send("not json")
        assert (await client.expect("error"))["code"] == "bad_json"
        # Quota of one, kept in memory.
        second = await Client.connect(server.ws_url, data["token"])
        assert await second.close_code() == 4429
        await asyncio.sleep(1.3)  # the hub writes its stats every second
        status, report = await asyncio.to_thread(
            http, f"{server.url}/api/v1/realtime/health/", data["staff"]
        )
        assert status == 200, report
        assert report["quota_rejections"] == 1 and report["connections"] == 1
        await client.close()
        await asyncio.sleep(0.3)
        third = await Client.connect(server.ws_url, data["token"])
        await third.send({"op": "ping"})
        await third.expect("pong")

    run(go())
