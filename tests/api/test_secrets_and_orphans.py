"""Secrets stay in Vault only; failed writes leave nothing behind in Git, Vault or the Git host."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core import serializers
from rest_framework.test import APIClient

from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.integrations.vault import cluster_kubeconfig_location
from tests.api.helpers import DEPLOYMENT_WORKER, KUBECONFIG_TOKEN, kubeconfig

pytestmark = pytest.mark.django_db


def tenant_repo(root: Path) -> Any:
    host = LocalGitHost(root)
    return host.repository(host.get_project("nautes", "tenant"))


def every_committed_byte(repo: Any) -> bytes:
    blobs = b""
    for commit in repo.history(limit=500):
        blobs += b"".join(repo.read_tree(commit.sha).values()) + commit.message.encode()
    return blobs


def register(client: APIClient, name: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/clusters/{name}", body, format="json")


def test_kubeconfig_reaches_vault_and_nothing_else(
    admin_api: APIClient, secret_store: Any, git_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses = [
        register(admin_api, "cluster-dev", {**DEPLOYMENT_WORKER, "kubeconfig": kubeconfig()})
    ]
    assert responses[0].status_code == 200, responses[0].json()
    responses += [
        admin_api.get("/api/v1/clusters"),
        admin_api.get("/api/v1/clusters/cluster-dev"),
        admin_api.get("/api/v1/audit"),
        admin_api.get("/clusters/"),
        register(admin_api, "cluster-dev", {**DEPLOYMENT_WORKER, "kubeconfig": "not: [yaml"}),
    ]
    location = cluster_kubeconfig_location("cluster-dev")
    stored = secret_store.read(engine=location.engine, path=location.path)
    assert KUBECONFIG_TOKEN in stored["kubeconfig"]
    assert "server: https://127.0.0.1:6443" in stored["kubeconfig"], (
        "server rewritten to api_server"
    )

    for response in responses:
        assert KUBECONFIG_TOKEN.encode() not in response.content
    rows = serializers.serialize(
        "json", [obj for model in apps.get_models() for obj in model.objects.all()]
    )
    assert KUBECONFIG_TOKEN not in rows
    assert KUBECONFIG_TOKEN.encode() not in every_committed_byte(tenant_repo(git_root))
    assert KUBECONFIG_TOKEN not in caplog.text
    assert responses[-1].status_code == 400
    assert "kubeconfig" in responses[-1].json()["message"]


def test_a_refused_registration_leaves_nothing(
    admin_api: APIClient, secret_store: Any, git_root: Path
) -> None:
    register(
        admin_api,
        "cluster-host",
        {
            "api_server": "https://1.2.3.4:6443",
            "cluster_type": "physical",
            "usage": "host",
            "kubeconfig": kubeconfig(),
        },
    )
    head = tenant_repo(git_root).head()
    body = {
        **DEPLOYMENT_WORKER,
        "kubeconfig": kubeconfig(),
        "reserved_namespaces_allowed_products": {"cert-manager": ["x"]},
    }
    response = register(admin_api, "cluster-bad", body)
    assert response.status_code == 400
    assert "reserved namespace cert-manager is not in component list" in response.json()["message"]
    location = cluster_kubeconfig_location("cluster-bad")
    assert secret_store.read(engine=location.engine, path=location.path) is None
    assert tenant_repo(git_root).head() == head


def test_a_failed_commit_rolls_the_kubeconfig_back(
    admin_api: APIClient, secret_store: Any, git_root: Path
) -> None:
    assert (
        register(
            admin_api, "cluster-dev", {**DEPLOYMENT_WORKER, "kubeconfig": kubeconfig()}
        ).status_code
        == 200
    )
    repo = tenant_repo(git_root)
    # Someone pushes to the tenant repository behind the portal's back: the next save conflicts.
    repo.commit(
        changes={"README.md": b"hello"},
        expected_parent=repo.head(),
        message="outside",
        author=Author(name="Bob", email="bob@example.com"),
    )
    response = register(admin_api, "cluster-new", {**DEPLOYMENT_WORKER, "kubeconfig": kubeconfig()})
    assert response.status_code == 409
    location = cluster_kubeconfig_location("cluster-new")
    assert secret_store.read(engine=location.engine, path=location.path) is None
    # The conflict made the index catch up, so a retry goes through.
    assert (
        register(
            admin_api, "cluster-new", {**DEPLOYMENT_WORKER, "kubeconfig": kubeconfig()}
        ).status_code
        == 200
    )


def test_an_unavailable_vault_refuses_before_writing_git(
    admin_api: APIClient, settings: Any, git_root: Path
) -> None:
    settings.VAULT_ADDR = "http://127.0.0.1:9"  # nothing listens there
    settings.VAULT_TOKEN = "root"
    response = register(admin_api, "cluster-dev", {**DEPLOYMENT_WORKER, "kubeconfig": kubeconfig()})
    assert response.status_code == 503
    assert response.json()["reason"] == "SECRET_STORE_UNAVAILABLE"
    repo = tenant_repo(git_root)
    assert "nautes/overlays/production/clusters/cluster-dev.yaml" not in repo.read_tree(repo.head())


def test_a_refused_code_repo_creates_no_git_project(alice_api: APIClient, git_root: Path) -> None:
    alice_api.post(
        "/api/v1/products/acme", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
    )
    response = alice_api.post(
        "/api/v1/products/acme/coderepos/orphan",
        {"project": "no-such-project", "git": {"gitlab": {"visibility": "private"}}},
        format="json",
    )
    assert response.status_code == 400
    assert "Project 'no-such-project' does not exist" in response.json()["message"]
    assert LocalGitHost(git_root).get_project("acme", "orphan") is None


def test_a_code_repo_whose_commit_fails_is_removed_again(
    alice_api: APIClient, git_root: Path
) -> None:
    alice_api.post(
        "/api/v1/products/acme", {"git": {"gitlab": {"visibility": "private"}}}, format="json"
    )
    host = LocalGitHost(git_root)
    repo = host.repository(host.get_project("acme", "default.project"))
    repo.commit(
        changes={"notes.md": b"x"},
        expected_parent=repo.head(),
        message="outside",
        author=Author(name="Bob", email="bob@example.com"),
    )
    response = alice_api.post(
        "/api/v1/products/acme/coderepos/late",
        {"git": {"gitlab": {"visibility": "private"}}},
        format="json",
    )
    assert response.status_code == 409
    assert host.get_project("acme", "late") is None
    retry = alice_api.post(
        "/api/v1/products/acme/coderepos/late",
        {"git": {"gitlab": {"visibility": "private"}}},
        format="json",
    )
    assert retry.status_code == 200, retry.json()
    assert host.get_project("acme", "late") is not None
