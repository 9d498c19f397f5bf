"""The reconciler of a runtime cluster (#14): the index is the desired state, drift is repaired,
nothing it does not own is touched, an unchanged cluster costs no write, members get access."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from kubernetes import client as k8s
from kubernetes.config import new_client_from_config_dict

from deployments.models import ClusterReconcile, RuntimeStatus
from deployments.reconciler import argocd_rbac, reconcile_start
from deployments.reconciler.objects import body_hash
from deployments.reconciler.vault_access import wanted_roles
from nautes_portal.operations.models import Operation
from products.models import DeploymentRuntime, Environment, Product
from tests.deployments import test_deployer
from tests.deployments.test_deployer import (
    ARGO,
    OWNER,
    PROJECTS,
    RBAC,
    add_environment,
    add_repo,
    add_runtime,
    dr_dev_index,
    make_product,
    owned,
    register_cluster,
    store_deploy_key,
)
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db
cluster_dev = test_deployer.cluster_dev  # the fixture, shared

WRITES = ("POST", "PUT", "PATCH", "DELETE")
MANAGED = "app.kubernetes.io/managed-by"


def reconcile(cluster: str = "cluster-dev") -> Operation:
    operation = reconcile_start(cluster_name=cluster, reason="test", inline=True)
    assert operation.status == "succeeded", operation.error
    return operation


def writes(server: FakeKubeServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests if r.method in WRITES]


def status_of(product: Product, runtime: str) -> RuntimeStatus:
    return RuntimeStatus.objects.get(product=product, runtime_name=runtime)


def kubectl(server: FakeKubeServer) -> k8s.ApiClient:
    """Someone with the cluster's kubeconfig, outside the portal."""
    import yaml

    return new_client_from_config_dict(yaml.safe_load(server.kubeconfig()))


# ---- Desired state applied -------------------------------------------------------
def test_a_pass_applies_the_index_and_records_it_per_runtime(
    cluster_dev: FakeKubeServer, secret_store: Any
) -> None:
    product = dr_dev_index()
    product.commit_sha = "a" * 40
    product.save()
    store_deploy_key(secret_store)
    operation = reconcile()
    found = owned(cluster_dev)
    for key in (
        ("namespaces", "", "product-12"),
        ("namespaces", "", "dr-dev"),
        ("rolebindings", "product-12", "product-12"),
        ("rolebindings", "dr-dev", "product-12"),  # the members' RoleBinding, as HNC gives
        ("serviceaccounts", "dr-dev", "dr-dev"),
        ("rolebindings", "dr-dev", "dr-dev"),
        ("appprojects", "argocd", "product-12"),
        ("secrets", "argocd", "repo-34"),
        ("applications", "argocd", "dr-dev"),
    ):
        assert key in found, key
        labels = found[key]["metadata"]["labels"]
        assert labels[OWNER] == "product-12" and labels[MANAGED] == "nautes-portal"
    members = found[("rolebindings", "dr-dev", "product-12")]
    assert (
        members["subjects"] == [{"apiGroup": RBAC, "kind": "Group", "name": "nautes-labs"}]
        and members["roleRef"]["name"] == "admin"
    )
    row = status_of(product, "dr-dev")
    assert (row.pass_result, row.applied_commit, row.deployed_cluster) == (
        "applied",
        "a" * 40,
        "cluster-dev",
    )
    assert ClusterReconcile.objects.get(cluster="cluster-dev").last_operation == operation.pk
    assert [s.status for s in operation.steps.order_by("position")] == ["succeeded"] * 3


def test_a_second_pass_with_nothing_changed_writes_nothing(
    cluster_dev: FakeKubeServer, secret_store: Any
) -> None:
    product = dr_dev_index()
    store_deploy_key(secret_store)
    reconcile()
    cluster_dev.clear_requests()
    reconcile()
    assert writes(cluster_dev) == []
    # Observation is one list per kind, never a read per object.
    reads = [r for r in cluster_dev.requests if r.method == "GET"]
    assert len(reads) <= 8, [r.path for r in reads]
    assert status_of(product, "dr-dev").pass_result == "unchanged"


