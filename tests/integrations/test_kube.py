"""The Kubernetes adapter against the fake API server (tests/fakes/kube_server.py)."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client as kube_client
from kubernetes.config import kube_config

from nautes_portal.integrations import kube
from nautes_portal.integrations.kube import (
    ClusterApi,
    ClusterConflict,
    ClusterError,
    ClusterForbidden,
    ClusterUnauthorized,
    ClusterUnreachable,
    KubeClient,
    KubeconfigInvalid,
    display_server,
)
from tests.fakes.kube_server import FakeKubeServer, TlsMaterial

BELONGS_TO = "resource.nautes.io/belongsto"
OWNER = (BELONGS_TO, "product-7")
ARGO = ("argoproj.io", "v1alpha1")
RBAC = ("rbac.authorization.k8s.io", "v1")
REPO = "ssh://git@gitlab.example.com:2222/demo/deployments.git"
Factory = Callable[..., list[FakeKubeServer]]


@pytest.fixture
def cluster(fake_kube: FakeKubeServer) -> Iterator[KubeClient]:
    with KubeClient.from_kubeconfig(fake_kube.kubeconfig(), timeout=2) as kube_:
        yield kube_


@pytest.fixture
def argocd(fake_kube: FakeKubeServer, cluster: KubeClient) -> KubeClient:
    fake_kube.install_argocd()
    return cluster


def application(name: str = "dr-dev", revision: str = "main") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name},
        "spec": {
            "project": "product-7",
            "source": {"repoURL": REPO, "path": "deploy", "targetRevision": revision},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


def role_binding() -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "product-7"},
        "roleRef": {"apiGroup": RBAC[0], "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"kind": "Group", "name": "demo-group"}],
    }


def writes(server: FakeKubeServer) -> list[str]:
    """The methods of the non-GET requests the server received."""
    return [r.method for r in server.requests if r.method != "GET"]


# ---- Building a client -----------------------------------------------------------
def test_satisfies_the_protocol(cluster: KubeClient) -> None:
    api: ClusterApi = cluster
    assert api.server.startswith("http://127.0.0.1:")


def test_version_and_isolated_configuration(fake_kube: FakeKubeServer) -> None:
    default_host = kube_client.Configuration.get_default_copy().host
    with KubeClient.from_kubeconfig(fake_kube.kubeconfig()) as cluster:
        assert cluster.version() == "v1.27.4+k3s1"
    assert kube_client.Configuration.get_default_copy().host == default_host
    assert fake_kube.token not in repr(cluster)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("key: [unclosed", "not valid YAML"),
        ("- a list", "YAML mapping"),
        ("apiVersion: v1\nkind: Config\n", "no usable context"),
    ],
)
def test_unusable_kubeconfigs_are_refused(text: str, needle: str) -> None:
    with pytest.raises(KubeconfigInvalid) as exc:
        KubeClient.from_kubeconfig(text)
    assert needle in exc.value.message
    assert (exc.value.status, exc.value.reason, exc.value.retryable) == (
        400,
        "KUBECONFIG_INVALID",
        False,
    )


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("user", "exec", {"command": "/bin/sh", "apiVersion": "client.authentication.k8s.io/v1"}),
        ("user", "auth-provider", {"name": "gcp", "config": {"cmd-path": "/bin/sh"}}),
        ("user", "tokenFile", "/etc/passwd"),
        ("user", "client-key", "/etc/ssl/private/key.pem"),
        ("cluster", "certificate-authority", "/etc/hosts"),
    ],
)
def test_kubeconfigs_running_programs_or_reading_files_are_refused(
    fake_kube: FakeKubeServer, section: str, key: str, value: Any
) -> None:
    doc = yaml.safe_load(fake_kube.kubeconfig())
    doc[f"{section}s"][0][section][key] = value
    with pytest.raises(KubeconfigInvalid) as exc:
        KubeClient.from_kubeconfig(yaml.safe_dump(doc))
    assert key in exc.value.message


def test_tls_client_certificate_stays_in_memory(
    fake_kube_factory: Factory, fake_kube_tls: TlsMaterial
) -> None:
    server = fake_kube_factory(tls=fake_kube_tls)[0]
    temp_files_before = dict(kube_config._temp_files)
    with KubeClient.from_kubeconfig(server.kubeconfig(client_certificate=True)) as cluster:
        assert cluster.server.startswith("https://127.0.0.1:")
        assert cluster.namespace_exists("default")
    with KubeClient.from_kubeconfig(server.kubeconfig()) as cluster:  # token over TLS
        assert cluster.version()
    # The kubernetes library writes certificate data to temp files; the adapter never lets it.
    assert kube_config._temp_files == temp_files_before


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_with_an_unknown_ca_is_unreachable_and_not_retryable(
    fake_kube_factory: Factory, fake_kube_tls: TlsMaterial
) -> None:
    server = fake_kube_factory(tls=fake_kube_tls)[0]
    doc = yaml.safe_load(server.kubeconfig())
    del doc["clusters"][0]["cluster"]["certificate-authority-data"]  # system CAs only
    with (
        KubeClient.from_kubeconfig(yaml.safe_dump(doc), timeout=1) as cluster,
        pytest.raises(ClusterUnreachable) as exc,
    ):
        cluster.version()
    assert exc.value.retryable is False and "CA certificate" in exc.value.message
    doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True
    with KubeClient.from_kubeconfig(yaml.safe_dump(doc)) as insecure:
        assert insecure.version()


def test_bad_certificate_data_is_refused(fake_kube_tls: TlsMaterial) -> None:
    text = yaml.safe_dump(
        {
            "clusters": [
                {
                    "name": "c",
                    "cluster": {
                        "server": "https://127.0.0.1:1",
                        "certificate-authority-data": base64.b64encode(b"not a cert").decode(),
                    },
                }
            ],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "x",
        }
    )
    with pytest.raises(KubeconfigInvalid):
        KubeClient.from_kubeconfig(text)


def test_display_server_drops_user_info() -> None:
    assert display_server("https://user:pw@10.0.0.1:6443/") == "https://10.0.0.1:6443/"


# ---- Failures ----------------------------------------------------------------------
def test_dead_cluster_is_unreachable_quickly(
    fake_kube: FakeKubeServer, cluster: KubeClient
) -> None:
    assert cluster.version()
    fake_kube.stop()
    started = time.perf_counter()
    with pytest.raises(ClusterUnreachable) as exc:
        cluster.namespace_exists("default")
    assert time.perf_counter() - started < 1
    error = exc.value
    assert (error.status, error.reason, error.retryable) == (503, "CLUSTER_UNREACHABLE", True)
    assert fake_kube.url in error.message and "connection refused" in error.message


def test_slow_cluster_times_out(fake_kube: FakeKubeServer) -> None:
    fake_kube.latency = 1.5
    with (
        KubeClient.from_kubeconfig(fake_kube.kubeconfig(), timeout=0.3) as cluster,
        pytest.raises(ClusterUnreachable) as exc,
    ):
        cluster.version()
    assert "no answer within 0.3 s" in exc.value.message


def test_wrong_token_is_unauthorized_without_leaking_it(
    fake_kube: FakeKubeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "s3cr3t-wrong-token-value"
    with (
        KubeClient.from_kubeconfig(fake_kube.kubeconfig(token=secret)) as cluster,
        pytest.raises(ClusterUnauthorized) as exc,
    ):
        cluster.version()
    error = exc.value
    assert (error.status, error.reason, error.retryable) == (502, "CLUSTER_UNAUTHORIZED", False)
    assert fake_kube.url in error.message
    for text in (error.message, repr(error), caplog.text, str(error.__cause__)):
        assert secret not in text and fake_kube.token not in text


def test_forbidden_is_translated(fake_kube: FakeKubeServer, cluster: KubeClient) -> None:
    fake_kube.deny("create", "namespaces")
    with pytest.raises(ClusterForbidden) as exc:
        cluster.ensure_namespace("product-7", {}, owner_label=OWNER)
    assert exc.value.reason == "CLUSTER_FORBIDDEN" and 'cannot create resource "namespaces"' in (
        exc.value.message
    )


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [(500, ClusterError, True), (503, ClusterUnreachable, True), (422, ClusterError, False)],
)
def test_server_errors(
    fake_kube: FakeKubeServer,
    cluster: KubeClient,
    status: int,
    error_type: type[ClusterError],
    retryable: bool,
) -> None:
    fake_kube.fail_next("GET", "/api/v1/namespaces/default$", status)
    with pytest.raises(error_type) as exc:
        cluster.namespace_exists("default")
    assert exc.value.retryable is retryable


# ---- Queries -------------------------------------------------------------------------
def test_can_i(fake_kube: FakeKubeServer, cluster: KubeClient) -> None:
    assert cluster.can_i("create", "applications", "argoproj.io", namespace="argocd")
    fake_kube.deny("create", "applications", group="argoproj.io")
    assert not cluster.can_i("create", "applications", "argoproj.io", namespace="argocd")
    assert cluster.can_i("get", "applications", "argoproj.io", namespace="argocd")
    fake_kube.deny("update", "applications/status", group="argoproj.io")
    assert cluster.can_i("update", "applications", "argoproj.io", namespace="argocd")
    assert not cluster.can_i("update", "applications/status", "argoproj.io", namespace="argocd")


def test_crd_and_namespace_existence(fake_kube: FakeKubeServer, cluster: KubeClient) -> None:
    assert not cluster.crd_exists("applications.argoproj.io")
    assert not cluster.namespace_exists("argocd")
    fake_kube.install_argocd()
    assert cluster.crd_exists("applications.argoproj.io")
    assert cluster.namespace_exists("argocd")


def test_get_and_list_objects(
    argocd: KubeClient, monkeypatch: pytest.MonkeyPatch, fake_kube: FakeKubeServer
) -> None:
    for index in range(5):
        owner = OWNER if index % 2 == 0 else (BELONGS_TO, "product-8")
        argocd.ensure_object(
            *ARGO, "applications", "argocd", application(f"a{index}"), owner_label=owner
        )
    monkeypatch.setattr(kube, "_PAGE_SIZE", 2)
    fake_kube.clear_requests()
    everything = argocd.list_objects(*ARGO, "applications", "argocd")
    assert [a["metadata"]["name"] for a in everything] == [f"a{i}" for i in range(5)]
    assert len(fake_kube.requests) == 3  # pages of 2, 2 and 1
    mine = argocd.list_objects(*ARGO, "applications", "argocd", f"{BELONGS_TO}=product-7")
    assert [a["metadata"]["name"] for a in mine] == ["a0", "a2", "a4"]
    namespaces = argocd.list_objects("", "v1", "namespaces", None, "kubernetes.io/metadata.name")
    assert {(n["apiVersion"], n["kind"]) for n in namespaces} == {("v1", "Namespace")}
    assert argocd.get_object(*ARGO, "applications", "argocd", "a1")["spec"]["project"]
    assert argocd.get_object(*ARGO, "applications", "argocd", "nope") is None


def test_read_secret_data_for_vcluster_kubeconfigs(
    fake_kube: FakeKubeServer, cluster: KubeClient
) -> None:
    fake_kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "vc1"}})
    fake_kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "vc-vc1", "namespace": "vc1"},
            "stringData": {"config": "apiVersion: v1\nkind: Config\n"},
        }
    )
    assert cluster.read_secret_data("vc1", "vc-vc1") == {"config": "apiVersion: v1\nkind: Config\n"}
    assert cluster.read_secret_data("vc1", "vc-other") is None


def test_invalid_names_are_programming_errors(cluster: KubeClient) -> None:
    with pytest.raises(ValueError):
        cluster.get_object("", "v1", "secrets", "ns", "../../etc")


# ---- Namespaces ----------------------------------------------------------------------
def test_ensure_namespace_creates_then_is_idempotent(
    fake_kube: FakeKubeServer, cluster: KubeClient
) -> None:
    created = cluster.ensure_namespace("product-7", {"team": "a"}, owner_label=OWNER)
    assert created["metadata"]["labels"][BELONGS_TO] == "product-7"
    fake_kube.clear_requests()
    again = cluster.ensure_namespace("product-7", {"team": "a"}, owner_label=OWNER)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert writes(fake_kube) == []
    relabelled = cluster.ensure_namespace("product-7", {"team": "b"}, owner_label=OWNER)
    assert relabelled["metadata"]["labels"]["team"] == "b"
    assert writes(fake_kube) == ["PUT"]


def test_ensure_namespace_refuses_namespaces_it_does_not_own(
    fake_kube: FakeKubeServer, cluster: KubeClient
) -> None:
    with pytest.raises(ClusterConflict) as unlabelled:
        cluster.ensure_namespace("default", {}, owner_label=OWNER)
    assert (unlabelled.value.status, unlabelled.value.reason) == (409, "RESOURCE_NOT_OWNED")
    cluster.ensure_namespace("product-8", {}, owner_label=(BELONGS_TO, "product-8"))
    with pytest.raises(ClusterConflict) as other:
        cluster.ensure_namespace("product-8", {}, owner_label=OWNER)
    assert "belongs to product-8" in other.value.message
    assert (
        BELONGS_TO
        not in (fake_kube.get(("", "namespaces"), "", "default") or {})["metadata"]["labels"]
    )
    # Without an owner label the portal only adds labels (e.g. to a reserved namespace).
    adopted = cluster.ensure_namespace("default", {"nautes.io/reserved": "true"})
    assert adopted["metadata"]["labels"]["nautes.io/reserved"] == "true"


def test_delete_namespace_only_when_owned(fake_kube: FakeKubeServer, cluster: KubeClient) -> None:
    cluster.ensure_namespace("product-7", {}, owner_label=OWNER)
    fake_kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "theirs"}})
    with pytest.raises(ClusterConflict):
        cluster.delete_namespace("theirs", owner_label=OWNER)
    assert cluster.namespace_exists("theirs")
    assert cluster.delete_namespace("product-7", owner_label=OWNER) is True
    assert not cluster.namespace_exists("product-7")
    assert cluster.delete_namespace("product-7", owner_label=OWNER) is False


def test_ensure_on_a_terminating_namespace_is_a_retryable_conflict(
    fake_kube: FakeKubeServer, cluster: KubeClient
) -> None:
    cluster.ensure_namespace("product-7", {}, owner_label=OWNER)
    # A real cluster keeps a deleted namespace Terminating until its content is gone.
    terminating = {"deletionTimestamp": "2024-01-01T00:00:00Z"}
    fake_kube.update_stored("", "namespaces", "", "product-7", {"metadata": terminating})
    with pytest.raises(ClusterConflict) as exc:
        cluster.ensure_namespace("product-7", {}, owner_label=OWNER)
    assert exc.value.reason == "RESOURCE_TERMINATING" and exc.value.retryable


# ---- Objects ---------------------------------------------------------------------------
def test_ensure_object_is_idempotent(fake_kube: FakeKubeServer, argocd: KubeClient) -> None:
    first = argocd.ensure_object(*ARGO, "applications", "argocd", application(), owner_label=OWNER)
    assert first["metadata"]["labels"] == {BELONGS_TO: "product-7"}
    fake_kube.clear_requests()
    second = argocd.ensure_object(*ARGO, "applications", "argocd", application(), owner_label=OWNER)
    assert second == first
    assert writes(fake_kube) == []


def test_ensure_object_updates_the_spec_and_keeps_status(
    fake_kube: FakeKubeServer, argocd: KubeClient
) -> None:
    argocd.ensure_object(*ARGO, "applications", "argocd", application(), owner_label=OWNER)
    status = {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}
    fake_kube.set_status("argoproj.io", "applications", "argocd", "dr-dev", status)
    fake_kube.update_stored(  # another controller's annotation, not managed by the portal
        "argoproj.io",
        "applications",
        "argocd",
        "dr-dev",
        {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}},
    )
    body = application(revision="v2")
    body["spec"].pop("syncPolicy")
    body["metadata"]["annotations"] = {"nautes.io/runtime": "dr-dev"}
    updated = argocd.ensure_object(*ARGO, "applications", "argocd", body, owner_label=OWNER)
    assert updated["spec"]["source"]["targetRevision"] == "v2"
    assert "syncPolicy" not in updated["spec"]  # spec is replaced, not merged
    assert updated["status"] == status
    assert updated["metadata"]["annotations"] == {
        "argocd.argoproj.io/refresh": "normal",
        "nautes.io/runtime": "dr-dev",
    }
    assert updated["metadata"]["generation"] == 2


def test_ensure_object_refuses_to_take_over(fake_kube: FakeKubeServer, argocd: KubeClient) -> None:
    fake_kube.create(
        application("dr-dev") | {"metadata": {"name": "dr-dev", "namespace": "argocd"}}
    )
    with pytest.raises(ClusterConflict) as exc:
        argocd.ensure_object(*ARGO, "applications", "argocd", application(), owner_label=OWNER)
    assert exc.value.reason == "RESOURCE_NOT_OWNED"
    assert "applications argocd/dr-dev" in exc.value.message
    stored = fake_kube.get(("argoproj.io", "applications"), "argocd", "dr-dev")
    assert stored is not None and "labels" not in stored["metadata"]


def test_ensure_secret_and_service_account_and_role_binding(
    fake_kube: FakeKubeServer, cluster: KubeClient
) -> None:
    cluster.ensure_namespace("product-7", {}, owner_label=OWNER)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "ca"},
        "stringData": {"ca.crt": "-----BEGIN CERTIFICATE-----"},
    }
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dr-dev"}}
    bodies = [
        (("", "v1", "secrets"), secret),
        (("", "v1", "serviceaccounts"), account),
        ((*RBAC, "rolebindings"), role_binding()),
    ]
    first = [
        cluster.ensure_object(*ref, "product-7", body, owner_label=OWNER) for ref, body in bodies
    ]
    second = [
        cluster.ensure_object(*ref, "product-7", body, owner_label=OWNER) for ref, body in bodies
    ]
    versions = [obj["metadata"]["resourceVersion"] for obj in first]
    assert [obj["metadata"]["resourceVersion"] for obj in second] == versions
    assert cluster.read_secret_data("product-7", "ca") == {"ca.crt": "-----BEGIN CERTIFICATE-----"}
    # The server defaults subjects[].apiGroup: the adapter sends a PUT that changes nothing.
    assert second[2]["subjects"][0]["apiGroup"] == RBAC[0]


def test_ensure_object_retries_on_a_concurrent_change(
    fake_kube: FakeKubeServer, argocd: KubeClient
) -> None:
    fake_kube.fail_next("POST", "/applications$", 409)  # "created meanwhile": look again
    argocd.ensure_object(*ARGO, "applications", "argocd", application(), owner_label=OWNER)
    assert writes(fake_kube) == ["POST", "POST"]
    fake_kube.fail_next("PUT", "/applications/dr-dev$", 409)
    updated = argocd.ensure_object(
        *ARGO, "applications", "argocd", application(revision="v3"), owner_label=OWNER
    )
    assert updated["spec"]["source"]["targetRevision"] == "v3"
    fake_kube.fail_next("PUT", "/applications/dr-dev$", 409, times=3)
    with pytest.raises(ClusterConflict) as exc:
        argocd.ensure_object(
            *ARGO, "applications", "argocd", application(revision="v4"), owner_label=OWNER
        )
    assert exc.value.reason == "CLUSTER_CONFLICT" and exc.value.retryable


def test_ensure_object_where_argocd_or_the_namespace_is_missing(cluster: KubeClient) -> None:
    with pytest.raises(ClusterError) as no_crd:
        cluster.ensure_object(*ARGO, "applications", "argocd", application(), owner_label=OWNER)
    assert no_crd.value.reason == "CLUSTER_RESOURCE_MISSING" and not no_crd.value.retryable
    with pytest.raises(ClusterError) as no_namespace:
        cluster.ensure_object(*RBAC, "rolebindings", "nowhere", role_binding(), owner_label=OWNER)
    assert 'namespaces "nowhere" not found' in no_namespace.value.message


def test_delete_object_only_when_owned(fake_kube: FakeKubeServer, argocd: KubeClient) -> None:
    argocd.ensure_object(*ARGO, "applications", "argocd", application(), owner_label=OWNER)
    fake_kube.create(
        application("theirs") | {"metadata": {"name": "theirs", "namespace": "argocd"}}
    )
    with pytest.raises(ClusterConflict):
        argocd.delete_object(*ARGO, "applications", "argocd", "theirs", owner_label=OWNER)
    with pytest.raises(ClusterConflict):
        argocd.delete_object(
            *ARGO, "applications", "argocd", "dr-dev", owner_label=(BELONGS_TO, "product-8")
        )
    assert argocd.delete_object(*ARGO, "applications", "argocd", "dr-dev", owner_label=OWNER)
    assert argocd.get_object(*ARGO, "applications", "argocd", "dr-dev") is None
    assert not argocd.delete_object(*ARGO, "applications", "argocd", "dr-dev", owner_label=OWNER)
    assert argocd.get_object(*ARGO, "applications", "argocd", "theirs") is not None


# ---- Many clusters ---------------------------------------------------------------------
def test_latency_injection_slows_every_call(fake_kube: FakeKubeServer, cluster: KubeClient) -> None:
    cluster.version()
    fake_kube.latency = 0.05
    started = time.perf_counter()
    cluster.ensure_namespace("product-7", {}, owner_label=OWNER)  # GET 404 + POST
    assert time.perf_counter() - started >= 0.1


def test_five_clusters_are_independent(fake_kube_factory: Factory) -> None:
    servers = fake_kube_factory(5, argocd_installed=True)
    clients = [KubeClient.from_kubeconfig(server.kubeconfig()) for server in servers]
    try:
        for index, cluster in enumerate(clients):
            cluster.ensure_object(
                *ARGO, "applications", "argocd", application(f"app-{index}"), owner_label=OWNER
            )
        for index, cluster in enumerate(clients):
            names = [
                a["metadata"]["name"] for a in cluster.list_objects(*ARGO, "applications", "argocd")
            ]
            assert names == [f"app-{index}"]
    finally:
        for cluster in clients:
            cluster.close()
