"""The gateway's subscribe check reads the cache: a new assignment is honoured at once
in the Daphne process, a removed one is refused, and the database is not asked again."""

from __future__ import annotations

import asyncio

import pytest

from tests.realtime.conftest import Client, make_world, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_subscribe_check_follows_assignment_changes_across_processes(daphne):
    world = make_world("Cache Lens", weddings=0)  # one wedding per venue (no overlap)
    other = world.other_wedding
    topic = f"wedding:{other.pk}"

    async def subscribe_outcome(client: Client) -> str:
        await client.send({"op": "subscribe", "topics": [topic]})
        return (await client.recv())["op"]

    async def go():
        client = await Client.connect(daphne.ws_url, world.token)
        assert await subscribe_outcome(client) == "error"  # not theirs
        # An admin assigns the supplier (another process); the gateway's cached map
        # is invalidated through Redis, so the very next subscribe is allowed.
        await asyncio.to_thread(other.suppliers.add, world.supplier)
        await asyncio.sleep(0.1)
        assert await subscribe_outcome(client) == "subscribed"
        await client.close()
        # Unassigned: a new connection is refused again.
        await asyncio.to_thread(other.suppliers.remove, world.supplier)
        await asyncio.sleep(0.1)
        fresh = await Client.connect(daphne.ws_url, world.token)
        assert await subscribe_outcome(fresh) == "error"
        await fresh.close()

    run(go())
