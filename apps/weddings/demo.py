"""Demo calendar: four US regions, 72 venues, 40 suppliers, a year of weddings, a few live now.

Idempotent: regions, venues, suppliers and contacts are found by name; weddings are drawn
from a generator seeded by (venue, date), and a slot is filled only when the venue has no
wedding that day, so re-running the same day changes nothing and a later run only adds the
new days at the end of the year. Supplier tokens from the previous credentials file are kept
while they still authenticate.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from apps.accounts.seeding import SeedContext
from apps.weddings import seasons
from apps.weddings.connections import expected_connections
from apps.weddings.models import (
    EmergencyContact,
    Region,
    RegionMonth,
    Supplier,
    Venue,
    Wedding,
    local_span,
)

REGIONS = {
    "us-northeast": ("US Northeast", "America/New_York",
                     [("Boston", "America/New_York"), ("Newport", "America/New_York"),
                      ("Burlington", "America/New_York")]),
    "us-south": ("US South", "America/Chicago",
                 [("Charleston", "America/New_York"), ("Austin", "America/Chicago"),
                  ("Nashville", "America/Chicago")]),
    "us-midwest": ("US Midwest", "America/Chicago",
                   [("Chicago", "America/Chicago"), ("Minneapolis", "America/Chicago"),
                    ("Detroit", "America/Detroit")]),
    "us-west": ("US West", "America/Los_Angeles",
                [("San Diego", "America/Los_Angeles"), ("Denver", "America/Denver"),
                 ("Phoenix", "America/Phoenix")]),
}  # fmt: skip
VENUE_NAMES = {
    "church": ["St. Mary's Church", "Grace Chapel", "First Congregational Church"],
    "banquet_hall": ["Grand Ballroom", "Riverside Banquet Hall", "The Regency Hall"],
    "outdoor": ["Meadow Ridge", "Hilltop Field", "Orchard Lawn"],
    "beach": ["Sandy Point Shore", "Harbor Cove", "Dune Crest Lakeshore"],
    "garden": ["Rose Garden", "Botanical Conservatory", "Magnolia Gardens"],
    "historic": ["Old Mill", "Heritage Mansion", "Carriage House"],
}
CAPACITY = {"church": 180, "banquet_hall": 300, "outdoor": 200, "beach": 120, "garden": 150,
            "historic": 140}  # fmt: skip
SUPPLIER_KINDS = ["photographer", "planner", "caterer", "venue", "other"]
SUPPLIER_NAMES = [
    "Lens & Light", "Golden Hour Studio", "Evergreen Events", "Silver Bell Catering",
    "Petal & Vine", "Northern Frame", "Harbor Lights Photo", "Blue Sky Planning",
    "Table Ten Catering", "Willow Weddings", "Moonlit Moments", "Candid Co.",
    "Prairie Feast", "Lakeside Planners", "Crimson Cake Co.", "Timeless Films",
    "Urban Bouquet", "Sunset Sound DJs", "Oak & Ivy Events", "Copper Kettle Catering",
    "First Look Photo", "Happily Ever Planning", "Lantern Light Rentals", "Big Day Buses",
    "Velvet Veil Bridal", "Maple Leaf Music", "Coastal Catering", "Chapel Bells Planning",
    "Wildflower Florals", "Snapshot Society", "Grand Gesture Events", "Honeybee Bakery",
    "Riverbend Photography", "Starlight Lighting", "Open Road Transport", "Heirloom Films",
    "Sugar & Spice Catering", "Bright Day Planners", "Stone House Venues", "Aurora Audio",
]  # fmt: skip
FIRST = [
    "Ava",
    "Liam",
    "Mia",
    "Noah",
    "Emma",
    "Ethan",
    "Zoe",
    "Lucas",
    "Grace",
    "Mateo",
    "Chloe",
    "Owen",
    "Isla",
    "Leo",
    "Ruby",
    "Eli",
    "Nora",
    "Jack",
    "Maya",
    "Sam",
    "Priya",
    "Kenji",
    "Amara",
    "Diego",
    "Hana",
    "Omar",
    "Lena",
    "Theo",
    "Iris",
    "Kai",
]
SLOTS = [
    (time(11, 0), time(16, 0)),
    (time(14, 0), time(21, 0)),
    (time(15, 30), time(23, 0)),
    (time(16, 0), time(23, 30)),
    (time(17, 0), time(0, 30)),
    (time(18, 0), time(1, 0)),
]
# Probability that a venue is booked on a peak-season Saturday (×season×weekday otherwise).
BOOKING_RATE = 0.78
LIVE_PER_REGION = {"us-northeast": 2, "us-south": 1, "us-midwest": 1, "us-west": 1}


def seed(ctx: SeedContext) -> None:
    regions = _regions()
    venues = _venues(regions)
    suppliers, tokens = _suppliers(ctx)
    _contacts(venues)
    live = _live_weddings(venues, suppliers)
    _year_of_weddings(ctx, venues, suppliers, regions)
    _credentials(ctx, suppliers, tokens)
    ctx.stdout.write(f"weddings: {len(live)} live now, {Wedding.objects.count()} in total\n")


def _regions() -> dict[str, Region]:
    out = {}
    for code, (name, tz, _) in REGIONS.items():
        region, _ = Region.objects.get_or_create(code=code, defaults={"name": name, "timezone": tz})
        have = set(region.months.values_list("month", flat=True))
        RegionMonth.objects.bulk_create(
            RegionMonth(region=region, month=m, season=s, multiplier=mult)
            for m, (s, mult) in enumerate(seasons.DEFAULT_SEASONS[code], start=1)
            if m not in have  # an admin's edits survive a re-seed
        )
        out[code] = region
    return out


def _venues(regions: dict[str, Region]) -> list[Venue]:
    wanted = []
    for code, (_, _, cities) in REGIONS.items():
        for venue_type, names in VENUE_NAMES.items():
            for (city, tz), base in zip(cities, names, strict=True):
                wanted.append(
                    Venue(
                        name=f"{base}, {city}",
                        venue_type=venue_type,
                        region=regions[code],
                        timezone=tz,
                        address=f"{city}",
                        capacity=CAPACITY[venue_type],
                    )
                )
    have = set(Venue.objects.values_list("name", flat=True))
    Venue.objects.bulk_create(v for v in wanted if v.name not in have)
    names = [v.name for v in wanted]
    return list(Venue.objects.filter(name__in=names).select_related("region").order_by("pk"))


def _domain(name: str) -> str:
    return "".join(c for c in name.lower().replace("&", "and") if c.isalnum())[:24]


def _suppliers(ctx: SeedContext) -> tuple[list[Supplier], dict[int, str]]:
    have = set(Supplier.objects.values_list("name", flat=True))
    Supplier.objects.bulk_create(
        Supplier(
            name=name,
            kind=SUPPLIER_KINDS[i % len(SUPPLIER_KINDS)],
            contact_email=f"ops@{_domain(name)}.example",
            max_connections=200 + 50 * (i % 5),  # the gateway quota: at least 200 each
        )
        for i, name in enumerate(SUPPLIER_NAMES)
        if name not in have
    )
    suppliers = list(Supplier.objects.filter(name__in=SUPPLIER_NAMES).order_by("pk"))
    for supplier in suppliers:  # an early seed wrote invalid addresses ("candidco..example")
        if ".." in supplier.contact_email:
            supplier.contact_email = f"ops@{_domain(supplier.name)}.example"
            supplier.save(update_fields=["contact_email"])
    previous = {s.get("id"): s.get("token") for s in ctx.previous.get("suppliers", [])}
    tokens: dict[int, str] = {}
    for supplier in ctx.progress(suppliers, "supplier tokens"):
        token = previous.get(supplier.pk)
        if not token or Supplier.authenticate(token) != supplier:
            token = supplier.issue_token()
        tokens[supplier.pk] = token
    return suppliers, tokens


def _contacts(venues: list[Venue]) -> None:
    platform = [
        ("Network Operations Center", "noc", "noc@wedsync.example", "+1 555 0100", 0),
        ("On-call engineer", "on-call", "oncall@wedsync.example", "+1 555 0101", 1),
        ("Head of Operations", "escalation", "head-ops@wedsync.example", "+1 555 0102", 2),
    ]
    have = set(
        EmergencyContact.objects.filter(wedding=None, venue=None).values_list("name", flat=True)
    )
    EmergencyContact.objects.bulk_create(
        EmergencyContact(name=n, role=r, email=e, phone=p, order=o)
        for n, r, e, p, o in platform
        if n not in have
    )
    with_contact = set(
        EmergencyContact.objects.filter(venue__in=venues).values_list("venue_id", flat=True)
    )
    EmergencyContact.objects.bulk_create(
        EmergencyContact(
            name=f"Venue manager, {v.name}",
            role="venue manager",
            phone=f"+1 555 {1000 + v.pk % 9000:04d}",
            email=f"manager{v.pk}@venues.example",
            venue=v,
            order=0,
        )
        for v in venues
        if v.pk not in with_contact
    )


def _couple(rng: random.Random) -> str:
    a, b = rng.sample(FIRST, 2)
    return f"{a} & {b}"


def _build(venue, day, start, end, guests, n_suppliers, couple, status) -> Wedding:
    starts_at, ends_at = local_span(day, start, end, venue.timezone)
    return Wedding(
        venue=venue,
        date=day,
        ceremony_time=start,
        reception_end_time=end,
        couple_name=couple,
        expected_guests=guests,
        expected_connections=expected_connections(guests, n_suppliers, venue.venue_type).value,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
    )


def _live_weddings(venues: list[Venue], suppliers: list[Supplier]) -> list[Wedding]:
    """A few weddings live right now, each in its venue's local time (the Wedding Day
    dashboard then has something to show on any day of the year)."""
    from apps.weddings.live import live_weddings

    now = timezone.now()
    live = list(live_weddings(now).filter(venue__in=venues))
    by_region = defaultdict(int)
    for w in live:
        by_region[w.venue.region.code] += 1
    rng = random.Random(f"live-{now:%Y%m%d%H}")
    created = []
    for code, wanted in LIVE_PER_REGION.items():
        candidates = [v for v in venues if v.region.code == code]
        rng.shuffle(candidates)  # all six venue types take their turn at being live
        for venue in candidates:
            if by_region[code] >= wanted:
                break
            local_now = now.astimezone(ZoneInfo(venue.timezone))
            start_local = (local_now - timedelta(minutes=45)).replace(
                minute=(local_now.minute // 5) * 5, second=0, microsecond=0
            )
            start_local = start_local.replace(tzinfo=None)
            end_local = start_local + timedelta(hours=5)
            day = start_local.date()
            starts_at, ends_at = local_span(
                day, start_local.time(), end_local.time(), venue.timezone
            )
            busy = Wedding.objects.filter(venue=venue).exclude(status="cancelled")
            if busy.filter(Q(date=day) | Q(starts_at__lt=ends_at, ends_at__gt=starts_at)).exists():
                continue
            w = _build(venue, day, start_local.time(), end_local.time(), rng.randint(80, 220),
                       3, _couple(rng), Wedding.Status.IN_PROGRESS)  # fmt: skip
            w.save()
            w.suppliers.set(rng.sample(suppliers, 3))
            EmergencyContact.objects.create(
                name=f"Coordinator for {w.couple_name}",
                role="wedding coordinator",
                phone="+1 555 0199",
                wedding=w,
            )
            created.append(w)
            by_region[code] += 1
    return live + created


def _year_of_weddings(ctx, venues, suppliers, regions) -> None:
    today = datetime.now(UTC).date()
    days = [today + timedelta(days=i) for i in range(366)]
    taken = set(
        Wedding.objects.filter(venue__in=venues, date__gte=today).values_list("venue_id", "date")
    )
    tables = {code: seasons.season_table(r) for code, r in regions.items()}
    new: list[Wedding] = []
    chosen: list[list[int]] = []
    for venue in ctx.progress(venues, "weddings by venue"):
        if venue.region.code not in tables:  # a demo venue an admin moved to another region
            tables[venue.region.code] = seasons.season_table(venue.region)
        table = tables[venue.region.code]
        for day in days:
            rng = random.Random(f"{venue.name}|{day.isoformat()}")
            p = BOOKING_RATE * table[day.month][1] * seasons.weekday_weight(day)
            if rng.random() >= p or (venue.pk, day) in taken:
                continue
            start, end = rng.choice(SLOTS)
            picks = rng.sample(range(len(suppliers)), rng.randint(2, 4))
            status = Wedding.Status.CONFIRMED if (day - today).days < 60 else Wedding.Status.PLANNED
            guests = min(venue.capacity, int(rng.triangular(30, 260, 120)))
            new.append(_build(venue, day, start, end, guests, len(picks), _couple(rng), status))
            chosen.append(picks)
    created = Wedding.objects.bulk_create(new, batch_size=1000)
    through = Wedding.suppliers.through
    through.objects.bulk_create(
        (
            through(wedding_id=w.pk, supplier_id=suppliers[i].pk)
            for w, picks in zip(created, chosen, strict=True)
            for i in picks
        ),
        batch_size=5000,
    )


def _credentials(ctx: SeedContext, suppliers: list[Supplier], tokens: dict[int, str]) -> None:
    today = datetime.now(UTC).date() - timedelta(days=1)
    ids = defaultdict(list)
    rows = (
        Wedding.suppliers.through.objects.filter(supplier__in=suppliers, wedding__date__gte=today)
        .exclude(wedding__status="cancelled")
        .order_by("wedding__starts_at")
        .values_list("supplier_id", "wedding_id")
    )
    for supplier_id, wedding_id in rows:
        ids[supplier_id].append(wedding_id)
    ctx.credentials["suppliers"] = [
        {"id": s.pk, "name": s.name, "token": tokens[s.pk], "wedding_ids": ids[s.pk]}
        for s in suppliers
    ]
