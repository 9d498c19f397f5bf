"""Pushes to default.project outside the portal show up through the GitLab webhook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.git_local import LocalGitHost
from products.models import Project

pytestmark = pytest.mark.django_db

PROJECT_FILE = b"""apiVersion: nautes.resource.nautes.io/v1alpha1
kind: Project
metadata:
  name: pushed
spec:
  language: Rust
  product: product-%d
"""


def push_event(path: str) -> dict[str, Any]:
    return {"object_kind": "push", "project": {"path_with_namespace": path}}


def test_push_to_default_project_is_imported(
    alice_api: APIClient, git_root: Path, settings: Any
) -> None:
    settings.GITLAB_WEBHOOK_SECRET = "hook-secret"
    assert (
        alice_api.post(
            "/api/v1/products/acme", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
        ).status_code
        == 200
    )
    host = LocalGitHost(git_root)
    group = host.get_group("acme")
    repo = host.repository(host.get_project("acme", "default.project"))
    repo.commit(
        changes={"projects/pushed/pushed.yaml": PROJECT_FILE % group.id},
        expected_parent=repo.head(),
        message="add a project by hand",
        author=Author(name="Dana Dev", email="dana@example.com"),
    )
    client = Client()
    response = client.post(
        "/webhooks/gitlab",
        push_event("acme/default.project"),
        content_type="application/json",
        HTTP_X_GITLAB_TOKEN="hook-secret",
    )
    assert response.status_code == 202
    project = Project.objects.get(name="pushed")
    assert project.language == "Rust" and project.commit_sha == repo.head()
    assert alice_api.get("/api/v1/products/acme/projects/pushed").json()["language"] == "Rust"


def test_webhook_needs_the_secret(settings: Any) -> None:
    settings.GITLAB_WEBHOOK_SECRET = "hook-secret"
    client = Client()
    for token in ("", "wrong"):
        response = client.post(
            "/webhooks/gitlab",
            push_event("acme/default.project"),
            content_type="application/json",
            HTTP_X_GITLAB_TOKEN=token,
        )
        assert response.status_code == 401
    settings.GITLAB_WEBHOOK_SECRET = ""
    response = client.post(
        "/webhooks/gitlab",
        push_event("acme/default.project"),
        content_type="application/json",
        HTTP_X_GITLAB_TOKEN="",
    )
    assert response.status_code == 401, "an unconfigured secret never accepts anything"


def test_webhook_rejects_garbage_and_ignores_other_projects(settings: Any) -> None:
    settings.GITLAB_WEBHOOK_SECRET = "s"
    client = Client()
    bad = client.post(
        "/webhooks/gitlab", "not json", content_type="application/json", HTTP_X_GITLAB_TOKEN="s"
    )
    assert bad.status_code == 400
    other = client.post(
        "/webhooks/gitlab",
        push_event("acme/api-server"),
        content_type="application/json",
        HTTP_X_GITLAB_TOKEN="s",
    )
    assert other.status_code == 200 and other.json() == {"message": "ignored"}
