"""Schemathesis over the whole OpenAPI schema against live full stacks with the demo data.

One private stack per role (admin, operator, supplier token): its own PostgreSQL database
migrated and filled by `seed_demo` (so detail routes are reached with real ids, and the
schema's links feed created ids to them), its own Redis database, and the front door as
production runs it (HAProxy -> gunicorn for HTTP, Daphne for WebSockets). Schemathesis
runs every phase — examples, coverage (boundary and wrong-type values of every field,
wrong content types), fuzzing (FUZZ_EXAMPLES per operation, 25 by default), stateful
(POST -> detail links) — with a fixed seed. The three roles run side by side: each run
is one sequential client, so together they keep both cores busy.

Checks: no server error; responses match the schema (body and content type); and
`refused_write_changes_nothing` (tests/proof/fuzz_hooks.py): a refused PUT/PATCH/DELETE
leaves the record exactly as it was. Every operation of the schema must have been tested.
The figures of a run (time, cases) are in test-artifacts/schemathesis-<role>.txt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from rest_framework.exceptions import ValidationError

from tests.conftest import ARTIFACTS, PG_BIN, ROOT, FrontDoor, Proc, _spawn, free_port
from tests.proof.test_authz_matrix import OPERATIONS

ROLES = ("admin", "operator", "supplier")

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
PHASES = os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing,stateful")
SEED = int(os.environ.get("FUZZ_SEED", "20261203"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "response_schema_conformance",
        "content_type_conformance",
        "refused_write_changes_nothing",
    ]
)
# The three runs at full depth take minutes (docs/proof.md has the figures); bounded here.
RUN_TIMEOUT = int(os.environ.get("FUZZ_RUN_TIMEOUT", "3600"))


def _manage(env: dict, *args: str, timeout: int = 600) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def _seed(env: dict, workdir) -> dict[str, str]:
    """Migrate and fill one database with the demo data; {role: token} of its users."""
    _manage(env, "migrate", "--noinput", "-v0")
    credentials = workdir / "credentials.json"
    _manage(env, "seed_demo", "--credentials", str(credentials))
    demo = json.loads(credentials.read_text())
    operator_token = _manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "from rest_framework.authtoken.models import Token; "
        f"u = User.objects.get(username={demo['operator']['username']!r}); "
        "print(Token.objects.get_or_create(user=u)[0].key)",
    ).split()[-1]
    return {
        "admin": demo["api_token"],
        "operator": operator_token,
        "supplier": demo["suppliers"][0]["token"],
    }


@dataclass
class Stack:
    """One role's private full stack: the front door on its own demo database."""

    role: str
    door: FrontDoor
    token: str


@pytest.fixture(scope="module")
def fuzz_stacks(service_env, start_front, tmp_path_factory) -> Iterator[dict[str, Stack]]:
    """{role: Stack}. A database of its own per role, so one role's accepted writes can
    never look like a change behind another role's refused write; one redis-server, a
    database number and key prefix per role. Each stack is served as in production:
    HAProxy in front of gunicorn (HTTP) and Daphne (WebSockets)."""
    from django.conf import settings

    workdir = tmp_path_factory.mktemp("fuzz-stack")
    redis_port = free_port()
    redis_proc, redis_log = _spawn(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", ""]
        + ["--appendonly", "no", "--dir", str(workdir)],
        dict(os.environ),
        f"redis-fuzz-{redis_port}",
    )
    redis = Proc(proc=redis_proc, log=redis_log, port=redis_port)
    db = settings.DATABASES["default"]
    pg = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432), "-U", "postgres"]
    names = {role: f"{db['NAME']}_fuzz_{role}" for role in ROLES}
    overrides: dict[str, dict[str, str]] = {}
    for number, role in enumerate(ROLES):
        subprocess.run([f"{PG_BIN}/dropdb", *pg, "--if-exists", "--force", names[role]], check=True)
        subprocess.run([f"{PG_BIN}/createdb", *pg, names[role]], check=True)
        overrides[role] = {
            "DATABASE_URL": f"postgres://postgres@{pg[1]}:{pg[3]}/{names[role]}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/{number}",
            "REDIS_PREFIX": f"fuzz{role}",
            # The per-user throttle would answer the fuzzer with 429s instead of the API.
            "THROTTLE_USER": "1000000/min",
            # Persistent connections, as the full stack runs (the session's test database
            # is served with 0; a new PostgreSQL backend per request was 6% of a request).
            "CONN_MAX_AGE": "60",
            "LOG_LEVEL": "WARNING",
        }
    try:
        with ThreadPoolExecutor(len(ROLES)) as pool:
            seeded = {
                role: pool.submit(
                    _seed, {**service_env, **overrides[role]}, tmp_path_factory.mktemp(role)
                )
                for role in ROLES
            }
            tokens = {role: future.result()[role] for role, future in seeded.items()}
        # One gunicorn and one Daphne each: schemathesis sends one request at a time.
        yield {
            role: Stack(
                role,
                start_front(
                    **overrides[role],
                    FRONT_HTTP_PROCESSES="1",
                    FRONT_WS_PROCESSES="1",
                ),
                tokens[role],
            )
            for role in ROLES
        }
    finally:
        redis.kill()
        for name in names.values():
            subprocess.run([f"{PG_BIN}/dropdb", *pg, "--if-exists", "--force", name], check=False)


