"""Issue #12 finding 2: runtime namespaces never escape their product.

Namespace ownership is a security rule, checked whatever `insecure_skip_check` says: no runtime
namespace may be a system namespace, `nautes`, Argo CD's, another product's `product-<gid>`, a
namespace another product's runtime uses on the cluster, or a component namespace the cluster's
`reserved_namespaces_allowed_products` does not grant the product. The reconciler refuses the
same namespaces again (on the runtime: nothing is written for it), refuses a namespace that exists
without the product's owner label, never binds `cluster-admin`, and builds AppProject destinations
only from the namespaces the product owns.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from clusters.models import Cluster
from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.integrations.kube import ClusterError, KubeClient
from nautes_portal.operations.models import Operation
from products import rules
from products.models import AccessLevel, CodeRepo, DeploymentRuntime, Product
from products.services import product_sync
from products.state import ForeignRuntime, ProductState, Resource
from tests.api.helpers import coderepo_body, kubeconfig, product_files
from tests.api.test_more_examples import pipeline_body
from tests.deployments.test_deployer import (
    PROJECTS,
    RBAC,
    add_runtime,
    deploy,
    dr_dev_index,
    owned,
    register_cluster,
    runtime_pass,
)
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products"
OWNER = "resource.nautes.io/belongsto"
SYSTEM_RULE = "is reserved for the cluster (system namespace)"
ONLY_OWN = "a runtime may use only its product's namespaces"


def _worker(worker_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_server": "https://127.0.0.1:1",
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": worker_type,
        "primary_domain": "127.0.0.1.nip.io",
        "kubeconfig": kubeconfig(),
        **extra,
    }


@pytest.fixture
def clusters(admin_api: APIClient, secret_store: Any) -> None:
    """cluster-dev runs the default components; only another product may use argo-rollouts
    there. cluster-open lets nautes-labs into argo-rollouts, and names kube-system too (k3s puts
    traefik there): that grant must stay without effect. cluster-pipe runs Tekton."""
    bodies = {
        "cluster-dev": _worker(
            "deployment", reserved_namespaces_allowed_products={"argo-rollouts": ["other-team"]}
        ),
        "cluster-open": _worker(
            "deployment",
            components_list={"gateway": {"name": "traefik", "namespace": "kube-system"}},
            reserved_namespaces_allowed_products={
                "argo-rollouts": ["nautes-labs"],
                "kube-system": ["nautes-labs"],
            },
        ),
        "cluster-pipe": _worker("pipeline"),
    }
    for name, body in bodies.items():
        response = admin_api.post(f"/api/v1/clusters/{name}", body, format="json")
        assert response.status_code == 200, (name, response.json())


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.json()


def dr_body(namespaces: list[str] | None, environment: str = "env-dev") -> dict[str, Any]:
    destination: dict[str, Any] = {"environment": environment}
    if namespaces is not None:
        destination["namespaces"] = namespaces
    return {
        "projects_ref": ["api-server"],
        "manifest_source": {
            "code_repo": "api-server",
            "target_revision": "HEAD",
            "path": "manifests/development",
        },
        "destination": destination,
    }


def _product(api: APIClient, name: str, environments: dict[str, str]) -> None:
    _ok(api.post(f"{BASE}/{name}", {"git": {"gitlab": {"visibility": "private"}}}, format="json"))
    for env, cluster in environments.items():
        body = {"cluster": cluster, "env_type": "development"}
        _ok(api.post(f"{BASE}/{name}/environments/{env}", body, format="json"))
    _ok(api.post(f"{BASE}/{name}/projects/api-server", {"language": "Go"}, format="json"))
    repo = coderepo_body("api-server", project="api-server", pipeline_runtime=True)
    _ok(api.post(f"{BASE}/{name}/coderepos/api-server", repo, format="json"))


@pytest.fixture
def products(alice_api: APIClient, clusters: None) -> dict[str, str]:
    """nautes-labs (on all three clusters) and other-team, whose runtime `shop` runs in namespace
    `shop` on cluster-dev. Returns the product namespace of each."""
    _product(
        alice_api,
        "nautes-labs",
        {"env-dev": "cluster-dev", "env-open": "cluster-open", "env-pipe": "cluster-pipe"},
    )
    _product(alice_api, "other-team", {"env-other": "cluster-dev"})
    _ok(
        alice_api.post(
            f"{BASE}/other-team/deploymentruntimes/shop",
            dr_body(["shop"], environment="env-other"),
            format="json",
        )
    )
    return {p.name: p.resource_name for p in Product.objects.all()}


@pytest.fixture
def developer(
    products: dict[str, str], make_user: Any, grant: Any, api_client_for: Any
) -> APIClient:
    """A Developer of nautes-labs: may save its runtimes, nothing more."""
    bob = make_user("bob")
    grant(bob, "nautes-labs", AccessLevel.DEVELOPER)
    return api_client_for(bob)


SKIP = ["", "?insecure_skip_check=true"]

# (namespace, what the message must say): a fixed name, or "other-product" for the other
# product's product namespace (its group id is only known at run time).
FORBIDDEN_DR = [
    ("kube-system", SYSTEM_RULE),
    ("kube-public", SYSTEM_RULE),
    ("kube-node-lease", SYSTEM_RULE),
    ("default", SYSTEM_RULE),
    ("nautes", "is reserved for the Nautes platform"),
    ("argocd", "deployment runtime can not use component namespace argocd"),
    ("cert-manager", "deployment runtime can not use component namespace cert-manager"),
    ("argo-rollouts", "deployment runtime can not use component namespace argo-rollouts"),
    ("tekton-pipelines", "deployment runtime can not use component namespace tekton-pipelines"),
    ("vault", "deployment runtime can not use component namespace vault"),
    ("other-product", "is the product namespace of another product"),
    ("shop", "namespaces [shop] is used by other product"),
]


def _namespace(name: str, products: dict[str, str]) -> str:
    return products["other-team"] if name == "other-product" else name


@pytest.mark.parametrize("skip", SKIP, ids=["checked", "skip-check"])
@pytest.mark.parametrize(("namespace", "rule"), FORBIDDEN_DR, ids=[n for n, _ in FORBIDDEN_DR])
def test_a_deployment_runtime_cannot_use_a_namespace_it_does_not_own(
    developer: APIClient,
    products: dict[str, str],
    git_root: Any,
    namespace: str,
    rule: str,
    skip: str,
) -> None:
    namespace = _namespace(namespace, products)
    response = developer.post(
        f"{BASE}/nautes-labs/deploymentruntimes/dr-bad{skip}",
        dr_body(["dr-bad", namespace]),
        format="json",
    )
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["reason"] == "VALIDATOR"
    assert rule in body["message"] and namespace in body["message"]
    # Nothing written: not in Git, not in the index, nothing queued for a cluster.
    assert "runtimes/dr-bad.yaml" not in product_files(git_root, "nautes-labs")
    assert not DeploymentRuntime.objects.filter(name="dr-bad").exists()
    assert not Operation.objects.filter(target="nautes-labs/dr-bad").exists()


@pytest.mark.parametrize("skip", SKIP, ids=["checked", "skip-check"])
def test_the_default_namespace_counts_too(developer: APIClient, skip: str) -> None:
    """Without `destination.namespaces` a runtime deploys into a namespace named after it."""
    response = developer.post(
        f"{BASE}/nautes-labs/deploymentruntimes/kube-system{skip}", dr_body(None), format="json"
    )
    assert response.status_code == 400
    assert f"namespace kube-system {SYSTEM_RULE}; {ONLY_OWN}" in response.json()["message"]


FORBIDDEN_PPR = [
    ("kube-system", SYSTEM_RULE),
    ("default", SYSTEM_RULE),
    ("nautes", "is reserved for the Nautes platform"),
    ("tekton-pipelines", "is reserved for the cluster (namespace of a cluster component)"),
    ("argocd", "is reserved for the cluster (namespace of a cluster component)"),
    ("other-product", "is the product namespace of another product"),
]


@pytest.mark.parametrize("skip", SKIP, ids=["checked", "skip-check"])
@pytest.mark.parametrize(("namespace", "rule"), FORBIDDEN_PPR, ids=[n for n, _ in FORBIDDEN_PPR])
def test_a_pipeline_runtime_cannot_use_a_namespace_it_does_not_own(
    developer: APIClient, products: dict[str, str], namespace: str, rule: str, skip: str
) -> None:
    namespace = _namespace(namespace, products)
    body = pipeline_body({"environment": "env-pipe", "namespace": namespace})
    body["project"] = "api-server"
    response = developer.post(
        f"{BASE}/nautes-labs/projectpipelineruntimes/pr-bad{skip}", body, format="json"
    )
    assert response.status_code == 400, response.json()
    assert rule in response.json()["message"] and namespace in response.json()["message"]


@pytest.mark.parametrize("skip", SKIP, ids=["checked", "skip-check"])
def test_a_pipeline_runtime_cannot_use_another_products_runtime_namespace(
    developer: APIClient, alice_api: APIClient, skip: str
) -> None:
    body = pipeline_body({"environment": "env-dev", "namespace": "shop"})
    body["project"] = "api-server"
    response = developer.post(
        f"{BASE}/nautes-labs/projectpipelineruntimes/pr-bad{skip}", body, format="json"
    )
    assert response.status_code == 400, response.json()
    assert "namespace shop is used by other runtime" in response.json()["message"]


def test_the_allow_list_opens_a_component_namespace_but_never_a_system_one(
    developer: APIClient,
) -> None:
    allowed = developer.post(
        f"{BASE}/nautes-labs/deploymentruntimes/dr-certs",
        dr_body(["dr-certs", "argo-rollouts"], environment="env-open"),
        format="json",
    )
    _ok(allowed)
    for skip in SKIP:
        refused = developer.post(
            f"{BASE}/nautes-labs/deploymentruntimes/dr-system{skip}",
            dr_body(["kube-system"], environment="env-open"),
            format="json",
        )
        assert refused.status_code == 400
        assert f"namespace kube-system {SYSTEM_RULE}" in refused.json()["message"]


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "default", "nautes"])
def test_no_allow_list_opens_system_or_platform_namespaces(namespace: str) -> None:
    """Even a cluster whose allow-list names them (the rules see any Cluster spec)."""
    cluster = {
        "usage": "worker",
        "workerType": "deployment",
        "componentsList": {"gateway": {"name": "traefik", "namespace": namespace}},
        "reservedNamespacesAllowedProducts": {namespace: ["nautes-labs"], "product-99": ["x"]},
    }
    state = ProductState(product_name="nautes-labs", product_id="product-12")
    env = Resource("Environment", "env-dev", "envs/env-dev.yaml", {"cluster": "cluster-dev"})
    state.of_kind("Environment")["env-dev"] = env
    state.clusters["cluster-dev"] = cluster
    for name, namespaces in (("dr-a", [namespace]), ("dr-b", ["product-99"])):
        spec = {"destination": {"environment": "env-dev", "namespaces": namespaces}}
        problems = rules.namespace_problems(
            Resource("DeploymentRuntime", name, f"runtimes/{name}.yaml", spec), state
        )
        assert len(problems) == 1 and ONLY_OWN in problems[0], problems
    allow_list = cluster["reservedNamespacesAllowedProducts"]
    granted = rules.allowed_namespaces(
        "nautes-labs", "product-12", allow_list, argocd_namespace="argocd"
    )
    assert granted == frozenset()


def test_another_products_runtime_namespace_on_another_cluster_is_free() -> None:
    state = ProductState(product_name="nautes-labs", product_id="product-12")
    state.of_kind("Environment")["env-dev"] = Resource(
        "Environment", "env-dev", "envs/env-dev.yaml", {"cluster": "cluster-dev"}
    )
    state.clusters["cluster-dev"] = {"componentsList": {}}
    state.foreign_runtimes.append(
        ForeignRuntime("product-7", "DeploymentRuntime", "shop", "cluster-other", ("shop",))
    )
    spec = {"destination": {"environment": "env-dev", "namespaces": ["shop"]}}
    runtime = Resource("DeploymentRuntime", "dr", "runtimes/dr.yaml", spec)
    assert rules.namespace_problems(runtime, state) == []


# ---- A bad runtime from Git ------------------------------------------------------------
def test_a_bad_runtime_from_git_shows_its_problem_and_blocks_nothing_else(
    developer: APIClient, git_root: Any
) -> None:
    host = LocalGitHost(git_root)
    repo = host.repository(host.get_project("nautes-labs", "default.project"))
    product = Product.objects.get(name="nautes-labs")
    document = {
        "apiVersion": "nautes.resource.nautes.io/v1alpha1",
        "kind": "DeploymentRuntime",
        "metadata": {"name": "dr-pushed"},
        "spec": {
            "product": product.resource_name,
            "projectsRef": ["api-server"],
            "manifestSource": {
                "codeRepo": CodeRepo.objects.get(product=product, repo_name="api-server").name,
                "targetRevision": "HEAD",
                "path": "manifests",
            },
            "destination": {"environment": "env-dev", "namespaces": ["argocd", "kube-system"]},
        },
    }
    repo.commit(
        changes={"runtimes/dr-pushed.yaml": yaml.safe_dump(document).encode()},
        expected_parent=repo.head(),
        message="pushed outside the portal",
        author=Author(name="Mallory", email="mallory@example.com"),
    )
    assert product_sync(product=product, repo=repo) is True
    pushed = DeploymentRuntime.objects.get(product=product, name="dr-pushed")
    assert any("component namespace argocd" in p for p in pushed.problems), pushed.problems
    assert any(f"namespace kube-system {SYSTEM_RULE}" in p for p in pushed.problems)
    # Other resources of the product still save, with and without the checks.
    _ok(developer.post(f"{BASE}/nautes-labs/projects/web", {"language": "Go"}, format="json"))
    path = f"{BASE}/nautes-labs/deploymentruntimes/dr-ok"
    _ok(developer.post(path, dr_body(["dr-ok"]), format="json"))
    # The bad one cannot be saved again as it is, and can be deleted.
    again = developer.post(
        f"{BASE}/nautes-labs/deploymentruntimes/dr-pushed?insecure_skip_check=true",
        dr_body(["argocd"]),
        format="json",
    )
    assert again.status_code == 400
    _ok(developer.delete(f"{BASE}/nautes-labs/deploymentruntimes/dr-pushed"))


# ---- The deployer (a reconcile pass, #14) ---------------------------------------------
@pytest.fixture
def cluster_dev(secret_store: Any, fake_kube_factory: Any) -> FakeKubeServer:
    """A deployment cluster with Argo CD, cert-manager and no allow-list."""
    (server,) = fake_kube_factory(argocd_installed=True)
    register_cluster(
        secret_store,
        "cluster-dev",
        server,
        components_list={
            "deployment": {"name": "argocd", "namespace": "argocd"},
            "certManagement": {"name": "cert-manager", "namespace": "cert-manager"},
        },
    )
    return server


def _namespace_obj(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {}},
    }


def ours(server: FakeKubeServer) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every object labelled for product-12 (the deployed product)."""
    return {
        key: obj
        for key, obj in owned(server).items()
        if obj["metadata"]["labels"].get(OWNER) == "product-12"
    }


