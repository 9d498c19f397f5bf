"""A snapshot of one product's resources, as the rules see it.

Services build it from the index (never from Git) and apply the requested change to it before
the rules run, so validation sees the product exactly as it will be after the commit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Resource:
    """One resource of the product: its kind, name, file path and spec (camelCase, as in Git)."""

    kind: str
    name: str
    path: str
    spec: dict[str, Any]
    # The whole document as the index holds it (None for a resource being saved): a save
    # renders its diff and keeps the document's other fields from it without reading it again.
    manifest: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ForeignRuntime:
    """A deployment or pipeline runtime of ANOTHER product (for cross-product namespace rules)."""

    product_id: str
    kind: str  # "DeploymentRuntime" | "ProjectPipelineRuntime"
    name: str
    cluster: str
    namespaces: tuple[str, ...]


@dataclass
class ProductState:
    """Everything the product rules need, with no I/O behind it."""

    product_name: str  # the group path, e.g. "nautes-labs"
    product_id: str  # "product-<group id>"
    resources: dict[str, dict[str, Resource]] = field(default_factory=dict)  # kind → name → res
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → Cluster spec
    foreign_runtimes: list[ForeignRuntime] = field(default_factory=list)
    # Names of code repositories in the Git group (repo name → "repo-<pid>"), for name lookups.
    repo_ids_by_name: dict[str, str] = field(default_factory=dict)
    # Which clusters (and their foreign runtimes) were loaded; see indexing.complete_state.
    product_pk: int | None = None
    loaded_clusters: set[str] = field(default_factory=set)

    def environment_clusters(self) -> set[str]:
        """Names of the clusters this product's environments use."""
        names = set()
        for env in self.resources.get("Environment", {}).values():
            cluster = env.spec.get("cluster") if isinstance(env.spec, dict) else None
            if isinstance(cluster, str) and cluster:
                names.add(cluster)
        return names

    def of_kind(self, kind: str) -> dict[str, Resource]:
        return self.resources.setdefault(kind, {})

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get(kind, {}).get(name)

    def with_saved(self, resource: Resource) -> ProductState:
        """Return a copy with `resource` created or replaced."""
        clone = copy.copy(self)
        clone.resources = {kind: dict(items) for kind, items in self.resources.items()}
        clone.of_kind(resource.kind)[resource.name] = resource
        return clone

    def without(self, kind: str, name: str) -> ProductState:
        """Return a copy with the resource removed."""
        clone = copy.copy(self)
        clone.resources = {k: dict(items) for k, items in self.resources.items()}
        clone.of_kind(kind).pop(name, None)
        return clone

    def all_resources(self) -> list[Resource]:
        return [res for items in self.resources.values() for res in items.values()]
