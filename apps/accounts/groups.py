"""The two staff groups and their Django model permissions, kept in step after every migrate.

Admins edit everything of ours in Django admin (venues, quotas, rules, schedules) and may
unlock locked-out accounts; operators get view permissions (they work in the console).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from apps.accounts.roles import ADMINS, OPERATORS

OUR_APPS = [
    "weddings",
    "monitoring",
    "alerts",
    "dashboards",
    "realtime",
    "caching",
    "scaling",
    "statuspages",
]
ADMIN_EXTRA_APPS = ["authtoken", "django_celery_beat", "axes"]


def sync_groups(**_: object) -> tuple[Group, Group]:
    operators, _ = Group.objects.get_or_create(name=OPERATORS)
    admins, _ = Group.objects.get_or_create(name=ADMINS)
    ours = Permission.objects.filter(content_type__app_label__in=OUR_APPS)
    admins.permissions.add(
        *ours, *Permission.objects.filter(content_type__app_label__in=ADMIN_EXTRA_APPS)
    )
    operators.permissions.add(*ours.filter(codename__startswith="view_"))
    return operators, admins
