"""What every app's demo.py receives from `seed_demo`."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm


@dataclass
class SeedContext:
    stdout: Any
    # Passwords already handed out stay valid across re-runs (idempotent demo logins).
    previous: dict = field(default_factory=dict)
    credentials: dict = field(default_factory=dict)
    quiet: bool = False

    def password_for(self, role: str) -> str:
        old = self.previous.get(role) or {}
        return old.get("password") or "wso-" + secrets.token_urlsafe(12)

    def progress(self, iterable, desc: str, total: int | None = None):
        return tqdm(
            iterable,
            desc=desc,
            total=total,
            disable=self.quiet,
            file=self.stdout,
            leave=True,
            dynamic_ncols=True,
        )


def load_previous(path: Path | None) -> dict:
    if path and path.exists():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
    return {}
