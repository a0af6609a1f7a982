"""python manage.py backtest_scaling --from 2026-01-01 --to 2027-01-01"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.scaling import backtest, backtest_chart
from apps.scaling import history as load_history


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not an ISO date: {value!r} (e.g. 2026-01-01)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Replay stored or generated load under the predictive, reactive (HPA-like) and "
        "static-peak policies; print them side by side and save a chart (HTML and PNG)."
    )

    def add_arguments(self, parser) -> None:
        today = datetime.now(UTC).date()
        # Default: the coming year, where the demo calendar's weddings are.
        parser.add_argument("--from", dest="start", default=str(today))
        parser.add_argument("--to", dest="end", default=None, help="default: a year after --from")
        parser.add_argument(
            "--source",
            choices=["auto", "stored", "generated"],
            default="auto",
            help="stored: the monitor's wedsync_gateway_connections; auto falls back to generated",
        )
        parser.add_argument(
            "--calendar",
            choices=["auto", "demo", "synthetic"],
            default="auto",
            help="weddings behind generated load: the database's (demo) or a synthetic year",
        )
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "var" / "backtest"))
        parser.add_argument("--provision-delay", type=int, default=4, help="minutes")
        parser.add_argument("--capacity-per-unit", type=float, default=100.0)
        parser.add_argument("--baseline-units", type=int, default=5)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--no-png", action="store_true")
        parser.add_argument("--json", action="store_true", help="print the result as JSON too")

    def handle(self, *args, **opts) -> None:
        start = _date(opts["start"])
        end = _date(opts["end"]) if opts["end"] else start + timedelta(days=365)
        if end <= start:
            raise CommandError("--to must be after --from")
        result = run(
            start,
            end,
            source=opts["source"],
            calendar=opts["calendar"],
            out=Path(opts["out"]),
            config=backtest.BacktestConfig(
                capacity_per_unit=opts["capacity_per_unit"],
                baseline_units=opts["baseline_units"],
                provision_delay_minutes=opts["provision_delay"],
            ),
            seed=opts["seed"],
            png=not opts["no_png"],
            stdout=self.stdout,
        )
        if opts["json"]:
            self.stdout.write(json.dumps(result))


def run(
    start: datetime,
    end: datetime,
    *,
    source: str = "auto",
    calendar: str = "auto",
    out: Path,
    config: backtest.BacktestConfig,
    seed: int = 7,
    png: bool = True,
    stdout=None,
    quiet: bool = False,
) -> dict:
    """The command's work, callable from the bench."""

    def say(text: str) -> None:
        if stdout is not None and not quiet:
            stdout.write(text)

    def progress(iterable, desc, total):
        return tqdm(iterable, desc=desc, total=total, disable=quiet, mininterval=0.5)

    history = None
    seasons = load_history.SyntheticSeasons()
    used = ""
    if source in ("auto", "stored"):
        history = load_history.stored_history(start, end)
        if history is None and source == "stored":
            raise CommandError("no stored wedsync_gateway_connections history for that range")
        if history is not None:
            from apps.scaling.calendar_source import SeasonTable

            seasons, used = SeasonTable(), "stored history"
    if history is None:
        try:
            history, seasons, used = load_history.build_history(start, end, calendar, seed)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    say(f"Load: {used}; {len(history.weddings):,} weddings; {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    forecast_hours = backtest.hourly_forecast(history, start, end, seasons)
    runs, info = backtest.run_policies(history, start, end, config, forecast_hours, progress)
    minutes = info["minutes"]
    say(backtest.table(runs, minutes))
    goals = backtest.goals(runs, minutes)
    say(
        f"Goals: under-provisioned {goals['under_provisioned_pct']} % (<= 1 %: "
        f"{'met' if goals['under_provisioned_ok'] else 'MISSED'}); unit-hours "
        f"{goals['unit_hours_saving_vs_static_pct']} % fewer than static peak (>= 30 %: "
        f"{'met' if goals['saving_ok'] else 'MISSED'}); wedding-Saturday under-provisioned "
        f"minutes {goals['wedding_saturday_under_minutes']['predictive']} vs reactive "
        f"{goals['wedding_saturday_under_minutes']['reactive']} "
        f"({'met' if goals['saturdays_ok'] else 'MISSED'})"
    )
    out.mkdir(parents=True, exist_ok=True)
    html, image = out / "backtest.html", out / "backtest.png"
    offset = int((start - history.start).total_seconds() // 60)
    load = history.load[offset : offset + minutes]
    fig = backtest_chart.chart(runs, load, start, config.capacity_per_unit)
    problem = backtest_chart.save_chart(fig, html, image) if png else None
    if not png:
        fig.write_html(str(html), include_plotlyjs=True, full_html=True)
    say(f"Chart: {html}" + ("" if not png or problem else f" and {image}"))
    if problem:
        say(problem)
    return {
        "source": used,
        "info": info,
        "policies": [r.summary(minutes) for r in runs],
        "goals": goals,
        "chart_html": str(html),
        "chart_png": str(image) if png and not problem else None,
    }
