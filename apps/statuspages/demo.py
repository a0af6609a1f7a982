"""Demo data of the status pages: a private link for each wedding live right now, written
to the credentials file as `status_pages` (a link from an earlier run is kept while it still
resolves, so re-running seed_demo does not break open pages)."""

from __future__ import annotations

from apps.accounts.seeding import SeedContext
from apps.statuspages import links
from apps.weddings.live import live_weddings


def seed(ctx: SeedContext) -> None:
    previous = {
        row.get("wedding_id"): row.get("path", "")
        for row in ctx.previous.get("status_pages", [])
        if isinstance(row, dict)
    }
    rows = []
    for wedding in live_weddings()[:6]:
        path = previous.get(wedding.pk, "")
        token = path.strip("/").split("/")[-1] if path else ""
        link = links.resolve(token) if token else None
        if link is None or link.wedding_id != wedding.pk:
            issued = links.issue(wedding)
            path, expires = issued.path, issued.expires_at
        else:
            expires = links.window(wedding)[1]
        rows.append(
            {
                "wedding_id": wedding.pk,
                "couple": wedding.couple_name,
                "path": path,
                "expires_at": expires.isoformat(),
            }
        )
    ctx.credentials["status_pages"] = rows
    ctx.stdout.write(f"status pages: {len(rows)} live links\n")
