"""Demo: warm the cache with the next 48 hours' weddings, so the Cache page has figures."""

from __future__ import annotations

from apps.caching.warming import warm_upcoming


def seed(ctx) -> None:
    result = warm_upcoming(progress=lambda ids, total: ctx.progress(ids, "cache warm", total))
    if not ctx.quiet:
        ctx.stdout.write(f"cache: warmed {result['warmed']} upcoming weddings\n")
