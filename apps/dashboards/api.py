"""REST API of dashboards and widgets (thin: rules live in services/specs/data)."""

from __future__ import annotations

from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.accounts.permissions import OperatorAction
from apps.dashboards import data, services, timerange
from apps.dashboards.models import Dashboard, Widget
from apps.dashboards.serializers import (
    DashboardListSerializer,
    DashboardSerializer,
    ImportResultSerializer,
    ReorderSerializer,
    WidgetSerializer,
)
from apps.dashboards.specs import SpecError

RANGE_PARAMS = [
    OpenApiParameter("range", str, enum=["15m", "1h", "6h", "24h", "7d"]),
    OpenApiParameter("start", str, description="Custom window start: unix seconds or ISO 8601."),
    OpenApiParameter("end", str, description="Custom window end: unix seconds or ISO 8601."),
    OpenApiParameter("widgets", str, description="Comma-separated widget ids (default: all)."),
    OpenApiParameter("downsample", bool, description="0 sends every point (for comparison)."),
]


class DashboardViewSet(viewsets.ModelViewSet):
    """Dashboards by slug. Operators create and edit shared dashboards and their own."""

    permission_classes = [OperatorAction]
    lookup_field = "slug"
    filterset_fields = ["shared"]
    ordering_fields = ["name", "updated_at"]

    def get_queryset(self):
        qs = services.visible_dashboards(self.request.user).select_related("owner").order_by("name")
        if self.action == "list":
            return qs.annotate(n=Count("widgets"))
        return qs.prefetch_related("widgets")

    def get_serializer_class(self):
        return DashboardListSerializer if self.action == "list" else DashboardSerializer

    def _check_edit(self, dashboard: Dashboard) -> None:
        if not services.can_edit(self.request.user, dashboard):
            raise PermissionDenied("Only its owner (or an admin) may change a private dashboard.")

    def perform_create(self, serializer) -> None:
        slug = serializer.validated_data.get("slug") or serializer.validated_data["name"]
        serializer.save(owner=self.request.user, slug=services.unique_slug(slug))

    def perform_update(self, serializer) -> None:
        self._check_edit(serializer.instance)
        serializer.save()

    def perform_destroy(self, instance: Dashboard) -> None:
        self._check_edit(instance)
        instance.delete()

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def export(self, request, slug=None):
        body = services.export_dashboard(self.get_object())
        response = Response(body)
        response["Content-Disposition"] = f'attachment; filename="dashboard-{slug}.json"'
        return response

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: ImportResultSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_(self, request):
        try:
            dashboard = services.import_dashboard(request.data, request.user)
        except SpecError as exc:
            raise ValidationError(exc.errors) from None
        return Response(
            {"id": dashboard.pk, "slug": dashboard.slug, "url": f"/dashboards/{dashboard.slug}/"},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(parameters=RANGE_PARAMS, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def data(self, request, slug=None):
        """Every widget's data for the window: Plotly figures (≤ ~1,000 points a series),
        metric values with state and sparkline, service status."""
        dashboard = self.get_object()
        try:
            start, end = timerange.resolve(request.query_params, dashboard.default_range)
        except timerange.RangeError as exc:
            raise ValidationError({exc.field: exc.message}) from None
        ids = None
        if request.query_params.get("widgets"):
            try:
                ids = {int(x) for x in request.query_params["widgets"].split(",") if x}
            except ValueError:
                raise ValidationError({"widgets": "must be comma-separated ids."}) from None
        downsample = request.query_params.get("downsample", "1") not in ("0", "false")
        return Response(data.dashboard_snapshot(dashboard, start, end, ids, downsample))

    @extend_schema(request=ReorderSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def reorder(self, request, slug=None):
        dashboard = self.get_object()
        self._check_edit(dashboard)
        body = ReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.reorder_widgets(dashboard, body.validated_data["order"])
        except ValueError as exc:
            raise ValidationError({"order": str(exc)}) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses=inline_serializer("KnownMetrics", {"metrics": serializers.ListField()})
    )
    @action(detail=False, methods=["get"], url_path="known-metrics")
    def known_metrics(self, request):
        """Metric names with samples, for the widget query editor."""
        from apps.monitoring.query import known_metrics

        return Response({"metrics": sorted(known_metrics())})


class WidgetViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Widgets of the dashboards you can see; `?dashboard=<slug>` filters."""

    permission_classes = [OperatorAction]
    serializer_class = WidgetSerializer

    def get_queryset(self):
        visible = services.visible_dashboards(self.request.user)
        qs = Widget.objects.filter(dashboard__in=visible).select_related("dashboard")
        slug = self.request.query_params.get("dashboard")
        return qs.filter(dashboard__slug=slug) if slug else qs

    def _check_edit(self, dashboard: Dashboard) -> None:
        visible = services.visible_dashboards(self.request.user).filter(pk=dashboard.pk).exists()
        if not visible or not services.can_edit(self.request.user, dashboard):
            raise PermissionDenied("You may not change this dashboard.")

    def perform_create(self, serializer) -> None:
        dashboard = serializer.validated_data.get("dashboard")
        if dashboard is None:
            raise ValidationError({"dashboard": "is required."})
        self._check_edit(dashboard)
        if "position" not in self.request.data:
            last = (
                dashboard.widgets.order_by("-position").values_list("position", flat=True).first()
            )
            serializer.validated_data["position"] = (last or 0) + 1
        serializer.save()

    def perform_update(self, serializer) -> None:
        self._check_edit(serializer.instance.dashboard)
        if "dashboard" in serializer.validated_data:
            self._check_edit(serializer.validated_data["dashboard"])
        serializer.save()

    def perform_destroy(self, instance: Widget) -> None:
        self._check_edit(instance.dashboard)
        instance.delete()
