"""The steps of the console's other actions on a runtime (#15): hard refresh, rollback,
restart a workload, delete a pod.

Each step checks again, right before its write, that the object is the runtime's
(`deployments.deployer.scope`): the request was checked when it was queued, but a retry may
come much later and the cluster may have changed. Every write is a merge patch or a delete
carrying a precondition (the uid or resourceVersion of the object just checked), so an object
recreated in between is never the one changed.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from deployments.deployer.context import Context, _client, _context
from deployments.deployer.planning import DeployError
from deployments.deployer.scope import (
    WORKLOAD_GROUP,
    WORKLOAD_KINDS,
    WORKLOAD_VERSION,
    RuntimeScope,
    owned_application,
    owned_pod,
    owned_workload,
    scope_for,
)
from deployments.deployer.sync import application_scope, set_operation
from deployments.deployer.sync_options import (
    automated,
    history_entry,
    rollback_operation,
)
from deployments.desired import ARGOCD_GROUP, ARGOCD_VERSION
from nautes_portal.errors import Conflict, NotFound, RuleViolation
from nautes_portal.integrations.kube.interface import Obj
from nautes_portal.operations.models import Operation
from products.models import DeploymentRuntime

REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"


def _runtime_scope(context: Context) -> RuntimeScope:
    """The runtime's scope with its namespaces, from the index as it is now."""
    runtime = (
        DeploymentRuntime.objects.filter(product=context.product, name=context.runtime_name).first()
        if context.product is not None
        else None
    )
    if context.product is None or runtime is None:
        raise DeployError(f"runtime {context.product_name}/{context.runtime_name} no longer exists")
    return scope_for(context.cluster, context.product, runtime)


def _uid(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


# ---- Hard refresh ---------------------------------------------------------------------------
def hard_refresh_application(operation: Operation) -> str:
    """Annotate the Application `argocd.argoproj.io/refresh=hard`: Argo CD then reads Git again
    and renders the manifests without its cache (and removes the annotation)."""
    context = _context(operation)
    scope = application_scope(context)
    with _client(context) as client:
        app = owned_application(client, scope)
        patch = {"metadata": {"uid": _uid(app), "annotations": {REFRESH_ANNOTATION: "hard"}}}
        written = client.patch_object(
            ARGOCD_GROUP, ARGOCD_VERSION, "applications", scope.argocd_namespace,
            scope.runtime_name, patch,
        )  # fmt: skip
    if written is None:
        raise NotFound(f"Application {scope.runtime_name} was deleted meanwhile")
    return f"hard refresh requested on Application {scope.argocd_namespace}/{scope.runtime_name}"


# ---- Rollback -------------------------------------------------------------------------------
def _without_credentials(url: str) -> str:
    """The repository URL without any user:password part (an Application edited by hand may
    carry one); `git@host:path` keeps its user, which is no secret."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://{rest.split('@', 1)[1]}"


def rollback_refusal(app: Obj, scope: RuntimeScope, history_id: int) -> Obj:
    """The history entry to roll back to, or the refusal (Argo CD's rules, and the way out)."""
    if automated(app):
        history = reverse("product-history", args=[scope.product_name])
        source = (app.get("spec") or {}).get("source") or {}
        raise Conflict(
            f"Application {scope.runtime_name} syncs automatically (spec.syncPolicy.automated): "
            "Argo CD would move it back to Git's head at its next sync, undoing the rollback. "
            "Revert the change in Git instead: the commit of the manifest repository that broke "
            "it (git revert, then push), or, when a change of the runtime's configuration did, "
            f"that commit from the product's history ({history}, Revert); Argo CD then deploys "
            "the reverted state.",
            reason="ROLLBACK_UNDER_AUTOMATED_SYNC",
            metadata={
                "history_url": history,
                "manifest_repository": _without_credentials(str(source.get("repoURL") or "")),
                "manifest_path": str(source.get("path") or ""),
            },
        )
    entry = history_entry(app, history_id)
    if entry is None:
        raise RuleViolation(
            f"id: Application {scope.runtime_name} has no deployment with id {history_id} in "
            "its history (status.history); pick one of the runtime's history entries",
            reason="HISTORY_ENTRY_NOT_FOUND",
        )
    if not entry.get("source"):
        raise RuleViolation(
            f"id: deployment {history_id} was recorded without its source; it cannot be "
            "rolled back to (sync to its revision instead)",
            reason="HISTORY_ENTRY_WITHOUT_SOURCE",
        )
    return entry


def rollback_application(operation: Operation) -> str:
    context = _context(operation)
    scope = application_scope(context)
    history_id = int(operation.params["history_id"])
    username = operation.params.get("username") or "portal"
    revision = ""

    def build(app: Obj) -> Obj:
        nonlocal revision
        entry = rollback_refusal(app, scope, history_id)
        revision = str(entry.get("revision") or "")
        return rollback_operation(entry, username=username, application=app)

    with _client(context) as client:
        set_operation(client, scope, build)
    return (
        f"rollback to deployment {history_id} (revision {revision[:12]}) requested on "
        f"Application {scope.argocd_namespace}/{scope.runtime_name}"
    )


# ---- Restart a workload ---------------------------------------------------------------------
def _now() -> str:
    # What `kubectl rollout restart` writes (RFC 3339), here in UTC.
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def restart_workload(operation: Operation) -> str:
    """Set `kubectl.kubernetes.io/restartedAt` on the pod template, as `kubectl rollout
    restart` does: the controller replaces the pods by its own rollout rules."""
    context = _context(operation)
    p = operation.params
    kind, name, namespace = p["kind"], p["name"], p.get("namespace") or ""
    with _client(context) as client:
        scope = _runtime_scope(context)
        workload = owned_workload(client, scope, kind, name, namespace)
        namespace = workload["metadata"]["namespace"]
        restarted_at = _now()
        patch = {
            "metadata": {"uid": _uid(workload)},
            "spec": {
                "template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: restarted_at}}}
            },
        }
        written = client.patch_object(
            WORKLOAD_GROUP, WORKLOAD_VERSION, WORKLOAD_KINDS[kind], namespace, name, patch
        )
    if written is None:
        raise NotFound(f"{kind} {namespace}/{name} was deleted meanwhile")
    return f"{kind} {namespace}/{name} restarted at {restarted_at}"


# ---- Delete a pod ---------------------------------------------------------------------------
def delete_pod(operation: Operation) -> str:
    context = _context(operation)
    p = operation.params
    name, namespace, requested_uid = p["pod"], p.get("namespace") or "", p.get("uid") or ""
    with _client(context) as client:
        scope = _runtime_scope(context)
        pod = owned_pod(client, scope, name, namespace)
        namespace = pod["metadata"]["namespace"]
        if requested_uid and _uid(pod) != requested_uid:
            # Its controller replaced it since the request: that one is not the pod asked for.
            return f"pod {namespace}/{name} was already replaced; nothing deleted"
        deleted = client.delete_pod(namespace, name, uid=_uid(pod))
    if not deleted:
        return f"pod {namespace}/{name} was already gone or replaced; nothing deleted"
    return f"pod {namespace}/{name} deleted"
