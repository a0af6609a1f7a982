"""Foundation: health, readiness, metrics, schema, auth, roles, Celery, Channels, both modes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request

import pytest
import websockets
from django.test import Client, override_settings

from tests.conftest import PASSWORD, ROOT, free_port, login, run_async, screenshot, wait_for_http


def test_healthz_answers_while_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_redis_and_channel_layer(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "redis", "channel_layer"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_names_redis_when_it_does_not_answer(client):
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["redis"]
    assert "Connection" in body["checks"]["redis"]["error"]


def test_metrics_exposes_the_system_metrics(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    for name in (
        "wedsync_gateway_connections",
        "wedsync_gateway_delivery_latency_seconds",
        "wedsync_cache_requests",
        "wedsync_desired_capacity",
    ):
        assert name in text


@pytest.mark.django_db
def test_openapi_schema_and_offline_docs(admin_api, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in html


@pytest.mark.django_db
def test_pages_need_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(client, operator_user):
    response = client.post(
        "/accounts/login/", {"username": operator_user.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert b"didn&#x27;t match" in response.content or b"didn't match" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_even_with_the_right_password(client, operator_user):
    for _ in range(5):
        client.post("/accounts/login/", {"username": operator_user.username, "password": "nope"})
    response = client.post(
        "/accounts/login/", {"username": operator_user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_operator_logs_in_and_sees_overview(client, operator_user):
    response = client.post(
        "/accounts/login/", {"username": operator_user.username, "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert b"Operations overview" in response.content


@pytest.mark.django_db
def test_api_needs_credentials(api_client):
    assert api_client.get("/api/v1/whoami/").status_code in (401, 403)


@pytest.mark.django_db
def test_api_refuses_a_bad_token(api_client):
    response = api_client.get("/api/v1/whoami/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401
    assert "Invalid token" in response.json()["detail"]


@pytest.mark.django_db
def test_api_accepts_a_staff_token_and_reports_the_role(api_client, admin_user_):
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=admin_user_).key
    response = api_client.get("/api/v1/whoami/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json() == {
        "kind": "user",
        "username": admin_user_.username,
        "operator": True,
        "admin": True,
    }


@pytest.mark.django_db
def test_a_deleted_token_or_a_lost_role_is_honoured_at_once_in_this_process(
    api_client, admin_user_
):
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=admin_user_)
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert api_client.get("/api/v1/whoami/", **auth).json()["admin"] is True  # remembered
    admin_user_.groups.remove(Group.objects.get(name="admins"))
    admin_user_.is_staff = False
    admin_user_.save()
    assert api_client.get("/api/v1/whoami/", **auth).json()["operator"] is False
    token.delete()
    assert api_client.get("/api/v1/whoami/", **auth).status_code == 401


@pytest.mark.django_db
def test_a_token_revoked_by_another_process_is_refused_within_the_cache_bound(
    api_client, admin_user_
):
    import time

    from django.db import connection
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=admin_user_)
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    with override_settings(TOKEN_CACHE_SECONDS=0.5):
        assert api_client.get("/api/v1/whoami/", **auth).status_code == 200
        with connection.cursor() as cursor:  # no signal here: as if another process did it
            cursor.execute("DELETE FROM authtoken_token WHERE key = %s", [token.key])
        deadline = time.monotonic() + 0.5 + 1.0
        while api_client.get("/api/v1/whoami/", **auth).status_code == 200:
            assert time.monotonic() < deadline, "revoked token still accepted past the bound"
            time.sleep(0.05)


@pytest.mark.django_db
def test_api_accepts_a_supplier_token_as_a_supplier(api_client):
    from apps.weddings.models import Supplier

    supplier = Supplier.objects.create(name="Lens & Light", kind="photographer")
    token = supplier.issue_token()
    response = api_client.get("/api/v1/whoami/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json()["supplier_id"] == supplier.pk
    rotated = supplier.issue_token()
    assert api_client.get("/api/v1/whoami/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    assert (
        api_client.get("/api/v1/whoami/", HTTP_AUTHORIZATION=f"Token {rotated}").status_code == 200
    )


@pytest.mark.parametrize(
    ("secret", "message"),
    [(None, "SECRET_KEY must be set when DEBUG is off"), ("short", "SECRET_KEY is too weak")],
)
def test_a_missing_or_weak_secret_key_with_debug_off_refuses_to_start(secret, message):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "wedsync_ops.settings",
    }
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_runs_a_task_through_redis(celery_worker):
    from wedsync_ops.celery import ping

    result = ping.delay("through-redis")
    assert result.get(timeout=20) == "through-redis"


@pytest.mark.django_db(transaction=True)
def test_seed_demo_writes_credentials_and_is_idempotent(tmp_path):
    from django.contrib.auth.models import User
    from django.core.management import call_command

    path = tmp_path / "creds.json"
    call_command("seed_demo", "--credentials", str(path), "--quiet")
    first = json.loads(path.read_text())
    users = User.objects.count()
    call_command("seed_demo", "--credentials", str(path), "--quiet")
    second = json.loads(path.read_text())
    assert User.objects.count() == users
    assert {"admin", "operator", "api_token", "suppliers"} <= set(second)
    assert second["admin"] == first["admin"]
    assert User.objects.get(username="admin").check_password(second["admin"]["password"])
    assert User.objects.get(username="operator").check_password(second["operator"]["password"])


# --- /ws/ops/ ------------------------------------------------------------------


def _session_cookie(username: str) -> str:
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies["sessionid"].value


async def _ws_close_code(url: str, **kwargs) -> int | None:
    try:
        async with websockets.connect(url, open_timeout=5, **kwargs) as ws:
            await asyncio.wait_for(ws.recv(), timeout=5)
            return None
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    except websockets.InvalidStatus as exc:
        return exc.response.status_code


@pytest.mark.django_db(transaction=True)
def test_ops_socket_accepts_an_operator_from_an_allowed_origin(daphne, operator_user):
    cookie = _session_cookie(operator_user.username)

    async def scenario():
        async with websockets.connect(
            f"{daphne.ws_url}/ws/ops/",
            origin=f"http://127.0.0.1:{daphne.port}",
            additional_headers={"Cookie": f"sessionid={cookie}"},
            open_timeout=5,
        ) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send("{not json")
            error = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send('{"op": "ping"}')
            pong = json.loads(await asyncio.wait_for(ws.recv(), 5))
            return hello, error, pong

    hello, error, pong = run_async(scenario())
    assert hello == {"op": "hello", "user": operator_user.username}
    assert error["op"] == "error" and error["code"] == "bad_json"
    assert pong == {"op": "pong"}


@pytest.mark.django_db(transaction=True)
def test_ops_socket_refuses_a_foreign_or_missing_origin(daphne, operator_user):
    cookie = _session_cookie(operator_user.username)
    headers = {"Cookie": f"sessionid={cookie}"}
    foreign = run_async(
        _ws_close_code(
            f"{daphne.ws_url}/ws/ops/", origin="http://evil.example", additional_headers=headers
        )
    )
    missing = run_async(_ws_close_code(f"{daphne.ws_url}/ws/ops/", additional_headers=headers))
    assert foreign == 403
    assert missing == 403


@pytest.mark.django_db(transaction=True)
def test_ops_socket_refuses_anonymous_and_non_staff(daphne, make_user):
    outsider = make_user("nobody-special", role=None)
    cookie = _session_cookie(outsider.username)
    origin = f"http://127.0.0.1:{daphne.port}"
    anonymous = run_async(_ws_close_code(f"{daphne.ws_url}/ws/ops/", origin=origin))
    no_role = run_async(
        _ws_close_code(
            f"{daphne.ws_url}/ws/ops/",
            origin=origin,
            additional_headers={"Cookie": f"sessionid={cookie}"},
        )
    )
    assert anonymous in (403, 4403)
    assert no_role in (403, 4403)


# --- embedded default ----------------------------------------------------------


def test_embedded_default_runs_as_one_process_without_services(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "WEDSYNC_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "wedsync_ops.settings",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "wedsync_ops.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            ready = json.loads(r.read())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as r:
            page = r.read().decode()
    finally:
        proc.terminate()
        proc.wait(10)
    assert ready["status"] == "ready"
    assert "not configured" in ready["checks"]["redis"]["detail"]
    assert "Sign in to WedSync Ops" in page
    assert (tmp_path / "wedsync.sqlite3").exists()


# --- browser -------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_logs_in_in_chromium_and_sees_the_console(daphne, page, operator_user):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    login(page, daphne.url, operator_user.username)
    assert page.locator("h1").inner_text() == "Operations overview"
    assert page.locator("nav[aria-label=Main] a").count() >= 6
    screenshot(page, "home")
    assert all(url.startswith(daphne.url) for url in requests), requests


@pytest.mark.django_db
def test_admins_group_may_edit_our_models_in_django_admin_and_operators_only_view():
    from django.contrib.auth.models import Group, User

    from apps.accounts.groups import sync_groups

    sync_groups()
    admin = User.objects.create_user("ada", password=PASSWORD, is_staff=True)
    admin.groups.add(Group.objects.get(name="admins"))
    operator = User.objects.create_user("otto", password=PASSWORD)
    operator.groups.add(Group.objects.get(name="operators"))
    assert admin.has_perm("weddings.change_venue")
    assert admin.has_perm("weddings.change_supplier")
    assert admin.has_perm("alerts.change_alertrule")
    assert operator.has_perm("weddings.view_venue")
    assert not operator.has_perm("weddings.change_venue")


EMBEDDED_ADMIN = """
import json
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
admin = User.objects.create_user("emb-admin", password="x-long-password-1", is_staff=True)
admin.groups.add(Group.objects.get_or_create(name="admins")[0])
print(json.dumps({"token": Token.objects.create(user=admin).key}))
"""


@pytest.mark.slow
def test_the_embedded_scheduler_runs_every_periodic_job(embedded_server):
    """`make run` has no beat and no worker: its Daphne runs the periodic jobs itself.
    Every job is due on the first tick; none may fail, and the built-in collection's
    samples appear in the monitor."""
    import time

    from apps.core.periodic import jobs

    server, data = embedded_server(EMBEDDED_ADMIN, {"RUN_EMBEDDED_SCHEDULER": "true"})
    request = urllib.request.Request(
        f"{server.url}/api/v1/metrics/names/",
        headers={"Authorization": f"Token {data['token']}"},
    )
    deadline = time.monotonic() + 30
    names: list[str] = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=10) as response:
            names = json.loads(response.read())["names"]
        if any(n.startswith("wedsync_db_") for n in names):
            break
        time.sleep(0.5)
    assert any(n.startswith("wedsync_db_") for n in names), names
    time.sleep(3)  # every job due at start has had its first run
    log = server.output()
    failed = [job.name for job in jobs() if f"periodic job {job.name} failed" in log]
    assert failed == [], log[-3000:]
    assert "Traceback" not in log, log[-3000:]
