"""Deploying runtimes into a fake runtime cluster: the exact objects, idempotence, removal."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from clusters.models import Cluster
from deployments.models import RuntimeStatus
from deployments.services import (
    runtime_deploy_start,
    runtime_remove_start,
    runtime_sync_now,
    runtimes_redeploy_start,
)
from nautes_portal.integrations.vault import cluster_kubeconfig_location, repo_secret_location
from nautes_portal.operations.models import Operation
from products.models import CodeRepo, DeploymentRuntime, Environment, Product, Project
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


def deploy(product: Product, runtime: str = "dr-dev") -> Operation:
    return runtime_deploy_start(product=product, runtime_name=runtime, actor=None, inline=True)


def remove(product: Product, runtime: str, cluster: str = "cluster-dev", **extra: Any) -> Operation:
    operation = runtime_remove_start(
        product=product,
        runtime_name=runtime,
        cluster_name=cluster,
        actor=None,
        inline=True,
        **extra,
    )
    assert operation is not None
    return operation


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


# ---- The dr-dev example ----------------------------------------------------------
def test_dr_dev_creates_exactly_what_the_runtime_operator_would(
    cluster_dev: FakeKubeServer, secret_store: Any
) -> None:
    store_deploy_key(secret_store)
    product = dr_dev_index()
    operation = deploy(product)
    assert operation.status == "succeeded", operation.error
    assert [s.name for s in operation.steps.all()] == [
        "namespaces",
        "rbac",
        "appproject",
        "credentials",
        "application",
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
    record = RuntimeStatus.objects.get(product=product, runtime_name="dr-dev")
    assert (record.deployed_cluster, record.deployed_namespaces, record.deployed_account) == (
        "cluster-dev",
        ["dr-dev"],
        "dr-dev",
    )


def test_applying_twice_gives_the_same_objects_and_writes_nothing(
    cluster_dev: FakeKubeServer,
) -> None:
    product = dr_dev_index()
    assert deploy(product).status == "succeeded"
    first = owned(cluster_dev)
    cluster_dev.clear_requests()
    second_run = deploy(product)
    assert second_run.status == "succeeded", second_run.error
    assert owned(cluster_dev) == first  # resourceVersions included: nothing was rewritten
    writes = [r for r in cluster_dev.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]
    assert writes == []
    credentials = second_run.steps.get(name="credentials")
    assert credentials.detail.startswith("skipped: Vault holds no read-only deploy key")


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
    assert deploy(product).status == "succeeded"
    objects = owned(server)
    assert ("serviceaccounts", "web", "deployer") in objects
    assert ("rolebindings", "jobs", "deployer") in objects
    app = objects[("applications", "gitops", "dr-dev")]
    assert app["spec"]["destination"]["namespace"] == "web"  # the first runtime namespace
    project = objects[("appprojects", "gitops", "product-12")]
    assert [d["namespace"] for d in project["spec"]["destinations"]] == ["jobs", "web"]
    assert project["spec"]["clusterResourceWhitelist"] == []


# ---- Removal ------------------------------------------------------------------------
def test_removal_deletes_in_order_and_keeps_what_other_runtimes_use(
    cluster_dev: FakeKubeServer,
) -> None:
    product = dr_dev_index()
    add_runtime(product, "dr-shared", namespaces=["dr-dev"], path="manifests/shared")
    add_runtime(product, "dr-web", namespaces=["web"], path="manifests/web")
    for name in ("dr-dev", "dr-shared", "dr-web"):
        assert deploy(product, name).status == "succeeded"
    project = cluster_dev.get(PROJECTS, "argocd", "product-12")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == [
        "argo-rollouts",
        "dr-dev",
        "traefik",
        "web",
    ]

    # dr-web goes: its Application and namespace; the AppProject is recomputed.
    DeploymentRuntime.objects.filter(name="dr-web").delete()
    cluster_dev.clear_requests()
    operation = remove(product, "dr-web", namespaces=["web"])
    assert operation.status == "succeeded", operation.error
    deletes = [r.path for r in cluster_dev.requests if r.method == "DELETE"]
    assert deletes == ["/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/dr-web",
                       "/api/v1/namespaces/web"]  # fmt: skip
    project = cluster_dev.get(PROJECTS, "argocd", "product-12")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == [
        "argo-rollouts",
        "dr-dev",
        "traefik",
    ]

    # dr-shared goes: dr-dev's namespace stays (dr-dev uses it), and so does dr-dev's account.
    DeploymentRuntime.objects.filter(name="dr-shared").delete()
    operation = remove(product, "dr-shared", namespaces=["dr-dev"], account="dr-shared")
    assert operation.status == "succeeded", operation.error
    assert "kept dr-dev" in operation.steps.get(name="namespaces").detail
    assert cluster_dev.get(("", "namespaces"), "", "dr-dev") is not None
    assert cluster_dev.get(("", "serviceaccounts"), "dr-dev", "dr-dev") is not None

    # The last runtime goes: everything of the product on the cluster, Application first.
    DeploymentRuntime.objects.filter(name="dr-dev").delete()
    cluster_dev.clear_requests()
    operation = remove(product, "dr-dev")
    assert operation.status == "succeeded", operation.error
    deletes = [r.path.rsplit("/", 2)[-2:] for r in cluster_dev.requests if r.method == "DELETE"]
    assert deletes == [
        ["applications", "dr-dev"],
        ["namespaces", "dr-dev"],
        ["appprojects", "product-12"],
        ["rolebindings", "product-12"],
        ["namespaces", "product-12"],
    ]
    assert owned(cluster_dev) == {}
    assert not RuntimeStatus.objects.filter(product=product).exists()
    # Idempotent: removing again finds nothing and succeeds.
    assert remove(product, "dr-dev").status == "succeeded"


def test_removal_uses_the_record_when_the_runtime_row_is_gone(cluster_dev: FakeKubeServer) -> None:
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["a", "b"])
    assert deploy(product).status == "succeeded"
    DeploymentRuntime.objects.all().delete()
    operation = runtime_remove_start(
        product=product, runtime_name="dr-dev", actor=None, environment="env-dev", inline=True
    )
    assert operation is not None and operation.status == "succeeded", operation
    assert operation.params["namespaces"] == ["a", "b"]
    assert owned(cluster_dev) == {}


def test_moving_a_runtime_to_another_cluster_cleans_up_the_old_one(
    cluster_dev: FakeKubeServer, secret_store: Any, fake_kube_factory: Any
) -> None:
    (other,) = fake_kube_factory(argocd_installed=True)
    register_cluster(secret_store, "cluster-test", other)
    product = dr_dev_index()
    assert deploy(product).status == "succeeded"
    add_environment(product, "env-test", "cluster-test")
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_environment="env-test")
    assert deploy(product).status == "succeeded"
    removal = Operation.objects.get(kind="runtime.remove")
    assert removal.status == "succeeded", removal.error
    assert removal.params["cluster"] == "cluster-dev"
    assert owned(cluster_dev) == {}
    assert ("applications", "argocd", "dr-dev") in owned(other)
    record = RuntimeStatus.objects.get(runtime_name="dr-dev")
    assert record.deployed_cluster == "cluster-test"


# ---- Refusing to take over ------------------------------------------------------------
def test_an_unlabelled_namespace_is_not_taken_over(cluster_dev: FakeKubeServer) -> None:
    cluster_dev.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dr-dev", "labels": {}}}
    )
    product = dr_dev_index()
    operation = deploy(product)
    assert operation.status == "failed"
    step = operation.steps.get(name="namespaces")
    assert step.status == "failed"
    assert "namespaces dr-dev already exists" in step.error
    assert "not managed by the portal" in step.error and "did not change it" in step.error
    namespace = cluster_dev.get(("", "namespaces"), "", "dr-dev")
    assert OWNER not in namespace["metadata"]["labels"]
    assert cluster_dev.get(ARGO, "argocd", "dr-dev") is None
    assert operation.steps.get(name="application").status == "pending"


def test_an_application_of_someone_else_is_not_taken_over(cluster_dev: FakeKubeServer) -> None:
    foreign = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "dr-dev", "namespace": "argocd", "labels": {OWNER: "product-99"}},
        "spec": {"project": "default", "destination": {"namespace": "x"}},
    }
    cluster_dev.create(foreign)
    operation = deploy(dr_dev_index())
    assert operation.status == "failed"
    step = operation.steps.get(name="application")
    assert "it belongs to product-99" in step.error
    assert cluster_dev.get(ARGO, "argocd", "dr-dev")["spec"] == foreign["spec"]


def test_an_unregistered_cluster_fails_clearly(secret_store: Any) -> None:
    product = dr_dev_index(cluster="cluster-nowhere")
    operation = deploy(product)
    assert operation.status == "failed"
    assert "cluster-nowhere" in operation.error and "not registered" in operation.error


# ---- Sync now ---------------------------------------------------------------------------
def test_sync_now_sets_the_operation_on_the_application(
    cluster_dev: FakeKubeServer, alice: Any
) -> None:
    product = dr_dev_index()
    assert deploy(product).status == "succeeded"
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
def test_the_main_process_deploys_from_a_local_repository(
    admin_api: APIClient, alice_api: APIClient, secret_store: Any, fake_kube_factory: Any
) -> None:
    (server,) = fake_kube_factory(argocd_installed=True)
    response = admin_api.post(
        "/api/v1/clusters/cluster-dev",
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
    product = Product.objects.get(name="nautes-labs")
    operation = deploy(product)
    assert operation.status == "succeeded", operation.error
    assert operation.steps.get(name="credentials").detail.startswith("skipped:")
    app = server.get(ARGO, "argocd", "dr-dev")
    assert app["spec"]["source"]["repoURL"].startswith("file://")
    assert app["spec"]["project"] == product.resource_name
    project = server.get(PROJECTS, "argocd", product.resource_name)
    assert project["spec"]["sourceRepos"] == [app["spec"]["source"]["repoURL"]]


def test_redeploying_an_environment_queues_each_of_its_runtimes() -> None:
    product = dr_dev_index()
    add_runtime(product, "dr-two")
    add_environment(product, "env-other", "cluster-dev")
    add_runtime(product, "dr-elsewhere", environment="env-other")
    operations = runtimes_redeploy_start(product=product, actor=None, environment="env-dev")
    assert [(o.kind, o.target, o.status) for o in operations] == [
        ("runtime.deploy", "nautes-labs/dr-dev", "pending"),
        ("runtime.deploy", "nautes-labs/dr-two", "pending"),
    ]


def test_a_component_namespace_is_used_but_never_owned(cluster_dev: FakeKubeServer) -> None:
    cluster_dev.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "traefik"}})
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["traefik"])
    operation = deploy(product)
    assert operation.status == "succeeded", operation.error
    assert (
        "component namespace traefik used as it is" in operation.steps.get(name="namespaces").detail
    )
    assert OWNER not in cluster_dev.get(("", "namespaces"), "", "traefik")["metadata"]["labels"]
    assert ("serviceaccounts", "traefik", "dr-dev") in owned(cluster_dev)
    DeploymentRuntime.objects.all().delete()
    assert remove(product, "dr-dev", namespaces=["traefik"]).status == "succeeded"
    assert cluster_dev.get(("", "namespaces"), "", "traefik") is not None
    assert owned(cluster_dev) == {}
