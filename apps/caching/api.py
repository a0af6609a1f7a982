"""REST view of the cache: its figures, summed across every live process."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import StaffReadAdminWrite
from apps.caching.service import aggregate_stats
from apps.caching.warming import coverage


class CacheStatsView(APIView):
    permission_classes = [StaffReadAdminWrite]

    @extend_schema(
        summary="Cache figures per tier, summed across processes",
        description=(
            "hits, misses, hit ratio and latency percentiles (us) per tier (l1, l2, total), "
            "L1 bytes and evictions, compression ratio, Redis and loader errors. Each process "
            "publishes its counters to Redis every few seconds with a short TTL. `warming`: "
            "of the weddings starting within the warming horizon (not live yet), how many "
            "have their bundle in the cache (`upcoming`, `warm`, `cold`, `hours`)."
        ),
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response({**aggregate_stats(), "warming": coverage()})
