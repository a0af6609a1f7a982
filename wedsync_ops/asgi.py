"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
# A connection pool for the server process: see DATABASE_POOL in settings.py.
os.environ.setdefault("DATABASE_POOL", "true")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from apps.statuspages.live import warm_up  # noqa: E402
from wedsync_ops import shutdown  # noqa: E402
from wedsync_ops.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})

# Under Daphne: SIGTERM drains, then exits within a deadline (wedsync_ops/shutdown.py).
shutdown.install_daphne(settings.FRONT_DRAIN_SECONDS, settings.FRONT_SHUTDOWN_GRACE_SECONDS)
# Load the status pages' URLconf, template and gateway store now, not on the first visit.
warm_up()

if settings.RUN_EMBEDDED_SCHEDULER:
    from wedsync_ops.scheduler import scheduler

    scheduler.start()
