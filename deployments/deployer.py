"""Deploying DeploymentRuntimes into runtime clusters: the `runtime.*` operation kinds.

`runtime.deploy` ensures, for one runtime on its environment's cluster, what the Nautes runtime
operator would (reference/nautes.md §5.8; the objects come from `deployments.desired`):
namespaces → RBAC → AppProject → repository credentials → Application. `runtime.remove` undoes
it: the Application, then the runtime namespaces no other runtime of the product uses there, then
the AppProject, repository Secrets, product RoleBinding and product namespace once no runtime of
the product is left on that cluster (else the AppProject is recomputed). `runtime.sync` asks
Argo CD for a sync now.

Steps read the index at run time, so a retry applies the current configuration. Every object
carries the owner label; the kube adapter refuses to touch an object without it (ClusterConflict,
a failed step with a clear message). Applying twice gives the same objects.

Namespace ownership is checked here again, whatever the index holds (a runtime may come from
Git): a runtime namespace the product may not use (`products.rules.namespace_refusal`), or one
that exists without the product's owner label (allowed component namespaces aside), fails the
`namespaces` step before anything is created; RoleBindings (to ClusterRole `admin`, never
`cluster-admin`) go only into namespaces the product owns there or was granted; AppProject
destinations are only those namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clusters.health import client_for
from clusters.models import Cluster
from deployments import desired
from deployments.desired import (
    ARGOCD_GROUP,
    ARGOCD_VERSION,
    RBAC_GROUP,
    REPOSITORY_SECRET_LABEL,
    ProductPlacement,
    RuntimePlan,
)
from deployments.models import Operation, RuntimeStatus
from deployments.operations import Step, register
from nautes_portal.errors import IntegrationError
from nautes_portal.integrations.kube import ClusterConflict, KubeClient
from nautes_portal.integrations.vault import repo_secret_location, secret_store
from products import rules
from products.adoption import is_verified_code_repo
from products.models import (
    CodeRepo,
    DeploymentRuntime,
    Environment,
    Product,
    ProjectPipelineRuntime,
)

RUNTIME_DEPLOY = "runtime.deploy"
RUNTIME_REMOVE = "runtime.remove"
RUNTIME_SYNC = "runtime.sync"
SYSTEM = "Kubernetes"


class DeployError(IntegrationError):
    """The runtime cannot be deployed as configured (a missing environment, cluster, repo)."""

    reason = "DEPLOY_IMPOSSIBLE"

    def __init__(self, message: str) -> None:
        super().__init__(SYSTEM, message, retryable=False)


# ---- Reading the index ------------------------------------------------------
def repo_url(repo: CodeRepo) -> str:
    """The URL Argo CD clones: the manifest's `spec.url`, else the SSH URL, else HTTP."""
    return repo.url or repo.ssh_url or repo.http_url


def runtimes_on_cluster(product: Product, cluster_name: str) -> list[DeploymentRuntime]:
    """The product's runtimes whose environment is on the cluster (one query)."""
    environments = Environment.objects.filter(product=product, cluster=cluster_name).values("name")
    return list(
        DeploymentRuntime.objects.filter(
            product=product, destination_environment__in=environments
        ).order_by("name")
    )


def plan_for(runtime: DeploymentRuntime, repos: dict[str, CodeRepo]) -> RuntimePlan:
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
    )


