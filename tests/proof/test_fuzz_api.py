"""Schemathesis over the whole OpenAPI schema against a live Daphne, as admin and as operator.

Checks: no server error, responses match the schema (body and content type). Bounded
(examples per operation, a fixed seed) so both roles run in CI in well under 3 minutes;
FUZZ_EXAMPLES=200 for a deeper run by hand.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ARTIFACTS, ROOT
from tests.proof.test_authz_matrix import OPERATIONS

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# The coverage phase (boundary values of every parameter) runs when asked: FUZZ_PHASES.
PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing")
SEED = int(os.environ.get("FUZZ_SEED", "20261129"))
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@pytest.fixture(scope="module")
def fuzz_daphne(start_daphne):
    # The per-user API throttle would answer the fuzzer with 429s instead of the API.
    return start_daphne({"THROTTLE_USER": "1000000/min", "LOG_LEVEL": "WARNING"})


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["admin", "operator"])
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(fuzz_daphne, make_user, role):
    from rest_framework.authtoken.models import Token

    user = make_user(f"fuzz-{role}", role)
    token = Token.objects.create(user=user).key
    ARTIFACTS.mkdir(exist_ok=True)
    junit = ARTIFACTS / f"schemathesis-{role}.xml"
    args = [
        str(ROOT / ".venv" / "bin" / "schemathesis"),
        "run",
        f"{fuzz_daphne.url}/api/schema/",
        "--url",
        fuzz_daphne.url,
        "-H",
        f"Authorization: Token {token}",
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
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
        "--output-sanitize",
        "true",
    ]
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=240)
    output = result.stdout + result.stderr
    (ARTIFACTS / f"schemathesis-{role}.txt").write_text(output)
    assert result.returncode == 0, output[-6000:]
    # Not vacuous: every operation of the schema was called (one JUnit case each, none
    # skipped), so an operation schemathesis could not reach cannot pass unnoticed.
    suite = ET.parse(junit).getroot()
    tested = {case.get("name") for case in suite.iter("testcase") if case.find("skipped") is None}
    untested = sorted({f"{method} {path}" for path, method in OPERATIONS} - tested)
    assert not untested, f"operations schemathesis did not test: {untested}\n{output[-2000:]}"
    assert fuzz_daphne.proc.poll() is None
    assert "Traceback" not in fuzz_daphne.output(), fuzz_daphne.output()[-4000:]