def test_hand_deleted_objects_are_restored_by_the_periodic_pass(
    cluster_dev: FakeKubeServer, secret_store: Any, settings: Any
) -> None:
    from deployments.reconciler.triggers import reconcile_due_clusters

    dr_dev_index()
    reconcile()
    api = kubectl(cluster_dev)
    custom = k8s.CustomObjectsApi(api)
    custom.delete_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "appprojects", "product-12"
    )
    custom.delete_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "dr-dev"
    )
    k8s.RbacAuthorizationV1Api(api).delete_namespaced_role_binding("dr-dev", "dr-dev")
    assert cluster_dev.get(PROJECTS, "argocd", "product-12") is None
    # Five minutes later (the interval, plus at most a fifth of it as jitter):
    settings.NAUTES_RECONCILE_INTERVAL = 60
    earlier = timezone.now() - dt.timedelta(seconds=80)
    ClusterReconcile.objects.filter(cluster="cluster-dev").update(last_pass_at=earlier)
    Operation.objects.filter(kind="cluster.reconcile").update(created_at=earlier)
    assert reconcile_due_clusters() == {"queued": 1}
    pending = Operation.objects.filter(kind="cluster.reconcile", status="pending").get()
    from nautes_portal.operations import operation_run

    assert operation_run(pending.pk).status == "succeeded"
    assert cluster_dev.get(PROJECTS, "argocd", "product-12") is not None
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is not None
    assert cluster_dev.get((RBAC, "rolebindings"), "dr-dev", "dr-dev") is not None
    # Not due again right after a pass.
    assert reconcile_due_clusters() == {"queued": 0}


def test_a_field_changed_by_hand_is_put_back(cluster_dev: FakeKubeServer) -> None:
    dr_dev_index()
    reconcile()
    cluster_dev.update_stored(
        "argoproj.io",
        "applications",
        "argocd",
        "dr-dev",
        {"spec": {"source": {"targetRevision": "evil-branch"}}},
    )
    cluster_dev.clear_requests()
    reconcile()
    app = cluster_dev.get(ARGO, "argocd", "dr-dev")
    assert app is not None and app["spec"]["source"]["targetRevision"] == "HEAD"
    assert writes(cluster_dev) == [
        "PUT /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/dr-dev"
    ]


def test_the_hash_annotation_is_the_desired_bodys(cluster_dev: FakeKubeServer) -> None:
    dr_dev_index()
    reconcile()
    app = cluster_dev.get(ARGO, "argocd", "dr-dev")
    assert app is not None
    annotations = app["metadata"]["annotations"]
    body = {k: v for k, v in app.items() if k in ("apiVersion", "kind", "spec")}
    body["metadata"] = {
        "name": "dr-dev",
        "namespace": "argocd",
        "labels": {OWNER: "product-12", MANAGED: "nautes-portal"},
    }
    assert annotations["portal.nautes.io/applied-hash"] == body_hash(body)
    # The hash of objects applied before body_hash moved to orjson: unchanged, so an upgrade
    # rewrites nothing.
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    assert body_hash(body) == hashlib.sha256(text.encode()).hexdigest()[:32]


# ---- Removal and moves -----------------------------------------------------------------
def test_a_runtime_gone_from_the_index_is_removed_in_order(cluster_dev: FakeKubeServer) -> None:
    product = dr_dev_index()
    add_runtime(product, "dr-two", namespaces=["dr-two"])
    reconcile()
    assert cluster_dev.get(("", "namespaces"), "", "dr-two") is not None
    DeploymentRuntime.objects.filter(product=product, name="dr-two").delete()
    cluster_dev.clear_requests()
    reconcile()
    assert cluster_dev.get(ARGO, "argocd", "dr-two") is None
    assert cluster_dev.get(("", "namespaces"), "", "dr-two") is None
    # dr-dev and the product's objects stay.
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is not None
    assert cluster_dev.get(PROJECTS, "argocd", "product-12") is not None
    deletes = [w for w in writes(cluster_dev) if w.startswith("DELETE")]
    assert deletes[0].endswith("/applications/dr-two") and deletes[-1].endswith(
        "/namespaces/dr-two"
    )
    assert not RuntimeStatus.objects.filter(product=product, runtime_name="dr-two").exists()

    # The last runtime gone: the AppProject, RoleBinding and product namespace go too.
    DeploymentRuntime.objects.filter(product=product).delete()
    reconcile()
    assert owned(cluster_dev) == {}


