"""Pytest plugin: a real OpenBao dev server for the test session.

`openbao_dev` (session scope; with xdist each worker process gets its own) runs
`bao server -dev` on a free 127.0.0.1 port with the root token `root`. `secret_store` points the
Django settings at it and wipes the Nautes engines and policies first, so tests never see each
other's secrets. `start_openbao_dev()` starts a dedicated server for tests that must break one
(seal it, stop it).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import hvac
import hvac.exceptions
import pytest
import requests

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from nautes_portal.integrations.vault import SecretStore

DEV_ROOT_TOKEN = "root"
_BUILTIN_POLICIES = frozenset({"root", "default"})


@dataclass
class OpenBaoDevServer:
    """A running `bao server -dev` (in-memory; everything is lost when it stops)."""

    addr: str
    token: str = field(repr=False)
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def client(self) -> hvac.Client:
        """A root hvac client, for test set-up and for checking what the portal did."""
        return hvac.Client(url=self.addr, token=self.token, timeout=5)

    def stop(self) -> None:
        """Terminate the server and wait for it to exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_openbao_dev(log_dir: Path, *, timeout: float = 20.0) -> OpenBaoDevServer:
    """Start a dev server on a free port and wait until it serves requests."""
    from nautes_portal.embedded_openbao import find_bao_binary, free_port

    binary = find_bao_binary()
    last_error = ""
    for _attempt in range(3):  # the free port may be taken before bao binds it
        port = free_port()
        log_path = log_dir / f"openbao-dev-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    binary,
                    "server",
                    "-dev",
                    f"-dev-root-token-id={DEV_ROOT_TOKEN}",
                    f"-dev-listen-address=127.0.0.1:{port}",
                    "-dev-no-store-token",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = OpenBaoDevServer(
            addr=f"http://127.0.0.1:{port}",
            token=DEV_ROOT_TOKEN,
            log_path=log_path,
            process=process,
        )
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if requests.get(f"{server.addr}/v1/sys/health", timeout=1).status_code == 200:
                    return server
            except requests.RequestException:
                pass
            time.sleep(0.05)
        server.stop()
        last_error = log_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"OpenBao dev server did not start:\n{last_error}")


def wipe_openbao(server: OpenBaoDevServer) -> None:
    """Delete every secret in the Nautes engines and every non-builtin policy."""
    from nautes_portal.integrations.vault import KV_ENGINES

    client = server.client()
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    for engine in KV_ENGINES:
        if f"{engine}/" in mounts:
            _wipe_kv2(client, engine, "")
    for name in client.sys.list_policies()["data"]["policies"]:
        if name not in _BUILTIN_POLICIES:
            client.sys.delete_policy(name)


def _wipe_kv2(client: hvac.Client, engine: str, prefix: str) -> None:
    try:
        keys = client.secrets.kv.v2.list_secrets(path=prefix, mount_point=engine)["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        return
    for key in keys:
        if key.endswith("/"):
            _wipe_kv2(client, engine, prefix + key)
        else:
            client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=prefix + key, mount_point=engine
            )


@pytest.fixture(scope="session")
def openbao_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBaoDevServer]:
    """One OpenBao dev server for the whole session (per xdist worker)."""
    server = start_openbao_dev(tmp_path_factory.mktemp("openbao-dev"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def secret_store(openbao_dev: OpenBaoDevServer, settings: Settings) -> SecretStore:
    """The portal's `secret_store()` pointed at the dev server, with empty Nautes engines."""
    from nautes_portal.integrations import vault

    settings.VAULT_ADDR = openbao_dev.addr
    settings.VAULT_TOKEN = openbao_dev.token
    settings.VAULT_ROLE_ID = ""
    settings.VAULT_SECRET_ID = ""
    settings.VAULT_CACERT = ""
    wipe_openbao(openbao_dev)
    return vault.secret_store()
