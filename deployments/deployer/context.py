"""What every `runtime.*` step works on: the operation's context, the cluster client, writing
one owned object, and the namespace ownership checks made before anything is created."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clusters.health import client_for
from clusters.models import Cluster
from deployments import desired
from deployments.deployer.planning import DeployError, cluster_of, placement_for
from deployments.desired import ProductPlacement, RuntimePlan
from nautes_portal.integrations.kube import ClusterConflict, KubeClient
from nautes_portal.operations.models import Operation
from products import rules
from products.models import DeploymentRuntime, Environment, Product, ProjectPipelineRuntime


@dataclass(frozen=True)
class Context:
    """What a step works on, resolved from the operation's params and the index."""

    product: Product | None
    product_name: str
    product_id: str
    runtime_name: str
    cluster: Cluster
    placement: ProductPlacement

    @property
    def component_namespaces(self) -> frozenset[str]:
        return desired.component_namespaces(
            self.cluster.components_list, self.cluster.reserved_namespaces_allowed_products
        )

    @property
    def plan(self) -> RuntimePlan | None:
        return self.placement.runtime(self.runtime_name)

    @property
    def owner(self) -> tuple[str, str]:
        return self.placement.owner


def _context(operation: Operation, *, exclude_runtime: bool = False) -> Context:
    p = operation.params
    product = Product.objects.filter(pk=p.get("product_pk")).first()
    cluster_name = p.get("cluster") or ""
    if cluster_name:
        cluster = Cluster.objects.filter(name=cluster_name).first()
        if cluster is None:
            raise DeployError(f"cluster {cluster_name} is not registered (anymore)")
    else:
        # The cluster was unknown when the operation started: resolve it again (a retry after
        # the environment or the cluster was fixed then succeeds).
        if product is None:
            raise DeployError(f"product {p.get('product')} no longer exists")
        runtime = DeploymentRuntime.objects.filter(product=product, name=p["runtime"]).first()
        if runtime is None:
            raise DeployError(f"runtime {p['runtime']} no longer exists")
        cluster = cluster_of(product, runtime)
    placement = placement_for(
        product,
        cluster,
        product_id=p["product_id"],
        product_name=p["product"],
        exclude=p["runtime"] if exclude_runtime else None,
    )
    return Context(
        product=product,
        product_name=p["product"],
        product_id=p["product_id"],
        runtime_name=p["runtime"],
        cluster=cluster,
        placement=placement,
    )


def _client(context: Context) -> KubeClient:
    return client_for(context.cluster)


def _not_here(context: Context) -> str:
    return (
        f"runtime {context.runtime_name} is not hosted on cluster {context.cluster.name} "
        "(anymore); nothing to apply"
    )


def _ensure(client: KubeClient, context: Context, body: dict[str, Any]) -> None:
    """Create or update one object with the owner label; a clear error for a foreign object."""
    api_version = body["apiVersion"]
    group, _, version = api_version.rpartition("/")
    plural = _PLURALS[body["kind"]]
    namespace = body["metadata"].get("namespace")
    try:
        if body["kind"] == "Namespace":
            client.ensure_namespace(
                body["metadata"]["name"], body["metadata"]["labels"], owner_label=context.owner
            )
        else:
            client.ensure_object(group, version, plural, namespace, body, owner_label=context.owner)
    except ClusterConflict as exc:
        if exc.reason != "RESOURCE_NOT_OWNED":
            raise
        # The adapter's message names the object and its owner; say what the portal did not do.
        raise ClusterConflict(
            f"{exc.message} The portal did not change it.", retryable=False
        ) from None


_PLURALS = {
    "Namespace": "namespaces",
    "ServiceAccount": "serviceaccounts",
    "Secret": "secrets",
    "RoleBinding": "rolebindings",
    "AppProject": "appprojects",
    "Application": "applications",
}


# ---- Namespace ownership ----------------------------------------------------
def _refuse_forbidden(context: Context, plan: RuntimePlan) -> None:
    """Fail (nothing created) when the runtime names a namespace its product may not use."""
    refused = [r.message for ns in plan.namespaces if (r := context.placement.refusal(ns))]
    if refused:
        raise DeployError(
            f"runtime {plan.name} was not deployed to cluster {context.cluster.name}: "
            + "; ".join(refused)
        )


def _claimed_by_other_products(context: Context) -> set[str]:
    """Namespaces that sound runtimes (no problem in the index) of other products use on this
    cluster. A namespace not created yet has no owner label to tell: without this, a runtime
    pushed to Git would take another product's runtime namespace by deploying first (#12)."""
    environments = Environment.objects.filter(cluster=context.cluster.name).exclude(
        product=context.product
    )
    places = set(environments.values_list("product_id", "name"))
    if not places:
        return set()
    products = {product for product, _ in places}
    names = {name for _, name in places}
    claimed: set[str] = set()
    for runtime in DeploymentRuntime.objects.filter(
        product_id__in=products, destination_environment__in=names, problems=[]
    ).only("product_id", "name", "destination_environment", "destination_namespaces"):
        if (runtime.product_id, runtime.destination_environment) in places:
            claimed.update(runtime.destination_namespaces or [runtime.name])
    for ppr in ProjectPipelineRuntime.objects.filter(
        product_id__in=products, destination_environment__in=names, problems=[]
    ).only("product_id", "name", "destination_environment", "destination_namespace"):
        if (ppr.product_id, ppr.destination_environment) in places:
            claimed.add(ppr.destination_namespace or ppr.name)
    return claimed


def _refuse_foreign(client: KubeClient, context: Context, names: list[str]) -> None:
    """Fail (nothing created) when a namespace exists without the product's owner label, or
    does not exist yet and a runtime of another product uses it."""
    claimed = _claimed_by_other_products(context)
    for name in names:
        if not context.placement.shared(name):
            try:
                ours = client.namespace_owned_or_absent(name, owner_label=context.owner)
            except ClusterConflict as exc:
                raise ClusterConflict(
                    f"{exc.message} The portal did not change it, nor create anything in it.",
                    retryable=False,
                ) from None
            if not ours and name in claimed:
                raise DeployError(
                    f"runtime {context.runtime_name} was not deployed to cluster "
                    f"{context.cluster.name}: "
                    + rules.DR_PREFIX
                    + rules.DR_NAMESPACES_TAKEN.format(namespaces=name)
                )


def _owned_namespaces(client: KubeClient, context: Context) -> set[str]:
    """The namespaces carrying the product's owner label on the cluster (one list call)."""
    key, value = context.owner
    found = client.list_objects("", "v1", "namespaces", None, label_selector=f"{key}={value}")
    return {str(ns["metadata"]["name"]) for ns in found}


def _app_project(client: KubeClient, context: Context) -> dict[str, Any]:
    return desired.app_project(context.placement, _owned_namespaces(client, context))
