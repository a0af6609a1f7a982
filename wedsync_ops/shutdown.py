"""Graceful drain and a bounded exit for the front processes (Daphne and gunicorn).

On SIGTERM a front process:
1. starts failing its health check (`/healthz` answers 503 "draining"), so the proxy
   stops sending it new work after `fall` failed checks, while it still serves what
   arrives meanwhile;
2. after FRONT_DRAIN_SECONDS, asks the realtime gateway to close its WebSockets (the
   hook below) and waits for in-flight HTTP requests, at most
   FRONT_SHUTDOWN_GRACE_SECONDS;
3. exits. Whatever is still running then is abandoned: a watchdog ends the process at
   the deadline, because a thread stuck in AsyncToSync after the event loop stopped
   would otherwise keep a SIGTERMed Daphne alive for ever (seen in production: the old
   process kept its port and the new one could not bind).

This module is imported by gunicorn's master before it forks its workers, so the
drain flag lives in anonymous shared memory: the master sets it, the workers read it.
It needs no Django settings at import time (gunicorn's master never loads Django).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import mmap
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# One byte of MAP_SHARED|MAP_ANONYMOUS memory: inherited by forked workers.
_FLAG = mmap.mmap(-1, 1)
_in_flight = 0
_in_flight_lock = threading.Lock()

# sdk's part: the gateway closes its sockets with 1012 and a reconnect hint, spread over
# `spread_seconds`. `async def close_connections(spread_seconds: float) -> None` in this
# module; until it exists, sockets close when the process exits.
REALTIME_HOOK = ("apps.realtime.drain", "close_connections")
# After the server stopped, how long the interpreter may take to exit (join its threads).
EXIT_SECONDS = 2.0


def draining() -> bool:
    return _FLAG[0] == 1


def start_draining() -> None:
    _FLAG[0] = 1


def request_started() -> None:
    global _in_flight
    with _in_flight_lock:
        _in_flight += 1


def request_finished() -> None:
    global _in_flight
    with _in_flight_lock:
        _in_flight -= 1


def in_flight() -> int:
    return _in_flight


class Watchdog:
    """A daemon thread that ends the process at its deadline (time.monotonic()), whatever
    is still running. Daemon threads keep running while the interpreter joins the others
    at exit, which is exactly when a stuck thread would hang it."""

    def __init__(self, deadline: float, reason: str):
        self.deadline = deadline
        self.reason = reason
        threading.Thread(target=self._run, name="shutdown-watchdog", daemon=True).start()

    def bring_forward(self, deadline: float) -> None:
        self.deadline = min(self.deadline, deadline)

    def _run(self) -> None:
        while (left := self.deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
        log.warning(
            "%s: exiting at the shutdown deadline, %d request(s) abandoned",
            self.reason,
            in_flight(),
        )
        logging.shutdown()
        os._exit(0)


def _realtime_hook() -> Callable | None:
    module, name = REALTIME_HOOK
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


# --- Daphne -----------------------------------------------------------------------------


def install_daphne(drain_seconds: float, grace_seconds: float) -> bool:
    """Replace Twisted's SIGTERM/SIGINT handling in a Daphne process with the drain above.

    Called from the ASGI module, which Daphne imports before it starts its reactor (the
    reactor binds its signal handlers when it starts). Returns False outside Daphne."""
    if "daphne.server" not in sys.modules:
        return False
    from twisted.internet import reactor as installed

    reactor: Any = installed  # Twisted's module-level reactor is untyped in practice

    state = {"signalled": False}

    def on_signal(number: int, frame: object = None) -> None:
        if state["signalled"]:  # a second signal: stop now (the watchdog still bounds it)
            reactor.callFromThread(lambda: reactor.stop())
            return
        state["signalled"] = True
        reactor.callFromThread(_drain_daphne, reactor, drain_seconds, grace_seconds)

    # Twisted binds these when the reactor starts (after this module is imported).
    reactor.sigTerm = on_signal
    reactor.sigInt = on_signal
    return True


def _drain_daphne(reactor, drain_seconds: float, grace_seconds: float) -> None:
    started = time.monotonic()
    start_draining()
    # Once the reactor has stopped (Daphne's kill_all_applications done), the interpreter
    # joins its threads: allow it EXIT_SECONDS, then abandon what is still stuck.
    watchdog = Watchdog(started + drain_seconds + grace_seconds + EXIT_SECONDS, "daphne")
    reactor.addSystemEventTrigger(
        "after", "shutdown", lambda: watchdog.bring_forward(time.monotonic() + EXIT_SECONDS)
    )
    log.info("SIGTERM: draining (health check failing for %.1f s)", drain_seconds)
    hook = _realtime_hook()
    closing: list[asyncio.Future] = []

    def close_websockets() -> None:
        if hook is not None:
            try:
                closing.append(asyncio.ensure_future(hook(spread_seconds=grace_seconds / 2)))
            except Exception:  # the hook failing must not stop the shutdown
                log.exception("realtime drain hook failed")

    def finish() -> None:
        done = in_flight() <= 0 and all(f.done() for f in closing)
        if done or time.monotonic() >= started + drain_seconds + grace_seconds:
            log.info("SIGTERM: stopping with %d request(s) in flight", in_flight())
            reactor.stop()
            return
        reactor.callLater(0.05, finish)

    reactor.callLater(drain_seconds, close_websockets)
    reactor.callLater(drain_seconds, finish)
