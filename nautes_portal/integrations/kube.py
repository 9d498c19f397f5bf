"""Kubernetes clusters: the only module that talks to cluster API servers (official client).

`KubeClient.from_kubeconfig()` builds an isolated `kubernetes` ApiClient per cluster (the global
default configuration is never touched) and speaks the generic REST paths through that client,
so core, RBAC and custom resources (Argo CD) share one code path: no discovery round-trips and no
discovery cache on disk, as `kubernetes.dynamic` would need. Objects are plain dicts.

Every `ensure_*`/`delete_*` honours an owner label (`resource.nautes.io/belongsto=product-<gid>`,
as the Nautes runtime operator does): the portal never takes over or deletes an object it does
not own. It never writes a ClusterRoleBinding nor any binding to `cluster-admin`. Errors are
translated here into `ClusterError`s whose messages name the API server, never a credential.
The kubeconfig is never written to disk: certificate data is loaded into an SSLContext in
memory (client keys through an anonymous memory file where the OS has one).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import json
import logging
import os
import re
import ssl
import tempfile
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import urllib3
import yaml
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config import new_client_from_config_dict
from kubernetes.config.config_exception import ConfigException

from nautes_portal.errors import IntegrationError, RuleViolation
from nautes_portal.limits import load_yaml_bounded

logger = logging.getLogger(__name__)

SYSTEM = "Kubernetes"
Obj = dict[str, Any]
# Kubeconfig features that would make the portal run a program or read a local file.
_UNSAFE_USER_KEYS = ("exec", "auth-provider", "tokenFile", "client-certificate", "client-key")
_UNSAFE_CLUSTER_KEYS = ("certificate-authority",)
_GROUP = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$")
_SEGMENT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._:-]*[A-Za-z0-9])?$")
_MAX_ATTEMPTS = 3
# What the portal never grants, whoever asks (defence in depth behind `deployments.desired`).
_FORBIDDEN_ROLE = "cluster-admin"
_CLUSTER_BINDINGS = ("rbac.authorization.k8s.io", "clusterrolebindings")
_PAGE_SIZE = 500


# ---- Errors ----------------------------------------------------------------
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


# ---- Interface -------------------------------------------------------------
class ClusterApi(Protocol):
    """What the portal does in a runtime cluster."""

    server: str

    def version(self) -> str: ...
    def can_i(
        self, verb: str, resource: str, group: str = "", namespace: str | None = None
    ) -> bool: ...
    def crd_exists(self, name: str) -> bool: ...
    def namespace_exists(self, name: str) -> bool: ...
    def ensure_namespace(
        self, name: str, labels: dict[str, str], *, owner_label: tuple[str, str] | None = None
    ) -> Obj: ...
    def delete_namespace(self, name: str, *, owner_label: tuple[str, str]) -> bool: ...
    def namespace_owned_or_absent(self, name: str, *, owner_label: tuple[str, str]) -> bool: ...
    def ensure_object(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        body: Obj,
        *,
        owner_label: tuple[str, str],
    ) -> Obj: ...
    def get_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str
    ) -> Obj | None: ...
    def list_objects(
        self, group: str, version: str, plural: str, namespace: str | None, label_selector: str = ""
    ) -> list[Obj]: ...
    def delete_object(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        name: str,
        *,
        owner_label: tuple[str, str],
    ) -> bool: ...
    def read_secret_data(self, namespace: str, name: str) -> dict[str, str] | None: ...
    def close(self) -> None: ...


# ---- Kubeconfig ------------------------------------------------------------
@dataclass(frozen=True)
class _TlsData:
    ca: bytes | None = None
    cert: bytes | None = field(default=None, repr=False)
    key: bytes | None = field(default=None, repr=False)


def _named_entry(doc: Obj, section: str, name: Any) -> Obj:
    """The `cluster`/`user` body of the entry called `name` in `clusters`/`users`."""
    inner = section[:-1]
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.setdefault(inner, {})
            if not isinstance(body, dict):
                break
            return body
    raise KubeconfigInvalid(f"The kubeconfig's context names no usable {inner} entry.")


def _decode(value: Any, what: str) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise KubeconfigInvalid(f"The kubeconfig's {what} is not valid base64.") from None


def _prepare_kubeconfig(text: str, context: str | None) -> tuple[Obj, str, _TlsData]:
    """Parse and check the kubeconfig; take the certificate data out of it (kept in memory).

    Only a kubeconfig with exactly one context is used (registration stores them minified to
    one context, its cluster and its user): with several, which server gets the credentials
    would depend on `current-context` rather than on the address the portal shows. The
    document handed to the kubernetes library holds that context's cluster and user only.
    """
    try:
        doc = load_yaml_bounded(text, what="The kubeconfig")
    except RuleViolation as exc:  # an input limit; the message never quotes the kubeconfig
        raise KubeconfigInvalid(f"{exc.message}.") from None
    except yaml.YAMLError:
        raise KubeconfigInvalid("The kubeconfig is not valid YAML.") from None
    if not isinstance(doc, dict):
        raise KubeconfigInvalid("The kubeconfig must be a YAML mapping.")
    contexts = [entry for entry in doc.get("contexts") or [] if isinstance(entry, dict)]
    if len(contexts) > 1:
        raise KubeconfigInvalid(
            "The kubeconfig has more than one context; the portal uses a kubeconfig with exactly "
            "one context, its cluster and its user: save the cluster again with its kubeconfig."
        )
    name = contexts[0].get("name") if contexts else None
    selected = contexts[0].get("context") if contexts else None
    if not isinstance(selected, dict) or not name or context not in (None, name):
        raise KubeconfigInvalid("The kubeconfig has no usable context; set current-context.")
    if doc.get("current-context") not in (None, "", name):
        raise KubeconfigInvalid("The kubeconfig's current-context names no context in it.")
    cluster = _named_entry(doc, "clusters", selected.get("cluster"))
    user = _named_entry(doc, "users", selected.get("user"))
    # Nothing but the one context, its cluster and its user reaches the client library.
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": selected.get("cluster"), "cluster": cluster}],
        "users": [{"name": selected.get("user"), "user": user}],
        "contexts": [{"name": name, "context": selected}],
        "current-context": name,
    }
    for key in _UNSAFE_USER_KEYS:
        if key in user:
            raise KubeconfigInvalid(
                f"The kubeconfig's user uses '{key}', which the portal does not support; use a "
                "token or embedded client certificate data."
            )
    for key in _UNSAFE_CLUSTER_KEYS:
        if key in cluster:
            raise KubeconfigInvalid(
                f"The kubeconfig refers to a file with '{key}'; embed it as '{key}-data'."
            )
    if "proxy-url" in cluster:
        # The client would send every request, token included, to the proxy: an address the
        # portal never shows (#12, one address per cluster).
        raise KubeconfigInvalid(
            "The kubeconfig's cluster uses 'proxy-url', which the portal does not support: it "
            "talks to the API server address it shows, directly."
        )
    if not isinstance(cluster.get("server"), str) or not cluster["server"]:
        raise KubeconfigInvalid("The kubeconfig's cluster has no server address.")
    # Popped so that the kubernetes library never sees them: it would write them to temp files.
    tls = _TlsData(
        ca=_decode(cluster.pop("certificate-authority-data", None), "certificate authority"),
        cert=_decode(user.pop("client-certificate-data", None), "client certificate"),
        key=_decode(user.pop("client-key-data", None), "client key"),
    )
    return doc, str(name), tls


def _ssl_context(tls: _TlsData, *, verify: bool) -> ssl.SSLContext:
    """An SSLContext with the kubeconfig's CA and client certificate, loaded in memory."""
    if bool(tls.cert) != bool(tls.key):
        raise KubeconfigInvalid("The kubeconfig needs both client-certificate and client-key data.")
    try:
        if tls.ca:
            context = ssl.create_default_context(cadata=tls.ca.decode("ascii"))
        else:
            context = ssl.create_default_context()
        if not verify:  # insecure-skip-tls-verify: true
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if tls.cert and tls.key:
            _load_client_certificate(context, tls.cert, tls.key)
    except (ssl.SSLError, ValueError, OSError):
        raise KubeconfigInvalid(
            "The certificate data in the kubeconfig cannot be loaded."
        ) from None
    return context


