"""The summary of a wedding, shared by the page, the JSON and the sockets: built at most
once a second per wedding (the default cache is Redis in the full stack, so every process
shares it), or fresh when a change is known to have happened. Every committed change that
can alter a page bumps a generation number (signals.py), which is part of the cache key, so
a page read after a write never shows what was before it."""

from __future__ import annotations

from django.core.cache import cache

from apps.statuspages import conf
from apps.statuspages import summary as shape
from apps.weddings.models import Wedding

TTL_SECONDS = 1


GENERATION_KEY = "statuspages:generation"


def bump_generation() -> None:
    if not cache.add(GENERATION_KEY, 1, None):
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:
            cache.set(GENERATION_KEY, 1, None)


def _key(wedding_id: int) -> str:
    return f"statuspages:summary:{cache.get(GENERATION_KEY, 0)}:{wedding_id}"


def page_url() -> str:
    """Where the page lives, without the token (the JSON's page.url ends in it)."""
    return conf.get("PUBLIC_URL").rstrip("/")


def summary(wedding: Wedding, fresh: bool = False) -> dict:
    key = _key(wedding.pk)
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    built = shape.build(wedding, page_url() + "/status/")
    cache.set(key, built, TTL_SECONDS)
    return built
