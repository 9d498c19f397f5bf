"""The step of `runtime.sync`: ask Argo CD to sync one Application now, and `set_operation`,
which writes an `operation` on an Application for it and for `runtime.rollback`."""

from __future__ import annotations

from collections.abc import Callable

from deployments import desired
from deployments.deployer.context import Context, _client, _context
from deployments.deployer.planning import SYSTEM
from deployments.deployer.scope import RuntimeScope, check_selected_resources, owned_application
from deployments.deployer.sync_options import SyncOptions, sync_operation
from deployments.desired import ARGOCD_GROUP, ARGOCD_VERSION
from nautes_portal.errors import IntegrationError
from nautes_portal.integrations.kube import ClusterApi, ClusterConflict
from nautes_portal.integrations.kube.interface import Obj
from nautes_portal.operations.models import Operation

_ATTEMPTS = 3


def application_scope(context: Context) -> RuntimeScope:
    """The scope of an action on the Application alone (it needs no runtime namespaces)."""
    return RuntimeScope(
        product_name=context.product_name,
        product_id=context.product_id,
        runtime_name=context.runtime_name,
        cluster_name=context.cluster.name,
        argocd_namespace=context.placement.argocd_namespace,
        namespaces=(),
    )


def set_operation(client: ClusterApi, scope: RuntimeScope, build: Callable[[Obj], Obj]) -> Obj:
    """Write `build(application)` as the Application's `operation`, as Argo CD's API server
    does (refused while an operation runs). `build` may refuse (raise) after reading it. The
    patch carries the resourceVersion read: when Argo CD changed the Application meanwhile it
    is read, checked and built again."""
    for _attempt in range(_ATTEMPTS):
        app = owned_application(client, scope)
        phase = ((app.get("status") or {}).get("operationState") or {}).get("phase")
        if app.get("operation") or phase == "Running":
            raise IntegrationError(
                SYSTEM,
                f"a sync of {scope.runtime_name} is already running; wait for it to finish",
                retryable=False,
                reason="SYNC_RUNNING",
                status=409,
            )
        patch = {
            "metadata": {"resourceVersion": app["metadata"]["resourceVersion"]},
            "operation": build(app),
        }
        try:
            written = client.patch_object(
                ARGOCD_GROUP, ARGOCD_VERSION, "applications", scope.argocd_namespace,
                scope.runtime_name, patch,
            )  # fmt: skip
        except ClusterConflict as exc:
            if exc.reason != "CLUSTER_CONFLICT":
                raise
            continue
        if written is not None:
            return written
    raise ClusterConflict(
        f"Application {scope.argocd_namespace}/{scope.runtime_name} kept changing while the "
        "portal set its operation; try again.",
        reason="CLUSTER_CONFLICT",
        retryable=True,
    )


def sync_application(operation: Operation) -> str:
    context = _context(operation)
    scope = application_scope(context)
    username = operation.params.get("username") or "portal"
    stored = operation.params.get("options")
    options = SyncOptions.from_params(stored) if stored is not None else None

    def build(app: Obj) -> Obj:
        if options is None:  # "Sync now" without options, as before #15
            return desired.sync_operation(username)
        # The Application may have changed since the request was checked.
        check_selected_resources(app, options.resources)
        return sync_operation(options, username=username, application=app)

    with _client(context) as client:
        set_operation(client, scope, build)
    where = f"Application {scope.argocd_namespace}/{context.runtime_name}"
    if options is None:
        return f"sync requested on {where}"
    return f"sync requested on {where} ({options.describe()})"
