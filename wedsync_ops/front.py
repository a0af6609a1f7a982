"""The full stack's front: HAProxy on $PORT, gunicorn for HTTP, one Daphne per core.

    python -m wedsync_ops.front proxy            # render deploy/haproxy.cfg, exec HAProxy
    python -m wedsync_ops.front serve            # run and keep up the backend processes
    python -m wedsync_ops.front rolling-restart  # restart them one by one, no failed request
    python -m wedsync_ops.front status           # what runs, and what the proxy thinks of it

The Procfile starts `proxy` and `serve` like any other process. `serve` is a small
supervisor: it starts FRONT_HTTP_PROCESSES gunicorn processes (gthread, FRONT_HTTP_THREADS
threads each) and FRONT_WS_PROCESSES Daphne processes (both default to the core count),
each on its own Unix socket under FRONT_RUN_DIR, and starts again any that exits; that is
what lets `rolling-restart` SIGTERM them one at a time. SIGTERM to `serve` drains them all.

Like gunicorn's config this reads the environment itself: the supervisor and the proxy
never load Django (the processes they start do, with wedsync_ops/settings.py).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "haproxy.cfg"
# HAProxy checks every second and needs 2 failures (deploy/haproxy.cfg): a draining
# process fails its check for longer than that before it stops taking requests.
CHECK_INTERVAL_S = 1.0
CHECK_FALL = 2
DRAIN_SECONDS = CHECK_INTERVAL_S * CHECK_FALL + 1.0


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Config:
    port: int
    bind: str
    run_dir: Path
    http_processes: int
    http_threads: int
    ws_processes: int
    grace_s: float
    health_host: str
    ws_app: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env: Mapping[str, str] = os.environ if environ is None else environ
        var = Path(env.get("WEDSYNC_VAR_DIR") or ROOT / "var")
        hosts = [h.strip() for h in env.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
        # The health check's Host must pass ALLOWED_HOSTS ("*" and ".domain" are patterns).
        host = next((h for h in hosts if h != "*" and not h.startswith(".")), "localhost")
        return cls(
            port=int(env.get("FRONT_PORT") or env.get("PORT") or 8000),
            bind=env.get("FRONT_BIND", "0.0.0.0"),
            run_dir=Path(env.get("FRONT_RUN_DIR") or var / "front"),
            http_processes=int(env.get("FRONT_HTTP_PROCESSES") or cores()),
            # gthread: threads wait on PostgreSQL and Redis most of the time; 4 a core
            # measured best on 2 cores (bench/bench_http.py).
            http_threads=int(env.get("FRONT_HTTP_THREADS") or 4),
            ws_processes=int(env.get("FRONT_WS_PROCESSES") or cores()),
            grace_s=float(env.get("FRONT_SHUTDOWN_GRACE_SECONDS") or 10.0),
            health_host=host,
            # A benchmark serves its baseline consumer beside the product's this way.
            ws_app=env.get("FRONT_WS_APP") or "wedsync_ops.asgi:application",
        )

    def backends(self) -> list[Backend]:
        http = [Backend("gunicorn", f"http{i + 1}", self) for i in range(self.http_processes)]
        ws = [Backend("daphne", f"ws{i + 1}", self) for i in range(self.ws_processes)]
        return http + ws

    @property
    def state_file(self) -> Path:
        return self.run_dir / "processes.json"

    @property
    def stats_socket(self) -> Path:
        return self.run_dir / "haproxy.sock"


@dataclass(frozen=True)
class Backend:
    kind: str  # "gunicorn" | "daphne": also the HAProxy backend's name
    name: str  # the HAProxy server's name
    config: Config

    @property
    def socket(self) -> Path:
        return self.config.run_dir / f"{self.name}.sock"

    def command(self) -> list[str]:
        if self.kind == "gunicorn":
            return [
                sys.executable, "-m", "wedsync_ops.gunicorn_app",
                "--bind", f"unix:{self.socket}",
                "--worker-class", "gthread",
                "--workers", "1",
                "--threads", str(self.config.http_threads),
                # Longer than HAProxy's idle-connection pool keeps a connection (5 s):
                # the proxy, not gunicorn, decides when a kept-alive connection ends.
                "--keep-alive", "30",
                "--graceful-timeout", str(round(self.config.grace_s)),
                "--name", f"wedsync-{self.name}",
                # gunicorn 23+'s control socket defaults to one path per user: one each.
                "--control-socket", str(self.config.run_dir / f"{self.name}.ctl"),
                "wedsync_ops.wsgi:application",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "daphne",
            "-u", str(self.socket),
            "-v", "0",  # no access log line per request (the proxy logs errors)
            "--application-close-timeout", str(round(self.config.grace_s)),
            self.config.ws_app,
        ]  # fmt: skip

    def server_line(self) -> str:
        # gunicorn: at most `threads` requests at once, the rest queue in the proxy.
        limit = f" maxconn {self.config.http_threads}" if self.kind == "gunicorn" else ""
        return f"    server {self.name} {self.socket} check{limit}"


def max_connections(config: Config) -> int:
    """10,000 WebSockets per Daphne and room for HTTP, within the open-file limit (HAProxy
    needs two descriptors a connection and refuses to start above the hard limit)."""
    import resource

    wanted = 12_000 * config.ws_processes + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return wanted
    return max(1000, min(wanted, (hard - 200) // 2))


def render_haproxy(config: Config) -> str:
    servers: dict[str, list[str]] = {"gunicorn": [], "daphne": []}
    for backend in config.backends():
        servers[backend.kind].append(backend.server_line())
    return TEMPLATE.read_text().format(
        maxconn=max_connections(config),
        run_dir=config.run_dir,
        bind=config.bind,
        port=config.port,
        health_host=config.health_host,
        gunicorn_servers="\n".join(servers["gunicorn"]),
        daphne_servers="\n".join(servers["daphne"]),
    )


def proxy(config: Config) -> None:
    """Render the configuration and become HAProxy (its signals are the Procfile's)."""
    config.run_dir.mkdir(parents=True, exist_ok=True)
    path = config.run_dir / "haproxy.cfg"
    path.write_text(render_haproxy(config))
    check = subprocess.run(["haproxy", "-c", "-q", "-f", str(path)], capture_output=True)
    if check.returncode != 0:
        sys.exit(f"{path} is not valid:\n{check.stderr.decode()}")
    os.execvp("haproxy", ["haproxy", "-db", "-f", str(path)])


# --- the supervisor ------------------------------------------------------------------------


class Supervisor:
    """Starts every backend process and starts again any that exits, until SIGTERM."""

    def __init__(self, config: Config):
        self.config = config
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def child_env(self) -> dict:
        env = dict(os.environ)
        env["FRONT_DRAIN_SECONDS"] = str(DRAIN_SECONDS)
        env["FRONT_SHUTDOWN_GRACE_SECONDS"] = str(self.config.grace_s)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def start(self, backend: Backend) -> None:
        backend.socket.unlink(missing_ok=True)
        self.procs[backend.name] = subprocess.Popen(backend.command(), env=self.child_env())
        self.write_state()

    def write_state(self) -> None:
        state = {
            b.name: {"pid": proc.pid, "socket": str(b.socket), "kind": b.kind}
            for b in self.config.backends()
            if (proc := self.procs.get(b.name)) is not None
        }
        tmp = self.config.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.config.state_file)

    def run(self) -> int:
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        backends = self.config.backends()
        print(
            f"front: {self.config.http_processes} gunicorn × {self.config.http_threads} "
            f"threads, {self.config.ws_processes} Daphne, sockets in {self.config.run_dir}",
            flush=True,
        )
        for backend in backends:
            self.start(backend)
        restarts: dict[str, list[float]] = {}
        while not self.stopping:
            time.sleep(0.2)
            for backend in backends:
                proc = self.procs[backend.name]
                if self.stopping or proc.poll() is None:
                    continue
                # A crash loop must not spin: at most 5 starts a minute per process.
                recent = [t for t in restarts.get(backend.name, []) if time.time() - t < 60]
                if len(recent) >= 5:
                    continue
                restarts[backend.name] = [*recent, time.time()]
                print(
                    f"front: {backend.name} exited ({proc.returncode}); starting it again",
                    flush=True,
                )
                self.start(backend)
        return self.stop_all()

    def _on_signal(self, number: int, frame: object) -> None:
        self.stopping = True

    def stop_all(self) -> int:
        """Drain every process at once (each one fails its health check, finishes, exits);
        SIGKILL whatever outlives the drain, the grace and a margin."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + DRAIN_SECONDS + self.config.grace_s + 5
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.config.state_file.unlink(missing_ok=True)
        return 0


# --- status and the rolling restart ----------------------------------------------------------


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float = 2.0):
        super().__init__("localhost", timeout=timeout)
        self.path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def healthz(sock: Path, host: str) -> int | None:
    """The status of GET /healthz on a backend's socket, None if it does not answer."""
    conn = UnixHTTPConnection(sock)
    try:
        conn.request("GET", "/healthz", headers={"Host": host})
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def haproxy_status(config: Config) -> dict[str, str]:
    """{server name: "UP" | "DOWN" | ...} from HAProxy's stats socket ({} without one)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(config.stats_socket))
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return {}
    rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
    return {
        row["svname"]: row["status"].split()[0]
        for row in rows
        if row["pxname"] in ("gunicorn", "daphne") and row["svname"] not in ("FRONTEND", "BACKEND")
    }


def read_state(config: Config) -> dict:
    try:
        return json.loads(config.state_file.read_text())
    except (OSError, ValueError):
        return {}


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def rolling_restart(config: Config, log=print) -> None:
    """SIGTERM each backend process in turn; before the next one, wait until its successor
    answers /healthz and (with the proxy's stats socket) the proxy has it UP again."""
    state = read_state(config)
    if not state:
        raise SystemExit(f"no running front processes ({config.state_file} missing)")
    with_proxy = bool(haproxy_status(config))
    timeout = DRAIN_SECONDS + config.grace_s + 60
    for name, old in state.items():
        started = time.monotonic()
        log(f"{name}: SIGTERM to {old['pid']}")
        os.kill(old["pid"], signal.SIGTERM)
        wait_until(lambda pid=old["pid"]: not pid_alive(pid), timeout, f"{name} exit")

        def back_up(name=name, old=old) -> bool:
            new = read_state(config).get(name)
            if not new or new["pid"] == old["pid"]:
                return False
            if healthz(Path(new["socket"]), config.health_host) != 200:
                return False
            return not with_proxy or haproxy_status(config).get(name) == "UP"

        wait_until(back_up, timeout, f"{name} healthy again")
        log(
            f"{name}: back as {read_state(config)[name]['pid']} in "
            f"{time.monotonic() - started:.1f} s"
        )


def status(config: Config) -> None:
    proxy_view = haproxy_status(config)
    for name, entry in read_state(config).items():
        health = healthz(Path(entry["socket"]), config.health_host)
        print(
            f"{name:6} {entry['kind']:8} pid {entry['pid']:>7}  /healthz {health}  "
            f"proxy {proxy_view.get(name, '-')}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wedsync_ops.front")
    parser.add_argument("command", choices=["proxy", "serve", "rolling-restart", "status"])
    args = parser.parse_args(argv)
    config = Config.from_env()
    if args.command == "proxy":
        proxy(config)
    elif args.command == "serve":
        return Supervisor(config).run()
    elif args.command == "rolling-restart":
        rolling_restart(config)
    else:
        status(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
