"""Operation steps for code repositories: deploy keys, access tokens, hooks, authorization.

This is what upstream Nautes' api-server does in GitLab and Vault around a CodeRepo save or
delete (reference §5.5), a CodeRepoBinding change (§5.6) and a product save (§5.3):

* every code repository `repo-<pid>` owns two deploy keys, `repo-<pid>-readonly` (can_push
  false) and `repo-<pid>-readwrite` (can_push true), whose private keys live in Vault at
  `git/gitlab/repo-<pid>/default/<perm>` (keys `deploykey`, `fingerprint`, `id`), each with a
  read policy `gitlab-repo-<pid>-default-<perm>` (§5.10);
* a project access token `accesstoken-api` (scope `api`, Maintainer) whose value lives at
  `git/gitlab/repo-<pid>/default/accesstoken-api` (keys `accesstoken`, `id`);
* `refreshAuthorization` enables other repositories' deploy keys on a repository according to
  same-project membership and CodeRepoBindings, and removes keys that are no longer granted.

Steps follow `nautes_portal.operations`: idempotent, resumable, names and ids in
`operation.params`, adapters resolved at run time. With the local Git backend there are no deploy
keys, tokens or hooks, so every step is a no-op that says so.

SECURITY: private keys and token values go to Vault only. They never reach the database, a log
record, an exception message, a step `detail` or a return value.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings

from nautes_portal.errors import IntegrationError, NotFound, PermissionDenied, RuleViolation
from nautes_portal.integrations import git_host
from nautes_portal.integrations.config_repo import DEFAULT_BRANCH
from nautes_portal.integrations.gitlab import MAINTAINER, AccessToken, DeployKey, GitLabHost
from nautes_portal.integrations.vault import (
    REPO_SECRET_KINDS,
    SecretStore,
    repo_secret_location,
    secret_store,
)
from nautes_portal.keys import (
    fingerprint_sha256,
    generate_deploy_keypair,
    private_key_fingerprint,
    public_key_material,
)
from nautes_portal.operations import Step, register
from nautes_portal.operations.kinds import (
    CODEREPO_DEPROVISION,
    CODEREPO_PROVISION,
    PRODUCT_AUTHORIZATION,
)
from nautes_portal.operations.models import Operation
from products.adoption import code_repo_pid, is_verified_code_repo
from products.models import CodeRepo, CodeRepoBinding

logger = logging.getLogger(__name__)


READONLY = "readonly"
READWRITE = "readwrite"
PERMISSIONS: tuple[str, ...] = (READONLY, READWRITE)
ACCESS_TOKEN_NAME = "accesstoken-api"  # noqa: S105 (a token name, not a value)
ACCESS_TOKEN_SCOPES: tuple[str, ...] = ("api",)
ACCESS_TOKEN_LIFETIME = dt.timedelta(days=365)
# A token this close to expiry is replaced, so that consumers never hold a dead one.
ACCESS_TOKEN_RENEW_BEFORE = dt.timedelta(days=30)
REFRESH_DENIED = "REFRESH_PERMISSIONS_ACCESS_DENIED"

# A deploy key the portal manages: `repo-<pid>-<perm>`; other titles are never touched.
_MANAGED_TITLE = re.compile(r"^(repo-\d+)-(readonly|readwrite)$")
_LOCAL = "local backend: "


# ---- Adapters ----------------------------------------------------------------------------------


def _gitlab() -> GitLabHost | None:
    """The Git host when it manages deploy keys (GitLab); None for the local backend."""
    host = git_host()
    # Duck-typed on purpose: tests and future backends may wrap GitLabHost.
    if isinstance(host, GitLabHost) or hasattr(host, "ensure_deploy_key"):
        return cast(GitLabHost, host)
    return None


def _project_id(operation: Operation) -> int:
    return int(operation.params["project_id"])


def _today() -> dt.date:
    # GitLab expires tokens at midnight UTC.
    return dt.datetime.now(dt.UTC).date()


# ---- Deploy keys -------------------------------------------------------------------------------


def key_title(repo_id: str, permission: str) -> str:
    """The GitLab title of a repository's deploy key: `repo-<pid>-<perm>`."""
    return f"{repo_id}-{permission}"


