"""Schemathesis over the whole OpenAPI schema against a live full stack with the demo data.

A private stack for this module: its own PostgreSQL database migrated and filled by
`seed_demo` (so detail routes are reached with real ids, and the schema's links feed
created ids to them), its own redis-server, one Daphne. Schemathesis runs every phase —
examples, coverage (boundary and wrong-type values of every field, wrong content types),
fuzzing (FUZZ_EXAMPLES per operation, 25 by default), stateful (POST -> detail links) —
with a fixed seed, as admin, as operator and as a supplier token.

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

import pytest

from tests.conftest import ARTIFACTS, PG_BIN, ROOT, Proc, _spawn, free_port
from tests.proof.test_authz_matrix import OPERATIONS

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
# A role's run at full depth takes minutes (docs/proof.md has the figures); bounded here.
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


@pytest.fixture(scope="module")
def fuzz_stack(service_env, start_daphne, tmp_path_factory):
    """(daphne, {role: token}) on a demo-seeded database and a redis of their own."""
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
    name = f"{db['NAME']}_fuzzstack"
    pg = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432), "-U", "postgres"]
    subprocess.run([f"{PG_BIN}/dropdb", *pg, "--if-exists", "--force", name], check=True)
    subprocess.run([f"{PG_BIN}/createdb", *pg, name], check=True)
    env = {
        **service_env,
        "DATABASE_URL": f"postgres://postgres@{pg[1]}:{pg[3]}/{name}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        # The per-user throttle would answer the fuzzer with 429s instead of the API.
        "THROTTLE_USER": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }
    try:
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
        tokens = {
            "admin": demo["api_token"],
            "operator": operator_token,
            "supplier": demo["suppliers"][0]["token"],
        }
        server = start_daphne(env)
        yield server, tokens
        server.stop()
    finally:
        redis.kill()
        subprocess.run([f"{PG_BIN}/dropdb", *pg, "--if-exists", "--force", name], check=False)


def _config(path) -> None:
    # No request cache: every run is a real run, never a replay of an earlier one.
    path.write_text("[cache]\nenabled = false\n")


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT + 120)
@pytest.mark.parametrize("role", ["admin", "operator", "supplier"])
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(fuzz_stack, role):
    server, tokens = fuzz_stack
    authorization = f"Token {tokens[role]}"
    ARTIFACTS.mkdir(exist_ok=True)
    junit = ARTIFACTS / f"schemathesis-{role}.xml"
    config = ARTIFACTS / "schemathesis.toml"
    _config(config)
    # Fetched here with a generous timeout: on a loaded machine generating the schema took
    # longer than schemathesis' 10 s read timeout for loading it.
    schema = ARTIFACTS / "openapi.json"
    with urllib.request.urlopen(f"{server.url}/api/schema/?format=json", timeout=180) as r:
        schema.write_bytes(r.read())
    args = [
        shutil.which("schemathesis", path=str(ROOT / ".venv" / "bin")) or "schemathesis",
        "--config-file",
        str(config),
        "run",
        str(schema),
        "--url",
        server.url,
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
        "FUZZ_BASE_URL": server.url,
        "FUZZ_AUTHORIZATION": authorization,
    }
    # Straight to the artifact, so a run cut short by the timeout still leaves what it saw.
    report = ARTIFACTS / f"schemathesis-{role}.txt"
    started = time.monotonic()
    with report.open("w") as sink:
        returncode = subprocess.run(
            args, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT
        ).returncode
    elapsed = time.monotonic() - started
    output = report.read_text(errors="replace")
    with report.open("a") as sink:
        sink.write(f"\n[{role}: {elapsed:.0f} s]\n")
    assert returncode == 0, output[-8000:]
    assert "Server error" not in output, output[-8000:]
    # Not vacuous: every operation of the schema was called (one JUnit case each, none
    # skipped), so an operation schemathesis could not reach cannot pass unnoticed.
    suite = ET.parse(junit).getroot()
    tested = {case.get("name") for case in suite.iter("testcase") if case.find("skipped") is None}
    untested = sorted({f"{method} {path}" for path, method in OPERATIONS} - tested)
    assert not untested, f"operations schemathesis did not test: {untested}\n{output[-2000:]}"
    assert server.proc.poll() is None, "the Daphne process died"
    log = server.output()
    assert "Traceback" not in log, log[-4000:]
