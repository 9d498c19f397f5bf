"""The main process in a real browser: log in, register a runtime cluster through the wizard,
build a product through the setup wizard (with a mistake the page keeps), review its YAML,
create it and follow its operation log; then edit a resource with the live diff preview."""

from __future__ import annotations

from typing import Any

import pytest

from clusters.models import Cluster
from products.models import DeploymentRuntime, Environment, Product
from tests.browser.conftest import log_in, screenshot
from tests.fakes.kube_server import FakeKubeServer
from tests.ui.helpers import index_cluster

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def register_cluster(page: Any, server: FakeKubeServer) -> None:
    page.goto("/clusters/")
    screenshot(page, "01-clusters-empty")
    page.get_by_role("link", name="Register the first cluster").click()
    page.fill("#id_name", "cluster-dev")
    page.fill("#id_api_server", server.url)
    page.check("#id_cluster_type_0")  # physical
    page.check("#id_usage_1")  # worker
    page.check("#id_worker_type_0")  # deployment
    expect(page.locator("#live")).to_contain_text("Every rule is met so far")
    page.get_by_role("button", name="Next →").click()
    page.wait_for_url("**/clusters/new/kubeconfig/")
    page.fill("#id_kubeconfig_text", server.kubeconfig())
    page.get_by_role("button", name="Next →").click()
    page.wait_for_url("**/clusters/new/components/")
    expect(page.locator("#id_deployment__additions")).to_have_value(
        "host=argocd.cluster-dev.127.0.0.1.nip.io"
    )
    screenshot(page, "02-cluster-components")
    page.get_by_role("button", name="Next →").click()
    page.wait_for_url("**/clusters/new/review/")
    expect(page.locator("pre")).to_contain_text("workerType: deployment")
    assert server.token not in page.content()
    screenshot(page, "03-cluster-review")
    page.get_by_role("button", name="Register the cluster").click()
    page.wait_for_url("**/clusters/cluster-dev/")
    expect(page.locator("#health")).to_contain_text("Reachable")
    expect(page.locator("#health")).to_contain_text("not ready")  # Argo CD is not installed
    screenshot(page, "04-cluster-health")


def build_product(page: Any) -> None:
    page.goto("/")
    screenshot(page, "05-dashboard-empty")
    page.get_by_role("link", name="New product").first.click()
    page.wait_for_url("**/products/new/product/")
    page.fill("#id_name", "shop")
    page.fill("#id_display_name", "Shop")
    expect(page.locator("#live")).to_contain_text("shop meets every rule")
    page.get_by_role("button", name="Next: Environments →").click()
    page.wait_for_url("**/products/new/environments/")

    # A mistake: the live check says so, and "Add" keeps what was typed.
    page.fill("#id_name", "Dev_1")
    page.select_option("#id_cluster", "cluster-dev")
    page.fill("#id_env_type", "development")
    expect(page.locator("#live")).to_contain_text("is invalid")
    page.get_by_role("button", name="Add environment").click()
    expect(page.locator("#problems")).to_contain_text("name 'Dev_1' is invalid")
    expect(page.locator("#id_name")).to_have_value("Dev_1")
    expect(page.locator("#id_env_type")).to_have_value("development")
    screenshot(page, "06-wizard-error-keeps-input")
    page.fill("#id_name", "dev")
    expect(page.locator("#live")).to_contain_text("envs/dev.yaml")
    page.get_by_role("button", name="Add environment").click()
    expect(page.locator("#h-items")).to_contain_text("(1)")

    page.get_by_role("button", name="Next →").click()
    page.wait_for_url("**/products/new/projects/")
    page.fill("#id_name", "cart")
    page.fill("#id_language", "go")
    page.get_by_role("button", name="Next →").click()  # "Next" adds what was typed
    page.wait_for_url("**/products/new/coderepos/")
    page.fill("#id_name", "cart-code")
    page.select_option("#id_project", "cart")
    page.get_by_role("button", name="Next →").click()
    page.wait_for_url("**/products/new/bindings/")
    page.get_by_role("button", name="← Back").click()  # Back works and keeps the draft
    page.wait_for_url("**/products/new/coderepos/")
    expect(page.locator("#h-items")).to_contain_text("(1)")
    page.get_by_role("button", name="Next →").click()
    page.get_by_role("button", name="Next →").click()  # no binding
    page.wait_for_url("**/products/new/runtimes/")
    page.fill("#id_name", "cart-dev")
    page.select_option("#id_environment", "dev")
    page.select_option("#id_code_repo", "cart-code")
    page.fill("#id_path", "deploy")
    page.check("#id_projects_ref_0")
    page.get_by_role("button", name="Next →").click()
    page.wait_for_url("**/products/new/review/")

    review = page.locator("#h-files + p + p + pre, main")
    expect(review.first).to_contain_text("runtimes/cart-dev.yaml")
    expect(page.locator("main")).to_contain_text("manifestSource:")
    assert not Product.objects.exists(), "nothing is written before Create"
    screenshot(page, "07-wizard-review-yaml")
    page.get_by_role("button", name="Create the product").click()
    page.wait_for_url("**/products/new/done/")
    expect(page.locator("h1")).to_contain_text("Product shop is ready")
    screenshot(page, "08-wizard-done")
    page.get_by_role("link", name="Operation log of the product creation").click()
    page.wait_for_url("**/operations/*/")
    expect(page.locator("#steps")).to_contain_text("succeeded")
    screenshot(page, "09-operation-log")


