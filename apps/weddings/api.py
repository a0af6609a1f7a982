"""REST API of the calendar: thin views over the models, services and insights."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import AdminOnly, StaffOrSupplierRead, StaffReadAdminWrite
from apps.weddings import insights
from apps.weddings.filters import VenueFilter, WeddingFilter
from apps.weddings.freeze import FreezeError, check_freeze
from apps.weddings.models import EmergencyContact, Region, Supplier, Venue, Wedding
from apps.weddings.serializers import (
    EmergencyContactSerializer,
    RegionSerializer,
    SupplierCreatedSerializer,
    SupplierSerializer,
    TokenSerializer,
    VenueSerializer,
    WeddingSerializer,
)

FROZEN = status.HTTP_409_CONFLICT


def _reason(request) -> str:
    """The override reason, from the body or (for DELETE) the query string."""
    data = request.data if hasattr(request.data, "get") else {}
    return data.get("override_reason") or request.query_params.get("override_reason") or ""


class SupplierViewSet(viewsets.ModelViewSet):
    """Gateway tenants. Operators read; admins write. A token is shown once, on creation
    or rotation. Lowering `max_connections` or deleting/disabling a supplier while a
    wedding is live is refused (409) unless an admin gives `override_reason`."""

    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    permission_classes = [StaffReadAdminWrite]
    filterset_fields = ["kind", "is_active"]
    ordering_fields = ["name", "max_connections", "created_at"]

    @extend_schema(responses={201: SupplierCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("override_reason", None)
        with transaction.atomic():
            supplier = Supplier.objects.create(**data)
            token = supplier.issue_token()
        body = SupplierCreatedSerializer(supplier).data
        body["token"] = token
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        supplier = serializer.instance
        data = serializer.validated_data
        reason = data.pop("override_reason", "")
        risky = []
        new_max = data.get("max_connections", supplier.max_connections)
        if new_max < supplier.max_connections:
            risky.append(
                f"lower max_connections of {supplier.name} "
                f"from {supplier.max_connections} to {new_max}"
            )
        if supplier.is_active and data.get("is_active") is False:
            risky.append(f"disable supplier {supplier.name}")
        with transaction.atomic():
            if risky:
                check_freeze("; ".join(risky), user=self.request.user, override_reason=reason)
            serializer.save()

    def perform_destroy(self, supplier):
        with transaction.atomic():
            check_freeze(
                f"delete supplier {supplier.name}",
                user=self.request.user,
                override_reason=_reason(self.request),
            )
            supplier.delete()

    def handle_exception(self, exc):
        if isinstance(exc, FreezeError):
            return Response(exc.payload(), status=FROZEN)
        return super().handle_exception(exc)

    @extend_schema(request=None, responses={200: TokenSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-token", permission_classes=[AdminOnly])
    def rotate_token(self, request, pk=None):
        """Issue a new gateway token (the old one stops working); shown once."""
        supplier = self.get_object()
        token = supplier.issue_token()
        return Response({"id": supplier.pk, "token": token, "token_hint": supplier.token_hint})


class RegionViewSet(viewsets.ModelViewSet):
    """Regions and their season calendars (`months`: season and load multiplier per month)."""

    queryset = Region.objects.prefetch_related("months")
    serializer_class = RegionSerializer
    permission_classes = [StaffReadAdminWrite]
    lookup_field = "code"


class VenueViewSet(viewsets.ModelViewSet):
    """Venues, with the connectivity profile the gateway applies to them."""

    queryset = Venue.objects.select_related("region")
    serializer_class = VenueSerializer
    permission_classes = [StaffReadAdminWrite]
    filterset_class = VenueFilter
    ordering_fields = ["name", "capacity"]


@extend_schema(
    parameters=[
        OpenApiParameter("override_reason", str, description="DELETE during a freeze (admins)")
    ]
)
class WeddingViewSet(viewsets.ModelViewSet):
    """Wedding-day registrations. Operators read all, admins write, a supplier token reads
    only the weddings it works at. A venue cannot hold two overlapping weddings (400)."""

    serializer_class = WeddingSerializer
    permission_classes = [StaffOrSupplierRead]
    filterset_class = WeddingFilter
    ordering_fields = ["date", "starts_at", "expected_connections", "expected_guests"]

    def get_queryset(self):
        qs = Wedding.objects.select_related("venue", "venue__region").prefetch_related(
            Prefetch("suppliers", queryset=Supplier.objects.only("id"))
        )
        supplier = getattr(self.request.user, "supplier", None)
        if supplier is not None:
            qs = qs.filter(suppliers=supplier)
        return qs.order_by("date", "ceremony_time", "pk")

    def retrieve(self, request, *args, **kwargs):
        """The detail read goes through the two-tier cache (apps.caching): any write to the
        wedding, its venue or its suppliers invalidates it in every process."""
        from apps.caching.bundles import supplier_wedding_ids, wedding_detail

        try:
            pk = int(kwargs[self.lookup_field])
        except (TypeError, ValueError):
            raise NotFound() from None
        supplier = getattr(request.user, "supplier", None)
        if supplier is not None and pk not in supplier_wedding_ids(supplier.pk):
            raise NotFound()

        def render() -> dict:
            wedding = get_object_or_404(self.get_queryset(), pk=pk)
            return dict(self.get_serializer(wedding).data)

        return Response(wedding_detail(pk, render))

    def perform_destroy(self, wedding):
        from apps.weddings.live import live_weddings

        with transaction.atomic():
            if live_weddings().filter(pk=wedding.pk).exists():
                check_freeze(
                    f"delete live wedding {wedding.couple_name} (#{wedding.pk})",
                    user=self.request.user,
                    override_reason=_reason(self.request),
                )
            wedding.delete()

    def handle_exception(self, exc):
        if isinstance(exc, FreezeError):
            return Response(exc.payload(), status=FROZEN)
        return super().handle_exception(exc)


class EmergencyContactViewSet(viewsets.ModelViewSet):
    """Emergency contacts per wedding, per venue or platform-wide, in escalation order."""

    queryset = EmergencyContact.objects.all()
    serializer_class = EmergencyContactSerializer
    permission_classes = [StaffReadAdminWrite]
    filterset_fields = ["wedding", "venue"]


class InsightsView(APIView):
    """Calendar insights: weddings per month by region / venue type / season, expected
    peak connections per day for the next 90 days, the busiest upcoming Saturdays and
    the weddings live now."""

    permission_classes = [IsAuthenticated, StaffReadAdminWrite]

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(insights.build())
