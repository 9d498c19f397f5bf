"""Whole-suite secret-leak scan (pytest plugin, loaded by addopts).

Every secret any test writes to Vault through the portal's adapter is recorded: whole values,
and for kubeconfigs and keys the credential parts (tokens, client keys, key bodies). From then
on, every HTTP response the portal produces, every log record, every committed file and commit
message (local and GitLab backends) and every saved model row is checked for them. A leak
anywhere fails the run, naming where it was found. Secrets that a test writes as bait to check
a redaction are still secrets: nothing the portal emits may contain them.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import pytest
import yaml

MIN_LENGTH = 12
_secrets: set[str] = set()
_leaks: list[str] = []


def _credential_parts(value: str) -> set[str]:
    """The parts of a secret value that identify it even when reformatted."""
    parts = {value} if len(value) >= MIN_LENGTH else set()
    if "PRIVATE KEY" in value:
        parts |= {
            line for line in value.splitlines() if len(line) >= 40 and "PRIVATE KEY" not in line
        }
    try:
        document = yaml.safe_load(value)
    except yaml.YAMLError:
        return parts
    if isinstance(document, dict) and isinstance(document.get("users"), list):
        for entry in document["users"]:
            user = entry.get("user") if isinstance(entry, dict) else None
            for key in ("token", "client-key-data", "password"):
                secret = user.get(key) if isinstance(user, dict) else None
                if isinstance(secret, str) and len(secret) >= MIN_LENGTH:
                    parts.add(secret)
    return parts


def _check(where: str, text: str | bytes) -> None:
    if not _secrets:
        return
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    for secret in _secrets:
        if secret in text:
            _leaks.append(f"{where}: contains a secret written to Vault ({secret[:4]}…)")
            return


class _LogScan(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # never let the scan break logging
            _check(f"log record {record.name}", record.getMessage())


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(_LogScan(level=logging.DEBUG))


@pytest.fixture(autouse=True, scope="session")
def _secret_scan() -> Any:
    from django.core.handlers.base import BaseHandler
    from django.db.models.signals import post_save

    from nautes_portal.integrations import git_local, gitlab, vault

    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, make: Any) -> None:
        original = getattr(owner, name)
        patched.append((owner, name, original))
        setattr(owner, name, make(original))

    def on_write(original: Any) -> Any:
        def write(self: Any, *, engine: str, path: str, data: dict[str, str]) -> int:
            for value in data.values():
                _secrets.update(_credential_parts(str(value)))
            return original(self, engine=engine, path=path, data=data)

        return write

    def on_response(original: Any) -> Any:
        def get_response(self: Any, request: Any) -> Any:
            response = original(self, request)
            if not getattr(response, "streaming", False):
                _check(f"response to {request.method} {request.path}", response.content)
            return response

        return get_response

    def on_commit(original: Any) -> Any:
        def commit(
            self: Any, *, changes: dict[str, bytes | None], message: str, **kwargs: Any
        ) -> str:
            for path, content in changes.items():
                if content is not None:
                    _check(f"committed file {path}", content)
            _check("commit message", message)
            return original(self, changes=changes, message=message, **kwargs)

        return commit

    def on_save(sender: Any, instance: Any, **kwargs: Any) -> None:
        values = [str(getattr(instance, f.attname, "")) for f in instance._meta.concrete_fields]
        _check(f"{sender.__name__} row", "\n".join(values))

    wrap(vault.HvacSecretStore, "write", on_write)
    wrap(BaseHandler, "get_response", on_response)
    wrap(git_local.LocalConfigRepository, "commit", on_commit)
    wrap(gitlab.GitLabConfigRepository, "commit", on_commit)
    post_save.connect(on_save, weak=False, dispatch_uid="secret-scan")
    yield
    post_save.disconnect(dispatch_uid="secret-scan")
    for owner, name, original in patched:
        setattr(owner, name, original)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(
        f"secret scan: {len(_secrets)} secret values watched, {len(_leaks)} leaks"
    )
    for leak in sorted(set(_leaks)):
        terminalreporter.write_line(f"SECRET LEAK {leak}", red=True)
