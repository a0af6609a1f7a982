"""`python manage.py warm_cache [--hours 48]`: warm the cache now, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from apps.caching.warming import HORIZON_HOURS, warm_upcoming


class Command(BaseCommand):
    help = "Load the bundles of weddings live or starting within --hours into the cache."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hours", type=float, default=HORIZON_HOURS)

    def handle(self, *args, **options) -> None:
        hours = options["hours"]
        if hours <= 0:
            self.stderr.write("--hours must be positive")
            raise SystemExit(2)

        def bar(ids, total):
            return tqdm(ids, total=total, desc="warming", unit="wedding", file=self.stdout)

        result = warm_upcoming(hours=hours, progress=bar)
        self.stdout.write(
            self.style.SUCCESS(
                f"Warmed {result['warmed']} of {result['weddings']} weddings "
                f"in the next {hours:g} h."
            )
        )
