"""The deployment console's reads (#15), over HTTP against a fake cluster through the real
client: the resource tree, events, pod logs and diffs, who may read them, and what they may
never show."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.config import new_client_from_config_dict
from rest_framework.test import APIClient

from products.models import Membership, Product
from tests.deployments import test_deployer
from tests.deployments.console_world import (
    APPS,
    NS,
    applied,
    config_map,
    deploy_workloads,
    deployment,
    namespace,
    pod_of,
    resource,
    seed,
)
from tests.deployments.test_deployer import dr_dev_index
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db
cluster_dev = test_deployer.cluster_dev  # the fixture, shared

BASE = "/api/v1/products/nautes-labs/deploymentruntimes/dr-dev"


@dataclass
class World:
    server: FakeKubeServer
    product: Product
    reporter: APIClient
    outsider: APIClient
    anonymous: APIClient

    def get(self, path: str, client: APIClient | None = None, **query: Any) -> Any:
        return (client or self.reporter).get(BASE + path, query)


@pytest.fixture
def world(cluster_dev: FakeKubeServer, make_user: Any, api_client_for: Any) -> World:
    product = dr_dev_index()
    seed(cluster_dev)
    reporter = make_user("reporter")
    Membership.objects.create(user=reporter, product=product, access_level=20)
    return World(
        server=cluster_dev,
        product=product,
        reporter=api_client_for(reporter),
        outsider=api_client_for(make_user("outsider")),
        anonymous=APIClient(),
    )


def kubectl(server: FakeKubeServer) -> k8s.ApiClient:
    """Someone with the cluster's kubeconfig, outside the portal."""
    return new_client_from_config_dict(yaml.safe_load(server.kubeconfig()))


def nodes(reply: Any) -> dict[str, dict[str, Any]]:
    return {(n["kind"], n["name"]): n for n in reply.json()["items"]}


def by_kind(reply: Any, kind: str) -> list[dict[str, Any]]:
    return [n for n in reply.json()["items"] if n["kind"] == kind]


# ---- The resource tree -----------------------------------------------------------
def test_the_tree_goes_from_the_application_down_to_the_pods(world: World) -> None:
    reply = world.get("/resources")
    assert reply.status_code == 200, reply.json()
    body = reply.json()
    assert body["namespaces"] == [NS] and body["cluster"] == "cluster-dev"
    assert body["application"]["found"] and body["application"]["sync"] == "Synced"
    assert reply["Cache-Control"] == "no-store"
    found = nodes(reply)
    deploy = found[("Deployment", "api-server")]
    assert (deploy["managed"], deploy["sync"], deploy["health"], deploy["parent"]) == (
        True,
        "Synced",
        "Healthy",
        None,
    )
    assert deploy["id"] == f"apps/Deployment/{NS}/api-server" and deploy["live"]
    (replica_set,) = by_kind(reply, "ReplicaSet")
    assert replica_set["parent"] == deploy["id"] and not replica_set["managed"]
    assert replica_set["sync"] == "" and replica_set["health"] == "Healthy"
    (pod,) = by_kind(reply, "Pod")
    assert pod["parent"] == replica_set["id"] and pod["health"] == "Healthy"
    assert pod["pod"]["phase"] == "Running" and pod["pod"]["ready"] == "1/1"
    assert pod["pod"]["restarts"] == 0 and pod["pod"]["containers"][0]["name"] == "app"
    assert pod["age_seconds"] is not None and pod["created_at"]
    assert found[("Service", "api-server")]["health"] == "Healthy"
    assert found[("ConfigMap", "api-server-config")]["managed"]
    # Parents come before their children; every parent is a node of the list.
    ids = [n["id"] for n in body["items"]]
    for node in body["items"]:
        assert node["parent"] is None or ids.index(node["parent"]) < ids.index(node["id"])


