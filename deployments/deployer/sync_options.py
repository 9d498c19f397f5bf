"""What the console's sync and rollback ask of Argo CD: the `operation` set on an Application.

Argo CD runs the operation written into an Application's `operation` field; its API server
builds the same field for `argocd app sync` and `argocd app rollback`. The shapes here follow
that field's schema in the Application CRD (`operation.sync`: `prune`, `dryRun`, `resources`,
`syncOptions`, `syncStrategy`, `revision`, `source`; `initiatedBy.username`) and Argo CD's own
choices: a sync keeps the Application's `spec.syncPolicy.syncOptions` unless told otherwise; a
rollback is a sync to the revision and source of one history entry, with the apply strategy.

Pure functions and values: no database, no network. `sync_options` checks what can be checked
without the cluster (RuleViolation, 400); whether each selected resource is one of the
Application's is checked against the cluster (`deployments.deployer.scope`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nautes_portal.errors import RuleViolation

Obj = dict[str, Any]

APPLY_OUT_OF_SYNC_ONLY = "ApplyOutOfSyncOnly=true"
# A selection larger than any real Application's resource list is a mistake, not a sync.
MAX_RESOURCES = 500
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_GROUP = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$")
_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,62}$")


@dataclass(frozen=True)
class SyncResource:
    """One object of the Application to sync (Argo CD's `SyncOperationResource`)."""

    kind: str
    name: str
    group: str = ""  # "" for the core group (Service, ConfigMap...)
    namespace: str = ""  # "" for a cluster-scoped object

    def key(self) -> tuple[str, str, str, str]:
        return (self.group, self.kind, self.namespace, self.name)

    def describe(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"

    def as_operation(self) -> Obj:
        """The resource as `operation.sync.resources` lists it (`group` always present, as
        Argo CD's API server writes it; `namespace` only for a namespaced object)."""
        item: Obj = {"group": self.group, "kind": self.kind, "name": self.name}
        if self.namespace:
            item["namespace"] = self.namespace
        return item


@dataclass(frozen=True)
class SyncOptions:
    """A sync as the console asks for it; the defaults are Argo CD's (`argocd app sync`)."""

    prune: bool = False
    dry_run: bool = False
    resources: tuple[SyncResource, ...] = ()  # empty: the whole Application
    apply_out_of_sync_only: bool = False

    def as_params(self) -> Obj:
        """The options as an operation stores them (JSON)."""
        return {
            "prune": self.prune,
            "dry_run": self.dry_run,
            "resources": [
                {"group": r.group, "kind": r.kind, "name": r.name, "namespace": r.namespace}
                for r in self.resources
            ],
            "apply_out_of_sync_only": self.apply_out_of_sync_only,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SyncOptions:
        return sync_options(
            prune=bool(params.get("prune")),
            dry_run=bool(params.get("dry_run")),
            resources=params.get("resources") or (),
            apply_out_of_sync_only=bool(params.get("apply_out_of_sync_only")),
        )

    def describe(self) -> str:
        """The options in a few words, for the audit log and the step's detail."""
        parts = [
            "prune" if self.prune else "no prune",
            *(["dry run"] if self.dry_run else []),
            *(["apply out-of-sync only"] if self.apply_out_of_sync_only else []),
        ]
        if self.resources:
            count = len(self.resources)
            parts.append(f"{count} selected resource{'s' if count != 1 else ''}")
        return ", ".join(parts)


def sync_options(
    *,
    prune: bool = False,
    dry_run: bool = False,
    resources: Iterable[Mapping[str, Any]] = (),
    apply_out_of_sync_only: bool = False,
) -> SyncOptions:
    """Options checked for what needs no cluster; RuleViolation (400) naming the rule."""
    selected: list[SyncResource] = []
    for index, item in enumerate(resources):
        if len(selected) >= MAX_RESOURCES:
            raise RuleViolation(
                f"resources: at most {MAX_RESOURCES} resources can be selected for one sync; "
                "sync the whole Application instead"
            )
        selected.append(_resource(index, item))
    if len({r.key() for r in selected}) != len(selected):
        raise RuleViolation("resources: a resource is selected twice")
    return SyncOptions(
        prune=prune,
        dry_run=dry_run,
        resources=tuple(selected),
        apply_out_of_sync_only=apply_out_of_sync_only,
    )


def _resource(index: int, item: Mapping[str, Any]) -> SyncResource:
    where = f"resources[{index}]"
    if not isinstance(item, Mapping):
        raise RuleViolation(f"{where}: must be an object with group, kind, name and namespace")
    values = {key: item.get(key) or "" for key in ("group", "kind", "name", "namespace")}
    if not all(isinstance(value, str) for value in values.values()):
        raise RuleViolation(f"{where}: group, kind, name and namespace must be strings")
    if not _KIND.match(values["kind"]):
        raise RuleViolation(f"{where}.kind: a resource kind is required (e.g. Deployment)")
    if len(values["name"]) > 253 or not _NAME.match(values["name"]):
        raise RuleViolation(
            f"{where}.name: must be a Kubernetes object name (lowercase letters, digits, '-' "
            "and '.', at most 253 characters)"
        )
    if values["namespace"] and (
        len(values["namespace"]) > 63 or not _NAME.match(values["namespace"])
    ):
        raise RuleViolation(f"{where}.namespace: must be a namespace name or empty")
    if len(values["group"]) > 253 or not _GROUP.match(values["group"]):
        raise RuleViolation(f"{where}.group: must be an API group (e.g. apps) or empty")
    return SyncResource(**values)


def _policy_sync_options(application: Obj) -> list[str]:
    policy = (application.get("spec") or {}).get("syncPolicy") or {}
    return [str(option) for option in policy.get("syncOptions") or []]


def sync_operation(options: SyncOptions, *, username: str, application: Obj) -> Obj:
    """`operation` for a sync with `options` (Argo CD's API server, `Sync`): the Application's
    sync options, plus `ApplyOutOfSyncOnly=true` when asked."""
    sync: Obj = {"prune": options.prune, "syncStrategy": {"hook": {}}}
    if options.dry_run:
        sync["dryRun"] = True
    if options.resources:
        sync["resources"] = [r.as_operation() for r in options.resources]
    sync_opts = _policy_sync_options(application)
    if options.apply_out_of_sync_only:
        sync_opts = [o for o in sync_opts if not o.startswith("ApplyOutOfSyncOnly=")]
        sync_opts.append(APPLY_OUT_OF_SYNC_ONLY)
    if sync_opts:
        sync["syncOptions"] = sync_opts
    return {"initiatedBy": {"username": username}, "sync": sync}


def rollback_operation(entry: Obj, *, username: str, application: Obj) -> Obj:
    """`operation` rolling back to one `status.history` entry (Argo CD's `Rollback`): a sync to
    the entry's revision and source, without prune, with the apply strategy."""
    sync: Obj = {
        "revision": str(entry.get("revision") or ""),
        "source": entry.get("source") or {},
        "prune": False,
        "syncStrategy": {"apply": {}},
    }
    sync_opts = _policy_sync_options(application)
    if sync_opts:
        sync["syncOptions"] = sync_opts
    return {"initiatedBy": {"username": username}, "sync": sync}


def automated(application: Obj) -> bool:
    """Whether the Application syncs by itself (`spec.syncPolicy.automated` is set)."""
    policy = (application.get("spec") or {}).get("syncPolicy") or {}
    return policy.get("automated") is not None


def history_entry(application: Obj, history_id: int) -> Obj | None:
    """The Application's `status.history` entry with that id, if Argo CD still keeps it."""
    for entry in (application.get("status") or {}).get("history") or []:
        if isinstance(entry, dict) and entry.get("id") == history_id:
            return entry
    return None


def history_ids(application: Obj) -> list[int]:
    return [
        entry["id"]
        for entry in (application.get("status") or {}).get("history") or []
        if isinstance(entry, dict) and isinstance(entry.get("id"), int)
    ]
