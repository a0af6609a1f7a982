"""A graceful restart of the gateway: SIGTERM closes every connection with 1012.

A deploy sends SIGTERM to each Daphne process. Dropping TCP would make every client see
1006 at the same instant and come back together (a reconnect storm onto the processes
still up, or onto the new one while it boots). Instead the hub closes each connection
with 1012 ("service restart") and a reason carrying a reconnect hint
(`{"reconnect":{"min_ms":..,"max_ms":..}}`: come back after a random delay in that
window), the closes spread evenly over GATEWAY_RESTART_SPREAD seconds; handshakes that
arrive meanwhile are refused with 1012 too. Then the previous SIGTERM handler (Twisted's:
stop the reactor, Daphne exits) runs as before.

Hooks for whoever owns the process' shutdown path: `drain()` (a coroutine, in the event
loop) does the closing and returns how many were closed (`apps.realtime.drain.
close_connections` is the name the front processes' shutdown path calls); `install()`
takes SIGTERM over once the hub runs in Daphne, unless that path already owns it;
`begin()` starts a drain from any thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from collections.abc import Callable

import orjson

from apps.realtime.conf import conf

log = logging.getLogger(__name__)

CLOSE_RESTART = 1012
STEPS_PER_S = 20  # closes go out in batches every 50 ms across the spread

_installed = False
_draining: asyncio.Future | None = None


def restart_reason() -> str:
    cfg = conf()
    hint = {"min_ms": min(cfg.reconnect_min_ms, cfg.restart_reconnect_max_ms)}
    hint["max_ms"] = cfg.restart_reconnect_max_ms
    return orjson.dumps({"reconnect": hint}).decode()


async def drain(spread_s: float | None = None) -> int:
    """Close every gateway connection of this process with 1012, spread over `spread_s`."""
    from apps.realtime.hub import current_hub

    hub = current_hub()
    if hub is None:
        return 0
    hub.draining = True
    spread = conf().restart_spread_s if spread_s is None else spread_s
    conns = list(hub.conns)
    random.shuffle(conns)  # no supplier is always first or last
    reason = restart_reason()
    loop = asyncio.get_running_loop()
    started = loop.time()
    steps = max(1, int(spread * STEPS_PER_S))
    for step in range(steps):
        chunk = conns[step * len(conns) // steps : (step + 1) * len(conns) // steps]
        for conn in chunk:
            await conn.close(CLOSE_RESTART, reason)
        wait = started + spread * (step + 1) / steps - loop.time()
        if wait > 0 and step + 1 < steps:
            await asyncio.sleep(wait)
    # Give the close frames a moment to leave before the reactor stops.
    await asyncio.sleep(0.2)
    log.info("gateway: %d connections closed with 1012 over %.1fs", len(conns), spread)
    return len(conns)


def begin(then: Callable[[], None] | None = None) -> None:
    """Start a drain from any thread (a signal handler); `then` runs in the loop after."""
    loop = _loop
    if loop is None or loop.is_closed():
        if then is not None:
            then()
        return

    def start() -> None:
        global _draining
        if _draining is not None:
            return
        _draining = asyncio.ensure_future(drain())
        if then is not None:
            _draining.add_done_callback(lambda _: then())

    loop.call_soon_threadsafe(start)


_loop: asyncio.AbstractEventLoop | None = None


def _shutdown_path_owns_sigterm() -> bool:
    """True when wedsync_ops.shutdown replaced Twisted's SIGTERM handling (the front
    processes): it drains, then awaits apps.realtime.drain.close_connections itself."""
    from twisted.internet import reactor  # Daphne's; installed with it

    handler = getattr(reactor, "sigTerm", None)
    return getattr(handler, "__module__", "") == "wedsync_ops.shutdown"


def install() -> None:
    """Take SIGTERM over in this process (called by the hub inside the running loop, i.e.
    after Daphne's reactor installed its own handler, which is chained, not replaced)."""
    global _installed, _loop
    if _installed:
        return
    _installed = True
    _loop = asyncio.get_running_loop()
    if _shutdown_path_owns_sigterm():
        log.info("gateway: SIGTERM is the process' shutdown path's; it calls our drain")
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except ValueError:  # not the main thread: nobody to chain to
        return

    def on_sigterm(signum, frame) -> None:
        def after() -> None:
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.raise_signal(signal.SIGTERM)

        begin(after)

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # signal.signal only works from the main thread
        log.info("gateway: SIGTERM not taken over (not the main thread)")
