"""REST: publish a message, read the gateway health report."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.roles import is_operator
from apps.realtime import authz
from apps.realtime.health import health_report
from apps.realtime.publish import PublishError, publish
from apps.realtime.serializers import (
    HealthSerializer,
    PublishResultSerializer,
    PublishSerializer,
)


class StaffOrSupplier(BasePermission):
    message = "Operations staff, or a supplier publishing to its own topics."

    def has_permission(self, request, view) -> bool:
        return getattr(request.user, "supplier", None) is not None or is_operator(request.user)


class PublishView(APIView):
    """Staff may publish to any topic; a supplier token only to its own weddings and its
    own supplier topic (the same rule as subscribing)."""

    permission_classes = [StaffOrSupplier]

    @extend_schema(request=PublishSerializer, responses={202: PublishResultSerializer})
    def post(self, request: Request) -> Response:
        body = PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        topic, data = body.validated_data["topic"], body.validated_data["data"]
        supplier = getattr(request.user, "supplier", None)
        if supplier is not None and not authz.may_subscribe(
            supplier.pk, authz.supplier_wedding_ids(supplier.pk), topic
        ):
            return Response(
                {"detail": f"Supplier {supplier.pk} may not publish to {topic}."},
                status=status.HTTP_403_FORBIDDEN,
            )
        try:
            seq = publish(topic, data)
        except PublishError as exc:
            return Response({"data": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"topic": topic, "seq": seq, "queued": seq is None}, status=status.HTTP_202_ACCEPTED
        )


class HealthView(APIView):
    class Permission(BasePermission):
        message = "Only operations staff may read the gateway health."

        def has_permission(self, request, view) -> bool:
            return is_operator(request.user)

    permission_classes = [Permission]

    @extend_schema(responses={200: HealthSerializer})
    def get(self, request: Request) -> Response:
        return Response(health_report())