def _role_bindings(server: FakeKubeServer) -> list[dict[str, Any]]:
    """Every RoleBinding or ClusterRoleBinding version the fake server ever stored."""
    return [o for o in server.history if o.get("kind") in ("RoleBinding", "ClusterRoleBinding")]


def test_the_deployer_refuses_a_namespace_that_is_not_the_products(
    cluster_dev: FakeKubeServer,
) -> None:
    cluster_dev.create(_namespace_obj("legacy"))
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["web", "legacy"])
    assert deploy().status == "succeeded"
    record = runtime_pass(product, "dr-dev")
    assert record.pass_result == "conflict"
    assert "namespace legacy exists and belongs to someone else" in record.pass_message
    assert f"(no label {OWNER})" in record.pass_message
    assert "nor create anything in it" in record.pass_message
    # Checked before anything was created: not even the runtime's other namespace.
    assert ours(cluster_dev) == {}
    assert cluster_dev.objects("", "serviceaccounts", "legacy") == []
    assert (
        cluster_dev.get(("", "namespaces"), "", "legacy")["metadata"]["labels"].get(OWNER) is None
    )


@pytest.mark.parametrize(
    ("namespace", "rule"),
    [
        ("kube-system", SYSTEM_RULE),
        ("default", SYSTEM_RULE),
        ("nautes", "reserved for the Nautes platform"),
        ("argocd", "namespace of a cluster component"),
        ("cert-manager", "namespace of a cluster component"),
        ("product-99", "product namespace of another product"),
    ],
)
def test_the_deployer_refuses_forbidden_namespaces_from_the_index(
    cluster_dev: FakeKubeServer, namespace: str, rule: str
) -> None:
    """Whatever the index holds (a runtime from Git): nothing is created anywhere."""
    cluster_dev.create(_namespace_obj("nautes"))
    cluster_dev.create(_namespace_obj("product-99", {OWNER: "product-99"}))
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=[namespace])
    cluster_dev.clear_requests()
    assert deploy().status == "succeeded"
    record = runtime_pass(product, "dr-dev")
    assert record.pass_result == "refused"
    assert rule in record.pass_message and f"namespace {namespace}" in record.pass_message
    assert record.pass_message.startswith("not applied: ")
    assert record.deployed_cluster == ""
    assert [r for r in cluster_dev.requests if r.method != "GET"] == []
    assert ours(cluster_dev) == {}
    assert _role_bindings(cluster_dev) == []