def test_unmanaged_objects_of_the_runtimes_namespace_are_roots_but_not_noise(
    world: World,
) -> None:
    world.server.create(config_map("made-by-hand"))
    world.server.create(config_map("kube-root-ca.crt"))
    other_app = config_map("of-another-app")
    other_app["metadata"]["annotations"] = {
        "argocd.argoproj.io/tracking-id": "other:/ConfigMap:dr-dev/of-another-app"
    }
    world.server.create(other_app)
    found = nodes(world.get("/resources"))
    hand = found[("ConfigMap", "made-by-hand")]
    assert (hand["managed"], hand["parent"], hand["sync"]) == (False, None, "")
    assert ("ConfigMap", "kube-root-ca.crt") not in found
    assert ("ConfigMap", "of-another-app") not in found


def test_kinds_the_application_holds_beyond_the_listed_ones_come_from_argo_cd(
    world: World,
) -> None:
    app = world.server.get(APPS, "argocd", "dr-dev")
    assert app is not None
    resources = app["status"]["resources"] + [
        {"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout", "namespace": NS,
         "name": "canary", "status": "OutOfSync", "health": {"status": "Suspended"}},
        {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": NS,
         "name": "not-created-yet", "status": "OutOfSync", "health": {"status": "Missing"}},
    ]  # fmt: skip
    world.server.set_status(*APPS, "argocd", "dr-dev", {**app["status"], "resources": resources})
    found = nodes(world.get("/resources"))
    rollout = found[("Rollout", "canary")]
    assert (rollout["live"], rollout["sync"], rollout["health"]) == (
        False,
        "OutOfSync",
        "Suspended",
    )
    missing = found[("Deployment", "not-created-yet")]
    assert (missing["live"], missing["health"]) == (False, "Missing")


def test_a_crash_looping_pod_degrades_the_pod_and_then_its_deployment(world: World) -> None:
    pod_name = pod_of(world.server, "api-server")
    world.server.crash_loop(NS, pod_name, restarts=7)
    reply = world.get("/resources")
    pod = nodes(reply)[("Pod", pod_name)]
    assert pod["health"] == "Degraded" and "back-off 5m0s" in pod["health_message"]
    assert pod["pod"]["status"] == "CrashLoopBackOff" and pod["pod"]["ready"] == "0/1"
    assert (pod["pod"]["restarts"], pod["pod"]["last_termination_reason"]) == (7, "Error")
    assert pod["pod"]["containers"][0]["state"] == "waiting"
    # Argo CD's rule: the Deployment is Progressing until its progress deadline passes.
    assert nodes(reply)[("Deployment", "api-server")]["health"] == "Progressing"
    world.server.workloads.exceed_progress_deadline(NS, "api-server")
    deploy = nodes(world.get("/resources"))[("Deployment", "api-server")]
    assert deploy["health"] == "Degraded"
    assert deploy["health_message"] == 'Deployment "api-server" exceeded its progress deadline'


