"""REST API of the calendar: thin views over the models, services and insights."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch, ProtectedError
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
from apps.weddings.contacts import escalation_chain
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


class StaffOnly(StaffReadAdminWrite):
    """StaffReadAdminWrite, telling a supplier token where it may go instead."""

    def has_permission(self, request, view) -> bool:
        if getattr(request.user, "supplier", None) is not None:
            self.message = (
                "A supplier token may only read its own weddings (/api/v1/weddings/); "
                "this endpoint is for operations staff."
            )
            return False
        return super().has_permission(request, view)


def _reason(request) -> str:
    """The override reason, from the body or (for DELETE) the query string."""
    data = request.data if hasattr(request.data, "get") else {}
    return data.get("override_reason") or request.query_params.get("override_reason") or ""


class CalendarErrorsMixin:
    """A FreezeError becomes 409 with the live weddings listed; deleting a row that others
    still use (a venue with weddings, a region with venues) is 409 saying what uses it."""

    def handle_exception(self, exc):
        if isinstance(exc, FreezeError):
            return Response(exc.payload(), status=FROZEN)
        if isinstance(exc, ProtectedError):
            used_by: dict[str, int] = {}
            for obj in exc.protected_objects:
                name = str(obj._meta.verbose_name_plural)
                used_by[name] = used_by.get(name, 0) + 1
            what = ", ".join(f"{n} {name}" for name, n in used_by.items())
            return Response(
                {"detail": f"Still in use by {what}; remove or move those first.",
                 "code": "protected", "used_by": used_by},
                status=status.HTTP_409_CONFLICT,
            )  # fmt: skip
        return super().handle_exception(exc)


class OwnSupplierRecord(StaffOnly):
    """Staff as StaffOnly; a supplier token may read its own record (retrieve only)."""

    def has_permission(self, request, view) -> bool:
        if getattr(request.user, "supplier", None) is not None and view.action == "retrieve":
            return True
        return super().has_permission(request, view)


class SupplierViewSet(CalendarErrorsMixin, viewsets.ModelViewSet):
    """Gateway tenants. Operators read; admins write. A token is shown once, on creation
    or rotation. Lowering `max_connections` or deleting/disabling a supplier while a
    wedding is live is refused (409) unless an admin gives `override_reason`."""

    serializer_class = SupplierSerializer
    permission_classes = [OwnSupplierRecord]
    filterset_fields = ["kind", "is_active"]
    ordering_fields = ["name", "max_connections", "created_at"]

    def get_queryset(self):
        supplier = getattr(self.request.user, "supplier", None)
        if supplier is not None:  # its own record, nobody else's (others are 404)
            return Supplier.objects.filter(pk=supplier.pk)
        return Supplier.objects.all()

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

    @extend_schema(request=None, responses={200: TokenSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-token", permission_classes=[AdminOnly])
    def rotate_token(self, request, pk=None):
        """Issue a new gateway token (the old one stops working); shown once."""
        supplier = self.get_object()
        token = supplier.issue_token()
        return Response({"id": supplier.pk, "token": token, "token_hint": supplier.token_hint})


class RegionViewSet(CalendarErrorsMixin, viewsets.ModelViewSet):
    """Regions and their season calendars (`months`: season and load multiplier per month)."""

    queryset = Region.objects.prefetch_related("months")
    serializer_class = RegionSerializer
    permission_classes = [StaffOnly]
    lookup_field = "code"


class VenueViewSet(CalendarErrorsMixin, viewsets.ModelViewSet):
    """Venues, with the connectivity profile the gateway applies to them. Deleting one
    while a wedding is live needs an admin's `override_reason`."""

    queryset = Venue.objects.select_related("region")
    serializer_class = VenueSerializer
    permission_classes = [StaffOnly]
    filterset_class = VenueFilter
    ordering_fields = ["name", "capacity"]

    def perform_destroy(self, venue):
        with transaction.atomic():
            check_freeze(
                f"delete venue {venue.name}",
                user=self.request.user,
                override_reason=_reason(self.request),
            )
            venue.delete()


@extend_schema(
    parameters=[
        OpenApiParameter("override_reason", str, description="DELETE during a freeze (admins)")
    ]
)
class WeddingViewSet(CalendarErrorsMixin, viewsets.ModelViewSet):
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

    def perform_update(self, serializer):
        from apps.weddings.live import live_weddings

        wedding = serializer.instance
        cancelling = serializer.validated_data.get("status") == Wedding.Status.CANCELLED
        with transaction.atomic():
            if cancelling and live_weddings().filter(pk=wedding.pk).exists():
                check_freeze(
                    f"cancel live wedding {wedding.couple_name} (#{wedding.pk})",
                    user=self.request.user,
                    override_reason=_reason(self.request),
                )
            serializer.save()

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


class EmergencyContactViewSet(viewsets.ModelViewSet):
    """Emergency contacts per wedding, per venue or platform-wide, in escalation order."""

    queryset = EmergencyContact.objects.all()
    serializer_class = EmergencyContactSerializer
    permission_classes = [StaffOnly]
    filterset_fields = ["wedding", "venue"]

    @extend_schema(
        parameters=[OpenApiParameter("wedding", int, required=True, description="wedding id")],
        responses={200: EmergencyContactSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def escalation(self, request):
        """Who to call about a wedding, in order: the wedding's own contacts, then its
        venue's, then platform-wide ones."""
        raw = request.query_params.get("wedding", "")
        if not raw.isdigit():
            return Response(
                {"wedding": ["Give the wedding id, e.g. ?wedding=42."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        wedding = Wedding.objects.filter(pk=int(raw)).first()
        if wedding is None:
            return Response({"wedding": [f"No wedding {raw}."]}, status=status.HTTP_404_NOT_FOUND)
        return Response(EmergencyContactSerializer(escalation_chain(wedding), many=True).data)


class InsightsView(APIView):
    """Calendar insights: weddings per month by region / venue type / season, expected
    peak connections per day for the next 90 days, the busiest upcoming Saturdays and
    the weddings live now."""

    permission_classes = [IsAuthenticated, StaffOnly]

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(insights.build())
