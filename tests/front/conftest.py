"""The full stack's front door, as the Procfile runs it: HAProxy (`front proxy`) and the
supervisor of gunicorn and Daphne processes (`front serve`), on the test database."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Proc, _spawn, free_port
from wedsync_ops import front


@dataclass
class FrontDoor:
    proxy: Proc
    serve: Proc
    config: front.Config

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.config.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.config.port}"

    def pids(self) -> dict[str, int]:
        return {name: entry["pid"] for name, entry in front.read_state(self.config).items()}

    def proxy_view(self) -> dict[str, str]:
        return front.haproxy_status(self.config)

    def wait_all_up(self, timeout: float = 120.0) -> None:
        names = {b.name for b in self.config.backends()}
        deadline = time.monotonic() + timeout
        while True:
            view = self.proxy_view()
            if names and all(view.get(name) == "UP" for name in names):
                return
            for proc in (self.proxy, self.serve):
                if proc.proc.poll() is not None:
                    raise RuntimeError(f"front process exited:\n{proc.output()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not all UP in {timeout}s: {view}\n{self.serve.output()[-4000:]}"
                )
            time.sleep(0.2)


@pytest.fixture(scope="module")
def start_front(service_env) -> Iterator[Callable[..., FrontDoor]]:
    """Factory: a front door on a free port with its sockets in a short temporary
    directory (a Unix socket path must stay under 108 bytes)."""
    started: list[tuple[FrontDoor, str]] = []

    def start(**settings: str) -> FrontDoor:
        run_dir = tempfile.mkdtemp(prefix="wso-front-")
        env = {
            **service_env,
            "FRONT_PORT": str(free_port()),
            "FRONT_BIND": "127.0.0.1",
            "FRONT_RUN_DIR": run_dir,
            "FRONT_HTTP_PROCESSES": "2",
            "FRONT_WS_PROCESSES": "2",
            "FRONT_SHUTDOWN_GRACE_SECONDS": "5",
            "THROTTLE_USER": "100000000/min",
            **settings,
        }
        config = front.Config.from_env(env)
        args = [sys.executable, "-m", "wedsync_ops.front"]
        proxy_proc, proxy_log = _spawn([*args, "proxy"], env, "front-proxy")
        serve_proc, serve_log = _spawn([*args, "serve"], env, "front-serve")
        door = FrontDoor(
            proxy=Proc(proxy_proc, proxy_log, config.port, env),
            serve=Proc(serve_proc, serve_log, None, env),
            config=config,
        )
        started.append((door, run_dir))
        door.wait_all_up()
        return door

    yield start
    for door, run_dir in started:
        door.serve.stop(timeout=30)
        door.proxy.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def front_door(start_front) -> FrontDoor:
    return start_front()


def backend_socket(door: FrontDoor, name: str) -> Path:
    return Path(front.read_state(door.config)[name]["socket"])
