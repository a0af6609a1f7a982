"""Query filters of the calendar API (django-filter: a bad value is a 400 naming it)."""

from __future__ import annotations

import django_filters as filters

from apps.weddings.models import Region, Venue, VenueType, Wedding


class WeddingFilter(filters.FilterSet):
    date_after = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = filters.DateFilter(field_name="date", lookup_expr="lte")
    # By code; an unknown code is a 400 rather than an empty list that looks like "no weddings".
    region = filters.ModelChoiceFilter(
        field_name="venue__region", to_field_name="code", queryset=Region.objects.all()
    )
    venue_type = filters.ChoiceFilter(field_name="venue__venue_type", choices=VenueType.choices)
    supplier = filters.NumberFilter(field_name="suppliers", distinct=True)
    status = filters.MultipleChoiceFilter(choices=Wedding.Status.choices)
    venue = filters.NumberFilter(field_name="venue_id")

    class Meta:
        model = Wedding
        fields = ["date_after", "date_before", "region", "venue_type", "supplier", "status"]


class VenueFilter(filters.FilterSet):
    region = filters.ModelChoiceFilter(to_field_name="code", queryset=Region.objects.all())
    venue_type = filters.ChoiceFilter(choices=VenueType.choices)

    class Meta:
        model = Venue
        fields = ["region", "venue_type", "connectivity", "degraded"]
