"""Roles: operators watch and acknowledge, admins edit; suppliers use tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.accounts.token_cache import group_names

OPERATORS = "operators"
ADMINS = "admins"


def is_admin(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or getattr(user, "supplier", None):
        return False
    return bool(user.is_superuser or ADMINS in group_names(user))


def is_operator(user: Any) -> bool:
    """Operators and admins both count: admins can do all an operator can."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "supplier", None):
        return False
    return bool(
        user.is_superuser or user.is_staff or not group_names(user).isdisjoint((OPERATORS, ADMINS))
    )


@dataclass
class SupplierPrincipal:
    """request.user for a supplier that authenticated with its gateway token."""

    supplier: Any
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True

    @property
    def pk(self) -> None:
        return None

    id = pk

    @property
    def username(self) -> str:
        return f"supplier:{self.supplier.pk}"

    def __str__(self) -> str:
        return self.username

    def has_perm(self, *_: Any) -> bool:
        return False
