"""Idempotent demo data: each app's demo.py adds its part, in dependency order."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from apps.accounts.seeding import SeedContext, load_previous

ORDER = [
    "accounts",
    "weddings",
    "monitoring",
    "alerts",
    "scaling",
    "dashboards",
    "realtime",
    "caching",
    "statuspages",
]


class Command(BaseCommand):
    help = "Create or refresh the demo data (idempotent). --credentials FILE writes the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--credentials", type=Path, help="Write demo logins and tokens here (JSON)."
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bars.")

    def handle(self, *args, credentials: Path | None = None, quiet: bool = False, **options):
        default_file = Path(settings.VAR_DIR) / "demo-credentials.json"
        ctx = SeedContext(
            stdout=sys.stderr,
            previous=load_previous(credentials or default_file),
            quiet=quiet,
        )
        for app in ORDER:
            package = importlib.import_module(f"apps.{app}")
            if not module_has_submodule(package, "demo"):  # an app with nothing to seed
                continue
            module = importlib.import_module(f"apps.{app}.demo")
            with transaction.atomic():
                module.seed(ctx)
            # Side effects of seeding (cache warm, pushes) run after each app commits.
            after = getattr(module, "after_commit", None)
            if after:
                after(ctx)
        payload = json.dumps(ctx.credentials, indent=2)
        for path in {credentials, default_file} - {None}:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(payload)
            path.chmod(0o600)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        if credentials:
            self.stdout.write(f"Credentials written to {credentials}")
