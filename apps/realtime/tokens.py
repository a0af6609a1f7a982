"""Who a gateway token belongs to, remembered briefly in the process.

Every WebSocket handshake used to look its token up in PostgreSQL (through the one
thread Channels keeps for database calls, a fresh connection each time with
CONN_MAX_AGE=0): under 10,000 connects that queue outlasted Daphne's 5 s handshake
timeout. A supplier's app fleet connects with one token, so nearly every handshake is a
repeat: a hit here costs a SHA-256 and a dict lookup, in the event loop, no thread hop.

Revocation is still honoured: any change to a supplier (token rotated, deactivated,
quota edited, deleted) or to its weddings sends a control message after commit that makes
every hub forget that supplier's grants at once (Hub._control); if that message is lost
(Redis away), a grant is used at most `GATEWAY_AUTH_TTL` seconds (default 10) after it
was read. Only valid tokens are remembered: a bad token always asks the database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from apps.realtime import authz
from apps.realtime.delivery import Delivery, connection_delivery


@dataclass(frozen=True, slots=True)
class Grant:
    """What a handshake needs to know about the supplier behind a token."""

    supplier_id: int
    max_connections: int
    max_channels_per_connection: int
    max_messages_per_second: int
    wedding_ids: frozenset[int]
    greeting: Delivery | None = None  # the profile told to the client in its hello frame


class TokenCache:
    def __init__(self, ttl_s: float, clock=time.monotonic):
        self.ttl_s = ttl_s
        self.clock = clock
        self._grants: dict[str, tuple[float, Grant]] = {}
        # Written from the database thread (load) and read in the event loop (get).
        self._lock = threading.Lock()
        # Bumped by every forget: a load that read the database before a revocation
        # landed must not put its stale grant back.
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def get(self, token: str) -> Grant | None:
        """The remembered grant for `token`, or None (unknown, expired or forgotten)."""
        if self.ttl_s <= 0:
            return None
        key = _digest(token)
        entry = self._grants.get(key)
        if entry is None or entry[0] <= self.clock():
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    def load(self, token: str) -> Grant | None:
        """Look `token` up in the database (sync: call through database_sync_to_async)
        and remember it if valid."""
        from apps.weddings.models import Supplier

        generation = self._generation
        supplier = Supplier.authenticate(token)
        if supplier is None:
            return None
        wedding_ids = authz.supplier_wedding_ids(supplier.pk)
        grant = Grant(
            supplier_id=supplier.pk,
            max_connections=supplier.max_connections,
            max_channels_per_connection=supplier.max_channels_per_connection,
            max_messages_per_second=supplier.max_messages_per_second,
            wedding_ids=wedding_ids,
            greeting=connection_delivery(wedding_ids),
        )
        if self.ttl_s > 0:
            now = self.clock()
            with self._lock:
                if generation != self._generation:
                    return grant  # revoked meanwhile: use it for this handshake only
                if len(self._grants) > 10_000:  # only valid tokens land here: rare
                    self._grants = {k: v for k, v in self._grants.items() if v[0] > now}
                self._grants[_digest(token)] = (now + self.ttl_s, grant)
        return grant

    def forget_suppliers(self, supplier_ids: set[int] | None) -> None:
        """Drop the grants of these suppliers (None: all of them)."""
        with self._lock:
            self._generation += 1
            if supplier_ids is None:
                self._grants = {}
            else:
                self._grants = {
                    k: v for k, v in self._grants.items() if v[1].supplier_id not in supplier_ids
                }


def _digest(token: str) -> str:
    from apps.weddings.models import Supplier

    return Supplier.hash_token(token)


def _make() -> TokenCache:
    from apps.realtime.conf import conf

    return TokenCache(conf().auth_ttl_s)


tokens = _make()
