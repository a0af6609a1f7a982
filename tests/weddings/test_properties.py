"""Property tests of local times → UTC: any date, any time pair, any of our timezones."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.weddings.models import local_span

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
         "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe", "UTC"]  # fmt: skip
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@settings(max_examples=400, deadline=None)
@given(
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)),
    start=times,
    end=times,
    zone=st.sampled_from(ZONES),
)
def test_span_is_the_wall_clock_length_give_or_take_a_dst_shift(day, start, end, zone):
    starts_at, ends_at = local_span(day, start, end, zone)
    wall = datetime.combine(day, end) - datetime.combine(day, start)
    if end <= start:
        wall += timedelta(days=1)
    assert ends_at > starts_at
    # A DST change inside the span moves it by the shift (1 h; 30 min on Lord Howe).
    assert abs((ends_at - starts_at) - wall) <= timedelta(hours=1)
    # The ceremony is on `day` in the venue's zone (a nonexistent local time is shifted,
    # but never onto another day for these zones, whose changes are not at midnight).
    assert starts_at.astimezone(ZoneInfo(zone)).date() == day
