"""Pytest plugin: a real OpenID Connect provider (GitLab-like) for the login tests.

`oidc_provider` (session scope) is a factory: `oidc_provider(redirect_uris=[...], accounts=[...])`
starts `node tests/oidc/provider.mjs` (npm's `oidc-provider`) on a free 127.0.0.1 port, or returns
the one already started with the same arguments, and gives back a `OidcProvider` with the issuer,
the client credentials, the endpoints from the discovery document and `login()`, which walks a
`requests.Session` through the provider's sign-in page and returns the callback URL (with `code`
and `state`) without requesting it. Every provider stops at the end of the session.

oidc-provider needs exact redirect URIs, so a test that runs against `live_server` passes its own
(`f"{live_server.url}/oidc/callback/"`); the default is `DEFAULT_REDIRECT_URIS`, for Django's
test client.

`npm ci` runs in tests/oidc when its node_modules is missing or out of date with the lock file.
Node.js and npm must be installed: without them the fixture fails, it never skips.

Test modules import `OidcLoginError` and the types from here before pytest loads the module as a
plugin, and it has no asserts of its own, so: PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
import requests

OIDC_DIR = Path(__file__).resolve().parent.parent / "oidc"
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"

DEFAULT_CLIENT_ID = "nautes-portal"
DEFAULT_CLIENT_SECRET = "portal-secret"
DEFAULT_REDIRECT_URIS: tuple[str, ...] = ("http://testserver/oidc/callback/",)
DEFAULT_ACCOUNTS: tuple[Mapping[str, Any], ...] = (
    {
        "sub": "1001",
        "nickname": "alice",
        "name": "Alice Liddell",
        "email": "alice@example.com",
        "password": "alice-password",
        "groups": ["nautes", "nautes/payments"],
    },
    {
        "sub": "1002",
        "nickname": "bob",
        "name": "Bob Builder",
        "email": "bob@example.com",
        "password": "bob-password",
        "groups": ["nautes"],
    },
)

OidcProviderFactory = Callable[..., "OidcProvider"]


class OidcLoginError(AssertionError):
    """The provider did not send the browser back to the client (bad credentials, bad request)."""


@dataclass
class OidcProvider:
    """A running `tests/oidc/provider.mjs`, with one confidential client."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...]
    accounts: tuple[Mapping[str, Any], ...] = field(repr=False)
    discovery: dict[str, Any] = field(repr=False)
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def authorization_endpoint(self) -> str:
        return self.discovery["authorization_endpoint"]

    @property
    def token_endpoint(self) -> str:
        return self.discovery["token_endpoint"]

    @property
    def userinfo_endpoint(self) -> str:
        return self.discovery["userinfo_endpoint"]

    @property
    def jwks_uri(self) -> str:
        return self.discovery["jwks_uri"]

    @property
    def end_session_endpoint(self) -> str:
        return self.discovery["end_session_endpoint"]

    def mozilla_django_oidc_settings(self) -> dict[str, Any]:
        """The mozilla-django-oidc settings that point a Django project at this provider."""
        return {
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_RP_SIGN_ALGO": "RS256",
            "OIDC_RP_SCOPES": "openid profile email",
            "OIDC_OP_AUTHORIZATION_ENDPOINT": self.authorization_endpoint,
            "OIDC_OP_TOKEN_ENDPOINT": self.token_endpoint,
            "OIDC_OP_USER_ENDPOINT": self.userinfo_endpoint,
            "OIDC_OP_JWKS_ENDPOINT": self.jwks_uri,
        }

    def login(
        self,
        session: requests.Session,
        authorize_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
    ) -> str:
        """Sign in as `username` and return the redirect back to the client, without following it.

        Follows `authorize_url` (the provider's authorization endpoint with the client's query),
        fills in the sign-in form with `username` (nickname or email) and `password` and follows
        the provider's redirects until one leaves for a registered redirect URI: that URL, with
        `code`, `state` and `iss` (or `error`), is returned. If the provider already has a session
        in `session`'s cookies, no form is shown. Raises `OidcLoginError` when the credentials are
        refused or the provider answers anything else.
        """
        url, data = authorize_url, None
        submitted = False
        for _hop in range(20):
            if data is None:
                response = session.get(url, allow_redirects=False, timeout=timeout)
            else:
                response = session.post(url, data=data, allow_redirects=False, timeout=timeout)
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if self._is_redirect_uri(location):
                    return location
                if _origin(location) != _origin(self.issuer):
                    raise OidcLoginError(f"the provider redirected to a foreign URL: {location}")
                url, data = location, None
                continue
            form = _LoginForm.parse(response.text) if response.status_code == 200 else None
            if form is None:
                raise OidcLoginError(
                    f"unexpected answer {response.status_code} from {response.url}:\n"
                    f"{response.text[:2000]}"
                )
            if submitted:
                raise OidcLoginError(
                    f"the provider refused the sign-in of {username!r}: "
                    f"{form.error or 'the form came back'}"
                )
            url = urljoin(response.url, form.action or response.url)
            data = {**form.fields, "login": username, "password": password}
            submitted = True
        raise OidcLoginError(f"too many redirects from {authorize_url}")

    def _is_redirect_uri(self, url: str) -> bool:
        parts = urlsplit(url)
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return bare in self.redirect_uris

    def stop(self) -> None:
        """Terminate the provider and wait for it to exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class _LoginForm(HTMLParser):
    """The first form with a password field in a page, with its hidden fields and error text."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.error = ""
        self.has_password = False
        self._in_form = False
        self._done = False
        self._in_error = False
        self._pending: tuple[str | None, dict[str, str]] | None = None

    @classmethod
    def parse(cls, html: str) -> _LoginForm | None:
        parser = cls()
        parser.feed(html)
        parser.close()
        return parser if parser.has_password else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "p" and "error" in attributes.get("class", "").split():
            self._in_error = True
        if self._done:
            return
        if tag == "form":
            self._in_form = True
            self._pending = (attributes.get("action"), {})
        elif tag == "input" and self._in_form and self._pending is not None:
            kind = attributes.get("type", "text").lower()
            if kind == "password":
                self.has_password = True
            elif kind == "hidden" and attributes.get("name"):
                self._pending[1][attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_error = False
        if tag == "form" and self._in_form and not self._done:
            self._in_form = False
            if self.has_password and self._pending is not None:
                self.action, self.fields = self._pending
                self._done = True

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.error += data.strip()


def _node_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH: the OIDC tests run a real OpenID provider with Node.js "
            f"(>= 20) and npm; install them (CI does) and run `npm ci` in {OIDC_DIR}",
            pytrace=False,
        )
    return path


