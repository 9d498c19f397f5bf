"""A new KV v2 mount upgrades itself before it serves requests: the portal waits for it (#18).

Against a real OpenBao dev server. On a fast local server the upgrade window is usually shorter
than a round trip, so the tests that must hit it put `tests/fakes/vault_proxy.py` in front of
OpenBao: it forwards everything and answers Vault's exact upgrade reply below a mount for a
while after it was mounted (or forever).
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from nautes_portal.integrations import vault
from nautes_portal.integrations.vault import (
    HvacSecretStore,
    SecretStoreUnavailable,
    cluster_kubeconfig_location,
)
from tests.api.helpers import KUBECONFIG_TOKEN, UNREACHABLE_API_SERVER, kubeconfig
from tests.fakes.vault_proxy import VaultUpgradeProxy
from tests.plugins.openbao import OpenBaoDevServer, start_openbao_dev

# Long enough that a client which does not wait always hits it, short enough for 20 rounds.
UPGRADE_WINDOW = 0.15


@pytest.fixture
def fresh_mounts(openbao_dev: OpenBaoDevServer) -> Iterator[list[str]]:
    """Mount names unique to this test; unmounted afterwards."""
    names: list[str] = []
    yield names
    client = openbao_dev.client()
    mounted = client.sys.list_mounted_secrets_engines()["data"]
    for name in names:
        if f"{name}/" in mounted:
            client.sys.disable_secrets_engine(name)


def new_mount(names: list[str]) -> str:
    name = f"kv-up-{uuid.uuid4().hex[:10]}"
    names.append(name)
    return name


@pytest.fixture
def proxy(openbao_dev: OpenBaoDevServer) -> Iterator[VaultUpgradeProxy]:
    server = VaultUpgradeProxy(openbao_dev.addr, upgrade_window=UPGRADE_WINDOW).start()
    try:
        yield server
    finally:
        server.stop()


# ---- A new mount, then a write at once ----------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("through_proxy", [False, True], ids=["openbao", "upgrade-window"])
def test_a_brand_new_mount_followed_at_once_by_a_write_succeeds_every_time(
    openbao_dev: OpenBaoDevServer,
    proxy: VaultUpgradeProxy,
    fresh_mounts: list[str],
    through_proxy: bool,
) -> None:
    url = proxy.url if through_proxy else openbao_dev.addr
    for round_ in range(20):
        mount = new_mount(fresh_mounts)
        # A fresh store each round: nothing cached about engines.
        store = HvacSecretStore(url=url, token=openbao_dev.token)
        if round_ % 2:
            # Mounted by someone else an instant before (another portal process, an admin).
            root = HvacSecretStore(url=url, token=openbao_dev.token)
            root._client.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
        version = store.write(engine=mount, path="kubernetes/c/default/admin", data={"k": "v"})
        assert version == 1
        assert store.read(engine=mount, path="kubernetes/c/default/admin") == {"k": "v"}
    if through_proxy:
        # Every round really met the upgrade window (else this test would prove nothing).
        assert all(proxy.upgrading_answers(mount) > 0 for mount in fresh_mounts)


def test_an_upgrading_answer_on_any_read_or_write_is_retried(
    openbao_dev: OpenBaoDevServer, proxy: VaultUpgradeProxy, fresh_mounts: list[str]
) -> None:
    mount = new_mount(fresh_mounts)
    store = HvacSecretStore(url=proxy.url, token=openbao_dev.token)
    store.write(engine=mount, path="a", data={"k": "1"})  # mounted and known to the store

    proxy.upgrading(mount, 0.3)
    assert store.write(engine=mount, path="a", data={"k": "2"}) == 2
    proxy.upgrading(mount, 0.3)
    assert store.read(engine=mount, path="a") == {"k": "2"}
    proxy.upgrading(mount, 0.3)
    store.delete(engine=mount, path="a")
    assert store.read(engine=mount, path="a") is None
    assert proxy.upgrading_answers(mount) >= 3


# ---- A mount that never becomes ready ------------------------------------------
@pytest.mark.slow
def test_a_mount_that_never_becomes_ready_fails_naming_it_within_the_bound(
    openbao_dev: OpenBaoDevServer, proxy: VaultUpgradeProxy, fresh_mounts: list[str]
) -> None:
    mount = new_mount(fresh_mounts)
    proxy.never_ready(mount)
    store = HvacSecretStore(url=proxy.url, token=openbao_dev.token)

    started = time.monotonic()
    with pytest.raises(SecretStoreUnavailable) as error:
        store.write(engine=mount, path="a", data={"k": "v"})
    elapsed = time.monotonic() - started

    # It waited for the upgrade, and no longer than the bound (plus one request's time).
    assert vault.UPGRADE_WAIT_SECONDS * 0.8 <= elapsed <= vault.UPGRADE_WAIT_SECONDS + 1.5
    assert f"'{mount}/'" in error.value.message
    assert "still upgrading to KV version 2" in error.value.message
    assert (error.value.status, error.value.retryable) == (503, True)
    # It really was mounted (through the proxy): the wait came after the mount.
    mounts = openbao_dev.client().sys.list_mounted_secrets_engines()["data"]
    assert f"{mount}/" in mounts

    started = time.monotonic()
    with pytest.raises(SecretStoreUnavailable, match=f"'{mount}/'"):
        store.read(engine=mount, path="a")
    assert time.monotonic() - started <= vault.UPGRADE_WAIT_SECONDS + 1.5


@pytest.mark.slow
@pytest.mark.django_db
def test_readyz_and_openbao_check_are_ready_only_when_every_engine_accepts_reads(
    openbao_dev: OpenBaoDevServer,
    proxy: VaultUpgradeProxy,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(vault, "UPGRADE_WAIT_SECONDS", 0.5)
    settings.VAULT_ADDR = proxy.url
    settings.VAULT_TOKEN = openbao_dev.token
    settings.VAULT_ROLE_ID = settings.VAULT_SECRET_ID = settings.VAULT_CACERT = ""
    vault._reset_cache()
    proxy.never_ready("git")

    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "'git/'" in response.json()["problems"]["vault"]
    with pytest.raises(CommandError, match="'git/'"):
        call_command("openbao", "--check")

    proxy.upgrading("git", 0)  # the upgrade finished
    assert Client().get("/readyz").json() == {"status": "ready"}
    out = io.StringIO()
    call_command("openbao", "--check", stdout=out)
    assert "accept reads" in out.getvalue()


# ---- The first registration on a fresh server ----------------------------------
@pytest.fixture
def fresh_openbao(tmp_path: Path) -> Iterator[OpenBaoDevServer]:
    server = start_openbao_dev(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.django_db
def test_the_first_cluster_registration_on_a_fresh_openbao_never_answers_5xx(
    fresh_openbao: OpenBaoDevServer, settings: Settings, admin_api: APIClient
) -> None:
    proxy = VaultUpgradeProxy(fresh_openbao.addr, upgrade_window=0.5).start()
    try:
        settings.VAULT_ADDR = proxy.url
        settings.VAULT_TOKEN = fresh_openbao.token
        settings.VAULT_ROLE_ID = settings.VAULT_SECRET_ID = settings.VAULT_CACERT = ""
        vault._reset_cache()
        body = {
            "api_server": UNREACHABLE_API_SERVER,
            "cluster_kind": "kubernetes",
            "cluster_type": "physical",
            "usage": "worker",
            "worker_type": "deployment",
            "kubeconfig": kubeconfig(),
        }
        response = admin_api.post("/api/v1/clusters/dev-k8s", body, format="json")
        assert response.status_code == 200, response.json()
        # The registration mounted `cluster/` and met its upgrade window.
        assert proxy.upgrading_answers("cluster") > 0
    finally:
        proxy.stop()
    location = cluster_kubeconfig_location("dev-k8s")
    stored = fresh_openbao.client().secrets.kv.v2.read_secret_version(
        path=location.path, mount_point=location.engine, raise_on_deleted_version=False
    )
    document = yaml.safe_load(stored["data"]["data"]["kubeconfig"])
    assert document["users"][0]["user"]["token"] == KUBECONFIG_TOKEN
