"""Plotly figures of the Insights page, built in Python and handed to the page as JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import plotly.graph_objects as go

REGION_NAMES = {
    "us-northeast": "US Northeast",
    "us-south": "US South",
    "us-midwest": "US Midwest",
    "us-west": "US West",
}
SEASON_COLOURS = {"peak": "#c0392b", "shoulder": "#e67e22", "off": "#7f8c8d"}
LAYOUT = {
    "barmode": "stack",
    "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}


def _figure(fig: go.Figure) -> dict[str, Any]:
    # to_json() turns numpy and dates into plain JSON; json_script then escapes it for HTML.
    return json.loads(fig.to_json())


def _stacked(block: dict[str, Any], title: str, names=None, colours=None) -> dict[str, Any]:
    fig = go.Figure()
    for key in sorted(block["series"]):
        fig.add_bar(
            name=(names or {}).get(key, key.replace("_", " ")),
            x=block["months"],
            y=block["series"][key],
            marker_color=(colours or {}).get(key),
        )
    fig.update_layout(title=title, yaxis_title="weddings", **LAYOUT)
    return _figure(fig)


def build(data: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"id", "title", "figure"}] for each chart, from insights.build()."""
    peak = data["peak_connections_next_90_days"]
    peak_fig = go.Figure()
    peak_fig.add_scatter(
        x=[d["date"] for d in peak],
        y=[d["peak_connections"] for d in peak],
        mode="lines",
        fill="tozeroy",
        name="peak expected connections",
        line={"color": "#2c6fbb"},
    )
    peak_fig.update_layout(
        title="Expected peak connections per day, next 90 days (UTC days)",
        yaxis_title="connections",
        **{**LAYOUT, "barmode": None},
    )
    sats = data["busiest_saturdays"]
    sat_fig = go.Figure()
    sat_fig.add_bar(
        y=[date.fromisoformat(s["date"]).strftime("Sat %-d %b %Y") for s in sats],
        x=[s["weddings"] for s in sats],
        orientation="h",
        text=[
            f"{s['weddings']} weddings · {s['expected_connections']:,} connections" for s in sats
        ],
        textposition="inside",
        insidetextanchor="start",
        marker_color="#8e44ad",
        name="weddings",
    )
    sat_fig.update_layout(
        title="Busiest upcoming Saturdays",
        xaxis_title="weddings",
        **{**LAYOUT, "barmode": None, "margin": {"l": 110, "r": 10, "t": 40, "b": 40}},
    )
    # Categories, busiest on top (a date axis would place them by date instead).
    sat_fig.update_yaxes(type="category", autorange="reversed")
    return [
        {
            "id": "by-region",
            "title": "Weddings per month by region",
            "figure": _stacked(
                data["weddings_per_month_by_region"], "Weddings per month by region", REGION_NAMES
            ),
        },
        {
            "id": "by-venue-type",
            "title": "Weddings per month by venue type",
            "figure": _stacked(
                data["weddings_per_month_by_venue_type"], "Weddings per month by venue type"
            ),
        },
        {
            "id": "by-season",
            "title": "Weddings per month by season",
            "figure": _stacked(
                data["weddings_per_month_by_season"],
                "Weddings per month by season (of their region)",
                colours=SEASON_COLOURS,
            ),
        },
        {
            "id": "peak-connections",
            "title": "Expected peak connections",
            "figure": _figure(peak_fig),
        },
        {"id": "busiest-saturdays", "title": "Busiest Saturdays", "figure": _figure(sat_fig)},
    ]
