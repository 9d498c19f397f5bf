"""The resource tree of one runtime, read live: what Argo CD manages and what runs under it.

Roots are the Application's `status.resources` (with its sync status); under them, found through
`ownerReferences`, the live objects listed in the runtime's namespaces (Deployment →
ReplicaSet → Pod, StatefulSet/DaemonSet/Job → Pod, CronJob → Job). Objects of the listed kinds
that nothing manages or owns are roots too (`managed=False`), in the runtime's own namespaces
only: a shared component namespace shows only what the Application manages there.

Cluster calls: one GET of the Application, one LIST of the product's namespaces, then one LIST
per kind per namespace (`kinds.LISTED`): a fixed number whatever the count of objects. A kind
the cluster does not serve or the portal may not list is skipped with a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from deployments.console.health import MISSING, Health, resource_health
from deployments.console.kinds import LISTED, api_group, kind_order, node_id
from deployments.console.pods import PodInfo, pod_info
from deployments.console.scope import Console
from nautes_portal.integrations.kube import ClusterError, ClusterForbidden

Obj = dict[str, Any]

# Argo CD's tracking annotation (`<app>:<group>/<kind>:<namespace>/<name>`) and label.
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
# Objects every namespace has, which nobody deploys: left out of the unmanaged roots.
_NOISE = {("", "ConfigMap", "kube-root-ca.crt")}


@dataclass(frozen=True)
class TreeNode:
    """One object of the tree; `parent` is the id of the node owning it (None for a root)."""

    id: str
    group: str
    version: str
    kind: str
    namespace: str
    name: str
    parent: str | None
    managed: bool  # in the Application's status.resources
    sync: str  # Synced, OutOfSync, Unknown; "" for what Argo CD does not track itself
    requires_pruning: bool
    health: str
    health_message: str
    live: bool  # read from the cluster (False: known from the Application alone)
    created_at: dt.datetime | None
    age_seconds: int | None
    pod: PodInfo | None = None


@dataclass(frozen=True)
class ApplicationSummary:
    """The Application as read with the tree."""

    found: bool
    sync: str = ""
    revision: str = ""
    health: str = ""
    health_message: str = ""
    operation_phase: str = ""
    operation_message: str = ""


@dataclass(frozen=True)
class ResourceTree:
    """A runtime's tree as a flat list, parents before their children."""

    runtime: str
    cluster: str
    namespaces: tuple[str, ...]
    application: ApplicationSummary
    nodes: tuple[TreeNode, ...]
    read_at: dt.datetime
    warnings: tuple[str, ...] = ()

    def node(self, node_id: str) -> TreeNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def find(self, kind: str, name: str, namespace: str = "") -> TreeNode | None:
        """A node by kind and name (and namespace, when given)."""
        return next(
            (
                n
                for n in self.nodes
                if (n.kind, n.name) == (kind, name) and namespace in ("", n.namespace)
            ),
            None,
        )


@dataclass
class _Live:
    """The objects listed, indexed for the owner walk."""

    objects: list[Obj] = field(default_factory=list)
    by_key: dict[tuple[str, str, str, str], Obj] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # (group, kind, namespace) listed: there, an object not found is really absent.
    listed: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, obj: Obj) -> None:
        self.objects.append(obj)
        self.by_key[_key(obj)] = obj


def resource_tree(console: Console) -> ResourceTree:
    """The runtime's tree, read now (see the module docstring for the calls it makes)."""
    read_at = dt.datetime.now(dt.UTC)
    app = console.application()
    namespaces = console.namespaces()
    live = _list_live(console, namespaces)
    nodes: dict[str, TreeNode] = {}
    children: dict[str, list[Obj]] = {}  # owner uid or owner node id -> owned objects
    for obj in live.objects:
        for ref in _owner_refs(obj):
            children.setdefault(str(ref.get("uid") or ""), []).append(obj)
            owner = node_id(api_group(str(ref.get("apiVersion") or "")), str(ref.get("kind")),
                            _meta(obj, "namespace"), str(ref.get("name")))  # fmt: skip
            children.setdefault(owner, []).append(obj)
    roots: list[TreeNode] = []
    for resource in console.managed():
        root = _managed_node(resource, live, read_at)
        if root.id not in nodes:
            nodes[root.id] = root
            roots.append(root)
    for obj in live.objects:
        if _unmanaged_root(obj, console, nodes):
            root = _live_node(obj, None, read_at)
            nodes[root.id] = root
            roots.append(root)
    ordered: list[TreeNode] = []
    for root in sorted(roots, key=_order):
        ordered.extend(_subtree(root, nodes, children, live, read_at))
    return ResourceTree(
        runtime=console.name,
        cluster=console.cluster.name,
        namespaces=namespaces,
        application=_summary(app),
        nodes=tuple(ordered),
        read_at=read_at,
        warnings=tuple(live.warnings),
    )


def _list_live(console: Console, namespaces: tuple[str, ...]) -> _Live:
    live = _Live()
    for namespace in namespaces:
        for kind in LISTED:
            try:
                items = console.client.list_objects(
                    kind.group, kind.version, kind.plural, namespace
                )
            except ClusterForbidden as exc:
                live.warnings.append(f"{kind.kind} objects in {namespace} not shown: {exc.message}")
                continue
            except ClusterError as exc:
                if exc.reason != "CLUSTER_RESOURCE_MISSING":
                    raise  # unreachable, or failing: the whole reading fails clearly
                live.warnings.append(
                    f"{kind.kind} objects in {namespace} not shown: the cluster does not serve "
                    f"{kind.plural}.{kind.group or 'core'}/{kind.version}"
                )
                continue
            live.listed.add((kind.group, kind.kind, namespace))
            for item in items:
                live.add(item)
    return live


