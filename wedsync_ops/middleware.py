"""Cross-cutting HTTP middleware."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from whitenoise.middleware import WhiteNoiseMiddleware

from wedsync_ops import shutdown

log = logging.getLogger(__name__)

# Request headers only a trusted proxy may set (as Django's META keys).
FORWARDED_META = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_FORWARDED",
)


class FrontDoorMiddleware:
    """First in MIDDLEWARE: counts in-flight requests for the graceful drain
    (wedsync_ops/shutdown.py) and trusts X-Forwarded-* only from the proxy.

    A request from an address in TRUSTED_PROXIES, or over a Unix socket (how the full
    stack's proxy reaches its backends), keeps its X-Forwarded-* headers and
    takes its REMOTE_ADDR from the last X-Forwarded-For entry (the one the proxy added;
    the proxy drops whatever the client sent). From anywhere else those headers are
    removed, so a client talking to a backend directly cannot claim HTTPS
    (SECURE_PROXY_SSL_HEADER) or another address (login lockouts are per address)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        from django.conf import settings

        self.get_response = get_response
        self.trusted = frozenset(settings.TRUSTED_PROXIES)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def _forwarded(self, request: HttpRequest) -> None:
        meta = request.META
        # A Unix-socket peer has no address (gunicorn says "", Daphne leaves it out): only
        # local processes allowed to open the socket file reach it, i.e. the proxy.
        peer = meta.get("REMOTE_ADDR") or ""
        if not peer or peer in self.trusted:
            chain = meta.get("HTTP_X_FORWARDED_FOR", "")
            if chain:
                meta["REMOTE_ADDR"] = chain.rsplit(",", 1)[-1].strip()
            return
        for key in FORWARDED_META:
            meta.pop(key, None)

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self.__acall__(request)
        self._forwarded(request)
        shutdown.request_started()
        try:
            return self.get_response(request)
        finally:
            shutdown.request_finished()

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        self._forwarded(request)
        shutdown.request_started()
        try:
            return await self.get_response(request)
        finally:
            shutdown.request_finished()


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, able to run in an async middleware chain.

    WhiteNoise is sync-only. Under ASGI one sync-only middleware makes Django run the
    whole chain in the thread that serves every sync call of the process (asgiref's
    thread-sensitive thread), blocked until the response is ready: a Daphne answered
    one request at a time, so a page's parallel requests (and its socket's log-in)
    queued behind each other. Static files are still served by WhiteNoise."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        super().__init__(get_response)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self._async:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file, thread_sensitive=False)(
                request.path_info
            )
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        return await self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into 503 + Retry-After instead of a 500.

    During a PostgreSQL restart callers should back off and retry; a 500 would
    tell them the request itself was wrong.

    Both sync- and async-capable: a sync-only middleware in an ASGI stack makes Django
    wrap it with AsyncToSync/SyncToAsync, a thread hop on every request, and those
    threads were what kept a SIGTERMed Daphne from exiting (issue 20). The work here is
    done in process_exception, which Django's handler calls in the view's own mode.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self.__acall__(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return await self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            log.warning("database unavailable: %s", exception)
            response = JsonResponse(
                {
                    "error": "database_unavailable",
                    "detail": "The database is not answering; retry.",
                },
                status=503,
            )
            response["Retry-After"] = "2"
            return response
        return None
