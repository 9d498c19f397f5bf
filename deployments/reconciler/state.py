"""What one runtime cluster should hold, read from the index: products, their runtimes, and
which runtimes are admitted (the rules a runtime must pass before anything is written).

A runtime is admitted when its file breaks no rule, every namespace it names is one its product
may use (`ProductPlacement.refusal`), its manifest repository is a code repository of its
product, no namespace it would own exists without its product's owner label, and no sound
runtime (deployment or pipeline) of another product claims the same new namespace or
Application name on the cluster (then neither gets it: the index's rules say which is wrong).
Everything else becomes an outcome on the runtime (refused, conflict) and nothing is written
for it. Reads the database only; the namespaces of the cluster are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clusters.models import Cluster
from deployments import desired
from deployments.deployer.planning import placement_for, plan_for
from deployments.desired import ProductPlacement, RuntimePlan
from deployments.models import PassResult
from products.models import (
    CodeRepo,
    DeploymentRuntime,
    Environment,
    Product,
    ProjectPipelineRuntime,
)


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
    return placement_for(
        cluster, product_id=product.resource_name, product_name=product.name, runtimes=plans
    )


def _owner_of(labels: Mapping[str, str] | None) -> str:
    return str((labels or {}).get(desired.OWNER_LABEL) or "")


# What a pass reads of a runtime (not its whole document: a fleet's worth of JSON to decode).
_RUNTIME_FIELDS = (
    "product_id",
    "name",
    "destination_environment",
    "destination_namespaces",
    "account",
    "manifest_code_repo",
    "manifest_path",
    "manifest_target_revision",
    "problems",
)


@dataclass(frozen=True, slots=True)
class RuntimeRow:
    """What a pass reads of a DeploymentRuntime, as values (`_RUNTIME_FIELDS`, in order): a
    cluster has hundreds of runtimes, and model instances cost a pass more than its queries."""

    product_id: int
    name: str
    destination_environment: str
    destination_namespaces: list[str]
    account: str
    manifest_code_repo: str
    manifest_path: str
    manifest_target_revision: str
    problems: list[Any]


def cluster_state(
    cluster: Cluster,
    namespace_labels: Mapping[str, Mapping[str, str]],
    application_owners: Mapping[str, str],
) -> ClusterState:
    """The cluster as the index wants it. `namespace_labels`: every namespace of the cluster
    with its labels; `application_owners`: the owner label of every labelled Application in
    the cluster's Argo CD namespace (both listed by the caller). What exists keeps its owner; a
    new name that sound runtimes of two products claim goes to neither. Fixed query count."""
    environments = list(
        Environment.objects.filter(cluster=cluster.name)
        .select_related("product")
        .order_by("product_id", "name")
    )
    places = {(env.product_id, env.name) for env in environments}
    products = {env.product_id: env.product for env in environments}
    runtimes = [
        runtime
        for runtime in (
            RuntimeRow(*values)
            for values in DeploymentRuntime.objects.filter(
                product_id__in=products, destination_environment__in={n for _, n in places}
            )
            .order_by("product_id", "name")
            .values_list(*_RUNTIME_FIELDS)
        )
        if (runtime.product_id, runtime.destination_environment) in places
    ]
    repos: dict[tuple[int, str], CodeRepo] = {
        (repo.product_id, repo.name): repo
        for repo in CodeRepo.objects.filter(
            product_id__in=products, name__in={r.manifest_code_repo for r in runtimes}
        ).only("product_id", "name", "url", "ssh_url", "http_url", "git_project_id")
    }
    claims = _claims(runtimes, products, places)
    outcomes: dict[tuple[int, str], Outcome] = {}
    result: list[ProductOnCluster] = []
    for product_pk in sorted(products):
        product = products[product_pk]
        own = [r for r in runtimes if r.product_id == product_pk]
        if not own:
            continue
        own_repos = {name: repo for (pk, name), repo in repos.items() if pk == product_pk}
        plans = {r.name: plan_for(r, own_repos) for r in own}
        placement = _placement(product, cluster, tuple(plans.values()))
        admitted: list[RuntimePlan] = []
        for runtime in own:
            outcome = Outcome(product_pk, runtime.name, runtime.destination_environment)
            outcomes[(product_pk, runtime.name)] = outcome
            _admit(
                outcome, runtime, plans[runtime.name], placement,
                namespace_labels, application_owners, claims,
            )  # fmt: skip
            if outcome.admitted:
                admitted.append(plans[runtime.name])
        if admitted:
            result.append(ProductOnCluster(product, _placement(product, cluster, tuple(admitted))))
    return ClusterState(cluster=cluster, products=result, outcomes=outcomes)


@dataclass(frozen=True)
class Claims:
    """Which products' sound runtimes on the cluster name each namespace and Application."""

    namespaces: dict[str, set[int]]
    applications: dict[str, set[int]]

    def others(self, kind: str, name: str, product_pk: int) -> bool:
        table = self.namespaces if kind == "namespace" else self.applications
        return bool(table.get(name, set()) - {product_pk})


