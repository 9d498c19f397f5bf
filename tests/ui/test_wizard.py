"""The product setup wizard: state in the session, Back, live checks, the YAML review, and
nothing written before "Create"."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from clusters.models import Cluster
from nautes_portal.models import AuditEvent
from nautes_portal.operations.models import Operation
from products.models import CodeRepo, DeploymentRuntime, Environment, Product
from tests.api.helpers import product_files
from tests.ui.helpers import main

pytestmark = pytest.mark.django_db

PRODUCT = {"name": "shop", "display_name": "Shop", "visibility": "private", "action": "next"}
ENV = {"name": "dev", "cluster": "cluster-dev", "env_type": "development"}
PROJECT = {"name": "cart", "language": "go"}
REPO = {
    "name": "cart-code",
    "project": "cart",
    "visibility": "private",
    "deployment_runtime": "on",
    "webhook_events": ["push_events"],
}
RUNTIME = {
    "name": "cart-dev",
    "environment": "dev",
    "code_repo": "cart-code",
    "target_revision": "main",
    "path": "deploy",
    "projects_ref": ["cart"],
    "namespaces": "shop-dev",
}


@pytest.fixture
def browser(
    alice: Any, make_cluster: Callable[..., Cluster], browser_for: Callable[[Any], Client]
) -> Client:
    make_cluster("cluster-dev")
    return browser_for(alice)


def post(browser: Client, step: str, data: dict[str, Any], action: str = "add") -> Any:
    return browser.post(f"/products/new/{step}/", {**data, "action": action})


def fill(browser: Client) -> None:
    """Walk every step, adding one item where it makes sense."""
    assert post(browser, "product", PRODUCT, "next").status_code == 302
    assert post(browser, "environments", ENV, "next")["Location"] == "/products/new/projects/"
    assert post(browser, "projects", PROJECT, "next").status_code == 302
    assert post(browser, "coderepos", REPO, "next").status_code == 302
    assert post(browser, "bindings", {}, "next")["Location"] == "/products/new/runtimes/"
    response = post(browser, "runtimes", RUNTIME, "next")
    assert response["Location"] == "/products/new/review/", main(response.content.decode())


def test_the_entry_url_starts_the_wizard(browser: Client) -> None:
    response = browser.get("/products/new/")
    assert response.status_code == 302 and response["Location"] == "/products/new/product/"
    assert browser.get("/products/new/review/")["Location"] == "/products/new/product/"


def test_nothing_is_written_before_create(browser: Client, git_root: Path) -> None:
    fill(browser)
    review = browser.get("/products/new/review/")
    assert review.status_code == 200
    assert not Product.objects.exists() and not Environment.objects.exists()
    assert not Operation.objects.exists() and not AuditEvent.objects.exists()
    assert not (git_root / "shop").exists() and not any(git_root.glob("**/shop*"))


def test_the_review_shows_the_yaml_files_that_will_be_committed(browser: Client) -> None:
    fill(browser)
    page = main(browser.get("/products/new/review/").content.decode())
    files = re.findall(r'<p class="file-name">([^<]+)</p>\s*<pre>([^<]*)</pre>', page)
    paths = [path for path, _ in files]
    assert paths == [
        "envs/dev.yaml",
        "projects/cart/cart.yaml",
        "code-repos/repo-new-cart-code/repo-new-cart-code.yaml",
        "runtimes/cart-dev.yaml",
        "production/kustomization.yaml",
    ]
    runtime = yaml.safe_load(dict(files)["runtimes/cart-dev.yaml"].replace("&#x27;", "'"))
    assert runtime["spec"]["destination"] == {"environment": "dev", "namespaces": ["shop-dev"]}
    assert runtime["spec"]["manifestSource"]["codeRepo"] == "repo-new-cart-code"
    assert "product-new" in page and "is not met" not in page
    assert 'value="create"' in page and "disabled" not in page.split('value="create"')[1][:40]


def test_create_runs_the_services_in_order_and_reports(browser: Client, git_root: Path) -> None:
    fill(browser)
    response = post(browser, "review", {}, "create")
    assert response["Location"] == "/products/new/done/"
    page = main(browser.get("/products/new/done/").content.decode())
    assert "Product shop is ready" in page
    assert page.count('<span class="badge ok">done</span>') == 5
    operation = Operation.objects.get(kind="product.save", target="shop")
    assert f'href="/operations/{operation.pk}/"' in page
    assert operation.status == "succeeded"
    product = Product.objects.get(name="shop")
    repo_id = CodeRepo.objects.get(product=product).name
    runtime = DeploymentRuntime.objects.get(product=product)
    assert runtime.manifest_code_repo == repo_id and runtime.destination_environment == "dev"
    files = product_files(git_root, "shop")
    assert {
        "envs/dev.yaml",
        "runtimes/cart-dev.yaml",
        f"code-repos/{repo_id}/{repo_id}.yaml",
    } <= set(files)
    assert "product_wizard" not in browser.session
    assert browser.get("/products/new/product/").context["form"].initial == {}


def test_state_survives_steps_and_back_keeps_typed_input(browser: Client) -> None:
    post(browser, "product", PRODUCT, "next")
    post(browser, "environments", ENV)
    response = post(browser, "projects", {"name": "half-done", "language": "rust"}, "back")
    assert response["Location"] == "/products/new/environments/"
    environments = main(browser.get("/products/new/environments/").content.decode())
    assert (
        "<strong>dev</strong>" in environments
        and "development on cluster cluster-dev" in environments
    )
    projects = main(browser.get("/products/new/projects/").content.decode())
    assert 'value="half-done"' in projects and 'value="rust"' in projects
    product = main(browser.get("/products/new/product/").content.decode())
    assert 'value="shop"' in product and 'value="Shop"' in product
    steps = re.findall(r'<a href="(/products/new/[a-z]+/)">', product)
    assert "/products/new/review/" in steps  # the step list is made of real links


def test_a_rule_violation_keeps_the_input_and_adds_nothing(browser: Client) -> None:
    post(browser, "product", PRODUCT, "next")
    response = post(browser, "environments", {**ENV, "name": "Dev_1", "env_type": "qa-east"})
    assert response.status_code == 200
    page = main(response.content.decode())
    assert "name &#x27;Dev_1&#x27; is invalid" in page
    assert 'value="Dev_1"' in page and 'value="qa-east"' in page
    assert 'value="cluster-dev" selected' in page
    assert browser.session["product_wizard"]["items"]["environments"] == []


def test_the_same_cluster_twice_is_refused_by_the_global_rules(browser: Client) -> None:
    post(browser, "product", PRODUCT, "next")
    post(browser, "environments", ENV)
    page = main(post(browser, "environments", {**ENV, "name": "test"}).content.decode())
    assert "duplicate reference cluster resources" in page
    page = main(post(browser, "environments", ENV).content.decode())
    assert "This product already has an environment named dev." in page


def test_the_cluster_picker_offers_suitable_clusters_only(
    browser: Client, make_cluster: Callable[..., Cluster]
) -> None:
    make_cluster("cluster-ci", worker_type="pipeline")
    make_cluster("cluster-host", usage="host")
    post(browser, "product", PRODUCT, "next")
    page = browser.get("/products/new/environments/").content.decode()
    options = re.findall(r'<option value="([^"]*)"', page)
    assert options == ["", "cluster-ci", "cluster-dev"]


def test_live_checks_answer_with_a_fragment(browser: Client) -> None:
    post(browser, "product", PRODUCT, "next")
    response = browser.post(
        "/products/new/environments/check/", {**ENV, "name": "Bad"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="live"') and "<html" not in html
    assert "is invalid" in html
    response = browser.post("/products/new/environments/check/", ENV, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "meets every rule" in html and "envs/dev.yaml" in html and "cluster: cluster-dev" in html
    taken = browser.post("/products/new/product/check/", {**PRODUCT, "name": "Shop!"})
    assert "product name" in taken.content.decode()


def test_items_can_be_edited_and_removed(browser: Client) -> None:
    post(browser, "product", PRODUCT, "next")
    post(browser, "environments", ENV)
    response = post(browser, "environments", {}, "edit:0")
    assert response.status_code == 302
    page = main(browser.get("/products/new/environments/").content.decode())
    assert 'value="dev"' in page and "Editing dev" in page
    post(browser, "environments", {**ENV, "env_type": "qa"})
    assert browser.session["product_wizard"]["items"]["environments"][0]["body"]["env_type"] == "qa"
    post(browser, "environments", {}, "remove:0")
    assert browser.session["product_wizard"]["items"]["environments"] == []


def test_the_review_refuses_a_draft_that_breaks_a_rule(browser: Client) -> None:
    fill(browser)
    post(browser, "environments", {}, "remove:0")  # the runtime still names environment dev
    page = main(browser.get("/products/new/review/").content.decode())
    assert "is not met" in page or "rules are not met" in page
    assert "Environment" in page and "dev" in page
    assert post(browser, "review", {}, "create").status_code == 200
    assert not Product.objects.exists()


def test_a_taken_product_name_is_refused(
    browser: Client, make_product: Callable[..., Product], alice: Any
) -> None:
    make_product("shop", alice)
    page = main(post(browser, "product", PRODUCT, "next").content.decode())
    assert "A product named shop already exists." in page and 'value="Shop"' in page
    page = main(post(browser, "product", {**PRODUCT, "name": "new"}, "next").content.decode())
    assert "reserved" in page


def test_cancel_forgets_the_draft(browser: Client) -> None:
    post(browser, "product", PRODUCT, "next")
    response = post(browser, "environments", {}, "cancel")
    assert response["Location"] == "/"
    assert "product_wizard" not in browser.session
