"""What the benchmarks start: Daphne and Celery processes, and the database they use.

One place for it, so every benchmark starts its servers the same way: on a free port,
in their own session (a Ctrl-C to the benchmark does not reach them first), with a log
under bench/out/servers/ (a server that dies says why instead of "did not start"), and
stopped by SIGTERM, then SIGKILL.

    from _servers import ensure_database, start_daphne   # bench/ is on sys.path when a
                                                         # bench_*.py runs as a script
    with start_daphne(env) as server:
        ...  # server.url, server.ws_url, server.port, server.pid
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "bench" / "out" / "servers"


def bench_env(*, database: str, redis: str, prefix: str, **settings: str) -> dict:
    """The environment of a benchmark and the servers it starts.

    DATABASE_URL / REDIS_URL / REDIS_PREFIX from the caller's environment win (run_all.py
    sets them); otherwise the benchmark's own defaults. Production-like settings (no
    DEBUG, no embedded scheduler, no multiprocess metrics directory), then `settings`."""
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", database)
    env.setdefault("REDIS_URL", redis)
    env.setdefault("REDIS_PREFIX", prefix)
    env.update(
        DEBUG="false",
        HTTPS="false",
        RUN_EMBEDDED_SCHEDULER="false",
        DJANGO_SETTINGS_MODULE="wedsync_ops.settings",
        SECRET_KEY=env.get("SECRET_KEY") or secrets.token_urlsafe(60),
    )
    env.update(settings)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A child process a benchmark started (a Daphne has a port; a worker has none)."""

    proc: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the process group (a worker's pool children too), then SIGKILL."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(args: list[str], env: dict, name: str) -> Server:
    """Start a process in its own session with its output in bench/out/servers/<name>.log."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(proc=proc, log=log)


def start_daphne(
    env: dict,
    *,
    name: str = "daphne",
    timeout: float = 60.0,
    app: str = "wedsync_ops.asgi:application",
) -> Server:
    """A Daphne serving `app` on a free port, returned once /healthz answers. bench/ is on
    the child's PYTHONPATH, so a benchmark may serve an app of its own from here."""
    port = free_port()
    args = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    paths = [str(ROOT / "bench"), *filter(None, [env.get("PYTHONPATH")])]
    env = {**env, "PYTHONPATH": os.pathsep.join(paths)}
    server = spawn([*args, app], env, f"{name}-{port}")
    server.port = port
    deadline = time.monotonic() + timeout
    while True:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"daphne exited with {server.proc.returncode}; log {server.log}:\n"
                + server.log_tail()
            )
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                f"daphne did not answer /healthz within {timeout:.0f} s; log {server.log}:\n"
                + server.log_tail()
            )
        time.sleep(0.1)


def start_celery_worker(env: dict, *, name: str, concurrency: int = 2) -> Server:
    """A Celery worker of the project's app (not waited for: send it a ping task for that)."""
    args = [sys.executable, "-m", "celery", "-A", "wedsync_ops", "worker", "-l", "warning"]
    args += ["-c", str(concurrency), "-n", f"{name}-{os.getpid()}@%h"]
    args += ["--without-gossip", "--without-mingle"]
    return spawn(args, env, name)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named by `url` if it does not exist yet."""
    match = re.match(r"^postgres(?:ql)?://[^/]*/(?P<name>[^?]+)", url)
    if not match:
        return  # not PostgreSQL: nothing to create
    import psycopg

    name = match["name"]
    admin_url = url[: match.start("name")] + "postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
