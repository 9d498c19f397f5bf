"""Password logins are throttled per (username, client address) (issue #12, finding 9).

Unlimited login attempts were accepted: a password could be guessed at the speed of the server.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from django.test import Client

from tests.plugins.oidc_provider import OidcProvider, OidcProviderFactory

pytestmark = pytest.mark.django_db

MESSAGE = b"Too many failed login attempts; try again in 15 minutes."
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bob(make_user: Any) -> Any:
    user = make_user("bob")
    user.set_password("bob-password-0")
    user.save()
    return user


def _login(client: Client, username: str, password: str, url: str = "/accounts/login/") -> Any:
    return client.post(url, {"username": username, "password": password, "next": "/"})


def _signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def _fail(client: Client, username: str, times: int, url: str = "/accounts/login/") -> list[int]:
    return [_login(client, username, "wrong", url).status_code for _ in range(times)]


def test_six_wrong_passwords_then_the_right_one_is_refused_with_a_clear_message(bob: Any) -> None:
    client = Client(REMOTE_ADDR="127.0.0.1")
    statuses = _fail(client, "bob", 6)
    assert statuses[:4] == [200] * 4  # the ordinary "did not match" form
    assert statuses[4:] == [429, 429]  # the fifth failure locks the pair out

    response = _login(client, "bob", "bob-password-0")
    assert response.status_code == 429
    assert MESSAGE in response.content
    # The portal's own login page (form included), not a bare text page.
    assert b"<h1>Log in</h1>" in response.content and b'name="password"' in response.content
    assert b'value="bob"' in response.content
    assert response["Retry-After"] == "900"
    assert not _signed_in(client)


def test_another_address_or_another_user_is_not_affected(bob: Any, make_user: Any) -> None:
    carol = make_user("carol")
    carol.set_password("carol-password-0")
    carol.save()
    _fail(Client(REMOTE_ADDR="127.0.0.1"), "bob", 6)

    elsewhere = Client(REMOTE_ADDR="127.0.0.2")
    assert _login(elsewhere, "bob", "bob-password-0").status_code == 302
    assert _signed_in(elsewhere)

    same_address = Client(REMOTE_ADDR="127.0.0.1")
    assert _login(same_address, "carol", "carol-password-0").status_code == 302
    assert _signed_in(same_address)


def test_the_lockout_ends_after_the_cool_off(bob: Any) -> None:
    from axes.models import AccessAttempt

    client = Client(REMOTE_ADDR="127.0.0.1")
    _fail(client, "bob", 5)
    assert _login(client, "bob", "bob-password-0").status_code == 429
    # Sixteen minutes later (the attempts' recorded time moved back, as the clock would).
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert _login(client, "bob", "bob-password-0").status_code == 302
    assert _signed_in(client)


def test_a_success_resets_the_count(bob: Any) -> None:
    client = Client(REMOTE_ADDR="127.0.0.1")
    _fail(client, "bob", 4)
    assert _login(client, "bob", "bob-password-0").status_code == 302
    assert _fail(Client(REMOTE_ADDR="127.0.0.1"), "bob", 4) == [200] * 4


def test_the_admin_login_is_throttled_too(make_user: Any) -> None:
    make_user("root", superuser=True)  # password "pw"
    client = Client(REMOTE_ADDR="127.0.0.1")
    statuses = _fail(client, "root", 5, url="/admin/login/")
    assert statuses == [200, 200, 200, 200, 429]
    response = _login(client, "root", "pw", url="/admin/login/")
    assert response.status_code == 429 and MESSAGE in response.content
    assert client.get("/admin/").status_code == 302  # still not signed in


def test_limits_come_from_the_environment() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nautes_portal.settings",
        "SECRET_KEY": "test-only-secret-key-not-for-production-use-0123456789",
        "NAUTES_LOGIN_FAILURE_LIMIT": "3",
        "NAUTES_LOGIN_COOLOFF_MINUTES": "2",
    }
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from nautes_portal.login_throttle import lockout_message\n"
        "print(settings.AXES_FAILURE_LIMIT, settings.AUTHENTICATION_BACKENDS[0])\n"
        "print(lockout_message())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [
        "3 axes.backends.AxesStandaloneBackend",
        "Too many failed login attempts; try again in 2 minutes.",
    ]


def test_api_tokens_are_not_affected(bob: Any, api_client_for: Any) -> None:
    _fail(Client(REMOTE_ADDR="127.0.0.1"), "bob", 6)
    response = api_client_for(bob).get("/api/v1/products", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200


def test_gitlab_login_works_behind_the_throttle(
    oidc_provider: OidcProviderFactory, settings: Any, make_user: Any
) -> None:
    """With axes' backend first, the OIDC login still signs in, even from an address where the
    same username is locked out of password logins (GitLab throttles its own logins)."""
    provider: OidcProvider = oidc_provider(redirect_uris=["http://testserver/oidc/callback/"])
    for key, value in provider.mozilla_django_oidc_settings().items():
        setattr(settings, key, value)
    settings.OIDC_OP_ISSUER = provider.issuer
    settings.OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "nautes_portal.auth.GitLabOIDCBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    client = Client(REMOTE_ADDR="127.0.0.1")
    _fail(client, "alice", 6)
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    callback = provider.login(requests.Session(), start["Location"], "alice", "alice-password")
    response = client.get(callback.removeprefix("http://testserver"))
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in(client)


def test_behind_a_trusted_proxy_each_client_address_is_counted_on_its_own(
    bob: Any, settings: Any
) -> None:
    """Behind an ingress every request has the proxy's REMOTE_ADDR: one attacker must not lock
    a username out for everybody, nor dodge the count by writing X-Forwarded-For itself."""
    settings.NAUTES_TRUSTED_PROXIES = 1
    attacker = Client(REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR="127.0.0.66")
    assert _fail(attacker, "bob", 5)[-1] == 429
    # The attacker's own leftmost entries change nothing: the proxy appended the real address.
    spoofing = Client(REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR="127.0.0.1, 127.0.0.66")
    assert _login(spoofing, "bob", "bob-password-0").status_code == 429
    # Bob, coming through the same proxy from his own address, still signs in.
    owner = Client(REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR="127.0.0.77")
    assert _login(owner, "bob", "bob-password-0").status_code == 302
    assert _signed_in(owner)
