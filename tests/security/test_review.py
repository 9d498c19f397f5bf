"""Adversarial review of the #12 fixes: each test is a way around a rule that was found open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deployments.test_deployer import (
    add_environment,
    add_runtime,
    deploy,
    dr_dev_index,
    make_product,
    register_cluster,
)
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

OWNER = "resource.nautes.io/belongsto"


@pytest.fixture
def cluster_dev(secret_store: Any, fake_kube_factory: Any) -> FakeKubeServer:
    (server,) = fake_kube_factory(argocd_installed=True)
    register_cluster(secret_store, "cluster-dev", server)
    return server


def test_the_deployer_does_not_take_a_namespace_another_products_runtime_uses(
    cluster_dev: FakeKubeServer,
) -> None:
    """other-team's runtime `shop` uses namespace `shop` on cluster-dev, not created yet (its
    first deploy is pending or failed). A runtime of nautes-labs pushed to Git with namespace
    `shop` must not be deployed there: the namespace would become nautes-labs' and other-team's
    runtime could never deploy (or, once deployed first, nautes-labs's account administers it)."""
    other = make_product("other-team", group_id=7)
    add_environment(other, "env-other", "cluster-dev")
    add_runtime(other, "shop", environment="env-other", namespaces=["shop"])
    product = dr_dev_index()
    add_runtime(product, "dr-squat", namespaces=["shop"], path="m/squat")
    operation = deploy(product, "dr-squat")
    assert operation.status == "failed", "deployed into another product's runtime namespace"
    step = operation.steps.get(name="namespaces")
    assert "namespaces [shop] is used by other product" in step.error
    assert cluster_dev.get(("", "namespaces"), "", "shop") is None


def test_a_flagged_squatter_blocks_neither_the_owner_nor_its_redeploys(
    cluster_dev: FakeKubeServer,
) -> None:
    """The same rule must not let the pushed runtime (flagged by the index) lock the product
    that uses the namespace first out of it."""
    other = make_product("other-team", group_id=7)
    add_environment(other, "env-other", "cluster-dev")
    squat = add_runtime(other, "squat", environment="env-other", namespaces=["dr-dev"])
    squat.problems = ["verify deployment runtime failed, err: namespaces [dr-dev] is used by x"]
    squat.save()
    product = dr_dev_index()
    assert deploy(product).status == "succeeded"
    assert deploy(product).status == "succeeded"
    labels = cluster_dev.get(("", "namespaces"), "", "dr-dev")["metadata"]["labels"]
    assert labels[OWNER] == "product-12"
