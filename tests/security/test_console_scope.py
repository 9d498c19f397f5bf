"""The console's actions reach only the runtime's own objects (#15).

The portal acts with credentials that reach the whole cluster. A member of one product must
never restart or delete another product's objects, nor a component's, by guessing names:
each such request is a 404 reply, exactly as for a name that does not exist, and the cluster
receives no write at all (asserted on the fake API server's request log).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from deployments.console_actions import pod_delete, workload_restart
from nautes_portal.operations import operation_create, operation_run
from nautes_portal.operations.kinds import RUNTIME_ROLLBACK
from nautes_portal.operations.models import Operation
from products.models import DeploymentRuntime
from tests.deployments.test_deployer import add_runtime, cluster_dev  # noqa: F401
from tests.deployments.workloads import (  # noqa: F401
    ConsoleWorld,
    console_world,
    deployment_with_pod,
    resource,
    serve_workloads,
    workload,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products"


@pytest.fixture
def world(console_world: ConsoleWorld) -> ConsoleWorld:  # noqa: F811
    return console_world


@pytest.fixture
def as_user(api_client_for: Callable[[Any], APIClient]) -> Callable[[str], APIClient]:
    def make(username: str) -> APIClient:
        return api_client_for(get_user_model().objects.get(username=username))

    return make


def console_operations() -> int:
    return Operation.objects.filter(kind__startswith="runtime.").count()


def assert_refused_without_a_trace(world: ConsoleWorld, response: Any) -> None:
    assert response.status_code == 404, response.json()
    assert response.json()["reason"] == "RESOURCE_NOT_IN_RUNTIME"
    assert world.writes() == []
    assert console_operations() == 0


GUESSES = [
    ("Deployment", "web"),  # another product's, in its namespace
    ("Deployment", "coredns"),  # kube-system
    ("Deployment", "argocd-server"),  # Argo CD itself
]


@pytest.mark.parametrize(("kind", "name"), GUESSES)
def test_a_developer_cannot_restart_what_is_not_the_runtimes(
    world: ConsoleWorld, as_user: Callable[[str], APIClient], kind: str, name: str
) -> None:
    response = as_user("alice").post(
        f"{BASE}/nautes-labs/deploymentruntimes/dr-dev/resources/restart",
        {"kind": kind, "name": name},
        format="json",
    )
    assert_refused_without_a_trace(world, response)


@pytest.mark.parametrize(("kind", "name"), GUESSES)
def test_an_application_listing_foreign_objects_gives_no_reach(
    world: ConsoleWorld, as_user: Callable[[str], APIClient], kind: str, name: str
) -> None:
    """Even when the runtime's Application lists them (a manifest naming another namespace),
    objects outside the runtime's own namespaces stay out of reach."""
    namespaces = {"web": "dr-other", "coredns": "kube-system", "argocd-server": "argocd"}
    world.set_application_status(
        "dr-dev",
        [resource("Deployment", "dr-dev", "api-server"), resource(kind, namespaces[name], name)],
    )
    response = as_user("alice").post(
        f"{BASE}/nautes-labs/deploymentruntimes/dr-dev/resources/restart",
        {"kind": kind, "name": name},
        format="json",
    )
    assert_refused_without_a_trace(world, response)


def test_a_deployment_of_the_runtime_not_in_its_application_is_out_of_reach(
    world: ConsoleWorld, as_user: Callable[[str], APIClient]
) -> None:
    world.server.create(workload("Deployment", "dr-dev", "made-by-hand"))
    response = as_user("alice").post(
        f"{BASE}/nautes-labs/deploymentruntimes/dr-dev/resources/restart",
        {"kind": "Deployment", "name": "made-by-hand"},
        format="json",
    )
    assert_refused_without_a_trace(world, response)


@pytest.mark.parametrize(
    "path",
    [
        "pods/web-5b7d-k8s2p",  # another product's pod
        "pods/web-5b7d-k8s2p?namespace=dr-other",
        "pods/coredns-5d78-abcde",
        "pods/coredns-5d78-abcde?namespace=kube-system",
    ],
)
def test_a_developer_cannot_delete_pods_of_others(
    world: ConsoleWorld, as_user: Callable[[str], APIClient], path: str
) -> None:
    response = as_user("alice").delete(f"{BASE}/nautes-labs/deploymentruntimes/dr-dev/{path}")
    assert_refused_without_a_trace(world, response)
    assert world.server.get(("", "pods"), "dr-other", "web-5b7d-k8s2p") is not None


