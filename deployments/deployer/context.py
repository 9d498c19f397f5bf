"""What a `runtime.*` step works on: the operation's context and the cluster client."""

from __future__ import annotations

from dataclasses import dataclass

from clusters.health import client_for
from clusters.models import Cluster
from deployments.deployer.planning import DeployError, cluster_of, placement_for
from deployments.desired import ProductPlacement
from nautes_portal.integrations.kube import KubeClient
from nautes_portal.operations.models import Operation
from products.models import DeploymentRuntime, Product


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
    def owner(self) -> tuple[str, str]:
        return self.placement.owner


def _context(operation: Operation) -> Context:
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
    # Sync now needs the cluster's Argo CD namespace and the owner label, not the runtimes.
    placement = placement_for(cluster, product_id=p["product_id"], product_name=p["product"])
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
