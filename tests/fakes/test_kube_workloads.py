"""The fake API server's workloads, driven by the official `kubernetes` client: controllers,
garbage collection, events and their field selectors, pod logs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.fakes.kube_server import FakeKubeServer
from tests.fakes.kube_workloads import template_hash
from tests.fakes.test_kube_server import api_client

NS = "shop"


def deployment(name: str = "web", replicas: int = 1, containers: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "app" if i == 0 else f"side{i}", "image": "nginx:1.27"}
                        for i in range(containers)
                    ]
                },
            },
        },
    }


@pytest.fixture
def kube(fake_kube: FakeKubeServer) -> Iterator[client.ApiClient]:
    fake_kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    with api_client(fake_kube) as api:
        yield api


def pods_of(server: FakeKubeServer, prefix: str) -> list[dict[str, Any]]:
    return [p for p in server.objects("", "pods", NS) if p["metadata"]["name"].startswith(prefix)]


def test_a_deployment_owns_a_replicaset_that_owns_running_ready_pods(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    apps = client.AppsV1Api(kube)
    created = apps.create_namespaced_deployment(NS, deployment(replicas=2))
    assert created.metadata.generation == 1
    (rs,) = apps.list_namespaced_replica_set(NS).items
    owner = rs.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (
        "Deployment",
        "web",
        created.metadata.uid,
        True,
    )
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{pod_hash}"
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    pods = client.CoreV1Api(kube).list_namespaced_pod(NS, label_selector="app=web").items
    assert len(pods) == 2
    for pod in pods:
        assert pod.metadata.owner_references[0].uid == rs.metadata.uid
        assert pod.metadata.labels["pod-template-hash"] == pod_hash
        assert pod.status.phase == "Running" and pod.spec.restart_policy == "Always"
        (status,) = pod.status.container_statuses
        assert status.ready and status.restart_count == 0 and status.state.running.started_at
    live = apps.read_namespaced_deployment("web", NS)
    assert (live.status.observed_generation, live.status.updated_replicas) == (1, 2)
    assert live.status.available_replicas == 2
    progressing = next(c for c in live.status.conditions if c.type == "Progressing")
    assert progressing.reason == "NewReplicaSetAvailable"


def test_a_restart_rolls_out_a_new_replicaset_and_removes_the_old_pods(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    apps = client.AppsV1Api(kube)
    apps.create_namespaced_deployment(NS, deployment())
    (old_pod,) = pods_of(fake_kube, "web-")
    restarted = dt.datetime.now(dt.UTC).isoformat()
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": restarted}}
            }
        }
    }
    patched = apps.patch_namespaced_deployment("web", NS, patch)
    assert patched.metadata.generation == 2
    sets = {r.metadata.name: r for r in apps.list_namespaced_replica_set(NS).items}
    assert len(sets) == 2
    stored = fake_kube.get(("apps", "deployments"), NS, "web")
    assert stored is not None
    new_hash = template_hash(stored["spec"]["template"])
    new = sets[f"web-{new_hash}"]
    assert new.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    old = next(r for r in sets.values() if r is not new)
    assert old.spec.replicas == 0 and old.status.replicas == 0
    (pod,) = pods_of(fake_kube, "web-")
    assert pod["metadata"]["name"] != old_pod["metadata"]["name"]
    assert pod["metadata"]["ownerReferences"][0]["name"] == new.metadata.name
    assert pod["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == restarted
    live = apps.read_namespaced_deployment("web", NS)
    assert live.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert (live.status.observed_generation, live.status.updated_replicas) == (2, 1)


def test_a_deleted_pod_is_replaced_and_a_deleted_deployment_takes_everything_it_owns(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    apps, core = client.AppsV1Api(kube), client.CoreV1Api(kube)
    apps.create_namespaced_deployment(NS, deployment())
    (pod,) = pods_of(fake_kube, "web-")
    core.delete_namespaced_pod(pod["metadata"]["name"], NS)
    (replacement,) = pods_of(fake_kube, "web-")
    assert replacement["metadata"]["name"] != pod["metadata"]["name"]
    apps.delete_namespaced_deployment("web", NS)
    assert fake_kube.objects("apps", "replicasets", NS) == []
    assert pods_of(fake_kube, "web-") == []


def test_statefulset_daemonset_and_job_pods(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    template = deployment()["spec"]
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": NS},
        "spec": {**template, "replicas": 2, "serviceName": "db"},
    }
    ds_spec = {k: v for k, v in template.items() if k != "replicas"}
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": ds_spec,
    }
    job_template = {
        **template["template"],
        "spec": {**template["template"]["spec"], "restartPolicy": "Never"},
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "spec": {"template": job_template},
    }
    apps = client.AppsV1Api(kube)
    apps.create_namespaced_stateful_set(NS, sts)
    apps.create_namespaced_daemon_set(NS, ds)
    client.BatchV1Api(kube).create_namespaced_job(NS, job)
    names = sorted(p["metadata"]["name"] for p in fake_kube.objects("", "pods", NS))
    assert names[:2] == ["agent-" + names[0][6:], "db-0"] and "db-1" in names
    live_sts = apps.read_namespaced_stateful_set("db", NS)
    assert live_sts.status.ready_replicas == 2
    assert live_sts.status.current_revision == live_sts.status.update_revision
    assert apps.read_namespaced_daemon_set("agent", NS).status.number_available == 1
    live_job = client.BatchV1Api(kube).read_namespaced_job("migrate", NS)
    assert [c.type for c in live_job.status.conditions] == ["Complete"]
    (job_pod,) = pods_of(fake_kube, "migrate-")
    assert job_pod["status"]["phase"] == "Succeeded"


def test_a_crash_looping_pod_and_an_exceeded_deadline(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    apps = client.AppsV1Api(kube)
    apps.create_namespaced_deployment(NS, deployment())
    (pod,) = pods_of(fake_kube, "web-")
    name = pod["metadata"]["name"]
    fake_kube.crash_loop(NS, name, restarts=4)
    live = client.CoreV1Api(kube).read_namespaced_pod(name, NS)
    (status,) = live.status.container_statuses
    assert status.state.waiting.reason == "CrashLoopBackOff" and status.restart_count == 4
    assert status.last_state.terminated.reason == "Error" and not status.ready
    assert live.status.phase == "Running"
    dep = apps.read_namespaced_deployment("web", NS)
    assert (dep.status.available_replicas or 0) == 0 and dep.status.unavailable_replicas == 1
    fake_kube.workloads.exceed_progress_deadline(NS, "web")
    dep = apps.read_namespaced_deployment("web", NS)
    progressing = next(c for c in dep.status.conditions if c.type == "Progressing")
    assert (progressing.status, progressing.reason) == ("False", "ProgressDeadlineExceeded")


def test_events_with_involved_object_field_selectors(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    client.AppsV1Api(kube).create_namespaced_deployment(NS, deployment())
    (pod,) = pods_of(fake_kube, "web-")
    name = pod["metadata"]["name"]
    fake_kube.crash_loop(NS, name)
    core = client.CoreV1Api(kube)
    about_pod = core.list_namespaced_event(
        NS, field_selector=f"involvedObject.kind=Pod,involvedObject.name={name}"
    ).items
    reasons = [e.reason for e in about_pod]
    assert {"Scheduled", "Pulled", "Created", "Started", "BackOff"} <= set(reasons)
    backoff = next(e for e in about_pod if e.reason == "BackOff")
    assert backoff.type == "Warning" and backoff.count == 5
    assert backoff.involved_object.uid == pod["metadata"]["uid"]
    assert backoff.last_timestamp is not None and backoff.source.component == "kubelet"
    warnings = core.list_namespaced_event(NS, field_selector="type=Warning").items
    assert [e.reason for e in warnings] == ["BackOff"]
    on_deployment = core.list_namespaced_event(
        NS, field_selector="involvedObject.kind=Deployment"
    ).items
    assert [e.reason for e in on_deployment] == ["ScalingReplicaSet"]
    with pytest.raises(ApiException) as refused:
        core.list_namespaced_pod(NS, field_selector="involvedObject.name=x")
    assert refused.value.status == 400
    assert "field label not supported" in json.loads(refused.value.body)["message"]


def test_pod_logs_tail_previous_container_and_refusals(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    client.AppsV1Api(kube).create_namespaced_deployment(NS, deployment(containers=2))
    (pod,) = pods_of(fake_kube, "web-")
    name = pod["metadata"]["name"]
    fake_kube.set_pod_log(NS, name, "app", "".join(f"line {i}\n" for i in range(10)))
    core = client.CoreV1Api(kube)
    assert core.read_namespaced_pod_log(name, NS, container="app", tail_lines=2) == (
        "line 8\nline 9\n"
    )
    assert core.read_namespaced_pod_log(name, NS, container="app", limit_bytes=6) == "line 0"
    assert core.read_namespaced_pod_log(name, NS, container="side1") == ""

    def refusal(**options: Any) -> tuple[int, str]:
        with pytest.raises(ApiException) as refused:
            core.read_namespaced_pod_log(options.pop("pod", name), NS, **options)
        return refused.value.status, json.loads(refused.value.body)["message"]

    assert refusal() == (
        400,
        f"a container name must be specified for pod {name}, choose one of: [app side1]",
    )
    assert refusal(container="nope") == (400, f"container nope is not valid for pod {name}")
    assert refusal(container="app", previous=True) == (
        400,
        f'previous terminated container "app" in pod "{name}" not found',
    )
    assert refusal(container="app", tail_lines=-1)[0] == 422
    assert refusal(pod="missing", container="app") == (404, 'pods "missing" not found')
    fake_kube.crash_loop(NS, name, "app")
    fake_kube.set_pod_log(NS, name, "app", "panic: boom\n", previous=True)
    assert core.read_namespaced_pod_log(name, NS, container="app", previous=True) == "panic: boom\n"
    fake_kube.deny("get", "pods/log", namespace=NS)
    assert refusal(container="app")[0] == 403


def test_follow_streams_what_is_appended_then_ends(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    client.AppsV1Api(kube).create_namespaced_deployment(NS, deployment())
    (pod,) = pods_of(fake_kube, "web-")
    name = pod["metadata"]["name"]
    fake_kube.set_pod_log(NS, name, "app", "first\n")
    response = client.CoreV1Api(kube).read_namespaced_pod_log(
        name, NS, follow=True, _preload_content=False
    )
    chunks = []
    for index, chunk in enumerate(response.stream(64)):
        chunks.append(chunk)
        if index == 0:
            fake_kube.workloads.append_pod_log(NS, name, "app", "second\n")
    assert b"".join(chunks) == b"first\nsecond\n"
    assert response.headers["Transfer-Encoding"] == "chunked"


def test_discovery_lists_the_workload_types(kube: client.ApiClient) -> None:
    resources = {r.name: r for r in client.CoreV1Api(kube).get_api_resources().resources}
    assert resources["pods/log"].verbs == ["get"] and "pods/status" in resources
    assert resources["events"].namespaced
    apps = {r.name for r in client.AppsV1Api(kube).get_api_resources().resources}
    assert {"deployments", "replicasets", "statefulsets", "daemonsets"} <= apps
    networking = client.NetworkingV1Api(kube).get_api_resources().resources
    assert "ingresses" in {r.name for r in networking}


def test_services_ingresses_and_claims_get_their_defaults(
    fake_kube: FakeKubeServer, kube: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube)
    service = core.create_namespaced_service(
        NS,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
        },
    )
    assert service.spec.cluster_ip and not service.status.load_balancer.ingress
    claim = core.create_namespaced_persistent_volume_claim(
        NS,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    assert claim.status.phase == "Bound"
    ingress = client.NetworkingV1Api(kube).create_namespaced_ingress(
        NS,
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "web"},
            "spec": {},
        },
    )
    assert ingress.metadata.generation == 1 and not ingress.status.load_balancer.ingress
