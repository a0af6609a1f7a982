"""Expected gateway connections for a wedding, derived from guests, suppliers and venue type.

A wedding's connections are the guests who open the wedding app (live photo wall, timeline),
plus the suppliers' devices (each photographer or planner runs phones, a tablet and an
uploader), inflated by the reconnect churn of the venue type: on a poor link a device
reconnects often and the gateway holds half-open sockets until their heartbeat expires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GUEST_APP_SHARE = 0.35  # share of guests with the wedding app open at the peak
DEVICES_PER_SUPPLIER = 4
CHURN: dict[str, float] = {
    "banquet_hall": 1.0,
    "garden": 1.1,
    "outdoor": 1.15,
    "historic": 1.2,
    "church": 1.25,
    "beach": 1.3,
}


@dataclass(frozen=True)
class ConnectionEstimate:
    value: int
    explanation: str


def expected_connections(guests: int, suppliers: int, venue_type: str) -> ConnectionEstimate:
    if guests < 0 or suppliers < 0:
        raise ValueError("guests and suppliers must not be negative")
    guest_conns = math.ceil(guests * GUEST_APP_SHARE)
    supplier_conns = suppliers * DEVICES_PER_SUPPLIER
    base = guest_conns + supplier_conns
    churn = CHURN.get(venue_type, 1.15)
    value = math.ceil(base * churn)
    explanation = (
        f"{guests} guests × {GUEST_APP_SHARE} app share = {guest_conns}"
        f" + {suppliers} suppliers × {DEVICES_PER_SUPPLIER} devices = {supplier_conns}"
        f" → {base} × {churn} ({venue_type} reconnect churn) = {value}"
    )
    return ConnectionEstimate(value, explanation)
