"""The runtime console in a real browser (#15): a Degraded runtime → its tree → the failing pod
→ its events and log (followed) → restart the Deployment → the tree shows the new pod. The
fake cluster is reached over HTTP by the real client; the restart runs inline (Q_CLUSTER sync)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in, screenshot
from tests.deployments.test_deployer import cluster_dev  # noqa: F401
from tests.deployments.workloads import (  # noqa: F401
    ConsoleWorld,
    console_world,
    serve_workloads,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONSOLE = "/products/nautes-labs/deployments/dr-dev/console"
POD = "api-server-6f9c-x2x4q"


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def pods(world: ConsoleWorld) -> set[str]:
    return {p["metadata"]["name"] for p in world.server.objects("", "pods", "dr-dev")}


def test_a_degraded_runtime_from_the_tree_to_a_restart(
    page: Any,
    console_world: ConsoleWorld,  # noqa: F811
) -> None:
    world = console_world
    world.server.crash_loop("dr-dev", POD, restarts=5)
    world.server.workloads.exceed_progress_deadline("dr-dev", "api-server")
    world.server.set_pod_log("dr-dev", POD, "main", "booting\npanic: cannot reach db\n")
    before = pods(world)

    log_in(page, "alice")  # a Developer
    page.goto("/products/nautes-labs/deployments/dr-dev/")
    page.click("[data-console-link]")
    page.wait_for_url(f"**{CONSOLE}")
    tree = page.locator("[data-console-tree]")
    deployment = tree.locator('tr[data-node="apps/Deployment/dr-dev/api-server"]')
    expect(deployment).to_have_class("degraded")
    expect(deployment.locator(".badge")).to_have_text("Degraded")
    failing = tree.locator(f'tr[data-node="core/Pod/dr-dev/{POD}"]')
    expect(failing.locator("[data-pod-status]")).to_have_text("CrashLoopBackOff")
    expect(failing).to_contain_text("5 restarts")
    screenshot(page, "50-console-degraded-tree")

    # The failing pod: its events (warnings highlighted) and its log.
    failing.locator(f'[data-select="Pod/{POD}"]').click()
    panel = page.locator("#console-node")
    expect(panel.locator("[data-events] tr.warning").first).to_contain_text("BackOff")
    expect(panel.locator("[data-log-text]")).to_contain_text("panic: cannot reach db")
    expect(panel.locator("[data-download]")).to_have_attribute(
        "href",
        f"/api/v1/products/nautes-labs/deploymentruntimes/dr-dev/pods/{POD}/logs?container=main&tail_lines=500&namespace=dr-dev&previous=0&download=1",
    )

    # Follow: the log is read again every few seconds until the toggle is turned off.
    panel.locator("[data-follow]").check()
    expect(panel.locator("[data-following]")).to_have_count(1)
    world.server.workloads.append_pod_log("dr-dev", POD, "main", "retrying in 5s\n")
    expect(panel.locator("[data-log-text]")).to_contain_text("retrying in 5s", timeout=10_000)
    screenshot(page, "51-console-pod-events-and-log")
    panel.locator("[data-follow]").uncheck()
    expect(panel.locator("[data-following]")).to_have_count(0)

    # Restart the Deployment: the operation is queued (and run), the tree shows the new pod.
    deployment.locator('[data-restart="api-server"]').click()
    expect(page.locator("[data-queued]")).to_contain_text("runtime.restart")
    new = pods(world) - before
    assert new, "the restart made no new pod"
    (new_pod,) = new
    expect(page.locator(f'tr[data-node="core/Pod/dr-dev/{new_pod}"]')).to_have_count(1)
    screenshot(page, "52-console-after-restart")
