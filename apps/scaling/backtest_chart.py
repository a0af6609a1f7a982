"""The backtest's picture: load, need and each policy's capacity over the replay (Plotly),
saved as HTML and, through Debian's Chromium (kaleido), as PNG."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import numpy as np

from apps.scaling.backtest import PolicyRun


def chart(runs: list[PolicyRun], load: np.ndarray, start: datetime, capacity_per_unit: float):
    """Top: the busiest day minute by minute; bottom: the whole period, hourly peaks."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    minutes = len(load)
    peak = int(np.argmax(load))  # the 24 hours around the busiest minute
    lo = max(0, min(peak - 14 * 60, minutes - 1440))
    hi = min(minutes, lo + 1440)
    day_x = [start + timedelta(minutes=m) for m in range(lo, hi)]
    hours = minutes // 60
    hour_x = [start + timedelta(hours=h) for h in range(hours)]
    colours = {"predictive": "#7b5cd6", "reactive": "#e0a100", "static_peak": "#d9534f"}
    fig = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.12,
        subplot_titles=(
            f"The 24 h around the peak ({day_x[0]:%a %d %b %Y %H:%M} UTC on): load vs capacity",
            "Whole period: hourly peak load vs hourly mean capacity",
        ),
    )
    fig.add_trace(go.Scatter(x=day_x, y=load[lo:hi], name="load", line={"color": "#1f8a70"}), 1, 1)
    for run in runs:
        fig.add_trace(
            go.Scatter(
                x=day_x,
                y=run.units[lo:hi] * capacity_per_unit,
                name=run.name,
                line={"shape": "hv", "color": colours.get(run.name)},
            ),
            1,
            1,
        )
    hourly_load = load[: hours * 60].reshape(hours, 60).max(axis=1)
    fig.add_trace(
        go.Scatter(
            x=hour_x,
            y=hourly_load,
            name="load (hourly peak)",
            line={"color": "#1f8a70"},
            showlegend=False,
        ),
        2,
        1,
    )
    for run in runs:
        cap = run.units[: hours * 60].reshape(hours, 60).mean(axis=1) * capacity_per_unit
        fig.add_trace(
            go.Scatter(
                x=hour_x,
                y=cap,
                name=run.name,
                showlegend=False,
                line={"color": colours.get(run.name), "width": 1},
            ),
            2,
            1,
        )
    fig.update_yaxes(title_text="connections", rangemode="tozero")
    fig.update_layout(
        height=900, width=1400, template="plotly_white", legend={"orientation": "h", "y": 1.06}
    )
    return fig


def save_chart(fig, html_path, png_path) -> str | None:
    """HTML always (plotly.js inlined: no CDN); PNG through kaleido and Debian's Chromium.

    kaleido 1.x drives a browser through choreographer, which takes BROWSER_PATH before
    searching PATH; we point it at /usr/bin/chromium and never let it download one.
    Returns an error message if the PNG could not be written.
    """
    import os
    import shutil

    fig.write_html(str(html_path), include_plotlyjs=True, full_html=True)
    browser = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(browser):
        return f"no Chromium at {browser}: PNG skipped"
    os.environ["BROWSER_PATH"] = browser
    # They log each tab at INFO, and choreographer an ERROR for a pipe message it then
    # ignores; a real failure still raises from write_image.
    for name in ("kaleido", "logistro"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("choreographer").setLevel(logging.CRITICAL)
    # kaleido runs its own asyncio loop: give it a thread with none, whatever loop the
    # caller (a test with Playwright, an ASGI worker) has running in this one.
    errors: list[Exception] = []

    def render() -> None:
        try:
            fig.write_image(str(png_path), width=1400, height=900)
        except Exception as exc:  # the HTML is the record; the PNG is a convenience
            errors.append(exc)

    worker = threading.Thread(target=render, name="backtest-png", daemon=True)
    worker.start()
    worker.join(120)
    if worker.is_alive():
        return "PNG not written: kaleido did not finish within 120 s"
    if errors:
        return f"PNG not written: {errors[0]}"
    return None
