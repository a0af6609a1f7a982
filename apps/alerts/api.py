"""REST API of the alerts app (thin: the work is in engine, escalation, emergencies)."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts.permissions import OperatorAction, StaffReadAdminWrite
from apps.alerts import atrisk, emergencies, escalation, incidents, notify, rules, serializers
from apps.alerts.models import (
    Alert,
    AlertRule,
    AlertState,
    EscalationPolicy,
    Incident,
    MaintenanceWindow,
    Notification,
    NotificationChannel,
    Silence,
)
from apps.alerts.suppression import Suppressions
from apps.weddings.freeze import FreezeError

OVERRIDE = OpenApiParameter(
    "override_reason", str, description="Admins only: proceed despite the wedding-day freeze."
)


def _frozen_response(exc: FreezeError) -> Response:
    return Response(exc.payload(), status=status.HTTP_409_CONFLICT)


def _override_reason(request) -> str:
    data = request.data if isinstance(request.data, dict) else {}
    return str(data.get("override_reason") or request.query_params.get("override_reason") or "")


class AlertRuleViewSet(viewsets.ModelViewSet):
    """Alert rules. Admins write; disabling or deleting a rule while a wedding is live is
    refused (409) unless an admin gives `override_reason`."""

    queryset = AlertRule.objects.select_related("escalation_policy")
    serializer_class = serializers.AlertRuleSerializer
    permission_classes = [StaffReadAdminWrite]
    filterset_fields = ["metric", "severity", "enabled", "kind"]
    ordering_fields = ["name", "severity", "metric"]

    def _guarded(self, old, serializer) -> None:
        """The one guard (apps.alerts.rules) on every write, as in Django admin."""
        try:
            rules.check_rule_change(
                old,
                dict(serializer.validated_data),
                user=self.request.user,
                override_reason=_override_reason(self.request),
            )
        except rules.RuleError as exc:
            raise ValidationError({k: [v] for k, v in exc.errors.items()}) from exc

    def perform_create(self, serializer):
        self._guarded(None, serializer)
        serializer.save()

    def perform_update(self, serializer):
        self._guarded(serializer.instance, serializer)
        serializer.save()

    @extend_schema(parameters=[OVERRIDE])
    def update(self, request, *args, **kwargs):
        try:
            return super().update(request, *args, **kwargs)
        except FreezeError as exc:
            return _frozen_response(exc)

    @extend_schema(parameters=[OVERRIDE])
    def destroy(self, request, *args, **kwargs):
        rule = self.get_object()
        try:
            rules.check_rule_delete(
                rule, user=request.user, override_reason=_override_reason(request)
            )
        except FreezeError as exc:
            return _frozen_response(exc)
        return super().destroy(request, *args, **kwargs)


class AlertFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=AlertState.choices)
    severity = django_filters.CharFilter(field_name="rule__severity")
    venue = django_filters.CharFilter(field_name="labels__venue", help_text="The `venue` label.")
    acknowledged = django_filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Alert
        fields = ["state", "rule", "severity", "acknowledged", "venue"]


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts: one per rule and label set. `?state=pending|firing|resolved|inactive` (repeatable),
    `?rule=`, `?severity=`, `?venue=` (the label), `?acknowledged=`. Each alert lists the live
    `weddings` it touches."""

    queryset = Alert.objects.select_related("rule", "acknowledged_by")
    permission_classes = [OperatorAction]
    filterset_class = AlertFilter
    ordering_fields = ["updated_at", "fired_at", "started_at", "resolved_at"]
    ordering = ["-updated_at"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.AlertDetailSerializer
        return serializers.AlertSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["suppressions"] = Suppressions(timezone.now())
        context["live"] = atrisk.load_live()
        return context

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("transitions__actor")
        return queryset

    @extend_schema(request=serializers.AcknowledgeSerializer, responses=serializers.AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge (operators): stops escalation; `comment` optional."""
        alert = self.get_object()
        body = serializers.AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alert = escalation.acknowledge(alert.pk, request.user, body.validated_data["comment"])
        except escalation.AckError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(alert).data)

    @extend_schema(request=serializers.AcknowledgeSerializer, responses=serializers.AlertSerializer)
    @action(detail=True, methods=["post"])
    def unacknowledge(self, request, pk=None):
        """Withdraw the acknowledgement (`comment` optional): escalation resumes where it
        stopped."""
        alert = self.get_object()
        body = serializers.AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alert = escalation.unacknowledge(alert.pk, request.user, body.validated_data["comment"])
        except escalation.AckError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(alert).data)


class SilenceViewSet(viewsets.ModelViewSet):
    """Silences (operators): mute notifications for alerts whose labels match, from starts_at
    to ends_at. `?active=true` lists the ones in force. DELETE expires it now."""

    queryset = Silence.objects.select_related("created_by")
    serializer_class = serializers.SilenceSerializer
    permission_classes = [OperatorAction]

    def get_queryset(self):
        queryset = super().get_queryset()
        active = self.request.query_params.get("active")
        if active in ("true", "1"):
            now = timezone.now()
            queryset = queryset.filter(starts_at__lte=now, ends_at__gt=now)
        return queryset

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)

    def perform_destroy(self, silence):
        # Expire rather than delete: the record of who muted what stays.
        now = timezone.now()
        if silence.ends_at > now:
            silence.ends_at = max(now, silence.starts_at)
            silence.save(update_fields=["ends_at"])


class MaintenanceWindowViewSet(viewsets.ModelViewSet):
    queryset = MaintenanceWindow.objects.all()
    serializer_class = serializers.MaintenanceWindowSerializer
    permission_classes = [StaffReadAdminWrite]


class NotificationChannelViewSet(viewsets.ModelViewSet):
    queryset = NotificationChannel.objects.all()
    serializer_class = serializers.NotificationChannelSerializer
    permission_classes = [StaffReadAdminWrite]

    @extend_schema(request=None, responses=serializers.NotificationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[OperatorAction])
    def test(self, request, pk=None):
        """Send a test notice now (operators): 200 with the delivery-log row, status `sent`
        or `failed` with the error."""
        notification = notify.send_test(self.get_object(), request.user)
        return Response(serializers.NotificationSerializer(notification).data)


class EscalationPolicyViewSet(viewsets.ModelViewSet):
    queryset = EscalationPolicy.objects.prefetch_related("levels__channels")
    serializer_class = serializers.EscalationPolicySerializer
    permission_classes = [StaffReadAdminWrite]


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log: every notice, its status, attempts and last error."""

    queryset = Notification.objects.all()
    serializer_class = serializers.NotificationSerializer
    permission_classes = [OperatorAction]
    filterset_fields = ["status", "alert", "incident", "channel_kind", "kind"]


class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents with their timelines. POST triggers an emergency protocol (operators)."""

    queryset = Incident.objects.select_related("venue", "wedding", "triggered_by").prefetch_related(
        "timeline"
    )
    serializer_class = serializers.IncidentSerializer
    permission_classes = [OperatorAction]
    filterset_fields = ["status", "emergency_type", "venue", "wedding"]

    @extend_schema(
        request=serializers.TriggerEmergencySerializer,
        responses={201: serializers.IncidentSerializer},
    )
    def create(self, request, *args, **kwargs):
        body = serializers.TriggerEmergencySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            incident = emergencies.trigger(
                data["emergency_type"],
                wedding=data.get("wedding"),
                venue=data.get("venue"),
                user=request.user,
                reason=data["reason"],
            )
        except emergencies.EmergencyError as exc:
            raise ValidationError({exc.field: str(exc)}) from exc
        incident = self.get_queryset().get(pk=incident.pk)
        return Response(self.get_serializer(incident).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.IncidentNoteSerializer, responses=serializers.IncidentSerializer
    )
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """Add a note to the incident's timeline (operators)."""
        incident = self.get_object()
        body = serializers.IncidentNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            incidents.add_note(incident.pk, request.user, body.validated_data["text"])
        except incidents.NoteError as exc:
            raise ValidationError({"text": str(exc)}) from exc
        incident = self.get_queryset().get(pk=incident.pk)
        return Response(self.get_serializer(incident).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.ResolveIncidentSerializer, responses=serializers.IncidentSerializer
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        incident = self.get_object()
        body = serializers.ResolveIncidentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            emergencies.resolve(incident.pk, request.user, body.validated_data["note"])
        except emergencies.EmergencyError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data)
