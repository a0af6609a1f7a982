"""REST API of dashboards and widgets (thin: rules live in services/specs/data)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.db.models import Count
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.accounts.permissions import OperatorAction
from apps.dashboards import data, services, timerange, versions
from apps.dashboards.models import Dashboard, DashboardVersion, Widget
from apps.dashboards.serializers import (
    DashboardListSerializer,
    DashboardSerializer,
    ImportResultSerializer,
    ReorderSerializer,
    VersionSerializer,
    WidgetSerializer,
)
from apps.dashboards.specs import DOCUMENT_SCHEMA, SpecError

RANGE_PARAMS = [
    OpenApiParameter("range", str, enum=["15m", "1h", "6h", "24h", "7d"]),
    OpenApiParameter("start", str, description="Custom window start: unix seconds or ISO 8601."),
    OpenApiParameter("end", str, description="Custom window end: unix seconds or ISO 8601."),
    OpenApiParameter("widgets", str, description="Comma-separated widget ids (default: all)."),
    OpenApiParameter("downsample", bool, description="0 sends every point (for comparison)."),
    OpenApiParameter("alerts", bool, description="1 adds `alerts`: the firing and pending ones."),
    OpenApiParameter("from", str, description="Grafana-style: now-24h, epoch ms or ISO 8601."),
    OpenApiParameter("to", str, description="Grafana-style: now, epoch ms or ISO 8601."),
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
        with versions.changing(serializer.instance, self.request.user, "settings changed"):
            serializer.save()

    def perform_destroy(self, instance: Dashboard) -> None:
        # Every operator edits a shared dashboard (and can restore any version of it);
        # deleting one, which loses its versions too, is for its owner or an admin.
        if not services.can_delete(self.request.user, instance):
            raise PermissionDenied(
                "Only its owner or an admin may delete a shared dashboard; "
                "you may change it (every change can be restored from its versions)."
            )
        instance.delete()

    @extend_schema(responses=VersionSerializer(many=True))
    # A plain list (at most 200, newest first), not a page: the schema must say so too.
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, slug=None):
        """The dashboard's versions, newest first (each change to it is one)."""
        dashboard = self.get_object()
        rows = dashboard.versions.select_related("author").order_by("-number")[:200]
        return Response(VersionSerializer(rows, many=True).data)

    @extend_schema(request=None, responses=DashboardSerializer)
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>\d+)/restore")
    def restore(self, request, slug=None, number=None):
        """Make the dashboard what version `number` was (recorded as a new version)."""
        dashboard = self.get_object()
        self._check_edit(dashboard)
        try:
            versions.restore(dashboard, int(number), request.user)
        except DashboardVersion.DoesNotExist:
            raise NotFound(f"{dashboard.name} has no version {number}.") from None
        except SpecError as exc:
            raise ValidationError(exc.errors) from None
        dashboard = self.get_queryset().get(pk=dashboard.pk)
        return Response(DashboardSerializer(dashboard).data)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def export(self, request, slug=None):
        body = services.export_dashboard(self.get_object())
        response = Response(body)
        response["Content-Disposition"] = f'attachment; filename="dashboard-{slug}.json"'
        return response

    @extend_schema(
        request={"application/json": DOCUMENT_SCHEMA}, responses={201: ImportResultSerializer}
    )
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
        with_alerts = request.query_params.get("alerts") in ("1", "true")
        return Response(
            data.dashboard_snapshot(dashboard, start, end, ids, downsample, with_alerts)
        )

    @extend_schema(request=ReorderSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def reorder(self, request, slug=None):
        dashboard = self.get_object()
        self._check_edit(dashboard)
        body = ReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            with versions.changing(dashboard, request.user, "widgets reordered"):
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
        title = serializer.validated_data.get("title", "")
        with versions.changing(dashboard, self.request.user, f"widget added: {title}"):
            serializer.save()

    def perform_update(self, serializer) -> None:
        self._check_edit(serializer.instance.dashboard)
        if "dashboard" in serializer.validated_data:
            self._check_edit(serializer.validated_data["dashboard"])
        title = serializer.instance.title
        with versions.changing(
            serializer.instance.dashboard, self.request.user, f"widget changed: {title}"
        ):
            serializer.save()

    def perform_destroy(self, instance: Widget) -> None:
        self._check_edit(instance.dashboard)
        dashboard = instance.dashboard
        with versions.changing(dashboard, self.request.user, f"widget removed: {instance.title}"):
            instance.delete()


_data_view = DashboardViewSet.as_view({"get": "data"})


def _data_on_worker(request, slug: str):
    try:
        response = _data_view(request, slug=slug)
        response.render()  # encode the JSON here too, off the shared thread
        return response
    finally:
        # This worker thread outlives the request: return its connection (to the pool).
        for conn in connections.all(initialized_only=True):
            conn.close()


def _data_here(request, slug: str):
    response = _data_view(request, slug=slug)
    response.render()
    return response


@csrf_exempt  # as DRF's views: DRF checks CSRF itself for session-authenticated writes
async def dashboard_data(request, slug: str):
    """GET /api/v1/dashboards/{slug}/data/: the same DRF action (auth, throttles,
    permissions, payload), run on a worker thread of its own.

    Django runs every sync view of an ASGI process on ONE thread (asgiref's
    thread-sensitive mode); the data of a whole dashboard takes the longest of them, and
    while it ran the page's other requests and its socket's log-in waited behind it."""
    # Under WSGI (and Django's test client) the request already has a thread of its own,
    # maybe inside a transaction that another thread would not see: stay on it.
    if isinstance(request, ASGIRequest):
        return await sync_to_async(_data_on_worker, thread_sensitive=False)(request, slug)
    return await sync_to_async(_data_here)(request, slug)