def test_no_role_binding_to_cluster_admin_is_ever_created(cluster_dev: FakeKubeServer) -> None:
    dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["web", "jobs"])
    assert deploy().status == "succeeded"
    # And again, after a hand edit of a binding's subjects: the pass writes it back.
    cluster_dev.update_stored(
        RBAC, "rolebindings", "web", "dr-dev", {"subjects": [{"kind": "User", "name": "x"}]}
    )
    cluster_dev.clear_requests()
    assert deploy().status == "succeeded"
    assert "PUT" in {r.method for r in cluster_dev.requests if "rolebindings/dr-dev" in r.path}
    bindings = _role_bindings(cluster_dev)
    assert {(b["metadata"]["namespace"], b["metadata"]["name"]) for b in bindings} == {
        ("product-12", "product-12"),
        ("web", "dr-dev"),
        ("jobs", "dr-dev"),
        ("web", "product-12"),  # the members' RoleBindings (#14)
        ("jobs", "product-12"),
    }
    for binding in bindings:
        assert binding["kind"] == "RoleBinding"
        assert binding["roleRef"] == {"apiGroup": RBAC, "kind": "ClusterRole", "name": "admin"}


def test_the_kube_adapter_refuses_cluster_admin_and_cluster_bindings(
    cluster_dev: FakeKubeServer,
) -> None:
    client = KubeClient.from_kubeconfig(cluster_dev.kubeconfig())
    binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "x", "namespace": "argocd"},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "x", "namespace": "argocd"}],
    }
    owner = (OWNER, "product-12")
    with client, pytest.raises(ClusterError) as refused:
        client.ensure_object(RBAC, "v1", "rolebindings", "argocd", binding, owner_label=owner)
    assert refused.value.reason == "GRANT_REFUSED"
    cluster_wide = {**binding, "kind": "ClusterRoleBinding", "metadata": {"name": "x"}}
    cluster_wide["roleRef"] = {**binding["roleRef"], "name": "view"}
    with client, pytest.raises(ClusterError):
        client.ensure_object(
            RBAC, "v1", "clusterrolebindings", None, cluster_wide, owner_label=owner
        )
    assert [r for r in cluster_dev.requests if r.method != "GET"] == []


