"""Who may call what: the expected access policy of every API operation.

The matrix test walks every operation of the OpenAPI schema (so a new endpoint is
covered the day it is added) and checks it against this table. Anything not listed
gets the strictest useful default: operators read, admins write, suppliers and
users without a role get nothing. An endpoint meant to be more open must be listed
here on purpose, which is the review we want.
"""

from __future__ import annotations

import re

ANYONE_SIGNED_IN = "authenticated"  # any valid credential, suppliers included
STAFF_READ_ADMIN_WRITE = "staff_read_admin_write"
OPERATOR_ACTION = "operator_action"  # operators (and admins) may call it, any method
ADMIN_ONLY = "admin_only"
SUPPLIER_READ = "supplier_read"  # staff as the default; a supplier token may read (its own)

# (path regex, methods or None for all, policy); the first match wins.
POLICY: list[tuple[str, set[str] | None, str]] = [
    (r"^/api/v1/whoami/$", None, ANYONE_SIGNED_IN),
    # Acknowledging, silencing, declaring an emergency: what the on-call operator does.
    (r"^/api/v1/alerts/\{[^}]+\}/acknowledge/$", None, OPERATOR_ACTION),
    (r"^/api/v1/alerts/\{[^}]+\}/unacknowledge/$", None, OPERATOR_ACTION),
    # Incidents: an operator triggers the emergency playbook (POST) and resolves incidents.
    (r"^/api/v1/incidents/", None, OPERATOR_ACTION),
    (r"^/api/v1/silences/", None, OPERATOR_ACTION),
    (r"^/api/v1/emergencies/", None, OPERATOR_ACTION),
    # Requesting (or ending) emergency capacity is part of the same on-call response.
    (r"^/api/v1/scaling/emergency/", {"POST"}, OPERATOR_ACTION),
    # Suppliers read their own weddings over the API (scoping tested separately). Their own
    # supplier record (with the quota) is staff-only: the calendar app chose the strict side.
    (r"^/api/v1/weddings/", {"GET"}, SUPPLIER_READ),
]

STAFF = {"operator", "admin"}
SUPPLIERS = {"supplier", "other_supplier"}


def policy_for(path: str, method: str) -> str:
    for pattern, methods, policy in POLICY:
        if re.search(pattern, path) and (methods is None or method in methods):
            return policy
    return STAFF_READ_ADMIN_WRITE


def allowed(policy: str, caller: str, method: str) -> bool:
    if caller == "anonymous":
        return False
    safe = method in ("GET", "HEAD", "OPTIONS")
    if policy == ANYONE_SIGNED_IN:
        return True
    if policy == ADMIN_ONLY:
        return caller == "admin"
    if policy == OPERATOR_ACTION:
        return caller in STAFF
    if policy == SUPPLIER_READ and caller in SUPPLIERS:
        return safe
    # STAFF_READ_ADMIN_WRITE, and staff under SUPPLIER_READ
    return caller in STAFF if safe else caller == "admin"
