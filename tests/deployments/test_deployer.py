"""Deploying runtimes into a fake runtime cluster through reconcile passes (#14): the exact
objects, idempotence, removal, moves, and what is never taken over."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from clusters.models import Cluster
from deployments.deployer import RUNTIME_DEPLOY, RUNTIME_REMOVE
from deployments.models import RuntimeStatus
from deployments.reconciler import reconcile_start
from deployments.services import runtime_reapply, runtime_sync_now
from nautes_portal.errors import Conflict
from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.integrations.vault import cluster_kubeconfig_location, repo_secret_location
from nautes_portal.operations import operation_create, operation_run
from nautes_portal.operations.models import Operation, OperationStep
from products.models import CodeRepo, DeploymentRuntime, Environment, Product, Project
from products.tasks import sync_all
from tests.crd import validate_against_crd
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

ARGOCD_CRDS = Path(__file__).resolve().parents[1] / "data" / "argocd-crds"
ARGO = ("argoproj.io", "applications")
PROJECTS = ("argoproj.io", "appprojects")
RBAC = "rbac.authorization.k8s.io"
OWNER = "resource.nautes.io/belongsto"
SSH_URL = "git@gitlab.example.com:nautes-labs/api-server.git"
DEPLOY_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-deploy-key-7c1e\n-----END OPENSSH PRIVATE KEY-----\n"
)


# ---- Helpers shared by the deployment tests ----------------------------------------
def register_cluster(
    secret_store: Any, name: str, server: FakeKubeServer, **fields: Any
) -> Cluster:
    """A deployment worker cluster in the index, its kubeconfig in Vault (as registration does)."""
    location = cluster_kubeconfig_location(name)
    secret_store.write(
        engine=location.engine, path=location.path, data={"kubeconfig": server.kubeconfig()}
    )
    defaults = {
        "api_server": server.url,
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "path": f"nautes/overlays/production/clusters/{name}.yaml",
        "components_list": {"deployment": {"name": "argocd", "namespace": "argocd"}},
    }
    return Cluster.objects.create(name=name, **{**defaults, **fields})


def make_product(name: str = "nautes-labs", group_id: int = 12) -> Product:
    return Product.objects.create(name=name, group_id=group_id)


def add_environment(product: Product, name: str, cluster: str) -> Environment:
    return Environment.objects.create(
        product=product, name=name, cluster=cluster, env_type="development", path=f"envs/{name}"
    )


def add_repo(
    product: Product, pid: int, repo_name: str, url: str = SSH_URL, *, verified: bool = True
) -> CodeRepo:
    """A code repository row; `verified` as a save or a sync leaves it when Git holds
    `<product>/<repo_name>` with id `pid` (else as a sync leaves one that claims `pid`)."""
    return CodeRepo.objects.create(
        product=product,
        name=f"repo-{pid}",
        git_project_id=pid if verified else None,
        repo_name=repo_name,
        path=f"code-repos/repo-{pid}/repo-{pid}.yaml",
        ssh_url=url,
        http_url=url,
        deployment_runtime=True,
    )


def add_runtime(
    product: Product,
    name: str,
    *,
    environment: str = "env-dev",
    repo: str = "repo-34",
    namespaces: list[str] | None = None,
    projects: list[str] | None = None,
    path: str = "manifests/development",
    account: str = "",
) -> DeploymentRuntime:
    return DeploymentRuntime.objects.create(
        product=product,
        name=name,
        path=f"runtimes/{name}.yaml",
        projects_ref=projects if projects is not None else ["api-server"],
        manifest_code_repo=repo,
        manifest_target_revision="HEAD",
        manifest_path=path,
        destination_environment=environment,
        destination_namespaces=namespaces if namespaces is not None else [name],
        account=account,
    )


def dr_dev_index(cluster: str = "cluster-dev") -> Product:
    """The §4.4 example: env-dev on cluster-dev, project api-server, repo-34, runtime dr-dev."""
    product = make_product()
    add_environment(product, "env-dev", cluster)
    Project.objects.create(product=product, name="api-server", path="projects/api-server")
    add_repo(product, 34, "api-server")
    add_runtime(product, "dr-dev")
    return product


# What deploying dr-dev creates, keyed as `owned` keys them.
DR_DEV_OBJECTS = {
    ("namespaces", "", "product-12"),
    ("namespaces", "", "dr-dev"),
    ("rolebindings", "product-12", "product-12"),
    ("rolebindings", "dr-dev", "product-12"),  # the members' RoleBinding (#14)
    ("serviceaccounts", "dr-dev", "dr-dev"),
    ("rolebindings", "dr-dev", "dr-dev"),
    ("appprojects", "argocd", "product-12"),
    ("secrets", "argocd", "repo-34"),
    ("applications", "argocd", "dr-dev"),
}


def store_deploy_key(secret_store: Any) -> None:
    """repo-34's read-only deploy key in Vault, as its provisioning would leave it."""
    location = repo_secret_location("repo-34", "readonly")
    secret_store.write(
        engine=location.engine, path=location.path, data={"deploykey": DEPLOY_KEY, "id": "7"}
    )