def test_a_restart_shows_the_new_pod_in_the_tree(world: World) -> None:
    old = pod_of(world.server, "api-server")
    restarted = {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
    patch = {"spec": {"template": {"metadata": {"annotations": restarted}}}}
    k8s.AppsV1Api(kubectl(world.server)).patch_namespaced_deployment("api-server", NS, patch)
    reply = world.get("/resources")
    (pod,) = by_kind(reply, "Pod")
    assert pod["name"] != old and pod["health"] == "Healthy"
    new_set = next(n for n in by_kind(reply, "ReplicaSet") if n["id"] == pod["parent"])
    assert new_set["parent"] == f"apps/Deployment/{NS}/api-server"
    assert len(by_kind(reply, "ReplicaSet")) == 2  # the old one stays, scaled to 0


def test_the_tree_uses_a_fixed_number_of_cluster_calls(world: World) -> None:
    """20 resources or 200: the same list calls (one per kind per namespace), never a read per
    object."""
    calls = {}
    entries = deploy_workloads(world.server, count=4, first=1)  # with seed's: 21 objects
    for size, more in ((20, 0), (200, 45)):
        entries += deploy_workloads(world.server, count=more, first=5)
        app = world.server.get(APPS, "argocd", "dr-dev")
        assert app is not None
        seeded = app["status"]["resources"][:3]
        status = {**app["status"], "resources": seeded + entries}
        world.server.set_status(*APPS, "argocd", "dr-dev", status)
        world.server.clear_requests()
        reply = world.get("/resources")
        assert reply.status_code == 200, reply.json()
        assert size <= len(reply.json()["items"]) <= size + 10
        calls[size] = [(r.method, r.path) for r in world.server.requests]
    assert calls[20] == calls[200]
    assert all(method == "GET" for method, _ in calls[200])
    assert len(calls[200]) == 2 + 11  # the Application, the namespaces, 11 kinds x 1 namespace


def test_a_kind_the_portal_may_not_list_is_a_warning_not_a_failure(world: World) -> None:
    world.server.deny("list", "configmaps", namespace=NS)
    world.server.fail_next("GET", r"/ingresses$", 404, message="the server could not find it")
    reply = world.get("/resources")
    assert reply.status_code == 200
    ingresses, config_maps = reply.json()["warnings"]  # in the order the kinds are listed
    assert ingresses == (
        f"Ingress objects in {NS} not shown: the cluster does not serve "
        "ingresses.networking.k8s.io/v1"
    )
    assert config_maps.startswith(f"ConfigMap objects in {NS} not shown: ")
    assert "does not allow the portal to list configmaps" in config_maps
    # Argo CD still reports the ConfigMap it manages; it is not called Missing.
    config = nodes(reply)[("ConfigMap", "api-server-config")]
    assert config["managed"] and not config["live"] and config["health"] == ""


def test_only_namespaces_labelled_for_the_product_are_read(world: World) -> None:
    """A runtime naming a namespace that exists without its product's label (someone else's)
    reads nothing there, whatever runs in it."""
    from products.models import DeploymentRuntime

    namespace(world.server, "payments", owner=None)
    world.server.create(deployment("ledger", ns="payments"))
    namespace(world.server, "billing", owner="product-99")
    world.server.create(deployment("invoices", ns="billing"))
    DeploymentRuntime.objects.filter(name="dr-dev").update(
        destination_namespaces=[NS, "payments", "billing"]
    )
    reply = world.get("/resources")
    assert reply.json()["namespaces"] == [NS]
    assert {n["namespace"] for n in reply.json()["items"]} == {NS}
    assert not [r for r in world.server.requests if "/namespaces/payments/" in r.path]
    ledger = pod_of(world.server, "ledger", ns="payments")
    assert world.get(f"/pods/{ledger}/logs").status_code == 404
    assert world.get(f"/pods/{ledger}/logs", namespace="payments").status_code == 404


def test_an_application_of_another_product_is_not_the_runtimes(world: World) -> None:
    labels = {"resource.nautes.io/belongsto": "product-99"}
    world.server.update_stored(*APPS, "argocd", "dr-dev", {"metadata": {"labels": labels}})
    reply = world.get("/resources")
    assert reply.json()["application"]["found"] is False
    assert reply.json()["application"]["sync"] == ""
    # What runs in the runtime's own namespace is still shown, as unmanaged.
    assert not nodes(reply)[("Deployment", "api-server")]["managed"]


# ---- Events ------------------------------------------------------------------------
def test_events_newest_first_with_warnings_flagged(world: World) -> None:
    pod_name = pod_of(world.server, "api-server")
    world.server.crash_loop(NS, pod_name)
    reply = world.get("/events")
    assert reply.status_code == 200 and reply["Cache-Control"] == "no-store"
    items = reply.json()["items"]
    assert items[0]["reason"] == "BackOff" and items[0]["warning"] and items[0]["type"] == "Warning"
    assert items[0]["object_id"] == f"core/Pod/{NS}/{pod_name}" and items[0]["count"] == 5
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Started"} <= {
        e["reason"] for e in items
    }
    seen = [e["last_seen"] for e in items]
    assert seen == sorted(seen, reverse=True)
    assert reply.json()["total"] == len(items) and not reply.json()["truncated"]


