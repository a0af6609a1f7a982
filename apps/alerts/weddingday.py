"""Which series are in wedding-day mode, for rules with a wedding_day_threshold.

Matching, most specific label first: a series labelled `wedding` is in wedding-day mode while
that wedding is live; one labelled `venue` (a venue id) while a wedding at that venue is live;
one labelled `region` (a region code) while a wedding in that region is live; a series with
none of these labels (platform-wide: the gateway, the cache, the database) while any wedding
is live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from apps.weddings.live import live_weddings


@dataclass(frozen=True)
class LiveContext:
    wedding_ids: frozenset[str]
    venue_ids: frozenset[str]
    region_codes: frozenset[str]

    @property
    def any_live(self) -> bool:
        return bool(self.wedding_ids)

    def applies(self, labels: dict) -> bool:
        if "wedding" in labels:
            return str(labels["wedding"]) in self.wedding_ids
        if "venue" in labels:
            return str(labels["venue"]) in self.venue_ids
        if "region" in labels:
            return str(labels["region"]) in self.region_codes
        return self.any_live


def live_context(at: datetime | None = None) -> LiveContext:
    at = at or timezone.now()
    rows = list(live_weddings(at).values_list("pk", "venue_id", "venue__region__code"))
    return LiveContext(
        wedding_ids=frozenset(str(r[0]) for r in rows),
        venue_ids=frozenset(str(r[1]) for r in rows),
        region_codes=frozenset(str(r[2]) for r in rows),
    )


def threshold_for(rule, labels: dict, ctx: LiveContext | None) -> tuple[float, bool]:
    """(threshold in force, whether it is the wedding-day one)."""
    if rule.wedding_day_threshold is not None and ctx is not None and ctx.applies(labels):
        return rule.wedding_day_threshold, True
    return rule.threshold, False
