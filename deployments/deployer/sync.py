"""The step of `runtime.sync`: ask Argo CD to sync one Application now."""

from __future__ import annotations

from deployments import desired
from deployments.deployer.context import _client, _context, _ensure
from deployments.deployer.planning import SYSTEM, DeployError
from deployments.desired import ARGOCD_GROUP, ARGOCD_VERSION
from nautes_portal.errors import IntegrationError
from nautes_portal.operations.models import Operation


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