def test_events_of_one_object_use_field_selectors(world: World) -> None:
    pod_name = pod_of(world.server, "api-server")
    world.server.clear_requests()
    reply = world.get("/events", kind="Pod", name=pod_name)
    assert {(e["kind"], e["name"]) for e in reply.json()["items"]} == {("Pod", pod_name)}
    (listed,) = [r for r in world.server.requests if r.path.endswith("/events")]
    assert listed.query["fieldSelector"] == [
        f"involvedObject.kind=Pod,involvedObject.name={pod_name}"
    ]


@pytest.mark.parametrize(
    ("query", "rule"),
    [
        ({"kind": "Pod"}, "kind and name go together"),
        ({"name": "x"}, "kind and name go together"),
        ({"kind": "pod", "name": "x"}, "kind must be a Kubernetes kind"),
        ({"kind": "Pod", "name": "X,involvedObject.kind=Secret"}, "name must be a Kubernetes"),
    ],
)
def test_bad_event_filters_are_refused_naming_the_rule(
    world: World, query: dict[str, str], rule: str
) -> None:
    reply = world.get("/events", **query)
    assert reply.status_code == 400 and rule in reply.json()["message"]


def test_events_of_a_namespace_outside_the_runtime_are_404(world: World) -> None:
    reply = world.get("/events", namespace="kube-system")
    assert reply.status_code == 404 and reply.json()["reason"] == "NAMESPACE_NOT_FOUND"


