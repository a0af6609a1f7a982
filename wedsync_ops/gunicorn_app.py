"""gunicorn, with a drain before its graceful stop (run by wedsync_ops/front.py).

    python -m wedsync_ops.gunicorn_app [gunicorn options] wedsync_ops.wsgi:application

Plain gunicorn closes its listening socket the moment it gets SIGTERM. Here SIGTERM first
makes `/healthz` answer 503 in every worker (wedsync_ops/shutdown.py's flag, in memory the
forked workers share) for FRONT_DRAIN_SECONDS while requests are still served, so the
proxy takes the process out of rotation on its own health check; then gunicorn's normal
graceful stop: no new connections, in-flight requests finish within --graceful-timeout,
workers still busy after that are killed.
"""

from __future__ import annotations

import os
import sys
import time

from gunicorn.app.wsgiapp import WSGIApplication
from gunicorn.arbiter import Arbiter

from wedsync_ops import shutdown


class DrainingArbiter(Arbiter):
    drain_until: float | None = None

    def handle_term(self) -> None:
        if self.drain_until is not None:  # a second SIGTERM: stop now
            raise StopIteration
        seconds = float(os.environ.get("FRONT_DRAIN_SECONDS") or 0)
        shutdown.start_draining()
        self.drain_until = time.monotonic() + seconds
        self.log.info("SIGTERM: draining for %.1f s, then a graceful stop", seconds)

    def maybe_promote_master(self) -> None:
        # Called on every turn of the master's loop (at least once a second).
        super().maybe_promote_master()
        if self.drain_until is not None and time.monotonic() >= self.drain_until:
            raise StopIteration


class DrainingApplication(WSGIApplication):
    def run(self) -> None:
        try:
            DrainingArbiter(self).run()
        except RuntimeError as exc:
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.exit(1)


def main() -> None:
    DrainingApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()


if __name__ == "__main__":
    main()