def deploy(cluster: str = "cluster-dev") -> Operation:
    """A reconcile pass of the cluster, run now: how the portal deploys since #14 (every
    runtime the index places on the cluster, not one). A refusal is on the runtime
    (`runtime_pass`), not on the operation."""
    return reconcile_start(cluster_name=cluster, reason="test", inline=True)


def runtime_pass(product: Product, runtime: str) -> RuntimeStatus:
    """What the last pass recorded for the runtime (result, message, where it is deployed)."""
    return RuntimeStatus.objects.get(product=product, runtime_name=runtime)


def owned(server: FakeKubeServer) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every object carrying the owner label, keyed by (plural, namespace, name)."""
    found = {}
    for group, plural in (
        ("", "namespaces"),
        ("", "serviceaccounts"),
        ("", "secrets"),
        (RBAC, "rolebindings"),
        PROJECTS,
        ARGO,
    ):
        for obj in server.objects(group, plural):
            if OWNER in (obj["metadata"].get("labels") or {}):
                meta = obj["metadata"]
                found[(plural, meta.get("namespace", ""), meta["name"])] = obj
    return found


@pytest.fixture
def cluster_dev(secret_store: Any, fake_kube_factory: Any) -> FakeKubeServer:
    (server,) = fake_kube_factory(argocd_installed=True)
    register_cluster(
        secret_store,
        "cluster-dev",
        server,
        reserved_namespaces_allowed_products={
            "argo-rollouts": ["nautes-labs"],
            "traefik": ["nautes-labs", "other"],
            "vault": ["other"],
        },
        product_allowed_cluster_resources={
            "nautes-labs": [
                {"kind": "ClusterRole", "group": "authorization.k8s.io"},
                {"kind": "ClusterRoleBinding", "group": "authorization.k8s.io"},
            ]
        },
    )
    return server


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def writes(server: FakeKubeServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests if r.method in WRITES]


# ---- The dr-dev example ----------------------------------------------------------
def test_dr_dev_creates_exactly_what_the_runtime_operator_would(
    cluster_dev: FakeKubeServer, secret_store: Any
) -> None:
    store_deploy_key(secret_store)
    product = dr_dev_index()
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    assert [s.name for s in operation.steps.order_by("position")] == [
        "objects",
        "argocd-rbac",
        "vault",
    ]
    objects = owned(cluster_dev)
    assert set(objects) == DR_DEV_OBJECTS
    for obj in objects.values():
        assert obj["metadata"]["labels"][OWNER] == "product-12"

    binding = objects[("rolebindings", "product-12", "product-12")]
    assert binding["roleRef"] == {"apiGroup": RBAC, "kind": "ClusterRole", "name": "admin"}
    assert binding["subjects"] == [{"apiGroup": RBAC, "kind": "Group", "name": "nautes-labs"}]
    account = objects[("rolebindings", "dr-dev", "dr-dev")]
    assert account["subjects"] == [
        {"kind": "ServiceAccount", "name": "dr-dev", "namespace": "dr-dev"}
    ]

    project = objects[("appprojects", "argocd", "product-12")]
    assert project["spec"] == {
        "description": "Nautes product nautes-labs",
        "destinations": [
            {"server": "https://kubernetes.default.svc", "namespace": ns}
            for ns in ("argo-rollouts", "dr-dev", "traefik")
        ],
        "sourceRepos": [SSH_URL],
        "clusterResourceWhitelist": [
            {"group": "authorization.k8s.io", "kind": "ClusterRole"},
            {"group": "authorization.k8s.io", "kind": "ClusterRoleBinding"},
        ],
    }
    app = objects[("applications", "argocd", "dr-dev")]
    assert app["spec"] == {
        "project": "product-12",
        "source": {"repoURL": SSH_URL, "path": "manifests/development", "targetRevision": "HEAD"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "dr-dev"},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
    }
    validate_against_crd(app, str(ARGOCD_CRDS / "application-crd.yaml"))
    validate_against_crd(project, str(ARGOCD_CRDS / "appproject-crd.yaml"))

    secret = objects[("secrets", "argocd", "repo-34")]
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == {
        "type": "git",
        "url": SSH_URL,
        "project": "product-12",
        "sshPrivateKey": DEPLOY_KEY,
    }
    # The key went to the cluster only: not into the operation log or the status record.
    for step in operation.steps.all():
        assert "fake-deploy-key" not in step.detail + step.error
    assert "fake-deploy-key" not in str(Operation.objects.get(pk=operation.pk).params)
    record = runtime_pass(product, "dr-dev")
    assert "fake-deploy-key" not in record.pass_message
    assert (record.deployed_cluster, record.deployed_namespaces, record.deployed_account) == (
        "cluster-dev",
        ["dr-dev"],
        "dr-dev",
    )
    assert record.pass_result == "applied"


def test_applying_twice_gives_the_same_objects_and_writes_nothing(
    cluster_dev: FakeKubeServer,
) -> None:
    product = dr_dev_index()
    assert deploy().status == "succeeded"
    first = owned(cluster_dev)
    cluster_dev.clear_requests()
    second_run = deploy()
    assert second_run.status == "succeeded", second_run.error
    assert owned(cluster_dev) == first  # resourceVersions included: nothing was rewritten
    assert writes(cluster_dev) == []
    assert runtime_pass(product, "dr-dev").pass_result == "unchanged"
    # Vault holds no read-only deploy key for repo-34: Argo CD gets no repository Secret.
    assert ("secrets", "argocd", "repo-34") not in first


def test_runtime_options_account_namespaces_and_a_custom_argocd_namespace(
    secret_store: Any, fake_kube_factory: Any
) -> None:
    (server,) = fake_kube_factory(argocd_installed=True, argocd_namespace="gitops")
    register_cluster(
        secret_store,
        "cluster-dev",
        server,
        components_list={"deployment": {"name": "argocd", "namespace": "gitops"}},
    )
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(
        destination_namespaces=["web", "jobs"], account="deployer"
    )
    assert deploy().status == "succeeded"
    assert runtime_pass(product, "dr-dev").pass_result == "applied"
    objects = owned(server)
    assert ("serviceaccounts", "web", "deployer") in objects
    assert ("rolebindings", "jobs", "deployer") in objects
    app = objects[("applications", "gitops", "dr-dev")]
    assert app["spec"]["destination"]["namespace"] == "web"  # the first runtime namespace
    project = objects[("appprojects", "gitops", "product-12")]
    assert [d["namespace"] for d in project["spec"]["destinations"]] == ["jobs", "web"]
    assert project["spec"]["clusterResourceWhitelist"] == []


# ---- Removal ------------------------------------------------------------------------
def _deletes(server: FakeKubeServer) -> list[list[str]]:
    """The DELETE requests since the last `clear_requests`, as [plural, name]."""
    return [r.path.rsplit("/", 2)[-2:] for r in server.requests if r.method == "DELETE"]


def test_removal_deletes_in_order_and_keeps_what_other_runtimes_use(
    cluster_dev: FakeKubeServer,
) -> None:
    product = dr_dev_index()
    add_runtime(product, "dr-shared", namespaces=["dr-dev"], path="manifests/shared")
    add_runtime(product, "dr-web", namespaces=["web"], path="manifests/web")
    assert deploy().status == "succeeded"
    for name in ("dr-dev", "dr-shared", "dr-web"):
        assert runtime_pass(product, name).pass_result == "applied"
    project = cluster_dev.get(PROJECTS, "argocd", "product-12")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == [
        "argo-rollouts",
        "dr-dev",
        "traefik",
        "web",
    ]

    # dr-web goes: its Application, then its namespace (what is in it goes with it); the
    # AppProject is recomputed.
    DeploymentRuntime.objects.filter(name="dr-web").delete()
    cluster_dev.clear_requests()
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    assert _deletes(cluster_dev) == [["applications", "dr-web"], ["namespaces", "web"]]
    project = cluster_dev.get(PROJECTS, "argocd", "product-12")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == [
        "argo-rollouts",
        "dr-dev",
        "traefik",
    ]
    assert not RuntimeStatus.objects.filter(product=product, runtime_name="dr-web").exists()

    # dr-shared goes: dr-dev's namespace stays (dr-dev uses it), and so does dr-dev's account;
    # dr-shared's own account there goes.
    DeploymentRuntime.objects.filter(name="dr-shared").delete()
    cluster_dev.clear_requests()
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    assert _deletes(cluster_dev)[0] == ["applications", "dr-shared"]
    assert ["namespaces", "dr-dev"] not in _deletes(cluster_dev)
    assert cluster_dev.get(("", "namespaces"), "", "dr-dev") is not None
    assert cluster_dev.get(("", "serviceaccounts"), "dr-dev", "dr-dev") is not None
    assert cluster_dev.get((RBAC, "rolebindings"), "dr-dev", "dr-dev") is not None
    assert cluster_dev.get(("", "serviceaccounts"), "dr-dev", "dr-shared") is None
    assert cluster_dev.get((RBAC, "rolebindings"), "dr-dev", "dr-shared") is None
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is not None

    # The last runtime goes: everything of the product on the cluster, the Application
    # first, the AppProject before the namespaces, the namespaces last.
    DeploymentRuntime.objects.filter(name="dr-dev").delete()
    cluster_dev.clear_requests()
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    deletes = _deletes(cluster_dev)
    assert deletes[0] == ["applications", "dr-dev"]
    assert deletes.index(["appprojects", "product-12"]) < deletes.index(["namespaces", "dr-dev"])
    assert sorted(deletes[-2:]) == [["namespaces", "dr-dev"], ["namespaces", "product-12"]]
    assert owned(cluster_dev) == {}
    assert not RuntimeStatus.objects.filter(product=product).exists()
    # Idempotent: the next pass finds nothing to remove and writes nothing.
    cluster_dev.clear_requests()
    assert deploy().status == "succeeded"
    assert writes(cluster_dev) == []


def test_removal_needs_only_the_cluster_once_the_runtime_row_is_gone(
    cluster_dev: FakeKubeServer,
) -> None:
    """A runtime deleted from the index (its row gone, with what it said) leaves nothing in
    any of its namespaces: the pass removes by the owner labels it finds."""
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["a", "b"])
    assert deploy().status == "succeeded"
    assert runtime_pass(product, "dr-dev").deployed_namespaces == ["a", "b"]
    assert ("namespaces", "", "b") in owned(cluster_dev)
    DeploymentRuntime.objects.all().delete()
    assert deploy().status == "succeeded"
    assert owned(cluster_dev) == {}
    assert not RuntimeStatus.objects.filter(product=product).exists()


def test_moving_a_runtime_to_another_cluster_cleans_up_the_old_one(
    cluster_dev: FakeKubeServer, secret_store: Any, fake_kube_factory: Any
) -> None:
    (other,) = fake_kube_factory(argocd_installed=True)
    register_cluster(secret_store, "cluster-test", other)
    product = dr_dev_index()
    assert deploy().status == "succeeded"
    add_environment(product, "env-test", "cluster-test")
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_environment="env-test")
    # Both clusters are reconciled (the product is on both); the old one first here.
    assert deploy("cluster-dev").status == "succeeded"
    assert deploy("cluster-test").status == "succeeded"
    assert owned(cluster_dev) == {}
    assert ("applications", "argocd", "dr-dev") in owned(other)
    record = runtime_pass(product, "dr-dev")
    assert (record.deployed_cluster, record.pass_result) == ("cluster-test", "applied")


def test_a_runtime_given_other_namespaces_leaves_the_old_ones(cluster_dev: FakeKubeServer) -> None:
    """What the former deployer did after its Application step (`removed namespaces no longer
    used`): a pass after the runtime's namespaces changed deletes those no runtime uses."""
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["a", "b"])
    assert deploy().status == "succeeded"
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["b", "c"])
    assert deploy().status == "succeeded"
    assert cluster_dev.get(("", "namespaces"), "", "a") is None
    for namespace in ("b", "c"):
        assert ("serviceaccounts", namespace, "dr-dev") in owned(cluster_dev), namespace
    assert cluster_dev.get(ARGO, "argocd", "dr-dev")["spec"]["destination"]["namespace"] == "b"
    assert runtime_pass(product, "dr-dev").deployed_namespaces == ["b", "c"]