def _claims(
    runtimes: list[RuntimeRow],
    products: Mapping[int, Product],
    places: set[tuple[int, str]],
) -> Claims:
    """Claims of the runtimes the index left sound (a flagged one claims nothing: the index
    already said which of two claimants broke the rule), pipeline runtimes included."""
    namespaces: dict[str, set[int]] = {}
    applications: dict[str, set[int]] = {}
    for runtime in runtimes:
        if runtime.problems:
            continue
        for ns in desired.runtime_namespaces(runtime.name, runtime.destination_namespaces):
            namespaces.setdefault(ns, set()).add(runtime.product_id)
        applications.setdefault(runtime.name, set()).add(runtime.product_id)
    for pipeline in ProjectPipelineRuntime.objects.filter(
        product_id__in=products, problems=[]
    ).only("product_id", "name", "destination_environment", "destination_namespace"):
        if (pipeline.product_id, pipeline.destination_environment) in places:
            ns = pipeline.destination_namespace or pipeline.name
            namespaces.setdefault(ns, set()).add(pipeline.product_id)
    return Claims(namespaces, applications)


def _admit(
    outcome: Outcome,
    runtime: RuntimeRow,
    plan: RuntimePlan,
    placement: ProductPlacement,
    namespace_labels: Mapping[str, Mapping[str, str]],
    application_owners: Mapping[str, str],
    claims: Claims,
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
    if not plan.repo_found:
        outcome.refuse(
            PassResult.REFUSED,
            f"not applied: the manifest repository {plan.repo_id or '(none)'} is not a code "
            f"repository of product {placement.product_name}",
        )
        return
    if not plan.repo_verified or not plan.repo_url:
        # Argo CD finds repository credentials by URL: an Application naming a repository
        # Git did not confirm as the product's own could clone another product's (#12, #14).
        outcome.refuse(
            PassResult.REFUSED,
            f"not applied: code repository {plan.repo_id} is not verified as the Git project "
            "its name claims (see its problems; a sync checks it again)",
        )
        return
    product_ns_owner = _owner_of(namespace_labels.get(placement.product_id))
    if placement.product_id in namespace_labels and product_ns_owner != placement.product_id:
        outcome.refuse(
            PassResult.CONFLICT,
            f"namespace {placement.product_id} exists and belongs to someone else "
            f"({_describe_owner(product_ns_owner)}); the portal did not change it",
        )
        return
    pk = outcome.product_pk
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
        elif claims.others("namespace", ns, pk):
            outcome.refuse(
                PassResult.CONFLICT,
                f"namespace {ns} is used by a runtime of another product on this cluster; "
                "until one of them changes, the portal creates it for neither",
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
    if app_owner is None and claims.others("application", plan.name, pk):
        outcome.refuse(
            PassResult.CONFLICT,
            f"Application {plan.name} is also a runtime of another product on this cluster "
            "(Argo CD Application names are per cluster); rename the runtime",
        )


def _describe_owner(owner: str) -> str:
    # Never another product's name or id: the message is shown to this product's readers.
    return "labelled for another product" if owner else f"no label {desired.OWNER_LABEL}"