def test_app_project_destinations_are_exactly_the_owned_runtime_namespaces(
    cluster_dev: FakeKubeServer,
) -> None:
    """Runtimes of the product that name forbidden or foreign namespaces (from Git) widen
    nothing: the AppProject lists only the namespaces the product owns on the cluster."""
    cluster_dev.create(_namespace_obj("shop", {OWNER: "product-7"}))
    cluster_dev.create(_namespace_obj("legacy"))
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(destination_namespaces=["web", "api"])
    add_runtime(product, "dr-system", namespaces=["kube-system", "argocd"], path="m/system")
    add_runtime(product, "dr-shop", namespaces=["shop"], path="m/shop")
    add_runtime(product, "dr-legacy", namespaces=["legacy"], path="m/legacy")
    assert deploy().status == "succeeded"
    assert runtime_pass(product, "dr-dev").pass_result == "applied"
    system = runtime_pass(product, "dr-system")
    assert system.pass_result == "refused"
    assert "namespace kube-system is reserved for the cluster (system namespace)" in (
        system.pass_message
    )
    assert "namespace argocd is reserved for the cluster" in system.pass_message
    for name, namespace in (("dr-shop", "shop"), ("dr-legacy", "legacy")):
        record = runtime_pass(product, name)
        assert record.pass_result == "conflict", name
        assert f"namespace {namespace} exists and belongs to someone else" in record.pass_message
    project = cluster_dev.get(PROJECTS, "argocd", "product-12")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == ["api", "web"]
    assert {d["server"] for d in project["spec"]["destinations"]} == {
        "https://kubernetes.default.svc"
    }
    # Nothing of the product landed in the namespaces it does not own.
    for namespace in ("kube-system", "argocd", "shop", "legacy"):
        assert cluster_dev.objects("", "serviceaccounts", namespace) == []
        assert cluster_dev.objects(RBAC, "rolebindings", namespace) == []


