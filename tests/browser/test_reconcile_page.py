"""The runtime page in a real browser after real reconcile passes (#14): the commit the portal
applied, whether the cluster is behind Git (updated by the page's polling), and a conflict."""

from __future__ import annotations

from typing import Any

import pytest

from products.models import AccessLevel, Membership, Product
from tests.browser.conftest import log_in, screenshot
from tests.deployments.test_deployer import add_runtime, dr_dev_index, register_cluster
from tests.fakes.kube_server import FakeKubeServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture
def deployed(make_user: Any, secret_store: Any, fake_kube_factory: Any) -> FakeKubeServer:
    """dr-dev applied on cluster-dev at commit aaaa…; dr-taken in conflict with a namespace
    someone else made; bob a Reporter of the product."""
    from deployments.reconciler import reconcile_start

    (server,) = fake_kube_factory(argocd_installed=True)
    register_cluster(secret_store, "cluster-dev", server)
    server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "taken"}})
    product = dr_dev_index()
    add_runtime(product, "dr-taken", namespaces=["taken"])
    Product.objects.filter(pk=product.pk).update(commit_sha="a" * 40)
    operation = reconcile_start(cluster_name="cluster-dev", reason="test", inline=True)
    assert operation.status == "succeeded", operation.error
    bob = make_user("bob")
    Membership.objects.create(user=bob, product=product, access_level=AccessLevel.REPORTER)
    return server


def test_the_runtime_page_shows_what_was_applied_drift_and_conflicts(
    page: Any, deployed: FakeKubeServer
) -> None:
    log_in(page, "bob")
    page.goto("/products/nautes-labs/deployments/dr-dev/")
    applied = page.locator("section[aria-labelledby=h-applied]")
    expect(applied).to_contain_text("aaaaaaaa")
    expect(applied.locator("[data-drift]")).to_have_text("the cluster holds what Git holds")
    expect(applied.locator("[data-pass]")).to_have_text("applied")
    screenshot(page, "40-runtime-applied")

    # Git moves on: the page's polling shows the cluster behind it, without a reload.
    Product.objects.filter(name="nautes-labs").update(commit_sha="b" * 40)
    expect(applied.locator("[data-drift]")).to_have_text(
        "the cluster is behind Git", timeout=20_000
    )

    page.goto("/products/nautes-labs/deployments/dr-taken/")
    applied = page.locator("section[aria-labelledby=h-applied]")
    expect(applied.locator("[data-pass]")).to_have_text("conflict")
    expect(applied.locator("[data-pass-message]")).to_contain_text(
        "namespace taken exists and belongs to someone else"
    )
    expect(applied.locator("[data-drift]")).to_have_text("the cluster is behind Git")
    screenshot(page, "41-runtime-conflict")
