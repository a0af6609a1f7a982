"""The private link: issue/rotate/revoke through the API, the window around the wedding
date, and the one guard that answers every bad token with the same 404."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils.html import escape

from apps.statuspages import links
from apps.statuspages.models import StatusLink

pytestmark = pytest.mark.django_db


def test_operator_gets_a_link_that_opens_the_page_anonymously(operator_api, world):
    answer = operator_api.post(f"/api/v1/weddings/{world.wedding.pk}/status-page/")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["url"].startswith("http://testserver/status/") and body["url"].endswith("/")
    token = body["url"].rstrip("/").split("/")[-1]
    assert len(token) >= 43  # 32 random bytes
    # valid until the end of the day after the wedding, venue time
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires.astimezone(world.wedding.venue.tz).date() == world.wedding.date + dt.timedelta(
        days=2
    )
    assert expires.astimezone(world.wedding.venue.tz).time() == dt.time(0)
    page = Client().get(f"/status/{token}/")
    assert page.status_code == 200
    assert escape(world.wedding.couple_name) in page.content.decode()
    # Only a hash is stored.
    assert not StatusLink.objects.filter(token_hash=token).exists()
    assert StatusLink.objects.filter(token_hash=hashlib.sha256(token.encode()).hexdigest()).exists()


def test_rotation_kills_the_old_link_and_delete_revokes(operator_api, world):
    old = world.token
    new = operator_api.post(f"/api/v1/weddings/{world.wedding.pk}/status-page/").json()["url"]
    new_token = new.rstrip("/").split("/")[-1]
    assert Client().get(f"/status/{old}/").status_code == 404
    assert Client().get(f"/status/{new_token}/").status_code == 200
    url = f"/api/v1/weddings/{world.wedding.pk}/status-page/"
    assert operator_api.delete(url).status_code == 204
    assert Client().get(f"/status/{new_token}/").status_code == 404
    state = operator_api.get(f"/api/v1/weddings/{world.wedding.pk}/status-page/").json()
    assert state["link"]["state"] == "none" and state["link"]["links_issued"] == 2


def test_only_operators_issue_links(api_client, world, make_user):
    url = f"/api/v1/weddings/{world.wedding.pk}/status-page/"
    assert api_client.post(url).status_code == 401
    api_client.force_authenticate(make_user("nobody", role=None))
    assert api_client.post(url).status_code == 403
    supplier = world.supplier_tokens[0]
    api_client.force_authenticate(None)
    answer = api_client.post(url, HTTP_AUTHORIZATION=f"Token {supplier}")
    assert answer.status_code == 403


def test_unknown_wedding_and_past_wedding_are_clear_errors(operator_api, world):
    assert operator_api.post("/api/v1/weddings/999999/status-page/").status_code == 404
    world.wedding.date = dt.date.today() - dt.timedelta(days=10)
    world.wedding.save()
    answer = operator_api.post(f"/api/v1/weddings/{world.wedding.pk}/status-page/")
    assert answer.status_code == 400
    assert "closed" in answer.json()["detail"]


def test_window_opens_the_day_before_and_closes_after_the_day_after(world):
    wedding = world.wedding
    start, end = links.window(wedding)
    tz = wedding.venue.tz
    assert start.astimezone(tz) == dt.datetime.combine(
        wedding.date - dt.timedelta(days=1), dt.time(0), tzinfo=tz
    )
    assert links.resolve(world.token, now=start) is not None
    assert links.resolve(world.token, now=start - dt.timedelta(seconds=1)) is None
    assert links.resolve(world.token, now=end - dt.timedelta(seconds=1)) is not None
    assert links.resolve(world.token, now=end) is None


def _bad_answers(world) -> dict[str, object]:
    client = Client()
    expired_world_token = world.token
    answers = {}
    answers["garbage"] = client.get("/status/not-a-token/")
    answers["guess"] = client.get("/status/" + "A" * 43 + "/")
    answers["guess_json"] = client.get("/status/" + "B" * 43 + "/summary.json")
    links.revoke(world.wedding)
    answers["revoked"] = client.get(f"/status/{expired_world_token}/")
    return answers


def test_every_bad_token_gets_the_same_404(world):
    answers = _bad_answers(world)
    bodies = {name: (r.status_code, r.content) for name, r in answers.items()}
    assert {code for code, _ in bodies.values()} == {404}
    assert len({content for _, content in bodies.values()}) == 1
    for r in answers.values():
        assert escape(world.wedding.couple_name).encode() not in r.content
        assert r["Cache-Control"] == "no-store, private"


def test_expired_link_is_404(world):
    wedding = world.wedding
    wedding.date = dt.date.today() - dt.timedelta(days=3)
    wedding.ceremony_time, wedding.reception_end_time = dt.time(14), dt.time(22)
    wedding.save()
    answer = Client().get(f"/status/{world.token}/")
    assert answer.status_code == 404
    assert Client().get(f"/status/{world.token}/summary.json").status_code == 404


def test_cancelled_wedding_page_is_404(world):
    world.wedding.status = "cancelled"
    world.wedding.save()
    assert Client().get(f"/status/{world.token}/").status_code == 404


@override_settings(STATUSPAGES={"MISSES_PER_MINUTE": 5, "RATE_PER_MINUTE": 1000})
def test_guessing_is_rate_limited_per_ip_even_for_the_right_token(world):
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    codes = [guesser.get(f"/status/{'x' * 42}{i % 10}/").status_code for i in range(8)]
    assert codes[:5] == [404] * 5
    assert codes[5:] == [429] * 3
    refused = guesser.get(f"/status/{world.token}/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    # Another address is not affected.
    assert Client(REMOTE_ADDR="198.51.100.7").get(f"/status/{world.token}/").status_code == 200


@override_settings(STATUSPAGES={"RATE_PER_MINUTE": 3})
def test_plain_request_rate_is_limited(world):
    client = Client(REMOTE_ADDR="203.0.113.10")
    codes = [client.get(f"/status/{world.token}/summary.json").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_management_command_and_admin_use_the_same_guard(world, capsys):
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root-admin", "root@example.com", "x-long-password-1")
    call_command("status_link", str(world.wedding.pk), "--base-url", "https://ops.example")
    out = capsys.readouterr().out.splitlines()
    token = out[0].rstrip("/").split("/")[-1]
    assert out[0].startswith("https://ops.example/status/")
    assert links.resolve(world.token) is None  # rotated
    assert links.resolve(token) is not None
    client = Client()
    client.force_login(root)
    link = StatusLink.objects.get(revoked_at__isnull=True, wedding=world.wedding)
    answer = client.post(
        "/admin/statuspages/statuslink/",
        {"action": "revoke_links", "_selected_action": [link.pk]},
    )
    assert answer.status_code == 302, answer.content[:3000]
    assert links.resolve(token) is None
    assert client.get("/admin/statuspages/statuslink/add/").status_code == 403
