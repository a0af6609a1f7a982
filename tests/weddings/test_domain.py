"""Plain domain functions: profiles, live windows (DST, midnight), seasons, freeze, estimates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.test import override_settings

from apps.weddings import connections, freeze, live, profiles, seasons
from apps.weddings.models import FreezeOverride, RegionMonth, local_span

UTC_ = UTC


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC_)


# --- profiles --------------------------------------------------------------------


@pytest.mark.django_db
def test_venue_type_defaults_then_venue_overrides_win(make_venue):
    church = make_venue("church")
    hall = make_venue("banquet_hall", heartbeat_seconds=45, compression=True)
    assert profiles.profile_for_venue(church) == profiles.TYPE_DEFAULTS["church"]
    p = profiles.profile_for_venue(hall)
    assert p.connectivity == "good"  # from the type
    assert p.heartbeat_seconds == 45 and p.compression is True  # the venue's own
    assert p.batch_window_ms == profiles.TYPE_DEFAULTS["banquet_hall"].batch_window_ms


@pytest.mark.django_db
def test_degraded_venue_gets_the_degraded_profile(make_venue):
    hall = make_venue("banquet_hall")
    normal = profiles.profile_for_venue(hall)
    hall.degraded = True
    p = profiles.profile_for_venue(hall)
    assert p.connectivity == "poor" and p.compression is True
    assert p.batch_window_ms > normal.batch_window_ms
    assert p.replay_buffer > normal.replay_buffer
    assert p.reconnect_backoff_ms > normal.reconnect_backoff_ms


def test_wedding_day_profile_tightens_heartbeat_and_deepens_replay():
    base = profiles.TYPE_DEFAULTS["garden"]
    day = profiles.wedding_day_profile(base)
    assert day.heartbeat_seconds < base.heartbeat_seconds
    assert day.replay_buffer > base.replay_buffer
    assert (
        profiles.wedding_day_profile(
            profiles.VenueProfile("good", 6, 1, False, 1, 1)
        ).heartbeat_seconds
        == 5
    )  # never below 5 s


# --- local times → UTC -------------------------------------------------------------


def test_wedding_crossing_midnight_ends_the_next_day():
    start, end = local_span(date(2027, 6, 12), time(19, 0), time(1, 30), "America/New_York")
    assert start == utc(2027, 6, 12, 23, 0)
    assert end == utc(2027, 6, 13, 5, 30)


def test_spring_forward_night_is_an_hour_shorter():
    # US clocks jump 02:00 → 03:00 on Sunday 14 March 2027: 20:00 → 03:00 lasts 6 h, not 7.
    start, end = local_span(date(2027, 3, 13), time(20, 0), time(3, 0), "America/Chicago")
    assert start == utc(2027, 3, 14, 2, 0)
    assert end - start == timedelta(hours=6)


def test_fall_back_night_is_an_hour_longer():
    # Clocks go 02:00 → 01:00 on Sunday 7 November 2027: 22:00 → 03:00 lasts 6 h, not 5.
    start, end = local_span(date(2027, 11, 6), time(22, 0), time(3, 0), "America/New_York")
    assert end - start == timedelta(hours=6)
    assert end == utc(2027, 11, 7, 8, 0)


# --- live -------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(WEDSYNC={"LIVE_LEAD_MINUTES": 120, "LIVE_TAIL_MINUTES": 60})
def test_live_from_lead_before_ceremony_to_tail_after_reception(make_wedding, make_supplier):
    # 15:00–23:00 New York on 12 June 2027 (EDT, UTC-4) = 19:00Z → 03:00Z next day.
    w = make_wedding(day=date(2027, 6, 12), start=time(15, 0), end=time(23, 0))
    s = make_supplier()
    w.suppliers.add(s)
    assert live.live_window(w) == (utc(2027, 6, 12, 17, 0), utc(2027, 6, 13, 4, 0))
    assert not live.is_any_wedding_live(utc(2027, 6, 12, 16, 59))
    assert live.is_any_wedding_live(utc(2027, 6, 12, 17, 0))
    assert live.is_any_wedding_live(utc(2027, 6, 13, 3, 59))
    assert not live.is_any_wedding_live(utc(2027, 6, 13, 4, 0))
    assert list(live.live_weddings(utc(2027, 6, 12, 12, 0), within_hours=5)) == [w]
    assert not live.live_weddings(utc(2027, 6, 12, 12, 0), within_hours=4.9).exists()
    assert live.supplier_in_wedding_day_mode(s.pk, utc(2027, 6, 12, 20, 0))
    assert not live.supplier_in_wedding_day_mode(s.pk + 999, utc(2027, 6, 12, 20, 0))
    assert live.region_in_wedding_day_mode("us-northeast", utc(2027, 6, 12, 20, 0))
    assert not live.region_in_wedding_day_mode("us-west", utc(2027, 6, 12, 20, 0))


@pytest.mark.django_db
def test_midnight_wedding_is_live_after_midnight_local(make_wedding):
    w = make_wedding(day=date(2027, 6, 12), start=time(20, 0), end=time(2, 0))
    # 01:30 local on the 13th = 05:30Z: still the reception.
    assert live.live_weddings(utc(2027, 6, 13, 5, 30)).get() == w
    w.status = "cancelled"
    w.save()
    assert not live.is_any_wedding_live(utc(2027, 6, 13, 5, 30))


@pytest.mark.django_db
def test_live_uses_the_venues_timezone(make_venue, make_wedding, west):
    la = make_venue("beach", tz="America/Los_Angeles", reg=west)
    make_wedding(venue=la, day=date(2027, 6, 12), start=time(15, 0), end=time(22, 0))
    # 15:00 PDT = 22:00Z; at 21:00Z (14:00 local) it is within the 2 h lead.
    assert live.region_in_wedding_day_mode("us-west", utc(2027, 6, 12, 21, 0))
    assert live.live_counts_by_region(utc(2027, 6, 12, 21, 0)) == {
        "us-west": 1,
        "us-northeast": 0,
    }


# --- seasons ----------------------------------------------------------------------


@pytest.mark.django_db
def test_season_defaults_then_region_rows_win(region):
    assert seasons.season_for(date(2027, 6, 5), region) == ("peak", 1.0)
    assert seasons.season_for(date(2027, 1, 5), "us-northeast")[0] == "off"
    assert seasons.season_for(date(2027, 7, 5), "us-south")[0] == "shoulder"  # too hot
    assert seasons.season_for(date(2027, 4, 5), "us-south")[0] == "peak"
    RegionMonth.objects.create(region=region, month=1, season="peak", multiplier=0.9)
    assert seasons.season_for(date(2027, 1, 5), region) == ("peak", 0.9)
    assert seasons.season_table(region)[1] == ("peak", 0.9)


@pytest.mark.django_db
def test_load_multiplier_saturday_highest_in_local_time(west, make_venue, make_wedding):
    sat_noon = datetime(2027, 6, 12, 19, 0, tzinfo=UTC)  # 12:00 PDT Saturday
    values = {d: seasons.load_multiplier(sat_noon + timedelta(days=d), west) for d in range(-5, 2)}
    assert max(values, key=values.get) == 0
    # Friday 20:00 in LA is Saturday 03:00Z: still a Friday for the region.
    fri_evening = datetime(2027, 6, 12, 3, 0, tzinfo=UTC)
    assert seasons.load_multiplier(fri_evening, west) == pytest.approx(1.0 * 0.45)
    # Off season is lower than peak for the same weekday.
    assert seasons.load_multiplier(datetime(2027, 1, 9, 19, 0, tzinfo=UTC), west) < values[0]


@pytest.mark.django_db
def test_load_multiplier_rises_with_live_weddings(west, make_venue, make_wedding):
    at = datetime(2027, 6, 12, 23, 0, tzinfo=UTC)
    before = seasons.load_multiplier(at, west)
    for _ in range(3):
        make_wedding(venue=make_venue("garden", tz="America/Los_Angeles", reg=west))
    assert seasons.load_multiplier(at, west) == pytest.approx(before * 1.3)


@pytest.mark.django_db
def test_load_multiplier_on_dst_day_uses_local_weekday(region):
    # 04:30Z on Sunday 14 March 2027 is still 23:30 EST on Saturday in New York.
    at = datetime(2027, 3, 14, 4, 30, tzinfo=UTC)
    assert seasons.load_multiplier(at, region) == pytest.approx(0.3 * 1.0)
    # 07:30Z the same day is 03:30 EDT Sunday (clocks jumped at 02:00 EST = 07:00Z).
    later = datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    assert seasons.load_multiplier(later, region) == pytest.approx(0.3 * 0.35)


# --- freeze -----------------------------------------------------------------------


@pytest.mark.django_db
def test_freeze_names_live_weddings_and_admin_override_is_audited(
    make_wedding, admin_user_, operator_user
):
    at = utc(2027, 6, 12, 20, 0)
    freeze.check_freeze("lower quota", at=utc(2027, 6, 1))  # nothing live: passes
    w = make_wedding(couple_name="Ada & Grace")
    with pytest.raises(freeze.FreezeError) as err:
        freeze.check_freeze("lower quota", user=admin_user_, at=at)
    assert "Ada & Grace" in str(err.value) and err.value.weddings[0]["id"] == w.pk
    with pytest.raises(freeze.FreezeError, match="Only an admin"):
        freeze.check_freeze("lower quota", user=operator_user, override_reason="why not", at=at)
    with pytest.raises(freeze.FreezeError):
        freeze.check_freeze("lower quota", user=admin_user_, override_reason="   ", at=at)
    assert not FreezeOverride.objects.exists()
    freeze.check_freeze("lower quota", user=admin_user_, override_reason="abuse", at=at)
    audit = FreezeOverride.objects.get()
    assert (audit.action, audit.user, audit.reason) == ("lower quota", admin_user_, "abuse")
    assert audit.live_weddings[0]["couple_name"] == "Ada & Grace"


# --- expected connections -----------------------------------------------------------


def test_expected_connections_explains_itself():
    est = connections.expected_connections(120, 3, "church")
    assert est.value == 68  # ceil((42 + 12) × 1.25)
    assert "120 guests" in est.explanation and "3 suppliers" in est.explanation
    assert "church" in est.explanation and est.explanation.endswith("= 68")
    with pytest.raises(ValueError):
        connections.expected_connections(-1, 0, "church")


@pytest.mark.django_db
def test_wedding_stores_estimate_and_follows_its_suppliers(make_wedding, make_supplier, make_venue):
    w = make_wedding(venue=make_venue("banquet_hall"), expected_guests=100)
    assert w.expected_connections == 35
    a, b = make_supplier(), make_supplier()
    w.suppliers.add(a, b)
    w.refresh_from_db()
    assert w.expected_connections == 43
    a.weddings.remove(w)
    w.refresh_from_db()
    assert w.expected_connections == 39


# --- collectors ----------------------------------------------------------------------


@pytest.mark.django_db
def test_collector_counts_live_weddings_per_region(live_wedding, west):
    from apps.weddings.collectors import collect

    assert collect() == [
        {"name": "wedsync_weddings_live", "labels": {"region": "us-northeast"}, "value": 1.0},
        {"name": "wedsync_weddings_live", "labels": {"region": "us-west"}, "value": 0.0},
    ]
    live_wedding.status = "completed"
    live_wedding.save()
    assert {s["value"] for s in collect()} == {0.0}


@pytest.mark.django_db
def test_connection_profile_follows_the_suppliers_live_weddings(
    make_venue, make_wedding, make_supplier
):
    s = make_supplier()
    idle = profiles.profile_for_connection(s.pk, utc(2027, 6, 12, 20, 0))
    assert idle == profiles.TYPE_DEFAULTS["banquet_hall"]
    hall = make_wedding(venue=make_venue("banquet_hall"))
    beach = make_wedding(venue=make_venue("beach", degraded=True), start=time(16), end=time(22))
    hall.suppliers.add(s)
    at_hall = profiles.profile_for_connection(s.pk, utc(2027, 6, 12, 20, 0))
    assert at_hall == profiles.wedding_day_profile(profiles.TYPE_DEFAULTS["banquet_hall"])
    beach.suppliers.add(s)
    both = profiles.profile_for_connection(s.pk, utc(2027, 6, 12, 20, 0))
    beach_day = profiles.wedding_day_profile(profiles.profile_for_venue(beach.venue))
    assert both == beach_day  # the degraded beach is the most cautious on every axis
    assert both.connectivity == "poor" and both.compression is True
