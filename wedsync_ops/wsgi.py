"""WSGI entry point: the full stack's HTTP (gunicorn behind HAProxy; see wedsync_ops/front.py).

WebSockets stay on Daphne (wedsync_ops/asgi.py); everything else is served here, where a
sync Django view costs no event-loop-to-thread hop."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
application = get_wsgi_application()
