"""One request to a cluster's API server, and how its failures become `ClusterError`s.

Messages name the API server, never a credential.
"""

from __future__ import annotations

import logging

import orjson
import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from nautes_portal.integrations.kube.errors import (
    ClusterConflict,
    ClusterError,
    ClusterForbidden,
    ClusterUnauthorized,
    ClusterUnreachable,
)
from nautes_portal.integrations.kube.interface import Obj

# The package's logger: one name for the whole adapter, as before the split.
logger = logging.getLogger(__package__)


class RestTransport:
    """A cluster's API server through the official client's REST layer: `_call` and errors."""

    def __init__(self, api: ApiClient, *, server: str, timeout: float = 10.0) -> None:
        self._api = api
        self.server = server
        self._timeout = timeout

    def close(self) -> None:
        """Release the connection pool."""
        self._api.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        query: dict[str, str] | None = None,
        body: Obj | None = None,
        accept: tuple[int, ...] = (),
        content_type: str = "application/json",
    ) -> tuple[int, Obj]:
        """Send one request; return (status, JSON body) for 2xx and `accept`ed statuses.
        `content_type` names the body's media type (a merge patch sends its own)."""
        status, raw = self._send(
            method,
            path,
            action=action,
            query=query,
            body=body,
            accept=accept,
            content_type=content_type,
        )
        return status, _json(raw)

    def _send(
        self,
        method: str,
        path: str,
        *,
        action: str,
        query: dict[str, str] | None = None,
        body: Obj | None = None,
        accept: tuple[int, ...] = (),
        content_type: str = "application/json",
        media: str = "application/json",
    ) -> tuple[int, bytes]:
        """Send one request; return (status, raw body) for 2xx and `accept`ed statuses. An
        error answer is always a JSON `Status`, whatever `media` was asked for."""
        headers = {"Accept": media}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            request = self._api.param_serialize(
                method=method,
                resource_path=path,
                query_params=list(query.items()) if query else None,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self._api.call_api(*request, _request_timeout=self._timeout)
            raw = response.read()
        except ApiException as exc:  # the REST layer wraps TLS failures as status 0
            if exc.status == 0 and "SSLError" in str(exc.reason):
                raise self._unreachable(action, "a TLS error", retryable=False) from None
            raise self._failure(exc.status or 502, {}, action) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._transport_error(exc, action) from None
        if 200 <= response.status <= 299 or response.status in accept:
            return response.status, raw
        raise self._failure(response.status, _json(raw), action)

    def _transport_error(self, exc: Exception, action: str) -> ClusterError:
        cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
        if isinstance(cause, urllib3.exceptions.SSLError):
            return self._unreachable(action, "a TLS error", retryable=False)
        if isinstance(cause, urllib3.exceptions.NameResolutionError):
            return self._unreachable(action, "its host name does not resolve")
        # Before TimeoutError: urllib3's NewConnectionError subclasses ConnectTimeoutError.
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            return self._unreachable(action, "connection refused")
        if isinstance(cause, urllib3.exceptions.TimeoutError):
            return self._unreachable(action, f"no answer within {self._timeout:g} s")
        return self._unreachable(action, "a connection failure")

    def _unreachable(self, action: str, what: str, *, retryable: bool = True) -> ClusterUnreachable:
        logger.warning("Kubernetes API server %s: %s failed (%s)", self.server, action, what)
        hint = (
            "check the cluster's CA certificate in its kubeconfig"
            if not retryable
            else "check that the cluster is up and reachable from the portal, then try again"
        )
        return ClusterUnreachable(
            f"The Kubernetes API server at {self.server} could not be reached to {action} "
            f"({what}); {hint}.",
            retryable=retryable,
        )

    def _failure(self, status: int, answer: Obj, action: str) -> ClusterError:
        """Map an error answer to a ClusterError; the API's Status message is safe to show."""
        api_message = str(answer.get("message") or "")[:300]
        logger.warning(
            "Kubernetes API server %s: %s failed with HTTP %s (%s)",
            self.server,
            action,
            status,
            answer.get("reason", ""),
        )
        where = f"The Kubernetes API server at {self.server}"
        if status == 401:
            return ClusterUnauthorized(
                f"{where} rejected the portal's credentials when trying to {action}; update the "
                "cluster's kubeconfig."
            )
        if status == 403:
            return ClusterForbidden(
                f"{where} does not allow the portal to {action} ({api_message}); grant the "
                "kubeconfig's user the needed rights."
            )
        if status == 404:  # a missing namespace, or a resource type the cluster does not serve
            return ClusterError(
                f"Could not {action} on {self.server}: {api_message}.",
                reason="CLUSTER_RESOURCE_MISSING",
                retryable=False,
            )
        if status == 409:
            return ClusterConflict(
                f"Could not {action} on {self.server}: {api_message}.",
                reason="CLUSTER_CONFLICT",
                retryable=True,
            )
        if status in (502, 503, 504):
            return ClusterUnreachable(f"{where} is unavailable (HTTP {status}); try again later.")
        if status >= 500 or status == 429:
            return ClusterError(f"{where} failed to {action} (HTTP {status}); try again later.")
        return ClusterError(
            f"{where} refused to {action}: {api_message or f'HTTP {status}'}.",
            reason="CLUSTER_REJECTED",
            retryable=False,
        )


def _json(raw: bytes) -> Obj:
    # orjson: a reconcile pass decodes a list of every kind it owns, the largest share of its
    # CPU with the standard library's decoder (bench/reconcile.py).
    try:
        value = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