# ---- Refusing to take over ------------------------------------------------------------
def test_an_unlabelled_namespace_is_not_taken_over(cluster_dev: FakeKubeServer) -> None:
    cluster_dev.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dr-dev", "labels": {}}}
    )
    product = dr_dev_index()
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    record = runtime_pass(product, "dr-dev")
    assert record.pass_result == "conflict"
    assert "namespace dr-dev exists and belongs to someone else" in record.pass_message
    assert f"no label {OWNER}" in record.pass_message
    assert "did not change it" in record.pass_message
    namespace = cluster_dev.get(("", "namespaces"), "", "dr-dev")
    assert OWNER not in namespace["metadata"]["labels"]
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is None
    assert owned(cluster_dev) == {}  # nothing of its only runtime: not even product-12
    assert record.deployed_cluster == ""


def test_an_application_of_someone_else_is_not_taken_over(cluster_dev: FakeKubeServer) -> None:
    foreign = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "dr-dev", "namespace": "argocd", "labels": {OWNER: "product-99"}},
        "spec": {"project": "default", "destination": {"namespace": "x"}},
    }
    cluster_dev.create(foreign)
    product = dr_dev_index()
    assert deploy().status == "succeeded"
    record = runtime_pass(product, "dr-dev")
    assert record.pass_result == "conflict"
    assert (
        "Application argocd/dr-dev exists and belongs to someone else (labelled for another "
        "product)" in record.pass_message
    )
    assert "product-99" not in record.pass_message  # never the other product's name or id
    assert cluster_dev.get(ARGO, "argocd", "dr-dev")["spec"] == foreign["spec"]
    assert cluster_dev.get(ARGO, "argocd", "dr-dev")["metadata"]["labels"] == {OWNER: "product-99"}


