"""The remaining §4.4 examples: forced saves, product-level repositories and bindings, accounts,
and project pipeline runtimes (docs' v0.3 string destination and the v0.4 CLI example)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from tests.api.helpers import coderepo_body, product_files
from tests.api.test_examples import clusters, product, save  # noqa: F401  (fixtures)
from tests.crd import validate_against_crd

pytestmark = pytest.mark.django_db


def ok(response: Any) -> None:
    assert response.status_code == 200, response.json()


@pytest.fixture
def quickstart(alice_api: APIClient, product: str) -> APIClient:  # noqa: F811
    ok(
        save(
            alice_api,
            "environments/env-test-demo-quickstart",
            {"cluster": "cluster-dev", "env_type": "test"},
        )
    )
    ok(
        save(
            alice_api,
            "environments/env-dev-demo",
            {"cluster": "cluster-pipeline", "env_type": "dev"},
        )
    )
    ok(save(alice_api, "projects/project-demo-quickstart", {"language": "Go"}))
    ok(save(alice_api, "projects/project-demo", {"language": "Java"}))
    body = coderepo_body("coderepo-deploy-demo-quickstart")
    body.pop("project")
    ok(save(alice_api, "coderepos/coderepo-deploy-demo-quickstart", body))
    ok(
        save(
            alice_api,
            "coderepos/api-server",
            coderepo_body("api-server", project="project-demo", pipeline_runtime=True),
        )
    )
    return alice_api


def test_product_level_binding_and_runtime_with_account(
    quickstart: APIClient, git_root: Any
) -> None:
    api = quickstart
    ok(
        save(
            api,
            "coderepobindings/coderepobinding-deploy-dr-demo-quickstart",
            {
                "product": "ignored-by-upstream",
                "permissions": "readonly",
                "coderepo": "coderepo-deploy-demo-quickstart",
            },
        )
    )
    ok(
        save(
            api,
            "deploymentruntimes/dr-demo-quickstart",
            {
                "projects_ref": ["project-demo-quickstart"],
                "manifest_source": {
                    "code_repo": "coderepo-deploy-demo-quickstart",
                    "target_revision": "main",
                    "path": "deployments/test",
                },
                "destination": {
                    "environment": "env-test-demo-quickstart",
                    "namespaces": ["dr-demo-quickstart"],
                },
                "account": "dr-demo-account",
            },
        )
    )
    files = product_files(git_root, "nautes-labs")
    dr = yaml.safe_load(files["runtimes/dr-demo-quickstart.yaml"])
    validate_against_crd(dr)
    assert dr["spec"]["account"] == "dr-demo-account"
    binding_path = next(
        p for p in files if p.endswith("/coderepobinding-deploy-dr-demo-quickstart.yaml")
    )
    binding = yaml.safe_load(files[binding_path])
    assert "projects" not in binding["spec"], "an empty project list is a product-level grant"
    assert binding["spec"]["product"].startswith("product-")
    reply = api.get("/api/v1/products/nautes-labs/deploymentruntimes/dr-demo-quickstart").json()
    assert reply["account"] == "dr-demo-account"


def test_runtime_of_an_unbound_project_is_refused(quickstart: APIClient) -> None:
    response = save(
        quickstart,
        "deploymentruntimes/dr-demo-quickstart",
        {
            "projects_ref": ["project-demo-quickstart"],
            "manifest_source": {
                "code_repo": "api-server",
                "target_revision": "main",
                "path": "deployments/test",
            },
            "destination": {"environment": "env-test-demo-quickstart"},
        },
    )
    assert response.status_code == 400
    assert (
        "project project-demo-quickstart is illegal: not permitted to use repository"
        in response.json()["message"]
    )


def test_forced_saves_as_documented(quickstart: APIClient, git_root: Any) -> None:
    api = quickstart
    forced = api.post(
        "/api/v1/products/nautes-labs/projects/cluster-operator?insecureSkipCheck=true",
        {"language": "Go"},
        format="json",
    )
    ok(forced)
    response = api.post(
        "/api/v1/products/nautes-labs/coderepos/coderepo-demo?insecure_skip_check=true",
        coderepo_body("coderepo-demo", project="project-demo-invalid"),
        format="json",
    )
    ok(response)
    # A forced invalid resource now blocks unforced saves of the product, as upstream.
    blocked = save(api, "projects/another", {"language": "Go"})
    assert blocked.status_code == 400
    assert (
        "Project 'project-demo-invalid' does not exist or is unavailable"
        in blocked.json()["message"]
    )


def pipeline_body(destination: Any) -> dict[str, Any]:
    return {
        "project": "project-demo",
        "pipeline_source": "api-server",
        "pipelines": [
            {"name": "pipeline-dev", "label": "dev", "path": "pipelines/dev.yaml"},
            {"name": "pipeline-main", "label": "main", "path": "pipelines/main.yaml"},
        ],
        "event_sources": [
            {
                "name": "webhook-feature-push",
                "gitlab": {
                    "repo_name": "api-server",
                    "revision": "^refs/heads/feature%-",
                    "events": ["push_events"],
                },
            },
            {
                "name": "webhook-main-push",
                "gitlab": {
                    "repo_name": "api-server",
                    "revision": "refs/heads/main",
                    "events": ["push_events"],
                },
                "calendar": {
                    "schedule": "0 17 * * 1-5",
                    "interval": "",
                    "exclusion_dates": [],
                    "timezone": "",
                },
            },
        ],
        "pipeline_triggers": [
            {"event_source": "webhook-feature-push", "pipeline": "pipeline-dev", "revision": ""},
            {
                "event_source": "webhook-main-push",
                "pipeline": "pipeline-main",
                "revision": "",
                "inputs": [
                    {
                        "source": {"built_in_var": "PipelineRevision", "from_event": ""},
                        "transmission_method": {"kustomization": {"path": "spec/params/0/value"}},
                    }
                ],
            },
        ],
        "destination": destination,
        "isolation": "exclusive",
        "hooks": {
            "pre_hooks": [{"name": "log", "alias": "pre-log", "vars": {"printPath": "/var"}}],
            "post_hooks": [],
        },
    }


@pytest.mark.parametrize(
    "destination", ["env-dev-demo", {"environment": "env-dev-demo", "namespace": "pr-demo-ns"}]
)
def test_pipeline_runtime_examples(quickstart: APIClient, git_root: Any, destination: Any) -> None:
    api = quickstart
    ok(save(api, "projectpipelineruntimes/pr-demo", pipeline_body(destination)))
    files = product_files(git_root, "nautes-labs")
    document = yaml.safe_load(files["projects/project-demo/pr-demo.yaml"])
    validate_against_crd(document)
    spec = document["spec"]
    assert spec["destination"]["environment"] == "env-dev-demo"
    assert spec["pipelineSource"].startswith("repo-")
    assert spec["eventSources"][1]["calendar"] == {"schedule": "0 17 * * 1-5", "exclusionDates": []}
    reply = api.get("/api/v1/products/nautes-labs/projectpipelineruntimes/pr-demo").json()
    assert reply["pipeline_source"] == "api-server"
    assert (
        reply["pipeline_triggers"][1]["inputs"][0]["source"]["built_in_var"] == "PipelineRevision"
    )
    assert reply["hooks"]["pre_hooks"] == [
        {"name": "log", "alias": "pre-log", "vars": {"printPath": "/var"}}
    ]


def test_pipeline_runtime_with_unknown_pipeline_in_trigger(quickstart: APIClient) -> None:
    body = pipeline_body("env-dev-demo")
    body["pipeline_triggers"][0]["pipeline"] = "pipeline-nope"
    response = save(quickstart, "projectpipelineruntimes/pr-demo", body)
    assert response.status_code == 400
    assert "found non-existent pipeline pipeline-nope in trigger" in response.json()["message"]


def test_pipeline_runtime_project_cannot_change(quickstart: APIClient) -> None:
    ok(save(quickstart, "projectpipelineruntimes/pr-demo", pipeline_body("env-dev-demo")))
    body = pipeline_body("env-dev-demo")
    body["project"] = "project-demo-quickstart"
    response = save(quickstart, "projectpipelineruntimes/pr-demo", body)
    assert response.status_code == 400
    assert (
        "existing pipeline runtime is not allow modifying the project field"
        in response.json()["message"]
    )


def test_minimal_product_takes_its_name_from_the_url(alice_api: APIClient, git_root: Any) -> None:
    ok(
        alice_api.post(
            "/api/v1/products/demo-quickstart",
            {"git": {"gitlab": {"visibility": "private"}}},
            format="json",
        )
    )
    assert alice_api.get("/api/v1/products/demo-quickstart").json() == {
        "name": "demo-quickstart",
        "git": {"gitlab": {"path": "demo-quickstart", "visibility": "private", "description": ""}},
    }
    assert yaml.safe_load(
        product_files(git_root, "demo-quickstart")["production/kustomization.yaml"]
    ) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    }
    wrong = alice_api.post(
        "/api/v1/products/other",
        {"git": {"gitlab": {"path": "x", "visibility": "private"}}},
        format="json",
    )
    assert wrong.status_code == 400
    assert wrong.json()["message"] == (
        "when creating a GitLab group, the path must be consistent with the product name. "
        "the expected name is other, but it is currently x"
    )
    github = alice_api.post(
        "/api/v1/products/gh", {"git": {"github": {"visibility": "private"}}}, format="json"
    )
    assert github.status_code == 400 and "coming soon to support github" in github.json()["message"]
