"""The documented example requests (reference/nautes.md §4.4) against the local backend."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from nautes_portal.models import AuditEvent
from tests.api.helpers import (
    DEPLOYMENT_WORKER,
    HOST_CLUSTER,
    PIPELINE_WORKER,
    PRODUCT,
    coderepo_body,
    kubeconfig,
    product_files,
)
from tests.crd import validate_against_crd

pytestmark = pytest.mark.django_db


@pytest.fixture
def clusters(admin_api: APIClient, secret_store: Any) -> None:
    for name, body in (
        ("cluster-host", HOST_CLUSTER),
        ("cluster-dev", DEPLOYMENT_WORKER),
        ("cluster-pipeline", PIPELINE_WORKER),
    ):
        payload = {**body}
        if body["cluster_type"] == "physical":
            payload["kubeconfig"] = kubeconfig()
        response = admin_api.post(f"/api/v1/clusters/{name}", payload, format="json")
        assert response.status_code == 200, response.json()
        assert response.json() == {"message": f"Successfully saved {name} cluster"}


@pytest.fixture
def product(alice_api: APIClient, clusters: None) -> str:
    response = alice_api.post("/api/v1/products/nautes-labs", PRODUCT, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"message": "Successfully saved"}
    return "nautes-labs"


def save(client: APIClient, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/products/nautes-labs/{path}", body, format="json")


@pytest.fixture
def main_process(alice_api: APIClient, product: str) -> APIClient:
    """Environment → project → code repo → binding → deployment runtime, as documented."""
    steps = [
        ("environments/env-dev", {"cluster": "cluster-dev", "env_type": "development"}),
        ("projects/api-server", {"language": "Go"}),
        ("projects/argo-operator", {"language": "Go"}),
        ("coderepos/api-server", coderepo_body("api-server", project="api-server")),
        ("coderepos/vault-proxy", coderepo_body("vault-proxy", project="argo-operator")),
        (
            "coderepobindings/coderepo-binding-vault-proxy",
            {
                "product": "nautes-labs",
                "projects": ["api-server"],
                "permissions": "readonly",
                "coderepo": "vault-proxy",
            },
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
        response = save(alice_api, path, body)
        assert response.status_code == 200, (path, response.json())
        name = path.split("/")[1]
        assert response.json() == {"message": f"Successfully saved {name} configuration"}
    return alice_api


def test_main_process_writes_the_documented_files(main_process: APIClient, git_root: Any) -> None:
    files = product_files(git_root, "nautes-labs")
    repo_ids = sorted(
        p.split("/")[1]
        for p in files
        if p.startswith("code-repos/")
        and p.count("/") == 2
        and p.split("/")[1] == p.split("/")[2][:-5]
    )
    api_server_id, vault_proxy_id = repo_ids
    expected = {
        "production/kustomization.yaml",
        "envs/env-dev.yaml",
        "projects/api-server/api-server.yaml",
        "projects/argo-operator/argo-operator.yaml",
        f"code-repos/{api_server_id}/{api_server_id}.yaml",
        f"code-repos/{vault_proxy_id}/{vault_proxy_id}.yaml",
        f"code-repos/{vault_proxy_id}/coderepo-binding-vault-proxy.yaml",
        "runtimes/dr-dev.yaml",
    }
    assert set(files) == expected
    kustomization = yaml.safe_load(files["production/kustomization.yaml"])
    assert kustomization["resources"] == sorted(
        f"../{p}" for p in expected - {"production/kustomization.yaml"}
    )
    for path in expected - {"production/kustomization.yaml"}:
        validate_against_crd(yaml.safe_load(files[path]))

    env = yaml.safe_load(files["envs/env-dev.yaml"])
    group_id = env["spec"]["product"]
    assert env == {
        "apiVersion": "nautes.resource.nautes.io/v1alpha1",
        "kind": "Environment",
        "metadata": {"name": "env-dev", "creationTimestamp": None},
        "spec": {"cluster": "cluster-dev", "envType": "development", "product": group_id},
    }
    dr = yaml.safe_load(files["runtimes/dr-dev.yaml"])["spec"]
    assert dr == {
        "destination": {"environment": "env-dev", "namespaces": ["dr-dev"]},
        "manifestSource": {
            "codeRepo": api_server_id,
            "path": "manifests/development",
            "targetRevision": "HEAD",
        },
        "product": group_id,
        "projectsRef": ["api-server"],
    }
    binding = yaml.safe_load(
        files[f"code-repos/{vault_proxy_id}/coderepo-binding-vault-proxy.yaml"]
    )
    assert binding["spec"] == {
        "codeRepo": vault_proxy_id,
        "permissions": "readonly",
        "product": group_id,
        "projects": ["api-server"],
    }
    repo = yaml.safe_load(files[f"code-repos/{api_server_id}/{api_server_id}.yaml"])["spec"]
    assert repo["repoName"] == "api-server" and repo["project"] == "api-server"
    assert repo["webhook"] == {"events": ["push_events"]}


def test_commits_are_authored_by_the_acting_user(main_process: APIClient, git_root: Any) -> None:
    from nautes_portal.integrations.git_local import LocalGitHost

    host = LocalGitHost(git_root)
    repo = host.repository(host.get_project("nautes-labs", "default.project"))
    history = repo.history(limit=20)
    assert history[0].author_name == "Alice Liddell"
    assert (
        history[0].message.strip() == "[API] Save_DeploymentRuntime: dr-dev, Product: nautes-labs."
    )
    assert {c.author_email for c in history} == {"alice@example.com"}
    assert history[-1].message.strip() == "initial commit."


def test_gets_and_lists_answer_in_upstream_shapes(main_process: APIClient) -> None:
    api = main_process
    assert api.get("/api/v1/products").json() == {
        "items": [
            {
                "name": "nautes-labs",
                "git": {
                    "gitlab": {
                        "path": "nautes-labs",
                        "visibility": "private",
                        "description": PRODUCT["git"]["gitlab"]["description"],
                    }
                },
            }
        ]
    }
    assert api.get("/api/v1/products/nautes-labs/environments/env-dev").json() == {
        "product": "nautes-labs",
        "name": "env-dev",
        "cluster": "cluster-dev",
        "env_type": "development",
    }
    dr = api.get("/api/v1/products/nautes-labs/deploymentruntimes").json()["items"][0]
    assert dr["manifest_source"] == {
        "code_repo": "api-server",
        "target_revision": "HEAD",
        "path": "manifests/development",
    }
    binding = api.get(
        "/api/v1/products/nautes-labs/coderepobindings/coderepo-binding-vault-proxy"
    ).json()
    assert binding == {
        "product": "nautes-labs",
        "name": "coderepo-binding-vault-proxy",
        "projects": ["api-server"],
        "permissions": "readonly",
        "coderepo": "vault-proxy",
    }
    repo = api.get("/api/v1/products/nautes-labs/coderepos/api-server").json()
    assert repo["name"] == "api-server"
    assert repo["git"]["gitlab"]["path"] == "api-server"
    assert repo["git"]["gitlab"]["http_url_to_repo"].startswith("file://")


def test_field_selector_filters_like_upstream(main_process: APIClient) -> None:
    api = main_process
    url = "/api/v1/products/nautes-labs/projects"
    assert [
        p["name"] for p in api.get(url, {"field_selector": "project_name=api"}).json()["items"]
    ] == ["api-server"]
    assert [
        p["name"] for p in api.get(url, {"field_selector": "project_name!=api"}).json()["items"]
    ] == ["argo-operator"]
    repos = api.get(
        "/api/v1/products/nautes-labs/coderepos",
        {"field_selector": "project=argo,deployment_runtime=true"},
    )
    assert [r["name"] for r in repos.json()["items"]] == ["vault-proxy"]
    bad = api.get(url, {"field_selector": "language=Go"})
    assert bad.status_code == 400
    assert bad.json()["message"] == (
        "failed to get selector, the filter field language operator symbol = is not supported"
    )
    products = api.get("/api/v1/products", {"field_selector": "product_name=nautes"})
    assert products.json() == {"items": []}  # upstream promises an exact match here


def test_unknown_cluster_is_refused_and_nothing_is_committed(
    alice_api: APIClient, product: str, git_root: Any
) -> None:
    before = product_files(git_root, product)
    response = save(
        alice_api,
        "environments/env-demo",
        {"cluster": "cluster-invalid", "env_type": "development"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400
    assert "Cluster 'cluster-invalid' does not exist or is unavailable" in body["message"]
    assert product_files(git_root, product) == before


def test_insecure_skip_check_forces_the_save(
    alice_api: APIClient, product: str, git_root: Any
) -> None:
    response = alice_api.post(
        "/api/v1/products/nautes-labs/environments/env-demo?insecure_skip_check=true",
        {"cluster": "cluster-invalid", "env_type": "development"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert "envs/env-demo.yaml" in product_files(git_root, product)


def test_referenced_environment_cannot_be_deleted(main_process: APIClient) -> None:
    response = main_process.delete("/api/v1/products/nautes-labs/environments/env-dev")
    assert response.status_code == 409
    assert response.json()["message"] == (
        "environment referenced by [deploymentRuntime/dr-dev], not allowed to be deleted"
    )


def test_deleting_a_missing_environment_is_a_404_not_a_crash(
    alice_api: APIClient, product: str
) -> None:
    response = alice_api.delete("/api/v1/products/nautes-labs/environments/nope")
    assert response.status_code == 404
    assert response.json()["reason"] == "RESOURCE_NOT_FOUND"


def test_runtime_without_destination_is_a_clear_400(main_process: APIClient) -> None:
    response = save(
        main_process,
        "deploymentruntimes/dr-x",
        {
            "projects_ref": ["api-server"],
            "manifest_source": {"code_repo": "api-server", "target_revision": "HEAD", "path": "x"},
        },
    )
    assert response.status_code == 400
    assert "destination" in response.json()["message"]


def test_binding_cannot_switch_repository(main_process: APIClient) -> None:
    response = save(
        main_process,
        "coderepobindings/coderepo-binding-vault-proxy",
        {"projects": ["api-server"], "permissions": "readonly", "coderepo": "api-server"},
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "NOT_ALLOWED_MODIFY"
    assert response.json()["message"].startswith(
        "It is not allowed to modify the authorized repository"
    )


def test_deletion_in_reverse_order_empties_the_product(
    main_process: APIClient, git_root: Any
) -> None:
    api = main_process
    for path in (
        "deploymentruntimes/dr-dev",
        "coderepobindings/coderepo-binding-vault-proxy",
        "coderepos/api-server",
        "coderepos/vault-proxy",
        "projects/api-server",
        "projects/argo-operator",
        "environments/env-dev",
    ):
        response = api.delete(f"/api/v1/products/nautes-labs/{path}")
        assert response.status_code == 200, (path, response.json())
    assert set(product_files(git_root, "nautes-labs")) == {"production/kustomization.yaml"}
    assert api.delete("/api/v1/products/nautes-labs").json() == {"message": "Successfully deleted"}
    assert api.get("/api/v1/products/nautes-labs").status_code == 404


def test_every_write_is_audited_with_its_commit(main_process: APIClient) -> None:
    events = main_process.get("/api/v1/audit", {"product": "nautes-labs"}).json()["items"]
    saved = [(e["kind"], e["name"]) for e in events if e["action"] == "save"]
    assert ("DeploymentRuntime", "dr-dev") in saved
    dr_event = next(e for e in events if e["name"] == "dr-dev")
    assert dr_event["actor"] == "alice"
    assert len(dr_event["commit_sha"]) == 40
    assert "+  manifestSource:" in dr_event["diff"]
    assert AuditEvent.objects.filter(kind="Cluster", action="save").count() == 3


def test_cluster_manifests_are_in_the_tenant_repository(
    clusters: None, git_root: Any, admin_api: APIClient
) -> None:
    from nautes_portal.integrations.git_local import LocalGitHost

    host = LocalGitHost(git_root)
    repo = host.repository(host.get_project("nautes", "tenant"))
    files = repo.read_tree(repo.head())
    for name in ("cluster-host", "cluster-dev", "cluster-pipeline"):
        document = yaml.safe_load(files[f"nautes/overlays/production/clusters/{name}.yaml"])
        validate_against_crd(document)
        assert b"kubeconfig" not in files[f"nautes/overlays/production/clusters/{name}.yaml"]
    dev = admin_api.get("/api/v1/clusters/cluster-dev").json()
    assert (
        dev["components_list"]["deployment"]["additions"]["host"]
        == "argocd.cluster-dev.8.217.50.114.nip.io"
    )
    assert dev["components_list"]["gateway"]["additions"] == {
        "httpNodePort": "30080",
        "httpsNodePort": "30443",
    }
    assert "kubeconfig" not in dev