def test_a_runtime_whose_manifest_repository_is_not_the_products_is_refused(
    cluster_dev: FakeKubeServer,
) -> None:
    product = dr_dev_index()
    add_runtime(product, "dr-norepo", repo="repo-999", namespaces=["norepo"])
    assert deploy().status == "succeeded"
    assert runtime_pass(product, "dr-dev").pass_result == "applied"
    assert cluster_dev.get(ARGO, "argocd", "dr-norepo") is None
    record = runtime_pass(product, "dr-norepo")
    assert record.pass_result == "refused"
    assert "repo-999" in record.pass_message


def test_an_unregistered_cluster_fails_clearly(cluster_dev: FakeKubeServer) -> None:
    product = dr_dev_index(cluster="cluster-nowhere")
    operation = deploy("cluster-nowhere")
    assert operation.status == "failed"
    assert "cluster cluster-nowhere is not registered" in operation.error
    # The runtime is on no cluster's pass, and what the user asks for says why.
    assert deploy().status == "succeeded"
    assert not RuntimeStatus.objects.filter(product=product).exists()
    assert owned(cluster_dev) == {}
    with pytest.raises(Conflict) as refused:
        runtime_reapply(product=product, runtime_name="dr-dev", actor=None, inline=True)
    assert "'cluster-nowhere', which is not registered" in refused.value.message


