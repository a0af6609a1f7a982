"""WebSocket routing.

/ws/ops/ is for staff in the browser: session cookie auth, and the Origin must
be one of ALLOWED_HOSTS (a missing Origin is refused too).
/ws/realtime/ is the supplier gateway: token auth, so native apps that send no
Origin are accepted.
"""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from apps.dashboards.routing import websocket_urlpatterns as ops_patterns
from apps.realtime.routing import websocket_urlpatterns as gateway_patterns
from apps.statuspages.routing import websocket_urlpatterns as status_patterns

ops_application = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(ops_patterns)))
gateway_application = URLRouter(gateway_patterns)
# Status pages: the token in the path is the capability (no cookie), so any Origin is fine.
status_application = URLRouter(status_patterns)


class _Dispatch:
    """Send /ws/ops/ through the origin check, everything else to the gateway router."""

    async def __call__(self, scope, receive, send):
        if scope["path"].startswith("/ws/ops/"):
            return await ops_application(scope, receive, send)
        if scope["path"].startswith("/ws/status/"):
            return await status_application(scope, receive, send)
        return await gateway_application(scope, receive, send)


websocket_application = _Dispatch()

__all__ = ["websocket_application", "path"]
