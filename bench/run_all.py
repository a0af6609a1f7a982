#!/usr/bin/env python
"""Run every bench/bench_*.py against the full stack and write one report.

    .venv/bin/python bench/run_all.py            # full run -> bench/REPORT.md + bench/report.json
    .venv/bin/python bench/run_all.py --quick    # CI smoke -> bench/out/ (figures, no thresholds)
    .venv/bin/python bench/run_all.py bench/bench_http.py --quick --out /tmp/r

Each benchmark is a separate process (so one that crashes or hangs cannot take the
others with it) and ends with a `RESULT {json}` line (bench/README.md). This script
adds what a reader needs to trust the numbers: the machine, the date, the commit,
how loaded the machine was, and, per figure, whether its goal was met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
RESULT_RE = re.compile(r"^RESULT (\{.*\})\s*$")
# "<= 250 ms", ">= 2x", "ratio >= 3", "< 1 %": a comparator and a number, optionally on the ratio.
GOAL_RE = re.compile(r"^\s*(?P<on>ratio\s*)?(?P<op><=|>=|<|>|≤|≥)\s*(?P<num>-?[0-9][0-9_,.]*)")
OPS = {
    "<=": lambda a, b: a <= b,
    "≤": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "≥": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}


def machine() -> dict:
    import psutil

    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "hostname": platform.node(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def git_commit() -> dict:
    def run(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "commit": run("rev-parse", "HEAD"),
        "branch": run("rev-parse", "--abbrev-ref", "HEAD"),
        # Uncommitted changes under the code make a figure unreproducible: say so.
        "dirty": bool(run("status", "--porcelain", "--untracked-files=no")),
    }


def evaluate_goal(figure: dict) -> bool | None:
    """True/False when the goal is a plain comparison we can check, else None."""
    goal = figure.get("goal")
    if not isinstance(goal, str):
        return None
    match = GOAL_RE.match(goal)
    if not match:
        return None
    try:
        target = float(match["num"].replace(",", "").replace("_", ""))
    except ValueError:
        return None
    value = figure.get("ratio") if match["on"] else figure.get("value")
    if not isinstance(value, int | float):
        return None
    return OPS[match["op"]](float(value), target)


def parse_result(output: str) -> dict | None:
    for line in reversed(output.splitlines()):
        match = RESULT_RE.match(line.strip())
        if match:
            return json.loads(match.group(1))
    return None


def discover() -> list[Path]:
    """bench/bench_*.py files that are benchmarks: helper modules beside them (a bench's own
    settings or URLconf) never print a RESULT line, so they do not mention one."""
    return [p for p in sorted(BENCH_DIR.glob("bench_*.py")) if "RESULT" in p.read_text()]


def stack_env(args: argparse.Namespace) -> dict:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wedsync_bench")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    env.setdefault("REDIS_PREFIX", "wsobench")
    env.setdefault("ALERTS_PUBLIC_URL", "http://127.0.0.1:8000")  # required with DEBUG off
    env.setdefault("DEBUG", "false")
    env.setdefault("HTTPS", "false")
    env.setdefault("CONN_MAX_AGE", "0")
    env.setdefault("RUN_EMBEDDED_SCHEDULER", "false")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = "bench-" + os.urandom(48).hex()
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def prepare_database(env: dict) -> None:
    """Create the bench database if missing and migrate it once for every benchmark."""
    from _servers import ensure_database

    ensure_database(env["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )


def run_one(path: Path, *, quick: bool, env: dict, timeout: float, logs: Path) -> dict:
    name = path.stem.removeprefix("bench_")
    args = [sys.executable, str(path)] + (["--quick"] if quick else [])
    started = time.monotonic()
    log_path = logs / f"{name}.log"
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    entry: dict = {"bench": name, "file": str(shown), "log": str(log_path)}
    lines: list[str] = []
    try:
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            deadline = started + timeout
            assert proc.stdout is not None
            # Stream the benchmark's own progress so a long run is visibly alive.
            for line in proc.stdout:
                log.write(line)
                lines.append(line)
                print(f"  [{name}] {line}", end="", flush=True)
                if time.monotonic() > deadline:
                    proc.kill()
                    break
            try:
                proc.wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    except OSError as exc:
        entry.update(status="failed", error=str(exc), figures=[])
        return entry
    entry["seconds"] = round(time.monotonic() - started, 1)
    output = "".join(lines)
    try:
        result = parse_result(output)
    except json.JSONDecodeError as exc:
        result = None
        entry["error"] = f"RESULT line is not JSON: {exc}"
    if time.monotonic() - started > timeout:
        entry.update(status="timeout", error=f"killed after {timeout:.0f}s")
    elif proc.returncode != 0:
        entry.update(status="failed", error=f"exit code {proc.returncode}: {output[-600:]}")
    elif result is None:
        entry.update(status="failed", error=entry.get("error") or "no RESULT line")
    else:
        entry["status"] = "ok"
    figures = (result or {}).get("figures") or []
    for figure in figures:
        figure["goal_met"] = evaluate_goal(figure)
    entry["figures"] = figures
    if result:
        entry["extra"] = {k: v for k, v in result.items() if k not in ("bench", "figures")}
    return entry


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value == 0 or abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def markdown(report: dict) -> str:
    m = report["machine"]
    g = report["git"]
    out = [
        "# Benchmark report"
        + (" (quick smoke: small sizes, not figures to quote)" * report["quick"]),
        "",
        f"- Date: {report['generated_at']} (took {report['seconds']} s)",
        f"- Commit: `{g['commit'][:12]}` on `{g['branch']}`"
        + (" (with uncommitted changes)" if g["dirty"] else ""),
        f"- Machine: {m['cores']} cores, {m['memory_gb']} GB, {m['cpu_model']}; "
        f"Python {m['python']}; load average at start {m['load_average_at_start']}",
        f"- Command: `{report['command']}`",
        "- Each baseline is measured in the same run as its figure; ratio = figure / baseline "
        "as each benchmark defines it. Client and servers share the cores, so figures vary "
        "run to run (up to 2x on this machine shape).",
        "",
        "| bench | figure | value | unit | baseline | ratio | goal | met |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    for bench in report["benches"]:
        if bench["status"] != "ok" and not bench["figures"]:
            out.append(f"| {bench['bench']} | **{bench['status']}** | | | | | | |")
        for fig in bench["figures"]:
            met = {True: "yes", False: "**no**", None: "n/a"}[fig.get("goal_met")]
            out.append(
                f"| {bench['bench']} | {fig.get('name', '')} | {_fmt(fig.get('value'))} | "
                f"{fig.get('unit', '')} | {_fmt(fig.get('baseline'))} | "
                f"{_fmt(fig.get('ratio'))} | {fig.get('goal', '')} | {met} |"
            )
    out += ["", "## Runs", ""]
    for bench in report["benches"]:
        line = f"- `{bench['file']}`: {bench['status']} in {bench.get('seconds', '?')} s"
        if bench.get("error"):
            # The last line of the output says what went wrong; the log has the rest.
            last = [x for x in bench["error"].splitlines() if x.strip()][-1:] or [""]
            line += f" — `{last[0].strip()[:240]}` (log: {bench.get('log', '')})"
        out.append(line)
    summary = report["summary"]
    out += [
        "",
        f"Goals: {summary['met']} met, {summary['not_met']} not met, "
        f"{summary['unchecked']} without a checkable goal; "
        f"{summary['failed']} benchmark(s) failed to produce a result.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benches", nargs="*", help="bench files (default: bench/bench_*.py)")
    parser.add_argument("--quick", action="store_true", help="small sizes; a CI smoke")
    parser.add_argument("--out", help="directory for REPORT.md and report.json")
    parser.add_argument("--timeout", type=float, help="seconds per benchmark")
    parser.add_argument("--no-migrate", action="store_true", help="the database is ready")
    parser.add_argument("--render", metavar="JSON", help="only re-write REPORT.md from JSON")
    args = parser.parse_args(argv)
    if args.render:
        source = Path(args.render)
        (source.parent / "REPORT.md").write_text(markdown(json.loads(source.read_text())))
        return 0

    paths = [Path(p).resolve() for p in args.benches] or discover()
    if not paths:
        print("no bench/bench_*.py found", file=sys.stderr)
        return 2
    # A quick run never overwrites the committed report of a full run.
    out = Path(args.out) if args.out else (BENCH_DIR / "out" if args.quick else BENCH_DIR)
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    timeout = args.timeout or (120.0 if args.quick else 1800.0)

    env = stack_env(args)
    report: dict = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "command": " ".join(["bench/run_all.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(),
        "git": git_commit(),
        "stack": {
            "database": re.sub(r"//[^@/]*@", "//", env["DATABASE_URL"]),
            "redis": env["REDIS_URL"],
        },
        "benches": [],
    }
    started = time.monotonic()
    if not args.no_migrate:
        print("== migrating the bench database", flush=True)
        prepare_database(env)
    for index, path in enumerate(paths, 1):
        print(f"== [{index}/{len(paths)}] {path.name}", flush=True)
        entry = run_one(path, quick=args.quick, env=env, timeout=timeout, logs=logs)
        print(f"== {path.name}: {entry['status']} ({entry.get('seconds', '?')} s)", flush=True)
        report["benches"].append(entry)
    report["seconds"] = round(time.monotonic() - started, 1)
    figures = [f for b in report["benches"] for f in b["figures"]]
    report["summary"] = {
        "benches": len(report["benches"]),
        "failed": sum(b["status"] != "ok" for b in report["benches"]),
        "figures": len(figures),
        "met": sum(f.get("goal_met") is True for f in figures),
        "not_met": sum(f.get("goal_met") is False for f in figures),
        "unchecked": sum(f.get("goal_met") is None for f in figures),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "REPORT.md").write_text(markdown(report))
    print(f"wrote {out / 'REPORT.md'} and {out / 'report.json'}")
    print(markdown(report))
    return 1 if report["summary"]["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
