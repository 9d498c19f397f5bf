"""What can go wrong in a cluster: `ClusterError` and its kinds, each with its HTTP status."""

from __future__ import annotations

from nautes_portal.errors import IntegrationError

SYSTEM = "Kubernetes"


class ClusterError(IntegrationError):
    """A cluster failed or refused; the message is user-safe and names the API server."""

    status = 502
    reason = "CLUSTER_ERROR"
    default_retryable = True

    def __init__(
        self, message: str, *, retryable: bool | None = None, reason: str | None = None
    ) -> None:
        super().__init__(
            SYSTEM,
            message,
            retryable=self.default_retryable if retryable is None else retryable,
            reason=reason,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ClusterUnreachable(ClusterError):
    """No answer: connection refused, timeout, TLS failure, or a gateway saying it is down."""

    status = 503
    reason = "CLUSTER_UNREACHABLE"


class ClusterUnauthorized(ClusterError):
    """The API server rejected the kubeconfig's credentials (HTTP 401 from the cluster).

    502, not 401: the portal's caller is authenticated; the portal's own credentials are not.
    """

    reason = "CLUSTER_UNAUTHORIZED"
    default_retryable = False


class ClusterForbidden(ClusterError):
    """The kubeconfig's user may not do this (HTTP 403 from the cluster)."""

    reason = "CLUSTER_FORBIDDEN"
    default_retryable = False


class ClusterConflict(ClusterError):
    """The object exists but is not the portal's, or it kept changing under the portal: 409."""

    status = 409
    reason = "RESOURCE_NOT_OWNED"
    default_retryable = False


class KubeconfigInvalid(ClusterError):
    """The kubeconfig cannot be used; the message never quotes it."""

    status = 400
    reason = "KUBECONFIG_INVALID"
    default_retryable = False
