"""Deploy keys: `repo-<pid>-readonly` and `repo-<pid>-readwrite` on each code repository,
their private keys in Vault at `git/gitlab/repo-<pid>/default/<perm>` (§5.10).
"""

from __future__ import annotations

from collections.abc import Mapping

from nautes_portal.integrations.gitlab import DeployKey, GitLabHost
from nautes_portal.integrations.vault import SecretStore, repo_secret_location, secret_store
from nautes_portal.keys import (
    fingerprint_sha256,
    generate_deploy_keypair,
    private_key_fingerprint,
    public_key_material,
)
from nautes_portal.operations.models import Operation
from products.repo_provisioning.base import (
    _LOCAL,
    PERMISSIONS,
    READWRITE,
    _gitlab,
    _project_id,
    logger,
)


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
