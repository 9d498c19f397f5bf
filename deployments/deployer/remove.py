"""The steps of `runtime.remove`: the Application, then the runtime namespaces no other runtime
of the product uses, then the product's objects on the cluster, then the deployment record."""

from __future__ import annotations

from deployments import desired
from deployments.deployer.context import _app_project, _client, _context, _ensure
from deployments.desired import ARGOCD_GROUP, ARGOCD_VERSION, RBAC_GROUP, REPOSITORY_SECRET_LABEL
from deployments.models import RuntimeStatus
from nautes_portal.operations.models import Operation
from products.models import DeploymentRuntime


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