def placement_for(
    product: Product | None,
    cluster: Cluster,
    *,
    product_id: str,
    product_name: str,
    exclude: str | None = None,
) -> ProductPlacement:
    """The product on the cluster as the index says now (without the runtime `exclude`)."""
    runtimes: list[DeploymentRuntime] = []
    repos: dict[str, CodeRepo] = {}
    if product is not None:
        runtimes = [r for r in runtimes_on_cluster(product, cluster.name) if r.name != exclude]
        wanted = {r.manifest_code_repo for r in runtimes}
        repos = {r.name: r for r in CodeRepo.objects.filter(product=product, name__in=wanted)}
    return ProductPlacement(
        product_name=product_name,
        product_id=product_id,
        argocd_namespace=desired.argocd_namespace(cluster.components_list),
        runtimes=tuple(plan_for(r, repos) for r in runtimes),
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


# ---- Operation context ------------------------------------------------------
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


# ---- runtime.deploy ---------------------------------------------------------
def deploy_namespaces(operation: Operation) -> str:
    context = _context(operation)
    plan = context.plan
    if plan is None:
        return _not_here(context)
    _refuse_forbidden(context, plan)
    names = list(dict.fromkeys([context.product_id, *plan.namespaces]))
    shared = [ns for ns in names if context.placement.shared(ns)]
    with _client(context) as client:
        _refuse_foreign(client, context, names)
        for name in names:
            if name not in shared:
                _ensure(client, context, desired.namespace(context.placement, name))
    detail = f"namespaces {', '.join(n for n in names if n not in shared)}"
    if shared:
        detail += f"; component namespace {', '.join(shared)} used as it is"
    return detail


def deploy_rbac(operation: Operation) -> str:
    context = _context(operation)
    plan = context.plan
    if plan is None:
        return _not_here(context)
    _refuse_forbidden(context, plan)
    with _client(context) as client:
        # Checked again: RoleBindings go only where the product owns the namespace or was let in.
        _refuse_foreign(client, context, [context.product_id, *plan.namespaces])
        _ensure(client, context, desired.product_role_binding(context.placement))
        for ns in plan.namespaces:
            _ensure(client, context, desired.service_account(context.placement, plan, ns))
            _ensure(client, context, desired.account_role_binding(context.placement, plan, ns))
    return (
        f"RoleBinding {context.product_id} for group {context.product_name}; ServiceAccount and "
        f"RoleBinding {plan.account} in {', '.join(plan.namespaces)}"
    )


def deploy_app_project(operation: Operation) -> str:
    context = _context(operation)
    if context.plan is None:
        return _not_here(context)
    with _client(context) as client:
        project = _app_project(client, context)
        _ensure(client, context, project)
    spec = project["spec"]
    return (
        f"AppProject {context.placement.argocd_namespace}/{context.product_id}: "
        f"{len(spec['destinations'])} destinations, {len(spec['sourceRepos'])} source "
        f"repositories, {len(spec['clusterResourceWhitelist'])} cluster resource kinds"
    )


def deploy_repository_credentials(operation: Operation) -> str:
    context = _context(operation)
    plan = context.plan
    if plan is None:
        return _not_here(context)
    if not plan.repo_url:
        raise DeployError(
            f"the manifest repository {plan.repo_id or '(none)'} of runtime {plan.name} is not "
            f"a code repository of product {context.product_name}"
        )
    if plan.repo_url.startswith("file://"):
        return (
            f"skipped: {plan.repo_id} is a local repository ({plan.repo_url.split('://')[0]}:// "
            "URL), which needs no credentials"
        )
    location = repo_secret_location(plan.repo_id, "readonly")
    data = secret_store().read(engine=location.engine, path=location.path) or {}
    key = data.get("deploykey")
    if not key:
        return (
            f"skipped: Vault holds no read-only deploy key for {plan.repo_id} "
            f"({location.engine}/{location.path}); Argo CD reads the repository without one"
        )
    _refuse_unverified_repo(context, plan)
    body = desired.repository_secret(context.placement, plan, key)
    with _client(context) as client:
        _ensure(client, context, body)
    return (
        f"Secret {context.placement.argocd_namespace}/{body['metadata']['name']} with the "
        f"read-only deploy key of {plan.repo_id} for {plan.repo_url}"
    )


def _refuse_unverified_repo(context: Context, plan: RuntimePlan) -> None:
    """A deploy key goes only with a code repository Git confirmed as this product's own
    project: Vault keeps keys by `repo-<project id>` for the whole tenant, so a name another
    product's project holds must not fetch its key (#12)."""
    git_project_id = (
        CodeRepo.objects.filter(product=context.product, name=plan.repo_id)
        .values_list("git_project_id", flat=True)
        .first()
    )
    if not is_verified_code_repo(plan.repo_id, git_project_id):
        raise DeployError(
            f"refused: code repository {plan.repo_id} of product {context.product_name} is not "
            f"verified as the Git project its name claims (see its problems; a sync checks it "
            "again), so no deploy key is handed to Argo CD for it"
        )


def deploy_application(operation: Operation) -> str:
    context = _context(operation)
    plan = context.plan
    if plan is None:
        return _not_here(context)
    _refuse_forbidden(context, plan)
    body = desired.application(context.placement, plan)
    with _client(context) as client:
        _ensure(client, context, body)
        removed = _remove_stale_namespaces(client, context, plan)
    _record_deployed(context, plan)
    detail = (
        f"Application {context.placement.argocd_namespace}/{plan.name} → "
        f"{plan.destination_namespace} from {plan.repo_url} {plan.path}@{plan.revision or 'HEAD'}"
    )
    if removed:
        detail += f"; removed namespaces no longer used: {', '.join(removed)}"
    return detail


def _remove_stale_namespaces(client: KubeClient, context: Context, plan: RuntimePlan) -> list[str]:
    """Namespaces this runtime had here before and that no runtime of the product uses now."""
    row = RuntimeStatus.objects.filter(
        product=context.product, runtime_name=plan.name, deployed_cluster=context.cluster.name
    ).first()
    if row is None:
        return []
    keep = set(context.placement.runtime_namespaces()) | context.component_namespaces
    stale = [ns for ns in row.deployed_namespaces if ns not in keep]
    for ns in stale:
        client.delete_namespace(ns, owner_label=context.owner)
    return stale


def _record_deployed(context: Context, plan: RuntimePlan) -> None:
    """Remember where the portal applied the runtime (to clean up after a move)."""
    if context.product is None:
        return
    environment = (
        DeploymentRuntime.objects.filter(product=context.product, name=plan.name)
        .values_list("destination_environment", flat=True)
        .first()
    )
    RuntimeStatus.objects.update_or_create(
        product=context.product,
        runtime_name=plan.name,
        defaults={
            "deployed_cluster": context.cluster.name,
            "deployed_namespaces": list(plan.namespaces),
            "deployed_account": plan.account,
        },
        create_defaults={
            "cluster": context.cluster.name,
            "environment": environment or "",
            "deployed_cluster": context.cluster.name,
            "deployed_namespaces": list(plan.namespaces),
            "deployed_account": plan.account,
        },
    )


# ---- runtime.remove ---------------------------------------------------------
def remove_application(operation: Operation) -> str:
    context = _context(operation, exclude_runtime=True)
    ns = context.placement.argocd_namespace
    with _client(context) as client:
        deleted = client.delete_object(
            ARGOCD_GROUP,
            ARGOCD_VERSION,
            "applications",
            ns,
            context.runtime_name,
            owner_label=context.owner,
        )
    return f"Application {ns}/{context.runtime_name} {'deleted' if deleted else 'already absent'}"


def remove_namespaces(operation: Operation) -> str:
    context = _context(operation, exclude_runtime=True)
    namespaces: list[str] = list(operation.params.get("namespaces") or [context.runtime_name])
    account = operation.params.get("account") or context.runtime_name
    remaining = context.placement.runtimes
    deleted, kept = [], []
    with _client(context) as client:
        for ns in namespaces:
            users = [r for r in remaining if ns in r.namespaces]
            if not users and ns not in context.component_namespaces:
                if client.delete_namespace(ns, owner_label=context.owner):
                    deleted.append(ns)
                continue
            kept.append(ns)
            if not any(r.account == account for r in users):
                client.delete_object(
                    RBAC_GROUP, "v1", "rolebindings", ns, account, owner_label=context.owner
                )
                client.delete_object(
                    "", "v1", "serviceaccounts", ns, account, owner_label=context.owner
                )
    parts = [f"deleted {', '.join(deleted)}" if deleted else "none deleted"]
    if kept:
        parts.append(
            f"kept {', '.join(kept)} (used by other runtimes of the product, or a component "
            "namespace)"
        )
    return "namespaces: " + "; ".join(parts)


def remove_product_objects(operation: Operation) -> str:
    context = _context(operation, exclude_runtime=True)
    placement = context.placement
    ns = placement.argocd_namespace
    with _client(context) as client:
        secrets = client.list_objects(
            "",
            "v1",
            "secrets",
            ns,
            label_selector=f"{desired.OWNER_LABEL}={context.product_id},"
            f"{REPOSITORY_SECRET_LABEL}=repository",
        )
        if placement.runtimes:
            _ensure(client, context, _app_project(client, context))
            in_use = {desired.repository_secret_name(r.repo_id) for r in placement.runtimes}
            for secret in secrets:
                name = secret["metadata"]["name"]
                if name not in in_use:
                    client.delete_object("", "v1", "secrets", ns, name, owner_label=context.owner)
            return (
                f"{len(placement.runtimes)} runtime(s) of the product remain on cluster "
                f"{context.cluster.name}: AppProject {context.product_id} recomputed"
            )
        client.delete_object(
            ARGOCD_GROUP,
            ARGOCD_VERSION,
            "appprojects",
            ns,
            context.product_id,
            owner_label=context.owner,
        )
        for secret in secrets:
            client.delete_object(
                "", "v1", "secrets", ns, secret["metadata"]["name"], owner_label=context.owner
            )
        client.delete_object(
            RBAC_GROUP,
            "v1",
            "rolebindings",
            context.product_id,
            context.product_id,
            owner_label=context.owner,
        )
        client.delete_namespace(context.product_id, owner_label=context.owner)
    return (
        f"no runtime of the product remains on cluster {context.cluster.name}: deleted AppProject "
        f"{context.product_id}, {len(secrets)} repository Secret(s), RoleBinding and namespace "
        f"{context.product_id}"
    )


def remove_record(operation: Operation) -> str:
    """Forget the deployment record (kept while the runtime lives on, e.g. after a move)."""
    p = operation.params
    rows = RuntimeStatus.objects.filter(product_id=p.get("product_pk"), runtime_name=p["runtime"])
    still_indexed = DeploymentRuntime.objects.filter(
        product_id=p.get("product_pk"), name=p["runtime"]
    ).exists()
    if still_indexed:
        rows.filter(deployed_cluster=p["cluster"]).update(
            deployed_cluster="", deployed_namespaces=[], deployed_account=""
        )
        return "the runtime still exists elsewhere; its record on this cluster is cleared"
    rows.delete()
    return "status record deleted"


# ---- runtime.sync -----------------------------------------------------------
def sync_application(operation: Operation) -> str:
    context = _context(operation)
    ns = context.placement.argocd_namespace
    with _client(context) as client:
        current = client.get_object(
            ARGOCD_GROUP, ARGOCD_VERSION, "applications", ns, context.runtime_name
        )
        if current is None:
            raise DeployError(
                f"Argo CD has no Application {context.runtime_name} on cluster "
                f"{context.cluster.name}; re-apply the runtime first"
            )
        phase = ((current.get("status") or {}).get("operationState") or {}).get("phase")
        if current.get("operation") or phase == "Running":
            raise IntegrationError(
                SYSTEM,
                f"a sync of {context.runtime_name} is already running; wait for it to finish",
                retryable=False,
                reason="SYNC_RUNNING",
                status=409,
            )
        # The stored spec is sent back unchanged: only `operation` is new.
        body = {
            "apiVersion": desired.ARGOCD_API_VERSION,
            "kind": "Application",
            "metadata": {"name": context.runtime_name, "namespace": ns},
            "spec": current.get("spec") or {},
            "operation": desired.sync_operation(operation.params.get("username") or "portal"),
        }
        _ensure(client, context, body)
    return f"sync requested on Application {ns}/{context.runtime_name}"


register(
    RUNTIME_DEPLOY,
    [
        Step("namespaces", "Ensure the product and runtime namespaces", deploy_namespaces),
        Step("rbac", "Ensure the RoleBindings and the runtime account", deploy_rbac),
        Step("appproject", "Ensure the Argo CD AppProject", deploy_app_project),
        Step("credentials", "Ensure the repository credentials", deploy_repository_credentials),
        Step("application", "Ensure the Argo CD Application", deploy_application),
    ],
)
register(
    RUNTIME_REMOVE,
    [
        Step("application", "Delete the Argo CD Application", remove_application),
        Step("namespaces", "Delete runtime namespaces no longer used", remove_namespaces),
        Step("project", "Remove or recompute the product's objects", remove_product_objects),
        Step("record", "Forget the deployment record", remove_record),
    ],
)
register(RUNTIME_SYNC, [Step("sync", "Ask Argo CD to sync now", sync_application)])

__all__ = [
    "RUNTIME_DEPLOY",
    "RUNTIME_REMOVE",
    "RUNTIME_SYNC",
    "DeployError",
    "cluster_of",
    "placement_for",
    "repo_url",
    "runtimes_on_cluster",
]
