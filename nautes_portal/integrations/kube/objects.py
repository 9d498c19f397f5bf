"""REST paths and object bodies: what the client sends, checked and merged (pure functions)."""

from __future__ import annotations

import base64
import copy
import re
from urllib.parse import quote

from nautes_portal.integrations.kube.errors import ClusterError
from nautes_portal.integrations.kube.interface import Obj

_GROUP = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$")
_SEGMENT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._:-]*[A-Za-z0-9])?$")
# What the portal never grants, whoever asks (defence in depth behind `deployments.desired`).
_FORBIDDEN_ROLE = "cluster-admin"
_CLUSTER_BINDINGS = ("rbac.authorization.k8s.io", "clusterrolebindings")


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
    return stored_form(desired) if secret else desired


def stored_form(body: Obj) -> Obj:
    """`body` as the API server stores it: a Secret's `stringData` folded into base64 `data`
    (comparing data keeps a write idempotent). `body` itself is left as it is."""
    if "stringData" not in body:
        return body
    stored = copy.deepcopy(body)
    encoded = {
        k: base64.b64encode(str(v).encode()).decode() for k, v in stored.pop("stringData").items()
    }
    stored["data"] = {**(stored.get("data") or {}), **encoded}
    return stored


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
