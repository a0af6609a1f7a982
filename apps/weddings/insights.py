"""Calendar insights as plain data: what the Insights page charts and /api/v1/insights/ returns."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.weddings import live, seasons
from apps.weddings.models import Region, VenueType, Wedding

HORIZON_DAYS = 90


def _months(start: date, n: int = 12) -> list[date]:
    out, y, m = [], start.year, start.month
    for _ in range(n):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _booked():
    return Wedding.objects.exclude(status=Wedding.Status.CANCELLED)


def per_month(today: date, key: str) -> dict[str, Any]:
    """Weddings per month for the next 12 months, one series per value of `key`."""
    months = _months(today)
    end = _months(months[-1], 2)[1]
    rows = (
        _booked()
        .filter(date__gte=months[0], date__lt=end)
        .annotate(month=TruncMonth("date"))
        .values("month", key)
        .annotate(n=Count("pk"))
    )
    index = {m: i for i, m in enumerate(months)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for row in rows:
        month = row["month"]
        month = month.date() if isinstance(month, datetime) else month
        series[row[key]][index[month]] += row["n"]
    return {"months": [m.isoformat()[:7] for m in months], "series": dict(series)}


def per_month_by_season(today: date) -> dict[str, Any]:
    """Weddings per month, split by the season their region is in that month."""
    by_region = per_month(today, "venue__region__code")
    tables = {r.code: seasons.season_table(r) for r in Region.objects.all()}
    months = by_region["months"]
    series: dict[str, list[int]] = {s: [0] * len(months) for s in ("peak", "shoulder", "off")}
    for code, counts in by_region["series"].items():
        table = tables.get(code) or {m: seasons.default_season(m, code) for m in range(1, 13)}
        for i, n in enumerate(counts):
            season = table[int(months[i][5:7])][0]
            series[season][i] += n
    return {"months": months, "series": series}


def peak_connections_per_day(start: datetime, days: int = HORIZON_DAYS) -> list[dict[str, Any]]:
    """For each UTC day: the highest sum of expected connections of weddings running at once.

    A sweep over start/end instants; an end at the same instant as a start comes first,
    since a wedding's [starts_at, ends_at) does not include its end.
    """
    day0 = start.astimezone(UTC).date()
    lo = datetime.combine(day0, datetime.min.time(), tzinfo=UTC)
    hi = lo + timedelta(days=days)
    rows = _booked().filter(starts_at__lt=hi, ends_at__gt=lo)
    events: list[tuple[datetime, int, int]] = []
    for s, e, c in rows.values_list("starts_at", "ends_at", "expected_connections"):
        events.append((max(s, lo), 1, c))
        events.append((e, 0, -c))
    events.sort()
    peaks = [0] * days
    weddings = [0] * days
    current = 0
    for at, is_start, delta in events:
        current += delta
        i = (at.date() - day0).days
        if is_start and 0 <= i < days:
            peaks[i] = max(peaks[i], current)
    for d in (
        _booked()
        .filter(date__gte=day0, date__lt=day0 + timedelta(days=days))
        .values("date")
        .annotate(n=Count("pk"))
    ):
        weddings[(d["date"] - day0).days] = d["n"]
    return [
        {"date": (day0 + timedelta(days=i)).isoformat(), "peak_connections": p, "weddings": w}
        for i, (p, w) in enumerate(zip(peaks, weddings, strict=True))
    ]


def busiest_saturdays(today: date, limit: int = 10) -> list[dict[str, Any]]:
    rows = (
        _booked()
        .filter(date__gte=today, date__week_day=7)  # Django: 1 = Sunday, 7 = Saturday
        .values("date")
        .annotate(weddings=Count("pk"), expected_connections=Sum("expected_connections"))
        .order_by("-weddings", "-expected_connections", "date")[:limit]
    )
    return [
        {
            "date": r["date"].isoformat(),
            "weddings": r["weddings"],
            "expected_connections": r["expected_connections"] or 0,
        }
        for r in rows
    ]


def live_now(at: datetime | None = None) -> list[dict[str, Any]]:
    out = []
    for w in live.live_weddings(at):
        tz = w.venue.tz
        # Venue-local time, named by its zone; the UTC instant rides along for the hover.
        ceremony = datetime.combine(w.date, w.ceremony_time, tzinfo=tz)
        out.append(
            {
                "id": w.pk,
                "couple_name": w.couple_name,
                "venue": w.venue.name,
                "venue_type": w.venue.venue_type,
                "region": w.venue.region.code,
                "local_ceremony": f"{w.date} {w.ceremony_time:%H:%M} {ceremony:%Z}",
                "ceremony_utc": ceremony.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "ceremony_iso": ceremony.isoformat(),
                "local_now": timezone.now().astimezone(tz).strftime("%H:%M %Z"),
                "timezone": w.venue.timezone,
                "expected_connections": w.expected_connections,
                "status": w.status,
            }
        )
    return out


def build(now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    return {
        "generated_at": now.isoformat(),
        "weddings_per_month_by_region": per_month(today, "venue__region__code"),
        "weddings_per_month_by_venue_type": per_month(today, "venue__venue_type"),
        "weddings_per_month_by_season": per_month_by_season(today),
        "peak_connections_next_90_days": peak_connections_per_day(now),
        "busiest_saturdays": busiest_saturdays(today),
        "live_weddings": live_now(now),
        "venue_types": [v for v, _ in VenueType.choices],
    }
