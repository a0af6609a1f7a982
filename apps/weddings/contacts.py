"""Who to call about a wedding, in escalation order."""

from __future__ import annotations

from django.db.models import Q

from apps.weddings.models import EmergencyContact, Wedding


def escalation_chain(wedding: Wedding) -> list[EmergencyContact]:
    """The wedding's own contacts, then its venue's, then the platform-wide ones;
    each group in its `order`. The people nearest the problem come first."""
    rows = EmergencyContact.objects.filter(
        Q(wedding=wedding) | Q(venue_id=wedding.venue_id) | Q(wedding=None, venue=None)
    )

    def rank(c: EmergencyContact) -> tuple[int, int, str]:
        group = 0 if c.wedding_id else 1 if c.venue_id else 2
        return (group, c.order, c.name)

    return sorted(rows, key=rank)
