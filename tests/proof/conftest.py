"""Fixtures of the proof suite: two suppliers with weddings, and every kind of caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest


@dataclass
class Caller:
    """Someone calling the API: how they authenticate and what they should be allowed."""

    name: str
    headers: dict = field(default_factory=dict)
    user: object | None = None
    supplier: object | None = None


@dataclass
class World:
    supplier_a: object
    supplier_b: object
    token_a: str
    token_b: str
    wedding_a: object
    wedding_b: object
    callers: dict


@pytest.fixture
def world(make_user) -> World:
    from rest_framework.authtoken.models import Token

    from apps.weddings.models import Region, Supplier, Venue, Wedding

    region, _ = Region.objects.get_or_create(
        code="proof-uk", defaults={"name": "Proof UK", "timezone": "Europe/London"}
    )
    venues = [
        Venue.objects.create(name=name, venue_type=kind, region=region, timezone="Europe/London")
        for name, kind in (("St Proof's", "church"), ("Proof Gardens", "garden"))
    ]
    supplier_a = Supplier.objects.create(name="Alpha Photo", kind="photographer")
    supplier_b = Supplier.objects.create(name="Beta Catering", kind="caterer")
    token_a, token_b = supplier_a.issue_token(), supplier_b.issue_token()
    now = datetime.now(UTC)
    weddings = []
    pairs = ((supplier_a, "Ada & Alan", venues[0]), (supplier_b, "Bea & Bob", venues[1]))
    for supplier, couple, venue in pairs:
        wedding = Wedding.objects.create(
            date=now.date(),
            ceremony_time=(now - timedelta(minutes=30)).time().replace(microsecond=0),
            reception_end_time=(now + timedelta(hours=3)).time().replace(microsecond=0),
            venue=venue,
            couple_name=couple,
            status="in_progress",
        )
        wedding.suppliers.add(supplier)
        weddings.append(wedding)
    operator = make_user("matrix-operator", "operator")
    admin = make_user("matrix-admin", "admin")
    no_role = make_user("matrix-norole", None)

    def staff(user) -> dict:
        return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}

    callers = {
        "anonymous": Caller("anonymous"),
        "no_role": Caller("no_role", staff(no_role), user=no_role),
        "operator": Caller("operator", staff(operator), user=operator),
        "admin": Caller("admin", staff(admin), user=admin),
        "supplier": Caller(
            "supplier", {"HTTP_AUTHORIZATION": f"Token {token_a}"}, supplier=supplier_a
        ),
        "other_supplier": Caller(
            "other_supplier", {"HTTP_AUTHORIZATION": f"Token {token_b}"}, supplier=supplier_b
        ),
    }
    return World(supplier_a, supplier_b, token_a, token_b, weddings[0], weddings[1], callers)


# --- a private PostgreSQL cluster (for tests that crash it) ----------------------

PG_BIN = "/usr/lib/postgresql/15/bin"


@dataclass
class PrivatePostgres:
    """A cluster of our own on a free port: killing it hurts nobody else."""

    datadir: str
    port: int
    dbname: str = "wedsync"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.dbname}"

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
        # fsync off only spares the disk: a process crash (what we test) keeps the OS cache.
        # synchronous_commit stays on: off would lose acknowledged commits on a crash.
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", f"{self.datadir}/server.log", "-w", "start")

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend: a crash, not a shutdown."""
        import os
        import signal

        import psutil

        pid = int(open(f"{self.datadir}/postmaster.pid").readline())
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
        """Copy the test database (schema and committed rows) into this cluster."""
        import subprocess

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
def private_postgres():
    """A private, running cluster (empty: call clone_test_database() once your rows exist)."""
    import os
    import shutil
    import subprocess
    import tempfile

    from tests.conftest import free_port

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
