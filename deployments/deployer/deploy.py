"""The steps of `runtime.deploy`: namespaces → RBAC → AppProject → repository credentials →
Application (each idempotent; a retry applies the current configuration)."""

from __future__ import annotations

from deployments import desired
from deployments.deployer.context import (
    Context,
    _app_project,
    _client,
    _context,
    _ensure,
    _not_here,
    _refuse_forbidden,
    _refuse_foreign,
)
from deployments.deployer.planning import DeployError
from deployments.desired import RuntimePlan
from deployments.models import RuntimeStatus
from nautes_portal.integrations.kube import KubeClient
from nautes_portal.integrations.vault import repo_secret_location, secret_store
from nautes_portal.operations.models import Operation
from products.models import DeploymentRuntime


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
    if not plan.repo_verified:
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
