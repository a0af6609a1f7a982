"""manage.py status_link WEDDING_ID [--revoke]: issue (rotate) or revoke a wedding's link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.statuspages import links
from apps.weddings.models import Wedding


class Command(BaseCommand):
    help = "Issue (or rotate) a wedding's private status-page link, or revoke it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("wedding_id", type=int)
        parser.add_argument("--revoke", action="store_true", help="revoke instead of issuing")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, wedding_id: int, revoke: bool, base_url: str, **options) -> None:
        wedding = Wedding.objects.select_related("venue").filter(pk=wedding_id).first()
        if wedding is None:
            raise CommandError(f"No wedding with id {wedding_id}.")
        if revoke:
            self.stdout.write(f"Revoked {links.revoke(wedding)} link(s).")
            return
        try:
            issued = links.issue(wedding)
        except links.LinkError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{base_url.rstrip('/')}{issued.path}")
        self.stdout.write(f"expires_at {issued.expires_at.isoformat()}")
