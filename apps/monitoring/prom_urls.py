"""Prometheus-compatible routes, mounted under /prometheus/ (as Mimir and VictoriaMetrics)."""

from django.urls import path

from apps.monitoring import prom_query_api as q
from apps.monitoring.prom_write_api import RemoteWriteView

urlpatterns = [
    path("api/v1/write", RemoteWriteView.as_view(), name="prometheus-remote-write"),
    path("api/v1/query", q.QueryView.as_view(), name="prometheus-query"),
    path("api/v1/query_range", q.QueryRangeView.as_view(), name="prometheus-query-range"),
    path("api/v1/series", q.SeriesView.as_view(), name="prometheus-series"),
    path("api/v1/labels", q.LabelsView.as_view(), name="prometheus-labels"),
    path(
        "api/v1/label/<str:name>/values",
        q.LabelValuesView.as_view(),
        name="prometheus-label-values",
    ),
    path("api/v1/metadata", q.MetadataView.as_view(), name="prometheus-metadata"),
    path("api/v1/status/buildinfo", q.BuildInfoView.as_view(), name="prometheus-buildinfo"),
    path("api/v1/rules", q.EmptyView.as_view(), {"kind": "rules"}),
    path("api/v1/alerts", q.EmptyView.as_view(), {"kind": "alerts"}),
    path("api/v1/query_exemplars", q.EmptyView.as_view(), {"kind": "query_exemplars"}),
]
