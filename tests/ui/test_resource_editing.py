"""Editing and deleting resources from their pages: rules first, a YAML diff before the commit,
the user's input kept on every error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from nautes_portal.integrations import git_host
from products.models import CodeRepo, DeploymentRuntime, Environment, Product
from tests.api.helpers import product_files
from tests.ui.helpers import main, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_browser(acme: Product, browser_for: Callable[[Any], Client]) -> Client:
    return browser_for(user("alice"))


def head(name: str = "acme") -> str:
    return Product.objects.get(name=name).commit_sha


def test_preview_shows_the_diff_and_writes_nothing(alice_browser: Client) -> None:
    before = head()
    data = {"cluster": "cluster-test", "env_type": "staging", "action": "preview"}
    page = main(alice_browser.post("/products/acme/environments/dev/", data).content.decode())
    assert '<span class="del">-  cluster: cluster-dev</span>' in page
    assert '<span class="add">+  cluster: cluster-test</span>' in page
    assert "envType: staging" in page
    assert head() == before and Environment.objects.get(name="dev").cluster == "cluster-dev"


def test_live_preview_answers_with_the_fragment_only(alice_browser: Client) -> None:
    data = {"cluster": "cluster-test", "env_type": "staging", "action": "preview"}
    response = alice_browser.post("/products/acme/environments/dev/", data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="preview"')
    assert "+  envType: staging" in html


def test_save_commits_the_change_to_git(alice_browser: Client, git_root: Path) -> None:
    data = {"cluster": "cluster-dev", "env_type": "staging", "action": "save"}
    response = alice_browser.post("/products/acme/environments/dev/", data)
    assert response.status_code == 302
    assert response["Location"] == "/products/acme/environments/dev/"
    document = yaml.safe_load(product_files(git_root, "acme")["envs/dev.yaml"])
    assert document["spec"]["envType"] == "staging"
    page = main(alice_browser.get(response["Location"]).content.decode())
    assert "Saved environment dev; committed to Git." in page


def test_a_rule_violation_keeps_what_the_user_typed(alice_browser: Client) -> None:
    before = head()
    data = {
        "environment": "dev",
        "code_repo": "api-code",
        "target_revision": "release-7",
        "path": "deploy/prod",
        "projects_ref": ["api"],
        "namespaces": "Bad_Namespace, acme-ok",
        "account": "",
        "action": "save",
    }
    response = alice_browser.post("/products/acme/deploymentruntimes/dr-dev/", data)
    assert response.status_code == 200
    page = main(response.content.decode())
    assert "destination.namespaces[0] &#x27;Bad_Namespace&#x27; is invalid" in page
    assert 'value="Bad_Namespace, acme-ok"' in page
    assert 'value="release-7"' in page and 'value="deploy/prod"' in page
    assert head() == before


def test_a_missing_field_is_linked_to_its_input(alice_browser: Client) -> None:
    data = {"cluster": "cluster-dev", "env_type": "", "action": "save"}
    page = main(alice_browser.post("/products/acme/environments/dev/", data).content.decode())
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_env_type_help id_env_type_error"' in page
    assert '<p class="error" id="id_env_type_error">This field is required.</p>' in page


def test_adding_a_resource_that_exists_is_refused(alice_browser: Client) -> None:
    data = {"name": "api", "language": "rust", "action": "save"}
    page = main(alice_browser.post("/products/acme/projects/_new/", data).content.decode())
    assert "already has a project named api" in page and 'value="rust"' in page


def test_adding_a_code_repository_creates_its_git_project(alice_browser: Client) -> None:
    data = {
        "name": "web",
        "project": "api",
        "visibility": "private",
        "deployment_runtime": "on",
        "webhook_events": ["push_events", "tag_push_events"],
        "action": "save",
    }
    response = alice_browser.post("/products/acme/coderepos/_new/", data)
    assert response.status_code == 302, main(response.content.decode())
    assert response["Location"] == "/products/acme/coderepos/web/"
    row = CodeRepo.objects.get(repo_name="web")
    assert git_host().get_project("acme", "web") is not None
    assert row.name.startswith("repo-") and row.webhook_events == ["push_events", "tag_push_events"]


def test_a_blocked_delete_says_what_uses_the_resource(alice_browser: Client) -> None:
    page = main(alice_browser.get("/products/acme/environments/dev/delete/").content.decode())
    assert "used by deployment runtime" in page
    assert '<a href="/products/acme/deploymentruntimes/dr-dev/">dr-dev</a>' in page
    assert "disabled" in page
    response = alice_browser.post("/products/acme/environments/dev/delete/")
    assert response.status_code == 200 and Environment.objects.filter(name="dev").exists()
    repo = main(alice_browser.get("/products/acme/coderepos/api-code/delete/").content.decode())
    assert "used by deployment runtime" in repo


def test_deleting_shows_the_diff_then_commits(alice_browser: Client, git_root: Path) -> None:
    page = main(
        alice_browser.get("/products/acme/deploymentruntimes/dr-dev/delete/").content.decode()
    )
    assert '<span class="meta">--- a/runtimes/dr-dev.yaml</span>' in page
    assert "-kind: DeploymentRuntime" in page
    response = alice_browser.post("/products/acme/deploymentruntimes/dr-dev/delete/")
    assert response.status_code == 302
    assert not DeploymentRuntime.objects.filter(name="dr-dev").exists()
    assert "runtimes/dr-dev.yaml" not in product_files(git_root, "acme")


PIPELINE = """\
project: api
pipeline_source: api-code
pipelines:
  - {name: build, label: main, path: pipelines/build.yaml}