def _load_client_certificate(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """Load a client certificate and key: Python's ssl only reads them from files.

    Anonymous memory files (Linux memfd) keep the key off every disk; elsewhere a private
    temporary directory holds them for the instant `load_cert_chain` needs.
    """
    if hasattr(os, "memfd_create"):
        with contextlib.ExitStack() as stack:
            paths = []
            for label, data in (("cert", cert), ("key", key)):
                fd = os.memfd_create(f"kube-client-{label}", os.MFD_CLOEXEC)
                stack.callback(os.close, fd)
                with os.fdopen(os.dup(fd), "wb") as handle:
                    handle.write(data)
                paths.append(f"/proc/self/fd/{fd}")
            with contextlib.suppress(FileNotFoundError):  # no /proc: use the fallback
                context.load_cert_chain(*paths)
                return
    with tempfile.TemporaryDirectory(prefix="nautes-kube-") as directory:
        paths = []
        for label, data in (("cert", cert), ("key", key)):
            path = os.path.join(directory, f"client.{label}")
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                f.write(data)
            paths.append(path)
        context.load_cert_chain(*paths)


def display_server(url: str) -> str:
    """The API server address without any user-info, safe for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# ---- Client ----------------------------------------------------------------
class KubeClient:
    """ClusterApi on one cluster through the official client's REST layer."""

    def __init__(self, api: ApiClient, *, server: str, timeout: float = 10.0) -> None:
        self._api = api
        self.server = server
        self._timeout = timeout

    @classmethod
    def from_kubeconfig(
        cls, text: str, *, timeout: float = 10.0, context: str | None = None
    ) -> KubeClient:
        """A client for the kubeconfig's current (or given) context; raises KubeconfigInvalid."""
        doc, context_name, tls = _prepare_kubeconfig(text, context)
        configuration = Configuration()
        # One quick retry of a refused connection; no read retries: a hung server costs one timeout.
        configuration.retries = urllib3.Retry(total=1, connect=1, read=0, redirect=0, status=0)
        try:
            api = new_client_from_config_dict(
                doc,
                context=context_name,
                persist_config=False,
                client_configuration=configuration,
            )
        except (ConfigException, ValueError, TypeError, KeyError, AttributeError):
            raise KubeconfigInvalid(
                "The kubeconfig cannot be used (incomplete or malformed)."
            ) from None
        if api.configuration.host.startswith("https://"):
            context_ = _ssl_context(tls, verify=api.configuration.verify_ssl)
            api.rest_client.pool_manager.connection_pool_kw["ssl_context"] = context_
        return cls(api, server=display_server(api.configuration.host), timeout=timeout)

    def __repr__(self) -> str:
        return f"KubeClient(server={self.server!r})"

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._api.close()

    # -- Queries -------------------------------------------------------------
    def version(self) -> str:
        """The cluster's Kubernetes version (`gitVersion`, e.g. `v1.27.4+k3s1`)."""
        return str(self._call("GET", "/version", action="read the version")[1]["gitVersion"])

    def can_i(
        self, verb: str, resource: str, group: str = "", namespace: str | None = None
    ) -> bool:
        """Whether the kubeconfig's user may `verb` `resource` (`plural` or `plural/subresource`)
        of `group`, in `namespace` or cluster-wide: a SelfSubjectAccessReview."""
        resource, _, subresource = resource.partition("/")
        attributes = {"verb": verb, "resource": resource, "group": group}
        if subresource:
            attributes["subresource"] = subresource
        if namespace:
            attributes["namespace"] = namespace
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        path = _path("authorization.k8s.io", "v1", "selfsubjectaccessreviews", None)
        answer = self._call("POST", path, body=review, action="check permissions")[1]
        return bool((answer.get("status") or {}).get("allowed"))

    def crd_exists(self, name: str) -> bool:
        """Whether the CustomResourceDefinition `name` (e.g. `applications.argoproj.io`) exists."""
        return (
            self.get_object("apiextensions.k8s.io", "v1", "customresourcedefinitions", None, name)
            is not None
        )

    def namespace_exists(self, name: str) -> bool:
        """Whether the namespace exists (in any phase)."""
        return self.get_object("", "v1", "namespaces", None, name) is not None

    def namespace_owned_or_absent(self, name: str, *, owner_label: tuple[str, str]) -> bool:
        """Whether the namespace exists; ClusterConflict when it does without `owner_label`."""
        current = self.get_object("", "v1", "namespaces", None, name)
        if current is None:
            return False
        self._check_owner(current, owner_label, _describe("namespaces", None, name))
        return True

    def get_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str
    ) -> Obj | None:
        """The object, or None when absent."""
        path = _path(group, version, plural, namespace, name)
        status, obj = self._call("GET", path, accept=(404,), action=f"read {plural} {name}")
        return None if status == 404 else obj

    def list_objects(
        self, group: str, version: str, plural: str, namespace: str | None, label_selector: str = ""
    ) -> list[Obj]:
        """Every object of a type (in a namespace, or cluster-wide) matching the selector."""
        path = _path(group, version, plural, namespace)
        query: dict[str, str] = {"limit": str(_PAGE_SIZE)}
        if label_selector:
            query["labelSelector"] = label_selector
        items: list[Obj] = []
        while True:
            answer = self._call("GET", path, query=query, action=f"list {plural}")[1]
            # List items of built-in types come without apiVersion/kind: restore them.
            kind = str(answer.get("kind", "")).removesuffix("List")
            for item in answer.get("items") or []:
                item.setdefault("apiVersion", answer.get("apiVersion"))
                item.setdefault("kind", kind)
                items.append(item)
            token = (answer.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token

    def read_secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """A Secret's data, base64-decoded as UTF-8 text; None when the Secret is absent."""
        secret = self.get_object("", "v1", "secrets", namespace, name)
        if secret is None:
            return None
        data = secret.get("data") or {}
        try:
            return {
                k: base64.b64decode(v).decode("utf-8", errors="replace") for k, v in data.items()
            }
        except (binascii.Error, ValueError):
            raise ClusterError(
                f"Secret {namespace}/{name} on {self.server} holds data that is not base64.",
                retryable=False,
            ) from None

    # -- Changes -------------------------------------------------------------
    def ensure_namespace(
        self, name: str, labels: dict[str, str], *, owner_label: tuple[str, str] | None = None
    ) -> Obj:
        """Create the namespace or add the labels; refuse a namespace not carrying `owner_label`."""
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels},
        }
        return self._ensure("", "v1", "namespaces", None, body, owner_label)

    def delete_namespace(self, name: str, *, owner_label: tuple[str, str]) -> bool:
        """Delete the namespace (and so its content) if the portal owns it; False when absent."""
        return self.delete_object("", "v1", "namespaces", None, name, owner_label=owner_label)

    def ensure_object(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        body: Obj,
        *,
        owner_label: tuple[str, str],
    ) -> Obj:
        """Create or update an object the portal owns; return it as stored.

        `owner_label` is added to the labels. An existing object must carry it, else
        ClusterConflict. On update the labels and annotations of `body` are merged in, the other
        top-level fields of `body` (spec, data, subjects...) replace the stored ones, and the rest
        (status, fields set by others) is kept. Nothing is written when nothing would change.
        """
        return self._ensure(group, version, plural, namespace, body, owner_label)

    def delete_object(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        name: str,
        *,
        owner_label: tuple[str, str],
    ) -> bool:
        """Delete an object the portal owns; False when it is already gone."""
        path = _path(group, version, plural, namespace, name)
        what = _describe(plural, namespace, name)
        status, current = self._call("GET", path, accept=(404,), action=f"read {what}")
        if status == 404:
            return False
        self._check_owner(current, owner_label, what)
        # The uid precondition keeps us from deleting an object someone recreated meanwhile.
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Background",
            "preconditions": {"uid": current["metadata"].get("uid")},
        }
        status, _ = self._call("DELETE", path, body=options, accept=(404,), action=f"delete {what}")
        return status != 404

    def _ensure(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        body: Obj,
        owner_label: tuple[str, str] | None,
    ) -> Obj:
        _refuse_grant(group, plural, body)
        desired = _desired(body, namespace, owner_label, secret=(group, plural) == ("", "secrets"))
        name = desired["metadata"]["name"]
        path = _path(group, version, plural, namespace, name)
        what = _describe(plural, namespace, name)
        for _attempt in range(_MAX_ATTEMPTS):
            status, current = self._call("GET", path, accept=(404,), action=f"read {what}")
            if status == 404:
                status, created = self._call(
                    "POST",
                    _path(group, version, plural, namespace),
                    body=desired,
                    accept=(409,),
                    action=f"create {what}",
                )
                if status != 409:
                    return created
                continue  # created concurrently (or still terminating): look again
            self._check_owner(current, owner_label, what)
            if current["metadata"].get("deletionTimestamp"):
                raise ClusterConflict(
                    f"{what} on {self.server} is being deleted; try again once it is gone.",
                    reason="RESOURCE_TERMINATING",
                    retryable=True,
                )
            updated = _merged(current, desired)
            if updated == current:
                return current
            status, result = self._call(
                "PUT", path, body=updated, accept=(409,), action=f"update {what}"
            )
            if status != 409:
                return result
        raise ClusterConflict(
            f"{what} on {self.server} kept changing while the portal updated it; try again.",
            reason="CLUSTER_CONFLICT",
            retryable=True,
        )

    def _check_owner(self, current: Obj, owner_label: tuple[str, str] | None, what: str) -> None:
        if owner_label is None:
            return
        key, value = owner_label
        found = ((current.get("metadata") or {}).get("labels") or {}).get(key)
        if found != value:
            owner = f"it belongs to {found}" if found else f"it has no label {key}"
            raise ClusterConflict(
                f"{what} already exists on {self.server} and is not managed by the portal for "
                f"{value} ({owner}); rename or remove it by hand."
            )

    # -- Plumbing ------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        query: dict[str, str] | None = None,
        body: Obj | None = None,
        accept: tuple[int, ...] = (),
    ) -> tuple[int, Obj]:
        """Send one request; return (status, JSON body) for 2xx and `accept`ed statuses."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
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
        answer = _json(raw)
        if 200 <= response.status <= 299 or response.status in accept:
            return response.status, answer
        raise self._failure(response.status, answer, action)

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


# ---- Helpers ---------------------------------------------------------------
def _path(
    group: str, version: str, plural: str, namespace: str | None, name: str | None = None
) -> str:
    """The REST path of a collection or object: `/api/v1/...` or `/apis/<group>/<version>/...`."""
    if not _GROUP.match(group):
        raise ValueError(f"invalid API group: {group!r}")
    for value, what in (
        (version, "version"),
        (plural, "resource"),
        (namespace, "namespace"),
        (name, "name"),
    ):
        if value is not None and not _SEGMENT.match(value):
            raise ValueError(f"invalid {what}: {value!r}")
    path = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    if namespace:
        path += f"/namespaces/{quote(namespace, safe='')}"
    path += f"/{plural}"
    if name is not None:
        path += f"/{quote(name, safe='')}"
    return path


def _refuse_grant(group: str, plural: str, body: Obj) -> None:
    """The portal binds roles only inside namespaces, and never `cluster-admin`."""
    role = (body.get("roleRef") or {}).get("name") if plural.endswith("rolebindings") else None
    if (group, plural) == _CLUSTER_BINDINGS or role == _FORBIDDEN_ROLE:
        what = "a ClusterRoleBinding" if plural == "clusterrolebindings" else "a binding"
        raise ClusterError(
            f"The portal does not create {what} to {role or 'a cluster-wide role'}: it grants "
            "runtimes and products namespaced roles only.",
            reason="GRANT_REFUSED",
            retryable=False,
        )


def _describe(plural: str, namespace: str | None, name: str) -> str:
    return f"{plural} {namespace}/{name}" if namespace else f"{plural} {name}"


def _desired(
    body: Obj, namespace: str | None, owner_label: tuple[str, str] | None, *, secret: bool
) -> Obj:
    """The body to create: owner label added, namespace set, Secret stringData folded in."""
    desired = copy.deepcopy(body)
    meta = desired.setdefault("metadata", {})
    if not meta.get("name"):
        raise ValueError("the object needs metadata.name")
    if namespace:
        meta["namespace"] = namespace
    if owner_label is not None:
        meta["labels"] = {**(meta.get("labels") or {}), owner_label[0]: owner_label[1]}
    desired.pop("status", None)  # the portal never writes status
    if secret and "stringData" in desired:
        # The API server stores stringData as base64 data; comparing data keeps ensure idempotent.
        encoded = {
            k: base64.b64encode(str(v).encode()).decode()
            for k, v in desired.pop("stringData").items()
        }
        desired["data"] = {**(desired.get("data") or {}), **encoded}
    return desired


def _merged(current: Obj, desired: Obj) -> Obj:
    """`current` with the portal's labels/annotations merged and its other fields replaced."""
    result = copy.deepcopy(current)
    for key, value in desired.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            meta = result.setdefault("metadata", {})
            for field_name in ("labels", "annotations"):
                if value.get(field_name):
                    meta[field_name] = {**(meta.get(field_name) or {}), **value[field_name]}
        else:
            result[key] = copy.deepcopy(value)
    return result


def _json(raw: bytes) -> Obj:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


__all__ = [
    "ClusterApi",
    "ClusterConflict",
    "ClusterError",
    "ClusterForbidden",
    "ClusterUnauthorized",
    "ClusterUnreachable",
    "KubeClient",
    "KubeconfigInvalid",
    "display_server",
]

# Static check that KubeClient satisfies the protocol.
_PROTOCOL_CHECK: type[ClusterApi] = KubeClient
