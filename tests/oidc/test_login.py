"""A real GitLab-style OIDC login: /oidc/authenticate/ → provider → callback → signed in."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from nautes_portal.models import OidcIdentity
from tests.plugins.oidc_provider import OidcProvider, OidcProviderFactory

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://testserver/oidc/callback/"


@pytest.fixture
def provider(oidc_provider: OidcProviderFactory, settings: Any) -> OidcProvider:
    provider = oidc_provider(redirect_uris=[REDIRECT_URI])
    for key, value in provider.mozilla_django_oidc_settings().items():
        setattr(settings, key, value)
    settings.OIDC_OP_ISSUER = provider.issuer
    settings.OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = [
        "nautes_portal.auth.GitLabOIDCBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    return provider


def sign_in(client: Client, provider: OidcProvider, username: str, password: str) -> Any:
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    assert start["Location"].startswith(provider.authorization_endpoint)
    callback = provider.login(requests.Session(), start["Location"], username, password)
    return client.get(callback.removeprefix("http://testserver"))


def test_login_from_authenticate_to_a_signed_in_page(provider: OidcProvider) -> None:
    client = Client()
    response = sign_in(client, provider, "alice", "alice-password")
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"alice" in home.content and b"Log out" in home.content
    identity = OidcIdentity.objects.get()
    assert identity.subject == "1001" and identity.issuer == provider.issuer
    user = identity.user
    assert user.username == "alice" and user.email == "alice@example.com"
    assert not user.has_usable_password()

    logout = client.post("/accounts/logout/")
    assert logout.status_code == 302
    assert client.get("/").status_code == 302


def test_second_login_finds_the_same_account_by_subject(provider: OidcProvider) -> None:
    sign_in(Client(), provider, "alice", "alice-password")
    get_user_model().objects.filter(username="alice").update(email="old@example.com")
    sign_in(Client(), provider, "alice", "alice-password")
    assert get_user_model().objects.filter(oidc_identity__subject="1001").count() == 1
    assert get_user_model().objects.get(username="alice").email == "alice@example.com"


def test_a_local_account_with_the_same_name_is_never_taken_over(
    provider: OidcProvider, make_user: Any
) -> None:
    local = make_user("alice")
    response = sign_in(Client(), provider, "alice", "alice-password")
    assert response.status_code == 302
    identity = OidcIdentity.objects.get()
    assert identity.user != local and identity.user.username == "alice-2"


def test_a_wrong_state_is_refused(provider: OidcProvider) -> None:
    client = Client()
    start = client.get("/oidc/authenticate/")
    callback = provider.login(requests.Session(), start["Location"], "bob", "bob-password")
    forged = callback.replace("state=", "state=x")
    response = client.get(forged.removeprefix("http://testserver"))
    assert response.status_code in (302, 400)
    assert not OidcIdentity.objects.exists()


def test_a_token_from_another_issuer_is_refused(provider: OidcProvider, settings: Any) -> None:
    settings.OIDC_OP_ISSUER = "https://gitlab.elsewhere.example"
    client = Client()
    response = sign_in(client, provider, "alice", "alice-password")
    assert response.status_code in (302, 400)
    assert not OidcIdentity.objects.exists()
    assert client.get("/").status_code == 302  # still signed out