# ---- Sync now ---------------------------------------------------------------------------
def test_sync_now_sets_the_operation_on_the_application(
    cluster_dev: FakeKubeServer, alice: Any
) -> None:
    product = dr_dev_index()
    assert deploy().status == "succeeded"
    operation = runtime_sync_now(product=product, runtime_name="dr-dev", actor=alice, inline=True)
    assert operation.status == "succeeded", operation.error
    app = cluster_dev.get(ARGO, "argocd", "dr-dev")
    assert app["operation"] == {
        "initiatedBy": {"username": "alice"},
        "sync": {"prune": True, "syncStrategy": {"hook": {}}},
    }
    assert app["spec"]["source"]["path"] == "manifests/development"
    validate_against_crd(app, str(ARGOCD_CRDS / "application-crd.yaml"))
    again = runtime_sync_now(product=product, runtime_name="dr-dev", actor=alice, inline=True)
    assert again.status == "failed" and "already running" in again.error


# ---- Through the API, local mode ----------------------------------------------------------
def _register_through_the_api(admin_api: APIClient, name: str, server: FakeKubeServer) -> None:
    response = admin_api.post(
        f"/api/v1/clusters/{name}",
        {
            "api_server": server.url,
            "cluster_kind": "kubernetes",
            "cluster_type": "physical",
            "usage": "worker",
            "worker_type": "deployment",
            "kubeconfig": base64.b64encode(server.kubeconfig().encode()).decode(),
        },
        format="json",
    )
    assert response.status_code == 200, response.json()