def test_events_are_capped_to_the_newest(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from deployments.console import events

    monkeypatch.setattr(events, "MAX_EVENTS", 3)
    body = world.get("/events").json()
    assert len(body["items"]) == 3 and body["total"] > 3 and body["truncated"]


# ---- Logs --------------------------------------------------------------------------
def log_lines(count: int, prefix: str = "line") -> str:
    return "".join(f"{prefix} {i}\n" for i in range(count))


def test_logs_default_to_the_last_500_lines(world: World) -> None:
    pod_name = pod_of(world.server, "api-server")
    world.server.set_pod_log(NS, pod_name, "app", log_lines(600))
    reply = world.get(f"/pods/{pod_name}/logs")
    assert reply.status_code == 200, reply.json()
    body = reply.json()
    assert body["text"].splitlines()[0] == "line 100" and len(body["text"].splitlines()) == 500
    assert (body["container"], body["containers"], body["namespace"]) == ("app", ["app"], NS)
    assert body["tail_lines"] == 500 and not body["truncated"] and not body["previous"]
    assert reply["Cache-Control"] == "no-store"
    assert world.get(f"/pods/{pod_name}/logs", tail_lines=5000).json()["text"].count("\n") == 600
    assert world.get(f"/pods/{pod_name}/logs", tail_lines=3).json()["text"] == (
        "line 597\nline 598\nline 599\n"
    )


@pytest.mark.parametrize("value", ["0", "5001", "-1", "abc", "1.5"])
def test_tail_lines_out_of_bounds_are_refused_naming_the_rule(world: World, value: str) -> None:
    pod_name = pod_of(world.server, "api-server")
    reply = world.get(f"/pods/{pod_name}/logs", tail_lines=value)
    assert reply.status_code == 400
    assert reply.json()["message"] == "tail_lines must be a whole number from 1 to 5000"


def test_the_previous_run_and_the_container_choice(world: World) -> None:
    two = deployment("worker")
    two["spec"]["template"]["spec"]["containers"].append({"name": "proxy", "image": "envoy"})
    two["spec"]["template"]["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/default-container": "proxy"
    }
    world.server.create(two)
    pod_name = pod_of(world.server, "worker")
    world.server.set_pod_log(NS, pod_name, "app", "app says hi\n")
    world.server.set_pod_log(NS, pod_name, "proxy", "proxy says hi\n")
    assert world.get(f"/pods/{pod_name}/logs").json()["text"] == "proxy says hi\n"
    assert world.get(f"/pods/{pod_name}/logs", container="app").json()["text"] == "app says hi\n"
    wrong = world.get(f"/pods/{pod_name}/logs", container="nope")
    assert wrong.status_code == 400
    assert wrong.json()["message"] == (
        f"container nope is not a container of pod {pod_name}; choose one of: app, proxy"
    )
    not_restarted = world.get(f"/pods/{pod_name}/logs", container="app", previous="true")
    assert (
        not_restarted.status_code == 400 and "has not restarted" in not_restarted.json()["message"]
    )
    world.server.crash_loop(NS, pod_name, "app")
    world.server.set_pod_log(NS, pod_name, "app", "panic: boom\n", previous=True)
    before = world.get(f"/pods/{pod_name}/logs", container="app", previous="true")
    assert before.json()["text"] == "panic: boom\n" and before.json()["previous"]
    assert world.get(f"/pods/{pod_name}/logs", previous="maybe").status_code == 400


def test_a_flood_of_output_is_cut_at_the_size_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deployments.console import logs

    monkeypatch.setattr(logs, "MAX_LOG_BYTES", 10)
    pod_name = pod_of(world.server, "api-server")
    world.server.set_pod_log(NS, pod_name, "app", log_lines(50))
    body = world.get(f"/pods/{pod_name}/logs").json()
    assert body["truncated"] and body["text"] == "line 0\nlin"
    assert world.server.requests[-1].query["limitBytes"] == ["10"]


def test_download_is_a_text_attachment(world: World) -> None:
    pod_name = pod_of(world.server, "api-server")
    world.server.set_pod_log(NS, pod_name, "app", "hello\n")
    reply = world.get(f"/pods/{pod_name}/logs", download="true")
    assert reply.status_code == 200
    assert reply["Content-Type"] == "text/plain; charset=utf-8"
    assert reply["Content-Disposition"] == f'attachment; filename="{pod_name}-app.log"'
    assert reply["Cache-Control"] == "no-store" and reply.content == b"hello\n"


def test_a_pod_outside_the_runtimes_namespaces_is_404(
    world: World, make_user: Any, api_client_for: Any
) -> None:
    """Another product's pod on the same cluster: no log by guessing its name."""
    namespace(world.server, "other-app", owner="product-99")
    world.server.create(deployment("secret-service", ns="other-app"))
    theirs = pod_of(world.server, "secret-service", ns="other-app")
    world.server.set_pod_log("other-app", theirs, "app", "their private output\n")
    for query in ({}, {"namespace": "other-app"}, {"namespace": "kube-system"}):
        reply = world.get(f"/pods/{theirs}/logs", **query)
        assert reply.status_code == 404, reply.json()
        assert "their private output" not in reply.content.decode()
        assert reply.json()["message"] == f"pod {theirs} is not a pod of runtime dr-dev"
    assert not [r for r in world.server.requests if r.path.endswith("/log")]
    for name in ("no-such-pod", "../../secrets", "x" * 300):
        assert world.get(f"/pods/{name}/logs").status_code == 404


def test_in_a_shared_namespace_only_the_applications_pods_are_readable(world: World) -> None:
    from products.models import DeploymentRuntime

    namespace(world.server, "argo-rollouts", owner=None)  # granted by the cluster's allow-list
    ours = world.server.create(applied(deployment("ours", ns="argo-rollouts")))
    world.server.create(deployment("theirs", ns="argo-rollouts"))
    DeploymentRuntime.objects.filter(name="dr-dev").update(
        destination_namespaces=[NS, "argo-rollouts"]
    )
    app = world.server.get(APPS, "argocd", "dr-dev")
    assert app is not None
    resources = [*app["status"]["resources"], resource(ours, health="Healthy")]
    world.server.set_status(*APPS, "argocd", "dr-dev", {**app["status"], "resources": resources})
    mine, not_mine = (
        pod_of(world.server, "ours", "argo-rollouts"),
        pod_of(world.server, "theirs", "argo-rollouts"),
    )
    assert world.get(f"/pods/{mine}/logs").status_code == 200
    assert world.get(f"/pods/{not_mine}/logs").status_code == 404
    tree = world.get("/resources").json()
    assert tree["namespaces"] == [NS, "argo-rollouts"]
    names = {n["name"] for n in tree["items"]}
    assert "ours" in names and mine in names and "theirs" not in names and not_mine not in names
    events = world.get("/events", namespace="argo-rollouts").json()["items"]
    assert events and not [e for e in events if e["name"].startswith("theirs")]


def test_log_text_is_never_written_to_the_portals_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    pod_name = pod_of(world.server, "api-server")
    world.server.set_pod_log(NS, pod_name, "app", "user-output-61c2\n")
    caplog.set_level(logging.DEBUG)
    assert "user-output-61c2" in world.get(f"/pods/{pod_name}/logs").json()["text"]
    world.get(f"/pods/{pod_name}/logs", download="true")
    assert "user-output-61c2" not in caplog.text


# ---- Diff --------------------------------------------------------------------------
def test_a_drifted_object_shows_live_against_what_argo_cd_applied(world: World) -> None:
    world.server.update_stored("apps", "deployments", NS, "api-server", {"spec": {"replicas": 3}})
    app = world.server.get(APPS, "argocd", "dr-dev")
    assert app is not None
    resources = [
        {**r, "status": "OutOfSync"} if r["kind"] == "Deployment" else r
        for r in app["status"]["resources"]
    ]
    world.server.set_status(*APPS, "argocd", "dr-dev", {**app["status"], "resources": resources})
    reply = world.get("/diff")
    assert reply.status_code == 200, reply.json()
    body = reply.json()
    assert (body["out_of_sync"], body["truncated"], body["application_found"]) == (1, False, True)
    (item,) = body["items"]
    assert (item["kind"], item["name"], item["desired"], item["live"]) == (
        "Deployment",
        "api-server",
        "last-applied",
        True,
    )
    assert "-  replicas: 3\n+  replicas: 1\n" in item["diff"]
    assert item["diff"].startswith(f"--- a/Deployment/{NS}/api-server\n")
    # Noise the cluster adds is not part of it.
    for noise in ("managedFields", "resourceVersion", "uid:", "status:", "last-applied"):
        assert noise not in item["diff"]


def test_the_desired_manifest_is_said_unavailable_with_the_reason(world: World) -> None:
    world.server.create(config_map("hand-made"))  # no applied manifest recorded
    app = world.server.get(APPS, "argocd", "dr-dev")
    assert app is not None
    resources = [
        *app["status"]["resources"],
        resource(config_map("hand-made"), sync="OutOfSync"),
        resource(config_map("not-there-yet"), sync="OutOfSync"),
        {"group": "rbac.authorization.k8s.io", "version": "v1", "kind": "ClusterRole",
         "namespace": "", "name": "reader", "status": "OutOfSync"},
        {"group": "example.com", "version": "v1", "kind": "Widget", "namespace": NS,
         "name": "w", "status": "OutOfSync"},
    ]  # fmt: skip
    world.server.set_status(*APPS, "argocd", "dr-dev", {**app["status"], "resources": resources})
    items = {i["name"]: i for i in world.get("/diff").json()["items"]}
    assert {i["desired"] for i in items.values()} == {"unavailable"}
    assert "recorded no applied manifest" in items["hand-made"]["reason"]
    assert "does not exist in the cluster yet" in items["not-there-yet"]["reason"]
    assert "cluster-scoped objects are not read" in items["reader"]["reason"]
    assert "does not read Widget objects" in items["w"]["reason"]
    assert all(i["diff"] == "" for i in items.values())


def test_secret_values_are_never_in_any_reply(world: World) -> None:
    plain = "s3cr3t-db-password-8d1e"
    encoded = base64.b64encode(plain.encode()).decode()
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": NS},
        "stringData": {"password": plain, "user": "app"},
    }
    world.server.create(applied(body))
    world.server.update_stored(
        "", "secrets", NS, "db", {"data": {"user": base64.b64encode(b"root").decode()}}
    )
    app = world.server.get(APPS, "argocd", "dr-dev")
    assert app is not None
    secret_entry = resource({**body, "apiVersion": "v1"}, sync="OutOfSync")
    resources = [*app["status"]["resources"], secret_entry]
    world.server.set_status(*APPS, "argocd", "dr-dev", {**app["status"], "resources": resources})
    diff = world.get("/diff").json()
    (item,) = diff["items"]
    assert "password: '********'" in item["diff"] or "password: ********" in item["diff"]
    assert "(live value)" in item["diff"] and "(desired value)" in item["diff"]
    pod_name = pod_of(world.server, "api-server")
    for path in ("/resources", "/events", "/diff", f"/pods/{pod_name}/logs"):
        text = world.get(path).content.decode()
        for value in (plain, encoded, "cm9vdA==", "root"):
            assert value not in text, (path, value)


