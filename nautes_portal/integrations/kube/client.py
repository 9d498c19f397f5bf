"""`KubeClient`: the ClusterApi on one cluster (queries, and changes that honour an owner label)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

import urllib3
from kubernetes.client import Configuration
from kubernetes.config import new_client_from_config_dict
from kubernetes.config.config_exception import ConfigException

# Tunables live on the package and are read at call time: one place to set them (tests too).
from nautes_portal.integrations import kube as package
from nautes_portal.integrations.kube.errors import ClusterConflict, ClusterError, KubeconfigInvalid
from nautes_portal.integrations.kube.interface import ClusterApi, Obj
from nautes_portal.integrations.kube.kubeconfig import (
    _prepare_kubeconfig,
    _ssl_context,
    display_server,
)
from nautes_portal.integrations.kube.objects import (
    _describe,
    _desired,
    _merged,
    _path,
    _refuse_grant,
)
from nautes_portal.integrations.kube.transport import RestTransport

_MAX_ATTEMPTS = 3
MERGE_PATCH = "application/merge-patch+json"


class KubeClient(RestTransport):
    """ClusterApi on one cluster through the official client's REST layer."""

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
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        label_selector: str = "",
        *,
        field_selector: str = "",
    ) -> list[Obj]:
        """Every object of a type (in a namespace, or cluster-wide) matching the selectors."""
        path = _path(group, version, plural, namespace)
        query: dict[str, str] = {"limit": str(package._PAGE_SIZE)}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
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

    def pod_log(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        tail_lines: int,
        previous: bool = False,
        limit_bytes: int | None = None,
    ) -> str:
        """The last `tail_lines` lines a container wrote (of its previous run with `previous`),
        at most `limit_bytes` bytes, as text. The users' own output: returned, never logged."""
        query = {"container": container, "tailLines": str(tail_lines)}
        if previous:
            query["previous"] = "true"
        if limit_bytes is not None:
            query["limitBytes"] = str(limit_bytes)
        path = _path("", "v1", "pods", namespace, pod) + "/log"
        what = f"read the log of container {container} of pod {namespace}/{pod}"
        raw = self._send("GET", path, query=query, action=what, media="text/plain")[1]
        return raw.decode("utf-8", errors="replace")

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

    def delete_listed(
        self, group: str, version: str, plural: str, current: Obj, *, owner_label: tuple[str, str]
    ) -> bool:
        """Delete an object the caller just listed, without reading it again: the owner label
        is checked on `current` and its uid is the precondition, so an object recreated since
        is left alone (409, False). False also when it is already gone."""
        meta = current.get("metadata") or {}
        namespace, name = meta.get("namespace"), str(meta.get("name") or "")
        what = _describe(plural, namespace, name)
        self._check_owner(current, owner_label, what)
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Background",
            "preconditions": {"uid": meta.get("uid")},
        }
        status, _ = self._call(
            "DELETE",
            _path(group, version, plural, namespace, name),
            body=options,
            accept=(404, 409),
            action=f"delete {what}",
        )
        return status not in (404, 409)

    def apply_owned(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        body: Obj,
        *,
        owner_label: tuple[str, str],
        current: Obj | None,
    ) -> Obj:
        """Write an object the caller already decided differs from `current` (the object as
        it listed it, None when absent), without reading it again: a create, or an update
        with `current`'s resourceVersion. When the cluster moved meanwhile (409) this falls
        back to `ensure_object`, which reads and checks ownership again."""
        desired = self._checked_body(group, plural, namespace, body, owner_label)
        name = desired["metadata"]["name"]
        path = _path(group, version, plural, namespace, name)
        what = _describe(plural, namespace, name)
        if current is None:
            written = self._post(_path(group, version, plural, namespace), desired, what)
        else:
            self._check_owner(current, owner_label, what)
            written = None
            if not current["metadata"].get("deletionTimestamp"):
                written = self._put(path, _merged(current, desired), what)
        if written is not None:
            return written
        return self._ensure(group, version, plural, namespace, body, owner_label)

    def edit_config_map_key(
        self,
        namespace: str,
        name: str,
        key: str,
        edit: Callable[[str], str],
        *,
        labels: dict[str, str],
    ) -> bool:
        """Replace one key of a ConfigMap the portal does not own by `edit(old text)`.

        For the few shared ConfigMaps where the portal keeps a marked part (Argo CD's
        `argocd-rbac-cm`): `edit` must keep whatever it did not write. The other keys, labels
        and annotations are left as they are; the update carries the resourceVersion read, so
        a concurrent change is read again instead of overwritten. An absent ConfigMap is
        created with `labels`. Returns whether anything was written.
        """
        path = _path("", "v1", "configmaps", namespace, name)
        what = _describe("configmaps", namespace, name)
        for _attempt in range(_MAX_ATTEMPTS):
            status, current = self._call("GET", path, accept=(404,), action=f"read {what}")
            if status == 404:
                text = edit("")
                if not text:
                    return False
                body = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name, "namespace": namespace, "labels": labels},
                    "data": {key: text},
                }
                if self._post(_path("", "v1", "configmaps", namespace), body, what) is not None:
                    return True
                continue
            old = str((current.get("data") or {}).get(key) or "")
            new = edit(old)
            if new == old:
                return False
            current.setdefault("data", {})[key] = new
            if self._put(path, current, what) is not None:
                return True
        raise self._kept_changing(what)

    # -- Console actions (#15): objects the portal does not own -------------
    def patch_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str, patch: Obj
    ) -> Obj | None:
        """Apply a JSON merge patch (RFC 7386) to an object; None when it is absent.

        No owner label is checked here: the console's actions patch what a runtime's Argo CD
        Application deployed, which carries no portal label; the caller checks that the object
        belongs to the runtime first and puts `metadata.uid` (the object it checked) or
        `metadata.resourceVersion` (the version it read) in the patch, which the API server
        takes as preconditions: 409 (ClusterConflict) when the object changed or was recreated.
        """
        what = _describe(plural, namespace, name)
        status, obj = self._call(
            "PATCH",
            _path(group, version, plural, namespace, name),
            body=patch,
            accept=(404,),
            content_type=MERGE_PATCH,
            action=f"patch {what}",
        )
        return None if status == 404 else obj

    def delete_pod(self, namespace: str, name: str, *, uid: str) -> bool:
        """Delete the pod whose uid the caller checked (its controller starts a new one);
        False when it is gone or was replaced by another pod of the same name meanwhile."""
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": uid},
        }
        status, _ = self._call(
            "DELETE",
            _path("", "v1", "pods", namespace, name),
            body=options,
            accept=(404, 409),
            action=f"delete {_describe('pods', namespace, name)}",
        )
        return status not in (404, 409)

    def _ensure(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        body: Obj,
        owner_label: tuple[str, str] | None,
    ) -> Obj:
        desired = self._checked_body(group, plural, namespace, body, owner_label)
        name = desired["metadata"]["name"]
        path = _path(group, version, plural, namespace, name)
        what = _describe(plural, namespace, name)
        for _attempt in range(_MAX_ATTEMPTS):
            status, current = self._call("GET", path, accept=(404,), action=f"read {what}")
            if status == 404:
                created = self._post(_path(group, version, plural, namespace), desired, what)
                if created is not None:
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
            result = self._put(path, updated, what)
            if result is not None:
                return result
        raise self._kept_changing(what)

    @staticmethod
    def _checked_body(
        group: str, plural: str, namespace: str | None, body: Obj, owner: tuple[str, str] | None
    ) -> Obj:
        """The body to send: no forbidden grant, owner label added, Secret data encoded."""
        _refuse_grant(group, plural, body)
        return _desired(body, namespace, owner, secret=(group, plural) == ("", "secrets"))

    def _post(self, collection: str, body: Obj, what: str) -> Obj | None:
        """Create; None when the name is taken (409)."""
        status, created = self._call(
            "POST", collection, body=body, accept=(409,), action=f"create {what}"
        )
        return None if status == 409 else created

    def _put(self, path: str, body: Obj, what: str) -> Obj | None:
        """Replace with the body's resourceVersion; None when it is stale (409)."""
        status, result = self._call("PUT", path, body=body, accept=(409,), action=f"update {what}")
        return None if status == 409 else result

    def _kept_changing(self, what: str) -> ClusterConflict:
        return ClusterConflict(
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


# Static check that KubeClient satisfies the protocol.
_PROTOCOL_CHECK: type[ClusterApi] = KubeClient
