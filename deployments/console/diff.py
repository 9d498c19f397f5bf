"""What differs between the live objects and the desired manifests, for out-of-sync resources.

Argo CD's managed-resources view (its own desired manifests) is served by the Argo CD API
server, which the portal does not use: it reaches clusters through the Kubernetes API only.
So the out-of-sync resources come from the Application's `status.resources`, and the desired
manifest compared is the one the portal can know: what Argo CD last applied to the object (its
`kubectl.kubernetes.io/last-applied-configuration` annotation, which Argo CD's default
client-side apply writes). When that is absent (server-side apply, an object Argo CD has not
created yet, a kind the portal cannot read) the resource says `desired: unavailable` and why.
The portal does not render manifests from Git (Kustomize, Helm) itself, so a change committed
to Git that Argo CD has not applied yet is not in this diff: the reply says so.

Both sides are cleaned of what the cluster adds (`status`, `managedFields`, `resourceVersion`,
uid, timestamps...) and the live object is reduced to the fields the manifest sets, as Argo CD
compares. A Secret's values are never shown: each key's value is masked on both sides (marked
when the two differ). The diff is the portal's usual unified YAML diff, live → desired: `+`
lines are what a sync would write.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from deployments.console.kinds import known_kind, node_id
from deployments.console.scope import Console
from nautes_portal.audit import yaml_diff
from nautes_portal.integrations.kube import ClusterForbidden
from nautes_portal.integrations.kube.objects import stored_form
from nautes_portal.yaml_io import dump_yaml

Obj = dict[str, Any]

MAX_DIFFS = 50
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DESIRED_LAST_APPLIED = "last-applied"
DESIRED_UNAVAILABLE = "unavailable"
MASK = "********"
_NOISE_METADATA = (
    "managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink",
    "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences", "finalizers",
)  # fmt: skip
_NOISE_ANNOTATIONS = (LAST_APPLIED, "deployment.kubernetes.io/revision")
NOT_FROM_GIT = (
    "the portal does not render manifests from Git, so a change committed there and not "
    "applied yet is not shown"
)


@dataclass(frozen=True)
class ResourceDiff:
    """One out-of-sync resource: its live object against its desired manifest."""

    id: str
    group: str
    kind: str
    namespace: str
    name: str
    sync: str
    health: str
    live: bool  # the live object was read
    desired: str  # DESIRED_LAST_APPLIED, or DESIRED_UNAVAILABLE
    reason: str  # why the desired manifest is unavailable, or what an empty diff means
    diff: str  # unified diff, live → desired; "" when there is none


@dataclass(frozen=True)
class DiffReading:
    """The out-of-sync resources of the runtime (at most MAX_DIFFS compared)."""

    application_found: bool
    revision: str
    diffs: tuple[ResourceDiff, ...]
    out_of_sync: int  # how many the Application reports

    @property
    def truncated(self) -> bool:
        return self.out_of_sync > len(self.diffs)


def resource_diffs(console: Console) -> DiffReading:
    """Each out-of-sync resource of the Application, live against desired (one GET each)."""
    app = console.application()
    revision = str((((app or {}).get("status") or {}).get("sync") or {}).get("revision") or "")
    pending = [r for r in console.managed() if r.get("status") == "OutOfSync"]
    namespaces = console.namespaces() if pending else ()
    diffs = tuple(_diff(console, r, namespaces, revision) for r in pending[:MAX_DIFFS])
    return DiffReading(app is not None, revision, diffs, len(pending))


def _diff(
    console: Console, resource: Obj, namespaces: tuple[str, ...], revision: str
) -> ResourceDiff:
    group, kind = str(resource.get("group") or ""), str(resource.get("kind") or "")
    namespace, name = str(resource.get("namespace") or ""), str(resource.get("name") or "")
    health = str((resource.get("health") or {}).get("status") or "")

    def result(live: bool, reason: str, text: str = "", *, desired: bool = False) -> ResourceDiff:
        return ResourceDiff(
            id=node_id(group, kind, namespace, name), group=group, kind=kind,
            namespace=namespace, name=name, sync=str(resource.get("status") or ""),
            health=health, live=live,
            desired=DESIRED_LAST_APPLIED if desired else DESIRED_UNAVAILABLE,
            reason=reason, diff=text,
        )  # fmt: skip

    api = known_kind(group, kind)
    if not namespace:
        return result(False, "cluster-scoped objects are not read by the console")
    if namespace not in namespaces:
        return result(False, f"namespace {namespace} is not one of the runtime's namespaces")
    if api is None:
        return result(False, f"the console does not read {kind} objects; {NOT_FROM_GIT}")
    try:
        live = console.client.get_object(api.group, api.version, api.plural, namespace, name)
    except ClusterForbidden as exc:
        return result(False, exc.message)
    if live is None:
        return result(
            False,
            f"the object does not exist in the cluster yet (a sync creates it); {NOT_FROM_GIT}",
        )
    applied = _last_applied(live)
    if applied is None:
        return result(
            True,
            "Argo CD recorded no applied manifest on the object (server-side apply, or the object "
            f"was created outside Argo CD); {NOT_FROM_GIT}",
        )
    desired, current = _clean(applied), _project(_clean(live), _clean(applied))
    if kind == "Secret" and not group:
        current, desired = _mask_secret(current, desired)
    text = yaml_diff(f"{kind}/{namespace}/{name}", dump_yaml(current), dump_yaml(desired))
    if not text:
        where = f" (revision {revision[:12]})" if revision else ""
        return result(
            True,
            "the live object matches what Argo CD last applied: the difference is in Git"
            f"{where}; {NOT_FROM_GIT}",
            desired=True,
        )
    return result(True, "", text, desired=True)


def _last_applied(live: Obj) -> Obj | None:
    raw = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _clean(obj: Obj) -> Obj:
    """The object without what the cluster adds or keeps for itself."""
    cleaned = stored_form(copy.deepcopy(obj))  # a Secret's stringData as the data it becomes
    cleaned.pop("status", None)
    meta = cleaned.get("metadata")
    if isinstance(meta, dict):
        for key in _NOISE_METADATA:
            meta.pop(key, None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            for key in _NOISE_ANNOTATIONS:
                annotations.pop(key, None)
            if not annotations:
                meta.pop("annotations")
    return cleaned


def _project(live: Any, desired: Any) -> Any:
    """`live` reduced to the fields `desired` sets (what the manifest does not say is the
    cluster's defaulting, not a difference)."""
    if isinstance(live, dict) and isinstance(desired, dict):
        return {k: _project(live[k], v) for k, v in desired.items() if k in live}
    if isinstance(live, list) and isinstance(desired, list) and len(live) == len(desired):
        return [_project(item, want) for item, want in zip(live, desired, strict=True)]
    return live


def _mask_secret(live: Obj, desired: Obj) -> tuple[Obj, Obj]:
    """Both sides with every data value replaced; a value that differs is marked so."""
    live_data: Obj = live["data"] if isinstance(live.get("data"), dict) else {}
    desired_data: Obj = desired["data"] if isinstance(desired.get("data"), dict) else {}
    for side, other, label in ((live, desired_data, "live"), (desired, live_data, "desired")):
        data = side.get("data")
        if isinstance(data, dict):
            side["data"] = {
                key: MASK if key in other and other[key] == value else f"{MASK} ({label} value)"
                for key, value in data.items()
            }
    return live, desired
