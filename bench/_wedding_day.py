"""The Wedding Day dashboard's first render in Chromium, this code against a baseline commit.

Used by bench_dashboards.py (figure `wedding_day_first_render`). Both servers run side by
side against the same database and Redis (the seeded demo), so the only difference is the
code: the baseline is `git archive <ref>` of the commit this branch started from (or
BENCH_BASELINE_REF), unpacked under bench/out/ and served by the same virtualenv.

"Rendered" means what an operator waits for: the live pill says Live, no tile says
"Loading…", and every chart has drawn its SVG. A script injected before the page's own
polls for that on every animation frame and stamps performance.now() (ms since navigation
start). The browser's resource timing of each data request is kept beside the time a plain
HTTP client takes for the same URL, which is how the cause of the slowness was found.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

DONE_PROBE = """
(() => {
  window.__wsoBench = {};
  const b = window.__wsoBench;
  const check = () => {
    const tiles = document.querySelectorAll('section.tile');
    const charts = [...document.querySelectorAll('section.tile-chart')];
    const drawn = tiles.length && charts.length
      && charts.every(c => c.querySelector('.main-svg'))
      && ![...tiles].some(t => t.textContent.includes('Loading\u2026'));
    const live = document.querySelector('#conn[data-state=live]');
    if (drawn && !b.drawn) b.drawn = performance.now();
    if (live && !b.live) b.live = performance.now();
    if (window.Plotly && !b.plotly) b.plotly = performance.now();
    if (drawn && live) { b.done = performance.now(); return; }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""

PHASES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const m = n => Math.round((performance.getEntriesByName(n)[0] || {}).startTime || 0);
  const b = window.__wsoBench;
  return {html: Math.round(nav.responseEnd),
          dom_content_loaded: Math.round(nav.domContentLoadedEventEnd),
          plotly_ready: Math.round(b.plotly || 0), ws_open: m('wso-ws-open'),
          charts_drawn: Math.round(b.drawn || 0), live: Math.round(b.live || 0)};
}"""

TIMINGS = """() => performance.getEntriesByType('resource')
  .filter(r => r.name.includes('/api/'))
  .map(r => ({url: r.name.replace(location.origin, ''), start: Math.round(r.startTime),
              ttfb: Math.round(r.responseStart - r.requestStart),
              total: Math.round(r.responseEnd - r.startTime)}))"""


def baseline_tree(ref: str) -> Path:
    """The source of `ref` unpacked under bench/out/baseline-<sha> (kept between runs)."""
    sha = subprocess.run(
        ["git", "rev-parse", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = OUT / f"baseline-{sha[:10]}"
    if not (tree / "manage.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


# main before the operator's-console work (issue 16) landed: the page as operators had it.
BEFORE_CONSOLE_WORK = "c8f2d12"


def default_ref() -> str:
    """The commit this branch left main at (what the page was before this work); on main
    itself, where that is HEAD (a baseline equal to the figure), the page before the
    console work landed."""
    out = subprocess.run(
        ["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True
    )
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    base = out.stdout.strip()
    return base if base and base != head.stdout.strip() else BEFORE_CONSOLE_WORK


def _curl_ms(url: str, session: str) -> float:
    req = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
    return (time.perf_counter() - t0) * 1000


def render_times(browser, base: str, session: str, runs: int, flags: str = "") -> dict:
    """First render of /dashboards/wedding-day/ at 1440x900, `runs` times (after one warm-up)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    context.add_init_script(DONE_PROBE)
    page = context.new_page()
    out: dict = {"render_ms": [], "requests": None}
    for i in range(runs + 1):
        page.goto(f"{base}/dashboards/wedding-day/{flags}")
        page.wait_for_function("() => window.__wsoBench && window.__wsoBench.done", timeout=60_000)
        if i == 0:
            continue  # warm-up: static files into the cache, connections open
        out["render_ms"].append(page.evaluate("() => window.__wsoBench.done"))
        out["phases"] = page.evaluate(PHASES)
        out["requests"] = page.evaluate(TIMINGS)
    # The same data requests from a plain HTTP client, one after another.
    for r in out["requests"] or []:
        r["curl_ms"] = round(_curl_ms(base + r["url"], session))
    context.close()
    out["median_ms"] = statistics.median(out["render_ms"])
    return out


def measure(current_url: str, baseline_url: str, session: str, runs: int, flags: list) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        # Interleaved, so a burst of load from the other engineers hits both alike.
        now, base = {"render_ms": []}, {"render_ms": []}
        for _ in range(runs):
            a = render_times(browser, current_url, session, 1)
            b = render_times(browser, baseline_url, session, 1)
            now["render_ms"] += a["render_ms"]
            base["render_ms"] += b["render_ms"]
            now["requests"], base["requests"] = a["requests"], b["requests"]
            now.setdefault("phases", []).append(a["phases"])
            base.setdefault("phases", []).append(b["phases"])
        browser.close()
    for d in (now, base):
        d["median_ms"] = statistics.median(d["render_ms"])
    return {"current": now, "baseline": base}


def start_baseline_daphne(env: dict, ref: str):
    """A Daphne running the baseline commit's code (same database, same Redis)."""
    from _servers import LOGS, Server, free_port

    tree = baseline_tree(ref)
    # Without DEBUG, pages name their static files through the manifest collectstatic writes.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        check=True,
    )
    port = free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"baseline-{port}.log"
    args = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [*args, "wedsync_ops.asgi:application"],
            cwd=tree,
            env={**env, "PYTHONPATH": str(tree)},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(proc=proc, log=log, port=port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"baseline daphne did not start; log {log}:\n{server.log_tail()}")