# ---- Who may read ------------------------------------------------------------------
ENDPOINTS = ("/resources", "/events", "/diff", "/pods/{pod}/logs")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_readers_read_and_others_are_refused(
    world: World, path: str, make_user: Any, api_client_for: Any
) -> None:
    concrete = path.format(pod=pod_of(world.server, "api-server"))
    assert world.get(concrete, world.anonymous).status_code == 401
    hidden = world.get(concrete, world.outsider)
    assert hidden.status_code == 404 and hidden.json()["reason"] == "GROUP_NOT_FOUND"
    guest = make_user("guest")
    Membership.objects.create(user=guest, product=world.product, access_level=10)
    assert world.get(concrete, api_client_for(guest)).status_code == 404
    for level in (20, 30, 40, 50):
        user = make_user(f"member-{level}")
        Membership.objects.create(user=user, product=world.product, access_level=level)
        assert world.get(concrete, api_client_for(user)).status_code == 200


def test_a_public_products_console_is_for_its_members_only(world: World) -> None:
    """Its configuration is readable by every account; its workloads' logs and events are not
    (`permissions.can_read_console`)."""
    world.product.visibility = "public"
    world.product.save(update_fields=["visibility"])
    assert world.outsider.get("/api/v1/products/nautes-labs").status_code == 200
    pod = pod_of(world.server, "api-server")
    for path in ENDPOINTS:
        hidden = world.get(path.format(pod=pod), world.outsider)
        assert hidden.status_code == 404 and hidden.json()["reason"] == "GROUP_NOT_FOUND", path
        assert world.get(path.format(pod=pod)).status_code == 200, path


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unknown_runtime_is_404(world: World, path: str) -> None:
    reply = world.reporter.get(
        "/api/v1/products/nautes-labs/deploymentruntimes/nope" + path.format(pod="p")
    )
    assert reply.status_code == 404 and reply.json()["reason"] == "RUNTIME_NOT_FOUND"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unreachable_cluster_is_a_clear_503(world: World, path: str) -> None:
    concrete = path.format(pod=pod_of(world.server, "api-server"))
    world.server.stop()
    reply = world.get(concrete)
    assert reply.status_code == 503
    body = reply.json()
    assert body["reason"] == "CLUSTER_UNREACHABLE" and "could not be reached" in body["message"]
    assert "Traceback" not in reply.content.decode()


def test_a_runtime_whose_environment_is_gone_is_409(world: World) -> None:
    from products.models import Environment

    Environment.objects.filter(name="env-dev").delete()
    reply = world.get("/resources")
    assert reply.status_code == 409 and reply.json()["reason"] == "RUNTIME_NOT_PLACED"


def test_the_openapi_document_lists_the_console(world: World) -> None:
    document = world.reporter.get("/api/schema/", {"format": "json"}).json()
    paths = document["paths"]
    base = "/api/v1/products/{product_name}/deploymentruntimes/{name}"
    for path in ("/resources", "/events", "/diff", "/pods/{pod}/logs"):
        assert "get" in paths[base + path], path
    parameters = {p["name"] for p in paths[base + "/pods/{pod}/logs"]["get"]["parameters"]}
    assert {"container", "tail_lines", "previous", "download", "namespace", "pod"} <= parameters
    assert json.dumps(paths[base + "/resources"]).count("parent") >= 1
