"""The provisioning upstream Nautes does in a GitLab project: protected branches, deploy keys,
project access tokens and webhooks (each call idempotent)."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import gitlab.exceptions

from nautes_portal.integrations.gitlab.errors import _calling, _is, _optional
from nautes_portal.integrations.gitlab.groups import GitLabGroups
from nautes_portal.integrations.gitlab.objects import (
    HOOK_EVENTS,
    MAINTAINER,
    AccessToken,
    DeployKey,
    ProjectHook,
    ProtectedBranch,
    _access_token,
    _deploy_key,
    _hook,
    _key_material,
)


class GitLabProvisioning(GitLabGroups):
    """Protected branches, deploy keys, project access tokens and hooks of a project."""

    def protect_branch(
        self,
        project_id: int,
        branch: str,
        *,
        push_access_level: int = MAINTAINER,
        merge_access_level: int = MAINTAINER,
    ) -> ProtectedBranch:
        """Protect `branch` with these levels (a rule with other levels is replaced)."""
        rules = self._proj(project_id).protectedbranches
        wanted = {"push": push_access_level, "merge": merge_access_level}
        with _calling(f"protecting branch {branch!r} of project {project_id}"):
            try:
                attrs = rules.get(branch).attributes
                levels = [attrs[f"{kind}_access_levels"][0]["access_level"] for kind in wanted]
                if levels == list(wanted.values()):
                    return ProtectedBranch(branch, *levels)
                rules.delete(branch)  # Changing levels in place needs PATCH with ids; replace.
            except gitlab.exceptions.GitlabGetError as exc:
                if not _is(exc, 404):
                    raise
            rules.create({"name": branch, **{f"{k}_access_level": v for k, v in wanted.items()}})
        return ProtectedBranch(branch, push_access_level, merge_access_level)

    def list_deploy_keys(self, project_id: int) -> list[DeployKey]:
        """Return the deploy keys enabled on the project."""
        with _calling(f"listing the deploy keys of project {project_id}"):
            keys = self._proj(project_id).keys.list(get_all=True)
        return [_deploy_key(k.attributes) for k in keys]

    def ensure_deploy_key(
        self, project_id: int, title: str, public_key: str, can_push: bool
    ) -> DeployKey:
        """Ensure exactly one key titled `title`, with this public key and `can_push`.

        Keys with the same title but another public key are stale and deleted, as upstream.
        """
        keys = [k for k in self.list_deploy_keys(project_id) if k.title == title]
        wanted = _key_material(public_key)
        match = next((k for k in keys if _key_material(k.key) == wanted), None)
        for stale in keys:
            if stale is not match:
                self.delete_deploy_key(project_id, stale.id)
        if match is None:
            data = {"title": title, "key": public_key, "can_push": can_push}
            with _calling(f"adding deploy key {title!r} to project {project_id}"):
                match = _deploy_key(self._proj(project_id).keys.create(data).attributes)
        if match.can_push == can_push:
            return match
        return self._set_can_push(project_id, match.id, can_push)

    def _set_can_push(self, project_id: int, key_id: int, can_push: bool) -> DeployKey:
        with _calling(f"updating deploy key {key_id} of project {project_id}"):
            updated = self._proj(project_id).keys.update(key_id, {"can_push": can_push})
        return _deploy_key(updated)

    def enable_deploy_key(self, project_id: int, key_id: int, can_push: bool) -> DeployKey:
        """Enable another project's deploy key here, then set `can_push` (enable cannot)."""
        with _calling(f"enabling deploy key {key_id} on project {project_id}"):
            self._proj(project_id).keys.enable(key_id)
        return self._set_can_push(project_id, key_id, can_push)

    def delete_deploy_key(self, project_id: int, key_id: int) -> None:
        """Remove the key from the project; no error when it is not there."""
        action = f"removing deploy key {key_id} from project {project_id}"
        _optional(action, lambda: self._proj(project_id).keys.delete(key_id))

    def list_project_access_tokens(self, project_id: int) -> list[AccessToken]:
        """Return the project's access tokens (active and inactive)."""
        with _calling(f"listing the access tokens of project {project_id}"):
            tokens = self._proj(project_id).access_tokens.list(get_all=True)
        return [_access_token(t.attributes) for t in tokens]

    def ensure_project_access_token(
        self,
        project_id: int,
        name: str,
        scopes: list[str],
        access_level: int,
        expires_at: dt.date | None,
        *,
        rotate: bool = False,
    ) -> tuple[AccessToken, str | None]:
        """Return the one active token `name` with these settings, or make a new one.

        The value is known only when a token is created: `(token, value)`; an existing token
        comes back as `(token, None)`. A new token revokes every other token with the same name
        (upstream's rotation). `rotate=True` forces a new token, e.g. when its stored value is
        lost; so does finding several matching ones (which of them is in use is unknowable).
        """
        same_name = [t for t in self.list_project_access_tokens(project_id) if t.name == name]
        matching = [
            t
            for t in same_name
            if t.active
            and t.scopes == tuple(sorted(scopes))
            and t.access_level == access_level
            and (expires_at is None or t.expires_at == expires_at)
        ]
        if len(matching) == 1 and not rotate:
            return matching[0], None
        data: dict[str, Any] = {"name": name, "scopes": list(scopes), "access_level": access_level}
        if expires_at is not None:
            data["expires_at"] = expires_at.isoformat()
        with _calling(f"creating access token {name!r} on project {project_id}"):
            created = self._proj(project_id).access_tokens.create(data)
        attrs = created.attributes
        value = str(attrs.pop("token"))  # Shown once; never logged, never in AccessToken.
        for old in same_name:
            if old.active:
                action = f"revoking access token {old.id} of project {project_id}"
                _optional(action, partial(self._proj(project_id).access_tokens.delete, old.id))
        return _access_token(attrs), value

    def list_hooks(self, project_id: int) -> list[ProjectHook]:
        """Return the project's webhooks."""
        with _calling(f"listing the hooks of project {project_id}"):
            hooks = self._proj(project_id).hooks.list(get_all=True)
        return [_hook(h.attributes) for h in hooks]

    def ensure_hook(
        self,
        project_id: int,
        url: str,
        events: list[str],
        token: str | None,
        *,
        enable_ssl_verification: bool = True,
    ) -> ProjectHook:
        """Ensure one hook for `url` with exactly these `*_events` enabled.

        GitLab never returns a hook's secret token, so it is sent on every call when given
        (None leaves the stored one unchanged). Duplicate hooks for the same URL are removed.
        """
        unknown = sorted(set(events) - HOOK_EVENTS)
        if unknown:
            raise ValueError(f"Unknown GitLab hook events: {', '.join(unknown)}")
        data: dict[str, Any] = {"url": url, **{e: e in events for e in HOOK_EVENTS}}
        data["enable_ssl_verification"] = enable_ssl_verification
        if token is not None:
            data["token"] = token
        existing = [h for h in self.list_hooks(project_id) if h.url == url]
        manager = self._proj(project_id).hooks
        with _calling(f"saving the hook of project {project_id}"):
            if not existing:
                return _hook(manager.create(data).attributes)
            for duplicate in existing[1:]:
                manager.delete(duplicate.id)
            return _hook(manager.update(existing[0].id, data))

    def delete_hooks(self, project_id: int, url: str) -> int:
        """Delete every hook of the project that posts to `url`; return how many."""
        doomed = [h for h in self.list_hooks(project_id) if h.url == url]
        for hook in doomed:
            action = f"deleting hook {hook.id} of project {project_id}"
            _optional(action, partial(self._proj(project_id).hooks.delete, hook.id))
        return len(doomed)
