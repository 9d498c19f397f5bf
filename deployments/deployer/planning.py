"""Planning: the `runtime.*` kinds, DeployError, and the runtime, product placement and cluster as
the index says now (`deployments.desired` turns them into objects; the reconciler plans each
runtime with `plan_for`)."""

from __future__ import annotations

from typing import Protocol

from clusters.models import Cluster
from deployments import desired
from deployments.desired import ProductPlacement, RuntimePlan
from nautes_portal.errors import IntegrationError
from products.adoption import is_verified_code_repo
from products.models import CodeRepo, DeploymentRuntime, Environment, Product

RUNTIME_DEPLOY = "runtime.deploy"
RUNTIME_REMOVE = "runtime.remove"
RUNTIME_SYNC = "runtime.sync"
# The console's actions on a runtime (#15); `runtime.rollback` is the core's (its own right).
RUNTIME_HARD_REFRESH = "runtime.hard-refresh"
RUNTIME_RESTART = "runtime.restart"
RUNTIME_POD_DELETE = "runtime.pod-delete"
SYSTEM = "Kubernetes"


class DeployError(IntegrationError):
    """The runtime cannot be deployed as configured (a missing environment, cluster, repo)."""

    reason = "DEPLOY_IMPOSSIBLE"

    def __init__(self, message: str) -> None:
        super().__init__(SYSTEM, message, retryable=False)


# ---- Reading the index ------------------------------------------------------
def repo_url(repo: CodeRepo) -> str:
    """The URL Argo CD clones: one of the project's clone URLs as the Git host gave them (the
    manifest's `spec.url` when it is one of them, else the SSH URL, else HTTP); "" when Git
    confirmed none. A `spec.url` pushed to Git naming any other repository is never used:
    Argo CD finds repository credentials by URL, so it would clone another product's
    repository with that product's deploy key."""
    confirmed = [url for url in (repo.ssh_url, repo.http_url) if url]
    if repo.url and repo.url in confirmed:
        return repo.url
    return confirmed[0] if confirmed else ""


class RuntimeFields(Protocol):
    """What planning reads of a runtime: a DeploymentRuntime, or the reconciler's values."""

    @property
    def name(self) -> str: ...
    @property
    def destination_namespaces(self) -> list[str]: ...
    @property
    def account(self) -> str: ...
    @property
    def manifest_code_repo(self) -> str: ...
    @property
    def manifest_path(self) -> str: ...
    @property
    def manifest_target_revision(self) -> str: ...


def plan_for(runtime: RuntimeFields, repos: dict[str, CodeRepo]) -> RuntimePlan:
    """The runtime with its defaults resolved and its manifest repository's URL."""
    repo = repos.get(runtime.manifest_code_repo)
    return RuntimePlan(
        name=runtime.name,
        namespaces=desired.runtime_namespaces(runtime.name, runtime.destination_namespaces),
        account=desired.runtime_account(runtime.name, runtime.account),
        repo_id=runtime.manifest_code_repo,
        repo_url=repo_url(repo) if repo is not None else "",
        path=runtime.manifest_path,
        revision=runtime.manifest_target_revision,
        repo_verified=repo is not None and is_verified_code_repo(repo.name, repo.git_project_id),
        repo_found=repo is not None,
    )


def placement_for(
    cluster: Cluster,
    *,
    product_id: str,
    product_name: str,
    runtimes: tuple[RuntimePlan, ...] = (),
) -> ProductPlacement:
    """The product on the cluster with `runtimes`, under the cluster's rules (no query)."""
    return ProductPlacement(
        product_name=product_name,
        product_id=product_id,
        argocd_namespace=desired.argocd_namespace(cluster.components_list),
        runtimes=runtimes,
        reserved_namespaces=desired.reserved_namespaces_for(
            product_name,
            cluster.reserved_namespaces_allowed_products,
            product_id,
            cluster.components_list,
        ),
        cluster_resources=desired.cluster_resources_for(
            product_name, cluster.product_allowed_cluster_resources
        ),
        cluster_reserved=desired.component_namespaces(
            cluster.components_list, cluster.reserved_namespaces_allowed_products
        ),
    )


def cluster_of(product: Product, runtime: DeploymentRuntime) -> Cluster:
    """The runtime's cluster: DeploymentRuntime → Environment → Cluster, or a clear error."""
    environment = Environment.objects.filter(
        product=product, name=runtime.destination_environment
    ).first()
    if environment is None:
        raise DeployError(
            f"runtime {runtime.name} names environment {runtime.destination_environment!r}, "
            f"which product {product.name} does not have"
        )
    cluster = Cluster.objects.filter(name=environment.cluster).first()
    if cluster is None:
        raise DeployError(
            f"environment {environment.name} is on cluster {environment.cluster!r}, which is not "
            "registered; register the cluster, then re-apply the runtime"
        )
    return cluster
