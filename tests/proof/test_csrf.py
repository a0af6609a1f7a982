"""CSRF: every form carries the token, and every session-authenticated write without it is 403."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.proof.test_authz_matrix import OPERATIONS, UNSAFE, _Links, _resolves, app_pages, concrete


class _Forms(HTMLParser):
    """Each POST form on a page: its action and whether it holds the CSRF token."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._current = {"action": attrs.get("action") or "", "csrf": False}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            if attrs.get("name") == "csrfmiddlewaretoken" and attrs.get("value"):
                self._current["csrf"] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _pages(client: Client) -> list[str]:
    links = _Links()
    links.feed(client.get("/").content.decode())
    return [p for p in sorted(set(links.links) | set(app_pages())) if _resolves(p)]


@pytest.mark.django_db
def test_every_post_form_on_every_page_carries_the_csrf_token(world):
    admin = Client()
    admin.force_login(world.callers["admin"].user)
    pages = _pages(admin)
    forms_seen = 0
    missing = []
    for page in pages:
        response = admin.get(page)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _Forms()
        parser.feed(response.content.decode())
        for form in parser.forms:
            forms_seen += 1
            if not form["csrf"]:
                missing.append(f"{page} -> form action={form['action']!r}")
    login = _Forms()
    login.feed(Client().get("/accounts/login/").content.decode())
    assert login.forms and all(f["csrf"] for f in login.forms)
    assert forms_seen >= 1  # the logout form in the top bar, at least
    assert not missing, "\n".join(missing)


@pytest.mark.django_db
def test_login_and_logout_posts_without_the_token_are_refused(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "matrix-admin", "password": "x"})
    assert response.status_code == 403
    client.force_login(world.callers["admin"].user)
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/").status_code == 200  # still logged in


@pytest.mark.django_db
def test_every_session_authenticated_api_write_without_the_token_is_403(world):
    unsafe = [(p, m) for p, m in OPERATIONS if m in UNSAFE]
    session = Client(enforce_csrf_checks=True)
    session.force_login(world.callers["admin"].user)
    wrong = []
    for path, method in unsafe:
        response = getattr(session, method.lower())(
            concrete(path), data="{}", content_type="application/json"
        )
        if response.status_code != 403 or b"CSRF" not in response.content:
            wrong.append(f"{method} {path}: {response.status_code} {response.content[:120]!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_the_same_write_with_the_token_gets_past_csrf(world):
    """The check above can fail: with the token, a session write is not refused for CSRF."""
    session = Client(enforce_csrf_checks=True)
    session.force_login(world.callers["admin"].user)
    session.get("/")  # sets the csrftoken cookie
    token = session.cookies["csrftoken"].value
    response = session.post("/accounts/logout/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