def _key_fingerprint(key: DeployKey) -> str | None:
    if key.fingerprint_sha256:
        return key.fingerprint_sha256
    try:
        return fingerprint_sha256(key.key)
    except ValueError:
        return None


def _stored_key_match(secret: Mapping[str, str] | None, keys: list[DeployKey]) -> DeployKey | None:
    """The GitLab key whose private half is the one in Vault, if any.

    The fingerprint is derived from the stored private key itself, so a secret whose
    `fingerprint` field is stale, or written in upstream's format (the public key line), is
    still recognised; a secret whose private key is unreadable matches nothing.
    """
    if not secret or not secret.get("deploykey"):
        return None
    stored = private_key_fingerprint(secret["deploykey"])
    if stored is None:
        return None
    matches = [k for k in keys if _key_fingerprint(k) == stored]
    return max(matches, key=lambda k: k.id) if matches else None


def _fingerprint_field_ok(recorded: str | None, key: DeployKey) -> bool:
    """Whether Vault's `fingerprint` field names `key` (ours: SHA256; upstream: the key line)."""
    if not recorded:
        return False
    if recorded == _key_fingerprint(key):
        return True
    return public_key_material(recorded) == public_key_material(key.key)


def ensure_repo_deploy_key(
    host: GitLabHost, store: SecretStore, *, project_id: int, repo_id: str, permission: str
) -> tuple[DeployKey, bool]:
    """Ensure the deploy key `repo_id-permission` on the project matches its Vault secret.

    Returns `(key, created)`. A new keypair is made when Vault has no secret or its private key
    matches no GitLab key with that title; other keys with the title are stale and removed from
    the project (`ensure_deploy_key`). GitLab is written before Vault because Vault needs the
    key id; a crash in between only leaves a key that the next run replaces.
    """
    title = key_title(repo_id, permission)
    can_push = permission == READWRITE
    location = repo_secret_location(repo_id, permission)
    secret = store.read(engine=location.engine, path=location.path)
    titled = [k for k in host.list_deploy_keys(project_id) if k.title == title]
    current = _stored_key_match(secret, titled)
    created = current is None
    if current is None:
        pair = generate_deploy_keypair(title)
        key = host.ensure_deploy_key(project_id, title, pair.public_openssh, can_push)
        store.write(
            engine=location.engine,
            path=location.path,
            data={
                "deploykey": pair.private_openssh,
                "fingerprint": pair.fingerprint_sha256,
                "id": str(key.id),
            },
        )
        logger.info("Created deploy key %s (id %s) on project %s", title, key.id, project_id)
    else:
        assert secret is not None
        key = current
        if len(titled) > 1 or current.can_push != can_push:
            key = host.ensure_deploy_key(project_id, title, current.key, can_push)
        if secret.get("id") != str(key.id) or not _fingerprint_field_ok(
            secret.get("fingerprint"), key
        ):
            # Same private key, corrected bookkeeping (e.g. the key was re-added by hand).
            fields = {"fingerprint": _key_fingerprint(key) or "", "id": str(key.id)}
            store.write(engine=location.engine, path=location.path, data={**secret, **fields})
    store.ensure_policy(name=location.policy_name, engine=location.engine, path=location.path)
    return key, created


def ensure_deploy_keys(operation: Operation) -> str:
    """Step: the repository's readonly and readwrite deploy keys, in GitLab and Vault."""
    host = _gitlab()
    if host is None:
        return _LOCAL + "deploy keys are not managed"
    store = secret_store()
    project_id, repo_id = _project_id(operation), operation.params["repo_id"]
    parts = []
    for permission in PERMISSIONS:
        key, created = ensure_repo_deploy_key(
            host, store, project_id=project_id, repo_id=repo_id, permission=permission
        )
        parts.append(f"{key.title} (id {key.id}, {'new' if created else 'kept'})")
    return "deploy keys " + ", ".join(parts)


