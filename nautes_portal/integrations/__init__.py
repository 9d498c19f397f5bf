"""Factories for the adapters, resolved per call from settings so tests can point them elsewhere.

Services receive adapters as arguments; views, API views and tasks call these factories.
"""

from __future__ import annotations

from django.conf import settings

from nautes_portal.integrations.config_repo import GitHost


def git_host() -> GitHost:
    """Return the configured Git host (local bare repositories or GitLab)."""
    if settings.NAUTES_GIT_BACKEND == "local":
        from nautes_portal.integrations.git_local import LocalGitHost

        return LocalGitHost(settings.NAUTES_GIT_DIR)
    from nautes_portal.integrations.gitlab import GitLabHost

    return GitLabHost(settings.GITLAB_URL, settings.GITLAB_TOKEN, timeout=settings.GITLAB_TIMEOUT)


def tenant_repo_path() -> tuple[str, str]:
    """Return (namespace, project) of the tenant configuration repository."""
    namespace, _, project = settings.GITLAB_TENANT_REPO.rpartition("/")
    return namespace or "nautes", project