def _config(path) -> None:
    # No request cache: every run is a real run, never a replay of an earlier one.
    path.write_text("[cache]\nenabled = false\n")


# The coverage phase sends every value of an enum to every operation and media type that
# has it: the 599 names of TimezoneEnum made ~16,000 of a role's cases, all down the one
# zoneinfo lookup. The fuzzer gets these representatives (first, last, the shapes a name
# can take); test_every_published_timezone_is_accepted checks all 599 in-process.
TIMEZONE_SAMPLE = (
    "Africa/Abidjan",
    "Zulu",
    "UTC",
    "Europe/London",
    "America/Argentina/Buenos_Aires",
    "America/Port-au-Prince",
    "Etc/GMT+5",
    "Etc/GMT-14",
    "Asia/Kathmandu",
    "Pacific/Chatham",
)


def _trim_timezones(document: dict) -> dict:
    """Requests draw from TIMEZONE_SAMPLE; responses are still checked against all names."""
    schemas = document["components"]["schemas"]
    assert set(TIMEZONE_SAMPLE) <= set(schemas["TimezoneEnum"]["enum"]), "a sample is not published"
    schemas["TimezoneSample"] = {**schemas["TimezoneEnum"], "enum": list(TIMEZONE_SAMPLE)}
    full, sample = "#/components/schemas/TimezoneEnum", "#/components/schemas/TimezoneSample"

    def point_at_sample(node: object) -> object:
        if isinstance(node, dict):
            if node.get("$ref") == full:
                return {**node, "$ref": sample}
            return {key: point_at_sample(value) for key, value in node.items()}
        if isinstance(node, list):
            return [point_at_sample(value) for value in node]
        return node

    requests = [name for name in schemas if name.endswith("Request")]
    for name in requests:  # drf-spectacular's components of request bodies: FooRequest
        schemas[name] = point_at_sample(schemas[name])
    assert any(sample in json.dumps(schemas[name]) for name in requests), "nothing trimmed"
    return document


@pytest.mark.django_db
def test_every_published_timezone_is_accepted(client):
    """What the fuzzer's schema leaves out: every name of the published TimezoneEnum is
    the tz database's and is accepted by every serializer with a timezone field."""
    from zoneinfo import available_timezones

    from apps.alerts.serializers import MaintenanceWindowSerializer
    from apps.weddings.serializers import RegionSerializer, VenueSerializer

    document = client.get("/api/schema/?format=json").json()
    published = document["components"]["schemas"]["TimezoneEnum"]["enum"]
    assert set(published) == available_timezones()
    for serializer in (MaintenanceWindowSerializer, RegionSerializer, VenueSerializer):
        field = serializer().fields["timezone"]
        refused = [name for name in published if field.run_validation(name) != name]
        assert not refused, f"{serializer.__name__} refused {refused[:5]}"
        with pytest.raises(ValidationError):
            field.run_validation("Mars/Olympus_Mons")