event_sources:
  - name: push
    gitlab: {repo_name: api-code, revision: main, events: [push_events]}
pipeline_triggers:
  - {event_source: push, pipeline: build}
destination: {environment: dev, namespace: acme-ci}
isolation: exclusive
"""


def test_pipeline_runtimes_are_edited_as_their_api_body(alice_browser: Client) -> None:
    broken = "project: api\npipelines: [\n"
    response = alice_browser.post(
        "/products/acme/projectpipelineruntimes/_new/",
        {"name": "ci", "document": broken, "action": "save"},
    )
    page = main(response.content.decode())
    assert "not valid YAML or JSON" in page and "pipelines: [" in page
    response = alice_browser.post(
        "/products/acme/projectpipelineruntimes/_new/",
        {"name": "ci", "document": PIPELINE, "action": "preview"},
    )
    page = main(response.content.decode())
    # The rules run: cluster-dev is a deployment worker, not a pipeline one.
    assert "cluster is not a pipeline cluster" in page
    assert "+kind: ProjectPipelineRuntime" in page


def test_a_pipeline_runtime_round_trips_through_its_page(
    alice_browser: Client, make_cluster: Callable[..., Any], save: Callable[..., Any]
) -> None:
    make_cluster("cluster-ci", worker_type="pipeline")
    product = Product.objects.get(name="acme")
    save(product, "Environment", "ci", {"cluster": "cluster-ci", "envType": "ci"}, user("alice"))
    document = PIPELINE.replace("environment: dev", "environment: ci")
    response = alice_browser.post(
        "/products/acme/projectpipelineruntimes/_new/",
        {"name": "ci", "document": document, "action": "save"},
    )
    assert response.status_code == 302, main(response.content.decode())
    page = main(alice_browser.get("/products/acme/projectpipelineruntimes/ci/").content.decode())
    assert "pipeline_source: api-code" in page and "namespace: acme-ci" in page
    edited = document.replace("isolation: exclusive", "isolation: shared")
    response = alice_browser.post(
        "/products/acme/projectpipelineruntimes/ci/", {"document": edited, "action": "preview"}
    )
    assert "+  isolation: shared" in main(response.content.decode())
