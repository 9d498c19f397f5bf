"""A runtime cluster that disappears in the middle of a reconcile pass (#14).

The pass stops at the step the cluster stopped answering, says why, keeps what it did; a retry
once the cluster is back completes with exactly the objects a clean pass creates; removing the
runtime, even while the first pass had failed half-way, leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

import pytest

from nautes_portal.operations import operation_run
from nautes_portal.operations.models import Operation
from products.models import DeploymentRuntime
from tests.deployments.test_deployer import (
    DR_DEV_OBJECTS,
    cluster_dev,  # noqa: F401
    deploy,
    dr_dev_index,
    owned,
    runtime_pass,
    store_deploy_key,
    writes,
)
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

APPPROJECT_CREATE = r"/apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects$"


@pytest.fixture
def deploy_key(secret_store: Any) -> None:
    store_deploy_key(secret_store)


def steps(operation: Operation) -> list[tuple[str, str]]:
    return [(s.name, s.status) for s in operation.steps.order_by("position")]


def test_a_cluster_gone_mid_deploy_fails_visibly_and_a_retry_completes(
    cluster_dev: FakeKubeServer,  # noqa: F811
    deploy_key: None,
) -> None:
    product = dr_dev_index()
    cluster_dev.vanish_after("POST", APPPROJECT_CREATE)

    failed = deploy()

    assert cluster_dev.gone, "the cluster went away after the AppProject was created"
    assert failed.status == Operation.Status.FAILED
    assert steps(failed) == [
        ("objects", "failed"),
        ("argocd-rbac", "pending"),
        ("vault", "pending"),
    ]
    step = failed.steps.get(name="objects")
    assert step.error.startswith(f"The Kubernetes API server at {cluster_dev.url} could not be")
    assert step.error.endswith("then try again."), step.error
    assert failed.error.startswith("Apply the runtimes' objects and remove what is gone: ")
    half = set(owned(cluster_dev))
    assert ("appprojects", "argocd", "product-12") in half
    assert ("applications", "argocd", "dr-dev") not in half

    cluster_dev.reappear()
    retried = operation_run(failed.pk)

    assert retried.status == Operation.Status.SUCCEEDED, retried.error
    attempts = dict(retried.steps.values_list("name", "attempts"))
    assert attempts == {"objects": 2, "argocd-rbac": 1, "vault": 1}
    # Exactly what a pass that never failed creates: nothing twice, nothing missing.
    assert set(owned(cluster_dev)) == DR_DEV_OBJECTS
    assert runtime_pass(product, "dr-dev").pass_result == "applied"
    cluster_dev.clear_requests()
    assert deploy().status == Operation.Status.SUCCEEDED  # and it stays converged
    assert writes(cluster_dev) == []


def test_removing_a_half_deployed_runtime_leaves_no_object_on_the_cluster(
    cluster_dev: FakeKubeServer,  # noqa: F811
    deploy_key: None,
) -> None:
    product = dr_dev_index()
    cluster_dev.vanish_after("POST", APPPROJECT_CREATE)
    assert deploy().status == Operation.Status.FAILED
    assert owned(cluster_dev), "the failed pass left objects behind so far"

    # The user deletes the runtime while the cluster is still gone: the pass fails visibly.
    DeploymentRuntime.objects.filter(product=product, name="dr-dev").delete()
    removal = deploy()
    assert removal.status == Operation.Status.FAILED
    assert removal.steps.get(status="failed").error

    cluster_dev.reappear()
    retried = operation_run(removal.pk)

    assert retried.status == Operation.Status.SUCCEEDED, retried.error
    assert owned(cluster_dev) == {}, "no orphaned namespace, binding, project, secret or app"