def _subtree(
    root: TreeNode,
    nodes: dict[str, TreeNode],
    children: dict[str, list[Obj]],
    live: _Live,
    read_at: dt.datetime,
) -> Iterator[TreeNode]:
    """The node, then its descendants depth first (each object once)."""
    yield root
    obj = live.by_key.get((root.group, root.kind, root.namespace, root.name)) if root.live else None
    owned = list(children.get(root.id, []))
    if obj is not None:
        owned += children.get(_meta(obj, "uid"), [])
    seen: set[str] = set()
    for child in sorted(owned, key=lambda o: (kind_order(str(o.get("kind"))), _meta(o, "name"))):
        node = _live_node(child, root.id, read_at)
        if node.id in nodes or node.id in seen:
            continue
        seen.add(node.id)
        nodes[node.id] = node
        yield from _subtree(node, nodes, children, live, read_at)


def _managed_node(resource: Obj, live: _Live, read_at: dt.datetime) -> TreeNode:
    group, kind = str(resource.get("group") or ""), str(resource.get("kind") or "")
    namespace, name = str(resource.get("namespace") or ""), str(resource.get("name") or "")
    obj = live.by_key.get((group, kind, namespace, name))
    reported = resource.get("health") or {}
    health = Health(str(reported.get("status") or ""), str(reported.get("message") or ""))
    if obj is not None:
        health = resource_health(obj) or health
    elif (group, kind, namespace) in live.listed:
        health = Health(MISSING, "the object does not exist in the cluster")
    node = _live_node(obj, None, read_at, health=health) if obj is not None else None
    return TreeNode(
        id=node_id(group, kind, namespace, name),
        group=group,
        version=str(resource.get("version") or ""),
        kind=kind,
        namespace=namespace,
        name=name,
        parent=None,
        managed=True,
        sync=str(resource.get("status") or ""),
        requires_pruning=bool(resource.get("requiresPruning")),
        health=health.status,
        health_message=health.message,
        live=obj is not None,
        created_at=node.created_at if node else None,
        age_seconds=node.age_seconds if node else None,
        pod=node.pod if node else None,
    )


def _live_node(
    obj: Obj, parent: str | None, read_at: dt.datetime, *, health: Health | None = None
) -> TreeNode:
    group, _, version = str(obj.get("apiVersion") or "").rpartition("/")
    kind = str(obj.get("kind") or "")
    namespace, name = _meta(obj, "namespace"), _meta(obj, "name")
    health = health or resource_health(obj) or Health("")
    created = _time(_meta(obj, "creationTimestamp"))
    return TreeNode(
        id=node_id(group, kind, namespace, name),
        group=group,
        version=version,
        kind=kind,
        namespace=namespace,
        name=name,
        parent=parent,
        managed=False,
        sync="",
        requires_pruning=False,
        health=health.status,
        health_message=health.message,
        live=True,
        created_at=created,
        age_seconds=max(0, int((read_at - created).total_seconds())) if created else None,
        pod=pod_info(obj) if kind == "Pod" else None,
    )


def _unmanaged_root(obj: Obj, console: Console, nodes: dict[str, TreeNode]) -> bool:
    """A live object nothing in the tree manages or owns, in a namespace the runtime owns,
    not tracked by another Application, and not one every namespace has."""
    group, kind, namespace, name = _key(obj)
    if node_id(group, kind, namespace, name) in nodes or _owner_refs(obj):
        return False
    if (group, kind, name) in _NOISE or not console.owns(namespace):
        return False
    meta = obj.get("metadata") or {}
    tracking = str((meta.get("annotations") or {}).get(TRACKING_ANNOTATION) or "")
    instance = str((meta.get("labels") or {}).get(INSTANCE_LABEL) or "")
    if tracking:
        return tracking.partition(":")[0] in (
            console.name,
            f"{console.argocd_namespace}_{console.name}",
        )
    return instance in ("", console.name)


def _summary(app: Obj | None) -> ApplicationSummary:
    if app is None:
        return ApplicationSummary(found=False)
    status = app.get("status") or {}
    sync, health = status.get("sync") or {}, status.get("health") or {}
    operation = status.get("operationState") or {}
    return ApplicationSummary(
        found=True,
        sync=str(sync.get("status") or ""),
        revision=str(sync.get("revision") or ""),
        health=str(health.get("status") or ""),
        health_message=str(health.get("message") or ""),
        operation_phase=str(operation.get("phase") or ""),
        operation_message=str(operation.get("message") or "")[:2000],
    )


def _owner_refs(obj: Obj) -> list[Obj]:
    """The controlling owner reference (or, without one, every owner reference)."""
    refs = [
        r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if isinstance(r, dict)
    ]
    controllers = [r for r in refs if r.get("controller")]
    return controllers or refs


def _order(node: TreeNode) -> tuple[int, str, str, str]:
    return (kind_order(node.kind), node.kind, node.namespace, node.name)


def _key(obj: Obj) -> tuple[str, str, str, str]:
    group = api_group(str(obj.get("apiVersion") or ""))
    return (group, str(obj.get("kind") or ""), _meta(obj, "namespace"), _meta(obj, "name"))


def _meta(obj: Obj, key: str) -> str:
    return str((obj.get("metadata") or {}).get(key) or "")


def _time(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
