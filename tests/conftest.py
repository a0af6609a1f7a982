"""Shared fixtures: real PostgreSQL, Redis, Daphne, Celery workers and Chromium.

Tests run in the full-stack configuration (scripts/test.sh sets DATABASE_URL
and REDIS_URL). Processes started here point at pytest-django's test database,
so tests that talk to them use `transactional_db` (their data must be committed).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wedsync_ops import front

# Sync Playwright runs an event loop in the test thread; Django would then refuse ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s: {last}")


@dataclass
class Proc:
    """A child process started by a fixture, with its log file."""

    proc: subprocess.Popen
    log: Path
    port: int | None = None
    env: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture(scope="session")
def service_env(django_db_setup, django_db_blocker) -> dict:
    """Environment for child processes: the test database, the test Redis, test secrets."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db["ENGINE"].endswith("postgresql"):
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{db['NAME']}"
    env.update(
        {
            "DEBUG": "false",
            "HTTPS": "false",
            "CONN_MAX_AGE": "0",
            "RUN_EMBEDDED_SCHEDULER": "false",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "wedsync_ops.settings",
        }
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@pytest.fixture
def embedded_server(start_daphne, tmp_path, service_env) -> Callable[[str], tuple]:
    """Factory: a Daphne on the embedded default (a fresh SQLite under tmp_path, no Redis),
    after running `setup` (Python for `manage.py shell`, printing one JSON line last).
    Returns (server, that JSON)."""

    def start(setup: str, extra_env: dict | None = None) -> tuple:
        embedded = {"DATABASE_URL": "", "REDIS_URL": "", "WEDSYNC_VAR_DIR": str(tmp_path)}
        embedded.update(extra_env or {})
        env = {**service_env, **embedded}
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=240)
        out = subprocess.run(
            [*manage, "shell", "-c", setup],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        return start_daphne(embedded), json.loads(out.strip().splitlines()[-1])

    return start


@pytest.fixture(scope="session", autouse=True)
def _flush_survives_a_deadlock() -> Iterator[None]:
    """A transactional test ends with TRUNCATE of every table. A real Celery worker of the
    session may still be running a task an earlier test enqueued (after commit, for real)
    and write to two tables the TRUNCATE is locking: PostgreSQL then ends one side as the
    deadlock's victim, and when it picked the flush the next test started on leftovers.
    The flush is retried a few times instead; the worker's task is not this test's."""
    from django.db import OperationalError
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self) -> None:
        for attempt in range(5):
            try:
                return original(self)
            except Exception as exc:  # CommandError wrapping the OperationalError
                cause = exc.__cause__ or exc
                if "deadlock detected" not in str(cause) or attempt == 4:
                    raise
                if not isinstance(cause, OperationalError):
                    raise
                time.sleep(0.2 * (attempt + 1))
        return None

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]
    yield
    TransactionTestCase._fixture_teardown = original  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def _fresh_redis(django_db_setup) -> None:
    """Start the session from an empty test Redis database (never flushed mid-session:
    Celery keeps its queue bindings there)."""
    from django.conf import settings

    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def _spawn(args: list[str], env: dict, name: str) -> tuple[subprocess.Popen, Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log"
    handle = log.open("wb")
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    return proc, log


def stop_all(procs: list[Proc], timeout: float = 15) -> None:
    """SIGTERM every process first, then wait: each drains for seconds (Daphne spreads its
    1012 closes over 3 s), and one by one the session's end took over 100 s."""
    alive = [p for p in procs if p.proc.poll() is None]
    for p in alive:
        p.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in alive:
        try:
            p.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.proc.kill()
            p.proc.wait(5)


@pytest.fixture(scope="session")
def start_daphne(service_env) -> Iterator[Callable[..., Proc]]:
    """Factory: start a Daphne process on a free port; all are stopped at session end."""
    started: list[Proc] = []

    def start(extra_env: dict | None = None, port: int | None = None) -> Proc:
        port = port or free_port()
        env = {**service_env, **(extra_env or {})}
        args = [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "wedsync_ops.asgi:application",
        ]
        proc, log = _spawn(args, env, f"daphne-{port}")
        server = Proc(proc=proc, log=log, port=port, env=env)
        started.append(server)
        try:
            wait_for_http(f"{server.url}/healthz", proc=proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- daphne log ---\n{server.output()[-4000:]}") from exc
        return server

    yield start
    stop_all(started)


@pytest.fixture(scope="session")
def daphne(start_daphne) -> Proc:
    """One shared Daphne process for the session (tests using it need transactional_db)."""
    return start_daphne()


def celery_worker_args(hostname: str, concurrency: int = 2) -> list[str]:
    """The command of a real Celery worker of the project (hostname: unique, e.g. "x-<pid>@%h").

    The fixture below starts managed ones; the fault tests spawn their own to SIGKILL them."""
    args = [sys.executable, "-m", "celery", "-A", "wedsync_ops", "worker", "-l", "info"]
    args += ["-c", str(concurrency), "-n", hostname, "--without-gossip", "--without-mingle"]
    return args


@pytest.fixture(scope="session")
def start_celery_worker(service_env) -> Iterator[Callable[..., Proc]]:
    """Factory: start a real Celery worker; waits until it answers a task."""
    started: list[Proc] = []

    def start(extra_env: dict | None = None, name: str | None = None, concurrency: int = 2) -> Proc:
        env = {**service_env, **(extra_env or {})}
        hostname = name or f"test-{len(started)}-{os.getpid()}@%h"
        proc, log = _spawn(celery_worker_args(hostname, concurrency), env, "celery")
        worker = Proc(proc=proc, log=log, env=env)
        started.append(worker)
        from wedsync_ops.celery import ping

        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{worker.output()[-4000:]}")
            try:
                if ping.delay("ready").get(timeout=3) == "ready":
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"celery worker not ready:\n{worker.output()[-4000:]}"
                    ) from None
        return worker

    yield start
    stop_all(started)


@pytest.fixture(scope="session")
def celery_worker(start_celery_worker) -> Proc:
    return start_celery_worker()


# --- users ---------------------------------------------------------------------

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    from django.contrib.auth.models import Group, User

    def make(username: str, role: str | None = "operator"):
        user = User.objects.create_user(
            username=username, password=PASSWORD, email=f"{username}@example.com"
        )
        if role == "admin":
            user.groups.add(Group.objects.get_or_create(name="admins")[0])
            user.is_staff = True
            user.save()
        elif role == "operator":
            user.groups.add(Group.objects.get_or_create(name="operators")[0])
        return user

    return make


@pytest.fixture
def admin_user_(make_user):
    return make_user("alice-admin", "admin")


@pytest.fixture
def operator_user(make_user):
    return make_user("oscar-operator", "operator")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def admin_api(api_client, admin_user_):
    api_client.force_authenticate(admin_user_)
    return api_client


@pytest.fixture
def operator_api(operator_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(operator_user)
    return client


# --- browser -------------------------------------------------------------------


def run_async(coro, timeout: float = 300.0):
    """Run a coroutine to completion on a fresh loop in its own thread.

    Safe wherever a sync Playwright session holds the main thread's event loop
    (where plain asyncio.run() would refuse to start). The thread is a daemon and the wait
    is bounded, so a stuck coroutine fails its test instead of hanging the whole run."""
    import asyncio
    import threading

    result: dict = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller below
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"coroutine still running after {timeout}s")
    if "error" in result:
        raise result["error"]
    return result.get("value")


# Module-scoped: sync Playwright keeps an event loop running in the main thread while it is
# open, which would break asyncio.run() in every later test module.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/ensure_chromium.sh")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def page(browser):
    """A fresh browser page. Every page of every browser test is also held to the
    product's offline promise (no CDN, no font service, no telemetry): any request or
    WebSocket it opens to another host fails the test."""
    from urllib.parse import urlparse

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.on("websocket", lambda socket: seen.append(socket.url))
    yield page
    context.close()
    foreign = [
        url
        for url in seen
        if urlparse(url).scheme not in ("data", "blob", "about")
        and urlparse(url).hostname not in LOCAL_HOSTS
    ]
    assert not foreign, f"the page made requests off this machine: {foreign[:5]}"


def login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- private services (for tests that kill them) --------------------------------


@pytest.fixture
def start_redis(tmp_path) -> Iterator[Callable[..., Proc]]:
    """Factory: a private redis-server on a free port (kill it without hurting others).

    `restart(server)` brings one back on the same port after a kill."""
    started: list[Proc] = []

    def start(port: int | None = None) -> Proc:
        port = port or free_port()
        args = [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ]
        proc, log = _spawn(args, dict(os.environ), f"redis-{port}")
        server = Proc(proc=proc, log=log, port=port)
        started.append(server)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(
                        f"redis on {port} did not start:\n{server.output()}"
                    ) from None
                time.sleep(0.05)
        return server

    yield start
    for server in started:
        server.stop(signal.SIGKILL)


# --- a private PostgreSQL cluster (for the tests that crash it) ----------------

PG_BIN = "/usr/lib/postgresql/15/bin"


@dataclass
class PrivatePostgres:
    """A cluster of our own on a free port: killing it hurts nobody else.

    Used by tests/monitoring (ingest survives a crash) and tests/proof (the fault suite)."""

    datadir: str
    port: int
    dbname: str = "wedsync"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", self.datadir, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def start(self) -> None:
        # fsync off only spares the disk: a process crash (what we test) keeps the OS cache.
        # synchronous_commit stays on: off would lose acknowledged commits on a crash.
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", f"{self.datadir}/server.log", "-w", "start")

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend: a crash, not a shutdown."""
        import psutil

        pid = int(Path(self.datadir, "postmaster.pid").read_text().splitlines()[0])
        master = psutil.Process(pid)
        victims = [master, *master.children(recursive=True)]
        for proc in victims:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        psutil.wait_procs(victims, timeout=10)

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "stop", check=False)

    def clone_test_database(self) -> None:
        """Copy the test database (schema and committed rows) into this cluster
        (pg_dump is several times faster than migrating a fresh one)."""
        from django.db import connection

        d = connection.settings_dict
        source = (
            f"postgres://{d.get('USER') or 'postgres'}@{d.get('HOST') or '127.0.0.1'}:"
            f"{d.get('PORT') or 5432}/{d['NAME']}"
        )
        subprocess.run(
            [f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
            + [self.dbname],
            check=True,
            capture_output=True,
            timeout=60,
        )
        dump = subprocess.run(
            [f"{PG_BIN}/pg_dump", "--no-owner", "--no-privileges", source],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [f"{PG_BIN}/psql", "-q", "-v", "ON_ERROR_STOP=1", self.url],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private, running cluster (empty: call clone_test_database() once your rows exist)."""
    import shutil
    import tempfile

    datadir = tempfile.mkdtemp(prefix="wso-pg-")
    shutil.chown(datadir, "postgres", "postgres")
    os.chmod(datadir, 0o700)
    subprocess.run(
        ["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", datadir]
        + ["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = PrivatePostgres(datadir=datadir, port=free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(datadir, ignore_errors=True)


# --- the front door (HAProxy + gunicorn + Daphne, as the Procfile runs it) ---------


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
