"""Fixtures of the monitoring tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def heard():
    """Every samples_ingested signal sent during the test (after commit)."""
    from apps.monitoring.signals import samples_ingested

    received: list[list[tuple]] = []

    def listener(sender, samples, **kwargs):
        received.append(samples)

    samples_ingested.connect(listener, weak=False)
    yield received
    samples_ingested.disconnect(listener)


# --- a private PostgreSQL cluster (for the test that crashes it) -----------------

PG_BIN = "/usr/lib/postgresql/15/bin"


class PrivatePostgres:
    """A cluster of our own on a free port: killing it hurts nobody else."""

    def __init__(self, datadir: str, port: int):
        self.datadir = datadir
        self.port = port
        self.url = f"postgres://postgres@127.0.0.1:{port}/wedsync"

    def _pg_ctl(self, *args: str, check: bool = True):
        import subprocess

        return subprocess.run(
            ["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", self.datadir, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", f"{self.datadir}/server.log", "-w", "start")

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends: a crash, not a shutdown."""
        import os
        import signal

        import psutil

        with open(f"{self.datadir}/postmaster.pid") as handle:
            master = psutil.Process(int(handle.readline()))
        victims = [master, *master.children(recursive=True)]
        for proc in victims:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        psutil.wait_procs(victims, timeout=10)

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "stop", check=False)


@pytest.fixture
def private_postgres():
    import os
    import shutil
    import subprocess
    import tempfile

    from tests.conftest import free_port

    datadir = tempfile.mkdtemp(prefix="wsometrics-pg-")
    shutil.chown(datadir, "postgres", "postgres")
    os.chmod(datadir, 0o700)
    subprocess.run(
        ["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", datadir]
        + ["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = PrivatePostgres(datadir, free_port())
    cluster.start()
    subprocess.run(
        [f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"]
        + ["wedsync"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(datadir, ignore_errors=True)
