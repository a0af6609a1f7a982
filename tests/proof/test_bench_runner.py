"""bench/run_all.py: runs benchmarks as processes and writes one trustworthy report."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import run_all  # noqa: E402


def _run(args: list[str], env: dict, timeout: float = 150) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "bench/run_all.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_quick_run_of_a_real_benchmark_writes_the_report(service_env, tmp_path):
    args = ["bench/bench_http.py", "--quick", "--no-migrate", "--out", str(tmp_path)]
    result = _run(args, service_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["quick"] is True
    assert report["machine"]["cores"] >= 1
    assert report["machine"]["memory_gb"] > 0
    assert report["machine"]["cpu_model"]
    assert len(report["git"]["commit"]) == 40
    assert report["generated_at"].startswith("20")
    (bench,) = report["benches"]
    assert bench["bench"] == "http" and bench["status"] == "ok"
    names = {f["name"] for f in bench["figures"]}
    assert "api_requests_per_s" in names
    for figure in bench["figures"]:
        assert {"value", "unit", "baseline", "ratio", "goal", "goal_met"} <= set(figure)
    rps = next(f for f in bench["figures"] if f["name"] == "api_requests_per_s")
    assert rps["value"] > 0 and rps["baseline"] > 0

    markdown = (tmp_path / "REPORT.md").read_text()
    assert report["git"]["commit"][:12] in markdown
    assert "| http | api_requests_per_s |" in markdown
    assert (tmp_path / "logs" / "http.log").read_text().count("RESULT ") == 1


def test_a_crashing_or_silent_benchmark_is_reported_as_failed(tmp_path, service_env):
    crash = tmp_path / "bench_crash.py"
    crash.write_text("raise SystemExit('boom: no Redis')\n")
    silent = tmp_path / "bench_silent.py"
    silent.write_text("print('measured something but forgot the RESULT line')\n")
    good = tmp_path / "bench_good.py"
    good.write_text(
        textwrap.dedent(
            """
            import json
            print("RESULT " + json.dumps({"bench": "good", "figures": [
                {"name": "x", "value": 5.0, "unit": "ms", "baseline": 10.0, "ratio": 0.5,
                 "goal": "<= 4 ms"}]}))
            """
        )
    )
    out = tmp_path / "out"
    result = _run(
        [str(crash), str(silent), str(good), "--quick", "--no-migrate", "--out", str(out)],
        service_env,
        timeout=60,
    )
    assert result.returncode == 1
    report = json.loads((out / "report.json").read_text())
    status = {b["bench"]: b["status"] for b in report["benches"]}
    assert status == {"crash": "failed", "silent": "failed", "good": "ok"}
    crashed = next(b for b in report["benches"] if b["bench"] == "crash")
    assert "boom: no Redis" in crashed["error"]
    assert report["summary"] == {
        "benches": 3,
        "failed": 2,
        "figures": 1,
        "met": 0,
        "not_met": 1,
        "unchecked": 0,
    }
    assert "**no**" in (out / "REPORT.md").read_text()


@pytest.mark.parametrize(
    ("figure", "met"),
    [
        ({"value": 120, "ratio": 3.1, "goal": "<= 250 ms"}, True),
        ({"value": 300, "ratio": 3.1, "goal": "<= 250 ms"}, False),
        ({"value": 12_000, "goal": ">= 10,000 msg/s"}, True),
        ({"value": 1, "ratio": 3.1, "goal": "ratio >= 3"}, True),
        ({"value": 1, "ratio": 2.0, "goal": "ratio >= 3"}, False),
        ({"value": 0.04, "goal": "≤ 5 %"}, True),
        ({"value": 1, "goal": "as fast as possible"}, None),
        ({"value": None, "goal": "<= 3"}, None),
    ],
)
def test_goals_are_checked_when_they_are_plain_comparisons(figure, met):
    assert run_all.evaluate_goal(figure) is met
