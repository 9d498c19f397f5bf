"""Planning `refreshAuthorization` (§5.6): which deploy keys each repository should have
enabled, from same-project membership and CodeRepoBindings. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from products.repo_provisioning.base import _MANAGED_TITLE, PERMISSIONS, READWRITE
from products.repo_provisioning.deploy_keys import key_title


@dataclass(frozen=True)
class RepoInfo:
    """A code repository of the product as the index knows it.

    `key_ids` maps a permission to the id of the repository's own deploy key; a permission
    missing there is looked up by title among the keys enabled on the repository itself.
    """

    name: str
    project_id: int
    project: str = ""
    key_ids: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BindingInfo:
    """A CodeRepoBinding: `code_repo` (repo-<pid>) is shared with `projects` (empty: product)."""

    code_repo: str
    projects: tuple[str, ...]
    permissions: str


@dataclass(frozen=True)
class DeployKeyInfo:
    """A deploy key as enabled on one project."""

    id: int
    title: str
    can_push: bool


@dataclass(frozen=True)
class AuthorizationPlan:
    """GitLab changes: `enable` (project id, key id, can_push) and `revoke` (project id, key id)."""

    enable: list[tuple[int, int, bool]]
    revoke: list[tuple[int, int]]

    def __bool__(self) -> bool:
        return bool(self.enable or self.revoke)


def _own_key_id(
    repo: RepoInfo, permission: str, enabled: Mapping[int, list[DeployKeyInfo]]
) -> int | None:
    """The id of `repo`'s own key for `permission`, or None when it has none (yet)."""
    if permission in repo.key_ids:
        return repo.key_ids[permission]
    title = key_title(repo.name, permission)
    ids = [k.id for k in enabled.get(repo.project_id, ()) if k.title == title]
    return max(ids) if ids else None  # Several: the newest, as the key step would keep.


def _granted_sources(
    target: RepoInfo, repos: list[RepoInfo], bindings: list[BindingInfo], permission: str
) -> list[RepoInfo]:
    """The repositories whose `permission` key the bindings on `target` grant it.

    A product-level binding (no projects) grants every repository of the product; otherwise
    the union of the bindings' projects decides. Only bindings of this permission count.
    """
    on_target = [b for b in bindings if b.code_repo == target.name and b.permissions == permission]
    if not on_target:
        return []
    others = [r for r in repos if r.name != target.name]
    if any(not b.projects for b in on_target):
        return others
    scope = {p for b in on_target for p in b.projects}
    return [r for r in others if r.project and r.project in scope]


def _desired_keys(
    target: RepoInfo,
    repos: list[RepoInfo],
    bindings: list[BindingInfo],
    enabled: Mapping[int, list[DeployKeyInfo]],
) -> dict[int, bool]:
    """Foreign key id → can_push that should be enabled on `target`."""
    wanted: dict[int, bool] = {}

    def grant(source: RepoInfo, permission: str) -> None:
        key_id = _own_key_id(source, permission, enabled)
        if key_id is not None:
            # The readwrite key pushes wherever it is enabled (upstream re-flags it).
            wanted[key_id] = wanted.get(key_id, False) or permission == READWRITE

    # Same-project sharing: both keys of every other repository of the same project.
    if target.project:
        for source in repos:
            if source.name != target.name and source.project == target.project:
                for permission in PERMISSIONS:
                    grant(source, permission)
    # Binding sharing, per permission.
    for permission in PERMISSIONS:
        for source in _granted_sources(target, repos, bindings, permission):
            grant(source, permission)
    return wanted


def plan_authorization(
    repos: list[RepoInfo],
    bindings: list[BindingInfo],
    enabled: dict[int, list[DeployKeyInfo]],
) -> AuthorizationPlan:
    """Compute upstream's `refreshAuthorization` for a whole product, without side effects.

    For every repository R whose enabled keys are known (`enabled[R.project_id]`):

    1. clean-up: a managed key (`repo-<X>-<perm>`, X not R) enabled on R that is not granted
       below is revoked: its owner is gone, or no binding or shared project grants it any more
       (this also removes an owner's replaced, stale key);
    2. same-project sharing: repositories with the same non-empty project get each other's
       readonly and readwrite keys;
    3. binding sharing: the keys of the bindings' permission are enabled, of every repository
       for a product-level binding, else of the repositories in the bindings' projects.

    Readwrite keys are enabled with can_push=true, readonly ones with can_push=false; a key
    already enabled with the right flag needs nothing. Keys with other titles, and R's own
    keys, are left alone. Repositories whose keys are unknown (listing failed) are skipped.
    Both lists are sorted, so the plan is deterministic.
    """
    enable: list[tuple[int, int, bool]] = []
    revoke: list[tuple[int, int]] = []
    for target in repos:
        current = enabled.get(target.project_id)
        if current is None:
            continue
        wanted = _desired_keys(target, repos, bindings, enabled)
        by_id = {k.id: k for k in current}
        for key_id, can_push in wanted.items():
            present = by_id.get(key_id)
            if present is None or present.can_push != can_push:
                enable.append((target.project_id, key_id, can_push))
        for key in current:
            match = _MANAGED_TITLE.match(key.title)
            if match and match.group(1) != target.name and key.id not in wanted:
                revoke.append((target.project_id, key.id))
    return AuthorizationPlan(enable=sorted(set(enable)), revoke=sorted(set(revoke)))