def test_an_environment_moved_to_another_cluster_moves_the_runtime(
    cluster_dev: FakeKubeServer, secret_store: Any, fake_kube_factory: Any
) -> None:
    (other,) = fake_kube_factory(argocd_installed=True)
    register_cluster(secret_store, "cluster-two", other)
    product = dr_dev_index()
    reconcile()
    Environment.objects.filter(product=product, name="env-dev").update(cluster="cluster-two")
    reconcile("cluster-two")
    reconcile("cluster-dev")
    assert other.get(ARGO, "argocd", "dr-dev") is not None
    assert owned(cluster_dev) == {}
    assert status_of(product, "dr-dev").deployed_cluster == "cluster-two"


# ---- What is not the portal's --------------------------------------------------------
def test_an_unlabelled_namespace_of_the_same_name_is_never_touched_and_is_reported(
    cluster_dev: FakeKubeServer,
) -> None:
    cluster_dev.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "dr-dev", "labels": {"team": "x"}},
        }
    )
    product = dr_dev_index()
    cluster_dev.clear_requests()
    reconcile()
    namespace = cluster_dev.get(("", "namespaces"), "", "dr-dev")
    assert namespace is not None and OWNER not in namespace["metadata"]["labels"]
    assert not [w for w in writes(cluster_dev) if "/namespaces/dr-dev" in w]
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is None
    row = status_of(product, "dr-dev")
    assert row.pass_result == "conflict"
    assert "namespace dr-dev exists and belongs to someone else" in row.pass_message
    # A second pass leaves it alone too (and the conflict stays reported).
    reconcile()
    assert status_of(product, "dr-dev").pass_result == "conflict"


def test_objects_without_the_portals_label_are_never_pruned(cluster_dev: FakeKubeServer) -> None:
    """Upstream's runtime operator labels its objects with the owner label only: a pass must
    not delete them, even when no runtime of the index wants them."""
    cluster_dev.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "legacy", "labels": {OWNER: "product-12"}},
        }
    )
    dr_dev_index()
    reconcile()
    assert cluster_dev.get(("", "namespaces"), "", "legacy") is not None


def test_a_foreign_application_of_the_same_name_is_a_conflict(cluster_dev: FakeKubeServer) -> None:
    cluster_dev.create(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "dr-dev", "namespace": "argocd", "labels": {OWNER: "product-99"}},
            "spec": {"project": "product-99"},
        }
    )
    product = dr_dev_index()
    reconcile()
    app = cluster_dev.get(ARGO, "argocd", "dr-dev")
    assert app is not None and app["spec"] == {"project": "product-99"}
    row = status_of(product, "dr-dev")
    assert row.pass_result == "conflict" and "product-99" not in row.pass_message


def test_an_older_product_cannot_take_a_newer_products_deployed_application(
    cluster_dev: FakeKubeServer,
) -> None:
    """The first product by creation wins a new name, never one already deployed."""
    older = make_product("older", group_id=5)
    newer = make_product("newer", group_id=20)
    add_environment(newer, "env-dev", "cluster-dev")
    add_repo(newer, 40, "app", url="git@gitlab.example.com:newer/app.git")
    add_runtime(newer, "web", repo="repo-40", projects=[])
    reconcile()
    assert older.pk < newer.pk
    add_environment(older, "env-dev", "cluster-dev")
    add_repo(older, 41, "app", url="git@gitlab.example.com:older/app.git")
    add_runtime(older, "web", repo="repo-41", projects=[], namespaces=["older-web"])
    reconcile()
    app = cluster_dev.get(ARGO, "argocd", "web")
    assert app is not None and app["metadata"]["labels"][OWNER] == "product-20"
    assert status_of(older, "web").pass_result == "conflict"


def test_a_runtime_whose_file_breaks_a_rule_keeps_what_runs(cluster_dev: FakeKubeServer) -> None:
    product = dr_dev_index()
    reconcile()
    DeploymentRuntime.objects.filter(product=product, name="dr-dev").update(
        problems=["spec.destination.environment: a broken push"]
    )
    reconcile()
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is not None
    assert cluster_dev.get(("", "namespaces"), "", "dr-dev") is not None
    row = status_of(product, "dr-dev")
    assert row.pass_result == "refused" and "breaks rules" in row.pass_message