def _main_process(alice_api: APIClient) -> None:
    base = "/api/v1/products/nautes-labs"
    steps = [
        ("", {"git": {"gitlab": {"visibility": "private"}}}),
        ("/environments/env-dev", {"cluster": "cluster-dev", "env_type": "development"}),
        ("/projects/api-server", {"language": "Go"}),
        (
            "/coderepos/api-server",
            {
                "project": "api-server",
                "webhook": {"events": ["push_events"]},
                "deployment_runtime": True,
                "pipeline_runtime": False,
                "git": {
                    "gitlab": {"name": "api-server", "path": "api-server", "visibility": "private"}
                },
            },
        ),
        (
            "/deploymentruntimes/dr-dev",
            {
                "projects_ref": ["api-server"],
                "manifest_source": {
                    "code_repo": "api-server",
                    "target_revision": "HEAD",
                    "path": "manifests/development",
                },
                "destination": {"environment": "env-dev", "namespaces": ["dr-dev"]},
            },
        ),
    ]
    for path, body in steps:
        response = alice_api.post(base + path, body, format="json")
        assert response.status_code == 200, (path, response.json())


def test_the_main_process_deploys_from_a_local_repository(
    admin_api: APIClient, alice_api: APIClient, secret_store: Any, fake_kube_factory: Any
) -> None:
    (server,) = fake_kube_factory(argocd_installed=True)
    _register_through_the_api(admin_api, "cluster-dev", server)
    _main_process(alice_api)
    product = Product.objects.get(name="nautes-labs")
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    assert runtime_pass(product, "dr-dev").pass_result == "applied"
    app = server.get(ARGO, "argocd", "dr-dev")
    assert app["spec"]["source"]["repoURL"].startswith("file://")
    assert app["spec"]["project"] == product.resource_name
    project = server.get(PROJECTS, "argocd", product.resource_name)
    assert project["spec"]["sourceRepos"] == [app["spec"]["source"]["repoURL"]]
    # A local (file://) repository needs no credentials: no repository Secret.
    assert not [key for key in owned(server) if key[0] == "secrets"]