def edit_with_preview(page: Any) -> None:
    page.goto("/products/shop/")
    screenshot(page, "10-product")
    page.get_by_role("link", name="dev", exact=True).click()
    page.wait_for_url("**/products/shop/environments/dev/")
    page.fill("#id_env_type", "staging")
    expect(page.locator("#preview")).to_contain_text("+  envType: staging")
    screenshot(page, "11-edit-live-diff")
    page.get_by_role("button", name="Commit the change").click()
    expect(page.locator(".messages")).to_contain_text("Saved environment dev")
    page.get_by_role("link", name="Delete…").click()
    expect(page.locator("main")).to_contain_text("used by deployment runtime")
    screenshot(page, "12-delete-blocked")
    page.emulate_media(color_scheme="dark")
    page.goto("/products/shop/")
    expect(page.locator("main")).to_contain_text("cart-code")  # repository names, not ids
    screenshot(page, "13-product-dark")


def test_main_process(
    page: Any, admin_user: Any, secret_store: Any, fake_kube: FakeKubeServer
) -> None:
    log_in(page, "admin")
    register_cluster(page, fake_kube)
    assert Cluster.objects.filter(name="cluster-dev").exists()
    build_product(page)
    product = Product.objects.get(name="shop")
    assert DeploymentRuntime.objects.get(product=product).destination_environment == "dev"
    edit_with_preview(page)
    assert Environment.objects.get(product=product).env_type == "staging"
    page.goto("/products/shop/deployments/")
    expect(page.locator("h1")).to_contain_text("What is deployed where")
    expect(page.locator("#matrix")).to_contain_text("cart-dev")
    screenshot(page, "14-deployment-matrix")


def test_the_wizard_works_without_javascript(page_without_js: Any, alice: Any) -> None:
    page = page_without_js
    index_cluster("cluster-dev")
    log_in(page, "alice")
    page.goto("/products/new/")
    page.fill("#id_name", "nojs")
    page.get_by_role("button", name="Next: Environments →").click()
    page.wait_for_url("**/products/new/environments/")
    page.fill("#id_name", "Bad!")
    page.select_option("#id_cluster", "cluster-dev")
    page.fill("#id_env_type", "dev")
    page.get_by_role("button", name="Add environment").click()
    expect(page.locator("#problems")).to_contain_text("is invalid")
    expect(page.locator("#id_name")).to_have_value("Bad!")
    page.fill("#id_name", "dev")
    page.get_by_role("button", name="Add environment").click()
    page.get_by_role("link", name="Review").click()
    page.wait_for_url("**/products/new/review/")
    expect(page.locator("main")).to_contain_text("envs/dev.yaml")
    page.get_by_role("button", name="Create the product").click()
    page.wait_for_url("**/products/new/done/")
    expect(page.locator("h1")).to_contain_text("Product nojs is ready")
