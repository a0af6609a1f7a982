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
    env.setdefault("ALERTS_PUBLIC_URL", "http://127.0.0.1:8000")  # required with DEBUG off
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
    port: int | None = None,
) -> Server:
    """A Daphne serving `app` on a free port (or `port`: a restart), returned once /healthz
    answers. bench/ is on the child's PYTHONPATH, so a benchmark may serve an app of its
    own from here."""
    port = port or free_port()
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


@dataclass
class Front:
    """The full stack's front door (wedsync_ops/front.py): HAProxy on `port`, gunicorn
    and Daphne processes behind it on Unix sockets in `run_dir`."""

    proxy: Server
    serve: Server
    port: int
    run_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The supervisor and every backend process (for CPU and memory figures)."""
        import json

        try:
            state = json.loads((self.run_dir / "processes.json").read_text())
        except (OSError, ValueError):
            state = {}
        return [self.serve.pid, *(entry["pid"] for entry in state.values())]

    def stop(self, timeout: float = 30) -> None:
        self.serve.stop(timeout)  # drains every backend, then exits
        self.proxy.stop()
        import shutil

        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Front:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_front(
    env: dict,
    *,
    name: str = "front",
    http_processes: int | None = None,
    http_threads: int | None = None,
    ws_processes: int | None = None,
    ws_app: str | None = None,
    timeout: float = 120.0,
) -> Front:
    """The front door as the Procfile starts it (`front proxy` + `front serve`), returned
    once the proxy has every backend UP. Sizes default to front.py's (the core count)."""
    import tempfile

    sys.path.insert(0, str(ROOT))
    from wedsync_ops import front

    port = free_port()
    run_dir = Path(tempfile.mkdtemp(prefix="wso-bench-front-"))  # Unix socket paths: short
    fenv = {**env, "FRONT_PORT": str(port), "FRONT_BIND": "127.0.0.1"}
    fenv["FRONT_RUN_DIR"] = str(run_dir)
    if ws_app:  # an app of the benchmark's own, from bench/
        fenv["FRONT_WS_APP"] = ws_app
        paths = [str(ROOT / "bench"), *filter(None, [env.get("PYTHONPATH")])]
        fenv["PYTHONPATH"] = os.pathsep.join(paths)
    for key, value in (
        ("FRONT_HTTP_PROCESSES", http_processes),
        ("FRONT_HTTP_THREADS", http_threads),
        ("FRONT_WS_PROCESSES", ws_processes),
    ):
        if value is not None:
            fenv[key] = str(value)
    args = [sys.executable, "-m", "wedsync_ops.front"]
    proxy = spawn([*args, "proxy"], fenv, f"{name}-proxy-{port}")
    serve = spawn([*args, "serve"], fenv, f"{name}-serve-{port}")
    door = Front(proxy=proxy, serve=serve, port=port, run_dir=run_dir)
    config = front.Config.from_env(fenv)
    names = {b.name for b in config.backends()}
    deadline = time.monotonic() + timeout
    while True:
        view = front.haproxy_status(config)
        if all(view.get(n) == "UP" for n in names):
            return door
        for server in (proxy, serve):
            if server.proc.poll() is not None:
                door.stop()
                raise RuntimeError(f"{server.log} exited:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            door.stop()
            raise RuntimeError(f"front not UP in {timeout:.0f} s ({view}); {serve.log_tail()}")
        time.sleep(0.2)
