"""The hvac secret store against a real OpenBao dev server."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import hvac
import hvac.exceptions
import pytest
from pytest_django.fixtures import Settings

from nautes_portal.embedded_openbao import free_port
from nautes_portal.integrations import vault
from nautes_portal.integrations.vault import (
    HvacSecretStore,
    SecretLocation,
    SecretStore,
    SecretStoreError,
    SecretStoreForbidden,
    SecretStoreSealed,
    SecretStoreUnavailable,
    cluster_kubeconfig_location,
    policy_document,
    repo_secret_location,
)
from tests.plugins.openbao import OpenBaoDevServer, start_openbao_dev

SECRET_VALUE = "-----BEGIN OPENSSH PRIVATE KEY----- s3cr3t-value-9f2b"


# ---- Locations ---------------------------------------------------------------
def test_cluster_kubeconfig_location_follows_upstream_contract() -> None:
    assert cluster_kubeconfig_location("host-1") == SecretLocation(
        engine="cluster",
        path="kubernetes/host-1/default/admin",
        policy_name="kubernetes-host-1-default-admin",
    )


@pytest.mark.parametrize("kind", ["readonly", "readwrite", "accesstoken-api"])
def test_repo_secret_location_follows_upstream_contract(kind: str) -> None:
    location = repo_secret_location("repo-12", kind)
    assert location.engine == "git"
    assert location.path == f"gitlab/repo-12/default/{kind}"
    assert location.policy_name == f"gitlab-repo-12-default-{kind}"


@pytest.mark.parametrize(
    ("repo_id", "kind"), [("repo-1", "admin"), ("../x", "readonly"), ("a/b", "readonly")]
)
def test_repo_secret_location_rejects_bad_input(repo_id: str, kind: str) -> None:
    with pytest.raises(ValueError):
        repo_secret_location(repo_id, kind)


def test_policy_document_grants_read_on_one_data_path() -> None:
    document = policy_document("git", "gitlab/repo-3/default/readonly")
    assert 'path "git/data/gitlab/repo-3/default/readonly"' in document
    assert 'capabilities = ["read"]' in document


@pytest.mark.parametrize("path", ["", "/a", "a//b", 'a"b', "a/../b", "a b"])
def test_bad_paths_are_refused_before_reaching_vault(path: str) -> None:
    with pytest.raises(ValueError):
        policy_document("git", path)


# ---- Round trips -------------------------------------------------------------
def test_write_read_and_version_bump(secret_store: SecretStore) -> None:
    location = repo_secret_location("repo-12", "readonly")
    first = secret_store.write(
        engine=location.engine,
        path=location.path,
        data={"deploykey": SECRET_VALUE, "fingerprint": "SHA256:abc", "id": "7"},
    )
    second = secret_store.write(
        engine=location.engine,
        path=location.path,
        data={"deploykey": "other", "fingerprint": "SHA256:def", "id": "8"},
    )

    assert second == first + 1
    assert secret_store.read(engine=location.engine, path=location.path) == {
        "deploykey": "other",
        "fingerprint": "SHA256:def",
        "id": "8",
    }


def test_engines_are_mounted_on_demand(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer
) -> None:
    client = openbao_dev.client()
    if "pki/" in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.disable_secrets_engine("pki")
    vault._reset_cache()
    store = vault.secret_store()

    store.write(engine="pki", path="default", data={"cacert": "PEM"})

    mount = client.sys.list_mounted_secrets_engines()["data"]["pki/"]
    assert (mount["type"], mount["options"]["version"]) == ("kv", "2")
    assert store.read(engine="pki", path="default") == {"cacert": "PEM"}


def test_read_of_missing_secret_or_engine_is_none(secret_store: SecretStore) -> None:
    assert secret_store.read(engine="git", path="gitlab/repo-404/default/readonly") is None
    assert secret_store.read(engine="nowhere", path="x") is None


def test_delete_removes_all_versions(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer
) -> None:
    location = cluster_kubeconfig_location("dev")
    secret_store.write(engine=location.engine, path=location.path, data={"kubeconfig": "v1"})
    secret_store.write(engine=location.engine, path=location.path, data={"kubeconfig": "v2"})

    secret_store.delete(engine=location.engine, path=location.path)

    assert secret_store.read(engine=location.engine, path=location.path) is None
    with pytest.raises(hvac.exceptions.InvalidPath):
        openbao_dev.client().secrets.kv.v2.read_secret_metadata(
            path=location.path, mount_point=location.engine
        )
    # Deleting again (absent secret, absent engine) is not an error.
    secret_store.delete(engine=location.engine, path=location.path)
    secret_store.delete(engine="nowhere", path="x")


def test_soft_deleted_version_reads_as_none(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer
) -> None:
    secret_store.write(engine="git", path="gitlab/repo-5/default/readonly", data={"id": "1"})
    openbao_dev.client().secrets.kv.v2.delete_latest_version_of_secret(
        path="gitlab/repo-5/default/readonly", mount_point="git"
    )

    assert secret_store.read(engine="git", path="gitlab/repo-5/default/readonly") is None


def test_policy_is_created_and_deleted(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer
) -> None:
    location = repo_secret_location("repo-12", "readwrite")
    client = openbao_dev.client()

    secret_store.ensure_policy(
        name=location.policy_name, engine=location.engine, path=location.path
    )
    secret_store.ensure_policy(  # idempotent
        name=location.policy_name, engine=location.engine, path=location.path
    )

    policy = client.sys.read_policy(location.policy_name)["data"]["rules"]
    assert 'path "git/data/gitlab/repo-12/default/readwrite"' in policy
    secret_store.delete_policy(location.policy_name)
    assert location.policy_name not in client.sys.list_policies()["data"]["policies"]
    secret_store.delete_policy(location.policy_name)  # absent: fine


def test_policy_grants_read_on_that_secret_only(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer
) -> None:
    location = cluster_kubeconfig_location("edge")
    secret_store.write(engine="cluster", path=location.path, data={"kubeconfig": SECRET_VALUE})
    secret_store.write(engine="cluster", path="kubernetes/other/default/admin", data={"k": "v"})
    secret_store.ensure_policy(name=location.policy_name, engine="cluster", path=location.path)
    token = openbao_dev.client().auth.token.create(policies=[location.policy_name], ttl="5m")
    reader = HvacSecretStore(url=openbao_dev.addr, token=token["auth"]["client_token"])

    assert reader.read(engine="cluster", path=location.path) == {"kubeconfig": SECRET_VALUE}
    with pytest.raises(SecretStoreForbidden):
        reader.read(engine="cluster", path="kubernetes/other/default/admin")
    with pytest.raises(SecretStoreForbidden):
        reader.write(engine="cluster", path=location.path, data={"kubeconfig": "x"})


# ---- Failures ----------------------------------------------------------------
@pytest.fixture
def dedicated_server(tmp_path: Path) -> Iterator[OpenBaoDevServer]:
    """A short-lived dev server of its own, for tests that seal or stop it."""
    server = start_openbao_dev(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_sealed_vault_raises_sealed(dedicated_server: OpenBaoDevServer) -> None:
    store = HvacSecretStore(url=dedicated_server.addr, token=dedicated_server.token)
    store.write(engine="git", path="gitlab/repo-1/default/readonly", data={"id": "1"})
    dedicated_server.client().sys.seal()

    with pytest.raises(SecretStoreSealed) as ready_error:
        store.check_ready()
    with pytest.raises(SecretStoreSealed) as read_error:
        store.read(engine="git", path="gitlab/repo-1/default/readonly")

    for error in (ready_error.value, read_error.value):
        assert error.status == 503
        assert error.reason == "SECRET_STORE_SEALED"
        assert error.system == "Vault"
        assert error.retryable
        assert f"Vault at {dedicated_server.addr} is sealed; unseal it" in error.message
        assert isinstance(error, SecretStoreUnavailable)


def test_unreachable_vault_raises_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    store = HvacSecretStore(url=url, token="t-unused", timeout=2)

    with pytest.raises(SecretStoreUnavailable) as ready_error:
        store.check_ready()
    with pytest.raises(SecretStoreUnavailable) as write_error:
        store.write(engine="git", path="a", data={"k": "v"})

    for error in (ready_error.value, write_error.value):
        assert type(error) is SecretStoreUnavailable
        assert (error.status, error.reason, error.retryable) == (
            503,
            "SECRET_STORE_UNAVAILABLE",
            True,
        )
        assert url in error.message
        assert error.__cause__ is None


def test_check_ready_passes_on_a_healthy_server(secret_store: SecretStore) -> None:
    secret_store.check_ready()


def test_bad_token_is_forbidden_and_not_retryable(openbao_dev: OpenBaoDevServer) -> None:
    store = HvacSecretStore(url=openbao_dev.addr, token="hvs.not-a-real-token")

    with pytest.raises(SecretStoreForbidden) as error:
        store.check_ready()

    assert (error.value.status, error.value.retryable) == (502, False)
    assert "VAULT_TOKEN" in error.value.message


def test_no_secret_in_messages_repr_or_logs(
    openbao_dev: OpenBaoDevServer, secret_store: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_store.write(
        engine="git", path="gitlab/repo-9/default/readonly", data={"k": SECRET_VALUE}
    )
    bad_token = "hvs.super-secret-token-value"
    errors: list[SecretStoreError] = []
    for store in (
        HvacSecretStore(url=openbao_dev.addr, token=bad_token),
        HvacSecretStore(url=f"http://127.0.0.1:{free_port()}", token=bad_token, timeout=1),
        HvacSecretStore(url=openbao_dev.addr, role_id="role-x", secret_id=bad_token),
    ):
        with pytest.raises(SecretStoreError) as error:
            store.read(engine="git", path="gitlab/repo-9/default/readonly")
        errors.append(error.value)
        assert bad_token not in repr(store)

    texts = [repr(secret_store), caplog.text]
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + [e.message for e in errors]
    for text in texts:
        assert bad_token not in text
        assert SECRET_VALUE not in text


# ---- AppRole -----------------------------------------------------------------
def _approle_credentials(client: hvac.Client, policies: list[str]) -> tuple[str, str]:
    if "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    role = f"portal-{uuid.uuid4().hex[:8]}"
    client.auth.approle.create_or_update_approle(role, token_policies=policies, token_ttl="5m")
    role_id = client.auth.approle.read_role_id(role)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    return role_id, secret_id


def test_approle_login_reads_what_its_policy_allows(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer
) -> None:
    location = repo_secret_location("repo-77", "accesstoken-api")
    secret_store.write(
        engine=location.engine, path=location.path, data={"accesstoken": SECRET_VALUE, "id": "3"}
    )
    secret_store.ensure_policy(
        name=location.policy_name, engine=location.engine, path=location.path
    )
    role_id, secret_id = _approle_credentials(openbao_dev.client(), [location.policy_name])

    store = HvacSecretStore(url=openbao_dev.addr, role_id=role_id, secret_id=secret_id)
    store.check_ready()

    assert store.read(engine=location.engine, path=location.path) == {
        "accesstoken": SECRET_VALUE,
        "id": "3",
    }
    assert secret_id not in repr(store)


def test_approle_without_mount_rights_gets_a_clear_error(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer
) -> None:
    secret_store.ensure_policy(name="portal-writer", engine="git", path="gitlab/x")
    role_id, secret_id = _approle_credentials(openbao_dev.client(), ["portal-writer"])
    store = HvacSecretStore(url=openbao_dev.addr, role_id=role_id, secret_id=secret_id)

    with pytest.raises(SecretStoreForbidden) as error:
        store.write(engine="nautes-unmounted", path="x", data={"k": "v"})

    assert "is not mounted" in error.value.message
    assert "enable a KV version 2 engine at 'nautes-unmounted/'" in error.value.message
    assert not error.value.retryable


def test_bad_approle_credentials_are_forbidden(openbao_dev: OpenBaoDevServer) -> None:
    _approle_credentials(openbao_dev.client(), ["default"])  # make sure approle is enabled
    store = HvacSecretStore(url=openbao_dev.addr, role_id="nope", secret_id="wrong")

    with pytest.raises(SecretStoreForbidden) as error:
        store.check_ready()

    assert "VAULT_ROLE_ID" in error.value.message


# ---- Factory -----------------------------------------------------------------
def test_factory_uses_vault_addr_and_token(
    settings: Settings, openbao_dev: OpenBaoDevServer
) -> None:
    settings.VAULT_ADDR = openbao_dev.addr
    settings.VAULT_TOKEN = openbao_dev.token

    store = vault.secret_store()

    assert isinstance(store, HvacSecretStore)
    assert store.url == openbao_dev.addr
    assert not store.uses_approle
    store.check_ready()
    assert vault.secret_store() is store  # cached per configuration


def test_factory_uses_approle_when_configured(
    settings: Settings, openbao_dev: OpenBaoDevServer
) -> None:
    role_id, secret_id = _approle_credentials(openbao_dev.client(), ["default"])
    settings.VAULT_ADDR = openbao_dev.addr
    settings.VAULT_TOKEN = ""
    settings.VAULT_ROLE_ID = role_id
    settings.VAULT_SECRET_ID = secret_id

    store = vault.secret_store()

    assert isinstance(store, HvacSecretStore)
    assert store.uses_approle
    store.check_ready()


def test_factory_without_vault_or_embedded_server_says_what_to_do(
    settings: Settings, tmp_path: Path
) -> None:
    settings.VAULT_ADDR = ""
    settings.NAUTES_OPENBAO_DIR = tmp_path / "openbao"

    with pytest.raises(SecretStoreUnavailable) as error:
        vault.secret_store()

    assert "python manage.py openbao" in error.value.message
    assert "VAULT_ADDR" in error.value.message
