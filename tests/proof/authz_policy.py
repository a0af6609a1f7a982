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
STAFF_OR_SUPPLIER = "staff_or_supplier"  # operators, admins and suppliers (on their own)

# (path regex, methods or None for all, policy); the first match wins.
POLICY: list[tuple[str, set[str] | None, str]] = [
    (r"^/api/v1/whoami/$", None, ANYONE_SIGNED_IN),
    # Acknowledging, silencing, declaring an emergency: what the on-call operator does.
    (r"^/api/v1/alerts/\{[^}]+\}/(un)?acknowledge/$", None, OPERATOR_ACTION),
    # Incidents: an operator triggers the emergency playbook (POST) and resolves incidents.
    (r"^/api/v1/incidents/", None, OPERATOR_ACTION),
    (r"^/api/v1/silences/", None, OPERATOR_ACTION),
    # "Send test" on a channel: the on-call operator checks the pager works.
    (r"^/api/v1/notification-channels/\{[^}]+\}/test/$", None, OPERATOR_ACTION),
    # A wedding's status-page link and its subscribers: operators issue, rotate, revoke.
    (r"^/api/v1/weddings/\{[^}]+\}/status-page/", None, OPERATOR_ACTION),
    (r"^/api/v1/emergencies/", None, OPERATOR_ACTION),
    # Asking for (or ending) emergency capacity.
    (r"^/api/v1/scaling/emergency/", None, OPERATOR_ACTION),
    # Operators build their own dashboards (layout, widgets, import); the data stays read-only.
    (r"^/api/v1/dashboards/", None, OPERATOR_ACTION),
    (r"^/api/v1/dashboard-widgets/", None, OPERATOR_ACTION),
    # Publishing to the gateway: staff to any topic, a supplier to its own (tested apart).
    (r"^/api/v1/realtime/publish/$", None, STAFF_OR_SUPPLIER),
    # Suppliers read their own weddings and their own record (quota included) over the API;
    # scoping to "their own" is tested separately. Not the sub-resources: a wedding's
    # escalation contacts are staff-only. The supplier list stays staff-only.
    (r"^/api/v1/weddings/(\{[^}]+\}/)?$", {"GET"}, SUPPLIER_READ),
    (r"^/api/v1/suppliers/\{[^}]+\}/$", {"GET"}, SUPPLIER_READ),
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
    if policy == STAFF_OR_SUPPLIER:
        return caller in STAFF | SUPPLIERS
    if policy == SUPPLIER_READ and caller in SUPPLIERS:
        return safe
    # STAFF_READ_ADMIN_WRITE, and staff under SUPPLIER_READ
    return caller in STAFF if safe else caller == "admin"
