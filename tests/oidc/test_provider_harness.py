"""The OIDC test provider is a real OpenID provider: discovery, sign-in, code flow, signed tokens.

Everything here talks to `tests/oidc/provider.mjs` with `requests` alone, the way a relying party
such as mozilla-django-oidc does, so a failure points at the harness rather than at the portal.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from tests.plugins.oidc_provider import (
    DEFAULT_ACCOUNTS,
    OidcLoginError,
    OidcProvider,
    OidcProviderFactory,
)

REDIRECT_URI = "http://testserver/oidc/callback/"
ALICE = DEFAULT_ACCOUNTS[0]


@pytest.fixture(scope="module")
def provider(oidc_provider: OidcProviderFactory) -> OidcProvider:
    return oidc_provider(redirect_uris=[REDIRECT_URI])


def authorize_url(provider: OidcProvider, **extra: str) -> tuple[str, str, str]:
    """An authorization request like mozilla-django-oidc's; returns (url, state, nonce)."""
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": state,
        "nonce": nonce,
        **extra,
    }
    return f"{provider.authorization_endpoint}?{urlencode(query)}", state, nonce


def callback_params(provider: OidcProvider, callback: str) -> dict[str, str]:
    parts = urlsplit(callback)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


def code_for(provider: OidcProvider, url: str, username: str, password: str) -> str:
    """Sign in through `url` in a fresh browser session and return the authorization code."""
    callback = provider.login(requests.Session(), url, username, password)
    return callback_params(provider, callback)["code"]


def verify_id_token(provider: OidcProvider, id_token: str) -> dict[str, Any]:
    """Check the RS256 signature against the JWKS key named by the header's `kid`."""
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256"
    jwks = requests.get(provider.jwks_uri, timeout=5).json()["keys"]
    (jwk,) = [key for key in jwks if key["kid"] == header["kid"]]
    return jwt.decode(
        id_token,
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=provider.issuer,
    )


def test_discovery_advertises_rs256_and_a_kid(provider: OidcProvider) -> None:
    discovery = requests.get(
        f"{provider.issuer}/.well-known/openid-configuration", timeout=5
    ).json()

    assert discovery["issuer"] == provider.issuer
    assert provider.issuer.startswith("http://127.0.0.1:")
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "code" in discovery["response_types_supported"]
    assert {"openid", "profile", "email"} <= set(discovery["scopes_supported"])
    assert {"sub", "nickname", "preferred_username", "name", "email", "groups"} <= set(
        discovery["claims_supported"]
    )
    for name in ("token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"):
        assert discovery[name].startswith(provider.issuer + "/")
    keys = requests.get(provider.jwks_uri, timeout=5).json()["keys"]
    assert [(key["kty"], key["alg"], key["use"]) for key in keys] == [("RSA", "RS256", "sig")]
    assert keys[0]["kid"]
    assert "d" not in keys[0]  # the public half only


@pytest.mark.parametrize("client_auth", ["client_secret_basic", "client_secret_post"])
def test_code_flow_with_requests(provider: OidcProvider, client_auth: str) -> None:
    url, state, nonce = authorize_url(provider)

    callback = provider.login(requests.Session(), url, "alice", ALICE["password"])

    params = callback_params(provider, callback)
    assert params["state"] == state
    assert params["iss"] == provider.issuer
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": REDIRECT_URI,
    }
    auth: tuple[str, str] | None = (provider.client_id, provider.client_secret)
    if client_auth == "client_secret_post":
        form |= {"client_id": provider.client_id, "client_secret": provider.client_secret}
        auth = None
    response = requests.post(provider.token_endpoint, data=form, auth=auth, timeout=5)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"].lower() == "bearer"

    claims = verify_id_token(provider, tokens["id_token"])
    assert claims["sub"] == ALICE["sub"]
    assert claims["aud"] == provider.client_id
    assert claims["nonce"] == nonce
    assert claims["nickname"] == claims["preferred_username"] == "alice"
    assert claims["email"] == ALICE["email"]
    assert claims["email_verified"] is True
    assert claims["name"] == ALICE["name"]
    assert claims["groups"] == ALICE["groups"]

    userinfo = requests.get(
        provider.userinfo_endpoint,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    ).json()
    assert userinfo["sub"] == ALICE["sub"]
    assert userinfo["nickname"] == "alice"
    assert userinfo["email"] == ALICE["email"]
    assert userinfo["groups"] == ALICE["groups"]

    replay = requests.post(provider.token_endpoint, data=form, auth=auth, timeout=5)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_pkce_is_optional_but_honoured(provider: OidcProvider) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    url, _state, _nonce = authorize_url(
        provider, code_challenge=challenge.rstrip(b"=").decode(), code_challenge_method="S256"
    )
    code = code_for(provider, url, "bob", "bob-password")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    auth = (provider.client_id, provider.client_secret)

    without_verifier = requests.post(provider.token_endpoint, data=form, auth=auth, timeout=5)
    assert without_verifier.status_code == 400

    code = code_for(provider, url, "bob", "bob-password")
    form |= {"code": code, "code_verifier": verifier}
    response = requests.post(provider.token_endpoint, data=form, auth=auth, timeout=5)
    assert response.status_code == 200, response.text
    assert verify_id_token(provider, response.json()["id_token"])["nickname"] == "bob"


def test_email_signs_in_and_the_provider_session_is_reused(provider: OidcProvider) -> None:
    session = requests.Session()
    url, state, _nonce = authorize_url(provider)
    first = callback_params(
        provider, provider.login(session, url, ALICE["email"], ALICE["password"])
    )
    assert first["state"] == state

    url, state, _nonce = authorize_url(provider)
    second = callback_params(provider, provider.login(session, url, "ignored", "ignored"))
    assert second["state"] == state
    assert second["code"] != first["code"]


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong-password"), ("nobody", "alice-password")]
)
def test_bad_credentials_yield_no_code(
    provider: OidcProvider, username: str, password: str
) -> None:
    url, _state, _nonce = authorize_url(provider)

    with pytest.raises(OidcLoginError, match="Invalid login or password"):
        provider.login(requests.Session(), url, username, password)


def test_unregistered_redirect_uri_is_refused(provider: OidcProvider) -> None:
    url, _state, _nonce = authorize_url(provider, redirect_uri="http://evil.example/oidc/callback/")

    with pytest.raises(OidcLoginError, match="redirect_uri"):
        provider.login(requests.Session(), url, "alice", "alice-password")


def test_wrong_client_secret_is_refused(provider: OidcProvider) -> None:
    url, _state, _nonce = authorize_url(provider)
    code = code_for(provider, url, "alice", "alice-password")

    response = requests.post(
        provider.token_endpoint,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(provider.client_id, "not-the-secret"),
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_factory_caches_per_arguments(
    oidc_provider: OidcProviderFactory, provider: OidcProvider
) -> None:
    assert oidc_provider(redirect_uris=[REDIRECT_URI]) is provider
    live = oidc_provider(redirect_uris=["http://127.0.0.1:8123/oidc/callback/"])
    assert live is not provider
    assert live.issuer != provider.issuer
    assert live.redirect_uris == ("http://127.0.0.1:8123/oidc/callback/",)