def _installed_matches_lock() -> bool:
    """Whether tests/oidc/node_modules holds the oidc-provider version package-lock.json pins."""
    installed = OIDC_DIR / "node_modules" / "oidc-provider" / "package.json"
    if not installed.is_file():
        return False
    lock = json.loads((OIDC_DIR / "package-lock.json").read_text())
    wanted = lock["packages"]["node_modules/oidc-provider"]["version"]
    return json.loads(installed.read_text()).get("version") == wanted


def ensure_node_modules() -> None:
    """Run `npm ci` in tests/oidc unless its node_modules is already installed from the lock."""
    if _installed_matches_lock():
        return
    npm = _node_tool("npm")
    digest = hashlib.sha256(str(OIDC_DIR).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"nautes-oidc-npm-{digest}.lock"
    with lock_path.open("w") as lock:  # xdist workers install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_matches_lock():
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=OIDC_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`npm ci` in {OIDC_DIR} failed ({result.returncode}):\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}",
                pytrace=False,
            )


def start_oidc_provider(
    log_dir: Path,
    *,
    redirect_uris: Sequence[str] = DEFAULT_REDIRECT_URIS,
    accounts: Sequence[Mapping[str, Any]] = DEFAULT_ACCOUNTS,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    post_logout_redirect_uris: Sequence[str] = (),
    timeout: float = 20.0,
) -> OidcProvider:
    """Start a provider on a free port (chosen by node itself) and wait for its READY line."""
    node = _node_tool("node")
    ensure_node_modules()
    config = {
        "client": {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
        },
        "accounts": [dict(account) for account in accounts],
    }
    config_path = log_dir / f"oidc-provider-{time.monotonic_ns()}.json"
    config_path.write_text(json.dumps(config, indent=2))
    log_path = config_path.with_suffix(".log")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT), "--port", "0", "--config", str(config_path)],
            cwd=OIDC_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    issuer = None
    while issuer is None and process.poll() is None and time.monotonic() < deadline:
        for line in log_path.read_text(errors="replace").split("\n")[:-1]:  # whole lines
            if line.startswith("READY "):
                issuer = line.split(" ", 1)[1].strip()
                break
        else:
            time.sleep(0.02)
    if issuer is None:
        if process.poll() is None:
            process.kill()
            process.wait()
        pytest.fail(
            f"the OIDC provider did not start (exit {process.returncode}):\n"
            f"{log_path.read_text(errors='replace')[-4000:]}",
            pytrace=False,
        )
    try:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5)
        response.raise_for_status()
        discovery = response.json()
    except Exception:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        raise
    return OidcProvider(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=tuple(redirect_uris),
        accounts=tuple(accounts),
        discovery=discovery,
        log_path=log_path,
        process=process,
    )


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProviderFactory]:
    """Factory of running OpenID providers, one per distinct set of arguments, for the session.

    `oidc_provider(*, redirect_uris=DEFAULT_REDIRECT_URIS, accounts=DEFAULT_ACCOUNTS,
    client_id="nautes-portal", client_secret="portal-secret", post_logout_redirect_uris=())`
    returns an `OidcProvider`. Accounts are mappings with `sub`, `nickname`, `name`, `email`,
    `password`, `groups` (and optionally `preferred_username`, `email_verified`).
    """
    log_dir = tmp_path_factory.mktemp("oidc-provider")
    running: dict[str, OidcProvider] = {}

    def start(
        *,
        redirect_uris: Sequence[str] = DEFAULT_REDIRECT_URIS,
        accounts: Sequence[Mapping[str, Any]] = DEFAULT_ACCOUNTS,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        post_logout_redirect_uris: Sequence[str] = (),
    ) -> OidcProvider:
        if isinstance(redirect_uris, str) or isinstance(post_logout_redirect_uris, str):
            raise TypeError("redirect_uris and post_logout_redirect_uris are lists of URLs")
        arguments = {
            "redirect_uris": list(redirect_uris),
            "accounts": [dict(account) for account in accounts],
            "client_id": client_id,
            "client_secret": client_secret,
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
        }
        key = json.dumps(arguments, sort_keys=True)
        provider = running.get(key)
        if provider is None or provider.process.poll() is not None:
            provider = start_oidc_provider(log_dir, **arguments)
            running[key] = provider
        return provider

    try:
        yield start
    finally:
        for provider in running.values():
            with contextlib.suppress(Exception):
                provider.stop()