def test_a_forbidden_namespace_from_the_index_is_refused(cluster_dev: FakeKubeServer) -> None:
    product = dr_dev_index()
    add_runtime(product, "sneaky", namespaces=["kube-system"])
    reconcile()
    assert cluster_dev.get(ARGO, "argocd", "sneaky") is None
    row = status_of(product, "sneaky")
    assert row.pass_result == "refused" and "kube-system" in row.pass_message
    project = cluster_dev.get(PROJECTS, "argocd", "product-12")
    assert project is not None
    destinations = {d["namespace"] for d in project["spec"]["destinations"]}
    assert "kube-system" not in destinations


def test_no_binding_to_cluster_admin_and_no_cluster_binding_is_written(
    cluster_dev: FakeKubeServer,
) -> None:
    dr_dev_index()
    reconcile()
    for binding in cluster_dev.objects(RBAC, "rolebindings"):
        assert binding["roleRef"]["name"] == "admin"
    assert not [r for r in cluster_dev.requests if "clusterrolebindings" in r.path]


# ---- Argo CD RBAC ------------------------------------------------------------------
def test_the_members_block_in_argocd_rbac_cm_keeps_other_lines(cluster_dev: FakeKubeServer) -> None:
    operator_lines = "p, role:ops, applications, get, */*, allow\ng, ops-team, role:ops\n"
    cluster_dev.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-rbac-cm", "namespace": "argocd"},
            "data": {"policy.csv": operator_lines, "policy.default": "role:readonly"},
        }
    )
    product = dr_dev_index()
    reconcile()
    data = cluster_dev.get(("", "configmaps"), "argocd", "argocd-rbac-cm")["data"]  # type: ignore[index]
    policy = data["policy.csv"]
    assert policy.startswith(operator_lines)
    assert data["policy.default"] == "role:readonly"
    for line in (
        "p, role:nautes-labs, projects, get, product-12, allow",
        "p, role:nautes-labs, applications, *, product-12/*, allow",
        "p, role:nautes-labs, exec, *, product-12/*, allow",
        "p, role:nautes-labs, logs, *, product-12/*, allow",
        "g, nautes-labs, role:nautes-labs",
    ):
        assert line in policy.splitlines()
    cluster_dev.clear_requests()
    reconcile()
    assert writes(cluster_dev) == []
    # The product's last runtime gone: its lines go, the operator's stay.
    DeploymentRuntime.objects.filter(product=product).delete()
    reconcile()
    data = cluster_dev.get(("", "configmaps"), "argocd", "argocd-rbac-cm")["data"]  # type: ignore[index]
    assert data["policy.csv"] == operator_lines


def test_a_product_named_like_a_built_in_role_gets_no_argocd_lines() -> None:
    assert argocd_rbac.block([("admin", "product-3")]) == []
    assert argocd_rbac.refusal("Admin") is not None
    assert argocd_rbac.block([("shop", "product-4")])[1:-1] == argocd_rbac.product_lines(
        "shop", "product-4"
    )


def test_a_cut_block_is_not_rewritten() -> None:
    with pytest.raises(ValueError, match="without"):
        argocd_rbac.replace_block(f"{argocd_rbac.BEGIN}\ng, x, role:admin\n", [])


# ---- Vault Kubernetes auth (real OpenBao) ----------------------------------------------
@pytest.fixture
def tls_cluster(secret_store: Any, fake_kube_factory: Any, fake_kube_tls: Any) -> Iterator[str]:
    """A cluster served over TLS (Vault needs its CA); the OpenBao server is shared by the
    session, so each test gets its own mount name and removes it."""
    (server,) = fake_kube_factory(argocd_installed=True, tls=fake_kube_tls)
    name = f"tls-{uuid.uuid4().hex[:8]}"
    register_cluster(secret_store, name, server)
    yield name
    if name in secret_store.auth_mounts():
        secret_store._client.sys.disable_auth_method(path=name)


