"""Git is the desired state (#14): a runtime committed to `default.project` by `git push` is
deployed within one sync (the webhook's, or the schedule's), deleting its file removes its
objects, moving its environment moves it, and the status says which commit was applied."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.git_local import LocalGitHost
from products.models import CodeRepo, Product
from products.tasks import sync_all
from tests.api.test_gitlab_journey import gitlab_mode  # noqa: F401 (fixture)
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products/shop"
API = "nautes.resource.nautes.io/v1alpha1"
ARGO = ("argoproj.io", "applications")


def _cluster(admin_api: APIClient, name: str, server: FakeKubeServer) -> None:
    body = {
        "api_server": server.url,
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "kubeconfig": base64.b64encode(server.kubeconfig().encode()).decode(),
    }
    assert admin_api.post(f"/api/v1/clusters/{name}", body, format="json").status_code == 200


@pytest.fixture
def clusters(
    admin_api: APIClient, alice_api: APIClient, secret_store: Any, fake_kube_factory: Any
) -> tuple[FakeKubeServer, FakeKubeServer]:
    """Product shop with env-dev on cluster-a and env-prod on cluster-b, a project and a code
    repository, all made through the API."""
    a, b = fake_kube_factory(2, argocd_installed=True)
    _cluster(admin_api, "cluster-a", a)
    _cluster(admin_api, "cluster-b", b)
    for path, payload in (
        ("", {"git": {"gitlab": {"visibility": "private"}}}),
        ("/environments/env-dev", {"cluster": "cluster-a", "env_type": "development"}),
        ("/environments/env-prod", {"cluster": "cluster-b", "env_type": "production"}),
        ("/projects/web", {"language": "Go"}),
        ("/coderepos/web", {"project": "web", "git": {"gitlab": {"visibility": "private"}}}),
    ):
        response = alice_api.post(BASE + path, payload, format="json")
        assert response.status_code == 200, response.json()
    return a, b


def _repo(git_root: Path) -> Any:
    host = LocalGitHost(git_root)
    return host.repository(host.get_project("shop", "default.project"))


def _push(repo: Any, changes: dict[str, bytes | None], message: str) -> str:
    return repo.commit(
        changes=changes,
        expected_parent=repo.head(),
        message=message,
        author=Author(name="Dana Dev", email="dana@example.com"),
    )


def _runtime_file(product: Product, environment: str, namespace: str) -> bytes:
    repo_id = CodeRepo.objects.get(product=product).name
    return yaml.safe_dump(
        {
            "apiVersion": API,
            "kind": "DeploymentRuntime",
            "metadata": {"name": "web-live"},
            "spec": {
                "product": product.resource_name,
                "projectsRef": ["web"],
                "manifestSource": {"codeRepo": repo_id, "targetRevision": "HEAD", "path": "m"},
                "destination": {"environment": environment, "namespaces": [namespace]},
            },
        }
    ).encode()


def _webhook(settings: Any) -> None:
    settings.GITLAB_WEBHOOK_SECRET = "hook-secret"
    response = Client().post(
        "/webhooks/gitlab",
        {"object_kind": "push", "project": {"path_with_namespace": "shop/default.project"}},
        content_type="application/json",
        HTTP_X_GITLAB_TOKEN="hook-secret",
    )
    assert response.status_code == 202


def test_a_pushed_runtime_is_deployed_moved_and_removed_by_git_alone(
    clusters: tuple[FakeKubeServer, FakeKubeServer],
    git_root: Path,
    alice_api: APIClient,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = clusters
    product = Product.objects.get(name="shop")
    repo = _repo(git_root)

    # 1. git push + the webhook: deployed within that one sync.
    sha = _push(
        repo,
        {"runtimes/web-live.yaml": _runtime_file(product, "env-dev", "web-live")},
        "add a runtime by hand",
    )
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(settings)
    app = a.get(ARGO, "argocd", "web-live")
    assert app is not None and app["spec"]["destination"]["namespace"] == "web-live"
    assert a.get(("", "namespaces"), "", "web-live") is not None
    status = alice_api.get(f"{BASE}/deploymentruntimes/web-live/status").json()
    assert status["applied_commit"] == sha and status["index_commit"] == sha
    assert status["behind_git"] is False and status["pass_result"] == "applied"

    # 2. Its environment changed in Git (the scheduled sync this time): moved to cluster-b.
    sha = _push(
        repo,
        {"runtimes/web-live.yaml": _runtime_file(product, "env-prod", "web-live")},
        "promote by hand",
    )
    with django_capture_on_commit_callbacks(execute=True):
        sync_all()
    assert b.get(ARGO, "argocd", "web-live") is not None
    assert a.get(ARGO, "argocd", "web-live") is None
    assert a.get(("", "namespaces"), "", "web-live") is None
    status = alice_api.get(f"{BASE}/deploymentruntimes/web-live/status").json()
    assert status["applied_commit"] == sha and status["behind_git"] is False

    # 3. Its file deleted: its objects go.
    _push(repo, {"runtimes/web-live.yaml": None}, "remove the runtime by hand")
    with django_capture_on_commit_callbacks(execute=True):
        sync_all()
    assert b.get(ARGO, "argocd", "web-live") is None
    assert b.get(("", "namespaces"), "", "web-live") is None
    assert b.get(("argoproj.io", "appprojects"), "argocd", product.resource_name) is None


def test_the_status_says_when_the_cluster_is_behind_git(
    clusters: tuple[FakeKubeServer, FakeKubeServer],
    git_root: Path,
    alice_api: APIClient,
    django_capture_on_commit_callbacks: Any,
) -> None:
    product = Product.objects.get(name="shop")
    repo = _repo(git_root)
    _push(
        repo,
        {"runtimes/web-live.yaml": _runtime_file(product, "env-dev", "web-live")},
        "add a runtime by hand",
    )
    with django_capture_on_commit_callbacks(execute=True):
        sync_all()
    applied = alice_api.get(f"{BASE}/deploymentruntimes/web-live/status").json()["applied_commit"]
    # The index moves on (as it would between the import and the next pass).
    Product.objects.filter(pk=product.pk).update(commit_sha="f" * 40)
    status = alice_api.get(f"{BASE}/deploymentruntimes/web-live/status").json()
    assert status["applied_commit"] == applied and status["behind_git"] is True


def test_gitlab_push_and_webhook_deploy_the_runtime(
    gitlab_mode: Any,  # noqa: F811
    fake_kube_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """GitLab mode: a runtime pushed to `default.project` and announced by GitLab's push
    webhook is on the cluster once that webhook's sync ran; the status names the commit."""
    from nautes_portal.integrations.gitlab import GitLabHost
    from tests.api.test_gitlab_journey import pat

    fake = gitlab_mode
    (server,) = fake_kube_factory(argocd_installed=True)
    carol, alice = pat("carol-pat"), pat("alice-pat")
    _cluster(carol, "cluster-a", server)  # carol maintains the tenant repository
    for path, payload in (
        ("", {"git": {"gitlab": {"visibility": "private"}}}),
        ("/environments/env-dev", {"cluster": "cluster-a", "env_type": "development"}),
        ("/projects/web", {"language": "Go"}),
        ("/coderepos/web", {"project": "web", "git": {"gitlab": {"visibility": "private"}}}),
    ):
        response = alice.post(BASE + path, payload, format="json")
        assert response.status_code == 200, response.json()
    product = Product.objects.get(name="shop")
    host = GitLabHost(fake.url, "portal-bot-token")
    repo = host.repository(host.get_project("shop", "default.project"))
    sha = _push(
        repo,
        {"runtimes/web-live.yaml": _runtime_file(product, "env-dev", "web-live")},
        "add a runtime by hand",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/webhooks/gitlab",
            {"object_kind": "push", "project": {"path_with_namespace": "shop/default.project"}},
            content_type="application/json",
            HTTP_X_GITLAB_TOKEN="hook-secret",
        )
    assert response.status_code == 202
    app = server.get(ARGO, "argocd", "web-live")
    assert app is not None and app["spec"]["source"]["repoURL"].endswith("shop/web.git")
    status = alice.get(f"{BASE}/deploymentruntimes/web-live/status").json()
    assert status["applied_commit"] == sha and status["behind_git"] is False
