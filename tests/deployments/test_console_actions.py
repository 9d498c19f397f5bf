"""The console's actions on a runtime (#15), through the services and their operation steps,
against the fake API server over HTTP: what each writes to the cluster, exactly, and what is
refused before anything is queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from deployments import console_actions
from deployments.console_actions import (
    pod_delete,
    runtime_hard_refresh,
    runtime_rollback,
    runtime_sync,
    workload_restart,
)
from deployments.deployer.sync_options import sync_options
from deployments.services import runtime_sync_now
from nautes_portal.errors import Conflict, NotFound, RuleViolation
from nautes_portal.integrations.kube import ClusterUnreachable, KubeClient
from nautes_portal.models import AuditEvent
from nautes_portal.operations import operation_run
from nautes_portal.operations.models import Operation
from tests.crd import validate_against_crd
from tests.deployments.test_deployer import cluster_dev  # noqa: F401
from tests.deployments.workloads import (  # noqa: F401
    REV_BEFORE,
    SOURCE,
    ConsoleWorld,
    console_world,
    pod,
    resource,
    serve_workloads,
)

pytestmark = pytest.mark.django_db

APPLICATION_CRD = str(
    Path(__file__).resolve().parents[1] / "data" / "argocd-crds" / "application-crd.yaml"
)
DEPLOYMENTS = "/apis/apps/v1/namespaces/dr-dev/deployments"
APPLICATION = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/dr-dev"


@pytest.fixture
def world(console_world: ConsoleWorld) -> ConsoleWorld:  # noqa: F811
    return console_world


def user(name: str) -> Any:
    return get_user_model().objects.get(username=name)


def nothing_queued() -> bool:
    """No console operation recorded, and no audit event of one."""
    return (
        not Operation.objects.filter(kind__startswith="runtime.").exists()
        and not AuditEvent.objects.filter(kind="DeploymentRuntime").exists()
    )


def audit_messages(runtime: str = "dr-dev") -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(kind="DeploymentRuntime", name=runtime).order_by("pk")
    return [(e.actor_name, e.message) for e in events]


# ---- Sync with options -------------------------------------------------------------------
def test_a_sync_with_options_sets_argo_cds_operation(world: ConsoleWorld) -> None:
    world.server.update_stored(
        "argoproj.io", "applications", "argocd", "dr-dev",
        {"spec": {"syncPolicy": {"syncOptions": ["CreateNamespace=false"]}}},
    )  # fmt: skip
    options = sync_options(
        prune=False,
        dry_run=True,
        resources=[
            {"group": "apps", "kind": "Deployment", "name": "api-server", "namespace": "dr-dev"}
        ],
        apply_out_of_sync_only=True,
    )
    operation = runtime_sync(
        product=world.product,
        runtime_name="dr-dev",
        actor=user("alice"),
        options=options,
        inline=True,
    )
    assert operation.status == "succeeded", operation.error
    app = world.application()
    assert app["operation"] == {
        "initiatedBy": {"username": "alice"},
        "sync": {
            "prune": False,
            "dryRun": True,
            "syncStrategy": {"hook": {}},
            "resources": [
                {"group": "apps", "kind": "Deployment", "name": "api-server", "namespace": "dr-dev"}
            ],
            "syncOptions": ["CreateNamespace=false", "ApplyOutOfSyncOnly=true"],
        },
    }
    validate_against_crd(app, APPLICATION_CRD)
    assert app["spec"]["source"]["path"] == "manifests/development"  # nothing else changed
    # One merge patch, with the resourceVersion read as its precondition.
    assert world.writes() == [f"PATCH {APPLICATION}"]
    assert world.server.requests[-1].content_type == "application/merge-patch+json"
    step = operation.steps.get()
    assert "dry run" in step.detail and "1 selected resource" in step.detail
    assert audit_messages() == [
        ("alice", "sync requested on cluster cluster-dev (no prune, dry run, apply out-of-sync "
         "only, 1 selected resource)")
    ]  # fmt: skip


def test_sync_defaults_are_argo_cds_and_the_plain_sync_now_is_unchanged(
    world: ConsoleWorld,
) -> None:
    alice = user("alice")
    done = runtime_sync(
        product=world.product,
        runtime_name="dr-dev",
        actor=alice,
        options=sync_options(),
        inline=True,
    )
    assert done.status == "succeeded", done.error
    app = world.application()
    assert app["operation"] == {
        "initiatedBy": {"username": "alice"},
        "sync": {"prune": False, "syncStrategy": {"hook": {}}},
    }
    validate_against_crd(app, APPLICATION_CRD)
    world.server.update_stored(
        "argoproj.io", "applications", "argocd", "dr-dev", {"operation": None}
    )
    # No options: "Sync now" as before #15, prune on (the Application's automated policy).
    for start in (runtime_sync, runtime_sync_now):
        operation = start(product=world.product, runtime_name="dr-dev", actor=alice, inline=True)
        assert operation.status == "succeeded", operation.error
        assert operation.kind == "runtime.sync"
        assert world.application()["operation"]["sync"]["prune"] is True
        world.server.update_stored(
            "argoproj.io", "applications", "argocd", "dr-dev", {"operation": None}
        )


def test_a_sync_of_resources_the_application_does_not_list_is_refused_before_queuing(
    world: ConsoleWorld,
) -> None:
    foreign = sync_options(
        resources=[
            {"group": "apps", "kind": "Deployment", "name": "api-server", "namespace": "dr-dev"},
            {"group": "apps", "kind": "Deployment", "name": "web", "namespace": "dr-other"},
        ]
    )
    with pytest.raises(RuleViolation) as refused:
        runtime_sync(
            product=world.product, runtime_name="dr-dev", actor=user("alice"), options=foreign
        )
    assert refused.value.reason == "RESOURCE_NOT_IN_APPLICATION"
    assert "only resources of the runtime's Application" in refused.value.message
    assert "Deployment.apps dr-other/web" in refused.value.message
    assert "api-server" not in refused.value.message
    assert nothing_queued()
    assert world.writes() == []


def test_the_sync_step_checks_the_selection_again(world: ConsoleWorld) -> None:
    options = sync_options(
        resources=[
            {"group": "apps", "kind": "Deployment", "name": "api-server", "namespace": "dr-dev"}
        ]
    )
    queued = runtime_sync(
        product=world.product, runtime_name="dr-dev", actor=user("alice"), options=options
    )
    world.set_application_status("dr-dev", [resource("Service", "dr-dev", "api-server", group="")])
    world.forget_requests()
    done = operation_run(queued.pk)
    assert done.status == "failed"
    assert "not one of them: Deployment.apps dr-dev/api-server" in done.error
    assert world.writes() == []


@pytest.mark.parametrize(
    ("resources", "says"),
    [
        ([{"kind": "Deployment"}], "resources[0].name: must be a Kubernetes object name"),
        ([{"kind": "", "name": "a"}], "resources[0].kind: a resource kind is required"),
        ([{"kind": "Deployment", "name": "a", "group": "Not A Group"}], "resources[0].group"),
        ([{"kind": "Deployment", "name": "a", "namespace": "Bad_ns"}], "resources[0].namespace"),
        ([{"kind": "Deployment", "name": "a"}] * 2, "a resource is selected twice"),
        (["Deployment/a"], "resources[0]: must be an object"),
        ([{"kind": "Deployment", "name": 5}], "must be strings"),
        ([{"kind": "Deployment", "name": f"a{i}"} for i in range(501)], "at most 500 resources"),
    ],
)
def test_sync_options_name_the_rule_they_break(resources: list[Any], says: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        sync_options(resources=resources)
    assert says in refused.value.message


# ---- Hard refresh ----------------------------------------------------------------------------
def test_a_hard_refresh_annotates_the_application(world: ConsoleWorld) -> None:
    operation = runtime_hard_refresh(
        product=world.product, runtime_name="dr-dev", actor=user("alice"), inline=True
    )
    assert operation.status == "succeeded", operation.error
    assert operation.kind == "runtime.hard-refresh"
    app = world.application()
    assert app["metadata"]["annotations"]["argocd.argoproj.io/refresh"] == "hard"
    assert "operation" not in app  # a refresh is not a sync
    assert world.writes() == [f"PATCH {APPLICATION}"]
    assert audit_messages() == [("alice", "hard refresh requested on cluster cluster-dev")]


def test_a_hard_refresh_never_touches_an_application_of_someone_else(
    world: ConsoleWorld,
) -> None:
    # The runtime's Application name is taken by another product's Application.
    world.server.update_stored(
        "argoproj.io", "applications", "argocd", "dr-dev",
        {"metadata": {"labels": {"resource.nautes.io/belongsto": "product-13"}}},
    )  # fmt: skip
    operation = runtime_hard_refresh(
        product=world.product, runtime_name="dr-dev", actor=user("alice"), inline=True
    )
    assert operation.status == "failed"
    assert "Argo CD has no Application dr-dev of this runtime" in operation.error
    assert world.writes() == []


# ---- Rollback --------------------------------------------------------------------------------
def test_a_rollback_under_automated_sync_is_refused_with_the_way_out(
    world: ConsoleWorld,
) -> None:
    with pytest.raises(Conflict) as refused:
        runtime_rollback(
            product=world.product, runtime_name="dr-dev", actor=user("mona"), history_id=1
        )
    message = refused.value.message
    assert refused.value.status == 409 and refused.value.reason == "ROLLBACK_UNDER_AUTOMATED_SYNC"
    assert "Argo CD would move it back to Git's head" in message
    assert "Revert the change in Git instead" in message
    assert "/products/nautes-labs/history/" in message
    assert refused.value.metadata["history_url"] == "/products/nautes-labs/history/"
    assert refused.value.metadata["manifest_repository"] == SOURCE["repoURL"]
    assert nothing_queued() and world.writes() == []


def test_a_rollback_syncs_to_the_history_entry(world: ConsoleWorld) -> None:
    world.manual_sync_policy()
    operation = runtime_rollback(
        product=world.product, runtime_name="dr-dev", actor=user("mona"), history_id=1, inline=True
    )
    assert operation.status == "succeeded", operation.error
    assert operation.kind == "runtime.rollback"
    app = world.application()
    assert app["operation"] == {
        "initiatedBy": {"username": "mona"},
        "sync": {
            "revision": REV_BEFORE,
            "source": SOURCE,
            "prune": False,
            "syncStrategy": {"apply": {}},
        },
    }
    validate_against_crd(app, APPLICATION_CRD)
    assert audit_messages() == [
        (
            "mona",
            "rollback to deployment 1 (revision 9e8d7c6b5a4f) requested on cluster cluster-dev",
        )
    ]


def test_a_rollback_to_an_unknown_entry_names_the_rule(world: ConsoleWorld) -> None:
    world.manual_sync_policy()
    with pytest.raises(RuleViolation) as refused:
        runtime_rollback(
            product=world.product, runtime_name="dr-dev", actor=user("mona"), history_id=7
        )
    assert refused.value.reason == "HISTORY_ENTRY_NOT_FOUND"
    assert "has no deployment with id 7 in its history" in refused.value.message
    for bad in (-1, True):
        with pytest.raises(RuleViolation, match="id: must be the id"):
            runtime_rollback(
                product=world.product, runtime_name="dr-dev", actor=user("mona"), history_id=bad
            )
    assert nothing_queued() and world.writes() == []


def test_the_rollback_step_refuses_once_automated_sync_is_back(world: ConsoleWorld) -> None:
    world.manual_sync_policy()
    queued = runtime_rollback(
        product=world.product, runtime_name="dr-dev", actor=user("mona"), history_id=1
    )
    world.server.update_stored(
        "argoproj.io", "applications", "argocd", "dr-dev",
        {"spec": {"syncPolicy": {"automated": {"prune": True}}}},
    )  # fmt: skip
    world.forget_requests()
    done = operation_run(queued.pk)
    assert done.status == "failed" and "Argo CD would move it back" in done.error
    assert world.writes() == []


# ---- Restart ---------------------------------------------------------------------------------
def test_a_restart_sets_restarted_at_on_the_pod_template(world: ConsoleWorld) -> None:
    operation = workload_restart(
        product=world.product, runtime_name="dr-dev", actor=user("alice"),
        kind="Deployment", name="api-server", inline=True,
    )  # fmt: skip
    assert operation.status == "succeeded", operation.error
    assert operation.kind == "runtime.restart"
    stored = world.server.get(("apps", "deployments"), "dr-dev", "api-server")
    assert stored is not None
    annotations = stored["spec"]["template"]["metadata"]["annotations"]
    restarted_at = annotations["kubectl.kubernetes.io/restartedAt"]
    assert restarted_at.endswith("Z") and len(restarted_at) == len("2024-05-01T10:00:00Z")
    assert stored["spec"]["template"]["spec"]["containers"][0]["name"] == "api-server"  # kept
    assert world.writes() == [f"PATCH {DEPLOYMENTS}/api-server"]
    assert world.server.requests[-1].content_type == "application/merge-patch+json"
    assert (
        f"Deployment dr-dev/api-server restarted at {restarted_at}" == operation.steps.get().detail
    )
    assert audit_messages() == [
        ("alice", "restart of Deployment dr-dev/api-server requested on cluster cluster-dev")
    ]


def test_only_workload_kinds_can_be_restarted(world: ConsoleWorld) -> None:
    with pytest.raises(RuleViolation) as refused:
        workload_restart(
            product=world.product, runtime_name="dr-dev", actor=user("alice"),
            kind="Service", name="api-server",
        )  # fmt: skip
    assert refused.value.reason == "KIND_NOT_RESTARTABLE"
    assert "only a Deployment, StatefulSet, DaemonSet can be restarted" in refused.value.message
    with pytest.raises(RuleViolation, match="name must be a Kubernetes object name"):
        workload_restart(
            product=world.product, runtime_name="dr-dev", actor=user("alice"),
            kind="Deployment", name="../kube-system",
        )  # fmt: skip
    assert world.server.requests == []  # refused before the cluster was asked anything


def test_the_check_before_queuing_waits_briefly_for_the_cluster(
    world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_actions, "CHECK_TIMEOUT", 0.2)
    world.server.latency = 0.5
    with pytest.raises(ClusterUnreachable, match=r"no answer within 0.2 s"):
        workload_restart(
            product=world.product, runtime_name="dr-dev", actor=user("alice"),
            kind="Deployment", name="api-server",
        )  # fmt: skip
    world.server.latency = 0
    world.server.stop()
    with pytest.raises(ClusterUnreachable, match="connection refused"):
        pod_delete(
            product=world.product, runtime_name="dr-dev", actor=user("alice"),
            pod="api-server-6f9c-x2x4q",
        )  # fmt: skip
    assert nothing_queued()


# ---- Delete a pod ----------------------------------------------------------------------------
def test_deleting_a_pod_of_the_runtime(world: ConsoleWorld) -> None:
    operation = pod_delete(
        product=world.product, runtime_name="dr-dev", actor=user("alice"),
        pod="api-server-6f9c-x2x4q", inline=True,
    )  # fmt: skip
    assert operation.status == "succeeded", operation.error
    assert operation.kind == "runtime.pod-delete"
    assert world.server.get(("", "pods"), "dr-dev", "api-server-6f9c-x2x4q") is None
    assert world.writes() == ["DELETE /api/v1/namespaces/dr-dev/pods/api-server-6f9c-x2x4q"]
    assert operation.steps.get().detail == "pod dr-dev/api-server-6f9c-x2x4q deleted"
    assert audit_messages() == [
        ("alice", "deletion of pod dr-dev/api-server-6f9c-x2x4q requested on cluster cluster-dev")
    ]


def test_a_pod_replaced_before_the_step_runs_is_left_alone(world: ConsoleWorld) -> None:
    queued = pod_delete(
        product=world.product, runtime_name="dr-dev", actor=user("alice"),
        pod="api-server-6f9c-x2x4q",
    )  # fmt: skip
    # Replaced meanwhile (as a StatefulSet does): same name, another pod.
    first = world.server.get(("", "pods"), "dr-dev", "api-server-6f9c-x2x4q")
    assert first is not None
    with KubeClient.from_kubeconfig(world.server.kubeconfig()) as someone:
        assert someone.delete_pod("dr-dev", first["metadata"]["name"], uid=first["metadata"]["uid"])
    world.server.create(pod("dr-dev", "api-server-6f9c-x2x4q"))
    world.forget_requests()
    done = operation_run(queued.pk)
    assert done.status == "succeeded", done.error
    assert "already replaced; nothing deleted" in done.steps.get().detail
    assert world.writes() == []
    assert world.server.get(("", "pods"), "dr-dev", "api-server-6f9c-x2x4q") is not None


def test_a_pod_name_is_checked_before_the_cluster_is_asked(world: ConsoleWorld) -> None:
    for bad in ("UPPER", "a/b", "", "x" * 254):
        with pytest.raises(RuleViolation, match="pod must be a Kubernetes object name"):
            pod_delete(product=world.product, runtime_name="dr-dev", actor=user("alice"), pod=bad)
    with pytest.raises(RuleViolation, match="namespace must be a namespace name"):
        pod_delete(
            product=world.product, runtime_name="dr-dev", actor=user("alice"),
            pod="api-server-6f9c-x2x4q", namespace="a.b",
        )  # fmt: skip
    assert world.server.requests == []


def test_an_unknown_runtime_is_not_found(world: ConsoleWorld) -> None:
    with pytest.raises(NotFound, match="deployment runtime nope is not found"):
        runtime_hard_refresh(product=world.product, runtime_name="nope", actor=user("alice"))


def test_the_rollback_refusal_never_shows_credentials_of_the_repository_url(
    world: ConsoleWorld,
) -> None:
    world.server.update_stored(
        "argoproj.io", "applications", "argocd", "dr-dev",
        {"spec": {"source": {"repoURL": "https://deploy:s3cr3t-t0ken@git.example.com/a/b.git"}}},
    )  # fmt: skip
    with pytest.raises(Conflict) as refused:
        runtime_rollback(
            product=world.product, runtime_name="dr-dev", actor=user("mona"), history_id=1
        )
    assert refused.value.metadata["manifest_repository"] == "https://git.example.com/a/b.git"
    assert "s3cr3t" not in str(refused.value.as_body())
