"""Login page: Django's view behind a per-IP throttle (django-axes adds the lockout)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

LOGIN_ATTEMPTS_PER_MINUTE = 30


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        ip = request.META.get("REMOTE_ADDR", "?")
        key = f"login-throttle:{ip}"
        cache.add(key, 0, timeout=60)
        try:
            attempts = cache.incr(key)
        except ValueError:
            attempts = 1
        if attempts > LOGIN_ATTEMPTS_PER_MINUTE:
            return render(
                request,
                "registration/throttled.html",
                status=429,
                context={"limit": LOGIN_ATTEMPTS_PER_MINUTE},
            )
        return super().post(request, *args, **kwargs)


@extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="Who the caller is")
@api_view(["GET"])
def whoami(request) -> Response:
    """Who the caller is and which role it has."""
    from apps.accounts.roles import is_admin, is_operator

    supplier = getattr(request.user, "supplier", None)
    if supplier is not None:
        return Response({"kind": "supplier", "supplier_id": supplier.pk, "name": supplier.name})
    return Response(
        {
            "kind": "user",
            "username": request.user.get_username(),
            "operator": is_operator(request.user),
            "admin": is_admin(request.user),
        }
    )
