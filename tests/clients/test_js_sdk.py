"""The JavaScript SDK (clients/js) under `node --test`: its unit and fuzz tests against
fake servers, and its gateway tests against a real Daphne driven through the rig."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.conftest import ARTIFACTS, ROOT

JS = ROOT / "clients" / "js"


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_node_suite_passes_against_the_real_gateway(control):
    env = {**os.environ, "WSO_RIG": control}
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "node-sdk-tests.log"
    with log.open("w") as handle:  # written as it runs: a hang is readable while it hangs
        result = subprocess.run(
            ["node", "--test", "--test-concurrency=1", "test/"],
            cwd=JS,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=500,
        )
    out = log.read_text()
    assert result.returncode == 0, out[-6000:]
    totals = re.findall(r"^# (pass|fail|skipped|cancelled) (\d+)", out, re.M)
    counts = {k: int(v) for k, v in totals}
    assert counts.get("fail") == 0 and counts.get("cancelled") == 0, out[-6000:]
    assert counts.get("skipped") == 0, "the gateway tests were skipped: " + out[-3000:]
    assert counts.get("pass", 0) >= 13, out[-3000:]