# ---- Access token ------------------------------------------------------------------------------


def _usable_token(
    tokens: list[AccessToken], secret: Mapping[str, str] | None
) -> AccessToken | None:
    """The one active token Vault holds the value of, unless it is about to expire."""
    wanted = [
        t
        for t in tokens
        if t.name == ACCESS_TOKEN_NAME
        and t.active
        and t.scopes == tuple(sorted(ACCESS_TOKEN_SCOPES))
        and t.access_level == MAINTAINER
    ]
    if len(wanted) != 1 or not secret or not secret.get("accesstoken"):
        return None
    token = wanted[0]
    if secret.get("id") != str(token.id):
        return None  # Vault holds the value of another (revoked or foreign) token.
    if token.expires_at is not None and token.expires_at <= _today() + ACCESS_TOKEN_RENEW_BEFORE:
        return None
    return token


def ensure_access_token(operation: Operation) -> str:
    """Step: the `accesstoken-api` project access token, its value in Vault only.

    GitLab shows a token's value once, so a token whose value Vault does not hold (missing
    secret, another id, or several candidates) is useless and replaced: `rotate=True` creates a
    new one and revokes the others with the same name.
    """
    host = _gitlab()
    if host is None:
        return _LOCAL + "access tokens are not managed"
    store = secret_store()
    project_id, repo_id = _project_id(operation), operation.params["repo_id"]
    location = repo_secret_location(repo_id, ACCESS_TOKEN_NAME)
    secret = store.read(engine=location.engine, path=location.path)
    token = _usable_token(host.list_project_access_tokens(project_id), secret)
    outcome = "kept"
    if token is None:
        token, value = host.ensure_project_access_token(
            project_id,
            ACCESS_TOKEN_NAME,
            list(ACCESS_TOKEN_SCOPES),
            MAINTAINER,
            _today() + ACCESS_TOKEN_LIFETIME,
            rotate=True,
        )
        if value is not None:
            store.write(
                engine=location.engine,
                path=location.path,
                data={"accesstoken": value, "id": str(token.id)},
            )
            outcome = "new"
            logger.info(
                "Created access token %s (id %s) on project %s",
                ACCESS_TOKEN_NAME,
                token.id,
                project_id,
            )
    store.ensure_policy(name=location.policy_name, engine=location.engine, path=location.path)
    expires = token.expires_at.isoformat() if token.expires_at else "never"
    return f"access token {ACCESS_TOKEN_NAME} (id {token.id}, {outcome}, expires {expires})"


# ---- Webhook -----------------------------------------------------------------------------------


def ensure_webhook(operation: Operation) -> str:
    """Step: the project's hook to the portal, with the configured events.

    The secret token comes from `settings.GITLAB_WEBHOOK_SECRET` at run time, never from the
    params; `webhook_token_configured` records whether the requester expected one, so that a
    worker missing the setting fails instead of silently creating an unauthenticated hook.
    With a URL but no events, the portal's hook is removed (the repository no longer wants one).
    """
    host = _gitlab()
    if host is None:
        return _LOCAL + "webhooks are not managed"
    params = operation.params
    url = str(params.get("webhook_url") or "")
    events = sorted(set(params.get("webhook_events") or []))
    if not url:
        return "no webhook URL configured; nothing to do"
    project_id = _project_id(operation)
    if not events:
        removed = host.delete_hooks(project_id, url)
        return f"no webhook events; removed {removed} hook(s)"
    token = settings.GITLAB_WEBHOOK_SECRET or None
    if params.get("webhook_token_configured") and token is None:
        raise IntegrationError(
            "Portal",
            "GITLAB_WEBHOOK_SECRET is not set in the worker that ran this step; set it and retry.",
            retryable=False,
        )
    try:
        hook = host.ensure_hook(project_id, url, events, token)
    except ValueError as exc:  # Unknown event names: a client mistake that validation missed.
        raise RuleViolation(str(exc)) from None
    secret_note = "with" if token else "without"
    return f"hook {hook.id} for {', '.join(hook.events)} ({secret_note} a secret token)"