def test_an_allowed_component_namespace_gets_a_namespaced_admin_binding_only(
    secret_store: Any, fake_kube_factory: Any
) -> None:
    (server,) = fake_kube_factory(argocd_installed=True)
    server.create(_namespace_obj("cert-manager"))
    register_cluster(
        secret_store,
        "cluster-dev",
        server,
        components_list={
            "deployment": {"name": "argocd", "namespace": "argocd"},
            "certManagement": {"name": "cert-manager", "namespace": "cert-manager"},
        },
        # kube-system cannot be granted, whatever the allow-list says.
        reserved_namespaces_allowed_products={
            "cert-manager": ["nautes-labs"],
            "kube-system": ["nautes-labs"],
        },
    )
    product = dr_dev_index()
    DeploymentRuntime.objects.filter(name="dr-dev").update(
        destination_namespaces=["dr-dev", "cert-manager"]
    )
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    assert runtime_pass(product, "dr-dev").pass_result == "applied"
    assert OWNER not in (server.get(("", "namespaces"), "", "cert-manager")["metadata"]["labels"])
    # Only the account's binding there: no members' RoleBinding in a namespace merely granted.
    granted = server.objects(RBAC, "rolebindings", "cert-manager")
    assert [b["metadata"]["name"] for b in granted] == ["dr-dev"]
    binding = server.get((RBAC, "rolebindings"), "cert-manager", "dr-dev")
    assert binding["roleRef"]["name"] == "admin"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "dr-dev", "namespace": "cert-manager"}
    ]
    project = server.get(PROJECTS, "argocd", "product-12")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == ["cert-manager", "dr-dev"]
    assert Cluster.objects.count() == 1
