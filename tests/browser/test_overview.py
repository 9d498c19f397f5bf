"""The deployments overview in a real browser: a member's products with their runtime counts, the
runtimes needing attention, paging that survives the 10-second refresh."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from deployments.models import RuntimeStatus
from products.models import AccessLevel, DeploymentRuntime, Environment, Membership, Product
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture
def tenant(make_user: Any) -> None:
    """30 products of bob's, two runtimes each; shop-00's dr-1 is degraded, others healthy."""
    bob = make_user("bob")
    products = Product.objects.bulk_create(
        Product(name=f"shop-{i:02d}", group_id=100 + i) for i in range(30)
    )
    Product.objects.create(name="secret", group_id=999)  # not bob's
    Membership.objects.bulk_create(
        Membership(user=bob, product=p, access_level=AccessLevel.REPORTER) for p in products
    )
    now = timezone.now()
    for product in products:
        Environment.objects.create(
            product=product, name="dev", cluster="cluster-a", path="envs/dev.yaml"
        )
        for name in ("dr-0", "dr-1"):
            DeploymentRuntime.objects.create(
                product=product,
                name=name,
                path=f"runtimes/{name}.yaml",
                destination_environment="dev",
            )
            degraded = product.name == "shop-00" and name == "dr-1"
            RuntimeStatus.objects.create(
                product=product,
                runtime_name=name,
                cluster="cluster-a",
                environment="dev",
                application_found=True,
                sync_status="Synced",
                health_status="Degraded" if degraded else "Healthy",
                read_at=now,
                checked_at=now,
                deployed_at=now,
                reachable=True,
            )


def test_the_overview_in_a_browser(page: Any, tenant: None) -> None:
    log_in(page, "bob")
    page.goto("/deployments/")
    attention = page.locator("#h-attention + table")
    expect(attention).to_contain_text("shop-00")
    expect(attention).to_contain_text("Synced · Degraded")
    expect(attention.locator("tbody tr")).to_have_count(1)
    products = page.locator("section[aria-labelledby=h-products]")
    expect(products).to_contain_text("Products (30)")
    expect(products).to_contain_text("1–25 of 30")
    first = products.locator("tbody tr").first
    expect(first.locator("td").nth(1)).to_have_text("2")  # runtimes
    expect(first.locator("td").nth(6)).to_have_text("1")  # degraded
    expect(first.locator("td").nth(6)).to_have_class("problem")
    expect(products).not_to_contain_text("secret")
    screenshot(page, "20-deployments-overview")

    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**/deployments/?page=2")
    expect(products).to_contain_text("26–30 of 30")
    # The refresh asks for the page the user is on, not the first one.
    expect(page.locator("#overview")).to_have_attribute("hx-get", "/deployments/?page=2")
    with page.expect_response(
        lambda r: "/deployments/?page=2" in r.url and r.request.headers.get("hx-request") == "true",
        timeout=15_000,
    ):
        pass  # the page's own 10-second poll
    expect(products).to_contain_text("26–30 of 30")

    page.locator("#h-attention + table").get_by_role("link", name="shop-00").click()
    page.wait_for_url("**/products/shop-00/deployments/")
    expect(page.locator("#matrix")).to_contain_text("Synced · Degraded")