def test_naming_another_products_namespace_in_a_runtime_gives_no_reach(
    world: ConsoleWorld, as_user: Callable[[str], APIClient]
) -> None:
    """A runtime whose file names another product's namespace is refused by the reconciler,
    but the index still lists that namespace: the cluster's owner label decides."""
    add_runtime(world.product, "dr-evil", namespaces=["dr-other"])
    alice = as_user("alice")
    evil = f"{BASE}/nautes-labs/deploymentruntimes/dr-evil"
    assert_refused_without_a_trace(world, alice.delete(f"{evil}/pods/web-5b7d-k8s2p"))
    # It has no Application of its own; the other product's is not its.
    refused = alice.post(
        f"{evil}/resources/restart", {"kind": "Deployment", "name": "web"}, format="json"
    )
    assert refused.status_code == 404 and world.writes() == [] and console_operations() == 0


def test_a_component_namespace_shared_with_the_product_is_used_never_reached(
    world: ConsoleWorld, as_user: Callable[[str], APIClient]
) -> None:
    """cluster-dev's allow-list lets nautes-labs deploy into `traefik`; the runtime uses it
    but does not own it, so its objects (the component's) stay out of reach."""
    DeploymentRuntime.objects.filter(product=world.product, name="dr-dev").update(
        destination_namespaces=["dr-dev", "traefik"]
    )
    # Even labelled for the product (by hand, or by an older tool), it stays a component's.
    world.server.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "traefik",
                "labels": {"resource.nautes.io/belongsto": "product-12"},
            },
        }
    )
    deployment_with_pod(world.server, "traefik", "traefik", "traefik-7c4d-q9r8s")
    world.set_application_status(
        "dr-dev",
        [
            resource("Deployment", "dr-dev", "api-server"),
            resource("Deployment", "traefik", "traefik"),
        ],
    )
    world.forget_requests()
    alice = as_user("alice")
    runtime = f"{BASE}/nautes-labs/deploymentruntimes/dr-dev"
    restart = alice.post(
        f"{runtime}/resources/restart", {"kind": "Deployment", "name": "traefik"}, format="json"
    )
    assert_refused_without_a_trace(world, restart)
    assert_refused_without_a_trace(world, alice.delete(f"{runtime}/pods/traefik-7c4d-q9r8s"))


def test_the_owner_of_another_product_reaches_nothing_here(
    world: ConsoleWorld, as_user: Callable[[str], APIClient]
) -> None:
    olga = as_user("olga")
    # nautes-labs does not exist for her...
    hidden = olga.delete(f"{BASE}/nautes-labs/deploymentruntimes/dr-dev/pods/api-server-6f9c-x2x4q")
    assert hidden.status_code == 404 and hidden.json()["reason"] == "GROUP_NOT_FOUND"
    # ...and her own runtime does not reach into it.
    own = f"{BASE}/other/deploymentruntimes/dr-other"
    assert_refused_without_a_trace(world, olga.delete(f"{own}/pods/api-server-6f9c-x2x4q"))
    refused = olga.post(
        f"{own}/resources/restart", {"kind": "Deployment", "name": "api-server"}, format="json"
    )
    assert_refused_without_a_trace(world, refused)


def test_the_step_checks_the_scope_again_before_writing(world: ConsoleWorld) -> None:
    """A queued (or retried) action whose object left the runtime meanwhile writes nothing."""
    alice = get_user_model().objects.get(username="alice")
    restart = workload_restart(
        product=world.product, runtime_name="dr-dev", actor=alice,
        kind="Deployment", name="api-server",
    )  # fmt: skip
    delete = pod_delete(
        product=world.product, runtime_name="dr-dev", actor=alice, pod="api-server-6f9c-x2x4q"
    )
    # The namespace now belongs to someone else (as if deleted and recreated by them).
    foreign = {"metadata": {"labels": {"resource.nautes.io/belongsto": "product-13"}}}
    world.server.update_stored("", "namespaces", "", "dr-dev", foreign)
    world.forget_requests()
    for queued in (restart, delete):
        done = operation_run(queued.pk)
        assert done.status == "failed" and "is not found in runtime dr-dev" in done.error
    assert world.writes() == []


def test_retrying_a_rollback_needs_the_right_to_roll_back(
    world: ConsoleWorld, as_user: Callable[[str], APIClient]
) -> None:
    failed = operation_create(
        kind=RUNTIME_ROLLBACK,
        target="nautes-labs/dr-dev",
        params={"product": "nautes-labs", "product_pk": world.product.pk, "history_id": 1},
        actor=None,
        product=world.product,
    )
    Operation.objects.filter(pk=failed.pk).update(status=Operation.Status.FAILED)
    retry = f"/api/v1/operations/{failed.pk}/retry"
    assert as_user("alice").post(retry).status_code == 403  # Developer
    assert as_user("carol").post(retry).status_code == 404
    assert as_user("mona").post(retry).status_code == 202  # Maintainer