# ---- Authorization (refreshAuthorization, §5.6) ------------------------------------------------


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


def read_index(
    product: str, *, exclude: str | None = None
) -> tuple[list[RepoInfo], list[BindingInfo]]:
    """The product's code repositories and bindings from the index (not from Git).

    `exclude` drops a repository being deleted, and the bindings that share it. Only code
    repositories Git confirmed as this product's own projects take part: an unverified
    `repo-<id>` may name another product's project, whose keys a refresh must never touch (#12).
    """
    repos = []
    rows = CodeRepo.objects.filter(product__name=product).order_by("name")
    for name, project, git_project_id in rows.values_list("name", "project", "git_project_id"):
        if name == exclude or not is_verified_code_repo(name, git_project_id):
            continue
        pid = code_repo_pid(name)
        assert pid is not None  # verified names are repo-<id>
        repos.append(RepoInfo(name=name, project_id=pid, project=project or ""))
    bindings = []
    binding_rows = CodeRepoBinding.objects.filter(product__name=product).order_by("name")
    for code_repo, projects, permissions in binding_rows.values_list(
        "code_repo", "projects", "permissions"
    ):
        if code_repo == exclude or permissions not in PERMISSIONS:
            continue
        bindings.append(BindingInfo(code_repo, tuple(projects or ()), permissions))
    return repos, bindings


def _describe_repo(repos: Iterable[RepoInfo], project_id: int) -> str:
    return next((r.name for r in repos if r.project_id == project_id), f"project {project_id}")


def refresh_authorization(
    host: GitLabHost, repos: list[RepoInfo], bindings: list[BindingInfo]
) -> str:
    """Apply `plan_authorization` in GitLab; return a summary for the step log.

    Every change is attempted: GitLab 403s are collected and raised together at the end as one
    `PermissionDenied` (reason REFRESH_PERMISSIONS_ACCESS_DENIED), as upstream does. Other
    failures (GitLab down) stop at once with their retryable error; the refresh is idempotent.
    """
    denied: list[str] = []
    enabled: dict[int, list[DeployKeyInfo]] = {}
    for repo in repos:
        try:
            keys = host.list_deploy_keys(repo.project_id)
        except PermissionDenied:
            denied.append(f"listing the deploy keys of {repo.name}")
            continue
        except NotFound:
            logger.info("Authorization refresh: %s has no GitLab project; skipped", repo.name)
            continue
        enabled[repo.project_id] = [DeployKeyInfo(k.id, k.title, k.can_push) for k in keys]
    plan = plan_authorization(repos, bindings, enabled)
    revoked = enabled_count = skipped = 0
    for project_id, key_id in plan.revoke:  # Clean up first, as upstream.
        try:
            host.delete_deploy_key(project_id, key_id)
            revoked += 1
        except PermissionDenied:
            denied.append(f"removing deploy key {key_id} from {_describe_repo(repos, project_id)}")
    for project_id, key_id, can_push in plan.enable:
        try:
            host.enable_deploy_key(project_id, key_id, can_push)
            enabled_count += 1
        except PermissionDenied:
            denied.append(f"enabling deploy key {key_id} on {_describe_repo(repos, project_id)}")
        except NotFound:
            # The key vanished since it was listed, or the portal cannot see it: nothing to do.
            skipped += 1
    if denied:
        raise PermissionDenied(
            "GitLab denied permission while refreshing deploy-key authorization: "
            + "; ".join(denied)
            + ". The portal's GitLab account needs Maintainer on these repositories.",
            reason=REFRESH_DENIED,
            metadata={"denied": denied},
        )
    summary = f"{enabled_count} key(s) enabled, {revoked} revoked across {len(repos)} repositories"
    return summary + (f", {skipped} vanished key(s) skipped" if skipped else "")