def test_an_environment_moved_to_another_cluster_reconciles_both_clusters(
    admin_api: APIClient,
    alice_api: APIClient,
    secret_store: Any,
    fake_kube_factory: Any,
    git_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """An environment moved in Git (the portal refuses it while runtimes use it; a push does
    not ask) moves every runtime of it: the sync queues a pass of the new cluster, which
    deploys them, and of the old one, which removes them there."""
    dev, test = fake_kube_factory(2, argocd_installed=True)
    _register_through_the_api(admin_api, "cluster-dev", dev)
    _register_through_the_api(admin_api, "cluster-test", test)
    with django_capture_on_commit_callbacks(execute=True):
        _main_process(alice_api)
    assert dev.get(ARGO, "argocd", "dr-dev") is not None
    product = Product.objects.get(name="nautes-labs")
    host = LocalGitHost(git_root)
    repo = host.repository(host.get_project("nautes-labs", "default.project"))
    path = Environment.objects.get(product=product, name="env-dev").path
    document = yaml.safe_load(repo.read_file(repo.head(), path))
    document["spec"]["cluster"] = "cluster-test"
    repo.commit(
        changes={path: yaml.safe_dump(document).encode()},
        expected_parent=repo.head(),
        message="move env-dev to cluster-test",
        author=Author(name="Dana Dev", email="dana@example.com"),
    )
    before = Operation.objects.filter(kind="cluster.reconcile").count()
    with django_capture_on_commit_callbacks(execute=True):
        sync_all()
    passes = list(Operation.objects.filter(kind="cluster.reconcile").order_by("pk")[before:])
    assert sorted(p.target for p in passes) == ["cluster-dev", "cluster-test"]
    assert {p.status for p in passes} == {"succeeded"}
    assert all("the index of product nautes-labs changed" in p.params["reason"] for p in passes)
    assert test.get(ARGO, "argocd", "dr-dev") is not None
    assert dev.get(ARGO, "argocd", "dr-dev") is None
    assert owned(dev) == {}
    assert runtime_pass(product, "dr-dev").deployed_cluster == "cluster-test"


def test_a_component_namespace_is_used_but_never_owned(cluster_dev: FakeKubeServer) -> None:
    cluster_dev.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "traefik"}})
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["traefik"])
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    assert runtime_pass(product, "dr-dev").pass_result == "applied"
    # Used as it is: not labelled, not owned, no members' RoleBinding in it; the account's
    # ServiceAccount and RoleBinding are there.
    traefik = cluster_dev.get(("", "namespaces"), "", "traefik")
    assert OWNER not in (traefik["metadata"].get("labels") or {})
    found = owned(cluster_dev)
    assert ("serviceaccounts", "traefik", "dr-dev") in found
    assert ("rolebindings", "traefik", "dr-dev") in found
    assert ("rolebindings", "traefik", "product-12") not in found
    DeploymentRuntime.objects.all().delete()
    cluster_dev.clear_requests()
    assert deploy().status == "succeeded"
    assert cluster_dev.get(("", "namespaces"), "", "traefik") is not None
    assert ["namespaces", "traefik"] not in _deletes(cluster_dev)
    assert owned(cluster_dev) == {}


