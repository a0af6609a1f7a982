"""Demo users: an admin and an operator, the two groups, and an admin API token."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token

from apps.accounts.groups import sync_groups
from apps.accounts.seeding import SeedContext


def ensure_groups() -> tuple[Group, Group]:
    return sync_groups()


def _user(username: str, group: Group, *, superuser: bool, password: str) -> User:
    user, _ = User.objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = superuser
    user.email = f"{username}@wedsync.local"
    user.set_password(password)
    user.save()
    user.groups.add(group)
    return user


def seed(ctx: SeedContext) -> None:
    operators, admins = ensure_groups()
    admin_pw = ctx.password_for("admin")
    operator_pw = ctx.password_for("operator")
    admin = _user("admin", admins, superuser=True, password=admin_pw)
    operator = _user("operator", operators, superuser=False, password=operator_pw)
    operator.is_staff = False  # operators use the console, not Django admin
    operator.save(update_fields=["is_staff"])
    token, _ = Token.objects.get_or_create(user=admin)
    ctx.credentials["admin"] = {"username": admin.username, "password": admin_pw}
    ctx.credentials["operator"] = {"username": operator.username, "password": operator_pw}
    ctx.credentials["api_token"] = token.key
    ctx.credentials.setdefault("suppliers", [])


def random_password() -> str:
    return "wso-" + secrets.token_urlsafe(12)