def test_vault_auth_mount_and_account_role_follow_the_runtimes(
    tls_cluster: str, secret_store: Any
) -> None:
    product = dr_dev_index(tls_cluster)
    add_runtime(product, "dr-two", namespaces=["dr-two", "dr-two-b"], account="deployer")
    store_deploy_key(secret_store)
    operation = reconcile(tls_cluster)
    assert secret_store.auth_mounts().get(tls_cluster) == "kubernetes"
    role = secret_store.read_kubernetes_role(mount=tls_cluster, role="dr-dev")
    assert role is not None
    assert role["bound_service_account_names"] == ["dr-dev"]
    assert role["bound_service_account_namespaces"] == ["dr-dev"]
    assert role["token_policies"] == ["gitlab-repo-34-default-readonly"]
    deployer = secret_store.read_kubernetes_role(mount=tls_cluster, role="deployer")
    assert deployer is not None
    assert deployer["bound_service_account_namespaces"] == ["dr-two", "dr-two-b"]
    assert "2 runtime account role(s)" in operation.steps.get(name="vault").detail
    # Nothing changed: no Vault request at all between full checks...
    again = reconcile(tls_cluster)
    assert "2 runtime account role(s) unchanged" in again.steps.get(name="vault").detail
    # ...and a full check reads Vault back, writes nothing, and repairs what was removed.
    secret_store.delete_kubernetes_role(mount=tls_cluster, role="deployer")
    ClusterReconcile.objects.filter(cluster=tls_cluster).update(vault_checked_at=None)
    checked = reconcile(tls_cluster)
    assert "1 written, 0 removed" in checked.steps.get(name="vault").detail
    assert secret_store.read_kubernetes_role(mount=tls_cluster, role="deployer") is not None

    DeploymentRuntime.objects.filter(product=product, name="dr-two").delete()
    reconcile(tls_cluster)
    assert secret_store.read_kubernetes_role(mount=tls_cluster, role="deployer") is None
    assert secret_store.read_kubernetes_role(mount=tls_cluster, role="dr-dev") is not None
    DeploymentRuntime.objects.filter(product=product).delete()
    reconcile(tls_cluster)
    assert tls_cluster not in secret_store.auth_mounts()


def test_an_unverified_repository_gets_no_deployment_and_no_vault_role(
    tls_cluster: str, secret_store: Any
) -> None:
    """Argo CD finds credentials by URL: a runtime whose repository Git did not confirm as
    its product's own is not applied at all (no Application, no key, no Vault role)."""
    from products.models import CodeRepo

    product = dr_dev_index(tls_cluster)
    store_deploy_key(secret_store)
    CodeRepo.objects.filter(product=product).update(git_project_id=None)
    reconcile(tls_cluster)
    assert secret_store.read_kubernetes_role(mount=tls_cluster, role="dr-dev") is None
    row = status_of(product, "dr-dev")
    assert row.pass_result == "refused" and "repo-34 is not verified" in row.pass_message


def test_a_pushed_url_naming_another_repository_is_never_handed_to_argocd(
    cluster_dev: FakeKubeServer,
) -> None:
    """A CodeRepo's `spec.url` comes from Git: a verified repository whose file names
    another product's repository URL gets the URL the Git host gave for its own project."""
    from products.models import CodeRepo

    product = dr_dev_index()
    CodeRepo.objects.filter(product=product).update(
        url="git@gitlab.example.com:victim/secret-manifests.git"
    )
    reconcile()
    app = cluster_dev.get(ARGO, "argocd", "dr-dev")
    assert app is not None
    assert app["spec"]["source"]["repoURL"] == "git@gitlab.example.com:nautes-labs/api-server.git"
    project = cluster_dev.get(PROJECTS, "argocd", "product-12")
    assert project is not None and "victim" not in str(project["spec"]["sourceRepos"])
    # The same URL as the host's (here its HTTP one) is used as written.
    CodeRepo.objects.filter(product=product).update(
        http_url="https://gitlab.example.com/nautes-labs/api-server.git",
        url="https://gitlab.example.com/nautes-labs/api-server.git",
    )
    reconcile()
    app = cluster_dev.get(ARGO, "argocd", "dr-dev")
    assert app is not None and app["spec"]["source"]["repoURL"].startswith("https://")


