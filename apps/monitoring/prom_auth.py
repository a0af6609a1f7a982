"""Authentication for Prometheus-ecosystem clients (remote write, Grafana, Alertmanager
senders, OTLP exporters): `Authorization: Token <key>`, `Bearer <key>`, or HTTP basic.

These clients cannot send a custom scheme: Prometheus's `authorization` block sends
Bearer, Grafana's datasource sends basic auth. Basic auth takes an API token as the
password (any user name), so a machine client costs no password hash per request; a
real user name and password are accepted too, as for the browsable API.
"""

from __future__ import annotations

import base64

from rest_framework import authentication, exceptions
from rest_framework.authentication import get_authorization_header

from apps.weddings.authentication import TokenAuthentication


class PrometheusClientAuthentication(TokenAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts:
            return None
        scheme = parts[0].lower()
        if scheme in (b"token", b"bearer"):
            if len(parts) != 2:
                raise exceptions.AuthenticationFailed(
                    "Authorization needs one token after the scheme."
                )
            return self.authenticate_credentials(parts[1].decode("latin-1"))
        if scheme == b"basic" and len(parts) == 2:
            try:
                user, _, password = base64.b64decode(parts[1]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise exceptions.AuthenticationFailed("Basic credentials are not base64.") from None
            try:
                return self.authenticate_credentials(password)
            except exceptions.AuthenticationFailed:
                return authentication.BasicAuthentication().authenticate_credentials(
                    user, password, request
                )
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="wedsync"'
