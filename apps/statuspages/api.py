"""Operators' API: the wedding's private link (issue/rotate, revoke, state), its subscribers,
and public updates to an incident (shown at once on every affected wedding's page)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import OperatorAction
from apps.alerts.models import Incident
from apps.statuspages import console, incidents, links, subscriptions
from apps.statuspages.serializers import LinkOut, PublicUpdateIn, WebhookIn
from apps.weddings.models import Wedding


def _wedding(pk: int) -> Wedding:
    return get_object_or_404(Wedding.objects.select_related("venue", "venue__region"), pk=pk)


class StatusPageView(APIView):
    permission_classes = [OperatorAction]

    @extend_schema(responses={200: dict}, summary="The wedding's status page: link, subscribers")
    def get(self, request, pk: int):
        return Response(console.wedding_overview(_wedding(pk)))

    @extend_schema(
        request=None, responses={201: LinkOut}, summary="Issue (or rotate) the private link"
    )
    def post(self, request, pk: int):
        wedding = _wedding(pk)
        try:
            issued = links.issue(wedding, request.user)
        except links.LinkError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        start, _ = links.window(wedding)
        body = {
            "url": request.build_absolute_uri(issued.path),
            "expires_at": issued.expires_at,
            "valid_from": start,
        }
        return Response(LinkOut(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, summary="Revoke the private link")
    def delete(self, request, pk: int):
        links.revoke(_wedding(pk), request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscribersView(APIView):
    permission_classes = [OperatorAction]

    @extend_schema(responses={200: dict}, summary="Who subscribed and what was sent")
    def get(self, request, pk: int):
        return Response(console.subscribers(_wedding(pk)))

    @extend_schema(request=WebhookIn, responses={201: dict}, summary="Add a webhook subscriber")
    def post(self, request, pk: int):
        wedding = _wedding(pk)
        data = WebhookIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            subscriber = subscriptions.add_webhook(wedding, data.validated_data["url"])
        except ValueError as exc:
            return Response({"url": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"id": subscriber.pk, "url": subscriber.target, "secret": subscriber.secret},
            status=status.HTTP_201_CREATED,
        )


class PublicUpdateView(APIView):
    permission_classes = [OperatorAction]

    @extend_schema(
        request=PublicUpdateIn,
        responses={201: dict},
        summary="Post a public update to an incident (every affected wedding's page)",
    )
    def post(self, request, pk: int):
        incident = get_object_or_404(Incident, pk=pk)
        data = PublicUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        update = incidents.post_update(
            incident, data.validated_data["status"], data.validated_data["body"], request.user
        )
        affected = console.affected_open_pages(incident)
        return Response(
            {
                "id": update.pk,
                "incident": incident.pk,
                "status": update.status,
                "body": update.body,
                "created_at": update.created_at,
                "pages": affected,
            },
            status=status.HTTP_201_CREATED,
        )