def test_a_mount_the_portal_did_not_create_is_never_disabled(
    tls_cluster: str, secret_store: Any
) -> None:
    secret_store._client.sys.enable_auth_method("kubernetes", path=tls_cluster)
    product = dr_dev_index(tls_cluster)
    reconcile(tls_cluster)
    assert secret_store.read_kubernetes_role(mount=tls_cluster, role="dr-dev") is not None
    DeploymentRuntime.objects.filter(product=product).delete()
    reconcile(tls_cluster)
    assert secret_store.auth_mounts().get(tls_cluster) == "kubernetes"
    assert secret_store.read_kubernetes_role(mount=tls_cluster, role="dr-dev") is None


def test_an_account_named_like_an_operator_role_gets_no_vault_role(
    tls_cluster: str, secret_store: Any
) -> None:
    product = dr_dev_index(tls_cluster)
    add_runtime(product, "dr-argo", namespaces=["dr-argo"], account="argo")
    operation = reconcile(tls_cluster)
    assert "account argo of product nautes-labs gets no Vault role" in (
        operation.steps.get(name="vault").detail
    )
    assert secret_store.read_kubernetes_role(mount=tls_cluster, role="dr-dev") is not None


def test_a_body_the_cluster_refuses_stops_only_its_runtime(cluster_dev: FakeKubeServer) -> None:
    """An account name pushed to Git that Kubernetes refuses (the index checks it as text
    only) must not stop the pass for every other runtime and product on the cluster."""
    product = dr_dev_index()
    add_runtime(product, "dr-bad", namespaces=["dr-bad"], account="Bad_Account")
    operation = reconcile()
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is not None
    row = status_of(product, "dr-bad")
    assert row.pass_result == "refused" and "Bad_Account" in row.pass_message
    assert cluster_dev.get(ARGO, "argocd", "dr-bad") is None
    assert operation.status == "succeeded"
    # Vault refuses such a name by the same rule, without failing the step for the others.
    roles, refused = wanted_roles(
        {
            "products": [
                {
                    "name": "p",
                    "accounts": {
                        "ok": {"namespaces": ["ok"], "repos": []},
                        "Bad_Account": {"namespaces": ["bad"], "repos": []},
                    },
                }
            ]
        }
    )
    assert list(roles) == ["ok"]
    assert refused and "account Bad_Account of product p gets no Vault role" in refused[0]


# ---- On demand: the cluster page and the API ---------------------------------------------
def test_a_pass_on_demand_needs_the_right_to_manage_clusters(
    cluster_dev: FakeKubeServer,
    admin_api: Any,
    alice_api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    dr_dev_index()
    url = "/api/v1/clusters/cluster-dev/reconcile"
    assert alice_api.post(url).status_code == 403
    assert alice_api.get(url).status_code == 403
    assert not Operation.objects.filter(kind="cluster.reconcile").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(url)
    assert response.status_code == 202 and response.json()["kind"] == "cluster.reconcile"
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is not None
    reply = admin_api.get(url).json()
    assert reply["last_result"] == "ok" and reply["writes"] > 0
    assert admin_api.post("/api/v1/clusters/nope/reconcile").status_code == 404
    from nautes_portal.audit import AuditEvent

    assert AuditEvent.objects.filter(kind="Cluster", name="cluster-dev").exists()


def test_the_cluster_page_shows_the_last_pass(
    cluster_dev: FakeKubeServer, admin_user: Any, alice: Any
) -> None:
    from django.test import Client

    dr_dev_index()
    reconcile()
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get("/clusters/cluster-dev/")
    assert 'hx-get="/clusters/cluster-dev/reconcile"' in page.content.decode()
    fragment = admin.get("/clusters/cluster-dev/reconcile").content.decode()
    assert 'data-reconcile="ok"' in fragment and "Reconcile now" in fragment
    user = Client()
    user.force_login(alice)
    assert user.post("/clusters/cluster-dev/reconcile/run").status_code == 403


def test_a_deleted_product_leaves_nothing_on_its_clusters(
    cluster_dev: FakeKubeServer, django_capture_on_commit_callbacks: Any
) -> None:
    product = dr_dev_index()
    reconcile()
    assert owned(cluster_dev)
    with django_capture_on_commit_callbacks(execute=True):
        product.delete()
    passes = Operation.objects.filter(kind="cluster.reconcile", target="cluster-dev")
    assert passes.count() == 2 and passes.order_by("pk").last().status == "succeeded"
    assert owned(cluster_dev) == {}


def test_a_write_from_a_stale_listing_reads_again_instead_of_overwriting(
    cluster_dev: FakeKubeServer, secret_store: Any
) -> None:
    """The pass writes with the resourceVersion it listed: when someone changed the object
    since, the API server answers 409 and the adapter reads it again, keeps the other writer's
    fields and applies the portal's."""
    from clusters.health import client_for
    from clusters.models import Cluster

    dr_dev_index()
    reconcile()
    listed = cluster_dev.get(ARGO, "argocd", "dr-dev")
    assert listed is not None
    cluster_dev.update_stored(
        "argoproj.io",
        "applications",
        "argocd",
        "dr-dev",
        {"metadata": {"annotations": {"someone/else": "was here"}}},
    )
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "dr-dev", "namespace": "argocd"},
        "spec": {**listed["spec"], "source": {**listed["spec"]["source"], "path": "moved"}},
    }
    cluster_dev.clear_requests()
    with client_for(Cluster.objects.get(name="cluster-dev")) as client:
        client.apply_owned(
            "argoproj.io",
            "v1alpha1",
            "applications",
            "argocd",
            body,
            owner_label=(OWNER, "product-12"),
            current=listed,
        )
    statuses = [(r.method, r.status) for r in cluster_dev.requests]
    assert statuses[0] == ("PUT", 409) and statuses[-1] == ("PUT", 200), statuses
    app = cluster_dev.get(ARGO, "argocd", "dr-dev")
    assert app is not None and app["spec"]["source"]["path"] == "moved"
    assert app["metadata"]["annotations"]["someone/else"] == "was here"


