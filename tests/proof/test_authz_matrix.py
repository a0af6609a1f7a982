"""Authorisation matrix: every caller x every API operation in the schema, and every page.

Generated from the OpenAPI schema and the URLconf at collection time, so an endpoint
added tomorrow is in the matrix tomorrow (tests/proof/authz_policy.py says what each
should allow; unlisted ones get the strict default).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import ARTIFACTS
from tests.proof.authz_policy import allowed, policy_for

CALLERS = ["anonymous", "no_role", "operator", "admin", "supplier", "other_supplier"]
# In the generic pass another supplier's token behaves as the supplier's own on every
# path without an object of theirs; it is exercised where it differs (scoping tests below,
# the gateway topic matrix). Leaving it out keeps the pass within CI time.
MATRIX_CALLERS = [c for c in CALLERS if c != "other_supplier"]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def schema_operations() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


OPERATIONS = schema_operations()


def concrete(path: str) -> str:
    # A missing object is fine: permissions are checked before the lookup (denied -> 401/403,
    # allowed -> 404). Scoping of real objects is tested below with the suppliers' weddings.
    return re.sub(r"\{[^}]+\}", "999999", path)


def call(caller, method: str, path: str, n: int):
    client = APIClient()
    # Vary the anonymous caller's address so the anonymous throttle (60/min) is not what answers.
    extra = {"REMOTE_ADDR": f"10.9.{n // 250}.{n % 250 + 1}", **caller.headers}
    body = {} if method in UNSAFE else None
    return getattr(client, method.lower())(path, data=body, format="json", **extra)


def test_the_schema_lists_operations():
    assert ("/api/v1/whoami/", "GET") in OPERATIONS


@pytest.mark.timeout(900)
@pytest.mark.django_db
def test_every_caller_gets_what_the_policy_allows(world):
    """One pass over the whole matrix (one world for all rows keeps it to seconds)."""
    wrong = []
    table = [
        "| operation | policy | " + " | ".join(MATRIX_CALLERS) + " |",
        "|---|---|" + "---|" * len(MATRIX_CALLERS),
    ]
    n = 0
    for path, method in OPERATIONS:
        policy = policy_for(path, method)
        row = []
        for name in MATRIX_CALLERS:
            n += 1
            response = call(world.callers[name], method, concrete(path), n)
            status = response.status_code
            if allowed(policy, name, method):
                ok = status not in (401, 403) and status < 500
            elif name == "anonymous":
                ok = status == 401  # token auth first: 401 with WWW-Authenticate
            else:
                ok = status == 403
            row.append(str(status) if ok else f"**{status}**")
            if not ok:
                wrong.append(
                    f"{method} {path} ({policy}) {name}: {status} {response.content[:160]!r}"
                )
        table.append(f"| {method} {path} | {policy} | " + " | ".join(row) + " |")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "authz-matrix.md").write_text("\n".join(table) + "\n")
    assert len(OPERATIONS) >= 1
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_the_api_root_lists_nothing_without_credentials(world):
    """The API root (not in the schema, so not in the matrix) is a map of the API."""
    anonymous = APIClient()
    response = anonymous.get("/api/v1/", REMOTE_ADDR="10.8.0.1")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert b"weddings" not in response.content
    assert anonymous.get("/api/v1/whoami/", REMOTE_ADDR="10.8.0.2").status_code == 401
    # ...while an operator gets the map: the 401 above is about credentials.
    operator = APIClient().get("/api/v1/", **world.callers["operator"].headers)
    assert operator.status_code == 200 and b"weddings" in operator.content


# --- suppliers see only their own ----------------------------------------------


def _ids(response) -> set[int]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


@pytest.mark.django_db
def test_a_supplier_token_sees_only_its_own_weddings(world):
    client = APIClient()
    mine = client.get("/api/v1/weddings/", **world.callers["supplier"].headers)
    assert mine.status_code == 200, mine.content
    assert world.wedding_a.id in _ids(mine)
    assert world.wedding_b.id not in _ids(mine)
    other = client.get(
        f"/api/v1/weddings/{world.wedding_a.id}/", **world.callers["other_supplier"].headers
    )
    assert other.status_code in (403, 404)
    staff = client.get("/api/v1/weddings/?page_size=1000", **world.callers["operator"].headers)
    assert {world.wedding_a.id, world.wedding_b.id} <= _ids(staff)


@pytest.mark.django_db
def test_a_supplier_token_cannot_read_other_suppliers_or_raise_its_own_quota(world):
    client = APIClient()
    headers = world.callers["supplier"].headers
    other = client.get(f"/api/v1/suppliers/{world.supplier_b.id}/", **headers)
    assert other.status_code in (403, 404)
    assert b"max_connections" not in other.content
    listing = client.get("/api/v1/suppliers/", **headers)
    assert (
        listing.status_code in (403, 404) or world.supplier_b.name not in listing.content.decode()
    )
    # The quota is the admins' to change, not the supplier's.
    patch = client.patch(
        f"/api/v1/suppliers/{world.supplier_a.id}/",
        {"max_connections": 100000},
        format="json",
        **headers,
    )
    assert patch.status_code == 403
    world.supplier_a.refresh_from_db()
    assert world.supplier_a.max_connections != 100000
    admin = client.patch(
        f"/api/v1/suppliers/{world.supplier_a.id}/",
        {"max_connections": 300},
        format="json",
        **world.callers["admin"].headers,
    )
    assert admin.status_code == 200, admin.content
    world.supplier_a.refresh_from_db()
    assert world.supplier_a.max_connections == 300  # raising is allowed during the freeze


# --- pages ---------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_nav = False
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("aria-label") == "Main":
            self.in_nav = True
        elif tag == "a" and self.in_nav and attrs.get("href", "").startswith("/"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "nav":
            self.in_nav = False


def app_pages() -> list[str]:
    """Every parameterless page of the URLconf outside the API, auth and process endpoints."""
    from django.urls import URLPattern, URLResolver, get_resolver

    # Machine APIs with token auth (Prometheus, Alertmanager, OTLP senders) are checked in
    # tests/prometheus; status-pages/updates/ is a POST-only form action, not a page.
    skip = (
        "api/",
        "admin/",
        "accounts/",
        "healthz",
        "readyz",
        "metrics",
        "static/",
        "prometheus/",
        "alertmanager/",
        "otlp/",
        "status-pages/updates/",
    )
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if route.startswith("^") or "<" in route or "(?P" in route:
                continue  # parameterised pages are reached through the ones listed here
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                full = prefix + route
                if not full.startswith(skip):
                    found.append("/" + full)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _resolves(path: str) -> bool:
    """A nav section whose feature is not merged yet has no view (404 for everyone)."""
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


@pytest.mark.django_db
def test_every_page_in_the_nav_and_urlconf_needs_a_staff_session(world):
    admin = Client()
    admin.force_login(world.callers["admin"].user)
    home = admin.get("/")
    parser = _Links()
    parser.feed(home.content.decode())
    nav = [link for link in parser.links if not link.startswith(("/api/", "/admin/"))]
    assert len(nav) >= 8, nav
    pages = [p for p in sorted(set(nav) | set(app_pages())) if _resolves(p)]
    assert "/" in pages

    operator = Client()
    operator.force_login(world.callers["operator"].user)
    wrong = []
    for page in pages:
        anonymous = Client().get(page)
        if anonymous.status_code != 302 or not anonymous["Location"].startswith("/accounts/login/"):
            wrong.append(f"anonymous {page}: {anonymous.status_code}")
        # A supplier token is not a session: pages still send it to the login form.
        token = Client().get(page, **world.callers["supplier"].headers)
        if token.status_code != 302:
            wrong.append(f"supplier token {page}: {token.status_code}")
        for name, client in (("operator", operator), ("admin", admin)):
            status = client.get(page).status_code
            if status != 200:
                wrong.append(f"{name} {page}: {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_django_admin_is_for_admins_only(world):
    operator = Client()
    operator.force_login(world.callers["operator"].user)
    response = operator.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    admin = Client()
    admin.force_login(world.callers["admin"].user)
    assert admin.get("/admin/").status_code == 200
