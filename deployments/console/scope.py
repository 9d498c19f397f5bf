"""Where one runtime's console may read: its cluster, its Application, its own namespaces.

The console reads the cluster live (the documented exception to "reads never touch clusters"):
every read goes through a `Console`, which knows the only places it may look:

* the Application `<runtime name>` in the cluster's Argo CD namespace, used only when it carries
  the product's owner label (someone else's Application of the same name is not this runtime's);
* the runtime's own namespaces, as the console's actions reach them (`deployer.scope.
  scope_for`: the ones the reconciler places it in, never one its product may not use), each
  only when the cluster labels it with the product's owner label (one LIST of namespaces by
  label);
* a component namespace the cluster's allow-list shares with the product (used, never owned),
  only for what the Application manages there.

Nothing else in the cluster is read, whatever a caller names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from clusters.health import client_for
from clusters.models import Cluster
from deployments import desired
from deployments.deployer.planning import DeployError, cluster_of, placement_for, plan_for
from deployments.deployer.scope import scope_for
from nautes_portal.errors import Conflict, NotFound
from nautes_portal.integrations.kube import ClusterApi
from nautes_portal.integrations.kube.interface import Obj
from products.models import DeploymentRuntime, Product

# Short: a person is waiting for the page, and a dead cluster must not hold a web worker long.
CONSOLE_TIMEOUT = 5.0

ClientFactory = Callable[[Cluster], ClusterApi]


@dataclass
class Console:
    """One runtime's live view: where it may read and a client for its cluster. Results are
    kept for the life of the console (one request), so each is read once."""

    product: Product
    runtime: DeploymentRuntime
    cluster: Cluster
    client: ClusterApi
    argocd_namespace: str
    candidates: tuple[str, ...]  # the namespaces its product may use, in the runtime's order
    shared: frozenset[str]  # of those, component namespaces granted by the allow-list
    _owned: tuple[str, ...] | None = field(default=None, repr=False)
    _application: tuple[Obj | None] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.runtime.name

    def namespaces(self) -> tuple[str, ...]:
        """The namespaces to read: owned ones the cluster labels as the product's (one LIST
        call, the first time), then the shared ones, in the runtime's order."""
        if self._owned is None:
            labelled = self.client.list_objects(
                "",
                "v1",
                "namespaces",
                None,
                label_selector=f"{desired.OWNER_LABEL}={self.product.resource_name}",
            )
            names = {str((ns.get("metadata") or {}).get("name") or "") for ns in labelled}
            self._owned = tuple(
                ns for ns in self.candidates if ns in names and ns not in self.shared
            )
        return tuple(ns for ns in self.candidates if ns in self._owned or ns in self.shared)

    def owns(self, namespace: str) -> bool:
        """Whether the namespace is the product's own (not a shared component namespace)."""
        return namespace in self.namespaces() and namespace not in self.shared

    def application(self) -> Obj | None:
        """The runtime's Argo CD Application (one GET, the first time); None when absent or
        not labelled as the product's."""
        if self._application is None:
            app = self.client.get_object(
                desired.ARGOCD_GROUP,
                desired.ARGOCD_VERSION,
                "applications",
                self.argocd_namespace,
                self.runtime.name,
            )
            labels = ((app or {}).get("metadata") or {}).get("labels") or {}
            if labels.get(desired.OWNER_LABEL) != self.product.resource_name:
                app = None
            self._application = (app,)
        return self._application[0]

    def managed(self) -> list[Obj]:
        """The Application's `status.resources` (what Argo CD manages), [] without one."""
        app = self.application() or {}
        resources = (app.get("status") or {}).get("resources") or []
        return [r for r in resources if isinstance(r, dict)]


def runtime_of(product: Product, runtime_name: str) -> DeploymentRuntime:
    """The runtime, or 404 (the product is already known to be visible to the caller)."""
    runtime = DeploymentRuntime.objects.filter(product=product, name=runtime_name).first()
    if runtime is None:
        raise NotFound(
            f"deployment runtime {runtime_name} is not found", reason="RUNTIME_NOT_FOUND"
        )
    return runtime


@contextmanager
def open_console(
    product: Product,
    runtime_name: str,
    *,
    client_factory: ClientFactory | None = None,
    timeout: float = CONSOLE_TIMEOUT,
) -> Iterator[Console]:
    """A console on the runtime's cluster; the client is closed on exit. 404 for an unknown
    runtime, 409 when its environment or cluster is not (or no longer) in the index."""
    runtime = runtime_of(product, runtime_name)
    try:
        cluster = cluster_of(product, runtime)
    except DeployError as exc:
        raise Conflict(
            f"runtime {runtime.name} is not deployed anywhere the portal can read: {exc.message}",
            reason="RUNTIME_NOT_PLACED",
        ) from None
    # The namespaces the runtime owns are the console actions' (`deployer.scope`, one rule);
    # reads add the component namespaces the allow-list shares with the product.
    scope = scope_for(cluster, product, runtime)
    placement = placement_for(cluster, product_id=product.resource_name, product_name=product.name)
    planned = plan_for(runtime, {}).namespaces
    shared = frozenset(
        ns for ns in planned if placement.shared(ns) and placement.refusal(ns) is None
    )
    factory = client_factory or (lambda c: client_for(c, timeout=timeout))
    client = factory(cluster)
    try:
        yield Console(
            product=product,
            runtime=runtime,
            cluster=cluster,
            client=client,
            argocd_namespace=scope.argocd_namespace,
            candidates=tuple(ns for ns in planned if ns in scope.namespaces or ns in shared),
            shared=shared,
        )
    finally:
        client.close()
