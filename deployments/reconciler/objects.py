"""The desired objects of a cluster, each with the hash the portal keeps in an annotation, and
the comparison that decides whether an observed object needs a write (pure functions)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from deployments import desired
from deployments.desired import ProductPlacement, RuntimePlan
from nautes_portal.integrations.kube.objects import stored_form

Obj = dict[str, Any]

# (group, version, plural) per kind; the order in which a pass creates them. Pruning runs the
# other way round: Applications first, namespaces last (reference/nautes.md §5.8 "Delete").
KINDS: dict[str, tuple[str, str, str]] = {
    "Namespace": ("", "v1", "namespaces"),
    "ServiceAccount": ("", "v1", "serviceaccounts"),
    "RoleBinding": (desired.RBAC_GROUP, "v1", "rolebindings"),
    "Secret": ("", "v1", "secrets"),
    "AppProject": (desired.ARGOCD_GROUP, desired.ARGOCD_VERSION, "appprojects"),
    "Application": (desired.ARGOCD_GROUP, desired.ARGOCD_VERSION, "applications"),
}
PRUNE_ORDER = ("Application", "AppProject", "RoleBinding", "ServiceAccount", "Secret", "Namespace")

Key = tuple[str, str, str]  # (kind, namespace or "", name)


@dataclass(frozen=True)
class Desired:
    """One object the pass keeps, and the runtimes that need it (a conflict is theirs)."""

    body: Obj
    owner: str  # `product-<gid>`
    runtimes: tuple[tuple[int, str], ...]  # (product pk, runtime name)

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def key(self) -> Key:
        meta = self.body["metadata"]
        return (self.kind, str(meta.get("namespace") or ""), str(meta["name"]))


def key_of(obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))


def body_hash(body: Mapping[str, Any]) -> str:
    """A stable hash of a desired body (a Secret's key is in it: a hash, never the key)."""
    # orjson: 1,000 bodies a cluster per pass. Its bytes are those of the standard library's
    # `json.dumps(body, sort_keys=True, separators=(",", ":"))` for ASCII text, which every
    # body is (names are DNS labels, keys base64): applied hashes stay valid (a test holds it).
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def with_hash(body: Obj) -> Obj:
    """`body` (freshly built, so changed in place: no copy) with its hash annotation."""
    digest = body_hash(body)
    body["metadata"].setdefault("annotations", {})[desired.HASH_ANNOTATION] = digest
    return body


def _contains(observed: Any, wanted: Any) -> bool:
    """Whether every field of `wanted` has the same value in `observed` (fields the server or
    a controller added are ignored; a field someone changed by hand is not)."""
    if observed == wanted:  # the usual answer, at C speed
        return True
    if isinstance(wanted, dict):
        return isinstance(observed, dict) and all(
            _contains(observed.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(observed, list)
            and len(observed) == len(wanted)
            and all(_contains(o, w) for o, w in zip(observed, wanted, strict=True))
        )
    return bool(observed == wanted)


def needs_write(observed: Obj | None, body: Obj) -> bool:
    """Whether the pass writes `body` (already `with_hash`): absent, applied from another
    desired body, or changed by hand since."""
    if observed is None:
        return True
    annotations = (observed.get("metadata") or {}).get("annotations") or {}
    wanted_hash = body["metadata"]["annotations"][desired.HASH_ANNOTATION]
    if annotations.get(desired.HASH_ANNOTATION) != wanted_hash:
        return True
    wanted = {k: v for k, v in stored_form(body).items() if k not in ("apiVersion", "kind")}
    return not _contains(observed, wanted)


# ---- Building the desired set ------------------------------------------------
def namespace_objects(placement: ProductPlacement, pk: int) -> list[Desired]:
    """The product namespace and every runtime namespace the product owns (not the shared
    component namespaces it was granted: it uses those, it never owns them)."""
    owner = placement.product_id
    everyone = tuple((pk, r.name) for r in placement.runtimes)
    result = [Desired(with_hash(desired.product_namespace(placement)), owner, everyone)]
    for ns in placement.runtime_namespaces():
        if placement.shared(ns):
            continue
        users = tuple((pk, r.name) for r in placement.runtimes if ns in r.namespaces)
        result.append(Desired(with_hash(desired.namespace(placement, ns)), owner, users))
    return result


def access_objects(placement: ProductPlacement, pk: int, owned: Iterable[str]) -> list[Desired]:
    """RBAC, AppProject and Applications of a product whose namespaces are settled (`owned`:
    the namespaces the product holds on the cluster now)."""
    owned = set(owned)
    owner = placement.product_id
    everyone = tuple((pk, r.name) for r in placement.runtimes)
    result = [Desired(with_hash(desired.product_role_binding(placement)), owner, everyone)]
    accounts: dict[tuple[str, str], list[RuntimePlan]] = {}
    for runtime in placement.runtimes:
        for ns in runtime.namespaces:
            accounts.setdefault((ns, runtime.account), []).append(runtime)
    for (ns, _account), users in sorted(accounts.items()):
        runtime = users[0]
        who = tuple((pk, r.name) for r in users)
        result.append(
            Desired(with_hash(desired.service_account(placement, runtime, ns)), owner, who)
        )
        result.append(
            Desired(with_hash(desired.account_role_binding(placement, runtime, ns)), owner, who)
        )
    for ns in placement.runtime_namespaces():
        if ns in owned and not placement.shared(ns):
            members = tuple((pk, r.name) for r in placement.runtimes if ns in r.namespaces)
            result.append(
                Desired(with_hash(desired.member_role_binding(placement, ns)), owner, members)
            )
    result.append(Desired(with_hash(desired.app_project(placement, owned)), owner, everyone))
    for runtime in placement.runtimes:
        result.append(
            Desired(
                with_hash(desired.application(placement, runtime)), owner, ((pk, runtime.name),)
            )
        )
    return result


def repository_secret(
    placement: ProductPlacement, pk: int, runtime: RuntimePlan, ssh_key: str, users: tuple[str, ...]
) -> Desired:
    body = desired.repository_secret(placement, runtime, ssh_key)
    return Desired(with_hash(body), placement.product_id, tuple((pk, name) for name in users))