def _schemathesis(stack: Stack) -> tuple[list[str], dict[str, str], Path]:
    """The command line and environment of one role's run, and its JUnit report."""
    authorization = f"Token {stack.token}"
    junit = ARTIFACTS / f"schemathesis-{stack.role}.xml"
    config = ARTIFACTS / "schemathesis.toml"
    _config(config)
    # Fetched here with a generous timeout: on a loaded machine generating the schema took
    # longer than schemathesis' 10 s read timeout for loading it.
    schema = ARTIFACTS / f"openapi-{stack.role}.json"
    with urllib.request.urlopen(f"{stack.door.url}/api/schema/?format=json", timeout=180) as r:
        document = json.load(r)
    schema.write_text(json.dumps(_trim_timezones(document)))
    args = [
        shutil.which("schemathesis", path=str(ROOT / ".venv" / "bin")) or "schemathesis",
        "--config-file",
        str(config),
        "run",
        str(schema),
        "--url",
        stack.door.url,
        "-H",
        f"Authorization: {authorization}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--phases",
        PHASES,
        # One worker: with two, hypothesis' lambda-source cache raced inside schemathesis
        # (an internal "AST constructor recursion depth mismatch" error, not our API).
        # The roles run side by side instead, one process each.
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-shrink",
        # Multipart bodies of a few operations (nested objects as form fields) make the
        # generator discard many drafts; the run goes on with those it keeps.
        "--suppress-health-check",
        "filter_too_much",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
        "--output-sanitize",
        "true",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.proof.fuzz_hooks",
        "FUZZ_BASE_URL": stack.door.url,
        "FUZZ_AUTHORIZATION": authorization,
    }
    return args, env, junit


@dataclass
class Run:
    returncode: int | None  # None: cut short by RUN_TIMEOUT
    output: str
    junit: Path
    seconds: float


@pytest.fixture(scope="module")
def fuzz_runs(fuzz_stacks: dict[str, Stack]) -> dict[str, Run]:
    """The three roles' runs, side by side (each is one sequential client: together they
    keep both cores busy), each against its own stack."""
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    live = {}
    for role, stack in fuzz_stacks.items():
        args, env, junit = _schemathesis(stack)
        # Straight to the artifact, so a run cut short still leaves what it saw.
        report = ARTIFACTS / f"schemathesis-{role}.txt"
        sink = report.open("w")
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        live[role] = (proc, sink, report, junit)
    finished: dict[str, tuple[int | None, float]] = {}
    while len(finished) < len(live):  # bounded by RUN_TIMEOUT
        for role, (proc, *_rest) in live.items():
            if role not in finished and proc.poll() is not None:
                finished[role] = (proc.returncode, time.monotonic() - started)
        if time.monotonic() - started > RUN_TIMEOUT:
            for role, (proc, *_rest) in live.items():
                if role not in finished:
                    proc.kill()
                    proc.wait(10)
                    finished[role] = (None, time.monotonic() - started)
        time.sleep(0.5)
    runs = {}
    for role, (_proc, sink, report, junit) in live.items():
        returncode, elapsed = finished[role]
        sink.write(f"\n[{role}: {elapsed:.0f} s]\n")
        sink.close()
        runs[role] = Run(returncode, report.read_text(errors="replace"), junit, elapsed)
    return runs


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT + 600)
@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(fuzz_stacks, fuzz_runs, role):
    run = fuzz_runs[role]
    assert run.returncode is not None, f"cut short after {RUN_TIMEOUT} s:\n{run.output[-4000:]}"
    assert run.returncode == 0, run.output[-8000:]
    assert "Server error" not in run.output, run.output[-8000:]
    # Not vacuous: every operation of the schema was called (one JUnit case each, none
    # skipped), so an operation schemathesis could not reach cannot pass unnoticed.
    suite = ET.parse(run.junit).getroot()
    tested = {case.get("name") for case in suite.iter("testcase") if case.find("skipped") is None}
    untested = sorted({f"{method} {path}" for path, method in OPERATIONS} - tested)
    assert not untested, f"operations schemathesis did not test: {untested}\n{run.output[-2000:]}"
    door = fuzz_stacks[role].door
    for proc in (door.proxy, door.serve):
        assert proc.proc.poll() is None, f"a front process died:\n{proc.output()[-4000:]}"
    log = door.serve.output()
    assert "Traceback" not in log, log[-4000:]
