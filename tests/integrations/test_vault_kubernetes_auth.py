"""Vault Kubernetes auth (one mount per runtime cluster, one role per account) on real OpenBao."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import hvac
import hvac.exceptions
import pytest

from nautes_portal.integrations.vault import (
    HvacSecretStore,
    SecretStore,
    SecretStoreConflict,
    SecretStoreError,
    SecretStoreForbidden,
    repo_secret_location,
)
from tests.fakes.kube_server import TlsMaterial
from tests.plugins.openbao import OpenBaoDevServer

HOST = "https://10.1.2.3:6443"
ACCOUNT = "deploy-app"
DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY----- kube-auth-test-9c1e"


@pytest.fixture
def root(openbao_dev: OpenBaoDevServer) -> hvac.Client:
    return openbao_dev.client()


@pytest.fixture
def mount(root: hvac.Client) -> Iterator[str]:
    """A fresh mount name (the dev server is shared); whatever ends up there is disabled after."""
    name = f"cluster-{uuid.uuid4().hex[:8]}"
    yield name
    if f"{name}/" in root.sys.list_auth_methods()["data"]:
        root.sys.disable_auth_method(name)


@pytest.fixture
def ca_pem(fake_kube_tls: TlsMaterial) -> str:
    return fake_kube_tls.ca_cert.decode()


def _auth_type(root: hvac.Client, mount: str) -> str | None:
    details = root.sys.list_auth_methods()["data"].get(f"{mount}/")
    return None if details is None else str(details["type"])


def _config(root: hvac.Client, mount: str) -> dict[str, object]:
    return dict(root.adapter.get(f"/v1/auth/{mount}/config")["data"])


def _role(root: hvac.Client, mount: str, role: str) -> dict[str, object] | None:
    try:
        return dict(root.adapter.get(f"/v1/auth/{mount}/role/{role}")["data"])
    except hvac.exceptions.InvalidPath:
        return None


def _read_only_store(openbao_dev: OpenBaoDevServer, mount: str) -> HvacSecretStore:
    """A store whose token may read the mount list, the config and the roles, and write nothing:
    a call that would write fails with SecretStoreForbidden."""
    root = openbao_dev.client()
    name = f"read-only-{mount}"
    root.sys.create_or_update_policy(
        name=name,
        policy=(
            'path "sys/auth" { capabilities = ["read"] }\n'
            f'path "auth/{mount}/config" {{ capabilities = ["read"] }}\n'
            f'path "auth/{mount}/role/*" {{ capabilities = ["read", "list"] }}\n'
        ),
    )
    token = root.auth.token.create(policies=[name], ttl="5m")["auth"]["client_token"]
    return HvacSecretStore(url=openbao_dev.addr, token=token)


def _ensure_role(store: SecretStore, mount: str, **changes: list[str]) -> bool:
    arguments: dict[str, list[str]] = {
        "service_accounts": [ACCOUNT],
        "namespaces": ["web", "api-ns"],
        "policies": [repo_secret_location("repo-12", "readonly").policy_name],
    }
    arguments.update(changes)
    return store.ensure_kubernetes_role(mount=mount, role=ACCOUNT, **arguments)


# ---- The auth mount ----------------------------------------------------------------------------
def test_mount_is_enabled_and_configured_with_host_and_ca(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str
) -> None:
    assert secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem) is True

    assert _auth_type(root, mount) == "kubernetes"
    assert secret_store.auth_mounts()[mount] == "kubernetes"
    config = _config(root, mount)
    assert config["kubernetes_host"] == HOST
    assert config["kubernetes_ca_cert"] == ca_pem.strip() + "\n"
    # Not the local pod's CA and token: the portal does not run inside that cluster.
    assert config["disable_local_ca_jwt"] is True
    assert config["token_reviewer_jwt_set"] is False


def test_unchanged_mount_writes_nothing(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer, mount: str, ca_pem: str
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    read_only = _read_only_store(openbao_dev, mount)

    # Reformatted whitespace around the PEM is the same CA.
    assert (
        read_only.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=f"\n{ca_pem}\n\n") is False
    )
    assert secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem) is False
    with pytest.raises(SecretStoreForbidden):  # the read-only store does fail on a change
        read_only.ensure_kubernetes_auth(mount=mount, host="https://10.9.9.9:6443", ca_pem=ca_pem)


def test_changed_host_or_ca_is_written(
    secret_store: SecretStore,
    root: hvac.Client,
    mount: str,
    ca_pem: str,
    fake_kube_tls: TlsMaterial,
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    accessor = root.sys.list_auth_methods()["data"][f"{mount}/"]["accessor"]
    other_ca = fake_kube_tls.client_cert.decode()  # any other loadable certificate

    assert secret_store.ensure_kubernetes_auth(
        mount=mount, host="https://k.example:6443", ca_pem=ca_pem
    )
    assert _config(root, mount)["kubernetes_host"] == "https://k.example:6443"
    assert secret_store.ensure_kubernetes_auth(
        mount=mount, host="https://k.example:6443", ca_pem=other_ca
    )
    assert _config(root, mount)["kubernetes_ca_cert"] == other_ca.strip() + "\n"
    # Reconfigured in place: the same mount (its roles survive), not disabled and enabled again.
    assert root.sys.list_auth_methods()["data"][f"{mount}/"]["accessor"] == accessor


def test_local_ca_and_token_are_turned_off_on_an_existing_mount(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str
) -> None:
    root.sys.enable_auth_method("kubernetes", path=mount)
    root.adapter.post(
        f"/v1/auth/{mount}/config",
        json={"kubernetes_host": HOST, "kubernetes_ca_cert": ca_pem.strip() + "\n"},
    )

    assert secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem) is True
    assert _config(root, mount)["disable_local_ca_jwt"] is True


@pytest.mark.parametrize("kind", ["userpass", "approle"])
def test_another_type_of_auth_method_is_refused_and_left_as_it_was(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str, kind: str
) -> None:
    root.sys.enable_auth_method(kind, path=mount)
    before = root.sys.list_auth_methods()["data"][f"{mount}/"]

    with pytest.raises(SecretStoreConflict) as error:
        secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    assert (
        f"auth/{mount} is a {kind} mount, not kubernetes; the portal never reconfigures it"
        in error.value.message
    )
    assert (error.value.status, error.value.retryable) == (409, False)
    for call in (
        lambda: secret_store.disable_kubernetes_auth(mount),
        lambda: _ensure_role(secret_store, mount),
        lambda: secret_store.read_kubernetes_role(mount=mount, role=ACCOUNT),
        lambda: secret_store.delete_kubernetes_role(mount=mount, role=ACCOUNT),
        lambda: secret_store.list_kubernetes_roles(mount),
    ):
        with pytest.raises(SecretStoreConflict):
            call()

    assert root.sys.list_auth_methods()["data"][f"{mount}/"] == before
    if kind == "approle":  # an approle role of that name would have been written
        assert _role(root, mount, ACCOUNT) is None


def test_a_kubeconfig_without_ca_is_refused_before_anything_is_enabled(
    secret_store: SecretStore, root: hvac.Client, mount: str
) -> None:
    with pytest.raises(SecretStoreError) as error:
        secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=" \n")

    assert "needs the API server's CA certificate" in error.value.message
    assert not error.value.retryable
    assert _auth_type(root, mount) is None


@pytest.mark.parametrize(
    "ca", ["not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]
)
def test_an_unloadable_ca_is_refused(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca: str
) -> None:
    with pytest.raises(ValueError, match="not loadable PEM"):
        secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca)

    assert _auth_type(root, mount) is None


@pytest.mark.parametrize(
    "host",
    [
        "http://10.1.2.3:6443",  # login tokens would travel in clear
        "https://user:pw@10.1.2.3:6443",
        "https://10.1.2.3:6443?x=1",
        "https://10.1.2.3:6443#f",
        "https://:6443",
        "https://10.1.2.3:port",
        "10.1.2.3:6443",
        "https://10.1.2.3 :6443",
        "",
    ],
)
def test_bad_api_server_addresses_are_refused(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str, host: str
) -> None:
    with pytest.raises(ValueError, match="https:// URL"):
        secret_store.ensure_kubernetes_auth(mount=mount, host=host, ca_pem=ca_pem)

    assert _auth_type(root, mount) is None


def test_disable_removes_the_mount_and_its_roles(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str
) -> None:
    assert secret_store.disable_kubernetes_auth(mount) is False  # absent: fine
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    _ensure_role(secret_store, mount)

    assert secret_store.disable_kubernetes_auth(mount) is True

    assert _auth_type(root, mount) is None
    assert mount not in secret_store.auth_mounts()
    assert secret_store.list_kubernetes_roles(mount) == []
    assert secret_store.disable_kubernetes_auth(mount) is False


def test_builtin_token_auth_is_never_disabled(secret_store: SecretStore, root: hvac.Client) -> None:
    with pytest.raises(SecretStoreConflict, match="auth/token is a token mount"):
        secret_store.disable_kubernetes_auth("token")

    assert _auth_type(root, "token") == "token"


# ---- Account roles -----------------------------------------------------------------------------
def test_role_is_written_as_upstream_names_it(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    location = repo_secret_location("repo-12", "readonly")
    secret_store.ensure_policy(
        name=location.policy_name, engine=location.engine, path=location.path
    )

    assert _ensure_role(secret_store, mount) is True

    role = _role(root, mount, ACCOUNT)
    assert role is not None
    assert role["bound_service_account_names"] == [ACCOUNT]
    assert role["bound_service_account_namespaces"] == ["api-ns", "web"]
    assert role["token_policies"] == ["gitlab-repo-12-default-readonly"]
    assert secret_store.read_kubernetes_role(mount=mount, role=ACCOUNT) == role
    assert secret_store.list_kubernetes_roles(mount) == [ACCOUNT]


def test_the_role_policy_reads_the_manifest_repo_deploy_key_only(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer, mount: str, ca_pem: str
) -> None:
    location = repo_secret_location("repo-12", "readonly")
    secret_store.write(engine=location.engine, path=location.path, data={"deploykey": DEPLOY_KEY})
    secret_store.write(engine="git", path="gitlab/repo-13/default/readonly", data={"k": "v"})
    secret_store.ensure_policy(
        name=location.policy_name, engine=location.engine, path=location.path
    )
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    _ensure_role(secret_store, mount)
    role = secret_store.read_kubernetes_role(mount=mount, role=ACCOUNT)
    assert role is not None

    # A token with the role's policies, as a login through the role would get.
    token = openbao_dev.client().auth.token.create(policies=role["token_policies"], ttl="5m")
    account = HvacSecretStore(url=openbao_dev.addr, token=token["auth"]["client_token"])

    assert account.read(engine="git", path=location.path) == {"deploykey": DEPLOY_KEY}
    with pytest.raises(SecretStoreForbidden):
        account.read(engine="git", path="gitlab/repo-13/default/readonly")


def test_unchanged_role_writes_nothing(
    secret_store: SecretStore, openbao_dev: OpenBaoDevServer, mount: str, ca_pem: str
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    _ensure_role(secret_store, mount)
    read_only = _read_only_store(openbao_dev, mount)

    assert _ensure_role(secret_store, mount) is False
    # Order and repetition are no change.
    assert _ensure_role(read_only, mount, namespaces=["web", "api-ns", "web"]) is False
    with pytest.raises(SecretStoreForbidden):  # the read-only store does fail on a change
        _ensure_role(read_only, mount, namespaces=["web"])


@pytest.mark.parametrize(
    "changes",
    [
        {"namespaces": ["web"]},
        {"namespaces": ["web", "api-ns", "extra"]},
        {"service_accounts": [ACCOUNT, "other"]},
        {"policies": ["gitlab-repo-12-default-readonly", "gitlab-repo-12-default-readwrite"]},
        {"policies": []},
    ],
)
def test_changed_role_is_written_exactly(
    secret_store: SecretStore,
    root: hvac.Client,
    mount: str,
    ca_pem: str,
    changes: dict[str, list[str]],
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    _ensure_role(secret_store, mount)

    assert _ensure_role(secret_store, mount, **changes) is True

    role = _role(root, mount, ACCOUNT)
    assert role is not None
    for argument, field in (
        ("namespaces", "bound_service_account_namespaces"),
        ("service_accounts", "bound_service_account_names"),
        ("policies", "token_policies"),
    ):
        if argument in changes:
            assert role[field] == sorted(changes[argument])


def test_a_namespace_selector_is_cleared(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    _ensure_role(secret_store, mount)
    selector = '{"matchLabels": {"any": "thing"}}'
    root.adapter.post(
        f"/v1/auth/{mount}/role/{ACCOUNT}",
        json={"bound_service_account_namespace_selector": selector},
    )

    assert _ensure_role(secret_store, mount) is True

    role = _role(root, mount, ACCOUNT)
    assert role is not None
    assert role["bound_service_account_namespace_selector"] == ""


def test_other_role_settings_are_kept(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    _ensure_role(secret_store, mount)
    root.adapter.post(f"/v1/auth/{mount}/role/{ACCOUNT}", json={"token_ttl": 600})

    assert _ensure_role(secret_store, mount, namespaces=["web"]) is True

    role = _role(root, mount, ACCOUNT)
    assert role is not None
    assert role["token_ttl"] == 600


@pytest.mark.parametrize("role", ["API", "ARGO", "base", "Cluster", "repo", "RUNTIME"])
def test_operator_roles_are_refused(
    secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str, role: str
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    root.adapter.post(
        f"/v1/auth/{mount}/role/{role}",
        json={
            "bound_service_account_names": ["op"],
            "bound_service_account_namespaces": ["nautes"],
        },
    )
    before = _role(root, mount, role)

    with pytest.raises(SecretStoreConflict, match="role of a Nautes operator") as error:
        secret_store.ensure_kubernetes_role(
            mount=mount, role=role, service_accounts=["x"], namespaces=["web"], policies=[]
        )
    assert error.value.status == 409
    with pytest.raises(SecretStoreConflict, match="role of a Nautes operator"):
        secret_store.delete_kubernetes_role(mount=mount, role=role)
    with pytest.raises(SecretStoreConflict, match="role of a Nautes operator"):
        secret_store.read_kubernetes_role(mount=mount, role=role)

    assert _role(root, mount, role) == before
    # Listed, never touched. Vault keeps role names in lower case: "API" and "api" are one role.
    assert role.lower() in secret_store.list_kubernetes_roles(mount)


def test_roles_need_an_enabled_kubernetes_mount(
    secret_store: SecretStore, root: hvac.Client, mount: str
) -> None:
    with pytest.raises(SecretStoreError, match="no Kubernetes auth method") as error:
        _ensure_role(secret_store, mount)

    assert not error.value.retryable
    assert _auth_type(root, mount) is None
    assert secret_store.read_kubernetes_role(mount=mount, role=ACCOUNT) is None
    assert secret_store.delete_kubernetes_role(mount=mount, role=ACCOUNT) is False
    assert secret_store.list_kubernetes_roles(mount) == []


def test_delete_role(secret_store: SecretStore, root: hvac.Client, mount: str, ca_pem: str) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    assert secret_store.list_kubernetes_roles(mount) == []
    _ensure_role(secret_store, mount)

    assert secret_store.delete_kubernetes_role(mount=mount, role=ACCOUNT) is True

    assert _role(root, mount, ACCOUNT) is None
    assert secret_store.read_kubernetes_role(mount=mount, role=ACCOUNT) is None
    assert secret_store.delete_kubernetes_role(mount=mount, role=ACCOUNT) is False


# ---- Names -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mount", ["", "Cluster", "a/b", "..", "a b", "-a", "a-", "a.b", "c*", "x" * 64, "a\n"]
)
def test_bad_mount_names_are_refused(
    secret_store: SecretStore, root: hvac.Client, ca_pem: str, mount: str
) -> None:
    for call in (
        lambda: secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem),
        lambda: secret_store.disable_kubernetes_auth(mount),
        lambda: _ensure_role(secret_store, mount),
        lambda: secret_store.read_kubernetes_role(mount=mount, role=ACCOUNT),
        lambda: secret_store.delete_kubernetes_role(mount=mount, role=ACCOUNT),
        lambda: secret_store.list_kubernetes_roles(mount),
    ):
        with pytest.raises(ValueError, match=r"invalid auth mount .*DNS-1123 label"):
            call()


@pytest.mark.parametrize(
    ("argument", "value", "rule"),
    [
        ("role", "*", "invalid role name"),
        ("role", "a/b", "invalid role name"),
        ("role", "Deploy", "invalid role name"),
        ("role", "../x", "invalid role name"),
        ("service_accounts", ["*"], "invalid service account name"),
        ("service_accounts", ["a/b"], "invalid service account name"),
        ("service_accounts", ["x" * 254], "invalid service account name"),
        ("namespaces", ["*"], "invalid namespace"),
        ("namespaces", ["a.b"], "invalid namespace"),
        ("namespaces", ["x" * 64], "invalid namespace"),
        ("policies", ["root"], "invalid policy name"),
        ("policies", ["a b"], "invalid policy name"),
        ("service_accounts", [], "at least one service account"),
        ("namespaces", [], "at least one service account and one namespace"),
    ],
)
def test_bad_role_input_is_refused(
    secret_store: SecretStore,
    root: hvac.Client,
    mount: str,
    ca_pem: str,
    argument: str,
    value: object,
    rule: str,
) -> None:
    secret_store.ensure_kubernetes_auth(mount=mount, host=HOST, ca_pem=ca_pem)
    arguments: dict[str, object] = {
        "mount": mount,
        "role": ACCOUNT,
        "service_accounts": [ACCOUNT],
        "namespaces": ["web"],
        "policies": [],
        argument: value,
    }

    with pytest.raises(ValueError, match=rule):
        secret_store.ensure_kubernetes_role(**arguments)  # type: ignore[arg-type]

    assert secret_store.list_kubernetes_roles(mount) == []