def _refresh_product(
    product: str, *, exclude: str | None = None, extra: RepoInfo | None = None
) -> str:
    host = _gitlab()
    if host is None:
        return _LOCAL + "deploy-key authorization is not managed"
    repos, bindings = read_index(product, exclude=exclude)
    if extra is not None and all(r.name != extra.name for r in repos):
        # Not indexed (yet): keep it in, or the clean-up would revoke its keys everywhere.
        logger.warning("Authorization refresh: %s is not in the index of %s", extra.name, product)
        repos.append(extra)
    return refresh_authorization(host, repos, bindings)


def refresh_product_authorization(operation: Operation) -> str:
    """Step (`product.authorization`): refresh deploy-key authorization of `params["product"]`."""
    return _refresh_product(operation.params["product"])


def refresh_after_provision(operation: Operation) -> str:
    """Step: refresh the product, including the repository just provisioned."""
    params = operation.params
    extra = RepoInfo(params["repo_id"], _project_id(operation), str(params.get("project") or ""))
    return _refresh_product(params["product"], extra=extra)


def refresh_after_deprovision(operation: Operation) -> str:
    """Step: refresh the product without the repository being deleted."""
    return _refresh_product(operation.params["product"], exclude=operation.params["repo_id"])


# ---- Deprovision -------------------------------------------------------------------------------


def delete_repo_secrets(operation: Operation) -> str:
    """Step: delete the repository's three Vault secrets and their policies (absent is fine)."""
    if _gitlab() is None:
        return _LOCAL + "no repository secrets are kept"
    store = secret_store()
    repo_id = operation.params["repo_id"]
    project_id = operation.params.get("project_id")
    if project_id is None or code_repo_pid(repo_id) != int(project_id):
        # Vault keeps keys by `repo-<project id>` tenant-wide: only the repository's own.
        raise RuleViolation(
            f"refused: {repo_id} is not verified as the code repository of project "
            f"{project_id}, so its secrets are not deleted"
        )
    for kind in REPO_SECRET_KINDS:
        location = repo_secret_location(repo_id, kind)
        store.delete(engine=location.engine, path=location.path)
        store.delete_policy(location.policy_name)
    return f"deleted the {', '.join(REPO_SECRET_KINDS)} secrets and policies of {repo_id}"


def _keys_or_none(host: GitLabHost, project_id: int) -> list[DeployKey]:
    try:
        return host.list_deploy_keys(project_id)
    except NotFound:
        return []


def delete_repo_deploy_keys(operation: Operation) -> str:
    """Step: remove the repository's keys wherever they are enabled, then the project's keys.

    The other repositories are GitLab's list of the product group's projects (not the index),
    so a key shared with a repository the index no longer knows is removed too.
    """
    host = _gitlab()
    if host is None:
        return _LOCAL + "deploy keys are not managed"
    params = operation.params
    project_id, repo_id = _project_id(operation), params["repo_id"]
    titles = {key_title(repo_id, p) for p in PERMISSIONS}
    shared = 0
    for project in host.list_projects(params["product"]):
        if project.id == project_id:
            continue
        for key in _keys_or_none(host, project.id):
            if key.title in titles:
                host.delete_deploy_key(project.id, key.id)
                shared += 1
    own = _keys_or_none(host, project_id)
    for key in own:  # Every key, foreign ones included, as upstream (`deleteDeployKeys`).
        host.delete_deploy_key(project_id, key.id)
    return f"removed {shared} shared key(s) from other repositories and {len(own)} from {repo_id}"


