"""The public status page, its JSON, and the email subscription forms (no account needed).

Every path under /status/<token>/ goes through `_guard`: the per-IP rate limit, then the one
link guard (links.resolve). Any token that resolves to nothing gets the same 404, whatever
the reason, so a response never says whether a wedding exists.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.statuspages import conf, live_data, present, ratelimit, subscriptions
from apps.statuspages.links import resolve
from apps.statuspages.models import StatusLink

NOT_FOUND = "<!doctype html><title>Not found</title><h1>Not found</h1>"


class _Refused(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: never cached by proxies, never sent on as a Referer.
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def not_found() -> HttpResponse:
    return _private(HttpResponse(NOT_FOUND, status=404))


def too_many() -> HttpResponse:
    response = HttpResponse("Too many requests: try again in a minute.", status=429)
    response["Retry-After"] = str(ratelimit.retry_after())
    response["Content-Type"] = "text/plain; charset=utf-8"
    return _private(response)


def _guard(request: HttpRequest, token: str) -> StatusLink:
    ip = ratelimit.client_ip(request.META)
    if not ratelimit.allow(ip):
        raise _Refused(too_many())
    link = resolve(token)
    if link is None:
        ratelimit.miss(ip)
        raise _Refused(not_found())
    return link


def guarded(view):
    def wrapper(request: HttpRequest, token: str, *args, **kwargs) -> HttpResponse:
        try:
            link = _guard(request, token)
        except _Refused as refused:
            return refused.response
        return _private(view(request, link, token, *args, **kwargs))

    wrapper.__name__ = view.__name__
    return wrapper


@require_http_methods(["GET", "HEAD"])
@guarded
def page(request: HttpRequest, link: StatusLink, token: str) -> HttpResponse:
    summary = live_data.summary(link.wedding)
    context = {
        "s": summary,
        "v": present.view(summary),
        "token": token,
        "poll_seconds": conf.get("POLL_SECONDS"),
        "subscribed": request.GET.get("subscribed") == "1",
    }
    return render(request, "statuspages/page.html", context)


@require_http_methods(["GET", "HEAD"])
@guarded
def summary_json(request: HttpRequest, link: StatusLink, token: str) -> HttpResponse:
    response = JsonResponse(live_data.summary(link.wedding), json_dumps_params={"indent": None})
    response["Access-Control-Allow-Origin"] = "*"  # status widgets read it from other sites
    return response


# The form posts from the page itself; the token in the path is the capability, and the
# answer is the same whatever the address (double opt-in), so CSRF adds nothing here.
@csrf_exempt
@require_http_methods(["POST"])
@guarded
def subscribe(request: HttpRequest, link: StatusLink, token: str) -> HttpResponse:
    email = (request.POST.get("email") or "").strip()
    error = subscriptions.validate_email(email)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    subscriptions.request_email(link.wedding, email, page_path=f"/status/{token}/")
    return render(request, "statuspages/check_email.html", {"token": token}, status=202)


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, signed: str) -> HttpResponse:
    ip = ratelimit.client_ip(request.META)
    if not ratelimit.allow(ip):
        return too_many()
    if request.method == "GET":
        # A mail scanner following links must not confirm: a button does.
        return _private(render(request, "statuspages/confirm.html", {"signed": signed}))
    ok = subscriptions.confirm(signed)
    if not ok:
        ratelimit.miss(ip)
    return _private(render(request, "statuspages/confirmed.html", {"ok": ok}))


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a form
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, signed: str) -> HttpResponse:
    ip = ratelimit.client_ip(request.META)
    if not ratelimit.allow(ip):
        return too_many()
    if request.method == "GET":
        return _private(render(request, "statuspages/unsubscribe.html", {"signed": signed}))
    subscriptions.unsubscribe(signed)
    # The same answer whether or not it matched anything.
    return _private(render(request, "statuspages/unsubscribed.html"))