# ---- Operations of the former per-runtime kinds -------------------------------------------
def test_a_runtime_deploy_operation_queues_a_reconcile_pass_of_its_cluster(
    cluster_dev: FakeKubeServer, django_capture_on_commit_callbacks: Any
) -> None:
    product = dr_dev_index()
    params = {
        "product": product.name,
        "product_pk": product.pk,
        "product_id": product.resource_name,
        "runtime": "dr-dev",
        "cluster": "cluster-dev",
    }
    old = operation_create(
        kind=RUNTIME_DEPLOY, target="nautes-labs/dr-dev", params=params, actor=None, product=product
    )
    with django_capture_on_commit_callbacks(execute=True):
        ran = operation_run(old.pk)
    assert ran.status == "succeeded", ran.error
    (queued,) = Operation.objects.filter(kind="cluster.reconcile", target="cluster-dev")
    assert queued.params["reason"] == "superseded runtime.deploy of nautes-labs/dr-dev"
    detail = ran.steps.get(name="reconcile").detail
    assert f"operation {queued.pk}" in detail and "cluster cluster-dev" in detail
    # The pass ran (the worker took it once the step committed) and deployed the runtime.
    queued.refresh_from_db()
    assert queued.status == "succeeded", queued.error
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is not None


def test_a_failed_runtime_remove_recorded_before_the_reconciler_is_retried_as_a_pass(
    cluster_dev: FakeKubeServer,
) -> None:
    """An operation recorded before #14 has the former step rows: a retry runs them by name,
    the first queues the pass, the others point to it, and nothing crashes."""
    product = dr_dev_index()
    assert deploy().status == "succeeded"
    DeploymentRuntime.objects.filter(product=product).delete()
    old = Operation.objects.create(
        kind=RUNTIME_REMOVE,
        target="nautes-labs/dr-dev on cluster-dev",
        params={"product": product.name, "runtime": "dr-dev", "cluster": "cluster-dev"},
        product=product,
        status=Operation.Status.FAILED,
    )
    for position, (name, status) in enumerate(
        [("application", "succeeded"), ("namespaces", "failed"), ("project", "pending")]
    ):
        OperationStep.objects.create(
            operation=old, position=position, name=name, title=name, status=status
        )
    ran = operation_run(old.pk)
    assert ran.status == "succeeded", ran.error
    details = dict(ran.steps.values_list("name", "detail"))
    (queued,) = Operation.objects.filter(kind="cluster.reconcile", status="pending")
    assert f"operation {queued.pk}" in details["namespaces"]
    assert details["project"] == "done by step namespaces of this run"
    assert (
        queued.params["reason"] == "superseded runtime.remove of nautes-labs/dr-dev on cluster-dev"
    )
    assert operation_run(queued.pk).status == "succeeded"
    assert owned(cluster_dev) == {}


def test_a_former_operation_whose_cluster_is_gone_has_nothing_to_do() -> None:
    product = dr_dev_index(cluster="cluster-gone")
    params = {"product": product.name, "runtime": "dr-dev", "cluster": "cluster-gone"}
    old = operation_create(
        kind=RUNTIME_DEPLOY, target="nautes-labs/dr-dev", params=params, actor=None, product=product
    )
    ran = operation_run(old.pk)
    assert ran.status == "succeeded", ran.error
    assert ran.steps.get(name="reconcile").detail.startswith("nothing to do:")
    assert "cluster cluster-gone is not registered" in ran.steps.get(name="reconcile").detail
    assert not Operation.objects.filter(kind="cluster.reconcile").exists()