def delete_git_project(operation: Operation) -> str:
    """Step: delete the GitLab project; a missing one (or one reused by a new project) is kept."""
    host = _gitlab()
    if host is None:
        return _LOCAL + "the repository is deleted with the product's files"
    params = operation.params
    product, repo_name, project_id = params["product"], params["repo_name"], _project_id(operation)
    project = host.get_project(product, repo_name)
    if project is None:
        return f"project {product}/{repo_name} was already deleted"
    if project.id != project_id:
        # The path now belongs to another project: never delete what this operation did not own.
        return f"{product}/{repo_name} is now project {project.id}, not {project_id}; left alone"
    host.delete_project(product, repo_name)
    return f"deleted project {project.full_path} (id {project.id})"


# ---- Product-level steps (added to `product.save` by products.provisioning) --------------------


def _default_project(host: GitLabHost, product: str) -> Any:
    project = host.get_project(product, settings.NAUTES_DEFAULT_PROJECT)
    if project is None:
        raise NotFound(f"Repository {product}/{settings.NAUTES_DEFAULT_PROJECT} does not exist.")
    return project


def protect_default_branch(operation: Operation) -> str:
    """Step: protect `main` of `<product>/default.project`: Maintainers push and merge."""
    host = _gitlab()
    if host is None:
        return _LOCAL + "branches are not protected"
    project = _default_project(host, operation.params["name"])
    rule = host.protect_branch(
        project.id, DEFAULT_BRANCH, push_access_level=MAINTAINER, merge_access_level=MAINTAINER
    )
    return f"branch {rule.name} of {project.full_path} protected (push and merge: Maintainers)"


def ensure_default_project_key(operation: Operation) -> str:
    """Step: the readonly deploy key `repo-<pid>-readonly` of `default.project` (§5.3).

    Argo CD reads `default.project` with it; the private key goes to Vault at
    `git/gitlab/repo-<pid>/default/readonly`, with its read policy.
    """
    host = _gitlab()
    if host is None:
        return _LOCAL + "deploy keys are not managed"
    project = _default_project(host, operation.params["name"])
    key, created = ensure_repo_deploy_key(
        host,
        secret_store(),
        project_id=project.id,
        repo_id=f"repo-{project.id}",
        permission=READONLY,
    )
    return f"deploy key {key.title} (id {key.id}, {'new' if created else 'kept'})"


# ---- Registration ------------------------------------------------------------------------------

AUTHORIZATION_TITLE = "Refresh deploy-key authorization in the product"

register(
    CODEREPO_PROVISION,
    [
        Step("deploy_keys", "Create the repository's deploy keys", ensure_deploy_keys),
        Step("access_token", "Create the project access token", ensure_access_token),
        Step("webhook", "Configure the repository webhook", ensure_webhook),
        Step("authorization", AUTHORIZATION_TITLE, refresh_after_provision),
    ],
)
register(
    CODEREPO_DEPROVISION,
    [
        Step("secrets", "Delete the repository's secrets", delete_repo_secrets),
        Step("deploy_keys", "Remove the repository's deploy keys", delete_repo_deploy_keys),
        Step("project", "Delete the Git project", delete_git_project),
        Step("authorization", AUTHORIZATION_TITLE, refresh_after_deprovision),
    ],
)
register(
    PRODUCT_AUTHORIZATION,
    [Step("authorization", AUTHORIZATION_TITLE, refresh_product_authorization)],
)

__all__ = [
    "CODEREPO_DEPROVISION",
    "CODEREPO_PROVISION",
    "PRODUCT_AUTHORIZATION",
    "REFRESH_DENIED",
    "AuthorizationPlan",
    "BindingInfo",
    "DeployKeyInfo",
    "RepoInfo",
    "ensure_default_project_key",
    "ensure_repo_deploy_key",
    "plan_authorization",
    "protect_default_branch",
    "read_index",
    "refresh_authorization",
]
