"""What one runtime cluster should hold, read from the index: products, their runtimes, and
which runtimes are admitted (the rules a runtime must pass before anything is written).

A runtime is admitted when its file breaks no rule, every namespace it names is one its product
may use (`ProductPlacement.refusal`), no namespace it would own exists without its product's
owner label, and no earlier product (by creation) claims the same namespace or Application
name on the cluster. Everything else becomes an outcome on the runtime (refused, conflict) and
nothing is written for it. Reads the database only; the namespaces of the cluster are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from clusters.models import Cluster
from deployments import desired
from deployments.deployer.planning import plan_for
from deployments.desired import ProductPlacement, RuntimePlan
from deployments.models import PassResult
from products.models import CodeRepo, DeploymentRuntime, Environment, Product


@dataclass
class Outcome:
    """What the pass does with one runtime; `result` is a `PassResult` value."""

    product_pk: int
    runtime: str
    environment: str
    result: str = PassResult.UNCHANGED
    messages: list[str] = field(default_factory=list)
    # Refused because its file breaks a rule: what was applied before stays (see `_held`).
    held: bool = False

    def refuse(self, result: str, message: str) -> None:
        self.result = result
        self.messages.append(message)

    @property
    def admitted(self) -> bool:
        return self.result not in (PassResult.REFUSED, PassResult.CONFLICT)


@dataclass
class ProductOnCluster:
    product: Product
    placement: ProductPlacement  # only its admitted runtimes


@dataclass
class ClusterState:
    cluster: Cluster
    products: list[ProductOnCluster]
    outcomes: dict[tuple[int, str], Outcome]

    def outcome(self, product_pk: int, runtime: str) -> Outcome:
        return self.outcomes[(product_pk, runtime)]


def _placement(
    product: Product, cluster: Cluster, plans: tuple[RuntimePlan, ...]
) -> ProductPlacement:
    return ProductPlacement(
        product_name=product.name,
        product_id=product.resource_name,
        argocd_namespace=desired.argocd_namespace(cluster.components_list),
        runtimes=plans,
        reserved_namespaces=desired.reserved_namespaces_for(
            product.name,
            cluster.reserved_namespaces_allowed_products,
            product.resource_name,
            cluster.components_list,
        ),
        cluster_resources=desired.cluster_resources_for(
            product.name, cluster.product_allowed_cluster_resources
        ),
        cluster_reserved=desired.component_namespaces(
            cluster.components_list, cluster.reserved_namespaces_allowed_products
        ),
    )


def _owner_of(labels: Mapping[str, str] | None) -> str:
    return str((labels or {}).get(desired.OWNER_LABEL) or "")


def cluster_state(
    cluster: Cluster,
    namespace_labels: Mapping[str, Mapping[str, str]],
    application_owners: Mapping[str, str],
) -> ClusterState:
    """The cluster as the index wants it. `namespace_labels`: every namespace of the cluster
    with its labels; `application_owners`: the owner label of every labelled Application in
    the cluster's Argo CD namespace (both listed by the caller). What exists keeps its owner;
    among new names, the product created first wins. A fixed number of queries."""
    environments = list(
        Environment.objects.filter(cluster=cluster.name)
        .select_related("product")
        .order_by("product_id", "name")
    )
    places = {(env.product_id, env.name) for env in environments}
    products = {env.product_id: env.product for env in environments}
    runtimes = [
        runtime
        for runtime in DeploymentRuntime.objects.filter(
            product_id__in=products, destination_environment__in={n for _, n in places}
        ).order_by("product_id", "name")
        if (runtime.product_id, runtime.destination_environment) in places
    ]
    repos: dict[tuple[int, str], CodeRepo] = {
        (repo.product_id, repo.name): repo
        for repo in CodeRepo.objects.filter(
            product_id__in=products, name__in={r.manifest_code_repo for r in runtimes}
        )
    }
    outcomes: dict[tuple[int, str], Outcome] = {}
    namespace_claims: dict[str, str] = {}  # namespace → product id that claimed it first
    application_claims: dict[str, str] = {}  # Application name → product name
    result: list[ProductOnCluster] = []
    for product_pk in sorted(products):
        product = products[product_pk]
        own = [r for r in runtimes if r.product_id == product_pk]
        if not own:
            continue
        plans = {
            r.name: plan_for(r, {k[1]: v for k, v in repos.items() if k[0] == product_pk})
            for r in own
        }
        placement = _placement(product, cluster, tuple(plans.values()))
        admitted: list[RuntimePlan] = []
        for runtime in own:
            outcome = Outcome(product_pk, runtime.name, runtime.destination_environment)
            outcomes[(product_pk, runtime.name)] = outcome
            _admit(
                outcome,
                runtime,
                plans[runtime.name],
                placement,
                namespace_labels,
                namespace_claims,
                application_claims,
                application_owners,
            )
            if outcome.admitted:
                admitted.append(plans[runtime.name])
                for ns in plans[runtime.name].namespaces:
                    if not placement.shared(ns):
                        namespace_claims.setdefault(ns, product.resource_name)
                application_claims.setdefault(runtime.name, product.name)
        if admitted:
            result.append(ProductOnCluster(product, _placement(product, cluster, tuple(admitted))))
    return ClusterState(cluster=cluster, products=result, outcomes=outcomes)


def _admit(
    outcome: Outcome,
    runtime: DeploymentRuntime,
    plan: RuntimePlan,
    placement: ProductPlacement,
    namespace_labels: Mapping[str, Mapping[str, str]],
    namespace_claims: Mapping[str, str],
    application_claims: Mapping[str, str],
    application_owners: Mapping[str, str],
) -> None:
    """Refuse the runtime (outcome) unless every rule lets the pass write its objects."""
    if runtime.problems:
        outcome.held = True
        outcome.refuse(
            PassResult.REFUSED,
            "not applied: its file breaks rules (" + "; ".join(runtime.problems) + "); what "
            "was applied before is kept",
        )
        return
    refusals = [r.message for ns in plan.namespaces if (r := placement.refusal(ns))]
    if refusals:
        outcome.refuse(PassResult.REFUSED, "not applied: " + "; ".join(refusals))
        return
    product_ns_owner = _owner_of(namespace_labels.get(placement.product_id))
    if placement.product_id in namespace_labels and product_ns_owner != placement.product_id:
        outcome.refuse(
            PassResult.CONFLICT,
            f"namespace {placement.product_id} exists and belongs to someone else "
            f"({_describe_owner(product_ns_owner)}); the portal did not change it",
        )
        return
    for ns in plan.namespaces:
        if placement.shared(ns):
            continue
        if ns in namespace_labels:
            owner = _owner_of(namespace_labels[ns])
            if owner != placement.product_id:
                outcome.refuse(
                    PassResult.CONFLICT,
                    f"namespace {ns} exists and belongs to someone else "
                    f"({_describe_owner(owner)}); the portal did not change it, nor create "
                    "anything in it",
                )
                return
        elif namespace_claims.get(ns, placement.product_id) != placement.product_id:
            outcome.refuse(
                PassResult.CONFLICT,
                f"namespace {ns} is used by a runtime of another product on this cluster",
            )
            return
    app_owner = application_owners.get(plan.name)
    if app_owner is not None and app_owner != placement.product_id:
        outcome.refuse(
            PassResult.CONFLICT,
            f"Application {placement.argocd_namespace}/{plan.name} exists and belongs to "
            f"someone else ({_describe_owner(app_owner)}); the portal did not change it",
        )
        return
    claimant = application_claims.get(plan.name)
    if claimant is not None and claimant != placement.product_name:
        outcome.refuse(
            PassResult.CONFLICT,
            f"Application {plan.name} is already a runtime of another product on this cluster "
            "(Argo CD Application names are per cluster); rename the runtime",
        )


def _describe_owner(owner: str) -> str:
    # Never another product's name or id: the message is shown to this product's readers.
    return "labelled for another product" if owner else f"no label {desired.OWNER_LABEL}"