def test_a_new_name_two_products_claim_goes_to_neither(cluster_dev: FakeKubeServer) -> None:
    """Sound runtimes of two products (two pushes racing ahead of the index's rules) name the
    same new namespace, or the same Application: neither gets it, whichever is older."""
    product = dr_dev_index()
    add_runtime(product, "dr-squat", namespaces=["shop"], path="m/squat")
    other = make_product("other-team", group_id=7)
    add_environment(other, "env-other", "cluster-dev")
    add_repo(other, 70, "app", url="git@gitlab.example.com:other-team/app.git")
    add_runtime(other, "shop", environment="env-other", namespaces=["shop"], repo="repo-70")
    add_runtime(other, "dr-dev", environment="env-other", namespaces=["o-dev"], repo="repo-70")
    reconcile()
    assert cluster_dev.get(("", "namespaces"), "", "shop") is None
    for owner, runtime in ((product, "dr-squat"), (other, "shop")):
        row = status_of(owner, runtime)
        assert row.pass_result == "conflict" and "namespace shop is used by" in row.pass_message
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is None
    assert "also a runtime of another product" in status_of(product, "dr-dev").pass_message


def test_a_runtime_whose_manifest_repository_is_not_its_products_is_refused(
    cluster_dev: FakeKubeServer,
) -> None:
    product = dr_dev_index()
    add_runtime(product, "dr-norepo", repo="repo-999", namespaces=["norepo"])
    reconcile()
    assert cluster_dev.get(ARGO, "argocd", "dr-norepo") is None
    row = status_of(product, "dr-norepo")
    assert row.pass_result == "refused" and "repo-999 is not a code repository" in row.pass_message
    assert status_of(product, "dr-dev").pass_result == "applied"


def test_a_dead_cluster_is_not_retried_every_minute(secret_store: Any, settings: Any) -> None:
    """The periodic pass of a cluster that does not answer fails; the next one comes after the
    interval, not at the next minute's schedule."""
    from clusters.models import Cluster
    from deployments.reconciler.triggers import reconcile_due_clusters

    Cluster.objects.create(
        name="cluster-dead", api_server="https://127.0.0.1:1", cluster_type="physical",
        usage="worker", worker_type="deployment",
    )  # fmt: skip
    settings.NAUTES_RECONCILE_INTERVAL = 300
    assert reconcile_due_clusters() == {"queued": 1}
    from nautes_portal.operations import operation_run

    failed = operation_run(Operation.objects.get(target="cluster-dead").pk)
    assert failed.status == "failed"
    assert reconcile_due_clusters() == {"queued": 0}
    Operation.objects.filter(pk=failed.pk).update(
        created_at=failed.created_at - dt.timedelta(seconds=400)
    )
    assert reconcile_due_clusters() == {"queued": 1}
