"""The main-process journey with NAUTES_GIT_BACKEND=gitlab against the fake GitLab server:
GitLab personal access tokens on the API, groups/projects/commits in GitLab, the acting user as
commit author, permissions from GitLab membership."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from nautes_portal.models import OidcIdentity
from products.models import Membership
from tests.api.helpers import DEPLOYMENT_WORKER, coderepo_body, kubeconfig
from tests.fakes.gitlab_server import FakeGitLab

pytestmark = pytest.mark.django_db


@pytest.fixture
def gitlab_mode(settings: Any, fake_gitlab: FakeGitLab, secret_store: Any) -> FakeGitLab:
    settings.NAUTES_GIT_BACKEND = "gitlab"
    settings.GITLAB_URL = fake_gitlab.url
    settings.GITLAB_TOKEN = "portal-bot-token"
    settings.OIDC_OP_ISSUER = fake_gitlab.url
    settings.NAUTES_CODEREPO_WEBHOOK_URL = "https://events.example.com/gitlab"
    settings.GITLAB_WEBHOOK_SECRET = "hook-secret"
    fake_gitlab.create_group("nautes")
    fake_gitlab.create_project("nautes/tenant")
    for username, name in (
        ("alice", "Alice Liddell"),
        ("bob", "Bob Builder"),
        ("carol", "Carol Reader"),
    ):
        fake_gitlab.add_user(username, name, f"{username}@example.com", f"{username}-pat")
    fake_gitlab.add_member(fake_gitlab.project("nautes/tenant"), "carol", 40)
    return fake_gitlab


def pat(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def files_at_head(fake: FakeGitLab, path: str) -> dict[str, bytes]:
    from nautes_portal.integrations.gitlab import GitLabHost

    host = GitLabHost(fake.url, "portal-bot-token")
    namespace, _, project = path.rpartition("/")
    repo = host.repository(host.get_project(namespace, project))
    return repo.read_tree(repo.head())


def test_main_process_in_gitlab(gitlab_mode: FakeGitLab) -> None:
    fake = gitlab_mode
    carol, alice, bob = pat("carol-pat"), pat("alice-pat"), pat("bob-pat")

    # The tenant repository's Maintainer registers the cluster (GitLab decides, not the portal).
    response = carol.post(
        "/api/v1/clusters/cluster-dev",
        {**DEPLOYMENT_WORKER, "kubeconfig": kubeconfig()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (
        bob.post(
            "/api/v1/clusters/cluster-x",
            {**DEPLOYMENT_WORKER, "kubeconfig": kubeconfig()},
            format="json",
        ).status_code
        == 403
    )
    assert "nautes/overlays/production/clusters/cluster-dev.yaml" in files_at_head(
        fake, "nautes/tenant"
    )

    # Any account creates a product: a GitLab group with default.project, its creator an Owner.
    assert (
        alice.post(
            "/api/v1/products/nautes-labs",
            {"git": {"gitlab": {"visibility": "private"}}},
            format="json",
        ).status_code
        == 200
    )
    group = fake.group("nautes-labs")
    assert fake.project("nautes-labs/default.project")
    assert alice.get("/api/v1/products/nautes-labs").status_code == 200
    assert bob.get("/api/v1/products/nautes-labs").status_code == 404  # not a member: hidden

    steps = [
        ("environments/env-dev", {"cluster": "cluster-dev", "env_type": "development"}),
        ("projects/api-server", {"language": "Go"}),
        ("coderepos/api-server", coderepo_body("api-server", project="api-server")),
        ("projects/pipelines", {"language": "YAML"}),
        ("coderepos/pipelines", coderepo_body("pipelines", project="pipelines")),
        (
            "coderepobindings/share-pipelines",
            {"projects": ["api-server"], "permissions": "readonly", "coderepo": "pipelines"},
        ),
        (
            "deploymentruntimes/dr-dev",
            {
                "projects_ref": ["api-server"],
                "manifest_source": {
                    "code_repo": "api-server",
                    "target_revision": "HEAD",
                    "path": "manifests/development",
                },
                "destination": {"environment": "env-dev", "namespaces": ["dr-dev"]},
            },
        ),
    ]
    for path, body in steps:
        response = alice.post(f"/api/v1/products/nautes-labs/{path}", body, format="json")
        assert response.status_code == 200, (path, response.json())

    files = files_at_head(fake, "nautes-labs/default.project")
    repo_project = fake.project("nautes-labs/api-server")
    # The code repository got its deploy keys and access token; their secrets are in Vault only.
    from nautes_portal.integrations.vault import repo_secret_location, secret_store

    titles = {
        fake.deploy_keys[key_id].title: push for key_id, push in repo_project.deploy_keys.items()
    }
    assert titles == {
        f"repo-{repo_project.id}-readonly": False,
        f"repo-{repo_project.id}-readwrite": True,
    }
    for kind in ("readonly", "readwrite", "accesstoken-api"):
        location = repo_secret_location(f"repo-{repo_project.id}", kind)
        assert secret_store().read(engine=location.engine, path=location.path)
    default_project = fake.project("nautes-labs/default.project")
    assert "main" in default_project.protected
    hooks = list(repo_project.hooks.values())
    assert [h.url for h in hooks] == ["https://events.example.com/gitlab"]
    # The binding shares the pipelines repository with api-server: its readonly key is enabled.
    shared = fake.project("nautes-labs/pipelines")
    shared_titles = {fake.deploy_keys[key_id].title for key_id in shared.deploy_keys}
    assert f"repo-{repo_project.id}-readonly" in shared_titles
    assert f"code-repos/repo-{repo_project.id}/repo-{repo_project.id}.yaml" in files
    env = yaml.safe_load(files["envs/env-dev.yaml"])
    assert env["spec"]["product"] == f"product-{group.id}"
    commits = list(fake.project("nautes-labs/default.project").commits.values())
    authored = [(c.author_name, c.author_email) for c in commits if c.message.startswith("[API]")]
    assert authored and set(authored) == {("Alice Liddell", "alice@example.com")}

    # Bob joins the group as a Reporter in GitLab: he can read, not write.
    fake.add_member(group, "bob", 20)
    from django.core.cache import cache

    cache.clear()  # the identity cache would otherwise keep his old groups for a minute
    assert bob.get("/api/v1/products/nautes-labs/environments").status_code == 200
    assert (
        bob.post(
            "/api/v1/products/nautes-labs/projects/p2", {"language": "Go"}, format="json"
        ).status_code
        == 403
    )
    bob_user = OidcIdentity.objects.get(username="bob").user
    assert Membership.objects.get(user=bob_user).access_level == 20

    # Delete in reverse order; the code repository's GitLab project goes with it.
    for path in (
        "deploymentruntimes/dr-dev",
        "coderepobindings/share-pipelines",
        "coderepos/api-server",
        "coderepos/pipelines",
        "projects/api-server",
        "projects/pipelines",
        "environments/env-dev",
    ):
        response = alice.delete(f"/api/v1/products/nautes-labs/{path}")
        assert response.status_code == 200, (path, response.json())
    with pytest.raises(KeyError):
        fake.project("nautes-labs/api-server")
    # Deleting the code repositories removed their secrets from Vault too.
    for kind in ("readonly", "readwrite", "accesstoken-api"):
        location = repo_secret_location(f"repo-{repo_project.id}", kind)
        assert secret_store().read(engine=location.engine, path=location.path) is None
    assert alice.delete("/api/v1/products/nautes-labs").json() == {
        "message": "Successfully deleted"
    }
    with pytest.raises(KeyError):
        fake.group("nautes-labs")


def test_a_bad_gitlab_token_gets_401(gitlab_mode: FakeGitLab) -> None:
    response = pat("not-a-token").get("/api/v1/products")
    assert response.status_code == 401
    assert response.json()["message"] == "The GitLab token is invalid, expired or revoked."


def test_the_token_identity_is_cached_by_hash(gitlab_mode: FakeGitLab) -> None:
    client = pat("alice-pat")
    assert client.get("/api/v1/products").status_code == 200
    before = len(gitlab_mode.requests)
    assert client.get("/api/v1/products").status_code == 200
    assert len(gitlab_mode.requests) == before, "a cached identity needs no GitLab call"
    from django.core.cache import cache

    assert not any("alice-pat" in str(key) for key in cache._cache)  # type: ignore[attr-defined]


def test_gitlab_failures_become_readable_errors(gitlab_mode: FakeGitLab) -> None:
    alice = pat("alice-pat")
    gitlab_mode.fail_next("POST", r"^/api/v4/groups$", status=503)
    response = alice.post(
        "/api/v1/products/acme", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
    )
    assert response.status_code == 502
    assert "GitLab" in response.json()["message"] and "try again" in response.json()["message"]
    operation_id = response.json()["metadata"]["operation"]
    assert alice.get(f"/api/v1/operations/{operation_id}").json()["status"] == "failed"


def test_scheduled_membership_sync_follows_gitlab(gitlab_mode: FakeGitLab) -> None:
    from products.tasks import sync_memberships

    alice, bob = pat("alice-pat"), pat("bob-pat")
    assert (
        alice.post(
            "/api/v1/products/acme", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
        ).status_code
        == 200
    )
    assert bob.get("/api/v1/products").json() == {"items": []}  # links bob's identity
    gitlab_mode.add_member(gitlab_mode.group("acme"), "bob", 30)
    assert sync_memberships() == {"synced": 1, "failed": 0}
    bob_user = OidcIdentity.objects.get(username="bob").user
    assert Membership.objects.get(user=bob_user, product__name="acme").access_level == 30
    gitlab_mode.add_member(gitlab_mode.group("acme"), "bob", 0)
    sync_memberships()
    assert not Membership.objects.filter(user=bob_user).exists()
